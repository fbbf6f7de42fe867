import Foundation
import GatehouseModel
import Rendering
import SiteGenerator
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The example site, built by the generator and served by a real nginx from
/// `nginx/gatehouse.conf.in`, fetched over HTTP on a free loopback port.
struct NginxTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let csp = "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    @Test(.enabled(if: Tool.nginx != nil && Tool.curl != nil, "nginx or curl is not installed (make test installs both)"))
    func servesTheExampleSite() throws {
        let temp = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: temp) }
        let public_ = temp.appendingPathComponent("public")
        try buildExampleSite(into: public_)

        let server = try NginxInstance(prefix: temp.appendingPathComponent("nginx"), root: public_)
        defer { server.stop() }
        let http = HTTPClient(port: server.port)

        // The portal home lists the non-hidden packages only.
        let home = try http.get("/access-packages/")
        #expect(home.status == 200)
        #expect(home.header("Content-Type") == "text/html; charset=utf-8")
        for name in ["Internal_AccessPackage", "External_AccessPackage", "External contractor"] {
            #expect(home.body.contains(name), "home lists \(name)")
        }
        #expect(!home.body.contains("Finance reports"))
        #expect(!home.body.contains("/access-packages/finance-reports/"))

        // Security headers and the short cache policy of HTML.
        #expect(home.header("Content-Security-Policy") == Self.csp)
        #expect(home.header("X-Content-Type-Options") == "nosniff")
        #expect(home.header("Referrer-Policy") == "same-origin")
        #expect(home.header("X-Frame-Options") == "DENY")
        #expect(home.header("Cache-Control") == "no-cache")
        #expect(home.headers.filter { $0.name.lowercased() == "cache-control" }.count == 1)
        #expect(home.header("Server") == "nginx", "server_tokens off hides the version")

        // A package page: its name and the two absolute shareable links under the tenant's base URL.
        let package = try http.get("/access-packages/external-contractor/")
        #expect(package.status == 200)
        #expect(package.body.contains("External contractor"))
        #expect(package.body.contains("\"http://127.0.0.1:8080/access-packages/external-contractor/\""))
        #expect(package.body.contains("\"http://127.0.0.1:8080/access-packages/\""))

        // A hidden package is not listed but has its page.
        #expect(try http.get("/access-packages/finance-reports/").status == 200)

        // The request form, negotiated from Accept-Language.
        let formPath = "/access-packages/external-contractor/request/contractors/"
        let french = try http.get(formPath, headers: ["Accept-Language": "fr-FR,fr;q=0.9"])
        #expect(french.status == 200)
        #expect(french.body.contains("lang=\"fr\""))
        #expect(french.body.contains("Quelle équipe a gagné la finale 2022 ?"))
        #expect(french.body.contains("Argentine"))
        #expect(french.header("Vary") == "Accept-Language")
        let english = try http.get(formPath)
        #expect(english.status == 200)
        #expect(english.body.contains("lang=\"en\""))
        #expect(english.body.contains("Which team won the 2022 final?"))
        #expect(!english.body.contains("Quelle équipe"))
        #expect(english.header("Vary") == "Accept-Language")
        let unknownLanguage = try http.get(formPath, headers: ["Accept-Language": "de-DE,de;q=0.9"])
        #expect(unknownLanguage.body == english.body, "a language the tenant lacks gets the default")
        let explicit = try http.get(formPath + "fr/")
        #expect(explicit.body == french.body, "the switcher's explicit variant is the negotiated one")
        let explicitDefault = try http.get(formPath + "en/", headers: ["Accept-Language": "fr"])
        #expect(explicitDefault.body == english.body, "the explicit default language wins over Accept-Language")

        // Unknown paths get the friendly 404 page, with the security headers too.
        let missing = try http.get("/no/such/page")
        #expect(missing.status == 404)
        #expect(missing.body.contains("Page not found"))
        #expect(missing.body == (try String(contentsOf: public_.appendingPathComponent("404.html"), encoding: .utf8)))
        #expect(missing.header("Content-Security-Policy") == Self.csp)
        #expect(missing.header("X-Frame-Options") == "DENY")

        // Without a query, the sign-in page is the generated file (no handler runs in this test).
        let signIn = try http.get("/sign-in/")
        #expect(signIn.status == 200)
        #expect(signIn.body == (try String(contentsOf: public_.appendingPathComponent("sign-in/index.html"), encoding: .utf8)))

        // `/` sends people to the portal.
        let root = try http.get("/")
        #expect(root.status == 302)
        #expect(root.header("Location") == "/access-packages/")

        // The stylesheet, linked with a cache buster, is cached for a year.
        let link = try #require(home.body.firstMatch(of: /href="(\/assets\/gatehouse\.css\?v=[^"]+)"/))
        let css = try http.get(String(link.1))
        #expect(css.status == 200)
        #expect(css.header("Content-Type") == "text/css; charset=utf-8")
        #expect(css.header("Cache-Control") == "public, max-age=31536000, immutable")
        #expect(css.header("X-Content-Type-Options") == "nosniff")
        #expect(css.body == (try String(contentsOf: public_.appendingPathComponent("assets/gatehouse.css"), encoding: .utf8)))
    }

    @Test(.enabled(if: Tool.nginx != nil && Tool.curl != nil, "nginx or curl is not installed (make test installs both)"))
    func routesHandlerPathsToFastCGI() throws {
        let temp = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: temp) }
        let public_ = temp.appendingPathComponent("public")
        try FileManager.default.createDirectory(at: public_, withIntermediateDirectories: true)
        try Data("not found".utf8).write(to: public_.appendingPathComponent("404.html"))

        let server = try NginxInstance(prefix: temp.appendingPathComponent("nginx"), root: public_)
        defer { server.stop() }
        let http = HTTPClient(port: server.port)

        // No handler listens on the socket in this test: reaching it means 502, not 404.
        let postOnly = [Paths.submitRequest, Paths.signInCode, Paths.signInVerify, Paths.signOut]
        for path in postOnly {
            #expect(try http.post(path, form: "a=b").status == 502, "POST \(path)")
            #expect(try http.get(path).status == 403, "GET \(path) is refused")
        }
        for path in Paths.handlerPaths where !postOnly.contains(path) {
            #expect(try http.get(path).status == 502, "GET \(path)")
        }
        // The sign-in page is the generated file, unless a query asks the handler for it.
        #expect(try http.get("/sign-in/").status == 404, "no generated file in this test's root")
        #expect(try http.get("/sign-in/?return=/my/requests/").status == 502)
        #expect(try http.get(Paths.signInTerms).status == 502)
        // The session check is for nginx's auth_request only.
        #expect(try http.get(Paths.auth).status == 404)
        // Bodies over 64 KiB are refused before they reach the handler.
        let big = "a=" + String(repeating: "x", count: 70_000)
        #expect(try http.post(Paths.submitRequest, form: big).status == 413)
    }
}
