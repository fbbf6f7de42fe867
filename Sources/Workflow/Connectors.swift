public import Foundation
public import GatehouseModel
public import GatehouseStore
public import Governance

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

// Command connectors (PRODUCT.md section 5): a resource may name an executable that receives one
// JSON event per grant or revoke on stdin and answers by its exit status. Connectors are slow and
// external, so they never run inside a write transaction: delivery and removal only record what is
// owed (a grant `pending`, or `revoked`, with `next_attempt_at`), and `Connectors.attemptDue` sends
// it afterwards, each attempt claimed first so that two sweeps never send the same event at once.

/// One grant or revoke, as a connector receives it on stdin.
public struct ConnectorEvent: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable { case grant, revoke }

    public var kind: Kind
    public var resourceID: String
    public var role: String
    public var email: String
    public var assignmentID: String
    public var packageID: String
    /// When the event is sent.
    public var at: Date

    public init(
        kind: Kind, resourceID: String, role: String, email: String, assignmentID: String, packageID: String, at: Date
    ) {
        self.kind = kind
        self.resourceID = resourceID
        self.role = role
        self.email = email
        self.assignmentID = assignmentID
        self.packageID = packageID
        self.at = at
    }

    /// One line: `{"event":"grant","resource":…,"role":…,"person":…,"assignment":…,"package":…,"at":"2028-03-01T08:00:00Z"}`.
    public var json: String {
        let fields: [(String, String)] = [
            ("event", kind.rawValue), ("resource", resourceID), ("role", role), ("person", email),
            ("assignment", assignmentID), ("package", packageID), ("at", at.formatted(.iso8601)),
        ]
        return "{" + fields.map { "\"\($0.0)\":\(JSONText.quoted($0.1))" }.joined(separator: ",") + "}"
    }
}

/// A connector's answer to one event.
public enum ConnectorOutcome: Sendable, Hashable {
    case done
    /// Why it failed, worded for the admin (with the connector's stderr when it wrote one).
    case failed(String)
}

/// Sends events to connectors: ``CommandConnector`` runs the executables; tests may answer themselves.
public protocol ConnectorRunner: Sendable {
    /// Delivers `event` through the connector a resource declares at `path` (relative to the site
    /// folder); blocks until it answered or timed out.
    func send(_ event: ConnectorEvent, to path: String) -> ConnectorOutcome
}

/// Runs a connector executable: spawned directly (no shell) in the site folder with the event on
/// stdin, stdout discarded; exit status 0 is success, anything else (or running past `timeout`,
/// when its process group is stopped) a failure carrying the first 2 KB of its stderr.
public struct CommandConnector: ConnectorRunner {
    /// The site folder, absolute: connectors' paths are relative to it and they run in it.
    public let siteFolder: String
    public let timeout: Duration
    /// Variables added to gatehouse's own environment for the connector.
    public let environment: [String: String]

    /// The longest stderr excerpt kept as the error.
    public static let stderrLimit = 2048

    public init(siteFolder: String, timeout: Duration = .seconds(30), environment: [String: String] = [:]) {
        self.siteFolder = URL(fileURLWithPath: siteFolder).standardizedFileURL.path
        self.timeout = timeout
        self.environment = environment
    }

    public func send(_ event: ConnectorEvent, to path: String) -> ConnectorOutcome {
        let shown = "connector '\(path)'"
        let executable = path.hasPrefix("/") ? path : siteFolder + "/" + path
        var info = stat()
        guard stat(executable, &info) == 0, info.st_mode & S_IFMT == S_IFREG, access(executable, X_OK) == 0 else {
            return .failed("the \(shown) is not an executable file in \(siteFolder) (check the resource's `connector:` and that the file is executable)")
        }
        let input: Int32
        do {
            input = try Self.stdin(holding: Array((event.json + "\n").utf8))
        } catch {
            return .failed("could not start the \(shown): \(error.message)")
        }
        defer { close(input) }
        var pipeEnds: [Int32] = [-1, -1]
        guard pipe(&pipeEnds) == 0 else { return .failed("could not start the \(shown): \(Self.systemError())") }
        let (errorsRead, errorsWrite) = (pipeEnds[0], pipeEnds[1])
        defer { close(errorsRead) }
        _ = fcntl(errorsRead, F_SETFD, FD_CLOEXEC)
        _ = fcntl(errorsWrite, F_SETFD, FD_CLOEXEC)
        _ = fcntl(errorsRead, F_SETFL, fcntl(errorsRead, F_GETFL) | O_NONBLOCK)

        let spawned = spawn(executable, stdin: input, stderr: errorsWrite)
        close(errorsWrite)
        guard let pid = spawned.pid else { return .failed("could not start the \(shown): \(spawned.failure)") }

        var stderr = ConnectorStderr(fd: errorsRead)
        let deadline = ContinuousClock.now + timeout
        var status: Int32 = 0
        while true {
            let waited = waitpid(pid, &status, WNOHANG)
            if waited == pid { break }
            if waited < 0 && errno != EINTR {
                return .failed("could not wait for the \(shown): \(Self.systemError())")
            }
            if ContinuousClock.now >= deadline {
                Self.end(group: pid)
                stderr.collect(waitingUpTo: 0)
                return .failed("the \(shown) did not finish within \(Self.seconds(timeout)) and was stopped" + stderr.excerpt())
            }
            stderr.collect(waitingUpTo: 20)
        }
        stderr.collect(waitingUpTo: 0)
        if status & 0x7F == 0 {
            let code = (status >> 8) & 0xFF
            return code == 0 ? .done : .failed("the \(shown) exited with status \(code)" + stderr.excerpt())
        }
        return .failed("the \(shown) was killed by signal \(status & 0x7F)" + stderr.excerpt())
    }

    /// posix_spawn in the site folder with a clean signal state, its own process group and only
    /// fds 0, 1 (/dev/null) and 2 (the same pattern as GatehouseMail's SendmailTransport).
    private func spawn(_ executable: String, stdin: Int32, stderr: Int32) -> (pid: pid_t?, failure: String) {
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

        guard let chdirAction = Self.addChdir else {
            return (nil, "this C library cannot start a program in another folder (posix_spawn_file_actions_addchdir_np)")
        }
        guard chdirAction(&actions, siteFolder) == 0 else { return (nil, Self.systemError()) }
        posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        // No closefrom in Swift's Glibc: close what is open now (glibc ignores EBADF for a close action).
        for fd in Self.openDescriptors() where fd > 2 { posix_spawn_file_actions_addclose(&actions, fd) }

        let argv = [strdup(executable)] + [nil]
        defer { argv.forEach { free($0) } }
        var variables = ProcessInfo.processInfo.environment
        variables.merge(environment) { _, added in added }
        let envp = variables.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        var pid: pid_t = 0
        var result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        // "Text file busy": the file is still open for writing somewhere, as while a connector is
        // being replaced, or for the instant another thread's fork holds a copy of a descriptor
        // on a file just written. Worth a few short retries before counting a failed attempt.
        var pause: UInt32 = 10_000
        while result == ETXTBSY && pause <= 160_000 {  // at most 0.31 s in all
            usleep(pause)
            pause *= 2
            result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        }
        return result == 0 ? (pid, "") : (nil, String(cString: strerror(result)))
    }

    #if canImport(Darwin)
    private typealias AddChdir = @convention(c) (
        UnsafeMutablePointer<posix_spawn_file_actions_t?>, UnsafePointer<CChar>
    ) -> Int32
    #else
    private typealias AddChdir = @convention(c) (
        UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>
    ) -> Int32
    #endif

    /// glibc (2.29+) has it, but Swift's Glibc module does not declare GNU extensions.
    private static let addChdir: AddChdir? = {
        #if canImport(Darwin)
        let handle = UnsafeMutableRawPointer(bitPattern: -2)  // RTLD_DEFAULT
        #else
        let handle: UnsafeMutableRawPointer? = nil  // RTLD_DEFAULT
        #endif
        return dlsym(handle, "posix_spawn_file_actions_addchdir_np").map { unsafeBitCast($0, to: AddChdir.self) }
    }()

    private static func openDescriptors() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap { Int32($0) }
    }

    /// SIGTERM to the connector's process group, SIGKILL after two seconds, then reaps it.
    private static func end(group pid: pid_t) {
        kill(-pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<200 {
            if waitpid(pid, &status, WNOHANG) != 0 { return }
            usleep(10_000)
        }
        kill(-pid, SIGKILL)
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    private struct SpawnError: Error { var message: String }

    /// A read-only descriptor on an already-unlinked temporary file holding `bytes`: a connector
    /// that exits without reading cannot block the sweep or raise SIGPIPE.
    private static func stdin(holding bytes: [UInt8]) throws(SpawnError) -> Int32 {
        var template = Array((NSTemporaryDirectory() + "/gatehouse-connector-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw SpawnError(message: "cannot create a temporary file: \(systemError())") }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else {
                let reason = systemError()
                close(fd)
                throw SpawnError(message: "cannot write a temporary file: \(reason)")
            }
            offset += written
        }
        lseek(fd, 0, SEEK_SET)
        return fd
    }

    private static func systemError() -> String { String(cString: strerror(errno)) }

    /// `30 s`, `0.5 s`.
    private static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        if attoseconds == 0 { return "\(seconds) s" }
        return "\(Double(seconds) + Double(attoseconds) / 1e18) s"
    }
}

/// A connector's stderr, read as it comes (a chatty connector never blocks on a full pipe); the
/// first ``CommandConnector/stderrLimit`` bytes are kept.
private struct ConnectorStderr {
    let fd: Int32
    var bytes: [UInt8] = []
    var open = true

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
                let room = CommandConnector.stderrLimit - bytes.count
                if room > 0 { bytes += chunk[..<min(count, room)] }
            } else {
                if count == 0 || (errno != EAGAIN && errno != EINTR) { open = false }
                return
            }
        }
    }

    /// `: <stderr>` trimmed, or nothing when it wrote nothing.
    func excerpt() -> String {
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "" : ": " + text
    }
}

// MARK: - Attempts

/// What one ``Connectors/attemptDue(now:)`` did.
public struct ConnectorReport: Sendable, Hashable {
    /// Events the connectors accepted.
    public var succeeded = 0
    /// Events that failed and will be tried again.
    public var failed = 0
    /// Events that failed for the last time: the grant is `failed`, or the revoke given up.
    public var gaveUp = 0
    /// Due events not sent: a revoke while another assignment still grants the role, or a resource
    /// that no longer declares a connector (the built-in directory alone records it).
    public var notSent = 0
    /// Grants the store refused to update (logged; tried again by the next run).
    public var errors = 0

    public init() {}

    /// Events handed to a connector.
    public var sent: Int { succeeded + failed + gaveUp }
}

/// What an admin's reprocess planned.
public enum ReprocessOutcome: Sendable, Hashable {
    /// `events` grant (or, on an ended assignment, revoke) events will be sent by the next sweep.
    case planned(events: Int)
    case notFound
    /// The assignment waits for its scheduled start; the sweep delivers it then.
    case notStarted
    /// Nothing goes through a connector (or, on an ended assignment, no revoke failed).
    case nothingToSend
}

/// Sends the connector events the store owes and records their outcomes: the sweep's pass, and
/// admins' reprocessing. Each attempt is claimed in one short transaction, run outside any, and
/// recorded in another with its audit entries, the assignment's and request's new state, and mail.
public struct Connectors: Sendable {
    public let store: Store
    public let site: Site
    public let runner: any ConnectorRunner
    /// Failed attempts after which a grant is `failed` (a revoke given up).
    public var maxAttempts = 10
    /// How long a claimed attempt is left alone by other sweeps; longer than any connector runs.
    public var claimDuration: TimeInterval = 900
    public var batchSize = 100
    let plan: ConnectorPlan
    let log: @Sendable (String) -> Void

    public init(
        store: Store, site: Site, calendar: TenantCalendar, runner: any ConnectorRunner,
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.store = store
        self.site = site
        self.runner = runner
        plan = ConnectorPlan(site: site, notices: Notices(baseURL: site.tenant.baseURL, calendar: calendar))
        self.log = log
    }

    /// The wait after `failures` failed attempts: 1 min, 5 min, 30 min, 2 h, then every 6 h; nil
    /// once `maxAttempts` attempts failed (give up).
    public static func retryDelay(afterFailures failures: Int, maxAttempts: Int = 10) -> TimeInterval? {
        guard failures < maxAttempts else { return nil }
        let delays: [TimeInterval] = [60, 300, 1800, 7200]
        return failures >= 1 && failures <= delays.count ? delays[failures - 1] : 21_600
    }

    /// Sends every event due at `now`, one connector run at a time, and records each outcome.
    public func attemptDue(now: Date) throws -> ConnectorReport {
        var report = ConnectorReport()
        var skipped: Set<Int64> = []
        while true {
            let due = try store.read { try $0.grantAttemptsDue(at: now, limit: batchSize + skipped.count) }
                .filter { !skipped.contains($0.id) }
            if due.isEmpty { return report }
            for grant in due.prefix(batchSize) {
                do {
                    try attempt(grant.id, now: now, into: &report)
                } catch {
                    log("gatehouse sweep: grant \(grant.resourceID) \(grant.role) of assignment \(grant.assignmentID): \(error)")
                    report.errors += 1
                    skipped.insert(grant.id)
                }
            }
        }
    }

    private func attempt(_ id: Int64, now: Date, into report: inout ConnectorReport) throws {
        let claimed: GrantAttempt? = try store.write { db in
            guard let claimed = try db.claimGrantAttempt(id: id, now: now, until: now.addingTimeInterval(claimDuration))
            else { return nil }
            if claimed.state == .revoked,
               let holder = try db.otherHolders(
                   email: claimed.email, resourceID: claimed.resourceID, role: claimed.role,
                   excluding: claimed.assignmentID, at: now).first
            {
                try plan.dropRevoke(claimed, keptBy: holder, db: db, now: now)
                report.notSent += 1
                return nil
            }
            return claimed
        }
        guard let claimed else { return }
        let kind: ConnectorEvent.Kind = claimed.state == .revoked ? .revoke : .grant
        let outcome: ConnectorOutcome
        let path = site.connector(packageID: claimed.packageID, resourceID: claimed.resourceID)
        if let path {
            outcome = runner.send(
                ConnectorEvent(
                    kind: kind, resourceID: claimed.resourceID, role: claimed.role, email: claimed.email,
                    assignmentID: claimed.assignmentID, packageID: claimed.packageID, at: now),
                to: path)
        } else {
            outcome = .done
        }
        let effect = try store.write { db in
            try plan.record(outcome, of: claimed, kind: kind, connector: path, maxAttempts: maxAttempts, db: db, now: now)
        }
        switch effect {
        case .succeeded: if path == nil { report.notSent += 1 } else { report.succeeded += 1 }
        case .failed(let next):
            report.failed += 1
            if case .failed(let why) = outcome {
                log("gatehouse sweep: \(kind.rawValue) \(claimed.resourceID) \(claimed.role) for \(claimed.email) (assignment \(claimed.assignmentID)) failed, next attempt at \(next.formatted(.iso8601)): \(why)")
            }
        case .gaveUp:
            report.gaveUp += 1
            if case .failed(let why) = outcome {
                log("gatehouse sweep: \(kind.rawValue) \(claimed.resourceID) \(claimed.role) for \(claimed.email) (assignment \(claimed.assignmentID)) failed \(maxAttempts) times, given up: \(why)")
            }
        case .superseded: break
        }
    }

    /// An admin (`actor`) re-sends through the connectors every role of a live assignment, also a
    /// `delivered` one whose downstream drifted: its grants are planned again now (a `failed` one
    /// becomes `pending`) and the next sweep sends them. On an ended assignment, the revokes that
    /// were given up are planned again. Audited.
    public func reprocess(assignmentID: String, actor: String, now: Date) throws -> ReprocessOutcome {
        try store.write { try plan.reprocess(assignmentID: assignmentID, actor: actor, db: $0, now: now) }
    }
}

// MARK: - Inside the caller's transaction

extension Site {
    /// The connector a package's resource declares, if any.
    func connector(packageID: String, resourceID: String) -> String? {
        guard let catalog = package(packageID).flatMap({ catalog($0.catalog) }) else { return nil }
        return catalog.resources.first { $0.id == resourceID }?.connector
    }
}

/// The connector bookkeeping delivery, removal and attempts do inside a write transaction.
struct ConnectorPlan: Sendable {
    let site: Site
    let notices: Notices

    enum Effect: Sendable, Hashable {
        case succeeded
        case failed(next: Date)
        case gaveUp
        /// The grant changed meanwhile (re-planned, or its assignment ended): nothing recorded.
        case superseded
    }

    /// An assignment's delivery state from its grants' states.
    static func deliveryState(_ states: [GrantState]) -> AssignmentState {
        if states.allSatisfy({ $0 == .active }) { return .delivered }
        if states.contains(.active) { return .partiallyDelivered }
        if states.contains(.failed) { return .deliveryFailed }
        return .delivering
    }

    /// After `db.endAssignment` revoked the grants (`before` is how they were): plans a revoke event
    /// for each role a connector may hold, unless another live assignment of the person still grants
    /// it; roles never sent need none.
    func planRevokes(ending a: AssignmentRecord, grants before: [GrantAttempt], db: StoreWriter, now: Date)
        throws
    {
        for g in before where g.state != .revoked {
            let mayHold = g.state != .pending || g.attempts > 0 || (g.nextAttemptAt.map { $0 > now } ?? false)
            guard site.connector(packageID: a.packageID, resourceID: g.resourceID) != nil, mayHold else {
                if g.nextAttemptAt != nil {
                    try db.updateGrantAttempt(
                        id: g.id, state: .revoked, attempts: g.attempts, nextAttemptAt: nil, lastError: g.lastError, at: now)
                }
                continue
            }
            if let holder = try db.otherHolders(
                email: a.email, resourceID: g.resourceID, role: g.role, excluding: a.id, at: now).first
            {
                try dropRevoke(g, keptBy: holder, db: db, now: now)
            } else {
                try db.updateGrantAttempt(id: g.id, state: .revoked, attempts: 0, nextAttemptAt: now, lastError: nil, at: now)
            }
        }
    }

    /// A revoke that must not go out: another assignment still grants the role.
    func dropRevoke(_ g: GrantAttempt, keptBy holder: String, db: StoreWriter, now: Date) throws {
        try db.updateGrantAttempt(id: g.id, state: .revoked, attempts: 0, nextAttemptAt: nil, lastError: nil, at: now)
        try db.appendAudit(AuditEntry(
            at: now, actor: "system", subjectKind: "assignment", subjectID: g.assignmentID, action: "connectorRevokeNotSent",
            before: GrantState.active.rawValue, after: GrantState.revoked.rawValue,
            reason: "\(g.resourceID) \(g.role): assignment \(holder) still grants this role"))
    }

    /// Records a connector's answer to the event sent for `claimed` (as claimed, with its lease).
    func record(
        _ outcome: ConnectorOutcome, of claimed: GrantAttempt, kind: ConnectorEvent.Kind, connector: String?,
        maxAttempts: Int, db: StoreWriter, now: Date
    ) throws -> Effect {
        guard let row = try db.grantAttempt(id: claimed.id), let lease = claimed.nextAttemptAt,
              row.nextAttemptAt == lease else { return .superseded }
        let what = "\(row.resourceID) \(row.role)"
        let through = connector.map { " through \($0)" } ?? " (no connector any more: the built-in directory only)"
        guard (row.state == .revoked ? ConnectorEvent.Kind.revoke : .grant) == kind else {
            // The assignment ended while its grant went out: the revoke is due now.
            try db.updateGrantAttempt(
                id: row.id, state: row.state, attempts: 0, nextAttemptAt: now, lastError: nil, at: now,
                expectedNextAttempt: lease)
            return .superseded
        }
        switch outcome {
        case .done:
            let after: GrantState = kind == .grant ? .active : .revoked
            try db.updateGrantAttempt(
                id: row.id, state: after, attempts: 0, nextAttemptAt: nil, lastError: nil, at: now,
                expectedNextAttempt: lease)
            try db.appendAudit(AuditEntry(
                at: now, actor: "system", subjectKind: "assignment", subjectID: row.assignmentID,
                action: kind == .grant ? "connectorGranted" : "connectorRevoked", before: row.state.rawValue,
                after: after.rawValue, reason: "\(what) for \(row.email)\(through)"))
            if kind == .grant {
                try settle(assignmentID: row.assignmentID, db: db, now: now)
            } else {
                // A grant another assignment sent while this revoke was out would be undone: send it again.
                for holder in try db.otherHolders(
                    email: row.email, resourceID: row.resourceID, role: row.role, excluding: row.assignmentID, at: now)
                {
                    for g in try db.grantAttempts(assignmentID: holder)
                    where g.resourceID == row.resourceID && g.role == row.role && g.nextAttemptAt == nil {
                        try db.updateGrantAttempt(
                            id: g.id, state: g.state, attempts: 0, nextAttemptAt: now, lastError: nil, at: now)
                    }
                }
            }
            return .succeeded
        case .failed(let error):
            let failures = row.attempts + 1
            if let delay = Connectors.retryDelay(afterFailures: failures, maxAttempts: maxAttempts) {
                let next = now.addingTimeInterval(delay)
                try db.updateGrantAttempt(
                    id: row.id, state: row.state, attempts: failures, nextAttemptAt: next, lastError: error, at: now,
                    expectedNextAttempt: lease)
                try db.appendAudit(AuditEntry(
                    at: now, actor: "system", subjectKind: "assignment", subjectID: row.assignmentID,
                    action: kind == .grant ? "connectorGrantFailed" : "connectorRevokeFailed",
                    before: row.state.rawValue, after: row.state.rawValue,
                    reason: "\(what) for \(row.email)\(through), attempt \(failures) of \(maxAttempts), next at \(next.formatted(.iso8601)): \(error)"))
                if kind == .grant { try settle(assignmentID: row.assignmentID, db: db, now: now) }
                return .failed(next: next)
            }
            let after: GrantState = kind == .grant ? .failed : .revoked
            try db.updateGrantAttempt(
                id: row.id, state: after, attempts: failures, nextAttemptAt: nil, lastError: error, at: now,
                expectedNextAttempt: lease)
            try db.appendAudit(AuditEntry(
                at: now, actor: "system", subjectKind: "assignment", subjectID: row.assignmentID,
                action: kind == .grant ? "connectorGrantGaveUp" : "connectorRevokeGaveUp",
                before: row.state.rawValue, after: after.rawValue,
                reason: "\(what) for \(row.email)\(through) failed \(failures) times; an admin can reprocess it: \(error)"))
            if kind == .grant { try settle(assignmentID: row.assignmentID, db: db, now: now) }
            return .gaveUp
        }
    }

    /// Moves a live assignment to the state its grants give (all active: delivered; some: partially
    /// delivered; none and some failed: delivery failed; else delivering), its add request along, and
    /// tells the holder when it becomes delivered.
    func settle(assignmentID: String, db: StoreWriter, now: Date) throws {
        guard let a = try db.assignment(id: assignmentID), a.state != .expired else { return }
        let state = Self.deliveryState(try db.grants(assignmentID: a.id).map(\.grant.state))
        guard state != a.state else { return }
        try db.setAssignmentState(id: a.id, state)
        try db.appendAudit(AuditEntry(
            at: now, actor: "system", subjectKind: "assignment", subjectID: a.id, action: "deliveryState",
            before: a.state.rawValue, after: state.rawValue, reason: "connector outcomes"))
        let mirrored: RequestState = switch state {
        case .delivered: .delivered
        case .partiallyDelivered: .partiallyDelivered
        case .deliveryFailed: .deliveryFailed
        case .delivering, .expired: .delivering
        }
        let request = try db.request(id: a.requestID)
        if let request, request.kind == .add, request.state != mirrored,
           [.delivering, .delivered, .partiallyDelivered, .deliveryFailed].contains(request.state)
        {
            try db.setApprovalState(
                requestID: request.id,
                ApprovalStateRecord(
                    state: mirrored, currentStage: nil, stageStartedAt: nil, escalated: false, remindersSent: 0,
                    nextCheckAt: nil),
                at: now, expected: request.state)
            try db.appendAudit(AuditEntry(
                at: now, actor: "system", subjectKind: "request", subjectID: request.id, action: mirrored.rawValue,
                before: request.state.rawValue, after: mirrored.rawValue, reason: "assignment \(a.id) is \(state.rawValue)"))
        }
        // As without connectors: the policy's setting, and no email for an admin's direct assignment
        // through a policy without approval (PRODUCT.md section 9).
        let policy = request.flatMap { try? PolicySnapshot.decode($0.policySnapshot) }?.policy
        let notify = (policy?.notifications.requestor ?? true)
            && !(request?.actorKind == .admin && policy?.requiresApproval == false)
        if state == .delivered, notify {
            try db.enqueueMail(
                notices.delivered(to: a.email, packageName: site.package(a.packageID)?.name ?? a.packageID, end: a.endsAt),
                at: now)
        }
    }

    /// See ``Connectors/reprocess(assignmentID:actor:now:)``.
    func reprocess(assignmentID: String, actor: String, db: StoreWriter, now: Date) throws -> ReprocessOutcome {
        guard let a = try db.assignment(id: assignmentID) else { return .notFound }
        let grants = try db.grantAttempts(assignmentID: a.id)
        var planned: [GrantAttempt] = []
        if a.state == .expired {
            for g in grants where g.state == .revoked && g.nextAttemptAt == nil && g.lastError != nil
                && site.connector(packageID: a.packageID, resourceID: g.resourceID) != nil
            {
                try db.updateGrantAttempt(id: g.id, state: .revoked, attempts: 0, nextAttemptAt: now, lastError: nil, at: now)
                planned.append(g)
            }
        } else {
            let waiting = try db.hasPlannedGrantAttempts(assignmentID: a.id)
            if a.startsAt > now || (a.state == .delivering && !waiting && grants.contains { $0.state == .pending }) {
                return .notStarted
            }
            for g in grants where g.state != .revoked
                && (g.state != .active || site.connector(packageID: a.packageID, resourceID: g.resourceID) != nil)
            {
                try db.updateGrantAttempt(
                    id: g.id, state: g.state == .failed ? .pending : g.state, attempts: 0, nextAttemptAt: now,
                    lastError: nil, at: now)
                planned.append(g)
            }
        }
        guard !planned.isEmpty else { return .nothingToSend }
        try db.appendAudit(AuditEntry(
            at: now, actor: actor, subjectKind: "assignment", subjectID: a.id, action: "reprocessed",
            before: a.state.rawValue, after: a.state.rawValue,
            reason: (a.state == .expired ? "revoke" : "grant") + " events planned again for "
                + planned.map { "\($0.resourceID) \($0.role)" }.joined(separator: ", ")))
        try settle(assignmentID: a.id, db: db, now: now)
        return .planned(events: planned.count)
    }
}
