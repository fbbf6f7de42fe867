public import Foundation
internal import GRDB

/// How a person came to decide a stage.
public enum ApproverRoleRecord: String, Sendable, Hashable, CaseIterable {
    /// Resolved from the stage's approvers when it started.
    case primary
    /// The stage's fallback approvers (or the tenant admins), because no primary was found.
    case fallback
    /// Added when the stage was escalated.
    case alternate
}

/// One person who may decide one stage of a request.
public struct ApproverRecord: Sendable, Hashable {
    public var requestID: String
    /// 1-based.
    public var stage: Int
    public var email: String
    public var role: ApproverRoleRecord
    public var addedAt: Date

    public init(requestID: String, stage: Int, email: String, role: ApproverRoleRecord, addedAt: Date) {
        self.requestID = requestID
        self.stage = stage
        self.email = email
        self.role = role
        self.addedAt = addedAt
    }

    init(row: Row) throws {
        requestID = row["request_id"]
        stage = row["stage"]
        email = row["email"]
        role = try row.decode(ApproverRoleRecord.self, "role", table: "approver")
        addedAt = row["added_at"]
    }
}

/// Where a request stands in its approval: the request columns the engine reads and writes.
public struct ApprovalStateRecord: Sendable, Hashable {
    public var state: RequestState
    /// 1-based while pending approval.
    public var currentStage: Int?
    public var stageStartedAt: Date?
    public var escalated: Bool
    public var remindersSent: Int
    /// When the sweep must look at the request again; nil when nothing is planned.
    public var nextCheckAt: Date?
    /// When the current stage expires undecided.
    public var stageDeadline: Date?

    public init(
        state: RequestState, currentStage: Int?, stageStartedAt: Date?, escalated: Bool, remindersSent: Int,
        nextCheckAt: Date?, stageDeadline: Date? = nil
    ) {
        self.state = state
        self.currentStage = currentStage
        self.stageStartedAt = stageStartedAt
        self.escalated = escalated
        self.remindersSent = remindersSent
        self.nextCheckAt = nextCheckAt
        self.stageDeadline = stageDeadline
    }

    init(row: Row) throws {
        state = try row.decode(RequestState.self, "state", table: "request")
        currentStage = row["current_stage"]
        stageStartedAt = row["stage_started_at"]
        escalated = row["escalated"]
        remindersSent = row["reminders_sent"]
        nextCheckAt = row["next_check_at"]
        stageDeadline = row["stage_deadline"]
    }
}

/// A line of an approver's list: the request without its large JSON columns.
public struct ApprovalListItem: Sendable, Hashable {
    public var requestID: String
    public var requestorEmail: String
    public var packageID: String
    public var policyID: String
    public var state: RequestState
    public var currentStage: Int?
    public var stageStartedAt: Date?
    public var stageDeadline: Date?
    public var escalated: Bool
    public var createdAt: Date
    public var updatedAt: Date
    /// The stage this person was asked to decide, and how.
    public var stage: Int
    public var role: ApproverRoleRecord
    /// This person's own decision on that stage, if they took it.
    public var myDecision: DecisionKind?

    init(row: Row) throws {
        requestID = row["id"]
        requestorEmail = row["requestor_email"]
        packageID = row["package_id"]
        policyID = row["policy_id"]
        state = try row.decode(RequestState.self, "state", table: "request")
        currentStage = row["current_stage"]
        stageStartedAt = row["stage_started_at"]
        stageDeadline = row["stage_deadline"]
        escalated = row["escalated"]
        createdAt = row["created_at"]
        updatedAt = row["updated_at"]
        stage = row["stage"]
        role = try row.decode(ApproverRoleRecord.self, "role", table: "approver")
        myDecision = try (row["my_decision"] as String?).map { raw in
            guard let kind = DecisionKind(rawValue: raw) else {
                throw StoreError.unreadableValue(table: "decision", column: "decision", value: raw)
            }
            return kind
        }
    }
}

extension StoreReader {
    /// The approval columns of a request.
    public func approvalState(requestID: String) throws -> ApprovalStateRecord? {
        try Row.fetchOne(
            db.cachedStatement(sql: """
                SELECT state, current_stage, stage_started_at, escalated, reminders_sent, next_check_at, stage_deadline
                FROM request WHERE id = ?
                """),
            arguments: [requestID]
        ).map(ApprovalStateRecord.init(row:))
    }

    /// The people who may decide `stage` of a request, in the order they were added.
    public func approvers(requestID: String, stage: Int) throws -> [ApproverRecord] {
        try Row.fetchAll(
            db.cachedStatement(sql: "SELECT * FROM approver WHERE request_id = ? AND stage = ? ORDER BY added_at, rowid"),
            arguments: [requestID, stage]
        ).map(ApproverRecord.init(row:))
    }

    /// Every approver row of a request, by stage.
    public func approvers(requestID: String) throws -> [ApproverRecord] {
        try Row.fetchAll(
            db.cachedStatement(sql: "SELECT * FROM approver WHERE request_id = ? ORDER BY stage, added_at, rowid"),
            arguments: [requestID]
        ).map(ApproverRecord.init(row:))
    }

    /// The requests waiting for `email`'s decision now (their current stage lists them), oldest first.
    /// A person's own requests are never among them.
    public func pendingApprovals(for email: String, limit: Int = 500) throws -> [ApprovalListItem] {
        try Row.fetchAll(
            db.cachedStatement(sql: """
                SELECT r.id, r.requestor_email, r.package_id, r.policy_id, r.state, r.current_stage,
                    r.stage_started_at, r.stage_deadline, r.escalated, r.created_at, r.updated_at, a.stage, a.role,
                    NULL AS my_decision
                FROM approver a JOIN request r ON r.id = a.request_id
                WHERE a.email = ? AND r.state = 'pendingApproval' AND r.current_stage = a.stage
                    AND r.requestor_email != a.email
                ORDER BY r.created_at, r.id LIMIT ?
                """),
            arguments: [normalized(email), limit]
        ).map(ApprovalListItem.init(row:))
    }

    /// How many requests wait for `email`'s decision now.
    public func pendingApprovalCount(for email: String) throws -> Int {
        try Int.fetchOne(
            db.cachedStatement(sql: """
                SELECT count(*) FROM approver a JOIN request r ON r.id = a.request_id
                WHERE a.email = ? AND r.state = 'pendingApproval' AND r.current_stage = a.stage
                    AND r.requestor_email != a.email
                """),
            arguments: [normalized(email)]) ?? 0
    }

    /// The stages `email` was asked to decide that are no longer waiting for them (decided by
    /// them or someone else, expired, canceled), most recently changed first.
    public func approvalHistory(for email: String, limit: Int = 200) throws -> [ApprovalListItem] {
        try Row.fetchAll(
            db.cachedStatement(sql: """
                SELECT r.id, r.requestor_email, r.package_id, r.policy_id, r.state, r.current_stage,
                    r.stage_started_at, r.stage_deadline, r.escalated, r.created_at, r.updated_at, a.stage, a.role,
                    (SELECT d.decision FROM decision d
                     WHERE d.request_id = a.request_id AND d.stage = a.stage AND d.approver_email = a.email) AS my_decision
                FROM approver a JOIN request r ON r.id = a.request_id
                WHERE a.email = ? AND NOT (r.state = 'pendingApproval' AND r.current_stage = a.stage)
                    AND r.requestor_email != a.email
                ORDER BY r.updated_at DESC, r.id LIMIT ?
                """),
            arguments: [normalized(email), limit]
        ).map(ApprovalListItem.init(row:))
    }

    /// Ids of requests the sweep must look at (`next_check_at` reached), earliest first.
    public func requestsDue(at now: Date, limit: Int) throws -> [String] {
        try String.fetchAll(
            db.cachedStatement(sql: """
                SELECT id FROM request WHERE next_check_at IS NOT NULL AND next_check_at <= ?
                ORDER BY next_check_at, id LIMIT ?
                """),
            arguments: [now.stored, limit])
    }

    /// Assignments waiting in `delivering` whose start has come, earliest first.
    public func assignmentsStarting(by now: Date, limit: Int) throws -> [AssignmentRecord] {
        try Row.fetchAll(
            db.cachedStatement(sql: """
                SELECT * FROM assignment WHERE state = 'delivering' AND starts_at <= ?
                ORDER BY starts_at, id LIMIT ?
                """),
            arguments: [now.stored, limit]
        ).map(AssignmentRecord.init(row:))
    }
}

extension StoreWriter {
    /// Writes the approval columns of a request; `updated_at` becomes `at` when the state, stage or
    /// escalation changes (a reminder is not a change the requestor sees). With `expected`, nothing
    /// changes unless the request is still in that state: ``StoreError/requestStateChanged(id:expected:actual:)``.
    public func setApprovalState(
        requestID: String, _ s: ApprovalStateRecord, at: Date, expected: RequestState? = nil
    ) throws {
        // The expected state is checked by the UPDATE itself; only a refused one is read back, to
        // say why.
        try db.cachedStatement(sql: """
            UPDATE request SET
                updated_at = CASE WHEN state != :state OR current_stage IS NOT :stage OR escalated != :escalated
                    THEN :at ELSE updated_at END,
                state = :state, current_stage = :stage, stage_started_at = :started, escalated = :escalated,
                reminders_sent = :reminders, next_check_at = :next, stage_deadline = :deadline
            WHERE id = :id AND (:expected IS NULL OR state = :expected)
            """
        ).execute(arguments: [
            "state": s.state.rawValue, "stage": s.currentStage, "started": s.stageStartedAt?.stored,
            "escalated": s.escalated, "reminders": s.remindersSent, "next": s.nextCheckAt?.stored,
            "deadline": s.stageDeadline?.stored, "at": at.stored, "id": requestID, "expected": expected?.rawValue,
        ])
        guard db.changesCount == 0 else { return }
        guard let current = try approvalState(requestID: requestID) else { throw StoreError.requestNotFound(id: requestID) }
        if let expected, current.state != expected {
            throw StoreError.requestStateChanged(id: requestID, expected: expected, actual: current.state)
        }
    }

    /// Sets only when the sweep must look at a request next (nil: nothing planned).
    public func setNextCheck(requestID: String, at next: Date?) throws {
        try db.cachedStatement(sql: "UPDATE request SET next_check_at = ? WHERE id = ?")
            .execute(arguments: [next?.stored, requestID])
    }

    /// Adds approvers to a stage; a person already listed for that stage keeps their first role.
    public func addApprovers(_ approvers: [ApproverRecord]) throws {
        for a in approvers {
            try db.run("""
                INSERT INTO approver (request_id, stage, email, role, added_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (request_id, stage, email) DO NOTHING
                """, [.text(a.requestID), .integer(a.stage), .text(normalized(a.email)), .text(a.role.rawValue), .date(a.addedAt)])
        }
    }
}

/// A connected organization proposed from an approved request's email domain.
public struct ProposedOrganizationRecord: Sendable, Hashable {
    public var domain: String
    public var firstRequestID: String
    public var createdAt: Date
}

extension StoreReader {
    /// Every proposed organization, by domain.
    public func proposedOrganizations() throws -> [ProposedOrganizationRecord] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM proposed_organization ORDER BY domain")).map {
            ProposedOrganizationRecord(domain: $0["domain"], firstRequestID: $0["first_request_id"], createdAt: $0["created_at"])
        }
    }
}

extension StoreWriter {
    /// Records a proposed organization for `domain` unless one exists; true when it was new.
    @discardableResult
    public func proposeOrganization(domain: String, requestID: String, at: Date) throws -> Bool {
        try db.cachedStatement(sql: """
            INSERT INTO proposed_organization (domain, first_request_id, created_at) VALUES (?, ?, ?)
            ON CONFLICT (domain) DO NOTHING
            """
        ).execute(arguments: [normalized(domain), requestID, at.stored])
        return db.changesCount == 1
    }
}
