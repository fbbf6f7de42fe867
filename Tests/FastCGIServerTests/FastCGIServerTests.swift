@testable import FastCGIServer
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Speaks the FastCGI wire protocol to the server over its real unix socket, as nginx would.
struct FastCGIClient {
    var path: String

    func send(params: [String: String], body: [UInt8]) throws -> String {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.enumerated() { raw[i] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }

        var out: [UInt8] = []
        func record(_ type: UInt8, _ content: [UInt8]) {
            out += [1, type, 0, 1, UInt8(content.count >> 8), UInt8(content.count & 0xff), 0, 0] + content
        }
        func length(_ n: Int) -> [UInt8] {
            n < 128 ? [UInt8(n)] : [UInt8(0x80 | (n >> 24)), UInt8((n >> 16) & 0xff), UInt8((n >> 8) & 0xff), UInt8(n & 0xff)]
        }
        record(1, [0, 1, 0, 0, 0, 0, 0, 0])  // BEGIN_REQUEST, responder, close after
        var pairs: [UInt8] = []
        for (name, value) in params.sorted(by: { $0.key < $1.key }) {
            pairs += length(name.utf8.count) + length(value.utf8.count) + Array(name.utf8) + Array(value.utf8)
        }
        record(4, pairs)
        record(4, [])
        for start in stride(from: 0, to: body.count, by: 32768) {
            record(5, Array(body[start..<min(body.count, start + 32768)]))
        }
        record(5, [])
        _ = out.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }

        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            received += buffer[0..<n]
        }
        var stdout: [UInt8] = []
        var i = 0
        while i + 8 <= received.count {
            let type = received[i + 1]
            let count = Int(received[i + 4]) << 8 | Int(received[i + 5])
            let padding = Int(received[i + 6])
            if type == 6 { stdout += received[(i + 8)..<(i + 8 + count)] }
            i += 8 + count + padding
        }
        return String(decoding: stdout, as: UTF8.self)
    }
}

@Suite struct FastCGIServerTests {
    @Test func logsOneLinePerRequest() {
        let line = FastCGIServer.logLine(
            params: ["REQUEST_METHOD": "POST", "DOCUMENT_URI": "/requests"], status: 303, bytes: 0,
            elapsed: .microseconds(2_345))
        #expect(line == "POST /requests 303 0B 2.3ms")
    }

    @Test func sigtermFinishesTheRequestInFlight() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gh-fcgi-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("s.sock").path
        let entered = DispatchSemaphore(value: 0)
        let server = FastCGIServer(listener: .unixSocket(path: path, mode: 0o600, group: nil), workers: 1, log: { _ in }) { _ in
            entered.signal()
            usleep(300_000)
            return FastCGIResponse(status: 200, body: Array("done".utf8))
        }
        try server.open()
        server.stopOnTerminationSignals()
        let stopped = DispatchSemaphore(value: 0)
        Thread { try? server.run(); stopped.signal() }.start()
        let reply = LockedArray()
        let answered = DispatchSemaphore(value: 0)
        Thread {
            reply.append((try? FastCGIClient(path: path).send(params: ["REQUEST_METHOD": "GET"], body: [])) ?? "")
            answered.signal()
        }.start()
        #expect(entered.wait(timeout: .now() + 5) == .success)
        kill(getpid(), SIGTERM)
        #expect(answered.wait(timeout: .now() + 5) == .success)
        #expect(reply.values == ["Status: 200 OK\r\n\r\ndone"])
        #expect(stopped.wait(timeout: .now() + 5) == .success, "run() returns after SIGTERM")
    }

    @Test func findsNoInheritedSocketWhenThereIsNone() {
        // Under the test runner fd 0 is not a socket and systemd passed nothing.
        #expect(FastCGIServer.Listener.inheritedFromEnvironment(["LISTEN_FDS": "1", "LISTEN_PID": "1"]) == nil)
    }

    func withServer(maxBodyBytes: Int = 1024, _ body: (FastCGIClient) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gh-fcgi-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("s.sock").path
        let server = FastCGIServer(listener: .unixSocket(path: path, mode: 0o660, group: nil), workers: 2,
                                   maxBodyBytes: maxBodyBytes, log: { _ in }) { request in
            let text = "\(request.params["REQUEST_METHOD"] ?? "?") \(request.params["DOCUMENT_URI"] ?? "?") \(String(decoding: request.body, as: UTF8.self))"
            return FastCGIResponse(status: 200, headers: [("Content-Type", "text/plain"), ("X-Evil", "a\r\nSet-Cookie: x=1")], body: Array(text.utf8))
        }
        try server.open()
        let done = DispatchSemaphore(value: 0)
        Thread { try? server.run(); done.signal() }.start()
        defer {
            server.shutdown()
            #expect(done.wait(timeout: .now() + 5) == .success, "run() returns after shutdown()")
        }
        var status = stat()
        #expect(stat(path, &status) == 0 && status.st_mode & 0o777 == 0o660, "socket has the requested mode")
        try body(FastCGIClient(path: path))
    }

    @Test func answersParamsAndBody() throws {
        try withServer { client in
            let reply = try client.send(
                params: ["REQUEST_METHOD": "POST", "DOCUMENT_URI": "/requests", "CONTENT_LENGTH": "9"],
                body: Array("a=1&b=two".utf8))
            #expect(reply == "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nPOST /requests a=1&b=two")
        }
    }

    /// libfcgi hands the parameters over as `NAME=value` C strings; the value may hold "=" and
    /// any bytes, and invalid UTF-8 becomes U+FFFD rather than dropping the entry.
    @Test func splitsEachParameterAtItsFirstEqualsSign() {
        let entries: [[UInt8]] = [
            Array("QUERY_STRING=a=1&b=2".utf8), Array("HTTP_COOKIE=".utf8), Array("NOEQUALS".utf8),
            Array("HTTP_X_NAME=Zoë".utf8), [0x48, 0x3D, 0x61, 0xFF, 0x62],
        ]
        let storage = entries.map { bytes -> UnsafeMutablePointer<CChar> in
            let copy = malloc(bytes.count + 1)!.assumingMemoryBound(to: CChar.self)
            for (index, byte) in (bytes + [0]).enumerated() { copy[index] = CChar(bitPattern: byte) }
            return copy
        }
        var pointers: [UnsafeMutablePointer<CChar>?] = storage.map(Optional.some) + [nil]
        let params = pointers.withUnsafeMutableBufferPointer { FastCGIServer.params($0.baseAddress) }
        for entry in storage { free(entry) }
        #expect(params == ["QUERY_STRING": "a=1&b=2", "HTTP_COOKIE": "", "HTTP_X_NAME": "Zoë", "H": "a\u{FFFD}b"])
    }

    @Test func refusesOversizedBodiesWithoutCallingTheHandler() throws {
        try withServer(maxBodyBytes: 16) { client in
            let body = [UInt8](repeating: 0x61, count: 40)
            let reply = try client.send(params: ["REQUEST_METHOD": "POST", "CONTENT_LENGTH": "40"], body: body)
            #expect(reply.hasPrefix("Status: 413 Content Too Large\r\n"))
            #expect(reply.hasSuffix("The request is too large (at most 16 bytes).\n"))
        }
    }

    @Test func workerThreadsRunAtTheRequestedLowerPriority() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gh-fcgi-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("s.sock").path
        // Linux keeps the nice value per thread: PRIO_PROCESS with 0 reads the calling thread's.
        let server = FastCGIServer(
            listener: .unixSocket(path: path, mode: 0o660, group: nil), workers: 2, workerNice: 3, log: { _ in }
        ) { _ in
            FastCGIResponse(status: 200, headers: [("Content-Type", "text/plain")], body: Array("\(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0))".utf8))
        }
        try server.open()
        // The server is started from a thread of known priority, as `gatehouse serve` starts it from main.
        let started = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)
        let base = LockedArray()
        Thread {
            base.append("\(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0))")
            started.signal()
            try? server.run()
            done.signal()
        }.start()
        started.wait()
        defer {
            server.shutdown()
            #expect(done.wait(timeout: .now() + 5) == .success)
        }
        let reply = try FastCGIClient(path: path).send(params: ["REQUEST_METHOD": "GET", "DOCUMENT_URI": "/"], body: [])
        let starter = Int(base.values[0])!
        #expect(reply.hasSuffix("\r\n\r\n\(min(19, starter + 3))"))
    }

    @Test func glibcAcceptsTheMallocThresholds() {
        // mallopt answers 1 only for a parameter it knows and a value it accepts.
        #expect(FastCGIServer.keepFreedMemory())
        #expect(FastCGIServer.keepFreedMemory(upTo: 32 << 20, mapAbove: 1 << 20))
    }

    @Test func servesConcurrentClients() throws {
        try withServer { client in
            let replies = LockedArray()
            DispatchQueue.concurrentPerform(iterations: 40) { i in
                let reply = try? client.send(params: ["REQUEST_METHOD": "GET", "DOCUMENT_URI": "/n/\(i)"], body: [])
                replies.append(reply ?? "")
            }
            let expected = Set((0..<40).map { "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nGET /n/\($0) " })
            #expect(Set(replies.values) == expected)
        }
    }
}

final class LockedArray: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func append(_ s: String) { lock.withLock { items.append(s) } }
    var values: [String] { lock.withLock { items } }
}
