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
