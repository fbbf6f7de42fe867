public import Foundation
internal import GRDB

/// An assignment with the columns the lifecycle sweep reads.
public struct AssignmentLifecycleRecord: Sendable, Hashable {
    public var assignment: AssignmentRecord
    /// Extension reminders already sent for the current end.
    public var remindersSent: Int
    public var nextCheckAt: Date?

    init(row: Row) throws {
        assignment = try AssignmentRecord(row: row)
        remindersSent = row["reminders_sent"]
        nextCheckAt = row["next_check_at"]
    }
}

extension StoreReader {
    /// Live assignments whose next check has come (an end or an extension reminder), earliest first.
    public func assignmentsDue(at now: Date, limit: Int) throws -> [AssignmentLifecycleRecord] {
        try Row.fetchAll(
            db.cachedStatement(sql: """
                SELECT * FROM assignment WHERE next_check_at IS NOT NULL AND next_check_at <= ?
                ORDER BY next_check_at, id LIMIT ?
                """),
            arguments: [now.stored, limit]
        ).map(AssignmentLifecycleRecord.init(row:))
    }

    /// One assignment with its lifecycle columns.
    public func assignmentLifecycle(id: String) throws -> AssignmentLifecycleRecord? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM assignment WHERE id = ?"), arguments: [id])
            .map(AssignmentLifecycleRecord.init(row:))
    }

    /// The assignment an extend or remove request is about.
    public func assignmentID(ofRequest requestID: String) throws -> String? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT assignment_id FROM request WHERE id = ?"), arguments: [requestID])
    }

    /// When the latest extend request of an assignment was made, and its state.
    public func latestExtension(assignmentID: String) throws -> (id: String, createdAt: Date, state: RequestState)? {
        guard let row = try Row.fetchOne(
            db.cachedStatement(sql: """
                SELECT id, created_at, state FROM request WHERE assignment_id = ? AND kind = 'extend'
                ORDER BY created_at DESC, rowid DESC LIMIT 1
                """),
            arguments: [assignmentID]) else { return nil }
        return (row["id"], row["created_at"], try row.decode(RequestState.self, "state", table: "request"))
    }

    /// Open extend requests of an assignment (pending approval).
    public func pendingExtension(assignmentID: String) throws -> String? {
        try String.fetchOne(
            db.cachedStatement(sql: """
                SELECT id FROM request WHERE assignment_id = ? AND kind = 'extend' AND state = 'pendingApproval'
                """),
            arguments: [assignmentID])
    }

    /// Whether `email` holds `resourceID`'s `role` through an active grant of another assignment than `except`.
    public func holdsRole(email: String, resourceID: String, role: String, except assignmentID: String) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(sql: """
                SELECT EXISTS (SELECT 1 FROM resource_grant g JOIN assignment a ON a.id = g.assignment_id
                    WHERE a.email = ? AND g.resource_id = ? AND g.role = ? AND g.state = 'active' AND a.id != ?)
                """),
            arguments: [normalized(email), resourceID, role, assignmentID]) ?? false
    }
}

extension StoreWriter {
    /// Sets when the sweep looks at an assignment next and how many extension reminders were sent.
    public func setAssignmentLifecycle(id: String, nextCheckAt: Date?, remindersSent: Int) throws {
        try db.cachedStatement(sql: "UPDATE assignment SET next_check_at = ?, reminders_sent = ? WHERE id = ?")
            .execute(arguments: [nextCheckAt?.stored, remindersSent, id])
        if db.changesCount == 0 { throw StoreError.assignmentNotFound(id: id) }
    }

    /// Links an extend or remove request to its assignment.
    public func setRequestAssignment(requestID: String, assignmentID: String) throws {
        try db.cachedStatement(sql: "UPDATE request SET assignment_id = ? WHERE id = ?")
            .execute(arguments: [assignmentID, requestID])
    }

    /// Moves a live assignment's planned end (an extension); reminders start again for the new end.
    public func setAssignmentEnd(id: String, endsAt: Date?, nextCheckAt: Date?) throws {
        try db.cachedStatement(sql: """
            UPDATE assignment SET ends_at = ?, next_check_at = ?, reminders_sent = 0
            WHERE id = ? AND state != 'expired'
            """
        ).execute(arguments: [endsAt?.stored, nextCheckAt?.stored, id])
        if db.changesCount == 0 { throw StoreError.assignmentNotFound(id: id) }
    }
}

/// One resource role a person holds, with the assignment and package that grant it.
public struct HeldRole: Sendable, Hashable {
    public var resourceID: String
    public var role: String
    public var assignmentID: String
    public var packageID: String
}

extension StoreReader {
    /// The resource roles `email` holds through active grants, by resource, role and package.
    public func roles(of email: String) throws -> [HeldRole] {
        try Row.fetchAll(
            db.cachedStatement(sql: """
                SELECT g.resource_id, g.role, a.id AS assignment_id, a.package_id
                FROM resource_grant g JOIN assignment a ON a.id = g.assignment_id
                WHERE a.email = ? AND g.state = 'active'
                ORDER BY g.resource_id, g.role, a.package_id
                """),
            arguments: [normalized(email)]
        ).map {
            HeldRole(resourceID: $0["resource_id"], role: $0["role"], assignmentID: $0["assignment_id"], packageID: $0["package_id"])
        }
    }
}
