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
        // Bodies over 64 KiB are refused before they reach the handler.
        let big = "a=" + String(repeating: "x", count: 70_000)
        #expect(try http.post(Paths.submitRequest, form: big).status == 413)
    }

    /// Builds site/ and templates/ of the repository like `gatehouse build` does, on a fixed day.
    private func buildExampleSite(into output: URL) throws {
        let today = try #require(CalendarDay("2026-11-23"))
        let options = BuildOptions(
            siteDirectory: Self.repository.appendingPathComponent("site"),
            templatesDirectory: Self.repository.appendingPathComponent("templates"),
            outputDirectory: output,
            today: today
        )
        _ = try Generator.build(options, progress: { _ in })
    }
}

// MARK: - Helpers

/// Executables the test needs, found on PATH or in the sbin folders (nginx lives in /usr/sbin).
enum Tool {
    static let nginx = find("nginx")
    static let curl = find("curl")

    static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let folders = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/local/sbin", "/sbin"]
        return folders.map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// A fresh folder under the system's temporary folder; the caller removes it.
func makeTemporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("gatehouse-integration-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// nginx in the foreground, configured from nginx/gatehouse.conf.in with everything it writes
/// under `prefix`, on a free loopback port.
final class NginxInstance {
    let port: UInt16
    let prefix: URL
    private let process = Process()

    init(prefix: URL, root: URL) throws {
        self.prefix = prefix
        try FileManager.default.createDirectory(at: prefix, withIntermediateDirectories: true)
        port = try freeLoopbackPort()
        let template = try String(
            contentsOf: NginxTests.repository.appendingPathComponent("nginx/gatehouse.conf.in"), encoding: .utf8)
        let config = template
            .replacingOccurrences(of: "@PREFIX@", with: prefix.path)
            .replacingOccurrences(of: "@ROOT@", with: root.path)
            .replacingOccurrences(of: "@LISTEN@", with: "127.0.0.1:\(port)")
            .replacingOccurrences(of: "@SOCKET@", with: prefix.appendingPathComponent("gatehouse.sock").path)
            .replacingOccurrences(of: "@USER_LINE@", with: geteuid() == 0 ? "user root;" : "")
        let configFile = prefix.appendingPathComponent("nginx.conf")
        try Data(config.utf8).write(to: configFile)

        let errorLog = prefix.appendingPathComponent("error.log")
        guard let nginx = Tool.nginx else { throw NginxFailure(message: "nginx is not installed") }
        process.executableURL = URL(fileURLWithPath: nginx)
        process.arguments = ["-p", prefix.path + "/", "-c", configFile.path, "-e", errorLog.path]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()

        // Wait until the port answers (or nginx gives up).
        let deadline = Date().addingTimeInterval(15)
        while !canConnect(port: port) {
            if !process.isRunning || Date() > deadline {
                stop()
                let log = (try? String(contentsOf: errorLog, encoding: .utf8)) ?? "(no error.log)"
                throw NginxFailure(message: "nginx did not start on 127.0.0.1:\(port):\n\(log)")
            }
            usleep(20_000)
        }
    }

    /// Fast shutdown (SIGTERM): the master stops its workers and exits.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        process.waitUntilExit()
    }
}

struct NginxFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// A port the kernel just handed out on 127.0.0.1 and that nobody listens on now.
func freeLoopbackPort() throws -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw NginxFailure(message: "socket() failed: errno \(errno)") }
    defer { close(fd) }
    var address = loopback(port: 0)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
        }
    }
    guard bound else { throw NginxFailure(message: "could not bind a loopback port: errno \(errno)") }
    return UInt16(bigEndian: address.sin_port)
}

func canConnect(port: UInt16) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = loopback(port: port)
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
}

private func loopback(port: UInt16) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    return address
}

/// One HTTP exchange through curl (no redirects followed, no Accept-Language unless given).
struct HTTPResponse {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: String

    /// The value of the first header with that name (case-insensitive).
    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

struct HTTPClient {
    var port: UInt16

    func get(_ path: String, headers: [String: String] = [:]) throws -> HTTPResponse {
        try request(path, arguments: headers.sorted { $0.key < $1.key }.flatMap { ["-H", "\($0.key): \($0.value)"] })
    }

    func post(_ path: String, form: String) throws -> HTTPResponse {
        try request(path, arguments: ["--data-binary", form, "-H", "Content-Type: application/x-www-form-urlencoded"])
    }

    private func request(_ path: String, arguments: [String]) throws -> HTTPResponse {
        let curl = Process()
        guard let executable = Tool.curl else { throw NginxFailure(message: "curl is not installed") }
        curl.executableURL = URL(fileURLWithPath: executable)
        curl.arguments = ["--silent", "--show-error", "--include", "--max-time", "10"] + arguments
            + ["http://127.0.0.1:\(port)\(path)"]
        let output = Pipe()
        curl.standardOutput = output
        curl.standardError = FileHandle.nullDevice
        try curl.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        curl.waitUntilExit()
        guard curl.terminationStatus == 0 else {
            throw NginxFailure(message: "curl \(path) failed with status \(curl.terminationStatus)")
        }
        let text = String(decoding: data, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else {
            throw NginxFailure(message: "no HTTP header in the answer to \(path): \(text.prefix(200))")
        }
        let lines = text[..<split.lowerBound].components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            throw NginxFailure(message: "bad status line for \(path): \(lines[0])")
        }
        let headers = lines.dropFirst().compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return HTTPResponse(status: status, headers: headers, body: String(text[split.upperBound...]))
    }
}
