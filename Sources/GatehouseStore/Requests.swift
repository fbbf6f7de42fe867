public import Foundation
internal import GRDB

/// Add, extend or remove a package (PRODUCT.md section 5).
public enum RequestKind: String, Sendable, Hashable, CaseIterable { case add, extend, remove }

/// Who made the request: the person, an admin on their behalf, or the system (expiry, review).
public enum ActorKind: String, Sendable, Hashable, CaseIterable { case user, admin, system }

/// A request's state (PRODUCT.md section 5).
public enum RequestState: String, Sendable, Hashable, CaseIterable {
    case submitted, pendingApproval, approved, scheduled, delivering, delivered, partiallyDelivered
    case deliveryFailed, denied, expired, canceled
}

/// An approver's answer on one stage.
public enum DecisionKind: String, Sendable, Hashable, CaseIterable { case approve, deny }

/// One request as stored; also the value to insert (the caller chooses `id` and the key).
public struct RequestRecord: Sendable, Hashable {
    public var id: String
    /// The same for every replay of one form post (double click, back-and-resubmit).
    public var idempotencyKey: String
    public var kind: RequestKind
    public var actorKind: ActorKind
    public var requestorEmail: String
    public var packageID: String
    public var policyID: String
    /// JSON: the policy as it was at submission.
    public var policySnapshot: String
    /// The language the form was shown in.
    public var language: String
    public var justification: String
    /// JSON: the answers as the person saw them.
    public var answers: String
    public var requestedStart: Date?
    public var requestedEnd: Date?
    public var state: RequestState
    /// 1-based stage while pending approval.
    public var currentStage: Int?
    public var escalated: Bool
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String, idempotencyKey: String, kind: RequestKind, actorKind: ActorKind, requestorEmail: String,
        packageID: String, policyID: String, policySnapshot: String, language: String, justification: String,
        answers: String, requestedStart: Date? = nil, requestedEnd: Date? = nil, state: RequestState,
        currentStage: Int? = nil, escalated: Bool = false, createdAt: Date, updatedAt: Date? = nil
    ) {
        self.id = id
        self.idempotencyKey = idempotencyKey
        self.kind = kind
        self.actorKind = actorKind
        self.requestorEmail = requestorEmail
        self.packageID = packageID
        self.policyID = policyID
        self.policySnapshot = policySnapshot
        self.language = language
        self.justification = justification
        self.answers = answers
        self.requestedStart = requestedStart
        self.requestedEnd = requestedEnd
        self.state = state
        self.currentStage = currentStage
        self.escalated = escalated
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
    }

    init(row: Row) throws {
        id = row["id"]
        idempotencyKey = row["idempotency_key"]
        kind = try row.decode(RequestKind.self, "kind", table: "request")
        actorKind = try row.decode(ActorKind.self, "actor_kind", table: "request")
        requestorEmail = row["requestor_email"]
        packageID = row["package_id"]
        policyID = row["policy_id"]
        policySnapshot = row["policy_snapshot"]
        language = row["language"]
        justification = row["justification"]
        answers = row["answers"]
        requestedStart = row.optionalDate("requested_start")
        requestedEnd = row.optionalDate("requested_end")
        state = try row.decode(RequestState.self, "state", table: "request")
        currentStage = row["current_stage"]
        escalated = row["escalated"]
        createdAt = row.date("created_at")
        updatedAt = row.date("updated_at")
    }
}

/// The decision taken on one stage of a request.
public struct DecisionRecord: Sendable, Hashable {
    public var requestID: String
    /// 1-based.
    public var stage: Int
    public var approverEmail: String
    public var decision: DecisionKind
    public var justification: String
    public var decidedAt: Date

    public init(
        requestID: String, stage: Int, approverEmail: String, decision: DecisionKind, justification: String,
        decidedAt: Date
    ) {
        self.requestID = requestID
        self.stage = stage
        self.approverEmail = approverEmail
        self.decision = decision
        self.justification = justification
        self.decidedAt = decidedAt
    }

    init(row: Row) throws {
        requestID = row["request_id"]
        stage = row["stage"]
        approverEmail = row["approver_email"]
        decision = try row.decode(DecisionKind.self, "decision", table: "decision")
        justification = row["justification"]
        decidedAt = row.date("decided_at")
    }
}

/// A request with its decisions in stage order, for the detail page.
public struct RequestDetail: Sendable, Hashable {
    public var request: RequestRecord
    public var decisions: [DecisionRecord]
}

/// Whether an insert made a new request or found the one a replayed post already made.
public enum RequestInsertion: Sendable, Hashable {
    case created(id: String)
    /// The idempotency key was already used: this is the first request's id.
    case existing(id: String)

    /// The id of the request, new or not.
    public var id: String {
        switch self { case .created(let id), .existing(let id): id }
    }
}

/// Whether a decision was recorded or lost the race to an earlier one on the same stage.
public enum DecisionInsertion: Sendable, Hashable {
    case recorded(DecisionRecord)
    /// The stage already had this decision; the attempted one was not stored.
    case alreadyDecided(DecisionRecord)
}

/// The columns of a request that lists and checks need, without its JSON columns.
public struct RequestSummary: Sendable, Hashable {
    public var id: String
    public var requestorEmail: String
    public var packageID: String
    public var policyID: String
    public var state: RequestState
    public var createdAt: Date
    public var updatedAt: Date
    /// When the decision on its highest stage was taken; nil without decisions.
    public var lastDecisionAt: Date?

    public init(
        id: String, requestorEmail: String, packageID: String, policyID: String, state: RequestState,
        createdAt: Date, updatedAt: Date, lastDecisionAt: Date? = nil
    ) {
        self.id = id
        self.requestorEmail = requestorEmail
        self.packageID = packageID
        self.policyID = policyID
        self.state = state
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.lastDecisionAt = lastDecisionAt
    }

    /// A row of ``select``, read by position: a history page reads a dozen of them.
    init(raw row: RawRow) throws {
        id = row.text(0)
        requestorEmail = row.text(1)
        packageID = row.text(2)
        policyID = row.text(3)
        let state = row.text(4)
        guard let known = RequestState(rawValue: state) else {
            throw StoreError.unreadableValue(table: "request", column: "state", value: state)
        }
        self.state = known
        createdAt = row.date(5) ?? .distantPast
        updatedAt = row.date(6) ?? .distantPast
        lastDecisionAt = row.date(7)
    }

    /// The query ``init(row:)`` reads: for a person's requests, the covering index alone answers it.
    private static let select = """
        SELECT r.id, r.requestor_email, r.package_id, r.policy_id, r.state, r.created_at, r.updated_at, r.decided_at
        FROM request r
        """
    /// Newest first; ids grow with time too, so equal times put the later id first.
    static let ofRequestor = select + "\nWHERE r.requestor_email = ? ORDER BY r.created_at DESC, r.id DESC LIMIT ?"
    /// A person's request with a key, among those created since an instant (the key's own time:
    /// the index on (email, created_at) finds the few candidates; no index holds the keys).
    static let withKey = select + "\nWHERE r.requestor_email = ? AND r.created_at >= ? AND r.idempotency_key = ? LIMIT 1"
}

// Every fixed SQL text goes through `cachedStatement`: parsing it again on each call was a fifth
// of the handler's CPU time.
extension StoreReader {
    /// The request with that id.
    public func request(id: String) throws -> RequestRecord? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM request WHERE id = ?"), arguments: [id])
            .map(RequestRecord.init(row:))
    }

    /// The request with its decisions so far.
    public func requestDetail(id: String) throws -> RequestDetail? {
        guard let request = try request(id: id) else { return nil }
        return RequestDetail(request: request, decisions: try decisions(requestID: id))
    }

    /// Decisions of a request by stage.
    public func decisions(requestID: String) throws -> [DecisionRecord] {
        try Row.fetchAll(
            db.cachedStatement(sql: "SELECT * FROM decision WHERE request_id = ? ORDER BY stage"),
            arguments: [requestID]
        ).map(DecisionRecord.init(row:))
    }

    /// Every request of a person, newest first (at most `limit` when given).
    public func requests(of email: String, limit: Int? = nil) throws -> [RequestRecord] {
        try Row.fetchAll(
            db.cachedStatement(sql: """
                SELECT * FROM request WHERE requestor_email = ?
                ORDER BY created_at DESC, rowid DESC LIMIT ?
                """),
            arguments: [normalized(email), limit ?? -1]
        ).map(RequestRecord.init(row:))
    }

    /// Every request of a person as summaries, newest first: the history page, without the JSON columns.
    public func requestSummaries(of email: String, limit: Int? = nil) throws -> [RequestSummary] {
        var summaries: [RequestSummary] = []
        try db.eachRow(RequestSummary.ofRequestor, [.text(normalized(email)), .integer(Int64(limit ?? -1))]) { row in
            summaries.append(try RequestSummary(raw: row))
            return true
        }
        return summaries
    }

    /// The person's request recorded under an idempotency key, if any; `since` (no later than the
    /// request was created, e.g. the time the key says it was made) bounds the search.
    public func requestSummary(of email: String, idempotencyKey: String, since: Date? = nil) throws -> RequestSummary? {
        try db.firstRow(
            RequestSummary.withKey,
            [.text(normalized(email)), .date(since ?? Date(timeIntervalSince1970: 0)), .text(idempotencyKey)],
            RequestSummary.init(raw:))
    }

    /// A person's requests for one package that are in one of `states` (the open-request block).
    public func requests(of email: String, packageID: String, in states: Set<RequestState>) throws
        -> [RequestRecord]
    {
        guard !states.isEmpty else { return [] }
        return try Row.fetchAll(
            db.cachedStatement(sql: """
                SELECT * FROM request
                WHERE requestor_email = ? AND package_id = ? AND state IN \(Self.placeholders(states.count))
                ORDER BY created_at DESC, rowid DESC
                """),
            arguments: StatementArguments([normalized(email), packageID] + Self.sorted(states))
        ).map(RequestRecord.init(row:))
    }

    /// The packages a person has a request for in one of `states` (e.g. the open ones).
    ///
    /// Reads the person's (state, package) pairs from the covering index and filters here: a
    /// `DISTINCT` or an `IN (...)` list makes SQLite build a temporary b-tree on every call.
    public func requestedPackageIDs(of email: String, in states: Set<RequestState>) throws -> Set<String> {
        guard !states.isEmpty else { return [] }
        var packages: Set<String> = []
        try db.eachRow("SELECT state, package_id FROM request WHERE requestor_email = ?", [.text(normalized(email))]) { row in
            if let state = RequestState(rawValue: row.text(0)), states.contains(state) { packages.insert(row.text(1)) }
            return true
        }
        return packages
    }

    /// `(?, ?, ?)` for `count` values: one SQL text, so one cached statement, per count.
    static func placeholders(_ count: Int) -> String {
        "(" + Array(repeating: "?", count: count).joined(separator: ", ") + ")"
    }

    private static func sorted(_ states: Set<RequestState>) -> [String] {
        states.map(\.rawValue).sorted()
    }
}

extension StoreWriter {
    /// Inserts the request unless its requestor already has one with its idempotency key, in
    /// which case nothing is written and the existing request's id is returned. `replayedSince`
    /// bounds the search (see ``StoreReader/requestSummary(of:idempotencyKey:since:)``).
    ///
    /// Keys are unique per person because every write runs in an IMMEDIATE transaction, one at a
    /// time across all connections and processes: nothing can come between the look and the insert.
    /// (A unique index on the keys cost every submission a write to a random page of it.)
    ///
    /// With `approval`, the row is written already in that state (its state, stage, stage clock,
    /// reminders and next check replace the record's): a submission knows where its request
    /// ends up (delivered at once, or waiting on its first stage) before it writes, and an
    /// insert followed by an update of the same row rewrote the row and four of its indexes.
    @discardableResult
    public func insertRequest(
        _ r: RequestRecord, approval: ApprovalStateRecord? = nil, replayedSince: Date? = nil
    ) throws -> RequestInsertion {
        if let existing = try requestSummary(of: r.requestorEmail, idempotencyKey: r.idempotencyKey, since: replayedSince) {
            return .existing(id: existing.id)
        }
        try db.run("""
            INSERT INTO request (id, idempotency_key, kind, actor_kind, requestor_email, package_id, policy_id,
                policy_snapshot, language, justification, answers, requested_start, requested_end, state,
                current_stage, escalated, created_at, updated_at, stage_started_at, stage_deadline, reminders_sent,
                next_check_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [
            .text(r.id), .text(r.idempotencyKey), .text(r.kind.rawValue), .text(r.actorKind.rawValue),
            .text(normalized(r.requestorEmail)), .text(r.packageID), .text(r.policyID), .text(r.policySnapshot),
            .text(r.language), .text(r.justification), .text(r.answers),
            .date(r.requestedStart), .date(r.requestedEnd), .text((approval?.state ?? r.state).rawValue),
            .integer(approval.map(\.currentStage) ?? r.currentStage), .bool(approval?.escalated ?? r.escalated),
            .date(r.createdAt), .date(r.updatedAt), .date(approval?.stageStartedAt), .date(approval?.stageDeadline),
            .integer(approval?.remindersSent ?? 0), .date(approval?.nextCheckAt),
        ])
        return .created(id: r.id)
    }

    /// Moves a request to `state` at `at`. With `expected`, the change only happens if the request
    /// is still in that state, otherwise ``StoreError/requestStateChanged(id:expected:actual:)``.
    @discardableResult
    public func updateRequest(
        id: String, state: RequestState, currentStage: Int?, escalated: Bool, at: Date,
        expected: RequestState? = nil
    ) throws -> RequestRecord {
        // One statement changes and returns the row; only a refused change reads it again to say why.
        let updated = try Row.fetchOne(
            db.cachedStatement(sql: """
                UPDATE request SET state = ?, current_stage = ?, escalated = ?, updated_at = ?
                WHERE id = ? AND (? IS NULL OR state = ?)
                RETURNING *
                """),
            arguments: [
                state.rawValue, currentStage, escalated, at.stored, id, expected?.rawValue, expected?.rawValue,
            ])
        if let updated { return try RequestRecord(row: updated) }
        guard let expected, let current = try request(id: id) else { throw StoreError.requestNotFound(id: id) }
        throw StoreError.requestStateChanged(id: id, expected: expected, actual: current.state)
    }

    /// Records the first decision on a stage. When the stage already has one (a concurrent or
    /// replayed decision), nothing is written and the existing decision is returned.
    public func insertDecision(_ d: DecisionRecord) throws -> DecisionInsertion {
        guard try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM request WHERE id = ?"), arguments: [d.requestID])
            != nil
        else { throw StoreError.requestNotFound(id: d.requestID) }
        try db.cachedStatement(sql: """
            INSERT INTO decision (request_id, stage, approver_email, decision, justification, decided_at)
            VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (request_id, stage) DO NOTHING
            """
        ).execute(arguments: [
            d.requestID, d.stage, normalized(d.approverEmail), d.decision.rawValue, d.justification,
            d.decidedAt.stored,
        ])
        let inserted = db.changesCount == 1
        let stored = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT * FROM decision WHERE request_id = ? AND stage = ?"),
            arguments: [d.requestID, d.stage])
        let decision = try DecisionRecord(row: stored!)
        return inserted ? .recorded(decision) : .alreadyDecided(decision)
    }
}
