public import Foundation
internal import GRDB

/// A governed guest and where they stand in the guest lifecycle (PRODUCT.md section 6).
public struct GuestRecord: Sendable, Hashable {
    public var person: PersonRecord
    /// When they lost their last assignment; nil while they hold one.
    public var lostLastAssignmentAt: Date?
    /// When they are to be removed from the tenant; nil: never (or not planned).
    public var removeAt: Date?
    /// When they were removed.
    public var removedAt: Date?

    init(row: Row) throws {
        person = PersonRecord(row: row)
        lostLastAssignmentAt = row["lost_last_assignment_at"]
        removeAt = row["remove_at"]
        removedAt = row["removed_at"]
    }
}

extension StoreReader {
    /// One person's guest lifecycle columns.
    public func guest(email: String) throws -> GuestRecord? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM person WHERE email = ?"), arguments: [normalized(email)])
            .map(GuestRecord.init(row:))
    }

    /// Every governed guest, by email (the admin pages' list).
    public func governedGuests(limit: Int = 10_000) throws -> [GuestRecord] {
        try Row.fetchAll(
            db.cachedStatement(sql: "SELECT * FROM person WHERE is_governed_guest = 1 ORDER BY email LIMIT ?"),
            arguments: [limit]
        ).map(GuestRecord.init(row:))
    }

    /// Guests whose planned removal has come, earliest first.
    public func guestsDueRemoval(at now: Date, limit: Int) throws -> [String] {
        try String.fetchAll(
            db.cachedStatement(sql: """
                SELECT email FROM person WHERE remove_at IS NOT NULL AND removed_at IS NULL AND remove_at <= ?
                ORDER BY remove_at, email LIMIT ?
                """),
            arguments: [now.stored, limit])
    }
}

extension StoreWriter {
    /// Records that a guest lost their last assignment at `at`, and when they are to be removed.
    public func setGuestLoss(email: String, at: Date?, removeAt: Date?) throws {
        try db.cachedStatement(sql: "UPDATE person SET lost_last_assignment_at = ?, remove_at = ? WHERE email = ?")
            .execute(arguments: [at?.stored, removeAt?.stored, normalized(email)])
        if db.changesCount == 0 { throw StoreError.personNotFound(email: normalized(email)) }
    }

    /// Marks a guest removed from the tenant at `at`; their row stays for the history of their requests.
    public func markRemoved(email: String, at: Date) throws {
        try db.cachedStatement(sql: "UPDATE person SET removed_at = ? WHERE email = ? AND removed_at IS NULL")
            .execute(arguments: [at.stored, normalized(email)])
    }
}
