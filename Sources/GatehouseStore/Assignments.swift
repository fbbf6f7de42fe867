public import Foundation
internal import GRDB

/// An assignment's state (PRODUCT.md section 5); `expired` covers every way of ending.
public enum AssignmentState: String, Sendable, Hashable, CaseIterable {
    case delivering, delivered, partiallyDelivered, deliveryFailed, expired
}

/// Where one resource role of an assignment stands in the directory and its connector.
public enum GrantState: String, Sendable, Hashable, CaseIterable { case pending, active, failed, revoked }

/// A person holding a package; also the value to insert (the caller chooses `id`).
public struct AssignmentRecord: Sendable, Hashable {
    public var id: String
    public var requestID: String
    public var email: String
    public var packageID: String
    public var policyID: String
    public var state: AssignmentState
    /// The real start: approval, or the approved custom start.
    public var startsAt: Date
    /// The planned end; nil when the policy never expires.
    public var endsAt: Date?
    /// When it actually ended, for any reason.
    public var endedAt: Date?
    public var endReason: String?

    public init(
        id: String, requestID: String, email: String, packageID: String, policyID: String, state: AssignmentState,
        startsAt: Date, endsAt: Date?, endedAt: Date? = nil, endReason: String? = nil
    ) {
        self.id = id
        self.requestID = requestID
        self.email = email
        self.packageID = packageID
        self.policyID = policyID
        self.state = state
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.endedAt = endedAt
        self.endReason = endReason
    }

    init(row: Row) throws {
        id = row["id"]
        requestID = row["request_id"]
        email = row["email"]
        packageID = row["package_id"]
        policyID = row["policy_id"]
        state = try row.decode(AssignmentState.self, "state", table: "assignment")
        startsAt = row["starts_at"]
        endsAt = row["ends_at"]
        endedAt = row["ended_at"]
        endReason = row["end_reason"]
    }
}

/// A resource role to grant with an assignment.
public struct ResourceGrant: Sendable, Hashable {
    public var resourceID: String
    public var role: String
    public var state: GrantState

    public init(resourceID: String, role: String, state: GrantState) {
        self.resourceID = resourceID
        self.role = role
        self.state = state
    }
}

/// A grant as stored, with its assignment.
public struct GrantRecord: Sendable, Hashable {
    public var assignmentID: String
    public var grant: ResourceGrant
    public var updatedAt: Date

    init(row: Row) throws {
        assignmentID = row["assignment_id"]
        grant = ResourceGrant(
            resourceID: row["resource_id"], role: row["role"],
            state: try row.decode(GrantState.self, "state", table: "resource_grant"))
        updatedAt = row["updated_at"]
    }
}

/// One person holding one role of a resource through at least one active grant.
public struct ResourceMember: Sendable, Hashable {
    public var email: String
    public var role: String

    public init(email: String, role: String) {
        self.email = email
        self.role = role
    }
}

extension StoreReader {
    /// The assignment with that id.
    public func assignment(id: String) throws -> AssignmentRecord? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM assignment WHERE id = ?"), arguments: [id])
            .map(AssignmentRecord.init(row:))
    }

    /// Every assignment of a person, active and ended, latest start first ("My access").
    public func assignments(of email: String) throws -> [AssignmentRecord] {
        try Row.fetchAll(
            db.cachedStatement(sql: "SELECT * FROM assignment WHERE email = ? ORDER BY starts_at DESC, rowid DESC"),
            arguments: [normalized(email)]
        ).map(AssignmentRecord.init(row:))
    }

    /// The assignments a person still holds (any state but `expired`), latest start first.
    public func activeAssignments(of email: String) throws -> [AssignmentRecord] {
        try Row.fetchAll(
            db.cachedStatement(sql: """
                SELECT * FROM assignment WHERE email = ? AND state != 'expired'
                ORDER BY starts_at DESC, rowid DESC
                """),
            arguments: [normalized(email)]
        ).map(AssignmentRecord.init(row:))
    }

    /// The packages a person still holds (an assignment in any state but `expired`).
    public func heldPackageIDs(of email: String) throws -> Set<String> {
        // Without DISTINCT, which builds a temporary b-tree on every call; the set removes duplicates.
        var packages: Set<String> = []
        try db.eachRow("SELECT package_id FROM assignment WHERE email = ? AND state != 'expired'", [.text(normalized(email))]) {
            packages.insert($0.text(0))
            return true
        }
        return packages
    }

    /// The grants of one assignment, by resource and role.
    public func grants(assignmentID: String) throws -> [GrantRecord] {
        try Row.fetchAll(
            db.cachedStatement(sql: "SELECT * FROM resource_grant WHERE assignment_id = ? ORDER BY resource_id, role"),
            arguments: [assignmentID]
        ).map(GrantRecord.init(row:))
    }

    /// The directory's effective membership of a resource: the union of active grants, by email then role.
    public func members(resourceID: String) throws -> [ResourceMember] {
        try Row.fetchAll(
            db.cachedStatement(sql: """
                SELECT DISTINCT a.email, g.role FROM resource_grant g JOIN assignment a ON a.id = g.assignment_id
                WHERE g.resource_id = ? AND g.state = 'active'
                ORDER BY a.email, g.role
                """),
            arguments: [resourceID]
        ).map { ResourceMember(email: $0["email"], role: $0["role"]) }
    }
}

extension StoreWriter {
    /// Inserts an assignment and its grants, all stamped `at`, with the instant the sweep first
    /// looks at it (``setAssignmentLifecycle(id:nextCheckAt:remindersSent:)`` changes it later).
    public func insertAssignment(_ a: AssignmentRecord, grants: [ResourceGrant], at: Date, nextCheckAt: Date? = nil) throws {
        try db.run("""
            INSERT INTO assignment (id, request_id, email, package_id, policy_id, state, starts_at, ends_at,
                ended_at, end_reason, next_check_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [
            .text(a.id), .text(a.requestID), .text(normalized(a.email)), .text(a.packageID), .text(a.policyID),
            .text(a.state.rawValue), .date(a.startsAt), .date(a.endsAt), .date(a.endedAt), .text(a.endReason),
            .date(nextCheckAt),
        ])
        let time = RawArgument.date(at)
        for g in grants {
            try db.run("""
                INSERT INTO resource_grant (assignment_id, resource_id, role, state, updated_at)
                VALUES (?, ?, ?, ?, ?)
                """, [.text(a.id), .text(g.resourceID), .text(g.role), .text(g.state.rawValue), time])
        }
    }

    /// Sets a live assignment's delivery state (delivered, partially delivered, failed).
    public func setAssignmentState(id: String, _ state: AssignmentState) throws {
        try db.cachedStatement(sql: "UPDATE assignment SET state = ? WHERE id = ?")
            .execute(arguments: [state.rawValue, id])
        if db.changesCount == 0 { throw StoreError.assignmentNotFound(id: id) }
    }

    /// Sets the state of one grant of an assignment at `at`.
    public func setGrantState(assignmentID: String, resourceID: String, role: String, _ state: GrantState, at: Date)
        throws
    {
        try db.cachedStatement(sql: """
            UPDATE resource_grant SET state = ?, updated_at = ?
            WHERE assignment_id = ? AND resource_id = ? AND role = ?
            """
        ).execute(arguments: [state.rawValue, at.stored, assignmentID, resourceID, role])
        if db.changesCount == 0 {
            throw StoreError.grantNotFound(assignmentID: assignmentID, resourceID: resourceID, role: role)
        }
    }

    /// Ends an assignment at `at` for `reason` and revokes its grants; a role another active
    /// assignment grants stays in ``StoreReader/members(resourceID:)``. Returns the ended record.
    @discardableResult
    public func endAssignment(id: String, reason: String, at: Date) throws -> AssignmentRecord {
        try db.cachedStatement(sql: """
            UPDATE assignment SET state = 'expired', ended_at = ?, end_reason = ?
            WHERE id = ? AND state != 'expired'
            """
        ).execute(arguments: [at.stored, reason, id])
        guard let ended = try assignment(id: id) else { throw StoreError.assignmentNotFound(id: id) }
        try db.cachedStatement(sql: """
            UPDATE resource_grant SET state = 'revoked', updated_at = ?
            WHERE assignment_id = ? AND state != 'revoked'
            """
        ).execute(arguments: [at.stored, id])
        return ended
    }
}
