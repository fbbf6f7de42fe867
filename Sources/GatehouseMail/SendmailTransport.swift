import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Delivers through a sendmail-compatible command (`/usr/sbin/sendmail -t -i`), the message on stdin.
///
/// A non-zero exit, a signal or running past `timeout` is a failure carrying the command's stderr.
/// The command is spawned directly (not with Foundation's `Process`, whose children inherit the calling
/// thread's blocked signals, swift-corelibs-foundation#4772): empty signal mask, default dispositions,
/// no inherited descriptors beyond 0-2, its own process group so a timeout ends it and its children.
/// The message is handed over through an unlinked temporary file, so a command that exits without
/// reading cannot block the sender or raise SIGPIPE.
public struct SendmailTransport: MailTransport {
    /// The program (a path, or a name looked up in `PATH`) and its arguments.
    public let command: [String]
    /// How long the command may run before its process group is terminated and the delivery failed.
    public let timeout: Duration

    public init(command: [String], timeout: Duration = .seconds(30)) {
        self.command = command
        self.timeout = timeout
    }

    /// The longest stderr excerpt kept in an error.
    static let stderrLimit = 500

    public func deliver(_ mail: ComposedMail) throws(DeliveryError) {
        guard let program = command.first, !program.isEmpty else {
            throw DeliveryError("the mail command is empty")
        }
        let shown = "mail command '\(command.joined(separator: " "))'"
        guard let executable = Self.resolve(program) else {
            throw DeliveryError("could not start the \(shown): no program '\(program)' (check --mail-command)")
        }
        let input = try Self.stdin(holding: mail.data)
        defer { close(input) }
        var pipeEnds: [Int32] = [-1, -1]
        guard pipe(&pipeEnds) == 0 else {
            throw DeliveryError("could not start the \(shown): \(OutboxFolderTransport.systemError())")
        }
        let (errorsRead, errorsWrite) = (pipeEnds[0], pipeEnds[1])
        defer { close(errorsRead) }
        _ = fcntl(errorsRead, F_SETFD, FD_CLOEXEC)
        _ = fcntl(errorsWrite, F_SETFD, FD_CLOEXEC)
        _ = fcntl(errorsRead, F_SETFL, fcntl(errorsRead, F_GETFL) | O_NONBLOCK)

        let spawned = Self.spawn(executable, arguments: command, stdin: input, stderr: errorsWrite)
        close(errorsWrite)
        guard let pid = spawned.pid else {
            throw DeliveryError("could not start the \(shown): \(spawned.failure)")
        }

        var stderr = StderrBuffer(fd: errorsRead)
        let deadline = ContinuousClock.now + timeout
        var status: Int32 = 0
        while true {
            let waited = waitpid(pid, &status, WNOHANG)
            if waited == pid { break }
            if waited < 0 && errno != EINTR {
                throw DeliveryError("could not wait for the \(shown): \(OutboxFolderTransport.systemError())")
            }
            if ContinuousClock.now >= deadline {
                Self.end(group: pid)
                throw DeliveryError("the \(shown) did not finish within \(Self.seconds(timeout))" + stderr.excerpt())
            }
            stderr.collect(waitingUpTo: 20)
        }
        stderr.collect(waitingUpTo: 0)
        let text = stderr.excerpt()
        if status & 0x7F == 0 {
            let code = (status >> 8) & 0xFF
            if code != 0 { throw DeliveryError("the \(shown) exited with status \(code)\(text)") }
        } else {
            throw DeliveryError("the \(shown) was killed by signal \(status & 0x7F)\(text)")
        }
    }

    /// posix_spawn with a clean signal state, its own process group and only fds 0, 1 (/dev/null), 2.
    static func spawn(_ executable: String, arguments: [String], stdin: Int32, stderr: Int32) -> (pid: pid_t?, failure: String) {
        #if canImport(Darwin)
        var attributes: posix_spawnattr_t? = nil
        var actions: posix_spawn_file_actions_t? = nil
        #else
        var attributes = posix_spawnattr_t()
        var actions = posix_spawn_file_actions_t()
        #endif
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }

        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigfillset(&defaults)
        sigdelset(&defaults, SIGKILL)
        sigdelset(&defaults, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        // No closefrom in Swift's Glibc: close what is open now (glibc ignores EBADF for a close action).
        for fd in openDescriptors() where fd > 2 { posix_spawn_file_actions_addclose(&actions, fd) }

        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        return result == 0 ? (pid, "") : (nil, String(cString: strerror(result)))
    }

    /// The process's open descriptors on Linux; elsewhere none (Darwin spawns could use CLOEXEC_DEFAULT).
    static func openDescriptors() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap { Int32($0) }
    }

    /// SIGTERM to the command's process group, SIGKILL after two seconds, then reaps it.
    static func end(group pid: pid_t) {
        kill(-pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<200 {
            if waitpid(pid, &status, WNOHANG) != 0 { return }
            usleep(10_000)
        }
        kill(-pid, SIGKILL)
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    /// A read-only descriptor on an already-unlinked temporary file holding `data`.
    static func stdin(holding data: Data) throws(DeliveryError) -> Int32 {
        var template = Array((NSTemporaryDirectory() + "/gatehouse-mail-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw DeliveryError("could not create a temporary file for the mail command: \(OutboxFolderTransport.systemError())")
        }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        let bytes = [UInt8](data)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else {
                let reason = OutboxFolderTransport.systemError()
                close(fd)
                throw DeliveryError("could not write a temporary file for the mail command: \(reason)")
            }
            offset += written
        }
        lseek(fd, 0, SEEK_SET)
        return fd
    }

    /// `program` itself when it holds a `/`, else the first executable of that name in `PATH`.
    static func resolve(_ program: String) -> String? {
        if program.contains("/") { return access(program, X_OK) == 0 ? program : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"
        return path.split(separator: ":").map { "\($0)/\(program)" }.first { access($0, X_OK) == 0 }
    }

    /// `30 s`, `0.3 s`.
    static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        if attoseconds == 0 { return "\(seconds) s" }
        return "\(Double(seconds) + Double(attoseconds) / 1e18) s"
    }
}

/// The command's stderr, read as it comes (so a chatty command never blocks on a full pipe), capped.
struct StderrBuffer {
    let fd: Int32
    var bytes: [UInt8] = []
    var open = true

    /// Reads what is available, first waiting up to `milliseconds` for something to arrive.
    mutating func collect(waitingUpTo milliseconds: Int32) {
        guard open else {
            if milliseconds > 0 { usleep(UInt32(milliseconds) * 1000) }
            return
        }
        var request = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&request, 1, milliseconds) > 0 else { return }
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                if bytes.count < 16_384 { bytes += chunk[..<count] }
            } else {
                if count == 0 || (errno != EAGAIN && errno != EINTR) { open = false }
                return
            }
        }
    }

    /// `: <stderr lines joined by " / ">`, or nothing when stderr was empty.
    func excerpt() -> String {
        let text = String(decoding: bytes, as: UTF8.self)
            .split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " / ")
        guard !text.isEmpty else { return "" }
        return ": " + (text.count > SendmailTransport.stderrLimit
            ? String(text.prefix(SendmailTransport.stderrLimit)) + "…" : text)
    }
}
