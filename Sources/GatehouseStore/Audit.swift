public import Foundation
internal import GRDB

/// One state change, as the audit log keeps it forever.
public struct AuditEntry: Sendable, Hashable {
    public var at: Date
    /// Who acted: an email, or `system` for the sweep.
    public var actor: String
    /// `request`, `assignment`, `person`, `session`…
    public var subjectKind: String
    public var subjectID: String
    /// `submitted`, `approved`, `signedIn`…
    public var action: String
    /// The state before and after (free text or JSON); nil when there is none.
    public var before: String?
    public var after: String?
    public var reason: String?

    public init(
        at: Date, actor: String, subjectKind: String, subjectID: String, action: String, before: String? = nil,
        after: String? = nil, reason: String? = nil
    ) {
        self.at = at
        self.actor = actor
        self.subjectKind = subjectKind
        self.subjectID = subjectID
        self.action = action
        self.before = before
        self.after = after
        self.reason = reason
    }
}

/// An audit entry with its position in the log.
public struct AuditRecord: Sendable, Hashable {
    /// Increasing in the order of appending; export from the last one seen.
    public var id: Int64
    public var entry: AuditEntry

    init(row: Row) {
        id = row["id"]
        entry = AuditEntry(
            at: row["at"], actor: row["actor"], subjectKind: row["subject_kind"], subjectID: row["subject_id"],
            action: row["action"], before: row["value_before"], after: row["value_after"], reason: row["reason"])
    }
}

extension StoreReader {
    /// The history of one subject, oldest first.
    public func auditEntries(subjectKind: String, subjectID: String) throws -> [AuditRecord] {
        try Row.fetchAll(
            db.cachedStatement(sql: "SELECT * FROM audit WHERE subject_kind = ? AND subject_id = ? ORDER BY id"),
            arguments: [subjectKind, subjectID]
        ).map(AuditRecord.init(row:))
    }

    /// The log after entry `afterID` (0: from the start), in order, for exports in pages.
    public func auditEntries(afterID: Int64 = 0, limit: Int = 1000) throws -> [AuditRecord] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM audit WHERE id > ? ORDER BY id LIMIT ?"),
            arguments: [afterID, limit])
            .map(AuditRecord.init(row:))
    }
}

extension StoreWriter {
    /// Appends an entry; entries are never changed or deleted (the schema refuses it). Returns its id.
    @discardableResult
    public func appendAudit(_ e: AuditEntry) throws -> Int64 {
        try db.run("""
            INSERT INTO audit (at, actor, subject_kind, subject_id, action, value_before, value_after, reason)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, [
            .date(e.at), .text(e.actor), .text(e.subjectKind), .text(e.subjectID), .text(e.action), .text(e.before),
            .text(e.after), .text(e.reason),
        ])
        return db.lastInsertedRowID
    }
}
