public import Foundation
internal import GRDB

/// One grant with its connector columns and the assignment it belongs to: what a connector
/// attempt needs to build its event and to decide what is owed.
///
/// What is owed follows from the row: an attempt is planned when `nextAttemptAt` is set; it sends
/// a revoke when the grant is `revoked` (the built-in directory already dropped the role), else a
/// grant. `nextAttemptAt` nil on a `failed` grant, or on a `revoked` one with `lastError`, means
/// the connector gave up.
public struct GrantAttempt: Sendable, Hashable {
    /// The row id of the grant.
    public var id: Int64
    public var assignmentID: String
    public var email: String
    public var packageID: String
    public var requestID: String
    public var assignmentState: AssignmentState
    public var startsAt: Date
    public var resourceID: String
    public var role: String
    public var state: GrantState
    /// Failed connector attempts since the event was last planned.
    public var attempts: Int
    public var nextAttemptAt: Date?
    /// The connector's last error (first 2 KB of its stderr, or why it could not run).
    public var lastError: String?
    public var updatedAt: Date

    init(row: Row) throws {
        id = row["id"]
        assignmentID = row["assignment_id"]
        email = row["email"]
        packageID = row["package_id"]
        requestID = row["request_id"]
        assignmentState = try row.decode(AssignmentState.self, "assignment_state", table: "assignment")
        startsAt = row["starts_at"]
        resourceID = row["resource_id"]
        role = row["role"]
        state = try row.decode(GrantState.self, "state", table: "resource_grant")
        attempts = row["attempts"]
        nextAttemptAt = row["next_attempt_at"]
        lastError = row["last_error"]
        updatedAt = row["updated_at"]
    }

    static let columns = """
        g.id, g.assignment_id, a.email, a.package_id, a.request_id, a.state AS assignment_state, a.starts_at,
        g.resource_id, g.role, g.state, g.attempts, g.next_attempt_at, g.last_error, g.updated_at
        """
}

extension StoreReader {
    /// Grants whose connector attempt is due at `now` (planned at or before it), earliest first.
    public func grantAttemptsDue(at now: Date, limit: Int) throws -> [GrantAttempt] {
        try Row.fetchAll(
            db.cachedStatement(sql: """
                SELECT \(GrantAttempt.columns) FROM resource_grant g JOIN assignment a ON a.id = g.assignment_id
                WHERE g.next_attempt_at IS NOT NULL AND g.next_attempt_at <= ?
                ORDER BY g.next_attempt_at, g.id LIMIT ?
                """),
            arguments: [now.stored, limit]
        ).map(GrantAttempt.init(row:))
    }

    /// One grant with its connector columns.
    public func grantAttempt(id: Int64) throws -> GrantAttempt? {
        try Row.fetchOne(
            db.cachedStatement(sql: """
                SELECT \(GrantAttempt.columns) FROM resource_grant g JOIN assignment a ON a.id = g.assignment_id
                WHERE g.id = ?
                """),
            arguments: [id]
        ).map(GrantAttempt.init(row:))
    }

    /// The grants of one assignment with their connector columns, by resource and role.
    public func grantAttempts(assignmentID: String) throws -> [GrantAttempt] {
        try Row.fetchAll(
            db.cachedStatement(sql: """
                SELECT \(GrantAttempt.columns) FROM resource_grant g JOIN assignment a ON a.id = g.assignment_id
                WHERE g.assignment_id = ? ORDER BY g.resource_id, g.role
                """),
            arguments: [assignmentID]
        ).map(GrantAttempt.init(row:))
    }

    /// The other live assignments of `email` that give it `role` of `resourceID` at `now`: started,
    /// not ended, with that grant pending or active (the union rule: no revoke while one exists).
    public func otherHolders(
        email: String, resourceID: String, role: String, excluding assignmentID: String, at now: Date
    ) throws -> [String] {
        try String.fetchAll(
            db.cachedStatement(sql: """
                SELECT DISTINCT a.id FROM resource_grant g JOIN assignment a ON a.id = g.assignment_id
                WHERE a.email = ? AND a.state != 'expired' AND a.starts_at <= ? AND a.id != ?
                    AND g.resource_id = ? AND g.role = ? AND g.state IN ('pending', 'active')
                ORDER BY a.id
                """),
            arguments: [normalized(email), now.stored, assignmentID, resourceID, role])
    }

    /// Assignments waiting for their scheduled start at `now`: `delivering`, started by then, and
    /// with no connector attempt planned yet (those already started and wait for their connectors).
    public func assignmentsAwaitingStart(by now: Date, limit: Int) throws -> [AssignmentRecord] {
        try Row.fetchAll(
            db.cachedStatement(sql: """
                SELECT * FROM assignment WHERE state = 'delivering' AND starts_at <= ?
                    AND NOT EXISTS (
                        SELECT 1 FROM resource_grant g WHERE g.assignment_id = assignment.id AND g.next_attempt_at IS NOT NULL)
                ORDER BY starts_at, id LIMIT ?
                """),
            arguments: [now.stored, limit]
        ).map(AssignmentRecord.init(row:))
    }

    /// Whether some grant of the assignment has a connector attempt planned.
    public func hasPlannedGrantAttempts(assignmentID: String) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(sql: """
                SELECT EXISTS (SELECT 1 FROM resource_grant WHERE assignment_id = ? AND next_attempt_at IS NOT NULL)
                """),
            arguments: [assignmentID]) ?? false
    }
}

extension StoreWriter {
    /// Plans a connector attempt for every `pending` grant of an assignment at `at`.
    public func planPendingGrantAttempts(assignmentID: String, at: Date) throws {
        try db.cachedStatement(sql: """
            UPDATE resource_grant SET next_attempt_at = ?, attempts = 0, last_error = NULL
            WHERE assignment_id = ? AND state = 'pending'
            """
        ).execute(arguments: [at.stored, assignmentID])
    }

    /// Writes a grant's state and connector columns; `updated_at` becomes `at` when the state changes.
    /// With `expectedNextAttempt`, nothing changes unless the row still has that planned attempt
    /// (another sweep or an admin re-planned it meanwhile); returns whether the row changed.
    @discardableResult
    public func updateGrantAttempt(
        id: Int64, state: GrantState, attempts: Int, nextAttemptAt: Date?, lastError: String?, at: Date,
        expectedNextAttempt: Date? = nil
    ) throws -> Bool {
        if let expectedNextAttempt {
            try db.cachedStatement(sql: """
                UPDATE resource_grant SET updated_at = CASE WHEN state = ? THEN updated_at ELSE ? END,
                    state = ?, attempts = ?, next_attempt_at = ?, last_error = ?
                WHERE id = ? AND next_attempt_at = ?
                """
            ).execute(arguments: [
                state.rawValue, at.stored, state.rawValue, attempts, nextAttemptAt?.stored, lastError, id,
                expectedNextAttempt.stored,
            ])
        } else {
            try db.cachedStatement(sql: """
                UPDATE resource_grant SET updated_at = CASE WHEN state = ? THEN updated_at ELSE ? END,
                    state = ?, attempts = ?, next_attempt_at = ?, last_error = ?
                WHERE id = ?
                """
            ).execute(arguments: [
                state.rawValue, at.stored, state.rawValue, attempts, nextAttemptAt?.stored, lastError, id,
            ])
        }
        return db.changesCount > 0
    }

    /// Claims a due attempt before the connector runs outside any transaction: its planned time moves
    /// to `until`, so another sweep leaves it alone, and a crash lets it come back then. Returns the
    /// claimed row (with the stored lease), or nil when it is no longer due at `now`.
    public func claimGrantAttempt(id: Int64, now: Date, until: Date) throws -> GrantAttempt? {
        try db.cachedStatement(sql: """
            UPDATE resource_grant SET next_attempt_at = ?
            WHERE id = ? AND next_attempt_at IS NOT NULL AND next_attempt_at <= ?
            """
        ).execute(arguments: [until.stored, id, now.stored])
        guard db.changesCount > 0 else { return nil }
        return try grantAttempt(id: id)
    }
}
