public import Foundation
internal import GRDB

/// A request form kept while the person who posted it signs in (schema v10).
public struct FormDraft: Sendable, Hashable {
    /// SHA-256 hex of the token in the link back to the draft: a copy of the database opens nothing.
    public var tokenHash: String
    public var packageID: String
    public var policyID: String
    public var language: String
    /// The posted fields as JSON: an object of arrays of strings, by field name.
    public var fields: String
    /// The address it was posted from.
    public var client: String
    /// SHA-256 hex of the random cookie of the browser that posted it: only that browser opens it.
    public var browserHash: String
    /// The person who first opened it signed in; nil until then.
    public var ownerEmail: String?
    public var createdAt: Date
    public var expiresAt: Date

    public init(
        tokenHash: String, packageID: String, policyID: String, language: String, fields: String, client: String,
        browserHash: String, ownerEmail: String? = nil, createdAt: Date, expiresAt: Date
    ) {
        self.tokenHash = tokenHash
        self.packageID = packageID
        self.policyID = policyID
        self.language = language
        self.fields = fields
        self.client = client
        self.browserHash = browserHash
        self.ownerEmail = ownerEmail
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }

    init(row: Row) {
        tokenHash = row["token_hash"]
        packageID = row["package_id"]
        policyID = row["policy_id"]
        language = row["language"]
        fields = row["fields"]
        client = row["client"]
        browserHash = row["browser_hash"]
        ownerEmail = row["owner_email"]
        createdAt = row["created_at"]
        expiresAt = row["expires_at"]
    }
}

extension StoreReader {
    /// The draft under `tokenHash`, unless it expired by `now`.
    public func draft(tokenHash: String, now: Date) throws -> FormDraft? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT * FROM form_draft WHERE token_hash = ? AND expires_at > ?"),
            arguments: [tokenHash, now.stored]
        ).map(FormDraft.init(row:))
    }

    /// How many drafts `client` posted since `since` (expired or not, until the sweep deletes them).
    public func draftCount(client: String, since: Date) throws -> Int {
        try Int.fetchOne(
            db.cachedStatement(sql: "SELECT count(*) FROM form_draft WHERE client = ? AND created_at >= ?"),
            arguments: [client, since.stored]) ?? 0
    }
}

extension StoreWriter {
    public func saveDraft(_ draft: FormDraft) throws {
        try db.cachedStatement(sql: """
            INSERT INTO form_draft (
                token_hash, package_id, policy_id, language, fields, client, browser_hash, owner_email, created_at, expires_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """
        ).execute(arguments: [
            draft.tokenHash, draft.packageID, draft.policyID, draft.language, draft.fields, draft.client, draft.browserHash,
            draft.ownerEmail.map(normalized), draft.createdAt.stored, draft.expiresAt.stored,
        ])
    }

    /// Makes `email` the draft's owner if it has none; returns the owner it has afterwards (nil
    /// when there is no such draft).
    @discardableResult
    public func claimDraft(tokenHash: String, email: String) throws -> String? {
        try db.cachedStatement(sql: "UPDATE form_draft SET owner_email = ? WHERE token_hash = ? AND owner_email IS NULL")
            .execute(arguments: [normalized(email), tokenHash])
        return try String.fetchOne(
            db.cachedStatement(sql: "SELECT owner_email FROM form_draft WHERE token_hash = ?"), arguments: [tokenHash])
    }

    /// Deletes the draft if `email` owns it (a submission made from it).
    public func deleteDraft(tokenHash: String, ownedBy email: String) throws {
        try db.cachedStatement(sql: "DELETE FROM form_draft WHERE token_hash = ? AND owner_email = ?")
            .execute(arguments: [tokenHash, normalized(email)])
    }

    /// Deletes the drafts expired by `now`; returns how many.
    public func deleteExpiredDrafts(now: Date) throws -> Int {
        try db.cachedStatement(sql: "DELETE FROM form_draft WHERE expires_at <= ?").execute(arguments: [now.stored])
        return db.changesCount
    }
}
