import Foundation
import GatehouseModel
import GatehouseStore
import Handlers
import Portal
import Rendering
import Testing

/// The approver's pages with literal requests: lists, the approval page, decisions and their refusals.
@Suite struct ApprovalPagesTests {
    static let partnerForm: KeyValuePairs<String, String> = [
        "package": "external-access-package", "policy": "azureblog", "language": "en",
        "justification": "Writing the <b>booking</b> guide",
    ]

    /// Ana asks for the partner package; Adele is its only approver.
    private func pendingPartnerRequest(_ h: Harness) throws -> (id: String, ana: String, adele: String) {
        let ana = try h.session("ana@azureblog.example")
        let id = try h.requestID(h.post(Paths.submitRequest, Self.partnerForm, cookie: ana))
        return (id, ana, try h.session("adele@contoso.example"))
    }

    @Test func theApproverSeesTheRequestAndApprovesItWithAReason() throws {
        let h = try Harness()
        let (id, ana, adele) = try pendingPartnerRequest(h)

        let list = h.get(Paths.approvals, cookie: adele)
        #expect(list.status == .ok)
        // The name Ana gave with the terms of use, not only her address.
        #expect(list.bodyText.contains(#"<a href="/approvals/\#(id)/">Guest Person</a><br><span class="note">Azureblog</span>"#))
        #expect(list.bodyText.contains("Pending (1)"))
        // The requestor never sees their own request among approvals.
        #expect(h.get(Paths.approvals, cookie: ana).bodyText.contains("No request waits for your decision."))

        // The requestor sees who decides and by when; the approver's own home says a request waits.
        let waiting = h.get(Paths.myRequest(id), cookie: ana).bodyText
        #expect(waiting.contains("<dt>Waiting for</dt><dd>Adele Vance</dd>"))
        #expect(waiting.contains("<dt>Decision due by</dt>"))
        let home = h.get(Paths.myHome, cookie: adele).bodyText
        #expect(home.contains(#"<a href="/approvals/">1 request waits for your decision</a>"#))
        #expect(home.contains(#"<a href="/admin/">Administration</a>"#), "Adele manages packages of a catalog")
        #expect(!h.get(Paths.myHome, cookie: ana).bodyText.contains("Administration"))

        let page = h.get(Paths.approval(id), cookie: adele)
        #expect(page.status == .ok)
        let text = page.bodyText
        #expect(text.contains("<dt>Requestor</dt><dd>Guest Person &lt;ana@azureblog.example&gt;</dd>"))
        #expect(text.contains("<dt>Organization</dt><dd>Azureblog</dd>"))
        #expect(text.contains("Writing the &lt;b&gt;booking&lt;/b&gt; guide"), "the justification is escaped")
        #expect(!text.contains("<b>booking</b>"))
        #expect(text.contains(#"<form method="post" action="/approvals/\#(id)/decide" class="decide" novalidate>"#))
        #expect(text.contains(#"<input type="hidden" name="stage" value="1">"#))
        #expect(text.contains("<dt>Decide by</dt>"))
        // The partner policy's duration, as it was when Ana asked.
        #expect(text.contains("<dt>Access if approved</dt><dd>180 days from approval</dd>"))
        #expect(text.contains("Reason <span class=\"required\">(required)</span>"))

        h.clock.advance(by: 3600)
        let approved = h.post(Paths.decide(id), ["decision": "approve", "stage": "1", "justification": "Known partner"], cookie: adele)
        #expect(approved.status == .seeOther)
        #expect(approved.header("Location") == Paths.approval(id))
        let record = try #require(try h.store.read { try $0.request(id: id) })
        #expect(record.state == .delivered)
        let after = h.get(Paths.approval(id), cookie: adele).bodyText
        #expect(after.contains("You approved stage 1 on"))
        #expect(after.contains("<td>Adele Vance</td><td>Approved</td><td>Known partner</td>"))
        #expect(!after.contains("class=\"decide\""), "nothing left to decide")
        #expect(h.get(Paths.approvals, cookie: adele).bodyText.contains("Pending (0)"))
        let history = h.get(Paths.approvalHistory, cookie: adele).bodyText
        #expect(history.contains(#"<a href="/approvals/\#(id)/">Guest Person</a>"#))
        #expect(history.contains("You approved · now delivered"))
        // The requestor's page shows the decision and the access.
        let mine = h.get(Paths.myRequest(id), cookie: ana).bodyText
        #expect(mine.contains("Stage 1: Approved by Adele Vance"))
        #expect(mine.contains("<dt>State</dt><dd>Delivered</dd>"))
        #expect(try h.mailCount(to: "ana@azureblog.example") >= 2)
    }

    @Test func aMissingReasonOrDecisionComesBackWithTheMessageAndTheInput() throws {
        let h = try Harness()
        let (id, _, adele) = try pendingPartnerRequest(h)

        let noReason = h.post(Paths.decide(id), ["decision": "approve", "stage": "1", "justification": "   "], cookie: adele)
        #expect(noReason.status == .unprocessableContent)
        #expect(noReason.bodyText.contains(#"<p class="field-error" id="justification-error">This stage requires a reason: say why you approve or deny.</p>"#))
        #expect(noReason.bodyText.contains(#"aria-invalid="true""#))

        let noDecision = h.post(Paths.decide(id), ["stage": "1", "justification": "Looks fine"], cookie: adele)
        #expect(noDecision.status == .unprocessableContent)
        #expect(noDecision.bodyText.contains("Choose Approve or Deny: the form did not say which."))
        #expect(noDecision.bodyText.contains(">Looks fine</textarea>"), "what the approver typed is kept")

        let tooLong = String(repeating: "x", count: 2001)
        let long = h.post(Paths.decide(id), ["decision": "deny", "stage": "1", "justification": tooLong], cookie: adele)
        #expect(long.status == .unprocessableContent)
        #expect(long.bodyText.contains("The reason is 2001 characters long; shorten it to 2000 or fewer."))

        #expect(try h.store.read { try $0.decisions(requestID: id) }.isEmpty, "nothing was recorded")
        #expect(try h.store.read { try $0.request(id: id) }?.state == .pendingApproval)
    }

    @Test func aSecondDecisionIsRefusedNamingTheFirst() throws {
        let h = try Harness()
        let (id, _, adele) = try pendingPartnerRequest(h)
        let denied = h.post(Paths.decide(id), ["decision": "deny", "stage": "1", "justification": "Unknown project"], cookie: adele)
        #expect(denied.status == .seeOther)
        #expect(try h.store.read { try $0.request(id: id) }?.state == .denied)

        let again = h.post(Paths.decide(id), ["decision": "approve", "stage": "1", "justification": "Changed my mind"], cookie: adele)
        #expect(again.status == .conflict)
        #expect(again.bodyText.contains("Already denied by Adele Vance at "))
        #expect(again.bodyText.contains("Your decision was not recorded."))
        #expect(try h.store.read { try $0.decisions(requestID: id) }.map(\.decision) == [.deny])
    }

    @Test func aDecisionOnACanceledRequestIsRefused() throws {
        let h = try Harness()
        let (id, ana, adele) = try pendingPartnerRequest(h)
        #expect(h.post(Paths.cancelRequest(id), ["reason": "No longer needed"], cookie: ana).status == .seeOther)
        let late = h.post(Paths.decide(id), ["decision": "approve", "stage": "1", "justification": "ok"], cookie: adele)
        #expect(late.status == .conflict)
        #expect(late.bodyText.contains("This request was canceled; there is nothing left to decide."))
        // Adele was told about the cancel.
        let mails = try h.store.read { try $0.mail(to: "adele@contoso.example") }
        #expect(mails.contains { $0.mail.kind == "approvalCanceled" })
    }

    @Test func onlyThePeopleAskedMaySeeOrDecide() throws {
        let h = try Harness()
        let (id, ana, _) = try pendingPartnerRequest(h)
        let lee = try h.session("lee@contoso.example")
        #expect(h.get(Paths.approval(id), cookie: lee).status == .notFound)
        let stranger = h.post(Paths.decide(id), ["decision": "approve", "stage": "1", "justification": "me"], cookie: lee)
        #expect(stranger.status == .notFound)
        #expect(h.get(Paths.approval(id), cookie: ana).status == .notFound, "the requestor uses their own page")
        let own = h.post(Paths.decide(id), ["decision": "approve", "stage": "1", "justification": "me"], cookie: ana)
        #expect(own.status == .forbidden)
        #expect(own.bodyText.contains("You cannot approve or deny your own request."))
        #expect(h.get(Paths.approval("no-such-request"), cookie: lee).status == .notFound)
        #expect(try h.store.read { try $0.decisions(requestID: id) }.isEmpty)
    }

    @Test func signedOutVisitorsAreSentToSignInAndCrossSitePostsRefused() throws {
        let h = try Harness()
        let (id, _, adele) = try pendingPartnerRequest(h)
        let anonymous = h.get(Paths.approval(id))
        #expect(anonymous.status == .seeOther)
        #expect(anonymous.header("Location") == Paths.signIn(returnTo: Paths.approval(id)))
        let forged = h.post(
            Paths.decide(id), ["decision": "approve", "stage": "1", "justification": "x"], cookie: adele,
            origin: "https://evil.example")
        #expect(forged.status == .forbidden)
        #expect(try h.store.read { try $0.decisions(requestID: id) }.isEmpty)
    }
}
