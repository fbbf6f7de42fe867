public import Foundation
internal import GRDB

/// A message to queue, already rendered.
public struct OutgoingMail: Sendable, Hashable {
    public var recipient: String
    public var subject: String
    public var body: String
    /// What the mail reports (`signInCode`, `requestSubmitted`, …), for logs and tests.
    public var kind: String

    public init(recipient: String, subject: String, body: String, kind: String) {
        self.recipient = recipient
        self.subject = subject
        self.body = body
        self.kind = kind
    }

    /// The kind of a sign-in code: the outbox indexes these apart, since someone is waiting for them.
    public static let signInCodeKind = "signInCode"
}

/// A queued message with its delivery status.
public struct MailRecord: Sendable, Hashable {
    public var id: Int64
    public var mail: OutgoingMail
    public var createdAt: Date
    public var attempts: Int
    /// Nil once sent or given up.
    public var nextAttemptAt: Date?
    public var sentAt: Date?
    public var lastError: String?

    init(row: Row) {
        id = row["id"]
        mail = OutgoingMail(recipient: row["recipient"], subject: row["subject"], body: row["body"], kind: row["kind"])
        createdAt = row["created_at"]
        attempts = row["attempts"]
        nextAttemptAt = row["next_attempt_at"]
        sentAt = row["sent_at"]
        lastError = row["last_error"]
    }
}

extension StoreReader {
    /// Unsent mail whose next attempt is at or before `now`, oldest due first; with `first`, the
    /// due messages of that kind come before all others (sign-in codes, which someone is waiting
    /// for, do not queue behind a backlog of notifications).
    public func dueMail(now: Date, limit: Int = 100, first: String? = nil) throws -> [MailRecord] {
        guard let first else { return try due(Self.dueAll, now: now, limit: limit) }
        let urgent = try dueMail(now: now, limit: limit, kind: first)
        guard urgent.count < limit else { return urgent }
        return urgent + (try dueMail(now: now, limit: limit - urgent.count, excluding: first))
    }

    /// Unsent, due mail of one kind only (`kind`), or of every kind but it (`excluding`), oldest
    /// due first: `gatehouse serve` sends sign-in codes and notifications from separate threads.
    /// Sign-in codes have an index of their own (`outbox_codes_due`), which only a query naming
    /// the kind in its text can use.
    public func dueMail(now: Date, limit: Int = 100, kind: String) throws -> [MailRecord] {
        if kind == OutgoingMail.signInCodeKind { return try due(Self.dueCodes, now: now, limit: limit) }
        return try due(Self.dueOfKind, now: now, limit: limit, kind: kind)
    }

    /// See ``dueMail(now:limit:kind:)``.
    public func dueMail(now: Date, limit: Int = 100, excluding kind: String) throws -> [MailRecord] {
        try due(Self.dueExcept, now: now, limit: limit, kind: kind)
    }

    private func due(_ sql: String, now: Date, limit: Int, kind: String? = nil) throws -> [MailRecord] {
        let arguments: StatementArguments = kind.map { [now.stored, $0, limit] } ?? [now.stored, limit]
        return try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments).map(MailRecord.init(row:))
    }

    private static let dueAll = """
        SELECT * FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?
        """
    private static let dueCodes = """
        SELECT * FROM outbox WHERE sent_at IS NULL AND kind = '\(OutgoingMail.signInCodeKind)' AND next_attempt_at <= ?
        ORDER BY next_attempt_at, id LIMIT ?
        """
    private static let dueOfKind = """
        SELECT * FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= ? AND kind = ? ORDER BY next_attempt_at, id LIMIT ?
        """
    private static let dueExcept = """
        SELECT * FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= ? AND kind != ? ORDER BY next_attempt_at, id LIMIT ?
        """

    /// One queued message.
    public func mail(id: Int64) throws -> MailRecord? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM outbox WHERE id = ?"),
            arguments: [id]).map(MailRecord.init(row:))
    }

    /// Every message to a recipient, newest first (tests and `make run` read sign-in codes here).
    public func mail(to recipient: String) throws -> [MailRecord] {
        try Row.fetchAll(
            db.cachedStatement(sql: "SELECT * FROM outbox WHERE recipient = ? ORDER BY id DESC"), arguments: [recipient]
        ).map(MailRecord.init(row:))
    }
}

extension StoreWriter {
    /// Queues a message, due at once; returns its id.
    @discardableResult
    public func enqueueMail(_ mail: OutgoingMail, at: Date) throws -> Int64 {
        let time = RawArgument.date(at)
        try db.run("""
            INSERT INTO outbox (created_at, recipient, subject, body, kind, next_attempt_at)
            VALUES (?, ?, ?, ?, ?, ?)
            """, [time, .text(mail.recipient), .text(mail.subject), .text(mail.body), .text(mail.kind), time])
        return db.lastInsertedRowID
    }

    /// Records a delivery at `at`; the message is never due again.
    public func markMailSent(id: Int64, at: Date) throws {
        try db.cachedStatement(sql: """
            UPDATE outbox SET sent_at = ?, next_attempt_at = NULL, attempts = attempts + 1
            WHERE id = ?
            """
        ).execute(arguments: [at.stored, id])
        if db.changesCount == 0 { throw StoreError.mailNotFound(id: id) }
    }

    /// Records a failed attempt; the message is due again at `nextAttemptAt`, or never when nil.
    public func markMailFailed(id: Int64, error: String, nextAttemptAt: Date?) throws {
        try db.cachedStatement(sql: """
            UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?
            WHERE id = ?
            """
        ).execute(arguments: [error, nextAttemptAt?.stored, id])
        if db.changesCount == 0 { throw StoreError.mailNotFound(id: id) }
    }
}
