public import Foundation
internal import GRDB

/// Someone who signed in at least once.
public struct PersonRecord: Sendable, Hashable {
    /// Lowercased.
    public var email: String
    public var displayName: String
    public var isExternal: Bool
    /// Set when an external person was first given access by Gatehouse; nil for others.
    public var governedGuestSince: Date?
    /// Non-nil when the person is blocked: the reason shown to them.
    public var blockedReason: String?
    public var termsAcceptedAt: Date?
    public var termsVersion: String?
    public var firstSignInAt: Date
    public var lastSignInAt: Date

    public var isGovernedGuest: Bool { governedGuestSince != nil }
    public var isBlocked: Bool { blockedReason != nil }

    init(row: Row) {
        email = row["email"]
        displayName = row["display_name"]
        isExternal = row["is_external"]
        governedGuestSince = row["is_governed_guest"] ? row["governed_guest_since"] : nil
        blockedReason = row["is_blocked"] ? (row["blocked_reason"] as String? ?? "") : nil
        termsAcceptedAt = row["terms_accepted_at"]
        termsVersion = row["terms_version"]
        firstSignInAt = row["first_sign_in_at"]
        lastSignInAt = row["last_sign_in_at"]
    }
}

extension PersonRecord {
    /// The columns ``init(positional:)`` reads, in its order.
    static let columns = "email, display_name, is_external, is_governed_guest, governed_guest_since, is_blocked, "
        + "blocked_reason, terms_accepted_at, terms_version, first_sign_in_at, last_sign_in_at"

    /// A row of ``columns``, read by position: every page and post reads a person, and GRDB's
    /// lookup of a column by name compares lowercased names.
    init(positional row: RawRow) {
        email = row.text(0)
        displayName = row.text(1)
        isExternal = row.bool(2)
        governedGuestSince = row.bool(3) ? row.date(4) : nil
        blockedReason = row.bool(5) ? row.text(6) : nil
        termsAcceptedAt = row.date(7)
        termsVersion = row.optionalText(8)
        firstSignInAt = row.date(9) ?? .distantPast
        lastSignInAt = row.date(10) ?? .distantPast
    }
}

/// What a write checks about a person: no names, no dates to decode.
public struct PersonFlags: Sendable, Hashable {
    /// Lowercased.
    public var email: String
    public var isExternal: Bool
    public var isGovernedGuest: Bool
    public var isBlocked: Bool
}

extension StoreReader {
    /// The flags of the person with that email (any case), if they ever signed in: what
    /// submissions and deliveries re-check inside the write, cheaper to read than the whole record.
    public func personFlags(email: String) throws -> PersonFlags? {
        try db.firstRow(
            "SELECT email, is_external, is_governed_guest, is_blocked FROM person WHERE email = ?", [.text(normalized(email))]
        ) { PersonFlags(email: $0.text(0), isExternal: $0.bool(1), isGovernedGuest: $0.bool(2), isBlocked: $0.bool(3)) }
    }

    /// The person with that email (any case), if they ever signed in.
    public func person(email: String) throws -> PersonRecord? {
        try db.firstRow("SELECT \(PersonRecord.columns) FROM person WHERE email = ?", [.text(normalized(email))],
            PersonRecord.init(positional:))
    }
}

extension StoreWriter {
    /// Records a sign-in at `at`: creates the person, or updates name, external flag and last sign-in.
    /// A nil `displayName` keeps the stored one (the email for a new person).
    @discardableResult
    public func upsertPersonOnSignIn(email: String, displayName: String?, isExternal: Bool, at: Date) throws
        -> PersonRecord
    {
        let email = normalized(email)
        try db.cachedStatement(sql: """
            INSERT INTO person (email, display_name, is_external, first_sign_in_at, last_sign_in_at)
            VALUES (?1, coalesce(?2, ?1), ?3, ?4, ?4)
            ON CONFLICT (email) DO UPDATE SET
                display_name = coalesce(?2, display_name),
                is_external = excluded.is_external,
                last_sign_in_at = excluded.last_sign_in_at
            """
        ).execute(arguments: [email, displayName, isExternal, at.stored])
        return try person(email: email)!
    }

    /// Records that the person accepted the terms of use `version` at `at`; a `displayName`
    /// replaces the stored one (an external person gives theirs with the acceptance).
    public func recordTermsAccepted(email: String, version: String, displayName: String? = nil, at: Date) throws {
        try db.cachedStatement(sql: """
            UPDATE person SET terms_accepted_at = ?, terms_version = ?, display_name = coalesce(?, display_name)
            WHERE email = ?
            """)
            .execute(arguments: [at.stored, version, displayName, normalized(email)])
        if db.changesCount == 0 { throw StoreError.personNotFound(email: normalized(email)) }
    }

    /// Makes the person a governed guest since `since`; a second call keeps the first date.
    public func markGovernedGuest(email: String, since: Date) throws {
        try db.cachedStatement(sql: """
            UPDATE person SET governed_guest_since = coalesce(governed_guest_since, ?), is_governed_guest = 1
            WHERE email = ?
            """
        ).execute(arguments: [since.stored, normalized(email)])
        if db.changesCount == 0 { throw StoreError.personNotFound(email: normalized(email)) }
    }

    /// Blocks the person with a reason they will be shown, or unblocks them with nil.
    /// Their sessions are not ended here: call ``endSessions(email:at:)`` in the same transaction.
    public func setBlocked(email: String, reason: String?) throws {
        try db.cachedStatement(sql: "UPDATE person SET is_blocked = ?, blocked_reason = ? WHERE email = ?")
            .execute(arguments: [reason != nil, reason, normalized(email)])
        if db.changesCount == 0 { throw StoreError.personNotFound(email: normalized(email)) }
    }
}
