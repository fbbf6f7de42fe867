import FastCGIServer
import Foundation
import GatehouseModel
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Request submission end to end: real nginx, the handler in process on its unix socket, curl
/// with cookies, sign-in codes read from the .eml files.
struct RequestFlowTests {
    @Test(.enabled(if: Tool.nginx != nil && Tool.curl != nil, "nginx or curl is not installed (make test installs both)"))
    func requestsThroughNginx() throws {
        let portal = try ExamplePortal()
        defer { portal.stop() }
        let (base, handler, http) = (portal.base, portal.handler, portal.http)
        let sameSite = ["Origin": base]

        // The static form has no token; a post without a session is kept while the person signs
        // in, and comes back filled in.
        let internalForm = "package=internal-access-package&policy=members&language=en&justification=Onboarding"
        let anonymous = try http.post("/requests", form: internalForm, headers: sameSite)
        #expect(anonymous.status == 303)
        let toSignIn = try #require(anonymous.header("Location"))
        let draftPath = String(try #require(toSignIn.firstMatch(of: /^\/sign-in\/\?return=(\/my\/drafts\/[0-9a-f]{64}\/)$/)).1)
        let signInPage = try http.get(toSignIn)
        #expect(signInPage.body.contains("Sign in to send your request: what you typed in the form is kept"))
        #expect(signInPage.body.contains(#"name="return" value="\#(draftPath)""#))

        // Internal, no approval: delivered at once, the page shows the end date in the tenant's zone.
        let allan = try signIn("allan@contoso.example", http: http, handler: handler, base: base)
        // Only in the browser that posted it, which the site marked with a cookie.
        let browser = String(try #require(anonymous.header("Set-Cookie")).prefix { $0 != ";" })
        #expect(browser.hasPrefix("gatehouse_browser="))
        let kept = try http.get(draftPath, headers: ["Cookie": try #require(allan["Cookie"]) + "; " + browser])
        #expect(kept.status == 200)
        #expect(kept.body.contains(">Onboarding</textarea>"))
        #expect(try http.get(draftPath, headers: allan).status == 404, "another browser finds nothing")
        #expect(try http.get(draftPath).status == 303, "not signed in: sign in first")
        let expectedEnd = Self.longDate(Date().addingTimeInterval(365 * 86400))
        let submitted = try http.post("/requests", form: internalForm, headers: allan.merging(sameSite) { a, _ in a })
        #expect(submitted.status == 303)
        let location = try #require(submitted.header("Location"))
        #expect(location.hasPrefix("/my/requests/"))
        let delivered = try http.get(location, headers: allan)
        #expect(delivered.status == 200)
        #expect(delivered.body.contains("<dt>State</dt><dd>Delivered</dd>"))
        #expect(delivered.body.contains("until \(expectedEnd)"))
        let accessMail = try mail(containing: "Subject: You now have access to Internal_AccessPackage", in: handler)
        #expect(accessMail.contains("until \(expectedEnd)"))
        let access = try http.get("/my/access/", headers: allan)
        #expect(access.body.contains(">Internal_AccessPackage</a></td>"))
        // A double click: the same post again finds the same request.
        let replay = try http.post("/requests", form: internalForm, headers: allan.merging(sameSite) { a, _ in a })
        #expect(replay.header("Location") == location)

        // External partner: pending approval, listed in the history.
        let ana = try signIn("ana@azureblog.example", http: http, handler: handler, base: base)
        let partner = try http.post(
            "/requests", form: "package=external-access-package&policy=azureblog&language=en&justification=Booking+guide",
            headers: ana.merging(sameSite) { a, _ in a })
        #expect(partner.status == 303)
        let pending = try http.get(try #require(partner.header("Location")), headers: ana)
        #expect(pending.body.contains("<dt>State</dt><dd>Pending approval</dd>"))
        let history = try http.get("/my/requests/", headers: ana)
        #expect(history.body.contains(">External_AccessPackage</a></td><td>Pending approval</td>"))
        // Someone else's request is not found.
        #expect(try http.get(try #require(partner.header("Location")), headers: allan).status == 404)

        // Validation errors come back on the form with the message next to the field.
        let missing = try http.post(
            "/requests", form: "package=external-contractor&policy=contractors&language=fr&answer.company=Acme",
            headers: ana.merging(sameSite) { a, _ in a })
        #expect(missing.status == 422)
        #expect(missing.body.contains("Business justification is required: say why you need this access."))
        #expect(missing.body.contains(#"value="Acme""#))

        // A cross-origin post is refused and creates nothing.
        let forged = try http.post(
            "/requests", form: "package=external-contractor&policy=contractors&justification=x&answer.final=france",
            headers: ana.merging(["Origin": "https://evil.example"]) { a, _ in a })
        #expect(forged.status == 403)
        #expect(!(try http.get("/my/requests/", headers: ana).body.contains("External contractor")))
    }

    /// Signs in with the code from the .eml file (accepting the terms for an external person); returns the Cookie header.
    private func signIn(_ email: String, http: HTTPClient, handler: HandlerInstance, base: String) throws -> [String: String] {
        let sameSite = ["Origin": base]
        let encoded = email.replacingOccurrences(of: "@", with: "%40")
        let asked = try http.post("/sign-in/code", form: "email=\(encoded)&return=%2Fmy%2F", headers: sameSite)
        #expect(asked.status == 200)
        let codeMail = try mail(containing: "To: \(email)", in: handler)
        let code = String(try #require(codeMail.firstMatch(of: /^ {4}(\d{6})$/.anchorsMatchLineEndings())).1)
        let verified = try http.post("/sign-in/verify", form: "email=\(encoded)&code=\(code)&return=%2Fmy%2F", headers: sameSite)
        #expect(verified.status == 303)
        let cookie = ["Cookie": String(try #require(verified.header("Set-Cookie")).prefix { $0 != ";" })]
        if verified.header("Location")?.hasPrefix("/sign-in/terms") == true {
            let accepted = try http.post("/sign-in/terms", form: "name=Guest+Person&return=%2Fmy%2F", headers: cookie.merging(sameSite) { a, _ in a })
            #expect(accepted.status == 303)
        }
        return cookie
    }

    /// The first .eml file containing `text`, waiting up to 5 s for it.
    private func mail(containing text: String, in handler: HandlerInstance) throws -> String {
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: handler.mailFolder.path)) ?? []
            for name in names.sorted() where name.hasSuffix(".eml") {
                if let body = try? String(contentsOf: handler.mailFolder.appendingPathComponent(name), encoding: .utf8),
                   body.contains(text) {
                    return body
                }
            }
            usleep(20_000)
        }
        throw NginxFailure(message: "no mail containing \(text) arrived within 5 s")
    }

    /// "18 November 2027" in the tenant's zone (Europe/Paris), as the pages write days.
    static func longDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "Europe/Paris")
        formatter.dateFormat = "d MMMM yyyy"
        return formatter.string(from: date)
    }
}
