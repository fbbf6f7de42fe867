import Foundation
import GatehouseModel
import GatehouseStore
import Governance
import Testing
import Workflow

/// The example site with one person per admin role, so that no one holds two: Nestor is the tenant
/// admin; in General, Megan owns, Adele manages packages, Lee manages assignments, Hallam reads.
/// Allan holds no role at all.
private let adminSite: Site = {
    var site = Example.site
    site.tenant.admins = [nestor]
    for index in site.catalogs.indices {
        site.catalogs[index].roles = CatalogRoles(
            owners: [megan], packageManagers: [adele], assignmentManagers: [lee], readers: [hallam])
    }
    return site
}()

private let internalPackage = "internal-access-package"
private let generalCatalog = adminSite.catalog("general")!

/// One admin role and the person who holds it in `adminSite`.
struct AdminRoleHolder: Sendable, CustomTestStringConvertible {
    var role: String
    var email: String
    /// Whether the role may change things (assign, remove, cancel, reprocess).
    var mayAct: Bool
    /// Whether the role may see the catalog's requests and assignments.
    var mayView: Bool

    var testDescription: String { role }

    static let all = [
        AdminRoleHolder(role: "tenant admin", email: nestor, mayAct: true, mayView: true),
        AdminRoleHolder(role: "owner", email: megan, mayAct: true, mayView: true),
        AdminRoleHolder(role: "package manager", email: adele, mayAct: true, mayView: true),
        AdminRoleHolder(role: "assignment manager", email: lee, mayAct: true, mayView: true),
        AdminRoleHolder(role: "reader", email: hallam, mayAct: false, mayView: true),
        AdminRoleHolder(role: "nobody", email: allan, mayAct: false, mayView: false),
    ]
}

private func actRefusal(_ purpose: String) -> String {
    "You need to be an owner, package manager or assignment manager of the catalog General, or a tenant admin, \(purpose)."
}

private extension Bench {
    var admin: Admin { Admin(approvals: approvals) }

    func assign(
        _ email: String, _ packageID: String = internalPackage, policy: String? = nil, answers: [String: [String]] = [:],
        start: String? = nil, end: String? = nil, by actor: String, at now: Date = t0
    ) throws -> Admin.AssignOutcome {
        let policyID = policy ?? site.package(packageID)!.policies[0].id
        return try store.write {
            try admin.assign(
                email: email, package: packageID, policy: policyID, answers: answers, start: start, end: end, by: actor,
                db: $0, now: now)
        }
    }

    func remove(_ id: String, reason: String = "Left the project", by actor: String, at now: Date) throws -> Admin.Outcome {
        try store.write { try admin.remove(assignmentID: id, reason: reason, by: actor, db: $0, now: now) }
    }

    func adminCancel(_ id: String = "r1", reason: String = "Duplicate", by actor: String, at now: Date) throws -> Admin.Outcome {
        try store.write { try admin.cancel(requestID: id, reason: reason, by: actor, db: $0, now: now) }
    }

    func reprocess(_ id: String, by actor: String, at now: Date) throws -> Admin.Outcome {
        try store.write { try admin.reprocess(assignmentID: id, by: actor, db: $0, now: now) }
    }

    /// Allan's Internal_AccessPackage, assigned by the tenant admin at t0.
    func allansAssignment() throws -> AssignmentRecord {
        guard case .assigned(_, let assignment) = try assign(allan, by: nestor) else {
            Issue.record("the tenant admin could not assign")
            throw CancellationError()
        }
        return assignment
    }

    /// Allan's assignment with every grant failed, as a connector that keeps failing leaves it.
    func failedAssignment() throws -> AssignmentRecord {
        let a = try allansAssignment()
        try store.write { db in
            for g in try db.grants(assignmentID: a.id) {
                try db.setGrantState(assignmentID: a.id, resourceID: g.grant.resourceID, role: g.grant.role, .failed, at: t0)
            }
            try db.setAssignmentState(id: a.id, .deliveryFailed)
        }
        return a
    }
}

@Suite struct AdminTests {
    // MARK: Role × action table

    @Test(arguments: AdminRoleHolder.all)
    func authorizationTable(holder: AdminRoleHolder) {
        let authorization = AdminAuthorization(site: adminSite)
        let purposes: [AdminAction: String] = [
            .assign: "to assign access packages in it", .remove: "to remove assignments in it",
            .cancel: "to cancel requests in it", .reprocess: "to reprocess assignments in it",
        ]
        for (action, purpose) in purposes {
            let result = authorization.check(action, by: holder.email, catalog: generalCatalog)
            if holder.mayAct {
                #expect(throws: Never.self, "\(holder.role) may \(action)") { try result.get() }
            } else {
                let refusal = #expect(throws: AdminRefusal.self, "\(holder.role) may not \(action)") { try result.get() }
                #expect(refusal?.message.hasPrefix(actRefusal(purpose)) == true, "\(refusal?.message ?? "")")
            }
        }
        let view = authorization.check(.view, by: holder.email, catalog: generalCatalog)
        if holder.mayView {
            #expect(throws: Never.self) { try view.get() }
        } else {
            let refusal = #expect(throws: AdminRefusal.self) { try view.get() }
            #expect(refusal?.message == "You need to be an owner, package manager, assignment manager or reader of the catalog General, or a tenant admin, to see its requests and assignments.")
        }
        // The email's case does not matter.
        let upper = authorization.check(.view, by: holder.email.uppercased(), catalog: generalCatalog)
        #expect(((try? upper.get()) != nil) == holder.mayView)
    }

    @Test func aReaderIsToldTheyMayOnlyLook() {
        let refusal = AdminAuthorization(site: adminSite).check(.remove, by: hallam, catalog: generalCatalog)
        #expect(throws: AdminRefusal.self) { try refusal.get() }
        guard case .failure(let r) = refusal else { return }
        #expect(r.message == actRefusal("to remove assignments in it") + " As a reader of it you may only see its requests and assignments.")
        #expect(r.held == [.reader])
        #expect(r.action == .remove)
    }

    @Test func rolesAndCatalogsPerPerson() {
        let authorization = AdminAuthorization(site: Example.site)
        // In the example site Megan is both tenant admin and owner of both catalogs.
        #expect(authorization.roles(of: megan, in: generalCatalog) == [.tenantAdmin, .owner])
        #expect(authorization.catalogs(of: hallam).map(\.catalog.id) == ["external"])
        #expect(authorization.catalogs(of: allan).isEmpty)
        #expect(!authorization.hasAnyRole(allan))
        #expect(authorization.checkTenantAdmin(by: lee, "to see the governed guests").refusal
            == AdminRefusal(action: nil, held: [], message: "You need to be a tenant admin to see the governed guests."))
        #expect(authorization.checkTenantAdmin(by: megan, "to see the governed guests").refusal == nil)
    }

    @Test(arguments: AdminRoleHolder.all)
    func assignByRole(holder: AdminRoleHolder) throws {
        let bench = try Bench(site: adminSite)
        let outcome = try bench.assign(allan, by: holder.email)
        if holder.mayAct {
            guard case .assigned(let requestID, let assignment) = outcome else {
                Issue.record("\(holder.role): \(outcome)")
                return
            }
            #expect(assignment.state == .delivered)
            #expect(try bench.request(requestID).actorKind == .admin)
            #expect(try bench.audit(request: requestID).first?.actor == holder.email)
        } else {
            #expect(outcome == .refused(AdminAuthorization(site: adminSite).check(.assign, by: holder.email, catalog: generalCatalog).refusal!))
            #expect(try bench.assignments(of: allan).isEmpty)
            #expect(try bench.audit().isEmpty)
        }
    }

    @Test(arguments: AdminRoleHolder.all)
    func removeByRole(holder: AdminRoleHolder) throws {
        let bench = try Bench(site: adminSite)
        let a = try bench.allansAssignment()
        let auditBefore = try bench.audit().count
        let outcome = try bench.remove(a.id, by: holder.email, at: day(1))
        let stored = try #require(try bench.assignments(of: allan).first)
        if holder.mayAct {
            #expect(outcome == .done("Removed Internal_AccessPackage from Allan Deyoung."))
            #expect(stored.state == .expired)
        } else {
            guard case .refused(let refusal) = outcome else { Issue.record("\(outcome)"); return }
            #expect(refusal.message.hasPrefix(actRefusal("to remove assignments in it")))
            #expect(stored.state == .delivered)
            #expect(try bench.audit().count == auditBefore)
        }
    }

    @Test(arguments: AdminRoleHolder.all)
    func cancelByRole(holder: AdminRoleHolder) throws {
        let bench = try Bench(site: adminSite)
        try bench.submit(financePackage, by: allan, name: "Allan Deyoung")
        let outcome = try bench.adminCancel(by: holder.email, at: day(1))
        if holder.mayAct {
            #expect(outcome == .done("Canceled Allan Deyoung's request for Finance reports."))
            #expect(try bench.request().state == .canceled)
        } else {
            guard case .refused(let refusal) = outcome else { Issue.record("\(outcome)"); return }
            #expect(refusal.message.hasPrefix(actRefusal("to cancel requests in it")))
            #expect(try bench.request().state == .pendingApproval)
        }
    }

    @Test(arguments: AdminRoleHolder.all)
    func reprocessByRole(holder: AdminRoleHolder) throws {
        let bench = try Bench(site: adminSite)
        let a = try bench.failedAssignment()
        let outcome = try bench.reprocess(a.id, by: holder.email, at: day(1))
        let grants = try bench.grants(a.id).map(\.state)
        if holder.mayAct {
            #expect(outcome == .done("Planned 2 grant events again for Internal_AccessPackage of Allan Deyoung; the next sweep sends them."))
            #expect(grants == [.pending, .pending])
        } else {
            guard case .refused(let refusal) = outcome else { Issue.record("\(outcome)"); return }
            #expect(refusal.message.hasPrefix(actRefusal("to reprocess assignments in it")))
            #expect(grants == [.failed, .failed])
        }
    }

    // MARK: Assign

    @Test func aDirectAssignmentWithoutApprovalIsDeliveredAtOnceWithoutMail() throws {
        let bench = try Bench(site: adminSite)
        guard case .assigned(let requestID, let a) = try bench.assign(allan, by: lee) else {
            Issue.record("not assigned")
            return
        }
        let request = try bench.request(requestID)
        #expect(request.kind == .add)
        #expect(request.actorKind == .admin)
        #expect(request.state == .delivered)
        #expect(a.startsAt == t0)
        #expect(a.endsAt == paris.adding(days: 365, to: t0))
        #expect(try bench.members("lab-portal") == [ResourceMember(email: allan, role: "Reader")])
        #expect(try bench.mail(to: allan).isEmpty, "no email for a direct assignment without approval")
        let audit = try bench.audit(request: requestID)
        #expect(audit.map(\.action) == ["submitted", "approved", "delivered"])
        #expect(audit[0].actor == lee)
        #expect(audit[0].after == "submitted")
        #expect(audit[0].reason == "direct assignment of Internal_AccessPackage to allan@contoso.example through “Lab members” by an administrator")
        #expect(audit[1].actor == lee)
        #expect(audit[1].before == "submitted")
        #expect(audit[1].after == "approved")
    }

    @Test func aDirectAssignmentThroughAPolicyWithApprovalGoesToTheApprovers() throws {
        let bench = try Bench(site: adminSite)
        let outcome = try bench.assign(
            allan, financePackage, answers: ["cost-center": ["1234"], "reports": ["budget", "travel"]], by: lee)
        guard case .sentForApproval(let requestID) = outcome else {
            Issue.record("\(outcome)")
            return
        }
        let request = try bench.request(requestID)
        #expect(request.state == .pendingApproval)
        #expect(request.actorKind == .admin)
        #expect(request.requestorEmail == allan)
        #expect(request.answers.contains(#""values":["budget","travel"]"#))
        #expect(try bench.approvers(requestID).map(\.email) == [nestor], "stage 1 is Allan's manager")
        #expect(try bench.mail(to: nestor, kind: "approvalRequired").count == 1)
        #expect(try bench.assignments(of: allan).isEmpty, "nothing granted before approval")
        #expect(try bench.audit(request: requestID).map(\.action) == ["submitted", "stageStarted"])

        // The approvers decide as for any request; the person is told once it is delivered.
        _ = try bench.decide(requestID, by: nestor, .approve, at: day(1))
        _ = try bench.decide(requestID, by: hallam, .approve, "Finance team member", at: day(2))
        #expect(try bench.request(requestID).state == .delivered)
        #expect(try bench.mail(to: allan, kind: "accessDelivered").count == 1)
    }

    @Test func separationOfDutiesBlocksDirectAssignment() throws {
        let bench = try Bench(site: adminSite)
        let outcome = try bench.assign(
            megan, financePackage, answers: ["cost-center": ["1234"], "reports": ["budget"]], by: nestor)
        #expect(outcome == .blocked([
            "Members of LAB administrators cannot hold Finance reports (separation of duties), and Megan Bowen (megan@contoso.example) is one.",
        ]))

        // An incompatible package held blocks as well.
        var site = adminSite
        let finance = site.packages.firstIndex { $0.id == financePackage }!
        site.packages[finance].incompatible.packages = [internalPackage]
        let second = try Bench(site: site)
        _ = try second.allansAssignment()
        let held = try second.assign(allan, financePackage, answers: ["cost-center": ["1234"], "reports": ["budget"]], by: nestor)
        #expect(held == .blocked([
            "Finance reports cannot be held together with Internal_AccessPackage, which Allan Deyoung (allan@contoso.example) has (separation of duties). Remove Internal_AccessPackage first.",
        ]))
        #expect(try second.store.read { try $0.requests(of: allan) }.count == 1, "no request was created")
    }

    @Test func theFormIsCheckedLikeTheRequestFormAndEveryProblemNamesItsField() throws {
        let bench = try Bench(site: adminSite)
        let outcome = try bench.assign("  ", financePackage, answers: ["reports": ["nope"]], start: "2028-13-40", by: adele)
        guard case .rejected(let rejected) = outcome else {
            Issue.record("\(outcome)")
            return
        }
        #expect(rejected.errors.map(\.field) == ["person", "answer.cost-center", "answer.reports", "start"])
        #expect(rejected.message(for: "person") == "Person: write the email address of the person to assign.")
        #expect(rejected.message(for: "answer.reports") == "Answer “Which reports do you need?”: “nope” is not one of the options; choose from the list shown.")
        #expect(rejected.input["answer.reports"] == ["nope"], "the input is kept")
        #expect(try bench.audit().isEmpty)

        let dates = try bench.assign(allan, start: "2028-03-05", by: adele)
        guard case .rejected(let noDates) = dates else { Issue.record("\(dates)"); return }
        #expect(noDates.errors.map(\.field) == ["start"])
        #expect(noDates.message(for: "start")?.contains("does not let you choose dates") == true)

        let unknown = try bench.assign("someone@contoso.example", by: adele)
        guard case .rejected(let notListed) = unknown else { Issue.record("\(unknown)"); return }
        #expect(notListed.message(for: "person") == "Person: someone@contoso.example is not in the directory (site/people.yaml); add them there first, or check the spelling.")

        let stranger = try bench.assign("don@outlook.example", contractorPackage, answers: ["final": ["argentina"]], by: nestor)
        guard case .rejected(let neverSignedIn) = stranger else { Issue.record("\(stranger)"); return }
        #expect(neverSignedIn.message(for: "person")?.hasPrefix("Person: don@outlook.example has never signed in to this portal.") == true)
    }

    @Test func aCustomScheduleIsKeptAndAFutureStartIsScheduled() throws {
        var site = adminSite
        let index = site.packages.firstIndex { $0.id == internalPackage }!
        site.packages[index].policies[0].lifecycle.customSchedule = true
        let scheduled = try Bench(site: site)
        let outcome = try scheduled.assign(allan, start: "2028-03-10", end: "2028-04-30", by: megan)
        guard case .assigned(_, let a) = outcome else { Issue.record("\(outcome)"); return }
        #expect(a.state == .delivering)
        #expect(a.startsAt == paris.startOfDay(CalendarDay("2028-03-10")!))
        #expect(a.endsAt == paris.endOfDay(CalendarDay("2028-04-30")!))
        #expect(try scheduled.members("lab-portal").isEmpty, "nothing granted before the start")
    }

    @Test func blocksSayWhatStandsInTheWay() throws {
        let bench = try Bench(site: adminSite)
        _ = try bench.allansAssignment()
        #expect(try bench.assign(allan, by: adele) == .blocked([
            "Allan Deyoung (allan@contoso.example) already has Internal_AccessPackage. Remove that assignment first, or let them extend it.",
        ]))
        // An external person through a members-only policy.
        try bench.store.write { _ = try $0.upsertPersonOnSignIn(email: alex, displayName: "Alex Wilber", isExternal: true, at: t0) }
        #expect(try bench.assign(alex, by: adele) == .blocked([
            "The catalog General is open to members of Internal LAB only, and Alex Wilber (alex@azureblog.example) is external.",
        ]))
        // A pending request for the package.
        try bench.submit(financePackage, by: allan, name: "Allan Deyoung", id: "pending")
        let pending = try bench.assign(allan, financePackage, answers: ["cost-center": ["1234"], "reports": ["budget"]], by: nestor)
        guard case .blocked(let blocks) = pending else { Issue.record("\(pending)"); return }
        #expect(blocks.count == 1)
        #expect(blocks[0].hasPrefix("Allan Deyoung (allan@contoso.example) already has a request for Finance reports waiting for approval"))
        // A disabled policy.
        var site = adminSite
        let index = site.packages.firstIndex { $0.id == internalPackage }!
        site.packages[index].policies[0].enabled = false
        let disabled = try Bench(site: site)
        #expect(try disabled.assign(hallam, by: nestor) == .blocked([
            "The policy “Lab members” of Internal_AccessPackage is turned off: it accepts no new assignments. Choose another policy.",
        ]))
        #expect(try bench.assign(allan, "no-such-package", policy: "x", by: nestor) == .notFound("There is no access package “no-such-package”."))
    }

    // MARK: Remove, cancel, reprocess

    @Test func removeEndsTheAssignmentWithTheReasonAndTellsTheHolder() throws {
        let bench = try Bench(site: adminSite)
        let a = try bench.allansAssignment()
        #expect(try bench.remove(a.id, reason: "  ", by: lee, at: day(3))
            == .invalid(field: "reason", message: "Reason: say why an administrator removes this access; the person is told."))
        #expect(try bench.assignments(of: allan).first?.state == .delivered)

        #expect(try bench.remove(a.id, reason: "Left the lab", by: lee, at: day(3)) == .done("Removed Internal_AccessPackage from Allan Deyoung."))
        let ended = try #require(try bench.assignments(of: allan).first)
        #expect(ended.state == .expired)
        #expect(ended.endedAt == day(3))
        #expect(ended.endReason == "removed by an administrator: Left the lab")
        #expect(try bench.members("lab-portal").isEmpty)
        let entries = try bench.store.read { try $0.auditEntries(subjectKind: "assignment", subjectID: a.id) }.map(\.entry)
        #expect(entries.contains(AuditEntry(
            at: day(3), actor: lee, subjectKind: "assignment", subjectID: a.id, action: "ended", before: "delivered",
            after: "expired", reason: "removed by an administrator: Left the lab")))
        let removal = try #require(try bench.store.read { try $0.requests(of: allan) }.first { $0.kind == .remove })
        #expect(removal.actorKind == .admin)
        let told = try bench.mail(to: allan, kind: "accessEnded")
        #expect(told.count == 1)
        #expect(told.first?.body.contains("removed by an administrator: Left the lab") == true)

        #expect(try bench.remove(a.id, by: lee, at: day(4))
            == .conflict("This assignment of Internal_AccessPackage already ended on 4 March 2028, 9:00; there is nothing to remove."))
        #expect(try bench.remove("nope", by: lee, at: day(4)) == .notFound("There is no assignment “nope”."))
    }

    @Test func cancelTellsTheApproversAndTheRequestor() throws {
        let bench = try Bench(site: adminSite)
        try bench.submit(financePackage, by: allan, name: "Allan Deyoung")
        #expect(try bench.adminCancel(reason: "", by: megan, at: day(1))
            == .invalid(field: "reason", message: "Reason: say why an administrator cancels this request; the requestor and the approvers are told."))
        #expect(try bench.adminCancel(reason: "Asked twice", by: megan, at: day(1)) == .done("Canceled Allan Deyoung's request for Finance reports."))

        let request = try bench.request()
        #expect(request.state == .canceled)
        #expect(try bench.approvalState().nextCheckAt == nil)
        #expect(try bench.audit(request: "r1").last == AuditEntry(
            at: day(1), actor: megan, subjectKind: "request", subjectID: "r1", action: "canceled", before: "pendingApproval",
            after: "canceled", reason: "canceled by an administrator: Asked twice"))
        let approverMail = try bench.mail(to: nestor, kind: "approvalCanceled")
        #expect(approverMail.count == 1)
        #expect(approverMail.first?.body.contains("was canceled by Megan Bowen, an administrator") == true)
        #expect(approverMail.first?.body.contains("Reason: Asked twice") == true)
        let requestorMail = try bench.mail(to: allan, kind: "requestCanceled")
        #expect(requestorMail.count == 1)
        #expect(requestorMail.first?.subject == "Your request for Finance reports was canceled")
        #expect(try bench.store.read { try $0.pendingApprovals(for: nestor) }.isEmpty)

        #expect(try bench.adminCancel(by: megan, at: day(2))
            == .conflict("This request for Finance reports is canceled; only a request that waits for a decision can be canceled."))
        #expect(try bench.sweep(at: day(30)).expired == 0)
    }

    @Test func reprocessPlansFailedGrantsAgainAndTheSweepDeliversThem() throws {
        let bench = try Bench(site: adminSite)
        let a = try bench.failedAssignment()
        #expect(try bench.members("lab-portal").isEmpty)
        #expect(try bench.reprocess(a.id, by: adele, at: day(1))
            == .done("Planned 2 grant events again for Internal_AccessPackage of Allan Deyoung; the next sweep sends them."))
        let entries = try bench.store.read { try $0.auditEntries(subjectKind: "assignment", subjectID: a.id) }.map(\.entry)
        #expect(entries.contains { $0.action == "reprocessed" && $0.actor == adele })

        // Without a command connector the built-in directory alone records the grants.
        let connectors = Connectors(
            store: bench.store, site: adminSite, calendar: paris, runner: CommandConnector(siteFolder: Example.root.path))
        _ = try connectors.attemptDue(now: day(1))
        #expect(try bench.grants(a.id).map(\.state) == [.active, .active])
        #expect(try bench.assignments(of: allan).first?.state == .delivered)
        #expect(try bench.members("lab-portal") == [ResourceMember(email: allan, role: "Reader")])

        #expect(try bench.reprocess(a.id, by: adele, at: day(2))
            == .conflict("Nothing to reprocess: every role of this assignment of Internal_AccessPackage is active in the built-in directory and none goes through a connector."))
    }
}

extension Result where Failure == AdminRefusal {
    var refusal: AdminRefusal? {
        if case .failure(let refusal) = self { return refusal }
        return nil
    }
}
