import Foundation
import GatehouseModel
import GatehouseStore
import Governance
import Testing
import Workflow

private let internalPackage = "internal-access-package"
private let sam = "sam@mail.example"

private extension Bench {
    var lifecycle: Workflow.Lifecycle { approvals.lifecycle }

    /// Gives `email` the package at `now` the way an approved request does (and the handler, at once,
    /// for a policy without approval): a delivered `add` request and its assignment `assignmentID`.
    /// `policy` overrides the site's (the snapshot of an older model).
    @discardableResult
    func deliver(
        _ packageID: String, to email: String, assignment assignmentID: String, at now: Date = t0, policy: Policy? = nil
    ) throws -> AssignmentRecord {
        let package = try #require(site.package(packageID))
        let policy = try #require(policy ?? package.policies.first)
        return try store.write { db in
            let person = try db.upsertPersonOnSignIn(
                email: email, displayName: nil, isExternal: !site.tenant.isInternal(email: email), at: now)
            let requestor = Requestor(email: person.email, in: site, isGuest: person.isGovernedGuest)
            let record = RequestRecord(
                id: "add-\(assignmentID)", idempotencyKey: "key-add-\(assignmentID)", kind: .add, actorKind: .user,
                requestorEmail: person.email, packageID: packageID, policyID: policy.id,
                policySnapshot: PolicySnapshot.encode(policy, requestor: requestor), language: "en",
                justification: "Needed", answers: "[]", state: .submitted, createdAt: now)
            try db.insertRequest(record)
            return try approvals.delivery.deliver(
                record, policy: policy, from: .submitted, actor: "system", reason: "test delivery",
                assignmentID: assignmentID, db: db, now: now)
        }
    }

    func assignment(_ id: String) throws -> AssignmentRecord { try #require(try store.read { try $0.assignment(id: id) }) }

    func lifecycleRow(_ id: String) throws -> AssignmentLifecycleRecord {
        try #require(try store.read { try $0.assignmentLifecycle(id: id) })
    }

    func extend(_ id: String, by email: String, justification: String = "Still on the project", at now: Date) throws
        -> Workflow.Lifecycle.ExtensionOutcome?
    {
        try store.write {
            try lifecycle.requestExtension(
                assignmentID: id, by: email, justification: justification, approvals: approvals, db: $0, now: now)
        }
    }

    func requests(of email: String, kind: RequestKind) throws -> [RequestRecord] {
        try store.read { try $0.requests(of: email) }.filter { $0.kind == kind }
    }

    func linkedAssignment(ofRequest id: String) throws -> String? { try store.read { try $0.assignmentID(ofRequest: id) } }

    func auditOf(assignment id: String) throws -> [AuditEntry] {
        try store.read { try $0.auditEntries(subjectKind: "assignment", subjectID: id) }.map(\.entry)
    }

    func block(_ email: String) throws { try store.write { try $0.setBlocked(email: email, reason: "Left the lab") } }
}

private func report(ended: Int = 0, reminders: Int = 0) -> SweepReport {
    var report = SweepReport()
    report.ended = ended
    report.extensionReminders = reminders
    return report
}

/// The example site without `email` in `group`.
private func removing(_ email: String, from group: String) -> Site {
    var site = Example.site
    let index = site.directory.people.firstIndex { $0.email == email }!
    site.directory.people[index].groups.removeAll { $0 == group }
    return site
}

/// The example site with a copy of internal-access-package (same resource roles), 30 days.
private func withCopyOfInternalPackage() -> Site {
    var site = Example.site
    var copy = site.package(internalPackage)!
    copy.id = "internal-copy"
    copy.name = "Internal copy"
    copy.policies[0].lifecycle.expiration = .afterDays(30)
    site.packages.append(copy)
    return site
}

/// What a second sweep must leave as it is.
private struct Snapshot: Equatable {
    var assignments: [AssignmentRecord]
    var requests: Int
    var audit: Int
    var outbox: Int

    init(_ bench: Bench, _ email: String) throws {
        assignments = try bench.assignments(of: email)
        requests = try bench.store.read { try $0.requests(of: email) }.count
        audit = try bench.audit().count
        outbox = try bench.outbox().count
    }
}

// MARK: - Expiry

@Suite struct ExpiryLifecycleTests {
    @Test func afterDaysTheSweepEndsTheAssignmentAtItsEnd() throws {
        let bench = try Bench()
        let a = try bench.deliver(internalPackage, to: allan, assignment: "a1")
        #expect(a.endsAt == day(365))
        #expect(try bench.members("lab-portal") == [ResourceMember(email: allan, role: "Reader")])

        // A sweep that was not running for the reminders: one second before the end only the 1-day reminder.
        #expect(try bench.sweep(at: day(365).addingTimeInterval(-1)) == report(reminders: 1))
        #expect(try bench.assignment("a1").state == .delivered)

        #expect(try bench.sweep(at: day(365)) == report(ended: 1))
        let ended = try bench.assignment("a1")
        #expect(ended.state == .expired)
        #expect(ended.endedAt == day(365))
        #expect(ended.endReason == "its end date was reached")
        #expect(ended.endsAt == day(365))
        #expect(try bench.grants("a1") == [
            ResourceGrant(resourceID: "lab-portal", role: "Reader", state: .revoked),
            ResourceGrant(resourceID: "lab-wiki", role: "Read", state: .revoked),
        ])
        #expect(try bench.members("lab-portal").isEmpty)
        #expect(try bench.members("lab-wiki").isEmpty)
        #expect(try bench.lifecycleRow("a1").nextCheckAt == nil)

        // The removal is a request of its own, by the system, linked to the assignment.
        let removals = try bench.requests(of: allan, kind: .remove)
        #expect(removals.count == 1)
        let removal = try #require(removals.first)
        #expect(removal.actorKind == .system)
        #expect(removal.state == .delivered)
        #expect(removal.packageID == internalPackage)
        #expect(removal.createdAt == day(365))
        #expect(removal.justification == "its end date was reached")
        #expect(try bench.linkedAssignment(ofRequest: removal.id) == "a1")
        // The request that gave the access stays.
        #expect(try bench.request("add-a1").state == .delivered)

        let entries = try bench.auditOf(assignment: "a1")
        let endedEntry = try #require(entries.last)
        #expect(endedEntry.action == "ended")
        #expect(endedEntry.actor == "system")
        #expect(endedEntry.before == "delivered")
        #expect(endedEntry.after == "expired")
        #expect(endedEntry.at == day(365))
        #expect(try bench.audit(request: removal.id).map(\.action) == ["removed"])

        // "Has ended", with the link to request again: an internal member may.
        let mail = try bench.mail(to: allan, kind: "accessEnded")
        #expect(mail.count == 1)
        #expect(mail.first?.subject == "Your access to Internal_AccessPackage has ended")
        #expect(mail.first?.body == """
            Your access to Internal_AccessPackage ended on 1 March 2029, 9:00: its end date was reached.

            If you need it again, you can request it at http://127.0.0.1:8080/access-packages/internal-access-package/

            """)

        // A second sweep, at the same instant or later, changes nothing.
        let before = try Snapshot(bench, allan)
        #expect(try bench.sweep(at: day(365)) == SweepReport())
        #expect(try bench.sweep(at: day(400)) == SweepReport())
        #expect(try Snapshot(bench, allan) == before)
    }

    @Test func onDateEndsAtTheEndOfThatDayInTheTenantZone() throws {
        let bench = try Bench()
        try bench.deliver(contractorPackage, to: sam, assignment: "a1")
        // Until the end of 30 June 2028 in Paris (summer time): the first instant of 1 July.
        let end = instant("2028-07-01T00:00:00+02:00")
        #expect(try bench.assignment("a1").endsAt == end)
        // No extension: no reminders, the sweep looks at the end.
        #expect(try bench.lifecycleRow("a1").nextCheckAt == end)

        #expect(try bench.sweep(at: instant("2028-06-30T23:59:59+02:00")) == SweepReport())
        #expect(try bench.assignment("a1").state == .delivered)
        #expect(try bench.sweep(at: end) == report(ended: 1))
        #expect(try bench.assignment("a1").state == .expired)
        #expect(try bench.assignment("a1").endedAt == end)
        #expect(try bench.members("external-collaboration").isEmpty)
        #expect(try bench.mail(to: sam, kind: "extensionReminder").isEmpty)
        // Anyone with an email address may request the contractor package again.
        let mail = try #require(try bench.mail(to: sam, kind: "accessEnded").first)
        #expect(mail.body.contains("ended on 1 July 2028, 0:00: its end date was reached."))
        #expect(mail.body.contains("you can request it at http://127.0.0.1:8080/access-packages/external-contractor/"))
    }

    @Test func afterHoursEndsThatManyHoursLaterWithoutReminders() throws {
        let site = changing(Example.site, package: internalPackage) { $0.lifecycle.expiration = .afterHours(8) }
        let bench = try Bench(site: site)
        try bench.deliver(internalPackage, to: allan, assignment: "a1")
        let end = t0.addingTimeInterval(8 * 3600)
        #expect(try bench.assignment("a1").endsAt == end)
        // Extension is allowed, but both reminders would fall before the start.
        #expect(try bench.lifecycleRow("a1").nextCheckAt == end)

        #expect(try bench.sweep(at: end.addingTimeInterval(-1)) == SweepReport())
        #expect(try bench.sweep(at: end) == report(ended: 1))
        #expect(try bench.assignment("a1").state == .expired)
        #expect(try bench.mail(to: allan, kind: "extensionReminder").isEmpty)
        #expect(try bench.mail(to: allan, kind: "accessEnded").count == 1)
    }

    @Test func accessThatNeverEndsIsNeverSwept() throws {
        let site = changing(Example.site, package: internalPackage) { $0.lifecycle.expiration = .never }
        let bench = try Bench(site: site)
        try bench.deliver(internalPackage, to: allan, assignment: "a1")
        #expect(try bench.assignment("a1").endsAt == nil)
        #expect(try bench.lifecycleRow("a1").nextCheckAt == nil)
        #expect(try bench.store.read { try $0.assignmentsDue(at: .distantFuture, limit: 10) }.isEmpty)

        #expect(try bench.sweep(at: day(365 * 30)) == SweepReport())
        #expect(try bench.assignment("a1").state == .delivered)
        #expect(try bench.grants("a1").map(\.state) == [.active, .active])
        #expect(try bench.mail(to: allan, kind: "extensionReminder").isEmpty)
        #expect(try bench.mail(to: allan, kind: "accessEnded").isEmpty)
    }

    @Test func theEndedMailOffersNoLinkToSomeoneNoLongerInScope() throws {
        // Allan left the finance group after he was given Finance reports.
        let bench = try Bench(site: removing(allan, from: "finance"))
        try bench.deliver(financePackage, to: allan, assignment: "a1")
        #expect(try bench.sweep(at: day(90)) == report(ended: 1))
        let mail = try #require(try bench.mail(to: allan, kind: "accessEnded").first)
        #expect(mail.subject == "Your access to Finance reports has ended")
        #expect(mail.body.contains("Nothing else is needed from you."))
        #expect(!mail.body.contains("request it"))
        #expect(!mail.body.contains("/access-packages/"))
    }

    @Test func theEndedMailOffersNoLinkToABlockedPerson() throws {
        let bench = try Bench()
        try bench.deliver(contractorPackage, to: sam, assignment: "a1")
        try bench.block(sam)
        #expect(try bench.sweep(at: instant("2028-07-01T00:00:00+02:00")) == report(ended: 1))
        let mail = try #require(try bench.mail(to: sam, kind: "accessEnded").first)
        #expect(mail.body.contains("Nothing else is needed from you."))
        #expect(!mail.body.contains("/access-packages/"))
    }

    @Test func anAdminRemovalIsRecordedAsAnAdminRemoveRequest() throws {
        let bench = try Bench()
        try bench.deliver(internalPackage, to: allan, assignment: "a1")
        let a = try bench.assignment("a1")
        let removalID = try bench.store.write {
            try bench.lifecycle.end(a, kind: .admin, actor: megan, reason: "Moved to another team", db: $0, now: day(10))
        }
        let removal = try bench.request(removalID)
        #expect(removal.kind == .remove)
        #expect(removal.actorKind == .admin)
        #expect(removal.state == .delivered)
        #expect(try bench.linkedAssignment(ofRequest: removalID) == "a1")
        #expect(try bench.assignment("a1").endReason == "Moved to another team")
        #expect(try bench.assignment("a1").endedAt == day(10))
        #expect(try bench.auditOf(assignment: "a1").last?.actor == megan)
        #expect(try bench.mail(to: allan, kind: "accessEnded").first?.body.contains(": Moved to another team.") == true)
        // Its planned end no longer matters to the sweep.
        #expect(try bench.sweep(at: day(365)) == SweepReport())
        #expect(try bench.requests(of: allan, kind: .remove).count == 1)
    }
}

// MARK: - Union of grants

@Suite struct UnionLifecycleTests {
    @Test func endingOnePackageKeepsARoleAnotherStillGrants() throws {
        let bench = try Bench(site: withCopyOfInternalPackage())
        try bench.deliver(internalPackage, to: allan, assignment: "long")
        try bench.deliver("internal-copy", to: allan, assignment: "short")
        #expect(try bench.assignment("short").endsAt == day(30))
        #expect(try bench.members("lab-portal") == [ResourceMember(email: allan, role: "Reader")])

        #expect(try bench.sweep(at: day(30)) == report(ended: 1))
        #expect(try bench.assignment("short").state == .expired)
        #expect(try bench.grants("short").map(\.state) == [.revoked, .revoked])
        #expect(try bench.grants("long").map(\.state) == [.active, .active])
        // Effective access is the union: the long assignment still grants both roles.
        #expect(try bench.members("lab-portal") == [ResourceMember(email: allan, role: "Reader")])
        #expect(try bench.members("lab-wiki") == [ResourceMember(email: allan, role: "Read")])
        #expect(try bench.store.read {
            try $0.holdsRole(email: allan, resourceID: "lab-portal", role: "Reader", except: "short")
        })
        #expect(try bench.store.read { try $0.roles(of: allan) }.map(\.assignmentID) == ["long", "long"])

        // Ending the other one too removes them.
        let long = try bench.assignment("long")
        try bench.store.write {
            try bench.lifecycle.end(long, kind: .user, actor: allan, reason: "removed by its holder", db: $0, now: day(40))
        }
        #expect(try bench.members("lab-portal").isEmpty)
        #expect(try bench.members("lab-wiki").isEmpty)
        #expect(try bench.store.read {
            try $0.holdsRole(email: allan, resourceID: "lab-portal", role: "Reader", except: "short")
        } == false)
    }

    @Test func endingTheLongerOneFirstAlsoKeepsTheRole() throws {
        let bench = try Bench(site: withCopyOfInternalPackage())
        try bench.deliver(internalPackage, to: allan, assignment: "long")
        try bench.deliver("internal-copy", to: allan, assignment: "short")
        let long = try bench.assignment("long")
        try bench.store.write {
            try bench.lifecycle.end(long, kind: .admin, actor: megan, reason: "Moved", db: $0, now: day(5))
        }
        #expect(try bench.members("lab-portal") == [ResourceMember(email: allan, role: "Reader")])
        #expect(try bench.sweep(at: day(30)) == report(ended: 1))
        #expect(try bench.members("lab-portal").isEmpty)
    }
}

// MARK: - Extension reminders

@Suite struct ReminderLifecycleTests {
    @Test func aPolicyAllowingExtensionRemindsFourteenDaysAndOneDayBefore() throws {
        let bench = try Bench()
        try bench.deliver(internalPackage, to: allan, assignment: "a1")
        #expect(try bench.lifecycleRow("a1").nextCheckAt == day(351))
        #expect(try bench.lifecycleRow("a1").remindersSent == 0)

        #expect(try bench.sweep(at: day(351).addingTimeInterval(-1)) == SweepReport())
        #expect(try bench.mail(to: allan, kind: "extensionReminder").isEmpty)

        #expect(try bench.sweep(at: day(351)) == report(reminders: 1))
        var reminders = try bench.mail(to: allan, kind: "extensionReminder")
        #expect(reminders.count == 1)
        #expect(reminders.first?.subject == "Your access to Internal_AccessPackage ends in 14 days")
        #expect(reminders.first?.body.contains("ends in 14 days: it stops on 1 March 2029, 9:00.") == true)
        #expect(reminders.first?.body.contains("extend it before then at http://127.0.0.1:8080/my/access/a1/extend") == true)
        #expect(try bench.lifecycleRow("a1").remindersSent == 1)
        #expect(try bench.lifecycleRow("a1").nextCheckAt == day(364))
        let entry = try #require(try bench.auditOf(assignment: "a1").last)
        #expect(entry.action == "extensionReminder")
        #expect(entry.actor == "system")
        #expect(entry.reason == "14 days before the end")

        // Once only.
        #expect(try bench.sweep(at: day(351)) == SweepReport())
        #expect(try bench.sweep(at: day(364).addingTimeInterval(-1)) == SweepReport())

        #expect(try bench.sweep(at: day(364)) == report(reminders: 1))
        reminders = try bench.mail(to: allan, kind: "extensionReminder")
        #expect(reminders.count == 2)
        #expect(reminders.last?.subject == "Your access to Internal_AccessPackage ends tomorrow")
        #expect(reminders.last?.body.contains("/my/access/a1/extend") == true)
        #expect(try bench.auditOf(assignment: "a1").last?.reason == "1 day before the end")
        #expect(try bench.lifecycleRow("a1").nextCheckAt == day(365))
        #expect(try bench.lifecycleRow("a1").remindersSent == 2)

        #expect(try bench.sweep(at: day(365)) == report(ended: 1))
        #expect(try bench.mail(to: allan, kind: "extensionReminder").count == 2)
    }

    @Test func aPolicyWithoutExtensionSendsNoReminder() throws {
        let bench = try Bench()
        try bench.deliver(externalPackage, to: alex, assignment: "a1")
        #expect(try bench.assignment("a1").endsAt == day(180))
        #expect(try bench.lifecycleRow("a1").nextCheckAt == day(180))
        #expect(try bench.sweep(at: day(166)) == SweepReport())
        #expect(try bench.sweep(at: day(179)) == SweepReport())
        #expect(try bench.mail(kind: "extensionReminder").isEmpty)
        #expect(try bench.sweep(at: day(180)) == report(ended: 1))
        #expect(try bench.mail(kind: "extensionReminder").isEmpty)
    }

    @Test func aSweepDownForWeeksSendsOneReminderNotABurst() throws {
        let bench = try Bench()
        try bench.deliver(internalPackage, to: allan, assignment: "a1")
        // The first sweep since delivery runs after both reminder instants.
        #expect(try bench.sweep(at: day(364).addingTimeInterval(3600)) == report(reminders: 1))
        let reminders = try bench.mail(to: allan, kind: "extensionReminder")
        #expect(reminders.map(\.subject) == ["Your access to Internal_AccessPackage ends tomorrow"])
        #expect(try bench.lifecycleRow("a1").remindersSent == 2)
        #expect(try bench.lifecycleRow("a1").nextCheckAt == day(365))
        #expect(try bench.sweep(at: day(364).addingTimeInterval(7200)) == SweepReport())
        #expect(try bench.mail(to: allan, kind: "extensionReminder").count == 1)
    }

    @Test func someoneWhoCannotExtendIsRemindedWithoutAnExtendLink() throws {
        let bench = try Bench(site: removing(allan, from: "finance"))
        try bench.deliver(financePackage, to: allan, assignment: "a1")
        #expect(try bench.sweep(at: day(76)) == report(reminders: 1))
        let reminder = try #require(try bench.mail(to: allan, kind: "extensionReminder").first)
        #expect(!reminder.body.contains("/extend"))
        #expect(reminder.body.contains("See what you have at http://127.0.0.1:8080/my/access/"))
    }
}

// MARK: - Extension

@Suite struct ExtensionLifecycleTests {
    @Test func internalAccessIsExtendedAtOnceByTheFullDurationFromNow() throws {
        let bench = try Bench()
        try bench.deliver(internalPackage, to: allan, assignment: "a1")
        #expect(try bench.sweep(at: day(351)) == report(reminders: 1))

        let outcome = try bench.extend("a1", by: allan, at: day(360))
        #expect(outcome == .extended(end: day(725)))
        let a = try bench.assignment("a1")
        #expect(a.endsAt == day(725))
        #expect(a.startsAt == t0)
        #expect(a.state == .delivered)
        #expect(try bench.assignments(of: allan).count == 1)
        // Reminders start again for the new end.
        #expect(try bench.lifecycleRow("a1").remindersSent == 0)
        #expect(try bench.lifecycleRow("a1").nextCheckAt == day(711))

        let extensions = try bench.requests(of: allan, kind: .extend)
        #expect(extensions.count == 1)
        let request = try #require(extensions.first)
        #expect(request.actorKind == .user)
        #expect(request.state == .delivered)
        #expect(request.justification == "Still on the project")
        #expect(request.createdAt == day(360))
        #expect(try bench.linkedAssignment(ofRequest: request.id) == "a1")
        #expect(try bench.audit(request: request.id).first?.action == "submitted")

        let entry = try #require(try bench.auditOf(assignment: "a1").last)
        #expect(entry.action == "extended")
        #expect(entry.before == "1 March 2029, 9:00")
        #expect(entry.after == "24 February 2030, 9:00")
        let delivered = try bench.mail(to: allan, kind: "accessDelivered")
        #expect(delivered.last?.body.contains("You now have access to Internal_AccessPackage until 24 February 2030, 9:00.") == true)

        // The old end passes without anything happening.
        #expect(try bench.sweep(at: day(365)) == SweepReport())
        #expect(try bench.assignment("a1").state == .delivered)
        #expect(try bench.sweep(at: day(711)) == report(reminders: 1))
    }

    @Test func anExtensionNeverEndsEarlierThanTheCurrentEnd() throws {
        // The model now gives 30 days; the assignment was given for 365.
        let site = changing(Example.site, package: internalPackage) { $0.lifecycle.expiration = .afterDays(30) }
        let bench = try Bench(site: site)
        let a = try bench.deliver(internalPackage, to: allan, assignment: "a1", policy: Example.site.package(internalPackage)!.policies[0])
        let policy = try #require(site.package(internalPackage)?.policies.first)
        #expect(bench.lifecycle.proposedEnd(a, policy: policy, now: day(10)) == day(365))
        #expect(try bench.extend("a1", by: allan, at: day(10)) == .refused("This access already ends as late as Lab members allows."))
        #expect(try bench.assignment("a1").endsAt == day(365))
        #expect(try bench.requests(of: allan, kind: .extend).isEmpty)

        // Late enough, 30 days from now is later.
        #expect(try bench.extend("a1", by: allan, at: day(340)) == .extended(end: day(370)))
        #expect(try bench.assignment("a1").endsAt == day(370))
    }

    @Test func refusedWhenThePolicyDoesNotAllowIt() throws {
        let bench = try Bench()
        try bench.deliver(externalPackage, to: alex, assignment: "a1")
        #expect(try bench.extend("a1", by: alex, at: day(170))
            == .refused("The request option this access was given through does not allow extensions."))
        #expect(try bench.assignment("a1").endsAt == day(180))
        #expect(try bench.requests(of: alex, kind: .extend).isEmpty)
    }

    @Test func refusedWhenThePersonIsNoLongerInScope() throws {
        let bench = try Bench(site: removing(allan, from: "finance"))
        try bench.deliver(financePackage, to: allan, assignment: "a1")
        #expect(try bench.extend("a1", by: allan, at: day(80)) == .refused(
            "You are no longer among the people who may request Finance reports through Finance team, so it cannot be extended."))
        #expect(try bench.requests(of: allan, kind: .extend).isEmpty)
    }

    @Test func refusedWhenThePersonIsBlocked() throws {
        let bench = try Bench()
        try bench.deliver(internalPackage, to: allan, assignment: "a1")
        try bench.block(allan)
        #expect(try bench.extend("a1", by: allan, at: day(360))
            == .refused("Your account is blocked; an administrator must unblock it first."))
        #expect(try bench.assignment("a1").endsAt == day(365))
    }

    @Test func refusedWhenAnExtensionAlreadyWaits() throws {
        let bench = try Bench()
        try bench.deliver(financePackage, to: allan, assignment: "a1")
        guard case .pendingApproval? = try bench.extend("a1", by: allan, at: day(80)) else {
            Issue.record("the first extension should wait for approval")
            return
        }
        #expect(try bench.extend("a1", by: allan, at: day(81))
            == .refused("An extension of this access already waits for approval."))
        #expect(try bench.requests(of: allan, kind: .extend).count == 1)
    }

    @Test func refusedWhenAlreadyAtTheDateThePolicyEndsOn() throws {
        let site = changing(Example.site, package: contractorPackage) {
            $0.lifecycle.extensionAllowed = true
            $0.lifecycle.extensionRequiresApproval = false
        }
        let bench = try Bench(site: site)
        let a = try bench.deliver(contractorPackage, to: sam, assignment: "a1")
        let policy = try #require(site.package(contractorPackage)?.policies.first)
        #expect(bench.lifecycle.proposedEnd(a, policy: policy, now: day(30)) == instant("2028-07-01T00:00:00+02:00"))
        #expect(try bench.extend("a1", by: sam, at: day(30))
            == .refused("This access already ends as late as Contractors with any email address allows."))
        #expect(try bench.assignment("a1").endsAt == instant("2028-07-01T00:00:00+02:00"))
    }

    @Test func refusedForAccessWithoutEndOrAlreadyEndedOrSomeoneElses() throws {
        let site = changing(Example.site, package: internalPackage) { $0.lifecycle.expiration = .never }
        let bench = try Bench(site: site)
        let a = try bench.deliver(internalPackage, to: allan, assignment: "a1")
        #expect(try bench.extend("a1", by: allan, at: day(10))
            == .refused("This access has no end date: there is nothing to extend."))
        #expect(try bench.extend("a1", by: lee, at: day(10)) == nil)
        #expect(try bench.extend("nope", by: allan, at: day(10)) == nil)
        try bench.store.write {
            try bench.lifecycle.end(a, kind: .user, actor: allan, reason: "removed by its holder", db: $0, now: day(20))
        }
        #expect(try bench.extend("a1", by: allan, at: day(30)) == .refused("This access has already ended."))
        #expect(try bench.requests(of: allan, kind: .extend).isEmpty)
    }

    @Test func financeExtensionGoesThroughBothStagesAndMovesTheSameAssignment() throws {
        let bench = try Bench()
        try bench.deliver(financePackage, to: allan, assignment: "a1")
        #expect(try bench.assignment("a1").endsAt == day(90))

        guard case .pendingApproval(let id)? = try bench.extend("a1", by: allan, justification: "Q3 close", at: day(80)) else {
            Issue.record("the extension should wait for approval")
            return
        }
        let request = try bench.request(id)
        #expect(request.kind == .extend)
        #expect(request.actorKind == .user)
        #expect(request.state == .pendingApproval)
        #expect(request.currentStage == 1)
        #expect(request.packageID == financePackage)
        #expect(try bench.linkedAssignment(ofRequest: id) == "a1")
        #expect(try bench.approvers(id).map(\.email) == [nestor])
        let asked = try bench.mail(to: nestor, kind: "approvalRequired")
        #expect(asked.count == 1)
        #expect(asked.first?.body.contains("http://127.0.0.1:8080/approvals/\(id)/") == true)
        // The approver must be able to tell an extension from a new request (see the report: the mail
        // reads "asks for access to Finance reports", like a first request, without the current end).
        #expect(asked.first.map { ($0.subject + $0.body).lowercased().contains("exten") } == true)
        // Nothing moves while the approvers decide.
        #expect(try bench.assignment("a1").endsAt == day(90))

        #expect(recorded(try bench.decide(id, by: nestor, .approve, at: day(81))) != nil)
        #expect(try bench.request(id).currentStage == 2)
        #expect(try bench.assignment("a1").endsAt == day(90))
        let outcome = try bench.decide(id, by: adele, .approve, "Still needed", at: day(82))
        #expect(recorded(outcome) != nil)
        if case .recorded(_, let state) = outcome { #expect(state == .delivered) }

        // The same assignment, 90 days from the approval.
        #expect(try bench.assignments(of: allan).map(\.id) == ["a1"])
        let a = try bench.assignment("a1")
        #expect(a.endsAt == day(172))
        #expect(a.state == .delivered)
        #expect(try bench.request(id).state == .delivered)
        let entry = try #require(try bench.auditOf(assignment: "a1").last)
        #expect(entry.action == "extended")
        #expect(entry.actor == adele)
        #expect(try bench.lifecycleRow("a1").nextCheckAt == day(158))
        #expect(try bench.lifecycleRow("a1").remindersSent == 0)
        #expect(try bench.sweep(at: day(90)) == SweepReport())
        #expect(try bench.assignment("a1").state == .delivered)
    }

    @Test func aDeniedExtensionLeavesTheEnd() throws {
        let bench = try Bench()
        try bench.deliver(financePackage, to: allan, assignment: "a1")
        guard case .pendingApproval(let id)? = try bench.extend("a1", by: allan, at: day(80)) else {
            Issue.record("the extension should wait for approval")
            return
        }
        let outcome = try bench.decide(id, by: nestor, .deny, "Project over", at: day(81))
        if case .recorded(_, let state) = outcome { #expect(state == .denied) } else { Issue.record("not recorded: \(outcome)") }
        #expect(try bench.request(id).state == .denied)
        #expect(try bench.assignment("a1").endsAt == day(90))
        #expect(try bench.assignments(of: allan).count == 1)
        #expect(!(try bench.auditOf(assignment: "a1").contains { $0.action == "extended" }))

        // Nothing waits any more: the holder may ask again; the end cancels that open request.
        guard case .pendingApproval(let again)? = try bench.extend("a1", by: allan, at: day(86)) else {
            Issue.record("a new extension should be possible after a denial")
            return
        }
        #expect(again != id)
        #expect(try bench.sweep(at: day(90)).ended == 1)
        #expect(try bench.assignment("a1").state == .expired)
        #expect(try bench.request(again).state == .canceled)
        #expect(try bench.audit(request: again).last?.reason == "the assignment it would extend ended")
        // The approver asked to decide it is told it went away; the first (denied) one is not news.
        let told = try bench.mail(to: nestor, kind: "approvalCanceled")
        #expect(told.count == 1)
        #expect(told.first?.subject.contains("request to extend") == true)
        #expect(told.first?.body.contains("/approvals/\(again)/") == true)
        #expect(told.first?.body.contains("No action is needed from you.") == true)
    }
}
