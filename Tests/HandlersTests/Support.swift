import Foundation
import GatehouseModel
import GatehouseSite
import GatehouseStore
import Handlers
import Portal
import Rendering
import Testing

enum Repository {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The example site of the repository, loaded once.
    static let site: Site = {
        let files = try! SiteFiles.read(directory: root.appendingPathComponent("site").path)
        let result = SiteLoader(today: CalendarDay("2026-11-23")!).load(files)
        return result.site!
    }()

    static let theme: Theme = try! Theme.load(directory: root.appendingPathComponent("templates").path)
}

/// A clock the test moves by hand.
final class TestClock: @unchecked Sendable {
    private var current: Date
    private let lock = NSLock()

    init(_ start: Date = Date(timeIntervalSince1970: 1_795_000_000)) { current = start }

    var now: Date {
        lock.lock()
        defer { lock.unlock() }
        return current
    }

    func advance(by seconds: TimeInterval) {
        lock.lock()
        current += seconds
        lock.unlock()
    }
}

/// One app over a fresh SQLite file in a temporary folder; requests are literal values.
final class Harness {
    static let base = "http://127.0.0.1:8080"
    let folder: URL
    let store: Store
    let clock = TestClock()
    let app: App
    let logLines = LogLines()

    init(settings: App.Settings = .standard, site: Site = Repository.site) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-handlers-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        store = try Store(path: folder.appendingPathComponent("gatehouse.sqlite").path)
        let clock = clock, lines = logLines
        app = try App(
            site: site, store: store, theme: Repository.theme, settings: settings, clock: { clock.now },
            random: .seeded(42), log: { lines.append($0) })
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    func post(
        _ path: String, _ form: KeyValuePairs<String, String>, cookie: String? = nil, origin: String? = Harness.base,
        remote: String = "192.0.2.10"
    ) -> HTTPResponse {
        app.respond(to: RequestContext(
            method: .post, path: path, contentType: "application/x-www-form-urlencoded",
            body: Array(URLEncodedForm(form).encoded.utf8), cookies: Cookies(header: cookie), origin: origin,
            remoteAddress: remote))
    }

    func get(_ path: String, query: String = "", cookie: String? = nil) -> HTTPResponse {
        app.respond(to: RequestContext(
            method: .get, path: path, query: try! URLEncodedForm(decoding: query), cookies: Cookies(header: cookie)))
    }

    /// The code in the newest mail to `email`.
    func lastCode(for email: String) throws -> String {
        let mail = try #require(try store.read { try $0.mail(to: email) }.first)
        return String(try #require(mail.mail.body.firstMatch(of: /\b(\d{6})\b/)).1)
    }

    func mailCount(to email: String) throws -> Int {
        try store.read { try $0.mail(to: email) }.count
    }

    /// Asks for a code and enters it; returns the verify response and the `name=value` cookie it set.
    func signIn(_ email: String, returnTo: String = "/my/requests/") throws -> (response: HTTPResponse, cookie: String) {
        let asked = post(Paths.signInCode, ["email": email, "return": returnTo])
        #expect(asked.status == .ok)
        let response = post(Paths.signInVerify, ["email": email, "code": try lastCode(for: email), "return": returnTo])
        let setCookie = try #require(response.header("Set-Cookie"))
        return (response, String(setCookie.prefix { $0 != ";" }))
    }
}

final class LogLines: @unchecked Sendable {
    private var lines: [String] = []
    private let lock = NSLock()

    func append(_ line: String) {
        lock.lock()
        lines.append(line)
        lock.unlock()
    }

    var all: [String] {
        lock.lock()
        defer { lock.unlock() }
        return lines
    }
}
