import FastCGIServer
import Foundation
import GatehouseMail
import GatehouseModel
import GatehouseSite
import GatehouseStore
import Handlers
import Portal
import Rendering
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Sign-in end to end: real nginx from the template, `gatehouse serve`'s pieces in process (the
/// app on a FastCGI unix socket and the mail pump writing .eml files), curl with cookies.
struct SignInTests {
    @Test(.enabled(if: Tool.nginx != nil && Tool.curl != nil, "nginx or curl is not installed (make test installs both)"))
    func signInByEmailedCodeThroughNginx() throws {
        let portal = try ExamplePortal()
        defer { portal.stop() }
        let (base, handler, http) = (portal.base, portal.handler, portal.http)
        let sameSite = ["Origin": base]

        // Not signed in: the handler sends the person to sign in, keeping the page.
        let anonymous = try http.get("/my/requests/")
        #expect(anonymous.status == 303)
        #expect(anonymous.header("Location") == "/sign-in/?return=/my/requests/")
        // A client cannot claim an identity: nginx clears X-Gatehouse-User (single sign-on is on here).
        #expect(try http.get("/my/requests/", headers: ["X-Gatehouse-User": "megan@contoso.example"]).status == 303)
        // nginx's auth_request guards /admin/ and sends the person to sign in first.
        let admin = try http.get("/admin/")
        #expect(admin.status == 303)
        #expect(admin.header("Location") == "/sign-in/?return=/admin/")
        // The handler writes that redirect, so the page's own query comes back whole.
        let adminQuery = try http.get("/admin/catalogs/general/?policy=a&x=1")
        #expect(adminQuery.status == 303)
        let back = try #require(adminQuery.header("Location"))
        #expect(back == "/sign-in/?return=/admin/catalogs/general/%3Fpolicy%3Da%26x%3D1")
        #expect(try http.get(back).body.contains(#"name="return" value="/admin/catalogs/general/?policy=a&amp;x=1""#))
        #expect(try http.get("/auth").status == 404, "/auth is internal")

        // The handler's sign-in page keeps the return path; the handler's pages carry nginx's headers.
        let signIn = try http.get("/sign-in/?return=/my/requests/")
        #expect(signIn.status == 200)
        #expect(signIn.body.contains(#"<input type="hidden" name="return" value="/my/requests/">"#))
        #expect(signIn.header("Content-Security-Policy") == NginxTests.csp)
        #expect(signIn.header("Cache-Control") == "no-store")
        // One of each: nginx adds its own only when the handler did not.
        for name in ["cache-control", "x-content-type-options"] {
            #expect(signIn.headers.filter { $0.name.lowercased() == name }.count == 1, "\(name) once")
        }

        // Ask for a code; it arrives as an .eml file.
        let asked = try http.post("/sign-in/code", form: "email=allan%40contoso.example&return=%2Fmy%2Frequests%2F", headers: sameSite)
        #expect(asked.status == 200)
        #expect(asked.body.contains("We sent a 6-digit code to allan@contoso.example."))
        let mail = try handler.waitForMail()
        #expect(mail.contains("Subject: Your sign-in code for Internal LAB"))
        #expect(mail.contains("To: allan@contoso.example"))
        let code = String(try #require(mail.firstMatch(of: /^ {4}(\d{6})$/.anchorsMatchLineEndings())).1)

        // A cross-site post is refused before anything happens.
        let forged = try http.post("/sign-in/verify", form: "email=allan%40contoso.example&code=\(code)",
                                   headers: ["Origin": "https://evil.example"])
        #expect(forged.status == 403)
        #expect(forged.body.contains("This form was not sent from \(base), so nothing was changed."))
        #expect(forged.header("Set-Cookie") == nil)

        // The right code opens a session and goes back to the page.
        let verified = try http.post("/sign-in/verify", form: "email=allan%40contoso.example&code=\(code)&return=%2Fmy%2Frequests%2F", headers: sameSite)
        #expect(verified.status == 303)
        #expect(verified.header("Location") == "/my/requests/")
        let setCookie = try #require(verified.header("Set-Cookie"))
        #expect(setCookie.hasSuffix("; Path=/; Max-Age=604800; HttpOnly; SameSite=Lax"))
        let cookie = ["Cookie": String(setCookie.prefix { $0 != ";" })]

        let page = try http.get("/my/requests/", headers: cookie)
        #expect(page.status == 200)
        #expect(page.body.contains("Signed in as Allan Deyoung &lt;allan@contoso.example&gt;"))
        #expect(page.body.contains("You have not requested any access yet."))
        // The navigation names the person and offers to sign out, not to sign in.
        #expect(page.body.contains(#"<li class="nav-person"><form method="post" action="/sign-out">"#))
        #expect(page.body.contains(#"Allan Deyoung</span> <button type="submit">Sign out</button>"#))
        #expect(!page.body.contains(#"href="/sign-in/""#))
        // The generated pages cannot know who is signed in; their "Sign in" takes this person on.
        let signInAgain = try http.get("/sign-in/", headers: cookie)
        #expect(signInAgain.status == 303)
        #expect(signInAgain.header("Location") == "/my/")
        let backToPackage = try http.get("/sign-in/?return=%2Faccess-packages%2Finternal-access-package%2F", headers: cookie)
        #expect(backToPackage.header("Location") == "/access-packages/internal-access-package/")
        // auth_request lets the signed-in person through to the handler, which says which role is missing.
        let adminSignedIn = try http.get("/admin/", headers: cookie)
        #expect(adminSignedIn.status == 403)
        #expect(adminSignedIn.body.contains("You have none of these roles."))

        // A cross-site sign-out is refused and the session lives on.
        let forgedOut = try http.post("/sign-out", form: "", headers: cookie.merging(["Origin": "https://evil.example"]) { a, _ in a })
        #expect(forgedOut.status == 403)
        #expect(try http.get("/my/requests/", headers: cookie).status == 200)

        // Sign out: the cookie is deleted, and the old one no longer works anywhere.
        let out = try http.post("/sign-out", form: "", headers: cookie.merging(sameSite) { a, _ in a })
        #expect(out.status == 303)
        #expect(out.header("Location") == "/access-packages/")
        #expect(out.header("Set-Cookie")?.hasPrefix("gatehouse_session=; Path=/; Max-Age=0;") == true)
        let after = try http.get("/my/requests/", headers: cookie)
        #expect(after.status == 200)
        #expect(after.body.contains("Your session ended; sign in again to continue."))
        #expect(!after.body.contains("Signed in as"))
        // With the ended session's cookie, the sign-in page asks for an email again.
        let signInAfter = try http.get("/sign-in/", headers: cookie)
        #expect(signInAfter.status == 200)
        #expect(signInAfter.body.contains(#"name="email""#))
        #expect(try http.get("/admin/", headers: cookie).status == 303)
    }
}

/// The handler as `gatehouse serve` composes it, on a unix socket in the test's folder.
final class HandlerInstance: @unchecked Sendable {
    let mailFolder: URL
    private let server: FastCGIServer
    private let pump: MailPump
    private let finished = DispatchSemaphore(value: 0)

    init(socket: URL, folder: URL, baseURL: String) throws {
        let files = try SiteFiles.read(directory: NginxTests.repository.appendingPathComponent("site").path)
        let today = try #require(CalendarDay("2026-11-23"))
        var site = try #require(SiteLoader(today: today).load(files).site)
        site.tenant.baseURL = baseURL
        let theme = try Theme.load(directory: NginxTests.repository.appendingPathComponent("templates").path)
        let store = try Store(path: folder.appendingPathComponent("gatehouse.sqlite").path)
        let app = try App(
            site: site, store: store, theme: theme,
            settings: App.Settings(singleSignOnParam: RequestContext.defaultSingleSignOnParam))
        mailFolder = folder.appendingPathComponent("mail")
        pump = MailPump(
            sender: MailSender(
                queue: StoreMailQueue(store: store, from: try MailAddress("noreply@contoso.example")),
                transport: OutboxFolderTransport(folder: mailFolder)),
            interval: 0.05)
        server = FastCGIServer(listener: .unixSocket(path: socket.path, mode: 0o660, group: nil), workers: 2, log: { _ in }) {
            request in
            let response = app.respond(params: request.params, body: request.body)
            return FastCGIResponse(status: response.status.code, headers: response.headers.map { ($0.name, $0.value) }, body: response.body)
        }
        try server.open()
        pump.start()
        let server = server, finished = finished
        Thread {
            try? server.run()
            finished.signal()
        }.start()
    }

    /// The text of the first .eml file in the mail folder, waiting up to 5 s for it.
    func waitForMail() throws -> String {
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if let name = try? FileManager.default.contentsOfDirectory(atPath: mailFolder.path).first(where: { $0.hasSuffix(".eml") }) {
                return try String(contentsOf: mailFolder.appendingPathComponent(name), encoding: .utf8)
            }
            usleep(20_000)
        }
        throw NginxFailure(message: "no .eml file arrived in \(mailFolder.path) within 5 s")
    }

    func stop() {
        server.shutdown()
        finished.wait()
        pump.stop()
    }
}
