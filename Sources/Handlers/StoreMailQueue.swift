public import Foundation
public import GatehouseMail
public import GatehouseStore

/// The store's outbox as a `MailQueue`: rows become RFC 5322 messages from `from`, with a
/// Message-ID made from the row's id and creation time, so a retried message keeps its identity.
public struct StoreMailQueue: MailQueue {
    public let store: Store
    /// The sender address of every message (`noreply@<first tenant domain>` by default in `serve`).
    public let from: MailAddress
    private let log: @Sendable (String) -> Void

    /// Which of the outbox's messages this queue hands out.
    public let selection: Selection

    /// Which messages a queue hands out: `gatehouse serve` sends sign-in codes, which someone is
    /// waiting for, from one thread and everything else from another that runs only when the
    /// machine has nothing better to do.
    public enum Selection: Sendable, Hashable {
        /// Every due message, sign-in codes first.
        case all
        /// Only sign-in codes.
        case signInCodes
        /// Everything but sign-in codes.
        case notifications
    }

    /// A queue over `store`'s outbox; messages that can never be composed are given up and logged.
    public init(
        store: Store, from: MailAddress, selection: Selection = .all, log: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.store = store
        self.from = from
        self.selection = selection
        self.log = log
    }

    /// Due rows composed as messages, sign-in codes first; a row that cannot be composed is given
    /// up on the spot.
    public func due(now: Date) throws -> [QueuedMail] {
        let rows = try store.read { db in
            switch selection {
            case .all: try db.dueMail(now: now, first: OutgoingMail.signInCodeKind)
            case .signInCodes: try db.dueMail(now: now, kind: OutgoingMail.signInCodeKind)
            case .notifications: try db.dueMail(now: now, excluding: OutgoingMail.signInCodeKind)
            }
        }
        var queued: [QueuedMail] = []
        for row in rows {
            do {
                let message = MailMessage(
                    from: from, to: [try MailAddress(row.mail.recipient)], subject: row.mail.subject, text: row.mail.body)
                let composed = try message.composed(date: row.createdAt, messageID: "outbox-\(row.id).\(Int(row.createdAt.timeIntervalSince1970))@\(from.domain)")
                queued.append(QueuedMail(id: row.id, mail: composed, attempts: row.attempts))
            } catch {
                log("mail \(row.id) to \(row.mail.recipient) cannot be composed and is dropped: \(error)")
                try markFailed(id: row.id, error: "cannot compose: \(error)", nextAttempt: nil)
            }
        }
        return queued
    }

    /// Marks the row sent.
    public func markSent(id: Int64, at: Date) throws {
        try store.write { try $0.markMailSent(id: id, at: at) }
    }

    /// Marks the rows sent, in one transaction.
    public func markSent(ids: [Int64], at: Date) throws {
        try store.write { db in
            for id in ids { try db.markMailSent(id: id, at: at) }
        }
    }

    /// Counts a failed attempt; nil `nextAttempt` gives up.
    public func markFailed(id: Int64, error: String, nextAttempt: Date?) throws {
        try store.write { try $0.markMailFailed(id: id, error: error, nextAttemptAt: nextAttempt) }
    }
}

/// Delivers the outbox in the background: one `MailSender` pass every `interval` until `stop()`.
public final class MailPump: @unchecked Sendable {
    private let sender: MailSender
    private let interval: TimeInterval
    private let clock: @Sendable () -> Date
    private let log: @Sendable (String) -> Void
    private let busy: (@Sendable () -> Bool)?
    private let condition = NSCondition()
    private var stopping = false
    private var running = false

    /// A pump for `sender`; `clock` gives the "now" of each pass. While `busy` says so, a wake
    /// takes one batch instead of draining the backlog (see ``WriterLoad``).
    public init(
        sender: MailSender, interval: TimeInterval = 2, clock: @escaping @Sendable () -> Date = { Date() },
        busy: (@Sendable () -> Bool)? = nil, log: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.sender = sender
        self.interval = interval
        self.clock = clock
        self.busy = busy
        self.log = log
    }

    /// Passes until nothing is due (a pass takes at most the queue's batch), logging each
    /// outcome; queue errors are logged, not thrown. A burst of sign-in codes goes out at once
    /// instead of one batch per interval. While `busy` says so, one pass only: the mail still
    /// moves, a batch per wake, and the rest waits for a quieter moment.
    public func deliverOnce() {
        for pass in 0..<Self.maxPassesPerWake where deliverPass() > 0 {
            if condition.withLock({ stopping }) { break }
            if pass == 0, let busy, busy() { break }
        }
    }

    /// Bounds the passes of one wake, should a transport keep handing back due messages.
    static let maxPassesPerWake = 100

    /// One pass; returns how many messages it handled.
    private func deliverPass() -> Int {
        do {
            let outcomes = try sender.deliverDue(now: clock())
            for outcome in outcomes {
                switch outcome {
                case .sent(let id): log("mail \(id): delivered")
                case .willRetry(let id, let error, let at): log("mail \(id): delivery failed (\(error)); retrying at \(at)")
                case .gaveUp(let id, let error): log("mail \(id): delivery failed (\(error)); giving up")
                }
            }
            return outcomes.count
        } catch {
            log("mail delivery pass failed: \(error)")
            return 0
        }
    }

    /// Starts the background thread; `prepare` runs first on it (the handler lowers its priority).
    public func start(prepare: @escaping @Sendable () -> Void = {}) {
        condition.lock()
        running = true
        condition.unlock()
        let thread = Thread { [self] in
            prepare()
            while true {
                deliverOnce()
                condition.lock()
                if !stopping { _ = condition.wait(until: Date().addingTimeInterval(interval)) }
                let stop = stopping
                condition.unlock()
                if stop { break }
            }
            condition.lock()
            running = false
            condition.broadcast()
            condition.unlock()
        }
        thread.name = "gatehouse-mail"
        thread.start()
    }

    /// Stops the thread after its current pass, and waits for it.
    public func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while running { condition.wait() }
        condition.unlock()
    }
}

/// Whether the store's writer, which every post waits for, has been busy for more than `share`
/// of the time since the previous call.
///
/// The notifications' pump asks before draining a backlog: each delivered batch is one more
/// commit for the writer (recording the deliveries) and its own files to write, taken from the
/// posts when they come in bursts. Sign-in codes do not ask: someone is waiting for them.
public final class WriterLoad: @unchecked Sendable {
    private let busyTime: @Sendable () -> Duration
    private let elapsedTime: @Sendable () -> Duration
    private let share: Double
    private let lock = NSLock()
    private var last: (busy: Duration, at: Duration)

    /// The load of `store`'s writer.
    public convenience init(store: Store, share: Double = 0.5) {
        let origin = ContinuousClock.now
        self.init(busy: { store.commitStatistics.busy }, elapsed: { ContinuousClock.now - origin }, share: share)
    }

    /// `busy` is the writer's busy time so far, `elapsed` the time so far, both from one origin.
    public init(busy: @escaping @Sendable () -> Duration, elapsed: @escaping @Sendable () -> Duration, share: Double = 0.5) {
        busyTime = busy
        elapsedTime = elapsed
        self.share = share
        last = (busy(), elapsed())
    }

    /// True when the writer was busy more than `share` of the time since the last call.
    public func isHigh() -> Bool {
        let busy = busyTime()
        let now = elapsedTime()
        return lock.withLock {
            defer { last = (busy, now) }
            let elapsed = now - last.at
            guard elapsed > .zero else { return false }
            return (busy - last.busy) / elapsed > share
        }
    }
}
