import Foundation
import GatehouseModel
import GatehouseStore
import Rendering
import Testing
import Workflow

/// The admin pages and the holder's lifecycle pages walked end to end (PRODUCT.md sections 5, 6, 7,
/// 11): real nginx (`/admin/` behind `auth_request`), the handler in process with a `TestClock`,
/// one browser per person, mail read from the outbox's .eml files and `gatehouse sweep` in process.
/// In the example tenant Megan is the tenant admin and owns both catalogs, Adele manages their
/// packages and Lee their assignments; Allan has no role. Every walk starts on 23 November 2026 at
/// 10:00 in Paris.
@Suite(.enabled(if: Tool.nginx != nil && Tool.curl != nil, "nginx or curl is not installed (make test installs both)"))
struct AdminFlowTests {
    private typealias Flow = ApprovalFlowTests
    private typealias Email = ApprovalFlowTests.Email

    static let general = Paths.adminCatalog("general")
    static let assignInternal = Paths.adminAssign("internal-access-package")
    static let internalPackage = #"<a href="/access-packages/internal-access-package/">Internal_AccessPackage</a>"#
    static let financePackage = #"<a href="/access-packages/finance-reports/">Finance reports</a>"#
    /// What a role that may not act in General is told, up to the purpose.
    static let actRefusal = "You need to be an owner, package manager or assignment manager of the catalog General, or a tenant admin,"
    static let readerOnly = " As a reader of it you may only see its requests and assignments."

    // MARK: Helpers

    /// The part of `body` from `start` up to `end` (or to the end of the page); empty when `start` is absent.
    static func section(_ body: String, from start: String, to end: String? = nil) -> String {
        guard let from = body.range(of: start) else { return "" }
        let rest = body[from.upperBound...]
        guard let end, let to = rest.range(of: end) else { return String(rest) }
        return String(rest[..<to.lowerBound])
    }

    /// My access split into its Active and Ended tables.
    static func myAccess(_ browser: Browser) throws -> (active: String, ended: String) {
        let page = try browser.get(Paths.myAccess)
        #expect(page.status == 200)
        return (section(page.body, from: "<h2>Active</h2>", to: "<h2>Ended</h2>"), section(page.body, from: "<h2>Ended</h2>"))
    }

    /// One package's section of an admin catalog page.
    static func packageSection(_ page: String, _ packageID: String) -> String {
        section(page, from: #"<section class="admin-package" id="package-\#(packageID)">"#, to: "</section>")
    }

    /// The message page's paragraph as views.message writes it.
    static func message(_ text: String) -> String { "<p>" + html(text) + "</p>" }

    /// An instant as the CSV reports write it (UTC, milliseconds), formatted here independently.
    static func iso(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    /// Moves `clock` on to `date`.
    static func move(_ clock: TestClock, to date: Date) {
        clock.advance(by: date.timeIntervalSince(clock.now))
    }

    /// The hidden fields and the action of the first form of `body` whose opening tag contains `marker`.
    static func form(in body: String, marker: String) throws -> (action: String, hidden: [(String, String)]) {
        let tag = try #require(
            body.matches(of: /<form method="post" action="([^"]+)"[^>]*>/).first { $0.0.contains(marker) }, "no form with \(marker)")
        let rest = body[tag.range.upperBound...]
        let inner = rest[..<(rest.range(of: "</form>")?.lowerBound ?? rest.endIndex)]
        let hidden = inner.matches(of: /<input type="hidden" name="([^"]+)" value="([^"]*)">/).map { (String($0.1), String($0.2)) }
        return (String(tag.1), hidden)
    }

    // MARK: 1. Who gets in

    @Test func signedOutVisitorsSignInAndComeBackAndPeopleWithoutARoleAreRefused() throws {
        let portal = try ServedPortal(clock: TestClock(Flow.start))
        defer { portal.stop() }

        // nginx's auth_request turns the missing session into a 303 to the sign-in page and back.
        let megan = portal.browser()
        for path in [Paths.admin, Self.general, Paths.adminGuests] {
            let signedOut = try megan.get(path)
            #expect(signedOut.status == 303, "\(path)")
            #expect(signedOut.header("Location") == "/sign-in/?return=\(path)", "\(path)")
        }
        let forgedPost = try megan.post(Self.assignInternal, form: "policy=members&person=allan%40contoso.example")
        #expect(forgedPost.status == 303)
        #expect(forgedPost.header("Location") == "/sign-in/?return=\(Self.assignInternal)")
        #expect(try portal.store.read { try $0.assignments(of: Email.allan) }.isEmpty)
        // A page with a query comes back whole.
        let assignFinance = Paths.adminAssign("finance-reports") + "?policy=finance-team"
        let withQuery = try megan.get(assignFinance)
        #expect(withQuery.status == 303)
        let withQueryLocation = try #require(withQuery.header("Location"))
        #expect(withQueryLocation == "/sign-in/?return=/admin/packages/finance-reports/assign%3Fpolicy%3Dfinance-team")
        #expect(try megan.get(withQueryLocation).body.contains(#"<input type="hidden" name="return" value="\#(html(assignFinance))">"#))

        let signInPage = try megan.get("/sign-in/?return=\(Paths.admin)")
        #expect(signInPage.status == 200)
        #expect(signInPage.body.contains(#"<input type="hidden" name="return" value="/admin/">"#))
        #expect(try portal.signIn(Email.megan, in: megan, returningTo: Paths.admin) == Paths.admin)

        let home = try megan.get(Paths.admin)
        #expect(home.status == 200)
        #expect(home.body.contains("<p class=\"signed-in\">Signed in as Megan Bowen &lt;megan@contoso.example&gt;</p>"))
        #expect(home.body.contains(
            #"<tr><td><a href="/admin/catalogs/general/">General</a></td><td>Tenant admin, owner</td><td>2</td><td>Enabled, members only</td></tr>"#))
        #expect(home.body.contains(
            #"<tr><td><a href="/admin/catalogs/external/">External</a></td><td>Tenant admin, owner</td><td>2</td><td>Enabled, open to external users</td></tr>"#))
        #expect(home.body.contains(#"<a href="/admin/guests/">Governed guests</a>"#))

        // Lee manages assignments: his catalogs, no tenant links.
        let leeHome = try portal.signedIn(Email.lee).get(Paths.admin).body
        #expect(leeHome.contains(#"<td><a href="/admin/catalogs/general/">General</a></td><td>Assignment manager</td>"#))
        #expect(!leeHome.contains(Paths.adminGuests))
        #expect(!leeHome.contains(Paths.adminAuditCSV))

        // Allan holds no role: 403 everywhere, each page naming what would let him in.
        let allan = try portal.signedIn(Email.allan)
        let refused = try allan.get(Paths.admin)
        #expect(refused.status == 403)
        #expect(refused.body.contains("<h1>Not an administrator</h1>"))
        #expect(refused.body.contains(Self.message(
            "You need to be a tenant admin, or an owner, package manager, assignment manager or reader of a catalog, to use the administration pages. You have none of these roles.")))
        let catalog = try allan.get(Self.general)
        #expect(catalog.status == 403)
        #expect(catalog.body.contains(html(
            "You need to be an owner, package manager, assignment manager or reader of the catalog General, or a tenant admin, to see its requests and assignments.")))
        let assign = try allan.post(Self.assignInternal, form: "policy=members&person=allan%40contoso.example")
        #expect(assign.status == 403)
        #expect(assign.body.contains(html("\(Self.actRefusal) to assign access packages in it.")))
        let guests = try allan.get(Paths.adminGuests)
        #expect(guests.status == 403)
        #expect(guests.body.contains(html("You need to be a tenant admin to see the governed guests.")))
        #expect(try allan.get(Paths.adminCatalogAssignmentsCSV("general")).status == 403)
        #expect(try allan.get(Paths.adminAuditCSV).status == 403)
        #expect(try portal.store.read { try $0.assignments(of: Email.allan) }.isEmpty)
    }

    // MARK: 2. Assign, download, remove

    @Test func anAssignmentManagerAssignsThroughTheFormAndRemovesWithAReason() throws {
        let clock = TestClock(Flow.start)
        let portal = try ServedPortal(clock: clock)
        defer { portal.stop() }
        let lee = try portal.signedIn(Email.lee)

        let before = try lee.get(Self.general)
        #expect(before.status == 200)
        #expect(before.body.contains("<p>Your role: Assignment manager</p>"))
        let internalBefore = Self.packageSection(before.body, "internal-access-package")
        #expect(internalBefore.contains("<p>Nobody holds this package.</p>"))
        #expect(internalBefore.contains(#"<a class="button" href="/admin/packages/internal-access-package/assign">Assign Internal_AccessPackage</a>"#))

        // The Assign form as Lee's browser gets it, then sent as the browser sends it.
        let page = try lee.get(Self.assignInternal)
        #expect(page.status == 200)
        #expect(page.body.contains("<h1>Assign Internal_AccessPackage</h1>"))
        #expect(page.body.contains("no email is sent for a direct assignment"))
        #expect(page.body.contains(#"<input type="email" id="person" name="person" value="" required>"#))
        let form = try Self.form(in: page.body, marker: "admin-assign")
        #expect(form.action == Self.assignInternal)
        #expect(form.hidden.map(\.0) == ["policy"] && form.hidden.map(\.1) == ["members"])
        let fields = form.hidden.map { formPair($0.0, $0.1) }
            + [formPair("person", "Allan@Contoso.example"), formPair("justification", "Joins the lab on Monday")]

        // From another origin nothing happens.
        let crossOrigin = try lee.post(form.action, form: fields.joined(separator: "&"), headers: ["Origin": "http://evil.example"])
        #expect(crossOrigin.status == 403)
        #expect(crossOrigin.body.contains(html(
            "This form was not sent from \(portal.base), so nothing was changed. Open the page on \(portal.base) and send it again.")))
        #expect(try portal.store.read { try $0.assignments(of: Email.allan) }.isEmpty)

        let assigned = try lee.post(form.action, form: fields.joined(separator: "&"))
        #expect(assigned.status == 303)
        #expect(assigned.header("Location") == Self.general)
        let assignment = try #require(try portal.store.read { try $0.activeAssignments(of: Email.allan) }.first)
        #expect(assignment.state == .delivered)
        #expect(assignment.packageID == "internal-access-package")
        #expect(assignment.startsAt == Flow.start)
        let end = Flow.days(365, after: Flow.start)
        #expect(assignment.endsAt == end)
        #expect(Flow.words(end) == "23 November 2027, 10:00")
        let request = try #require(try portal.store.read { try $0.request(id: assignment.requestID) })
        #expect(request.kind == .add && request.actorKind == .admin)
        #expect(request.justification == "Joins the lab on Monday")
        #expect(try portal.store.read { try $0.auditEntries(subjectKind: "request", subjectID: request.id) }.first?.entry.actor == Email.lee)
        #expect(try portal.store.read { try $0.mail(to: Email.allan) }.isEmpty, "no email for a direct assignment")

        // The catalog lists it, with the form to remove it.
        let after = try lee.get(Self.general).body
        let internalAfter = Self.packageSection(after, "internal-access-package")
        #expect(internalAfter.contains(
            #"<tr><td>Allan Deyoung<br><span class="note">allan@contoso.example</span></td><td>Lab members</td><td>Delivered</td>"#
                + "<td>23 November 2026</td><td>23 November 2027, 10:00</td><td>"))
        let removeForm = try Self.form(in: internalAfter, marker: "admin-remove")
        #expect(removeForm.action == Paths.adminRemove(assignment.id))
        #expect(internalAfter.contains(#"<input type="text" id="remove-\#(assignment.id)" name="reason" value="" maxlength="1000" required>"#))
        #expect(!internalAfter.contains("class=\"admin-reprocess\""), "delivered: nothing to reprocess")

        // Allan sees it in My access.
        let allan = try portal.signedIn(Email.allan)
        var mine = try Self.myAccess(allan)
        #expect(mine.active.contains(Self.internalPackage))
        #expect(mine.active.contains("<td>23 November 2026, 10:00</td><td>23 November 2027, 10:00</td>"))
        #expect(mine.ended.isEmpty)

        // The catalog's assignments as CSV.
        let csv = try lee.get(Paths.adminCatalogAssignmentsCSV("general"))
        #expect(csv.status == 200)
        #expect(csv.header("Content-Type") == "text/csv; charset=utf-8")
        #expect(csv.headers.contains { $0.name == "Cache-Control" && $0.value == "no-store" }, "a private report is not kept")
        #expect(csv.header("Content-Disposition") == #"attachment; filename="assignments-general.csv""#)
        #expect(csv.body == "email,package,policy,state,starts_at,ends_at,ended_at,end_reason,request_id,assignment_id\r\n"
            + "allan@contoso.example,internal-access-package,members,delivered,\(Self.iso(Flow.start)),\(Self.iso(end)),,,"
            + "\(request.id),\(assignment.id)\r\n")
        #expect(Self.iso(Flow.start) == "2026-11-23T09:00:00.000Z")

        // Removing needs a reason, also from Lee's own origin; a cross-origin post changes nothing.
        clock.advance(by: Flow.hour)
        let removedAt = clock.now
        let blank = try lee.post(removeForm.action, form: formPair("reason", "  "))
        #expect(blank.status == 422)
        #expect(blank.body.contains(#"<p class="field-error" role="alert">Reason: say why an administrator removes this access; the person is told.</p>"#))
        let forged = try lee.post(removeForm.action, form: formPair("reason", "forged"), headers: ["Origin": "http://evil.example"])
        #expect(forged.status == 403)
        #expect(try portal.store.read { try $0.activeAssignments(of: Email.allan) }.count == 1)

        let removed = try lee.post(removeForm.action, form: formPair("reason", "Moved to the finance team"))
        #expect(removed.status == 303)
        #expect(removed.header("Location") == Self.general)
        #expect(Self.packageSection(try lee.get(Self.general).body, "internal-access-package").contains("<p>Nobody holds this package.</p>"))
        let ended = try #require(try portal.store.read { try $0.assignment(id: assignment.id) })
        #expect(ended.state == .expired)
        #expect(ended.endedAt == removedAt)
        #expect(ended.endReason == "removed by an administrator: Moved to the finance team")
        #expect(try portal.store.read { try $0.roles(of: Email.allan) }.isEmpty)

        // A remove request of type admin records who and why.
        let removals = try portal.store.read { try $0.requests(of: Email.allan) }.filter { $0.kind == .remove }
        #expect(removals.count == 1)
        #expect(removals.first?.actorKind == .admin)
        #expect(removals.first?.packageID == "internal-access-package")
        #expect(removals.first?.justification == "removed by an administrator: Moved to the finance team")
        let audit = try portal.store.read { try $0.auditEntries(subjectKind: "assignment", subjectID: assignment.id) }.map(\.entry)
        #expect(audit.contains { $0.action == "ended" && $0.actor == Email.lee && $0.reason == ended.endReason })

        // Allan is told and sees it under Ended.
        let told = try portal.nextMail(to: Email.allan, subject: "Your access to Internal_AccessPackage has ended")
        #expect(told.text.hasPrefix(
            "Your access to Internal_AccessPackage ended on 23 November 2026, 11:00: removed by an administrator: Moved to the finance team.\n"),
            "\(told)")
        #expect(told.text.contains("\(portal.base)/access-packages/internal-access-package/"))
        mine = try Self.myAccess(allan)
        #expect(!mine.active.contains(Self.internalPackage))
        #expect(mine.ended.contains(Self.internalPackage))
        #expect(mine.ended.contains("<td>23 November 2026, 10:00</td><td>23 November 2026, 11:00</td>"))

        // Twice is a conflict; the CSV keeps the ended row with its reason.
        let again = try lee.post(removeForm.action, form: formPair("reason", "Again"))
        #expect(again.status == 409)
        #expect(again.body.contains(html("This assignment of Internal_AccessPackage already ended on 23 November 2026, 11:00; there is nothing to remove.")))
        let endedCSV = try lee.get(Paths.adminCatalogAssignmentsCSV("general")).body
        #expect(endedCSV.hasSuffix(
            "allan@contoso.example,internal-access-package,members,expired,\(Self.iso(Flow.start)),\(Self.iso(end)),"
                + "\(Self.iso(removedAt)),removed by an administrator: Moved to the finance team,\(request.id),\(assignment.id)\r\n"))
    }

    // MARK: 3. Readers

    /// In a copy of the site where Nestor reads the General catalog.
    @Test func aReaderSeesTheListsWithoutFormsAndForgedPostsAreRefused() throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let site = try copyExampleSite(into: folder, edits: [
            "catalogs/general.yaml": { $0.replacingOccurrences(of: "  readers: []", with: "  readers: [nestor@contoso.example]") },
        ])
        try #require(try String(contentsOf: site.appendingPathComponent("catalogs/general.yaml"), encoding: .utf8)
            .contains("readers: [nestor@contoso.example]"))
        let portal = try ServedPortal(site: site, clock: TestClock(Flow.start))
        defer { portal.stop() }

        // Something to see: Allan's own delivered access and his pending finance request.
        let allan = try portal.signedIn(Email.allan)
        #expect(try allan.post("/requests", form: HandlerWalkTests.internalForm).status == 303)
        let pendingID = try Flow.requestID(try allan.post("/requests", form: Flow.financeForm))
        let assignment = try #require(try portal.store.read { try $0.activeAssignments(of: Email.allan) }.first)

        let nestor = try portal.signedIn(Email.nestor)
        let home = try nestor.get(Paths.admin)
        #expect(home.status == 200)
        #expect(home.body.contains(#"<tr><td><a href="/admin/catalogs/general/">General</a></td><td>Reader</td>"#))
        #expect(!home.body.contains("/admin/catalogs/external/"))
        let page = try nestor.get(Self.general)
        #expect(page.status == 200)
        let body = page.body
        #expect(body.contains("<p>Your role: Reader (you may see requests and assignments, not change them)</p>"))
        #expect(body.contains(
            #"<tr><td>Allan Deyoung<br><span class="note">allan@contoso.example</span></td><td>Lab members</td><td>Delivered</td>"#))
        #expect(body.contains(
            #"<tr><td>Allan Deyoung<br><span class="note">allan@contoso.example</span></td><td>New access</td><td>Finance team</td>"#
                + "<td>Pending approval, stage 1 of 2</td><td>23 November 2026, 10:00</td><td>"))
        for form in ["<form", "admin-remove", "admin-cancel", "admin-reprocess", "/assign\"", "Reason</label>"] {
            #expect(!Self.section(body, from: "<main", to: "</main>").contains(form), "\(form)")
        }
        #expect(body.contains(Paths.adminCatalogAssignmentsCSV("general")))
        #expect(try nestor.get(Paths.adminCatalogAssignmentsCSV("general")).body.contains("allan@contoso.example,internal-access-package"))

        // Posts made by hand are refused on the server, naming the roles that would allow them.
        let remove = try nestor.post(Paths.adminRemove(assignment.id), form: formPair("reason", "Reader tries"))
        #expect(remove.status == 403)
        #expect(remove.body.contains(html("\(Self.actRefusal) to remove assignments in it.\(Self.readerOnly)")))
        let cancel = try nestor.post(Paths.adminCancel(pendingID), form: formPair("reason", "Reader tries"))
        #expect(cancel.status == 403)
        #expect(cancel.body.contains(html("\(Self.actRefusal) to cancel requests in it.\(Self.readerOnly)")))
        let reprocess = try nestor.post(Paths.adminReprocess(assignment.id), form: "")
        #expect(reprocess.status == 403)
        #expect(reprocess.body.contains(html("\(Self.actRefusal) to reprocess assignments in it.\(Self.readerOnly)")))
        let assignPage = try nestor.get(Self.assignInternal)
        #expect(assignPage.status == 403)
        #expect(assignPage.body.contains(html("\(Self.actRefusal) to assign access packages in it.\(Self.readerOnly)")))
        let assign = try nestor.post(Self.assignInternal, form: "policy=members&person=lee%40contoso.example")
        #expect(assign.status == 403)
        #expect(assign.body.contains(html("\(Self.actRefusal) to assign access packages in it.\(Self.readerOnly)")))
        #expect(try nestor.get(Paths.adminGuests).status == 403)
        #expect(try nestor.get(Paths.adminAuditCSV).status == 403)

        // Nothing changed.
        #expect(try portal.store.read { try $0.assignment(id: assignment.id) }?.state == .delivered)
        #expect(try portal.store.read { try $0.request(id: pendingID) }?.state == .pendingApproval)
        #expect(try portal.store.read { try $0.assignments(of: Email.lee) }.isEmpty)
        #expect(try portal.store.read { try $0.requests(of: Email.allan) }.filter { $0.kind == .remove }.isEmpty)
    }

    // MARK: 4. Cancel

    @Test func anAdminCancelsAPendingRequestAndTheApproversAreTold() throws {
        let clock = TestClock(Flow.start)
        let portal = try ServedPortal(clock: clock)
        defer { portal.stop() }
        let allan = try portal.signedIn(Email.allan)
        let id = try Flow.requestID(try allan.post("/requests", form: Flow.financeForm))
        _ = try portal.nextMail(to: Email.nestor, subject: "Action required: Allan Deyoung requests Finance reports")

        let megan = try portal.signedIn(Email.megan)
        let finance = Self.packageSection(try megan.get(Self.general).body, "finance-reports")
        #expect(finance.contains(
            #"<tr><td>Allan Deyoung<br><span class="note">allan@contoso.example</span></td><td>New access</td><td>Finance team</td>"#
                + "<td>Pending approval, stage 1 of 2</td><td>23 November 2026, 10:00</td><td>"))
        let cancelForm = try Self.form(in: finance, marker: "admin-cancel")
        #expect(cancelForm.action == Paths.adminCancel(id))

        let blank = try megan.post(cancelForm.action, form: formPair("reason", ""))
        #expect(blank.status == 422)
        #expect(blank.body.contains(
            #"<p class="field-error" role="alert">Reason: say why an administrator cancels this request; the requestor and the approvers are told.</p>"#))
        #expect(try portal.store.read { try $0.request(id: id) }?.state == .pendingApproval)

        clock.advance(by: Flow.hour)
        let canceled = try megan.post(cancelForm.action, form: formPair("reason", "Budget frozen until January"))
        #expect(canceled.status == 303)
        #expect(canceled.header("Location") == Self.general)
        #expect(try portal.store.read { try $0.request(id: id) }?.state == .canceled)
        let audit = try portal.store.read { try $0.auditEntries(subjectKind: "request", subjectID: id) }.map(\.entry)
        #expect(audit.last?.action == "canceled")
        #expect(audit.last?.actor == Email.megan)
        #expect(audit.last?.reason == "canceled by an administrator: Budget frozen until January")

        // The stage's approver and the requestor are told, with the reason.
        let toNestor = try portal.nextMail(to: Email.nestor, subject: "Allan Deyoung's request for Finance reports was canceled")
        #expect(toNestor.text.hasPrefix(
            "Allan Deyoung's request for Finance reports was canceled by Megan Bowen, an administrator (23 November 2026, 11:00). No action is needed from you.\n"),
            "\(toNestor)")
        #expect(toNestor.text.contains("\nReason: Budget frozen until January\n"))
        #expect(toNestor.text.contains("See the request at \(portal.base)\(Paths.approval(id))\n"))
        let toAllan = try portal.nextMail(to: Email.allan, subject: "Your request for Finance reports was canceled")
        #expect(toAllan.text.hasPrefix(
            "Megan Bowen, an administrator, canceled your request for Finance reports on 23 November 2026, 11:00. Nothing was granted.\n"),
            "\(toAllan)")
        #expect(toAllan.text.contains("\nReason: Budget frozen until January\n"))

        // It left every list that waits for a decision.
        #expect(Self.packageSection(try megan.get(Self.general).body, "finance-reports").contains("<p>No request waits for a decision.</p>"))
        #expect(try portal.signedIn(Email.nestor).get(Paths.approvals).body.contains(Flow.nothingPending))
        #expect(try allan.get(Paths.myRequest(id)).body.contains("<dt>State</dt><dd>Canceled</dd>"))
        let twice = try megan.post(cancelForm.action, form: formPair("reason", "Again"))
        #expect(twice.status == 409)
        #expect(twice.body.contains(html("This request for Finance reports is canceled; only a request that waits for a decision can be canceled.")))
        #expect(try portal.store.read { try $0.assignments(of: Email.allan) }.isEmpty)
    }

    // MARK: 5. Guests

    @Test func theGuestsPageShowsThePlannedRemovalAfterTheLastAccessEnded() throws {
        let clock = TestClock(Flow.start)
        let portal = try ServedPortal(clock: clock)
        defer { portal.stop() }
        let alex = try portal.signedIn(Email.alex)
        let id = try Flow.requestID(try alex.post("/requests", form: Flow.partnerForm))
        let adele = try portal.signedIn(Email.adele)
        #expect(try adele.post(Paths.decide(id), form: Flow.decision("approve", stage: 1, reason: "Writes the guide")).status == 303)
        let end = Flow.days(180, after: Flow.start)
        #expect(try portal.store.read { try $0.activeAssignments(of: Email.alex) }.map(\.endsAt) == [end])

        let megan = try portal.signedIn(Email.megan)
        let holding = try megan.get(Paths.adminGuests)
        #expect(holding.status == 200)
        #expect(holding.body.contains(html(
            "When a governed guest loses their last access package, their sign-in is blocked and they are removed 30 days later.")))
        #expect(holding.body.contains(
            #"<tr><td>Alex Guest<br><span class="note">alex@azureblog.example</span></td><td>23 November 2026</td>"#
                + "<td>External_AccessPackage</td><td>Allowed</td>"
                + "<td>Keeps access while holding a package; after the last one ends: sign-in blocked, removed 30 days later.</td></tr>"))

        // The sweep ends the access at its end, not a second before; the guest settings apply then.
        Self.move(clock, to: end.addingTimeInterval(-1))
        #expect(try portal.sweep().ended == 0)
        clock.advance(by: 1)
        let report = try portal.sweep()
        #expect(report.ended == 1, "\(report)")
        let removal = Flow.days(30, after: end)
        #expect(Flow.words(end) == "22 May 2027, 10:00")
        #expect(Flow.words(removal) == "21 June 2027, 10:00")
        let guest = try #require(try portal.store.read { try $0.guest(email: Email.alex) })
        #expect(guest.removeAt == removal)
        #expect(guest.person.isBlocked)

        let meganLater = try portal.signedIn(Email.megan)
        let planned = try meganLater.get(Paths.adminGuests).body
        #expect(planned.contains(
            #"<tr><td>Alex Guest<br><span class="note">alex@azureblog.example</span></td><td>23 November 2026</td>"#
                + "<td>Nothing</td><td>Blocked: \(html(Guests.blockReason))</td>"
                + "<td>Lost their last access on 22 May 2027, 10:00; will be removed on 21 June 2027, 10:00.</td></tr>"), "\(planned)")
        // Not a page for Adele, who manages packages only.
        #expect(try portal.signedIn(Email.adele).get(Paths.adminGuests).status == 403)

        // The sweep removes the guest on that day; the page says so.
        Self.move(clock, to: removal)
        #expect(try portal.sweep().guestsRemoved == 1)
        let removed = try portal.signedIn(Email.megan).get(Paths.adminGuests).body
        #expect(removed.contains("<td>Removed on 21 June 2027, 10:00.</td></tr>"), "\(removed)")
    }

    // MARK: 6. The holder: extend and remove

    @Test func aHolderExtendsOneAccessAndRemovesAnother() throws {
        let clock = TestClock(Flow.start)
        let portal = try ServedPortal(clock: clock)
        defer { portal.stop() }

        // Allan holds Internal_AccessPackage (his own request) and Finance reports (approved in two stages).
        let allan = try portal.signedIn(Email.allan)
        #expect(try allan.post("/requests", form: HandlerWalkTests.internalForm).status == 303)
        _ = try portal.nextMail(to: Email.allan, subject: "You now have access to Internal_AccessPackage")
        let financeID = try Flow.requestID(try allan.post("/requests", form: Flow.financeForm))
        #expect(try portal.signedIn(Email.nestor).post(Paths.decide(financeID), form: Flow.decision("approve", stage: 1)).status == 303)
        #expect(try portal.signedIn(Email.adele).post(
            Paths.decide(financeID), form: Flow.decision("approve", stage: 2, reason: "Budget owner confirmed")).status == 303)
        let held = try portal.store.read { try $0.activeAssignments(of: Email.allan) }
        let member = try #require(held.first { $0.packageID == "internal-access-package" })
        let finance = try #require(held.first { $0.packageID == "finance-reports" })
        #expect(member.endsAt == Flow.days(365, after: Flow.start))
        #expect(finance.endsAt == Flow.days(90, after: Flow.start))

        // A month later: My access offers to extend both (both policies allow it) and to give each up.
        Self.move(clock, to: Flow.days(30, after: Flow.start))
        let extendedAt = clock.now
        #expect(Flow.words(extendedAt) == "23 December 2026, 10:00")
        let later = try portal.signedIn(Email.allan)
        var mine = try Self.myAccess(later)
        #expect(mine.active.contains(Self.internalPackage))
        #expect(mine.active.contains(Self.financePackage))
        #expect(mine.active.contains(#"<a href="\#(Paths.extendAccess(member.id))">"#))
        #expect(mine.active.contains(#"action="\#(Paths.removeAccess(finance.id))""#))
        #expect(mine.active.contains("I no longer need this"))

        // The extend page shows the new last day before anything is submitted.
        let extendPage = try later.get(Paths.extendAccess(member.id))
        #expect(extendPage.status == 200)
        let newEnd = Flow.days(365, after: extendedAt)
        #expect(Flow.words(newEnd) == "23 December 2027, 10:00")
        #expect(extendPage.body.contains("<h1>Extend Internal_AccessPackage</h1>"))
        #expect(extendPage.body.contains("<dt>Access since</dt><dd>23 November 2026, 10:00</dd>"))
        #expect(extendPage.body.contains("<dt>Last day now</dt><dd>23 November 2027, 10:00</dd>"))
        #expect(extendPage.body.contains("<dt>Last day if extended today</dt><dd><strong>23 December 2027, 10:00</strong></dd>"))
        #expect(extendPage.body.contains("<p>The extension applies at once.</p>"))
        #expect(try portal.store.read { try $0.assignment(id: member.id) }?.endsAt == member.endsAt, "showing changes nothing")
        let extendForm = try Self.form(in: extendPage.body, marker: #"class="extend""#)
        #expect(extendForm.action == Paths.extendAccess(member.id))

        let extended = try later.post(extendForm.action, form: formPair("justification", "Still working in the lab"))
        #expect(extended.status == 303)
        #expect(extended.header("Location") == Paths.myAccess)
        #expect(try portal.store.read { try $0.assignment(id: member.id) }?.endsAt == newEnd)
        let extendRequests = try portal.store.read { try $0.requests(of: Email.allan) }.filter { $0.kind == .extend }
        #expect(extendRequests.map(\.state) == [.delivered])
        #expect(extendRequests.first?.justification == "Still working in the lab")
        let audit = try portal.store.read { try $0.auditEntries(subjectKind: "assignment", subjectID: member.id) }.map(\.entry)
        #expect(audit.contains { $0.action == "extended" && $0.before == "23 November 2027, 10:00" && $0.after == "23 December 2027, 10:00" })
        let access = try portal.nextMail(to: Email.allan, subject: "You now have access to Internal_AccessPackage")
        #expect(access.text.hasPrefix("You now have access to Internal_AccessPackage until 23 December 2027, 10:00.\n"), "\(access)")
        mine = try Self.myAccess(later)
        #expect(mine.active.contains("<td>23 November 2026, 10:00</td><td>23 December 2027, 10:00</td>"))
        let again = try later.get(Paths.extendAccess(member.id)).body
        #expect(again.contains(html("This access already ends as late as Lab members allows.")))
        #expect(!again.contains(#"class="extend""#))
        #expect(!again.contains("Last day if extended today"))

        // Somebody else cannot remove Allan's access from their own My access.
        let lee = try portal.signedIn(Email.lee)
        let foreign = try lee.post(Paths.removeAccess(finance.id), form: formPair("reason", "Not mine"))
        #expect(foreign.status == 404)
        #expect(try portal.store.read { try $0.assignment(id: finance.id) }?.state == .delivered)

        // "I no longer need this": Finance reports ends now, Internal_AccessPackage stays.
        let removed = try later.post(Paths.removeAccess(finance.id), form: formPair("reason", "Quarter closed"))
        #expect(removed.status == 303)
        #expect(removed.header("Location") == Paths.myAccess)
        mine = try Self.myAccess(later)
        #expect(mine.active.contains(Self.internalPackage))
        #expect(!mine.active.contains(Self.financePackage))
        #expect(mine.ended.contains(Self.financePackage))
        #expect(mine.ended.contains("<td>23 November 2026, 10:00</td><td>23 December 2026, 10:00</td>"))
        let ended = try #require(try portal.store.read { try $0.assignment(id: finance.id) })
        #expect(ended.state == .expired && ended.endedAt == extendedAt)
        let removals = try portal.store.read { try $0.requests(of: Email.allan) }.filter { $0.kind == .remove }
        #expect(removals.map(\.actorKind) == [.user])
        #expect(removals.first?.packageID == "finance-reports")
        #expect(removals.first?.justification == "removed by its holder: Quarter closed")
        // Only the finance roles are revoked; the internal package still grants its own.
        let roles = try portal.store.read { try $0.roles(of: Email.allan) }
        #expect(roles.map { "\($0.resourceID)/\($0.role)" } == ["lab-portal/Reader", "lab-wiki/Read"])
        let told = try portal.nextMail(to: Email.allan, subject: "Your access to Finance reports has ended")
        #expect(told.text.hasPrefix("Your access to Finance reports ended on 23 December 2026, 10:00: you removed it.\n"), "\(told)")

        let twice = try later.post(Paths.removeAccess(finance.id), form: formPair("reason", "Again"))
        #expect(twice.status == 409)
        #expect(twice.body.contains("This access has already ended; there is nothing to remove."))
    }
}
