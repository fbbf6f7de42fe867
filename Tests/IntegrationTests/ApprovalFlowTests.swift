import Foundation
import GatehouseModel
import GatehouseStore
import Rendering
import Testing
import Workflow

/// Approvals walked end to end (PRODUCT.md sections 4, 5, 9): real nginx, the handler in process on
/// its socket with a `TestClock`, one browser (cookie) per person, sign-in codes and every notice
/// read from the outbox's .eml files, and `gatehouse sweep` run in process on the same database
/// file at the clock's time. Every walk starts on 23 November 2026 at 10:00 in Paris.
@Suite(.enabled(if: Tool.nginx != nil && Tool.curl != nil, "nginx or curl is not installed (make test installs both)"))
struct ApprovalFlowTests {
    /// 2026-11-23T09:00:00Z: 23 November 2026, 10:00 in Europe/Paris, the tenant's zone.
    static let start = Date(timeIntervalSince1970: 1_795_424_400)
    static let hour: TimeInterval = 3600
    static let day: TimeInterval = 86400

    static let partnerForm = HandlerWalkTests.partnerForm + "&justification=Writing+the+booking+guide"
    static let financeForm = "package=finance-reports&policy=finance-team&language=en&justification=Quarterly+audit"
        + "&answer.cost-center=1234&answer.reports=budget&answer.reports=travel"

    enum Email {
        static let alex = "alex@azureblog.example"
        static let don = "don@outlook.example"
        static let allan = "allan@contoso.example"
        static let adele = "adele@contoso.example"
        static let hallam = "hallam@contoso.example"
        static let nestor = "nestor@contoso.example"
        static let megan = "megan@contoso.example"
        static let lee = "lee@contoso.example"
    }

    // MARK: Helpers

    /// The tenant's calendar, built here independently of the product's `TenantCalendar`.
    static let paris: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Paris")!
        return calendar
    }()

    /// "7 December 2026, 10:00": the instant in Paris as pages and mail write it.
    static func words(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = paris.timeZone
        formatter.dateFormat = "d MMMM yyyy, H:mm"
        return formatter.string(from: date)
    }

    /// `days` calendar days after `date` in Paris, at the same wall-clock time (across DST too).
    static func days(_ days: Int, after date: Date) -> Date {
        paris.date(byAdding: .day, value: days, to: date)!
    }

    /// The request id from the requestor's 303 to `/my/requests/<id>/`.
    static func requestID(_ submitted: CurlResponse) throws -> String {
        let location = try #require(submitted.header("Location"), "status \(submitted.status): \(submitted.body)")
        try #require(location.hasPrefix(Paths.myRequests) && location.hasSuffix("/"))
        return String(location.dropFirst(Paths.myRequests.count).dropLast())
    }

    /// The decision form as the approval page posts it.
    static func decision(_ decision: String, stage: Int, reason: String = "") -> String {
        [formPair("decision", decision), formPair("stage", String(stage)), formPair("justification", reason)]
            .joined(separator: "&")
    }

    /// The line at the top of the approval page that says why nothing was recorded.
    static func problem(_ text: String) -> String { #"<p class="form-error" role="alert">"# + html(text) + "</p>" }

    /// The opening tag of the approve/deny form of request `id`.
    static func decideForm(_ id: String) -> String {
        #"<form method="post" action="\#(Paths.decide(id))" class="decide" novalidate>"#
    }

    static let nothingPending = "No request waits for your decision."

    // MARK: 1. No approval

    /// RequestFlowTests covers delivery at once; here: such a request asks nobody and leaves the sweep nothing.
    @Test func accessWithoutApprovalAsksNobody() throws {
        let clock = TestClock(Self.start)
        let portal = try ServedPortal(clock: clock)
        defer { portal.stop() }
        let allan = try portal.signedIn(Email.allan)
        let id = try Self.requestID(try allan.post("/requests", form: HandlerWalkTests.internalForm + "&justification=Onboarding"))
        let page = try allan.get(Paths.myRequest(id)).body
        #expect(page.contains("<dt>State</dt><dd>Delivered</dd>"))
        #expect(page.contains("<p>No approver decision: this request option needs no approval.</p>"))
        _ = try portal.nextMail(to: Email.allan, subject: "You now have access to Internal_AccessPackage")

        #expect(try portal.store.read { try $0.approvers(requestID: id) }.isEmpty)
        #expect(try portal.store.read { try $0.mail(to: Email.nestor) }.isEmpty, "his manager is not asked")
        clock.advance(by: 15 * Self.day)
        #expect(try portal.sweep() == SweepReport())
    }

    // MARK: 2. Partner, one stage

    @Test func aPartnerRequestIsApprovedFromTheEmailedLink() throws {
        let clock = TestClock(Self.start)
        let portal = try ServedPortal(clock: clock)
        defer { portal.stop() }
        let alex = try portal.signedIn(Email.alex)
        let submitted = try alex.post("/requests", form: Self.partnerForm)
        #expect(submitted.status == 303)
        let id = try Self.requestID(submitted)
        let page = Paths.approval(id)
        let deadline = Self.days(14, after: Self.start)
        #expect(Self.words(deadline) == "7 December 2026, 10:00")

        // Adele's mail names the package, the requestor and the deadline, and links under the base URL.
        let action = try portal.nextMail(
            to: Email.adele, subject: "Action required: Alex Guest requests External_AccessPackage")
        #expect(action.text.hasPrefix(
            "Alex Guest asks for access to External_AccessPackage and waits for your decision.\n"), "\(action)")
        #expect(action.text.contains("Access package: External_AccessPackage\n"))
        #expect(action.text.contains("Requested by: Alex Guest (alex@azureblog.example, Azureblog)\n"))
        #expect(action.text.contains("Submitted: 23 November 2026, 10:00\n"))
        #expect(action.text.contains("Business justification: Writing the booking guide\n"))
        #expect(action.text.contains("Decide by: 7 December 2026, 10:00\n"))
        #expect(action.text.contains("Approve or deny at \(portal.base)\(page)\n"))

        // Following the link signed out: the sign-in page, then back to the request.
        let adele = portal.browser()
        let signedOut = try adele.get(page)
        #expect(signedOut.status == 303)
        let signInURL = try #require(signedOut.header("Location"))
        #expect(signInURL == "/sign-in/?return=\(page)")
        let signInPage = try adele.get(signInURL)
        #expect(signInPage.status == 200)
        #expect(signInPage.body.contains(#"<input type="hidden" name="return" value="\#(page)">"#))
        #expect(try portal.signIn(Email.adele, in: adele, returningTo: page) == page)

        let shown = try adele.get(page)
        #expect(shown.status == 200)
        let body = shown.body
        #expect(body.contains("<h1>Alex Guest requests External_AccessPackage</h1>"))
        #expect(body.contains("<dt>Requestor</dt><dd>Alex Guest &lt;alex@azureblog.example&gt;</dd>"))
        #expect(body.contains("<dt>Organization</dt><dd>Azureblog</dd>"))
        #expect(body.contains("<dt>Access package</dt><dd>External_AccessPackage</dd>"))
        #expect(body.contains("<dt>Request option</dt><dd>Azureblog partners</dd>"))
        #expect(body.contains("<dt>State</dt><dd>Pending approval</dd>"))
        #expect(body.contains("<dt>Submitted</dt><dd>23 November 2026, 10:00</dd>"))
        #expect(body.contains("<dt>Current stage</dt><dd>1</dd>"))
        #expect(body.contains("<dt>Decide by</dt><dd>7 December 2026, 10:00</dd>"))
        #expect(body.contains("<tr><td>External_Collaboration</td><td>Member</td></tr>"))
        #expect(body.contains(#"<p class="justification">Writing the booking guide</p>"#))
        #expect(!body.contains("Information provided by the requestor"), "the partners' policy asks no questions")
        #expect(body.contains("<h2>Approval history</h2>\n<p>No decision yet.</p>"))
        #expect(body.contains(Self.decideForm(id)))
        #expect(body.contains(#"<input type="hidden" name="stage" value="1">"#))
        #expect(body.contains(#"Reason <span class="required">(required)</span>"#))

        let pending = try adele.get(Paths.approvals).body
        #expect(pending.contains("Pending (1)"))
        #expect(pending.contains(
            #"<tr><td><a href="\#(page)">Alex Guest</a><br><span class="note">Azureblog</span></td>"#
                + "<td>External_AccessPackage</td><td>23 November 2026, 10:00</td><td>7 December 2026, 10:00</td></tr>"))

        // Approving with a reason: back to the page, which shows the decision read-only.
        clock.advance(by: Self.hour)
        let approvedAt = clock.now
        let approved = try adele.post(Paths.decide(id), form: Self.decision("approve", stage: 1, reason: "Writes the booking guide with us"))
        #expect(approved.status == 303)
        #expect(approved.header("Location") == page)
        let after = try adele.get(page).body
        #expect(after.contains(#"<p class="notice" role="status">You approved stage 1 on 23 November 2026, 11:00."#))
        #expect(after.contains("<dt>State</dt><dd>Delivered</dd>"))
        #expect(after.contains(
            "<tr><td>1</td><td>Adele Vance</td><td>Approved</td><td>Writes the booking guide with us</td><td>23 November 2026, 11:00</td></tr>"))
        #expect(!after.contains(#"class="decide""#))
        #expect(!after.contains("<dt>Current stage</dt>"))

        // Alex has access from the approval for 180 days (same wall-clock time across the DST change).
        let end = Self.days(180, after: approvedAt)
        #expect(Self.words(end) == "22 May 2027, 11:00")
        let access = try portal.nextMail(to: Email.alex, subject: "You now have access to External_AccessPackage")
        #expect(access.text.hasPrefix("You now have access to External_AccessPackage until 22 May 2027, 11:00.\n"), "\(access)")
        #expect(access.text.contains("\(portal.base)\(Paths.myAccess)"))
        #expect(try alex.get(Paths.myAccess).body.contains(
            #"<tr><td><a href="/access-packages/external-access-package/">External_AccessPackage</a></td>"#
                + "<td>23 November 2026, 11:00</td><td>22 May 2027, 11:00</td>"))
        let request = try alex.get(Paths.myRequest(id)).body
        #expect(request.contains("<dt>State</dt><dd>Delivered</dd>"))
        #expect(request.contains("<dt>Access</dt><dd>from 23 November 2026, 11:00 until 22 May 2027, 11:00</dd>"))
        #expect(request.contains("<li>Stage 1: Approved by Adele Vance on 23 November 2026, 11:00: “Writes the booking guide with us”</li>"))
        let assignments = try portal.store.read { try $0.assignments(of: Email.alex) }
        #expect(assignments.map(\.startsAt) == [approvedAt])
        #expect(assignments.map(\.endsAt) == [end])

        // A governed guest now; Azureblog is connected already, so nothing is proposed.
        let person = try portal.store.read { try $0.person(email: Email.alex) }
        #expect(person?.governedGuestSince == approvedAt)
        #expect(try portal.store.read { try $0.proposedOrganizations() }.isEmpty)

        // Pending is empty, History lists it; Adele was asked once; Alex decides nothing.
        let pendingAfter = try adele.get(Paths.approvals).body
        #expect(pendingAfter.contains("Pending (0)"))
        #expect(pendingAfter.contains(Self.nothingPending))
        let history = try adele.get(Paths.approvalHistory).body
        #expect(history.contains(#"<li><a href="/approvals/history/" aria-current="page">History</a></li>"#))
        #expect(history.contains(
            #"<tr><td><a href="\#(page)">Alex Guest</a><br><span class="note">Azureblog</span></td>"#
                + "<td>External_AccessPackage</td><td>23 November 2026, 10:00</td>"))
        #expect(history.contains(/<td>You approved · now [Dd]elivered<\/td><\/tr>/))
        let asked = try portal.store.read { try $0.mail(to: Email.adele) }.filter { $0.mail.kind == "approvalRequired" }
        #expect(asked.count == 1)
        #expect(try alex.get(Paths.approvals).body.contains(Self.nothingPending))
    }

    // MARK: 3. Contractor, French form

    @Test func aContractorAnswersInFrenchAndTheApproverReadsTheirOwnLanguage() throws {
        let clock = TestClock(Self.start)
        let portal = try ServedPortal(clock: clock)
        defer { portal.stop() }
        let don = try portal.signedIn(Email.don)

        // The French form as nginx serves it: the localized question and choices, the form's own fields.
        let form = try don.get(Paths.requestForm(package: "external-contractor", policy: "contractors", language: "fr"))
        #expect(form.status == 200)
        #expect(form.body.contains("Quelle équipe a gagné la finale 2022 ?"))
        let hidden = form.body.matches(of: /<input type="hidden" name="([^"]+)" value="([^"]*)">/).map { (String($0.1), String($0.2)) }
        #expect(hidden.first { $0.0 == "language" }?.1 == "fr")
        let choice = try #require(form.body.firstMatch(of: /name="([^"]+)" value="([^"]+)"[^>]*> <label for="[^"]+">Argentine<\/label>/))
        #expect(choice.2 == "argentina")
        let company = try #require(form.body.firstMatch(of: /<input type="text" id="[^"]+" name="([^"]+)"/))
        let post = (hidden.map { formPair($0.0, $0.1) } + [
            formPair("justification", "Rédaction du guide de réservation"),
            formPair(String(choice.1), String(choice.2)),
            formPair(String(company.1), "Indépendant"),
        ]).joined(separator: "&")
        let submitted = try don.post("/requests", form: post)
        #expect(submitted.status == 303)
        let id = try Self.requestID(submitted)
        let page = Paths.approval(id)
        #expect(try don.get(Paths.myRequest(id)).body.contains("<dt>Quelle équipe a gagné la finale 2022 ?</dt><dd>Argentine</dd>"))

        let action = try portal.nextMail(to: Email.adele, subject: "Action required: Don Guest requests External contractor")
        #expect(action.text.contains("Requested by: Don Guest (don@outlook.example)\n"), "\(action)")
        #expect(action.text.contains("Business justification: Rédaction du guide de réservation\n"))
        #expect(action.text.contains("Decide by: 7 December 2026, 10:00\n"))
        #expect(action.text.contains("Approve or deny at \(portal.base)\(page)\n"))

        // Adele reads the answers in English; a French-speaking approver would read them in French.
        let adele = try portal.signedIn(Email.adele)
        let english = try adele.get(page, headers: ["Accept-Language": "en"]).body
        #expect(english.contains("<dt>Organization</dt><dd>External (no connected organization)</dd>"))
        #expect(english.contains(#"<p class="justification">Rédaction du guide de réservation</p>"#))
        #expect(english.contains("<h2>Information provided by the requestor</h2>"))
        #expect(english.contains("<dt>Which team won the 2022 final?</dt><dd>Argentina</dd>"))
        #expect(english.contains("<dt>Which company do you work for?</dt><dd>Indépendant</dd>"))
        let french = try adele.get(page, headers: ["Accept-Language": "fr-FR, fr;q=0.9, en;q=0.5"]).body
        #expect(french.contains("<dt>Quelle équipe a gagné la finale 2022 ?</dt><dd>Argentine</dd>"))
        #expect(french.contains("<dt>Pour quelle entreprise travaillez-vous ?</dt><dd>Indépendant</dd>"))
        #expect(!french.contains("<dd>Argentina</dd>"))

        clock.advance(by: 2 * Self.hour)
        let approved = try adele.post(Paths.decide(id), form: Self.decision("approve", stage: 1, reason: "Contract signed until June 2028"))
        #expect(approved.status == 303)

        // The policy's fixed date: access until the end of 30 June 2028 in Paris, whatever the approval day.
        let access = try portal.nextMail(to: Email.don, subject: "You now have access to External contractor")
        #expect(access.text.hasPrefix("You now have access to External contractor until 30 June 2028.\n"), "\(access)")
        #expect(try don.get(Paths.myAccess).body.contains(
            #"<tr><td><a href="/access-packages/external-contractor/">External contractor</a></td>"#
                + "<td>23 November 2026, 12:00</td><td>30 June 2028</td>"))
        let endOfJune = Self.paris.date(from: DateComponents(year: 2028, month: 7, day: 1))
        #expect(try portal.store.read { try $0.assignments(of: Email.don) }.map(\.endsAt) == [endOfJune])

        // A governed guest from a domain no connected organization has: one is proposed.
        #expect(try portal.store.read { try $0.person(email: Email.don) }?.isGovernedGuest == true)
        #expect(try portal.store.read { try $0.proposedOrganizations() }.map(\.domain) == ["outlook.example"])
    }

    // MARK: 4. Two stages: the manager, then a group

    @Test func twoStagesManagerThenGroupWhereTheFirstDecisionWins() throws {
        let clock = TestClock(Self.start)
        let portal = try ServedPortal(clock: clock)
        defer { portal.stop() }
        let allan = try portal.signedIn(Email.allan)
        let submitted = try allan.post("/requests", form: Self.financeForm)
        #expect(submitted.status == 303)
        let id = try Self.requestID(submitted)
        let page = Paths.approval(id)

        // Stage 1: Allan's manager, within 10 days; the group is not asked yet.
        let toNestor = try portal.nextMail(to: Email.nestor, subject: "Action required: Allan Deyoung requests Finance reports")
        #expect(toNestor.text.hasPrefix(
            "Allan Deyoung asks for access to Finance reports and waits for your decision (stage 1 of 2).\n"), "\(toNestor)")
        #expect(toNestor.text.contains("Requested by: Allan Deyoung (allan@contoso.example)\n"))
        #expect(toNestor.text.contains("Decide by: 3 December 2026, 10:00\n"))
        for approver in [Email.adele, Email.hallam] {
            #expect(try portal.store.read { try $0.mail(to: approver) }.isEmpty, "\(approver) is not asked before stage 2")
        }

        let nestor = try portal.signedIn(Email.nestor)
        let first = try nestor.get(page).body
        #expect(first.contains("<dt>Organization</dt><dd>Internal LAB</dd>"))
        #expect(first.contains("<dt>Current stage</dt><dd>1 of 2</dd>"))
        #expect(first.contains("<tr><td>Lab Portal</td><td>Contributor</td></tr>\n<tr><td>Lab wiki</td><td>Edit</td></tr>"))
        #expect(first.contains("<dt>Cost center (four digits)</dt><dd>1234</dd>"))
        #expect(first.contains("<dt>Which reports do you need?</dt><dd>Budget, Travel expenses</dd>"))
        #expect(first.contains(#"Reason <span class="required">(optional)</span>"#))

        clock.advance(by: Self.hour)
        let stage1At = clock.now
        let stage1 = try nestor.post(Paths.decide(id), form: Self.decision("approve", stage: 1))
        #expect(stage1.status == 303)
        #expect(stage1.header("Location") == page)
        let nestorAfter = try nestor.get(page).body
        #expect(nestorAfter.contains("<tr><td>1</td><td>Nestor Wilke</td><td>Approved</td><td>—</td><td>23 November 2026, 11:00</td></tr>"))
        #expect(nestorAfter.contains("<dt>Current stage</dt><dd>2 of 2</dd>"))
        #expect(!nestorAfter.contains(#"class="decide""#), "stage 2 is not his to decide")

        let stageMail = try portal.nextMail(to: Email.allan, subject: "Your request for Finance reports: stage 1 of 2 approved")
        #expect(stageMail.text.hasPrefix(
            "Nestor Wilke approved stage 1 of 2 of your request for Finance reports. It now waits for stage 2.\n"), "\(stageMail)")
        #expect(stageMail.text.contains("\(portal.base)\(Paths.myRequest(id))"))
        let stage2Deadline = Self.words(Self.days(7, after: stage1At))
        #expect(stage2Deadline == "30 November 2026, 11:00")
        for approver in [Email.adele, Email.hallam] {
            let mail = try portal.nextMail(to: approver, subject: "Action required: Allan Deyoung requests Finance reports")
            #expect(mail.text.contains("waits for your decision (stage 2 of 2).\n"), "\(mail)")
            #expect(mail.text.contains("Decide by: \(stage2Deadline)\n"))
            #expect(mail.text.contains("Approve or deny at \(portal.base)\(page)\n"))
        }

        // Stage 2 requires a reason: a deny without one comes back with the message at the field.
        let adele = try portal.signedIn(Email.adele)
        let noReason = try adele.post(Paths.decide(id), form: Self.decision("deny", stage: 2))
        #expect(noReason.status == 422)
        #expect(noReason.body.contains(
            #"<p class="field-error" id="justification-error">This stage requires a reason: say why you approve or deny.</p>"#))
        #expect(noReason.body.contains(#"aria-invalid="true" aria-describedby="justification-error""#))
        #expect(noReason.body.contains(Self.decideForm(id)))
        #expect(noReason.body.contains(#"<input type="hidden" name="stage" value="2">"#))
        #expect(try portal.store.read { try $0.decisions(requestID: id) }.count == 1, "nothing recorded")

        // Hallam approves with a reason: delivered, 90 days from his approval.
        clock.advance(by: Self.hour)
        let stage2At = clock.now
        let hallam = try portal.signedIn(Email.hallam)
        let approved = try hallam.post(Paths.decide(id), form: Self.decision("approve", stage: 2, reason: "Budget owner confirmed"))
        #expect(approved.status == 303)
        let hallamPage = try hallam.get(page).body
        #expect(hallamPage.contains("<dt>State</dt><dd>Delivered</dd>"))
        #expect(hallamPage.contains(
            "<tr><td>2</td><td>Hallam Douglas</td><td>Approved</td><td>Budget owner confirmed</td><td>23 November 2026, 12:00</td></tr>"))
        let access = try portal.nextMail(to: Email.allan, subject: "You now have access to Finance reports")
        #expect(access.text.hasPrefix("You now have access to Finance reports until \(Self.words(Self.days(90, after: stage2At))).\n"))
        #expect(access.text.hasPrefix("You now have access to Finance reports until 21 February 2027, 12:00.\n"), "\(access)")
        let mine = try allan.get(Paths.myRequest(id)).body
        #expect(mine.contains("<li>Stage 1: Approved by Nestor Wilke on 23 November 2026, 11:00</li>"))
        #expect(mine.contains("<li>Stage 2: Approved by Hallam Douglas on 23 November 2026, 12:00: “Budget owner confirmed”</li>"))

        // Adele is told someone else decided, and her late post is refused with who and when.
        let told = try portal.nextMail(to: Email.adele, subject: "Allan Deyoung's request for Finance reports was approved by Hallam Douglas")
        #expect(told.text.hasPrefix(
            "Hallam Douglas approved Allan Deyoung's request for Finance reports on 23 November 2026, 12:00. No action is needed from you.\n"),
            "\(told)")
        #expect(told.text.contains("\nReason: Budget owner confirmed\n"))
        #expect(told.text.contains("See the request at \(portal.base)\(page)\n"))
        let late = try adele.post(Paths.decide(id), form: Self.decision("approve", stage: 2, reason: "Fine by me"))
        #expect(late.status == 409)
        #expect(late.body.contains(Self.problem("Already approved by Hallam Douglas at 23 November 2026, 12:00. Your decision was not recorded.")))
        #expect(!late.body.contains(#"class="decide""#))
        #expect(try portal.store.read { try $0.decisions(requestID: id) }.map(\.approverEmail) == [Email.nestor, Email.hallam])
        #expect(try portal.store.read { try $0.mail(to: Email.hallam) }.filter { $0.mail.kind == "approvalDecidedByOther" }.isEmpty)

        let adeleTabs = try adele.get(Paths.approvals).body
        #expect(adeleTabs.contains("Pending (0)"))
        #expect(try adele.get(Paths.approvalHistory).body.contains(
            #"<tr><td><a href="\#(page)">Allan Deyoung</a></td><td>Finance reports<br><span class="note">Stage 2 of 2</span></td>"#
                + "<td>23 November 2026, 10:00</td><td>Delivered</td></tr>"))
    }

    // MARK: 5. Timeout

    @Test func anUndecidedRequestExpiresAtItsDeadline() throws {
        let clock = TestClock(Self.start)
        let portal = try ServedPortal(clock: clock)
        defer { portal.stop() }
        let alex = try portal.signedIn(Email.alex)
        let id = try Self.requestID(try alex.post("/requests", form: Self.partnerForm))
        let page = Paths.approval(id)
        _ = try portal.nextMail(to: Email.adele, subject: "Action required: Alex Guest requests External_AccessPackage")
        #expect(try portal.sweep() == SweepReport(), "nothing is due at once")

        // Reminders at the midpoint and on the last day; a second sweep at the same instant does nothing.
        clock.advance(by: 7 * Self.day)
        var report = try portal.sweep()
        #expect(report.reminded == 1 && report.expired == 0, "\(report)")
        let reminderSubject = "Reminder: Alex Guest's request for External_AccessPackage expires on 7 December 2026"
        let reminder = try portal.nextMail(to: Email.adele, subject: reminderSubject)
        #expect(reminder.text.contains("Decide by: 7 December 2026, 10:00\n"), "\(reminder)")
        #expect(reminder.text.contains("Approve or deny at \(portal.base)\(page)\n"))
        #expect(try portal.sweep() == SweepReport())

        clock.advance(by: 7 * Self.day - 1)
        report = try portal.sweep()
        #expect(report.expired == 0, "one second before the deadline it still waits")
        #expect(report.reminded == 1)
        _ = try portal.nextMail(to: Email.adele, subject: reminderSubject)

        clock.advance(by: 1)
        report = try portal.sweep()
        #expect(report.expired == 1, "\(report)")
        #expect(try portal.sweep() == SweepReport())
        let audit = try portal.store.read { try $0.auditEntries(subjectKind: "request", subjectID: id) }
        #expect(audit.last?.entry.action == "expired")

        let toAlex = try portal.nextMail(to: Email.alex, subject: "Your request for External_AccessPackage expired")
        #expect(toAlex.text.hasPrefix(
            "Your request for External_AccessPackage expired on 7 December 2026, 10:00: its approvers did not decide in time. Nothing was granted.\n"),
            "\(toAlex)")
        #expect(toAlex.text.contains("You can submit it again from \(portal.base)\(Paths.myRequest(id))\n"))
        let toAdele = try portal.nextMail(to: Email.adele, subject: "Alex Guest's request for External_AccessPackage expired")
        #expect(toAdele.text.hasPrefix(
            "Alex Guest's request for External_AccessPackage expired: nobody decided it in time (7 December 2026, 10:00). No action is needed from you.\n"),
            "\(toAdele)")

        // The requestor's page says so and offers to ask again (the old sessions ended long ago).
        let alexAgain = try portal.signedIn(Email.alex)
        let mine = try alexAgain.get(Paths.myRequest(id)).body
        #expect(mine.contains("<dt>State</dt><dd>Expired</dd>"))
        #expect(mine.contains(#"<a class="button" href="/my/requests/\#(id)/again/">Request again</a>"#))
        #expect(!mine.contains(#"class="cancel""#))
        #expect(!mine.contains("needs no approval"), "it needed approval and expired waiting for it")

        // Adele's approval after the deadline: 409, nothing recorded, nothing granted.
        let adele = try portal.signedIn(Email.adele)
        let late = try adele.post(Paths.decide(id), form: Self.decision("approve", stage: 1, reason: "Sorry, I was away"))
        #expect(late.status == 409)
        #expect(late.body.contains(Self.problem(
            "This request expired: it was not decided in time. The requestor may ask again. Your decision was not recorded.")))
        #expect(late.body.contains("<dt>State</dt><dd>Expired</dd>"))
        #expect(!late.body.contains(#"class="decide""#))
        #expect(try portal.store.read { try $0.decisions(requestID: id) }.isEmpty)
        #expect(try portal.store.read { try $0.assignments(of: Email.alex) }.isEmpty)
        #expect(try adele.get(Paths.approvals).body.contains(Self.nothingPending))
        #expect(try adele.get(Paths.approvalHistory).body.contains("<td>23 November 2026, 10:00</td><td>Expired</td></tr>"))
    }

    // MARK: 6. Escalation

    @Test func stageOneIsForwardedToTheSecondLevelManager() throws {
        let clock = TestClock(Self.start)
        let portal = try ServedPortal(clock: clock)
        defer { portal.stop() }
        let allan = try portal.signedIn(Email.allan)
        let id = try Self.requestID(try allan.post("/requests", form: Self.financeForm))
        let page = Paths.approval(id)
        _ = try portal.nextMail(to: Email.nestor, subject: "Action required: Allan Deyoung requests Finance reports")

        // Day 5 (half the 10-day timeout): a reminder only; Megan is not an approver yet.
        clock.advance(by: 5 * Self.day)
        var report = try portal.sweep()
        #expect(report.reminded == 1 && report.escalated == 0, "\(report)")
        _ = try portal.nextMail(to: Email.nestor, subject: "Reminder: Allan Deyoung's request for Finance reports expires on 3 December 2026")
        #expect(try portal.signedIn(Email.megan).get(page).status == 404)

        // Day 6: forwarded to Allan's second-level manager.
        clock.advance(by: Self.day)
        report = try portal.sweep()
        #expect(report.escalated == 1 && report.reminded == 0 && report.expired == 0, "\(report)")
        let forwarded = try portal.nextMail(to: Email.megan, subject: "Forwarded to you: Allan Deyoung requests Finance reports")
        #expect(forwarded.text.hasPrefix(
            "Allan Deyoung's request for Finance reports was not decided in time by its approvers and is forwarded to you (stage 1 of 2). "
                + "The first approvers can still decide too.\n"), "\(forwarded)")
        #expect(forwarded.text.contains("Decide by: 3 December 2026, 10:00\n"))
        #expect(forwarded.text.contains("Approve or deny at \(portal.base)\(page)\n"))
        #expect(try portal.store.read { try $0.mail(to: Email.nestor) }.filter { $0.mail.kind == "approvalForwarded" }.isEmpty)

        let megan = try portal.signedIn(Email.megan)
        let tab = try megan.get(Paths.approvals).body
        #expect(tab.contains("Pending (1)"))
        #expect(tab.contains(#"<td>Finance reports<br><span class="note">Stage 1 of 2, forwarded</span></td>"#))
        let meganPage = try megan.get(page).body
        #expect(meganPage.contains("<dt>Current stage</dt><dd>1 of 2 (forwarded)</dd>"))
        #expect(meganPage.contains(Self.decideForm(id)))
        let nestor = try portal.signedIn(Email.nestor)
        #expect(try nestor.get(page).body.contains(Self.decideForm(id)), "the first approver can still decide")

        // Megan decides; Nestor is told and his later post is refused.
        clock.advance(by: Self.hour)
        let decidedAt = clock.now
        let approved = try megan.post(Paths.decide(id), form: Self.decision("approve", stage: 1))
        #expect(approved.status == 303)
        let told = try portal.nextMail(to: Email.nestor, subject: "Allan Deyoung's request for Finance reports was approved by Megan Bowen")
        #expect(told.text.hasPrefix(
            "Megan Bowen approved Allan Deyoung's request for Finance reports on \(Self.words(decidedAt)). No action is needed from you.\n"),
            "\(told)")
        #expect(!told.text.contains("Reason:"))
        _ = try portal.nextMail(to: Email.allan, subject: "Your request for Finance reports: stage 1 of 2 approved")
        for approver in [Email.adele, Email.hallam] {
            let mail = try portal.nextMail(to: approver, subject: "Action required: Allan Deyoung requests Finance reports")
            #expect(mail.text.contains("Decide by: \(Self.words(Self.days(7, after: decidedAt)))\n"), "\(mail)")
        }
        let late = try nestor.post(Paths.decide(id), form: Self.decision("approve", stage: 1))
        #expect(late.status == 409)
        #expect(late.body.contains(Self.problem("Already approved by Megan Bowen at \(Self.words(decidedAt)). Your decision was not recorded.")))
        #expect(try portal.store.read { try $0.decisions(requestID: id) }.map(\.approverEmail) == [Email.megan])
        #expect(try nestor.get(Paths.approvals).body.contains(Self.nothingPending))
        #expect(try megan.get(page).body.contains("<dt>Current stage</dt><dd>2 of 2</dd>"))
    }

    // MARK: 7. Who may see and decide

    /// In a copy of the site where Adele is also in the finance team, so her own finance request
    /// reaches a stage her group approves.
    @Test func onlyTheRequestsApproversSeeOrDecideIt() throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let adeleEntry = "    name: Adele Vance\n    manager: nestor@contoso.example\n    groups: [approvers]\n"
        let site = try copyExampleSite(into: folder, edits: [
            "people.yaml": { $0.replacingOccurrences(of: adeleEntry, with: adeleEntry.replacingOccurrences(of: "[approvers]", with: "[approvers, finance]")) },
        ])
        try #require(try String(contentsOf: site.appendingPathComponent("people.yaml"), encoding: .utf8).contains("groups: [approvers, finance]"))
        let clock = TestClock(Self.start)
        let portal = try ServedPortal(site: site, clock: clock)
        defer { portal.stop() }
        let alex = try portal.signedIn(Email.alex)
        let id = try Self.requestID(try alex.post("/requests", form: Self.partnerForm))
        let page = Paths.approval(id)
        let notFound = html("There is no request for you to decide at this address. The requests waiting for you are listed in Approvals.")

        // A stranger gets the same 404 as for an id that does not exist, for the page and the post.
        let lee = try portal.signedIn(Email.lee)
        for path in [page, Paths.approval("0123456789abcdef")] {
            let response = try lee.get(path)
            #expect(response.status == 404, "\(path)")
            #expect(response.body.contains(notFound), "\(path)")
        }
        let leePost = try lee.post(Paths.decide(id), form: Self.decision("approve", stage: 1, reason: "Looks fine"))
        #expect(leePost.status == 404)
        #expect(leePost.body.contains(notFound))
        #expect(try lee.get(Paths.approvals).body.contains(Self.nothingPending))
        // The requestor does not get the approvers' view of their own request either.
        #expect(try alex.get(page).status == 404)

        // A cross-origin post is refused before anything is read; a post without a decision keeps the form.
        let adele = try portal.signedIn(Email.adele)
        let forged = try adele.post(
            Paths.decide(id), form: Self.decision("approve", stage: 1, reason: "forged"), headers: ["Origin": "http://evil.example"])
        #expect(forged.status == 403)
        #expect(forged.body.contains(html(
            "This form was not sent from \(portal.base), so nothing was changed. Open the page on \(portal.base) and send it again.")))
        let undecided = try adele.post(Paths.decide(id), form: "stage=1&justification=Thinking")
        #expect(undecided.status == 422)
        #expect(undecided.body.contains(
            #"<p class="field-error" role="alert" id="decision-error">Choose Approve or Deny: the form did not say which.</p>"#))
        #expect(undecided.body.contains(">Thinking</textarea>"))
        #expect(try portal.store.read { try $0.decisions(requestID: id) }.isEmpty)
        #expect(try portal.store.read { try $0.request(id: id) }?.state == .pendingApproval)

        // Adele's own finance request: after her manager's approval stage 2 goes to her group, without her.
        let own = try Self.requestID(try adele.post("/requests", form: Self.financeForm))
        let nestor = try portal.signedIn(Email.nestor)
        #expect(try nestor.post(Paths.decide(own), form: Self.decision("approve", stage: 1)).status == 303)
        #expect(try portal.store.read { try $0.approvers(requestID: own, stage: 2) }.map(\.email) == [Email.hallam])
        let tab = try adele.get(Paths.approvals).body
        #expect(tab.contains("Pending (1)"), "Alex's request only")
        #expect(tab.contains(page))
        #expect(!tab.contains(Paths.approval(own)))
        #expect(!(try adele.get(Paths.approvalHistory).body.contains(Paths.approval(own))))
        #expect(try adele.get(Paths.approval(own)).status == 404)
        let selfApproval = try adele.post(Paths.decide(own), form: Self.decision("approve", stage: 2, reason: "I need it"))
        #expect(selfApproval.status == 403)
        #expect(selfApproval.body.contains("You cannot approve or deny your own request."))
        #expect(try portal.store.read { try $0.decisions(requestID: own) }.map(\.approverEmail) == [Email.nestor])
        let hallam = try portal.signedIn(Email.hallam)
        #expect(try hallam.get(Paths.approvals).body.contains(#"<a href="\#(Paths.approval(own))">Adele Vance</a>"#))
    }
}
