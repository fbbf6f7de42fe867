import FastCGIServer
import Foundation
import GatehouseMail
import GatehouseModel
import GatehouseSite
import GatehouseStore
import Governance
import Handlers
import Portal
import Rendering
import SiteGenerator
import Testing
import Workflow

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Helpers shared by the integration suites: real nginx from nginx/gatehouse.conf.in on a free
// loopback port, and curl.

/// Builds site/ and templates/ of the repository like `gatehouse build` does, on a fixed day.
func buildExampleSite(into output: URL) throws {
    let today = try #require(CalendarDay("2026-11-23"))
    let options = BuildOptions(
        siteDirectory: NginxTests.repository.appendingPathComponent("site"),
        templatesDirectory: NginxTests.repository.appendingPathComponent("templates"),
        outputDirectory: output,
        today: today
    )
    _ = try Generator.build(options, progress: { _ in })
}

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
struct CurlResponse {
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

    func get(_ path: String, headers: [String: String] = [:]) throws -> CurlResponse {
        try request(path, arguments: headers.sorted { $0.key < $1.key }.flatMap { ["-H", "\($0.key): \($0.value)"] })
    }

    func post(_ path: String, form: String, headers: [String: String] = [:]) throws -> CurlResponse {
        try request(path, arguments: ["--data-binary", form, "-H", "Content-Type: application/x-www-form-urlencoded"]
            + headers.sorted { $0.key < $1.key }.flatMap { ["-H", "\($0.key): \($0.value)"] })
    }

    private func request(_ path: String, arguments: [String]) throws -> CurlResponse {
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
        return CurlResponse(status: status, headers: headers, body: String(text[split.upperBound...]))
    }
}

// MARK: - Handler walks: an injectable clock, a site copy, the served portal and a browser per person

/// A clock the test moves by hand; the in-process App and the mail pump read it.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    /// Starts at `start`, by default the current whole second (the store keeps milliseconds, so
    /// a fractional start would blur the exact expiry boundaries the tests check).
    init(_ start: Date = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))) { current = start }

    /// The time the handler sees now.
    var now: Date { lock.withLock { current } }

    /// Moves the clock forward by `seconds`.
    func advance(by seconds: TimeInterval) { lock.withLock { current = current.addingTimeInterval(seconds) } }
}

/// Copies the repository's site/ into `folder/site`, applying `edits` (file path relative to
/// site/ → new contents from the old), so a test can change the model without touching the repository.
func copyExampleSite(into folder: URL, edits: [String: (String) -> String] = [:]) throws -> URL {
    let copy = folder.appendingPathComponent("site")
    try FileManager.default.copyItem(at: NginxTests.repository.appendingPathComponent("site"), to: copy)
    for (path, edit) in edits {
        let file = copy.appendingPathComponent(path)
        let old = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(edit(old).utf8).write(to: file)
    }
    return copy
}

/// The text as the templates write it into HTML (swift-mustache escapes & < > " ').
func html(_ text: String) -> String {
    var out = ""
    for character in text {
        switch character {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(character)
        }
    }
    return out
}

/// One form field encoded as the browser posts it.
func formPair(_ name: String, _ value: String) -> String {
    URLEncodedForm.encode(name) + "=" + URLEncodedForm.encode(value)
}

/// The portal as `gatehouse serve` runs it behind nginx, for one test: the example site built into
/// the test's folder, nginx from the template, the App in process on the unix socket with the
/// given site folder, clock and settings, its store reachable by the test, mails as .eml files.
final class ServedPortal: @unchecked Sendable {
    let folder: URL
    let nginx: NginxInstance
    let store: Store
    let clock: TestClock
    let mailFolder: URL
    let http: HTTPClient
    /// The site's origin, `http://127.0.0.1:<port>`, as the base URL of the tenant.
    let base: String
    private let server: FastCGIServer
    private let pump: MailPump
    private let finished = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var readMails: Set<String> = []

    init(site siteDirectory: URL? = nil, settings: App.Settings = App.Settings(), clock: TestClock = TestClock()) throws {
        folder = try makeTemporaryFolder()
        self.clock = clock
        let public_ = folder.appendingPathComponent("public")
        try buildExampleSite(into: public_)
        nginx = try NginxInstance(prefix: folder.appendingPathComponent("nginx"), root: public_)
        base = "http://127.0.0.1:\(nginx.port)"
        http = HTTPClient(port: nginx.port)

        let files = try SiteFiles.read(directory: (siteDirectory ?? NginxTests.repository.appendingPathComponent("site")).path)
        let today = try #require(CalendarDay("2026-11-23"))
        let loaded = SiteLoader(today: today).load(files)
        var site = try #require(loaded.site, "the site loads: \(loaded.diagnostics)")
        site.tenant.baseURL = base
        let theme = try Theme.load(directory: NginxTests.repository.appendingPathComponent("templates").path)
        store = try Store(path: folder.appendingPathComponent("gatehouse.sqlite").path)
        let app = try App(site: site, store: store, theme: theme, settings: settings, clock: { clock.now })
        mailFolder = folder.appendingPathComponent("mail")
        pump = MailPump(
            sender: MailSender(
                queue: StoreMailQueue(store: store, from: try MailAddress("noreply@contoso.example")),
                transport: OutboxFolderTransport(folder: mailFolder)),
            interval: 0.05, clock: { clock.now })
        server = FastCGIServer(
            listener: .unixSocket(path: nginx.prefix.appendingPathComponent("gatehouse.sock").path, mode: 0o660, group: nil),
            workers: 2, log: { _ in }
        ) { request in
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

    /// Stops the handler, the pump and nginx, and removes the test's folder.
    func stop() {
        server.shutdown()
        finished.wait()
        pump.stop()
        nginx.stop()
        try? FileManager.default.removeItem(at: folder)
    }

    /// A browser with no cookie yet.
    func browser() -> Browser { Browser(http: http, base: base) }

    /// The next .eml file not read before that contains `text`, waiting up to 5 s for it.
    func nextMail(containing text: String) throws -> String {
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: mailFolder.path)) ?? []
            for name in names.sorted() where name.hasSuffix(".eml") && !lock.withLock({ readMails.contains(name) }) {
                if let body = try? String(contentsOf: mailFolder.appendingPathComponent(name), encoding: .utf8), body.contains(text) {
                    lock.withLock { _ = readMails.insert(name) }
                    return body
                }
            }
            usleep(20_000)
        }
        throw NginxFailure(message: "no new mail containing \(text) arrived within 5 s")
    }

    /// The name an external person gives with the terms: "Don Guest" for don@….
    static func guestName(_ email: String) -> String {
        email.prefix { $0 != "@" }.capitalized + " Guest"
    }

    /// Signs `email` in with the emailed code (accepting the terms for an external person) and
    /// returns their browser holding the session cookie.
    func signIn(_ email: String, in existing: Browser? = nil) throws -> Browser {
        let browser = existing ?? browser()
        let asked = try browser.post(Paths.signInCode, form: formPair("email", email) + "&" + formPair("return", "/my/"))
        guard asked.status == 200 else { throw NginxFailure(message: "code request for \(email): \(asked.status)") }
        let verified = try browser.post(Paths.signInVerify, form: formPair("email", email) + "&code=\(try code(for: email))&return=%2Fmy%2F")
        guard verified.status == 303, browser.cookie != nil else { throw NginxFailure(message: "sign-in of \(email): \(verified.status)") }
        if verified.header("Location")?.hasPrefix(Paths.signInTerms) == true {
            let accepted = try browser.post(Paths.signInTerms, form: formPair("name", Self.guestName(email)) + "&return=%2Fmy%2F")
            guard accepted.status == 303 else { throw NginxFailure(message: "terms for \(email): \(accepted.status)") }
        }
        return browser
    }

    /// The 6-digit code of the next sign-in mail to `email`.
    func code(for email: String) throws -> String {
        let mail = try nextMail(containing: "To: \(email)")
        guard let match = mail.firstMatch(of: /^ {4}(\d{6})$/.anchorsMatchLineEndings()) else {
            throw NginxFailure(message: "no code in the mail to \(email)")
        }
        return String(match.1)
    }
}

/// One person's browser: keeps the cookies the site sets (the session's and the one that marks
/// the browser) and sends posts from the site's own origin unless told otherwise.
final class Browser: @unchecked Sendable {
    let http: HTTPClient
    let base: String
    /// The cookies as `(name, value)`, in the order they were first set.
    private var jar: [(name: String, value: String)] = []

    /// `gatehouse_session=…`, as the browser sends it; nil once the site deleted it.
    var cookie: String? {
        get { jar.first { $0.name == SessionCookie.defaultName }.map { "\($0.name)=\($0.value)" } }
        set {
            jar.removeAll { $0.name == SessionCookie.defaultName }
            if let newValue, let pair = Self.pair(newValue) { jar.append(pair) }
        }
    }

    init(http: HTTPClient, base: String, cookie: String? = nil) {
        self.http = http
        self.base = base
        self.cookie = cookie
    }

    func get(_ path: String, headers: [String: String] = [:]) throws -> CurlResponse {
        keep(try http.get(path, headers: withCookie(headers)))
    }

    /// A form post with `Origin: base` unless `headers` names another origin (an empty one sends none).
    func post(_ path: String, form: String, headers: [String: String] = [:]) throws -> CurlResponse {
        let sent = ["Origin": base].merging(headers) { _, new in new }.filter { !$0.value.isEmpty }
        return keep(try http.post(path, form: form, headers: withCookie(sent)))
    }

    private func withCookie(_ headers: [String: String]) -> [String: String] {
        guard !jar.isEmpty else { return headers }
        return headers.merging(["Cookie": jar.map { "\($0.name)=\($0.value)" }.joined(separator: "; ")]) { old, _ in old }
    }

    private func keep(_ response: CurlResponse) -> CurlResponse {
        for header in response.headers where header.name.lowercased() == "set-cookie" {
            guard let pair = Self.pair(header.value) else { continue }
            jar.removeAll { $0.name == pair.name }
            if !header.value.contains("Max-Age=0") { jar.append(pair) }
        }
        return response
    }

    /// `name=value` from a `Cookie` pair or the start of a `Set-Cookie` value.
    private static func pair(_ text: String) -> (name: String, value: String)? {
        let first = text.prefix { $0 != ";" }
        guard let equals = first.firstIndex(of: "=") else { return nil }
        return (String(first[..<equals]).trimmingCharacters(in: .whitespaces), String(first[first.index(after: equals)...]))
    }
}

/// A quoted-printable mail body as a person reads it: soft line breaks joined, `=3D` back to `=`
/// (enough for the ASCII text and links the tests look for).
func unfolded(_ mail: String) -> String {
    mail.replacingOccurrences(of: "=\r\n", with: "").replacingOccurrences(of: "=\n", with: "")
        .replacingOccurrences(of: "=3D", with: "=")
}

/// The example site behind real nginx, with the handler in process on nginx's socket: what the
/// sign-in and request-flow walks start from. `stop()` ends both and removes the folder.
final class ExamplePortal {
    let folder: URL
    let nginx: NginxInstance
    let handler: HandlerInstance
    let http: HTTPClient
    /// `http://127.0.0.1:<port>`, also the origin posts must come from.
    let base: String

    init() throws {
        folder = try makeTemporaryFolder()
        do {
            let public_ = folder.appendingPathComponent("public")
            try buildExampleSite(into: public_)
            nginx = try NginxInstance(prefix: folder.appendingPathComponent("nginx"), root: public_)
            base = "http://127.0.0.1:\(nginx.port)"
            do {
                handler = try HandlerInstance(
                    socket: nginx.prefix.appendingPathComponent("gatehouse.sock"), folder: folder, baseURL: base)
            } catch {
                nginx.stop()
                throw error
            }
            http = HTTPClient(port: nginx.port)
        } catch {
            try? FileManager.default.removeItem(at: folder)
            throw error
        }
    }

    func stop() {
        handler.stop()
        nginx.stop()
        try? FileManager.default.removeItem(at: folder)
    }
}

// MARK: - Approval walks: mail as its reader sees it, sign-in that returns to a page, the sweep

/// One delivered mail as its reader sees it: headers unfolded, the quoted-printable text decoded
/// to UTF-8 with LF line ends. (Encoded-word headers are left encoded: the tests' subjects are ASCII.)
struct ReceivedMail: CustomStringConvertible {
    var to: String
    var subject: String
    var text: String

    /// Reads an .eml file as `MailMessage.rfc5322` writes it.
    init(eml: String) {
        let split = eml.range(of: "\r\n\r\n")
        let head = String(eml[..<(split?.lowerBound ?? eml.endIndex)]).replacingOccurrences(of: "\r\n ", with: " ")
        var fields: [String: String] = [:]
        for line in head.components(separatedBy: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            if fields[name] == nil { fields[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces) }
        }
        to = fields["to"] ?? ""
        subject = fields["subject"] ?? ""
        text = Self.decodeQuotedPrintable(split.map { String(eml[$0.upperBound...]) } ?? "")
            .replacingOccurrences(of: "\r\n", with: "\n")
    }

    /// Soft line breaks joined, `=XX` back to its byte, the bytes read as UTF-8.
    static func decodeQuotedPrintable(_ body: String) -> String {
        let input = Array(body.replacingOccurrences(of: "=\r\n", with: "").utf8)
        var bytes: [UInt8] = []
        var index = 0
        while index < input.count {
            if input[index] == UInt8(ascii: "="), index + 2 < input.count,
               let byte = UInt8(String(decoding: input[(index + 1)...(index + 2)], as: UTF8.self), radix: 16) {
                bytes.append(byte)
                index += 3
            } else {
                bytes.append(input[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    var description: String { "To: \(to)\nSubject: \(subject)\n\n\(text)" }
}

extension ServedPortal {
    /// The next unread mail to `recipient` whose subject is exactly `subject`, waiting up to 5 s for
    /// it; it counts as read afterwards (for this and `nextMail(containing:)`).
    func nextMail(to recipient: String, subject: String) throws -> ReceivedMail {
        try nextMail(to: recipient, describedAs: "with the subject “\(subject)”") { $0.subject == subject }
    }

    /// The next unread mail to `recipient` that `matches`, waiting up to 5 s; the error lists the
    /// unread subjects to that person.
    func nextMail(to recipient: String, describedAs what: String, where matches: (ReceivedMail) -> Bool) throws
        -> ReceivedMail
    {
        let deadline = Date().addingTimeInterval(5)
        var seen: [String] = []
        repeat {
            seen = []
            let names = (try? FileManager.default.contentsOfDirectory(atPath: mailFolder.path)) ?? []
            for name in names.sorted() where name.hasSuffix(".eml") && !lock.withLock({ readMails.contains(name) }) {
                guard let eml = try? String(contentsOf: mailFolder.appendingPathComponent(name), encoding: .utf8) else { continue }
                let mail = ReceivedMail(eml: eml)
                guard mail.to.lowercased() == recipient.lowercased() else { continue }
                if matches(mail) {
                    lock.withLock { _ = readMails.insert(name) }
                    return mail
                }
                seen.append(mail.subject)
            }
            usleep(20_000)
        } while Date() < deadline
        throw NginxFailure(message: "no new mail to \(recipient) \(what) arrived within 5 s; unread: \(seen)")
    }

    /// Signs `email` in from `browser` through the sign-in form with `return` = `path` (code from
    /// the next unread sign-in mail, so other unread mail to the person stays unread), accepting the
    /// terms when asked. Returns where the portal sends the person last.
    @discardableResult
    func signIn(_ email: String, in browser: Browser, returningTo path: String) throws -> String? {
        let asked = try browser.post(Paths.signInCode, form: formPair("email", email) + "&" + formPair("return", path))
        guard asked.status == 200 else { throw NginxFailure(message: "code request for \(email): \(asked.status)") }
        let mail = try nextMail(to: email, describedAs: "with a sign-in code") { $0.subject.hasPrefix("Your sign-in code") }
        guard let code = mail.text.firstMatch(of: /^ {4}(\d{6})$/.anchorsMatchLineEndings()) else {
            throw NginxFailure(message: "no code in the mail to \(email): \(mail)")
        }
        let verified = try browser.post(
            Paths.signInVerify, form: [formPair("email", email), formPair("code", String(code.1)), formPair("return", path)].joined(separator: "&"))
        guard verified.status == 303, browser.cookie != nil else { throw NginxFailure(message: "sign-in of \(email): \(verified.status)") }
        guard verified.header("Location")?.hasPrefix(Paths.signInTerms) == true else { return verified.header("Location") }
        let accepted = try browser.post(Paths.signInTerms, form: formPair("name", Self.guestName(email)) + "&" + formPair("return", path))
        guard accepted.status == 303 else { throw NginxFailure(message: "terms for \(email): \(accepted.status)") }
        return accepted.header("Location")
    }

    /// A new browser signed in as `email` (see `signIn(_:in:returningTo:)`), also when approval
    /// mail to them is still unread.
    func signedIn(_ email: String) throws -> Browser {
        let browser = browser()
        try signIn(email, in: browser, returningTo: Paths.myHome)
        return browser
    }

    /// `gatehouse sweep` in process at the clock's time: a `Sweeper` on its own connection to the
    /// portal's database file, with `Approvals` over the site the handler serves (`site`: the folder
    /// given to `init`, nil for the repository's) and its base URL.
    func sweep(site directory: URL? = nil) throws -> SweepReport {
        let files = try SiteFiles.read(directory: (directory ?? NginxTests.repository.appendingPathComponent("site")).path)
        let loaded = SiteLoader(today: try #require(CalendarDay("2026-11-23"))).load(files)
        var site = try #require(loaded.site, "the site loads: \(loaded.diagnostics)")
        site.tenant.baseURL = base
        let approvals = Approvals(
            site: site, calendar: try TenantCalendar(timeZoneIdentifier: site.tenant.timeZone),
            newID: { UUID().uuidString.lowercased() })
        let store = try Store(path: folder.appendingPathComponent("gatehouse.sqlite").path)
        let logged = SweepLog()
        let report = try Sweeper(store: store, approvals: approvals, log: { logged.append($0) }).run(now: clock.now)
        if !logged.lines.isEmpty { throw NginxFailure(message: "the sweep logged: \(logged.lines)") }
        return report
    }
}

/// What a sweep logged (a failing request or assignment), from any thread.
private final class SweepLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []

    var lines: [String] { lock.withLock { stored } }

    func append(_ line: String) { lock.withLock { stored.append(line) } }
}
