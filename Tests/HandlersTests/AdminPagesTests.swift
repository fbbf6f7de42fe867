import Foundation
import GatehouseModel
import GatehouseStore
import Handlers
import Portal
import Rendering
import Testing

/// The example site with one person per admin role: Nestor is the tenant admin; in both catalogs
/// Megan owns, Adele manages packages, Lee manages assignments and Hallam reads; Allan has no role.
private let rolesSite: Site = {
    var site = Repository.site
    site.tenant.admins = ["nestor@contoso.example"]
    for index in site.catalogs.indices {
        site.catalogs[index].roles = CatalogRoles(
            owners: ["megan@contoso.example"], packageManagers: ["adele@contoso.example"],
            assignmentManagers: ["lee@contoso.example"], readers: ["hallam@contoso.example"])
    }
    return site
}()

private let general = Paths.adminCatalog("general")
private let assignInternal = Paths.adminAssign("internal-access-package")
private let assignFinance = Paths.adminAssign("finance-reports")
private let actRefusal = "You need to be an owner, package manager or assignment manager of the catalog General, or a tenant admin,"

extension Harness {
    /// The live assignments of `email`.
    func liveAssignments(of email: String) throws -> [AssignmentRecord] {
        try store.read { try $0.activeAssignments(of: email) }
    }

    /// Nestor (tenant admin) assigns Internal_AccessPackage to Allan; returns the assignment.
    func assignAllan(cookie: String) throws -> AssignmentRecord {
        let response = post(assignInternal, ["policy": "members", "person": "allan@contoso.example"], cookie: cookie)
        #expect(response.status == .seeOther)
        return try #require(try liveAssignments(of: "allan@contoso.example").first)
    }
}

@Suite struct AdminPagesTests {
    @Test func eachRoleSeesWhatItMayDo() throws {
        let h = try Harness(site: rolesSite)
        let nestor = try h.session("nestor@contoso.example")
        _ = try h.assignAllan(cookie: nestor)

        for (email, mayAct) in [
            ("nestor@contoso.example", true), ("megan@contoso.example", true), ("adele@contoso.example", true),
            ("lee@contoso.example", true), ("hallam@contoso.example", false),
        ] {
            let cookie = email == "nestor@contoso.example" ? nestor : try h.session(email)
            let home = h.get(Paths.admin, cookie: cookie)
            #expect(home.status == .ok, "\(email)")
            #expect(home.bodyText.contains(#"<a href="/admin/catalogs/general/">General</a>"#), "\(email)")
            #expect(home.bodyText.contains(Paths.adminGuests) == (email == "nestor@contoso.example"), "\(email)")

            let page = h.get(general, cookie: cookie)
            #expect(page.status == .ok, "\(email)")
            let text = page.bodyText
            #expect(text.contains("Allan Deyoung<br><span class=\"note\">allan@contoso.example</span>"), "\(email)")
            #expect(text.contains("<td>Delivered</td>"), "\(email)")
            #expect(text.contains(#"class="admin-remove""#) == mayAct, "\(email)")
            #expect(text.contains(#"<a class="button" href="/admin/packages/internal-access-package/assign">"#) == mayAct, "\(email)")
            #expect(text.contains("(you may see requests and assignments, not change them)") == !mayAct, "\(email)")
        }
        let megan = h.get(general, cookie: try h.session("megan@contoso.example")).bodyText
        #expect(megan.contains("Your role: Owner"))

        let allan = try h.session("allan@contoso.example")
        let refusedHome = h.get(Paths.admin, cookie: allan)
        #expect(refusedHome.status == .forbidden)
        #expect(refusedHome.bodyText.contains("You need to be a tenant admin, or an owner, package manager, assignment manager or reader of a catalog, to use the administration pages."))
        let refusedCatalog = h.get(general, cookie: allan)
        #expect(refusedCatalog.status == .forbidden)
        #expect(refusedCatalog.bodyText.contains("You need to be an owner, package manager, assignment manager or reader of the catalog General, or a tenant admin, to see its requests and assignments."))
    }

    @Test func signedOutVisitorsAreSentToSignIn() throws {
        let h = try Harness(site: rolesSite)
        let response = h.get(general)
        #expect(response.status == .seeOther)
        #expect(response.header("Location") == Paths.signIn(returnTo: general))
        #expect(h.get("/admin/catalogs/no-such/", cookie: try h.session("nestor@contoso.example")).status == .notFound)
    }

    @Test func theAssignFormDeliversAndComesBackToTheCatalog() throws {
        let h = try Harness(site: rolesSite)
        let lee = try h.session("lee@contoso.example")
        let form = h.get(assignInternal, cookie: lee)
        #expect(form.status == .ok)
        #expect(form.bodyText.contains(#"<input type="email" id="person" name="person" value="" required>"#))
        #expect(form.bodyText.contains(#"<input type="hidden" name="policy" value="members">"#))
        #expect(form.bodyText.contains("no email is sent for a direct assignment"))

        let posted = h.post(assignInternal, ["policy": "members", "person": "Allan@Contoso.example"], cookie: lee)
        #expect(posted.status == .seeOther)
        #expect(posted.header("Location") == general)
        let assignment = try #require(try h.liveAssignments(of: "allan@contoso.example").first)
        #expect(assignment.state == .delivered)
        let request = try #require(try h.store.read { try $0.request(id: assignment.requestID) })
        #expect(request.actorKind == .admin)
        #expect(try h.mailCount(to: "allan@contoso.example") == 0)
        let audit = try h.store.read { try $0.auditEntries(subjectKind: "request", subjectID: request.id) }.map(\.entry)
        #expect(audit.first?.actor == "lee@contoso.example")
        #expect(audit.first?.action == "submitted")
    }

    @Test func aPolicyWithApprovalSendsTheAssignmentToTheApprovers() throws {
        let h = try Harness(site: rolesSite)
        let adele = try h.session("adele@contoso.example")
        let page = h.get(assignFinance, cookie: adele)
        #expect(page.bodyText.contains("Cost center (four digits)"))
        #expect(page.bodyText.contains(#"<input type="checkbox" id="q-reports-1" name="answer.reports" value="budget">"#))
        #expect(page.bodyText.contains(#"<input type="date" id="start" name="start" value="">"#))
        let posted = h.post(assignFinance, [
            "policy": "finance-team", "person": "allan@contoso.example", "answer.cost-center": "1234",
            "answer.reports": "budget", "answer.reports": "travel", "justification": "Quarter close",
        ], cookie: adele)
        #expect(posted.status == .seeOther)
        let request = try #require(try h.requests(of: "allan@contoso.example").first)
        #expect(request.state == .pendingApproval)
        #expect(request.justification == "Quarter close")
        #expect(try h.store.read { try $0.mail(to: "nestor@contoso.example") }.contains { $0.mail.kind == "approvalRequired" })
        let catalog = h.get(general, cookie: adele).bodyText
        #expect(catalog.contains("<td>New access, by an administrator</td>"))
        #expect(catalog.contains("<td>Pending approval, stage 1 of 2</td>"))
        #expect(catalog.contains(#"action="/admin/requests/\#(request.id)/cancel""#))
    }

    @Test func formErrorsNameTheFieldAndKeepTheInput() throws {
        let h = try Harness(site: rolesSite)
        let megan = try h.session("megan@contoso.example")
        let response = h.post(assignFinance, [
            "policy": "finance-team", "person": "not an email", "answer.cost-center": "12x4", "start": "someday",
        ], cookie: megan)
        #expect(response.status == .unprocessableContent)
        let text = response.bodyText
        #expect(text.contains(#"<p class="field-error" id="person-error">Person: “not an email” is not an email address; write it as name@domain.</p>"#))
        #expect(text.contains(#"value="not an email""#), "the typed person is kept")
        #expect(text.contains(#"<p class="field-error" id="q-cost-center-error">Answer “Cost center (four digits)” must match the expected format"#))
        #expect(text.contains(#"value="12x4""#))
        #expect(text.contains(#"<p class="field-error" id="q-reports-error">"#))
        #expect(text.contains(#"<p class="field-error" id="start-error">Start date: write the date as YYYY-MM-DD"#))
        #expect(try h.requests(of: "allan@contoso.example").isEmpty)

        // Separation of duties: Megan is a LAB administrator.
        let blocked = h.post(assignFinance, [
            "policy": "finance-team", "person": "megan@contoso.example", "answer.cost-center": "1234", "answer.reports": "budget",
        ], cookie: megan)
        #expect(blocked.status == .conflict)
        #expect(blocked.bodyText.contains("Members of LAB administrators cannot hold Finance reports (separation of duties), and Megan Bowen (megan@contoso.example) is one."))
        #expect(try h.requests(of: "megan@contoso.example").isEmpty)
    }

    @Test func refusalsAre403WithTheMissingRole() throws {
        let h = try Harness(site: rolesSite)
        let nestor = try h.session("nestor@contoso.example")
        let assignment = try h.assignAllan(cookie: nestor)
        let hallam = try h.session("hallam@contoso.example")

        let page = h.get(assignInternal, cookie: hallam)
        #expect(page.status == .forbidden)
        #expect(page.bodyText.contains("\(actRefusal) to assign access packages in it. As a reader of it you may only see its requests and assignments."))
        let assign = h.post(assignInternal, ["policy": "members", "person": "lee@contoso.example"], cookie: hallam)
        #expect(assign.status == .forbidden)
        #expect(try h.liveAssignments(of: "lee@contoso.example").isEmpty)
        let remove = h.post(Paths.adminRemove(assignment.id), ["reason": "test"], cookie: hallam)
        #expect(remove.status == .forbidden)
        #expect(remove.bodyText.contains("\(actRefusal) to remove assignments in it."))
        let reprocess = h.post(Paths.adminReprocess(assignment.id), [:], cookie: try h.session("allan@contoso.example"))
        #expect(reprocess.status == .forbidden)
        #expect(reprocess.bodyText.contains("\(actRefusal) to reprocess assignments in it."))
        #expect(try h.liveAssignments(of: "allan@contoso.example").first?.state == .delivered)

        let guests = h.get(Paths.adminGuests, cookie: try h.session("megan@contoso.example"))
        #expect(guests.status == .forbidden)
        #expect(guests.bodyText.contains("You need to be a tenant admin to see the governed guests."))
    }

    @Test func removeAndCancelNeedAReasonAndThenAct() throws {
        let h = try Harness(site: rolesSite)
        let nestor = try h.session("nestor@contoso.example")
        let assignment = try h.assignAllan(cookie: nestor)
        let lee = try h.session("lee@contoso.example")

        let empty = h.post(Paths.adminRemove(assignment.id), ["reason": "  "], cookie: lee)
        #expect(empty.status == .unprocessableContent)
        #expect(empty.bodyText.contains(#"<p class="field-error" role="alert">Reason: say why an administrator removes this access; the person is told.</p>"#))
        #expect(empty.bodyText.contains(#"id="remove-\#(assignment.id)" name="reason" value="  " maxlength="1000" required aria-invalid="true""#))
        #expect(try h.liveAssignments(of: "allan@contoso.example").count == 1)

        let removed = h.post(Paths.adminRemove(assignment.id), ["reason": "Left the lab"], cookie: lee)
        #expect(removed.status == .seeOther)
        #expect(removed.header("Location") == general)
        #expect(try h.liveAssignments(of: "allan@contoso.example").isEmpty)
        let again = h.post(Paths.adminRemove(assignment.id), ["reason": "Twice"], cookie: lee)
        #expect(again.status == .conflict)
        #expect(again.bodyText.contains("already ended"))

        // A pending request, canceled by the owner.
        let posted = h.post(assignFinance, [
            "policy": "finance-team", "person": "allan@contoso.example", "answer.cost-center": "1234", "answer.reports": "budget",
        ], cookie: lee)
        #expect(posted.status == .seeOther)
        let request = try #require(try h.requests(of: "allan@contoso.example").first { $0.packageID == "finance-reports" })
        let megan = try h.session("megan@contoso.example")
        let canceled = h.post(Paths.adminCancel(request.id), ["reason": "Wrong person"], cookie: megan)
        #expect(canceled.status == .seeOther)
        #expect(try h.store.read { try $0.request(id: request.id) }?.state == .canceled)
        #expect(try h.store.read { try $0.mail(to: "nestor@contoso.example") }.contains { $0.mail.kind == "approvalCanceled" })
        #expect(!h.get(general, cookie: megan).bodyText.contains(Paths.adminCancel(request.id)), "no longer pending")
    }

    @Test func reprocessIsOfferedForAssignmentsNotFullyDelivered() throws {
        let h = try Harness(site: rolesSite)
        let nestor = try h.session("nestor@contoso.example")
        let assignment = try h.assignAllan(cookie: nestor)
        #expect(!h.get(general, cookie: nestor).bodyText.contains(Paths.adminReprocess(assignment.id)))
        try h.store.write { db in
            for g in try db.grants(assignmentID: assignment.id) {
                try db.setGrantState(assignmentID: assignment.id, resourceID: g.grant.resourceID, role: g.grant.role, .failed, at: h.clock.now)
            }
            try db.setAssignmentState(id: assignment.id, .deliveryFailed)
        }
        let page = h.get(general, cookie: nestor).bodyText
        #expect(page.contains("<td>Delivery failed</td>"))
        #expect(page.contains(#"<form method="post" action="/admin/assignments/\#(assignment.id)/reprocess" class="admin-reprocess">"#))
        let response = h.post(Paths.adminReprocess(assignment.id), [:], cookie: nestor)
        #expect(response.status == .seeOther)
        #expect(try h.store.read { try $0.grants(assignmentID: assignment.id) }.map(\.grant.state) == [.pending, .pending])
        let audit = try h.store.read { try $0.auditEntries(subjectKind: "assignment", subjectID: assignment.id) }.map(\.entry)
        #expect(audit.contains { $0.action == "reprocessed" && $0.actor == "nestor@contoso.example" })
    }

    @Test func crossOriginPostsAreRefusedBeforeAnything() throws {
        let h = try Harness(site: rolesSite)
        let nestor = try h.session("nestor@contoso.example")
        let forged = h.post(
            assignInternal, ["policy": "members", "person": "allan@contoso.example"], cookie: nestor,
            origin: "https://evil.example")
        #expect(forged.status == .forbidden)
        #expect(try h.liveAssignments(of: "allan@contoso.example").isEmpty)
        let assignment = try h.assignAllan(cookie: nestor)
        let forgedRemove = h.post(Paths.adminRemove(assignment.id), ["reason": "x"], cookie: nestor, origin: "https://evil.example")
        #expect(forgedRemove.status == .forbidden)
        #expect(try h.liveAssignments(of: "allan@contoso.example").count == 1)
    }

    @Test func hostileNamesAreEscaped() throws {
        var site = rolesSite
        let catalog = site.catalogs.firstIndex { $0.id == "general" }!
        site.catalogs[catalog].name = "<script>alert(1)</script> & Co"
        let package = site.packages.firstIndex { $0.id == "internal-access-package" }!
        site.packages[package].name = #"<img src=x onerror="alert(2)">"#
        let allan = site.directory.people.firstIndex { $0.email == "allan@contoso.example" }!
        site.directory.people[allan].name = "<b>Allan</b>"
        let h = try Harness(site: site)
        let nestor = try h.session("nestor@contoso.example")
        _ = try h.assignAllan(cookie: nestor)

        for path in [Paths.admin, general, assignInternal] {
            let text = h.get(path, cookie: nestor).bodyText
            #expect(!text.contains("<script>alert(1)"), "\(path)")
            #expect(!text.contains("<img src=x"), "\(path)")
            #expect(!text.contains("<b>Allan</b>"), "\(path)")
        }
        let page = h.get(general, cookie: nestor).bodyText
        #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"))
        #expect(page.contains("&lt;b&gt;Allan&lt;/b&gt;"))
        let hallam = try h.session("hallam@contoso.example")
        let refused = h.post(assignInternal, ["policy": "members", "person": "lee@contoso.example"], cookie: hallam)
        #expect(refused.status == .forbidden)
        #expect(refused.bodyText.contains("of the catalog &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co, or a tenant admin"))
    }

    @Test func guestsAndReportsForTenantAdmins() throws {
        let h = try Harness(site: rolesSite)
        // Ana from Azureblog asks for the partner package; Adele approves: Ana becomes a governed guest.
        let ana = try h.session("ana@azureblog.example")
        let requested = h.post(Paths.submitRequest, [
            "package": "external-access-package", "policy": "azureblog", "language": "en", "justification": "Docs",
        ], cookie: ana)
        let id = try h.requestID(requested)
        let adele = try h.session("adele@contoso.example")
        #expect(h.post(Paths.decide(id), ["decision": "approve", "stage": "1", "justification": "ok"], cookie: adele).status == .seeOther)

        let nestor = try h.session("nestor@contoso.example")
        let guests = h.get(Paths.adminGuests, cookie: nestor)
        #expect(guests.status == .ok)
        let text = guests.bodyText
        #expect(text.contains("ana@azureblog.example"))
        #expect(text.contains("<td>External_AccessPackage</td>"))
        #expect(text.contains("Keeps access while holding a package; after the last one ends: sign-in blocked, removed 30 days later."))
        #expect(text.contains("When a governed guest loses their last access package, their sign-in is blocked and they are removed 30 days later."))

        let csv = h.get(Paths.adminCatalogAssignmentsCSV("external"), cookie: adele)
        #expect(csv.status == .ok)
        #expect(csv.header("Content-Type") == "text/csv; charset=utf-8")
        #expect(csv.bodyText.hasPrefix("email,package,policy,state"))
        #expect(csv.bodyText.contains("ana@azureblog.example,external-access-package,azureblog,delivered"))
        #expect(h.get(Paths.adminCatalogAssignmentsCSV("external"), cookie: try h.session("allan@contoso.example")).status == .forbidden)
        #expect(h.get(Paths.adminAuditCSV, cookie: adele).status == .forbidden)
        let audit = h.get(Paths.adminAuditJSONLines, cookie: nestor)
        #expect(audit.status == .ok)
        #expect(audit.bodyText.contains(#""subject_id":"\#(id)""#) || audit.bodyText.contains(id))
    }
}
