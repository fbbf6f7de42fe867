internal import CFastCGI
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One request as the web server handed it over: the FastCGI parameters and the body.
public struct FastCGIRequest: Sendable {
    /// CGI-style parameters (`REQUEST_METHOD`, `DOCUMENT_URI`, `HTTP_COOKIE`, …).
    public var params: [String: String]
    public var body: [UInt8]

    public init(params: [String: String], body: [UInt8] = []) {
        self.params = params
        self.body = body
    }
}

public struct FastCGIResponse: Sendable {
    public var status: Int
    /// In order; names as they should appear on the wire.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The CGI header block (`Status:` line, headers, blank line). Header values with line
    /// breaks are dropped so that no value can inject another header.
    var headerBlock: String {
        var block = "Status: \(status) \(FastCGIResponse.reason(status))\r\n"
        for (name, value) in headers where !Self.hasLineBreak(name) && !Self.hasLineBreak(value) {
            block += "\(name): \(value)\r\n"
        }
        return block + "\r\n"
    }

    /// Whether `text` holds any character Swift counts as a line break. Plain ASCII without
    /// CR, LF, VT or FF (nearly every header) is settled on its bytes.
    static func hasLineBreak(_ text: String) -> Bool {
        var ascii = true
        for byte in text.utf8 {
            if byte >= 0x80 { ascii = false; break }
            if (0x0A...0x0D).contains(byte) { return true }
        }
        return ascii ? false : text.contains(where: \.isNewline)
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 204: "No Content"
        case 303: "See Other"
        case 304: "Not Modified"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 409: "Conflict"
        case 413: "Content Too Large"
        case 415: "Unsupported Media Type"
        case 422: "Unprocessable Content"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 503: "Service Unavailable"
        default: "Status"
        }
    }
}

/// A FastCGI responder on libfcgi: worker threads that each accept and answer requests in turn.
///
/// The handler is request in, response out; this type only adapts bytes.
public final class FastCGIServer: @unchecked Sendable {
    public enum Listener: Sendable {
        /// Create a unix socket at `path` with `mode` (e.g. 0o660), owned by `group` when given.
        case unixSocket(path: String, mode: UInt32, group: String?)
        /// A socket the process inherited (spawn-fcgi passes fd 0; systemd passes fd 3).
        case inherited(fd: Int32)

        /// The socket systemd passed (`LISTEN_FDS`/`LISTEN_PID`: fd 3), else fd 0 when it is a
        /// socket (spawn-fcgi), else nil.
        public static func inheritedFromEnvironment(_ environment: [String: String]) -> Listener? {
            if environment["LISTEN_FDS"] == "1", environment["LISTEN_PID"] == String(getpid()) {
                return .inherited(fd: 3)
            }
            var info = stat()
            if fstat(0, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK { return .inherited(fd: 0) }
            return nil
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    private let listener: Listener
    private let workers: Int
    private let workerNice: Int32
    private let maxBodyBytes: Int
    /// Requests hold one of these while the handler runs (nil: no limit).
    public let permits: RunPermits?
    private let handler: @Sendable (FastCGIRequest) -> FastCGIResponse
    let log: @Sendable (String) -> Void
    private let state = NSLock()
    private var socket: Int32 = -1
    private var stopping = false

    /// - Parameters:
    ///   - maxBodyBytes: larger bodies are answered with 413 without calling the handler.
    ///   - workerNice: added to the worker threads' nice value (Linux keeps it per thread). A
    ///     positive value lets threads started before `run`, such as the store's writer, go first
    ///     when the CPUs are busy: every post waits for the writer, while a page render waits only
    ///     for itself.
    ///   - permits: how many handlers may run at once (see ``RunPermits``); nil for as many as workers.
    public init(
        listener: Listener, workers: Int = 2, maxBodyBytes: Int = 64 * 1024, workerNice: Int32 = 0,
        permits: RunPermits? = nil,
        log: @escaping @Sendable (String) -> Void = FastCGIServer.logToStandardError,
        handler: @escaping @Sendable (FastCGIRequest) -> FastCGIResponse
    ) {
        self.listener = listener
        self.workers = max(1, workers)
        self.workerNice = max(0, min(19, workerNice))
        self.maxBodyBytes = maxBodyBytes
        self.permits = permits
        self.handler = handler
        self.log = log
    }

    /// Writes one line to stderr.
    public static func logToStandardError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Opens the listening socket. Separate from `run` so callers know the socket is ready.
    public func open() throws {
        guard FCGX_Init() == 0 else { throw Failure(description: "FCGX_Init failed") }
        let fd: Int32
        switch listener {
        case .inherited(let inherited):
            fd = inherited
        case .unixSocket(let path, let mode, let group):
            unlink(path)
            fd = FCGX_OpenSocket(path, 128)
            guard fd >= 0 else { throw Failure(description: "cannot listen on \(path): \(String(cString: strerror(errno)))") }
            if let group {
                guard let entry = getgrnam(group) else { throw Failure(description: "unknown group '\(group)' for \(path)") }
                guard chown(path, getuid(), entry.pointee.gr_gid) == 0 else {
                    throw Failure(description: "cannot give \(path) to group \(group): \(String(cString: strerror(errno)))")
                }
            }
            guard chmod(path, mode_t(mode)) == 0 else {
                throw Failure(description: "cannot set mode of \(path): \(String(cString: strerror(errno)))")
            }
        }
        state.withLock { socket = fd }
    }

    /// Serves until `shutdown()`; returns when every worker has finished its current request.
    public func run() throws {
        if state.withLock({ socket }) < 0 { try open() }
        let fd = state.withLock { socket }
        let group = DispatchGroup()
        for _ in 0..<workers {
            group.enter()
            let thread = Thread { [self] in
                serve(on: fd)
                group.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()
    }

    /// Ignores SIGPIPE (a client that went away must not kill the process) and turns SIGTERM and
    /// SIGINT into `shutdown()`, so requests in flight finish before `run()` returns.
    ///
    /// A process-wide handler writes the signal to a pipe that a thread reads (the self-pipe
    /// trick): unlike a dispatch signal source on Linux, which only sees signals delivered to
    /// threads that block them, it works whichever thread the kernel picks.
    public func stopOnTerminationSignals() {
        TerminationSignals.register(self)
    }

    /// Stops accepting; requests in flight finish first.
    public func shutdown() {
        let fd: Int32 = state.withLock {
            stopping = true
            return socket
        }
        // Wakes the threads blocked in accept(); they see `stopping` and leave. (Not
        // FCGX_ShutdownPending: that flag is process-wide and never reset.)
        if fd >= 0 { Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
    }

    private var isStopping: Bool { state.withLock { stopping } }

    /// Tells glibc's malloc to keep freed memory for reuse. By default a thread's arena gives its
    /// free top back with madvise as soon as it passes 128 KiB, and SQLite frees that much at the
    /// end of many statements (the temporary b-trees of `IN (...)` checks): profiles of posts
    /// showed a madvise, a TLB shootdown on every core and fresh page faults for it, a fifth of a
    /// request insert. Returns false when glibc refused.
    @discardableResult
    public static func keepFreedMemory(upTo trimThreshold: Int32 = 64 << 20, mapAbove mmapThreshold: Int32 = 4 << 20) -> Bool {
        gatehouse_tune_malloc(trimThreshold, mmapThreshold) == 1
    }

    /// Adds `increment` to the calling thread's nice value (Linux keeps it per thread; at most 19).
    /// Returns why not when the system refuses.
    @discardableResult
    public static func lowerCurrentThreadPriority(by increment: Int32) -> String? {
        guard increment > 0 else { return nil }
        return gatehouse_lower_thread_priority(increment) == 0 ? nil : String(cString: strerror(errno))
    }

    private func serve(on fd: Int32) {
        if let failure = Self.lowerCurrentThreadPriority(by: workerNice) {
            log("fastcgi: cannot lower the worker thread's priority: \(failure)")
        }
        var request = FCGX_Request()
        guard FCGX_InitRequest(&request, fd, 0) == 0 else {
            log("fastcgi: cannot initialize a request on fd \(fd)")
            return
        }
        while !isStopping {
            guard FCGX_Accept_r(&request) >= 0 else {
                if isStopping { break }
                log("fastcgi: accept failed: \(String(cString: strerror(errno)))")
                usleep(10_000)
                continue
            }
            answer(&request)
            FCGX_Finish_r(&request)
        }
        FCGX_Free(&request, 1)
    }

    private func answer(_ request: inout FCGX_Request) {
        let started = ContinuousClock.now
        let params = Self.params(request.envp)
        let length = Int(params["CONTENT_LENGTH"] ?? "") ?? 0
        let response: FastCGIResponse
        if length > maxBodyBytes {
            response = FastCGIResponse(
                status: 413, headers: [("Content-Type", "text/plain; charset=utf-8")],
                body: Array("The request is too large (at most \(maxBodyBytes) bytes).\n".utf8))
        } else {
            let body = Self.read(request.in, count: length)
            let request = FastCGIRequest(params: params, body: body)
            response = permits.map { permits in permits.withPermit { handler(request) } } ?? handler(request)
        }
        write(response, to: request.out)
        log(Self.logLine(params: params, status: response.status, bytes: response.body.count, elapsed: ContinuousClock.now - started))
    }

    /// One line per request: method, path, status, body bytes, milliseconds.
    static func logLine(params: [String: String], status: Int, bytes: Int, elapsed: Duration) -> String {
        let method = params["REQUEST_METHOD"] ?? "-"
        let path = params["DOCUMENT_URI"] ?? params["REQUEST_URI"] ?? "-"
        let micros = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
        let millis = "\(micros / 1000).\(String(micros % 1000 / 100))"
        return "\(method) \(path) \(status) \(bytes)B \(millis)ms"
    }

    /// The `NAME=value` entries as a dictionary. Split on bytes: searching a `String` for "="
    /// walks grapheme clusters, and that was a sixth of a submission's time in the worker.
    static func params(_ envp: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> [String: String] {
        var params: [String: String] = [:]
        guard var cursor = envp else { return params }
        params.reserveCapacity(32)
        while let entry = cursor.pointee {
            let length = strlen(entry)
            entry.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
                let pair = UnsafeBufferPointer(start: bytes, count: length)
                if let eq = pair.firstIndex(of: UInt8(ascii: "=")) {
                    let name = String(decoding: UnsafeBufferPointer(rebasing: pair[..<eq]), as: UTF8.self)
                    params[name] = String(decoding: UnsafeBufferPointer(rebasing: pair[(eq + 1)...]), as: UTF8.self)
                }
            }
            cursor += 1
        }
        return params
    }

    static func read(_ stream: UnsafeMutablePointer<FCGX_Stream>?, count: Int) -> [UInt8] {
        guard count > 0 else { return [] }
        var body = [UInt8](repeating: 0, count: count)
        let got = body.withUnsafeMutableBytes { raw in
            FCGX_GetStr(raw.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(count), stream)
        }
        return Array(body.prefix(Int(max(0, got))))
    }

    private func write(_ response: FastCGIResponse, to stream: UnsafeMutablePointer<FCGX_Stream>?) {
        let head = Array(response.headerBlock.utf8)
        for chunk in [head, response.body] where !chunk.isEmpty {
            _ = chunk.withUnsafeBytes { raw in
                FCGX_PutStr(raw.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(chunk.count), stream)
            }
        }
    }
}

/// SIGTERM and SIGINT, delivered to the servers that asked for them.
private enum TerminationSignals {
    /// Written by the signal handler; set once before the handler is installed.
    nonisolated(unsafe) static var writeEnd: Int32 = -1
    private static let lock = NSLock()
    nonisolated(unsafe) private static var servers: [Weak] = []

    private struct Weak { weak var server: FastCGIServer? }

    static func register(_ server: FastCGIServer) {
        lock.withLock {
            servers.append(Weak(server: server))
            install
        }
    }

    private static let install: Void = {
        signal(SIGPIPE, SIG_IGN)
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else {
            FastCGIServer.logToStandardError("fastcgi: cannot create the signal pipe: \(String(cString: strerror(errno)))")
            return
        }
        _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        writeEnd = ends[1]
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { number in
            var byte = UInt8(truncatingIfNeeded: number)
            _ = Glibc.write(TerminationSignals.writeEnd, &byte, 1)
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0  // no SA_RESTART: accept() returns EINTR in the thread that got it
        for number in [SIGTERM, SIGINT] { sigaction(number, &action, nil) }
        let readEnd = ends[0]
        let thread = Thread {
            var byte: UInt8 = 0
            while true {
                let n = Glibc.read(readEnd, &byte, 1)
                if n < 0, errno == EINTR { continue }
                guard n == 1 else { return }
                let targets = lock.withLock { servers.compactMap(\.server) }
                for server in targets {
                    server.log("fastcgi: signal \(byte), finishing requests in flight")
                    server.shutdown()
                }
            }
        }
        thread.start()
    }()
}
