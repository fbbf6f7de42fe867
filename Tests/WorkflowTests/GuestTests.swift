import Foundation
import GatehouseModel
import GatehouseStore
import Governance
import Testing
import Workflow

/// The external-user lifecycle: a governed guest who loses their last assignment is blocked and
/// removed as the tenant settings said at that moment (PRODUCT.md section 6).
@Suite struct GuestTests {
    /// The example tenant with other guest settings.
    static func site(blockSignIn: Bool, removeAfterDays: Int?) -> Site {
        var site = Example.site
        site.tenant.externalUsers = ExternalUserSettings(blockSignIn: blockSignIn, removeAfterDays: removeAfterDays)
        return site
    }

    /// Alex asks for the partner package and Adele approves at t0: Alex is a governed guest with one assignment.
    private func approvedGuest(_ bench: Bench) throws -> AssignmentRecord {
        try bench.submit(externalPackage, by: alex)
        _ = recorded(try bench.decide(by: adele, .approve, "Known partner", at: t0))
        #expect(try bench.person(alex)?.isGovernedGuest == true)
        return try #require(try bench.assignments(of: alex).first)
    }

    @Test func losingTheLastAssignmentBlocksAndPlansTheRemovalThenTheSweepRemoves() throws {
        let bench = try Bench(site: Self.site(blockSignIn: true, removeAfterDays: 30))
        let assignment = try approvedGuest(bench)
        let session = try bench.store.write { db in
            try db.createSession(idHash: "alex-session", email: alex, at: t0, expiresAt: day(365))
        }
        #expect(session.endedAt == nil)
        let end = try #require(assignment.endsAt)

        #expect(try bench.sweep(at: end).ended == 1)
        let guest = try #require(try bench.store.read { try $0.guest(email: alex) })
        #expect(guest.person.blockedReason == Guests.blockReason)
        #expect(guest.lostLastAssignmentAt == end)
        #expect(guest.removeAt == paris.adding(days: 30, to: end))
        #expect(guest.removedAt == nil)
        #expect(try bench.store.read { try $0.session(idHash: "alex-session", now: end, idleTimeout: 86400) } == .ended)
        #expect(try bench.audit().contains { $0.action == "lostLastAssignment" && $0.subjectID == alex && $0.after == "blocked, to be removed on \(paris.longDateAndTime(paris.adding(days: 30, to: end)))" })

        // One second before the planned removal nothing happens; at it the guest is removed, once.
        _ = try bench.sweep(at: paris.adding(days: 30, to: end).addingTimeInterval(-1))
        #expect(try bench.store.read { try $0.guest(email: alex) }?.removedAt == nil)
        let removal = paris.adding(days: 30, to: end)
        _ = try bench.sweep(at: removal)
        #expect(try bench.store.read { try $0.guest(email: alex) }?.removedAt == removal)
        let audits = try bench.audit().filter { $0.action == "guestRemoved" }
        _ = try bench.sweep(at: removal.addingTimeInterval(60))
        #expect(try bench.audit().filter { $0.action == "guestRemoved" }.count == audits.count)
        #expect(audits.count == 1)
    }

    @Test func settingsChangedAfterTheLossDoNotApplyRetroactively() throws {
        // At the loss the tenant kept guests; later it asks for removal after 0 days: Alex stays.
        let before = try Bench(site: Self.site(blockSignIn: false, removeAfterDays: nil))
        let assignment = try approvedGuest(before)
        let end = try #require(assignment.endsAt)
        _ = try before.sweep(at: end)
        let kept = try #require(try before.store.read { try $0.guest(email: alex) })
        #expect(kept.lostLastAssignmentAt == end)
        #expect(kept.removeAt == nil)
        #expect(!kept.person.isBlocked)

        let after = Sweeper(
            store: before.store,
            approvals: Approvals(site: Self.site(blockSignIn: true, removeAfterDays: 0), calendar: paris, newID: { "x" }),
            log: { _ in })
        _ = try after.run(now: day(400))
        let still = try #require(try before.store.read { try $0.guest(email: alex) })
        #expect(still.removedAt == nil)
        #expect(!still.person.isBlocked)
    }

    @Test func zeroDaysRemovesAtOnce() throws {
        let bench = try Bench(site: Self.site(blockSignIn: false, removeAfterDays: 0))
        let assignment = try approvedGuest(bench)
        try bench.store.write { db in
            try bench.approvals.lifecycle.end(assignment, kind: .admin, actor: megan, reason: "project over", db: db, now: day(3))
        }
        let guest = try #require(try bench.store.read { try $0.guest(email: alex) })
        #expect(guest.removedAt == day(3))
        #expect(guest.person.isBlocked, "a removed guest cannot sign in")
    }

    @Test func aNewAssignmentBeforeTheRemovalLiftsTheBlockAndThePlan() throws {
        let bench = try Bench(site: Self.site(blockSignIn: true, removeAfterDays: 30))
        let first = try approvedGuest(bench)
        try bench.store.write { db in
            try bench.approvals.lifecycle.end(first, kind: .user, actor: alex, reason: "done", db: db, now: day(2))
        }
        #expect(try bench.person(alex)?.isBlocked == true)
        // An admin brings Alex back (a new request approved by Adele).
        try bench.submit(externalPackage, by: alex, id: "r2", at: day(5))
        _ = recorded(try bench.decide("r2", by: adele, .approve, "Second project", at: day(5)))
        let guest = try #require(try bench.store.read { try $0.guest(email: alex) })
        #expect(!guest.person.isBlocked)
        #expect(guest.removeAt == nil)
        #expect(guest.lostLastAssignmentAt == nil)
        _ = try bench.sweep(at: day(40))
        #expect(try bench.store.read { try $0.guest(email: alex) }?.removedAt == nil)
    }

    @Test func peopleGatehouseDidNotBringInAreNeverTouched() throws {
        let bench = try Bench(site: Self.site(blockSignIn: true, removeAfterDays: 0))
        // Allan is internal: his assignment ending blocks nothing.
        try bench.submit(financePackage, by: allan)
        _ = recorded(try bench.decide(by: nestor, .approve, at: t0))
        _ = recorded(try bench.decide(by: hallam, .approve, "ok", at: t0))
        let assignment = try #require(try bench.assignments(of: allan).first)
        try bench.store.write { db in
            try bench.approvals.lifecycle.end(assignment, kind: .admin, actor: megan, reason: "moved team", db: db, now: day(1))
        }
        #expect(try bench.person(allan)?.isBlocked == false)
        #expect(try bench.store.read { try $0.guest(email: allan) }?.removeAt == nil)
        // An external person who signed in but was never given access is not a governed guest.
        try bench.store.write { db in
            _ = try db.upsertPersonOnSignIn(email: "visitor@elsewhere.example", displayName: nil, isExternal: true, at: t0)
            try bench.approvals.guests.assignmentEnded(email: "visitor@elsewhere.example", db: db, now: day(1))
        }
        #expect(try bench.person("visitor@elsewhere.example")?.isBlocked == false)
    }
}
