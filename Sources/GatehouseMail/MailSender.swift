public import Foundation

/// A message waiting in the outbox, as the store hands it to the sender.
public struct QueuedMail: Sendable, Hashable {
    /// The outbox row.
    public var id: Int64
    public var mail: ComposedMail
    /// Failed deliveries so far; 0 for a new message.
    public var attempts: Int

    public init(id: Int64, mail: ComposedMail, attempts: Int = 0) {
        self.id = id
        self.mail = mail
        self.attempts = attempts
    }
}

/// The outbox as the sender sees it; the store implements it over its mail table.
public protocol MailQueue: Sendable {
    /// Messages neither sent nor given up whose next attempt is at or before `now`, oldest first.
    func due(now: Date) throws -> [QueuedMail]
    /// Records a delivery; the message is never handed out again.
    func markSent(id: Int64, at: Date) throws
    /// Records several deliveries at once (the store does it in one transaction).
    func markSent(ids: [Int64], at: Date) throws
    /// Counts one more failed attempt with its reason; `nextAttempt` nil means given up for good.
    func markFailed(id: Int64, error: String, nextAttempt: Date?) throws
}

extension MailQueue {
    /// One `markSent(id:at:)` per message.
    public func markSent(ids: [Int64], at: Date) throws {
        for id in ids { try markSent(id: id, at: at) }
    }
}

/// What happened to one message in a `MailSender` pass, for the log.
public enum DeliveryOutcome: Sendable, Hashable {
    case sent(id: Int64)
    case willRetry(id: Int64, error: String, at: Date)
    case gaveUp(id: Int64, error: String)
}

/// Delivers the due messages of a queue through a transport and records each outcome.
///
/// Delivery is at least once: a crash between delivering and `markSent` delivers that message again.
/// Run one sender per outbox (the queue hands out no leases).
public struct MailSender: Sendable {
    public let queue: any MailQueue
    public let transport: any MailTransport
    public let retry: RetryPolicy

    public init(queue: any MailQueue, transport: any MailTransport, retry: RetryPolicy = .standard) {
        self.queue = queue
        self.transport = transport
        self.retry = retry
    }

    /// One pass over what is due at `now`; queue errors stop the pass and are rethrown.
    ///
    /// The messages delivered are recorded together at the end of the pass (one transaction, not
    /// one per message); a crash before that delivers them again, which at-least-once allows.
    @discardableResult
    public func deliverDue(now: Date) throws -> [DeliveryOutcome] {
        var outcomes: [DeliveryOutcome] = []
        let due = try queue.due(now: now)
        let results = transport.deliver(due.map(\.mail))
        var sent: [Int64] = []
        do {
            for (queued, result) in zip(due, results) {
                switch result {
                case .success:
                    sent.append(queued.id)
                    outcomes.append(.sent(id: queued.id))
                case .failure(let failure):
                    let next = retry.nextAttempt(afterFailedAttempt: queued.attempts + 1, failedAt: now)
                    try queue.markFailed(id: queued.id, error: failure.message, nextAttempt: next)
                    outcomes.append(next.map { .willRetry(id: queued.id, error: failure.message, at: $0) }
                        ?? .gaveUp(id: queued.id, error: failure.message))
                }
            }
        } catch {
            // The pass stops, but what went out is still recorded, if the queue lets us.
            try? queue.markSent(ids: sent, at: now)
            throw error
        }
        if !sent.isEmpty { try queue.markSent(ids: sent, at: now) }
        return outcomes
    }
}
