import Foundation
import GatehouseStore
import Handlers
import Portal
import Rendering
import Testing

@Suite struct SignInCodeTests {
    @Test func happyPathSendsAHashedCodeAndOpensASession() throws {
        let h = try Harness()
        let asked = h.post(Paths.signInCode, ["email": " Allan@Contoso.example ", "return": "/my/requests/"])
        #expect(asked.status == .ok)
        #expect(asked.bodyText.contains("Enter your code"))
        #expect(asked.bodyText.contains("We sent a 6-digit code to allan@contoso.example. It is valid for 10 minutes."))
        #expect(asked.bodyText.contains(#"<input type="hidden" name="email" value="allan@contoso.example">"#))

        let mails = try h.store.read { try $0.mail(to: "allan@contoso.example") }
        #expect(mails.count == 1)
        let mail = try #require(mails.first)
        #expect(mail.mail.subject == "Your sign-in code for Internal LAB")
        #expect(mail.mail.kind == "signInCode")
        #expect(mail.mail.body.contains("It is valid for 10 minutes."))
        #expect(mail.mail.body.contains("http://127.0.0.1:8080/access-packages/"))
        let code = try h.lastCode(for: "allan@contoso.example")

        let verified = h.post(Paths.signInVerify, ["email": "allan@contoso.example", "code": code, "return": "/my/requests/"])
        #expect(verified.status == .seeOther)
        #expect(verified.header("Location") == "/my/requests/")
        let setCookie = try #require(verified.header("Set-Cookie"))
        let match = try #require(setCookie.wholeMatch(
            of: /gatehouse_session=([0-9a-f]{64}); Path=\/; Max-Age=604800; HttpOnly; SameSite=Lax/))
        let sessionID = String(match.1)

        // Only the hash is stored: the cookie value itself finds nothing.
        let now = h.clock.now
        #expect(try h.store.read { try $0.session(idHash: sessionID, now: now, idleTimeout: 3600) } == .unknown)
        let person = try #require(try h.store.read { try $0.person(email: "allan@contoso.example") })
        #expect(person.displayName == "Allan Deyoung")
        #expect(!person.isExternal)
        let actions = try h.store.read { try $0.auditEntries(subjectKind: "person", subjectID: "allan@contoso.example") }
            .map(\.entry.action)
        #expect(actions == ["signInCodeSent", "signedIn"])

        let page = h.get(Paths.myRequests, cookie: "gatehouse_session=\(sessionID)")
        #expect(page.status == .ok)
        #expect(page.bodyText.contains("Signed in as Allan Deyoung &lt;allan@contoso.example&gt;"))
        #expect(page.bodyText.contains("You have not requested any access yet."))
        #expect(page.bodyText.contains(#"<form method="post" action="/sign-out""#))
        #expect(page.header("Cache-Control") == "no-store")
    }

    @Test func aCodeIsUsedOnlyOnce() throws {
        let h = try Harness()
        _ = try h.signIn("allan@contoso.example")
        let code = try h.lastCode(for: "allan@contoso.example")
        let again = h.post(Paths.signInVerify, ["email": "allan@contoso.example", "code": code])
        #expect(again.status == .unprocessableContent)
        #expect(again.bodyText.contains("There is no code waiting for allan@contoso.example (it may have been used already). Ask for a new code."))
        #expect(again.header("Set-Cookie") == nil)
    }

    @Test func aWrongCodeSaysHowManyAttemptsAreLeft() throws {
        let h = try Harness()
        _ = h.post(Paths.signInCode, ["email": "allan@contoso.example", "return": "/my/requests/"])
        let wrong = try wrongCode(h)
        let response = h.post(Paths.signInVerify, ["email": "allan@contoso.example", "code": wrong, "return": "/my/requests/"])
        #expect(response.status == .unprocessableContent)
        #expect(response.bodyText.contains("That code is not right. You can try 4 more times."))
        #expect(response.bodyText.contains(#"<input type="hidden" name="email" value="allan@contoso.example">"#))
        #expect(response.bodyText.contains(#"value="/my/requests/""#))
        #expect(response.header("Set-Cookie") == nil)
    }

    @Test func fiveWrongCodesLockTheCode() throws {
        let h = try Harness()
        _ = h.post(Paths.signInCode, ["email": "allan@contoso.example"])
        let wrong = try wrongCode(h)
        var last = HTTPResponse()
        for _ in 1...5 { last = h.post(Paths.signInVerify, ["email": "allan@contoso.example", "code": wrong]) }
        #expect(last.bodyText.contains("That code was entered wrongly too many times and no longer works. Ask for a new code."))
        #expect(last.bodyText.contains("Send me a new code"))
        // Even the right code no longer works.
        let right = h.post(Paths.signInVerify, ["email": "allan@contoso.example", "code": try h.lastCode(for: "allan@contoso.example")])
        #expect(right.status == .unprocessableContent)
        #expect(right.bodyText.contains("entered wrongly too many times"))
        #expect(right.header("Set-Cookie") == nil)
    }

    @Test func anExpiredCodeAsksForANewOne() throws {
        let h = try Harness()
        _ = h.post(Paths.signInCode, ["email": "allan@contoso.example"])
        let code = try h.lastCode(for: "allan@contoso.example")
        h.clock.advance(by: 600)
        let response = h.post(Paths.signInVerify, ["email": "allan@contoso.example", "code": code])
        #expect(response.status == .unprocessableContent)
        #expect(response.bodyText.contains("That code has expired: codes are valid for 10 minutes. Ask for a new code."))
        #expect(response.bodyText.contains(#"action="/sign-in/code""#))
        #expect(!response.bodyText.contains(#"action="/sign-in/verify""#))
    }

    @Test func codeRequestsAreLimitedPerAddress() throws {
        let h = try Harness()
        for _ in 1...5 { #expect(h.post(Paths.signInCode, ["email": "allan@contoso.example"]).status == .ok) }
        let sixth = h.post(Paths.signInCode, ["email": "allan@contoso.example"])
        #expect(sixth.status == .tooManyRequests)
        #expect(sixth.header("Retry-After") == "900")
        #expect(sixth.bodyText.contains(
            "Too many sign-in codes were asked for this address recently. Try again in 15 minutes; the codes already sent still work until they expire."))
        #expect(try h.mailCount(to: "allan@contoso.example") == 5)
        // Another address from the same client is still served, and the window moves on.
        #expect(h.post(Paths.signInCode, ["email": "lee@contoso.example"]).status == .ok)
        h.clock.advance(by: 901)
        #expect(h.post(Paths.signInCode, ["email": "allan@contoso.example"]).status == .ok)
    }

    @Test func codeRequestsAreLimitedPerClient() throws {
        let h = try Harness()
        for n in 1...20 { #expect(h.post(Paths.signInCode, ["email": "p\(n)@contoso.example"]).status == .ok) }
        let next = h.post(Paths.signInCode, ["email": "p21@contoso.example"])
        #expect(next.status == .tooManyRequests)
        #expect(next.bodyText.contains("Too many sign-in codes were asked for your network address recently."))
        #expect(try h.mailCount(to: "p21@contoso.example") == 0)
        #expect(h.post(Paths.signInCode, ["email": "p21@contoso.example"], remote: "198.51.100.7").status == .ok)
    }

    @Test func blockedPeopleAreToldAndGetNoCode() throws {
        let h = try Harness()
        _ = try h.signIn("guest@fabrikam.example")
        try h.store.write { try $0.setBlocked(email: "guest@fabrikam.example", reason: "Your project ended") }
        let before = try h.mailCount(to: "guest@fabrikam.example")
        let response = h.post(Paths.signInCode, ["email": "guest@fabrikam.example"])
        #expect(response.status == .forbidden)
        #expect(response.bodyText.contains(
            "Your access to this portal is blocked, so no code was sent. Reason: Your project ended. If you think this is a mistake, contact the portal&#39;s administrators."))
        #expect(try h.mailCount(to: "guest@fabrikam.example") == before)
    }

    @Test func anInvalidEmailIsShownAgainWithItsMessage() throws {
        let h = try Harness()
        let response = h.post(Paths.signInCode, ["email": "allan.contoso.example", "return": "/my/requests/"])
        #expect(response.status == .unprocessableContent)
        #expect(response.bodyText.contains("“allan.contoso.example” is not an email address we can send a code to: expected exactly one &#39;@&#39;."))
        #expect(response.bodyText.contains(#"value="allan.contoso.example""#))
        let empty = h.post(Paths.signInCode, ["email": ""])
        #expect(empty.bodyText.contains("Enter your email address, for example name@example.com."))
    }

    @Test func aCrossOriginPostIsRefused() throws {
        let h = try Harness()
        let response = h.post(Paths.signInCode, ["email": "allan@contoso.example"], origin: "https://evil.example")
        #expect(response.status == .forbidden)
        #expect(response.bodyText.contains("This form was not sent from http://127.0.0.1:8080, so nothing was changed."))
        #expect(try h.mailCount(to: "allan@contoso.example") == 0)
        #expect(h.logLines.all.contains("POST /sign-in/code: refused: Origin https://evil.example is not http://127.0.0.1:8080"))
        let noOrigin = h.post(Paths.signOut, [:], origin: nil)
        #expect(noOrigin.status == .forbidden)
    }

    @Test func aMalformedFormIsA400PageNotA500() throws {
        let h = try Harness()
        let response = h.app.respond(to: RequestContext(
            method: .post, path: Paths.signInCode, contentType: "application/x-www-form-urlencoded",
            body: Array("email=%ZZ".utf8), origin: Harness.base))
        #expect(response.status == .badRequest)
        #expect(response.bodyText.contains("field “email” contains “%ZZ”, which is not a valid percent escape"))
        #expect(response.header("Content-Type") == "text/html; charset=utf-8")
        let json = h.app.respond(to: RequestContext(
            method: .post, path: Paths.signInVerify, contentType: "application/json", body: Array("{}".utf8), origin: Harness.base))
        #expect(json.status == .unsupportedMediaType)
        let unreadable = h.app.respond(params: ["REQUEST_METHOD": "GET", "DOCUMENT_URI": "/my/../etc"], body: [])
        #expect(unreadable.status == .badRequest)
    }

    private func wrongCode(_ h: Harness) throws -> String {
        let right = try h.lastCode(for: "allan@contoso.example")
        return right == "000000" ? "111111" : "000000"
    }
}
