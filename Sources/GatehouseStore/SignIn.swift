public import Foundation
internal import GRDB

/// A signed-in browser, known by the hash of its cookie's id.
public struct SessionRecord: Sendable, Hashable {
    public var idHash: String
    public var email: String
    public var createdAt: Date
    public var lastSeenAt: Date
    /// The absolute expiry, whatever the activity.
    public var expiresAt: Date
    public var endedAt: Date?

    /// A row of `id_hash, email, created_at, last_seen_at, expires_at, ended_at` (every page reads one).
    init(raw row: RawRow) {
        idHash = row.text(0)
        email = row.text(1)
        createdAt = row.date(2) ?? .distantPast
        lastSeenAt = row.date(3) ?? .distantPast
        expiresAt = row.date(4) ?? .distantPast
        endedAt = row.date(5)
    }

    init(row: Row) {
        idHash = row["id_hash"]
        email = row["email"]
        createdAt = row.date("created_at")
        lastSeenAt = row.date("last_seen_at")
        expiresAt = row.date("expires_at")
        endedAt = row.optionalDate("ended_at")
    }
}

/// What a session cookie is worth at a given time; the invalid cases let the page say why.
public enum SessionLookup: Sendable, Hashable {
    case valid(SessionRecord)
    /// No session has that hash.
    case unknown
    /// Signed out (or ended by an admin or a block).
    case ended
    /// Not used for longer than the idle timeout.
    case idleExpired
    /// Past its absolute expiry.
    case absoluteExpired
}

/// The outcome of one attempt at a sign-in code.
public enum CodeCheck: Sendable, Hashable {
    /// Right code: it is now used up.
    case accepted
    /// Wrong code; `attemptsLeft` more wrong ones are allowed (0: the next attempt is refused).
    case wrong(attemptsLeft: Int)
    /// The code's time is over: ask for a new one.
    case expired
    /// Too many wrong attempts on this code: ask for a new one.
    case tooManyAttempts
    /// No unused code was sent to that address (or it was already used).
    case noCode
}

extension StoreReader {
    /// The session with that id hash, judged at `now` against its idle and absolute expiry.
    public func session(idHash: String, now: Date, idleTimeout: TimeInterval) throws -> SessionLookup {
        guard let session = try db.firstRow(
            "SELECT id_hash, email, created_at, last_seen_at, expires_at, ended_at FROM session WHERE id_hash = ?",
            [.text(idHash)], SessionRecord.init(raw:))
        else { return .unknown }
        if session.endedAt != nil { return .ended }
        if now >= session.expiresAt { return .absoluteExpired }
        if now.timeIntervalSince(session.lastSeenAt) >= idleTimeout { return .idleExpired }
        return .valid(session)
    }

    /// How many codes were requested for `email` at or after `since`.
    public func codeRequestCount(email: String, since: Date) throws -> Int {
        try Int.fetchOne(
            db.cachedStatement(sql: "SELECT count(*) FROM sign_in_code_request WHERE email = ? AND at >= ?"),
            arguments: [normalized(email), since.stored]) ?? 0
    }

    /// How many codes were requested from `clientAddress` at or after `since`.
    public func codeRequestCount(clientAddress: String, since: Date) throws -> Int {
        try Int.fetchOne(
            db.cachedStatement(sql: "SELECT count(*) FROM sign_in_code_request WHERE client_address = ? AND at >= ?"),
            arguments: [clientAddress, since.stored]) ?? 0
    }
}

extension StoreWriter {
    /// Starts a session for a person who signed in (the person row must exist).
    @discardableResult
    public func createSession(idHash: String, email: String, at: Date, expiresAt: Date) throws -> SessionRecord {
        try db.cachedStatement(sql: """
            INSERT INTO session (id_hash, email, created_at, last_seen_at, expires_at)
            VALUES (?, ?, ?, ?, ?)
            """
        ).execute(arguments: [idHash, normalized(email), at.stored, at.stored, expiresAt.stored])
        return SessionRecord(
            row: try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM session WHERE id_hash = ?"),
                arguments: [idHash])!)
    }

    /// Records activity at `at`, which restarts the idle timeout; ended sessions stay ended.
    public func touchSession(idHash: String, at: Date) throws {
        try db.run("""
            UPDATE session SET last_seen_at = max(last_seen_at, ?)
            WHERE id_hash = ? AND ended_at IS NULL
            """, [.date(at), .text(idHash)])
    }

    /// Signs out; ending an unknown or ended session does nothing.
    public func endSession(idHash: String, at: Date) throws {
        try db.cachedStatement(sql: "UPDATE session SET ended_at = ? WHERE id_hash = ? AND ended_at IS NULL")
            .execute(arguments: [at.stored, idHash])
    }

    /// Ends every open session of a person (blocked, removed); returns how many were open.
    @discardableResult
    public func endSessions(email: String, at: Date) throws -> Int {
        try db.cachedStatement(sql: "UPDATE session SET ended_at = ? WHERE email = ? AND ended_at IS NULL")
            .execute(arguments: [at.stored, normalized(email)])
        return db.changesCount
    }

    /// Logs one code request, for ``StoreReader/codeRequestCount(email:since:)`` and its twin.
    public func recordCodeRequest(email: String, clientAddress: String, at: Date) throws {
        try db.cachedStatement(sql: "INSERT INTO sign_in_code_request (email, client_address, at) VALUES (?, ?, ?)")
            .execute(arguments: [normalized(email), clientAddress, at.stored])
    }

    /// Drops code-request log rows older than `before` (the sweep's housekeeping); returns how many.
    @discardableResult
    public func pruneCodeRequests(before: Date) throws -> Int {
        try db.cachedStatement(sql: "DELETE FROM sign_in_code_request WHERE at < ?")
            .execute(arguments: [before.stored])
        return db.changesCount
    }

    /// Stores a new code (hashed by the caller); it supersedes any earlier code of that address.
    public func createSignInCode(email: String, codeHash: String, clientAddress: String, at: Date, expiresAt: Date)
        throws
    {
        try db.cachedStatement(sql: """
            INSERT INTO sign_in_code (email, code_hash, client_address, created_at, expires_at)
            VALUES (?, ?, ?, ?, ?)
            """
        ).execute(arguments: [normalized(email), codeHash, clientAddress, at.stored, expiresAt.stored])
    }

    /// Checks `codeHash` against the newest code sent to `email`, counting a wrong attempt and
    /// consuming a right one. Commit the transaction even when the answer is not `.accepted`.
    public func verifySignInCode(email: String, codeHash: String, now: Date, maxWrongAttempts: Int) throws
        -> CodeCheck
    {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT * FROM sign_in_code WHERE email = ? ORDER BY id DESC LIMIT 1"),
                arguments: [normalized(email)])
        else { return .noCode }
        let id: Int64 = row["id"]
        let usedAt: Date? = row["used_at"]
        let expiresAt: Date = row["expires_at"]
        let wrongAttempts: Int = row["wrong_attempts"]
        if usedAt != nil { return .noCode }
        if now >= expiresAt { return .expired }
        if wrongAttempts >= maxWrongAttempts { return .tooManyAttempts }
        if (row["code_hash"] as String) == codeHash {
            try db.cachedStatement(sql: "UPDATE sign_in_code SET used_at = ? WHERE id = ?")
                .execute(arguments: [now.stored, id])
            return .accepted
        }
        try db.cachedStatement(sql: "UPDATE sign_in_code SET wrong_attempts = wrong_attempts + 1 WHERE id = ?")
            .execute(arguments: [id])
        return .wrong(attemptsLeft: maxWrongAttempts - wrongAttempts - 1)
    }
}
