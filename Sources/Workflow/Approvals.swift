public import Foundation
public import GatehouseModel
public import GatehouseStore
public import Governance

/// Requests through their approval, on the store: loads a request's `ApprovalProgress`, lets the
/// pure `ApprovalEngine` transform it, writes the result back and acts on its effects (approvers,
/// decisions, audit entries, mail, delivery), all inside the caller's write transaction.
///
/// Races: every change runs in one IMMEDIATE transaction that reads the request first, so two
/// approvers deciding at once are serialized and the second finds the first's decision; the
/// decision table's key (request, stage) refuses a second decision even if that were not so.
public struct Approvals: Sendable {
    public let site: Site
    public let calendar: TenantCalendar
    public let delivery: Delivery
    public let lifecycle: Lifecycle
    public let guests: Guests
    /// New assignment ids.
    let newID: @Sendable () -> String

    public init(site: Site, calendar: TenantCalendar, newID: @escaping @Sendable () -> String) {
        self.site = site
        self.calendar = calendar
        self.delivery = Delivery(site: site, calendar: calendar)
        self.lifecycle = Lifecycle(site: site, calendar: calendar, newID: newID)
        self.guests = Guests(site: site, calendar: calendar)
        self.newID = newID
    }

    var notices: Notices { delivery.notices }

    /// The outcome of an approver's decision.
    public enum DecisionOutcome: Sendable, Hashable {
        /// Recorded; the request is now in `state`.
        case recorded(DecisionRecord, state: RequestState)
        case refused(DecisionRefusal)
        /// No such request, or not one this person may see: the same answer for both.
        case notFound
    }

    /// The outcome of a cancel by the requestor.
    public enum CancelOutcome: Sendable, Hashable {
        case canceled
        case notFound
        case notPending(RequestState)
    }

    // MARK: Loading

    /// A request with everything the engine needs about it.
    public struct Loaded: Sendable {
        public var request: RequestRecord
        public var policy: Policy
        public var engine: ApprovalEngine
        public var progress: ApprovalProgress
        /// Everyone asked on any stage so far (they may see the request).
        public var everyApprover: [ApproverRecord]
        public var notice: NoticeRequest
        /// The request's row already holds the approval columns the next step writes (a request
        /// inserted by a submission with ``Approvals/recordedState(of:)``).
        var recorded = false
    }

    /// The request `id` as the engine sees it; nil when there is none or it is not an approval request.
    public func load(_ id: String, db: StoreReader) throws -> Loaded? {
        guard let request = try db.request(id: id), let state = try db.approvalState(requestID: id) else { return nil }
        guard let snapshot = try? PolicySnapshot.decode(request.policySnapshot) else { return nil }
        let stages = snapshot.policy.approvalStages
        let engine = ApprovalEngine(
            stages: stages, requestor: ApprovalRequestor(email: request.requestorEmail, snapshot: snapshot.requestor),
            site: site, calendar: calendar)
        let everyApprover = try db.approvers(requestID: id)
        let decisions = try db.decisions(requestID: id).map {
            StageDecision(
                stage: $0.stage, approver: $0.approverEmail, decision: $0.decision == .approve ? .approve : .deny,
                justification: $0.justification, at: $0.decidedAt)
        }
        let status: ApprovalProgress.Status = switch state.state {
        case .pendingApproval: .pending(stage: state.currentStage ?? 1)
        case .submitted: .pending(stage: 1)
        case .denied: .denied
        case .expired: .expired
        case .canceled: .canceled
        case .approved, .scheduled, .delivering, .delivered, .partiallyDelivered, .deliveryFailed: .approved
        }
        let stage = status.pendingStage ?? state.currentStage ?? decisions.last?.stage ?? 1
        let progress = ApprovalProgress(
            status: status, stageStartedAt: state.stageStartedAt ?? request.createdAt, escalated: state.escalated,
            remindersSent: state.remindersSent,
            approvers: everyApprover.filter { $0.stage == stage }.map {
                StageApprover(email: $0.email, role: ApproverRole(rawValue: $0.role.rawValue) ?? .primary)
            },
            decisions: decisions)
        return Loaded(
            request: request, policy: snapshot.policy, engine: engine, progress: progress, everyApprover: everyApprover,
            notice: try notice(for: request, policy: snapshot.policy, organizationID: snapshot.requestor.organizationID, db: db))
    }

    /// What the emails say about `request`.
    public func notice(for request: RequestRecord, policy: Policy, organizationID: String?, db: StoreReader) throws
        -> NoticeRequest
    {
        NoticeRequest(
            requestID: request.id, packageName: site.package(request.packageID)?.name ?? request.packageID,
            policyName: policy.name, requestorName: try displayName(request.requestorEmail, db: db),
            requestorEmail: request.requestorEmail,
            organizationName: organizationID.flatMap { site.organization($0)?.name },
            justification: request.justification, submittedAt: request.createdAt,
            stageCount: policy.approvalStages.count,
            extending: request.kind == .extend
                ? try db.assignmentID(ofRequest: request.id).flatMap { try db.assignment(id: $0) }?.endsAt : nil)
    }

    /// How pages and mail name a person: the directory's name, the name they signed in with, or the email.
    public func displayName(_ email: String, db: StoreReader) throws -> String {
        if let person = site.directory.person(email) { return person.name }
        if let stored = try db.person(email: email), !stored.displayName.isEmpty { return stored.displayName }
        return email
    }

    // MARK: Transitions

    /// Starts stage 1 of a request just inserted in `pendingApproval`, in the caller's transaction.
    ///
    /// `prepared` (``prepareStart(_:policy:requestor:db:now:)`` with the same arguments, read before
    /// the write) saves resolving the first stage and reading the requestor's name inside it.
    ///
    /// `recorded`: the caller inserted the request with ``recordedState(of:)`` of `prepared`, so
    /// its row already says what starting the stage would write.
    public func start(
        _ request: RequestRecord, policy: Policy, requestor: SnapshotRequestor, db: StoreWriter, now: Date,
        prepared: PreparedStart? = nil, recorded: Bool = false
    ) throws {
        let prepared = try prepared ?? prepareStart(request, policy: policy, requestor: requestor, db: db, now: now)
        var loaded = Loaded(
            request: request, policy: policy, engine: prepared.engine,
            progress: ApprovalProgress(status: .pending(stage: 1), stageStartedAt: now, approvers: []),
            everyApprover: [], notice: prepared.notice)
        loaded.recorded = recorded && Self.stageState(prepared.step, engine: prepared.engine) != nil
        try apply(prepared.step, to: loaded, actor: "system", db: db, now: now)
    }

    /// The approval columns a request has once its first stage started as `prepared` says, to
    /// insert it with (then ``start(_:policy:requestor:db:now:prepared:recorded:)`` with
    /// `recorded: true`); nil when starting does not leave it pending.
    public func recordedState(of prepared: PreparedStart) -> ApprovalStateRecord? {
        Self.stageState(prepared.step, engine: prepared.engine)
    }

    /// The request's approval columns after `step`, while a stage is pending.
    private static func stageState(_ step: ApprovalStep, engine: ApprovalEngine) -> ApprovalStateRecord? {
        let p = step.progress
        guard let stage = p.status.pendingStage else { return nil }
        return ApprovalStateRecord(
            state: .pendingApproval, currentStage: stage, stageStartedAt: p.stageStartedAt, escalated: p.escalated,
            remindersSent: p.remindersSent, nextCheckAt: engine.nextCheck(of: p), stageDeadline: engine.timeline(of: p)?.deadline)
    }

    /// The first stage of `request` as ``start(_:policy:requestor:db:now:prepared:)`` begins it, and
    /// what its mails say about the request: all of it can be read before the write transaction.
    public func prepareStart(
        _ request: RequestRecord, policy: Policy, requestor: SnapshotRequestor, db: StoreReader, now: Date
    ) throws -> PreparedStart {
        let engine = ApprovalEngine(
            stages: policy.approvalStages, requestor: ApprovalRequestor(email: request.requestorEmail, snapshot: requestor),
            site: site, calendar: calendar)
        return PreparedStart(
            engine: engine, step: engine.start(at: now),
            notice: try notice(for: request, policy: policy, organizationID: requestor.organizationID, db: db))
    }

    /// The part of starting an approval that needs no writing (``prepareStart(_:policy:requestor:db:now:)``).
    public struct PreparedStart: Sendable {
        let engine: ApprovalEngine
        let step: ApprovalStep
        /// What the mails about this request say of it (also the "we received it" mail's content).
        public let notice: NoticeRequest
    }

    /// `email` approves or denies the stage they saw (`seenStage`; nil: the current one).
    public func decide(
        requestID: String, by email: String, _ decision: ApprovalDecision, justification: String, seenStage: Int?,
        db: StoreWriter, now: Date
    ) throws -> DecisionOutcome {
        let email = email.lowercased()
        guard let loaded = try load(requestID, db: db) else { return .notFound }
        guard loaded.everyApprover.contains(where: { $0.email == email }) || loaded.request.requestorEmail == email else {
            return .notFound
        }
        switch loaded.engine.decide(
            loaded.progress, by: email, decision, justification: justification, at: now, seenStage: seenStage)
        {
        case .failure(let refusal):
            return .refused(refusal)
        case .success(let step):
            try apply(step, to: loaded, actor: email, db: db, now: now)
            let stored = try db.decisions(requestID: requestID).last { $0.approverEmail == email }!
            return .recorded(stored, state: try db.approvalState(requestID: requestID)?.state ?? .pendingApproval)
        }
    }

    /// The requestor cancels their pending request, with an optional reason; approvers are told.
    public func cancel(requestID: String, by email: String, reason: String, db: StoreWriter, now: Date) throws
        -> CancelOutcome
    {
        guard let request = try db.request(id: requestID), request.requestorEmail == email.lowercased() else {
            return .notFound
        }
        guard request.state == .pendingApproval || request.state == .submitted else {
            return .notPending(request.state)
        }
        // Who waits on the current stage, read before the request leaves it.
        let waiting = request.state == .pendingApproval ? try load(requestID, db: db) : nil
        try db.setApprovalState(
            requestID: requestID,
            ApprovalStateRecord(
                state: .canceled, currentStage: nil, stageStartedAt: nil, escalated: false, remindersSent: 0,
                nextCheckAt: nil),
            at: now, expected: request.state)
        try db.appendAudit(AuditEntry(
            at: now, actor: email.lowercased(), subjectKind: "request", subjectID: requestID, action: "canceled",
            before: request.state.rawValue, after: RequestState.canceled.rawValue, reason: reason.isEmpty ? nil : reason))
        if let waiting, let step = waiting.engine.cancel(waiting.progress, at: now) {
            try apply(step, to: waiting, actor: email.lowercased(), db: db, now: now)
        }
        return .canceled
    }

    /// What the sweep does for one due request: timeout, escalation, reminder, as the engine says.
    /// Returns the effects applied (none when nothing was due, so a second run changes nothing).
    @discardableResult
    public func advance(requestID: String, db: StoreWriter, now: Date) throws -> [ApprovalEffect] {
        guard let loaded = try load(requestID, db: db) else {
            try db.setNextCheck(requestID: requestID, at: nil)
            return []
        }
        guard loaded.progress.status.pendingStage != nil else {
            try db.setNextCheck(requestID: requestID, at: nil)
            return []
        }
        let step = loaded.engine.advance(loaded.progress, to: now)
        if step.effects.isEmpty && step.progress == loaded.progress {
            // Nothing was due after all (another sweep did it): only move the next check.
            try db.setNextCheck(requestID: requestID, at: loaded.engine.nextCheck(of: step.progress))
            return []
        }
        try apply(step, to: loaded, actor: "system", db: db, now: now)
        return step.effects
    }

    // MARK: Applying a step

    private func apply(_ step: ApprovalStep, to loaded: Loaded, actor: String, db: StoreWriter, now: Date) throws {
        let request = loaded.request
        let notice = loaded.notice
        let tellRequestor = loaded.policy.notifications.requestor
        let previous = loaded.recorded ? request.state : try db.approvalState(requestID: request.id)?.state ?? request.state

        // Decisions the step added.
        let known = Set(loaded.progress.decisions.map(\.stage))
        for d in step.progress.decisions where !known.contains(d.stage) {
            let inserted = try db.insertDecision(DecisionRecord(
                requestID: request.id, stage: d.stage, approverEmail: d.approver,
                decision: d.decision == .approve ? .approve : .deny, justification: d.justification, decidedAt: d.at))
            if case .alreadyDecided(let winner) = inserted {
                // Cannot happen inside one IMMEDIATE transaction; refuse rather than overwrite.
                throw StoreError.database("stage \(d.stage) of request \(request.id) was already decided by \(winner.approverEmail)")
            }
        }

        // The request's approval columns.
        let p = step.progress
        if let stage = p.status.pendingStage, let record = Self.stageState(step, engine: loaded.engine) {
            if !loaded.recorded { try db.setApprovalState(requestID: request.id, record, at: now) }
            try db.addApprovers(p.approvers.map {
                ApproverRecord(
                    requestID: request.id, stage: stage, email: $0.email,
                    role: ApproverRoleRecord(rawValue: $0.role.rawValue) ?? .primary, addedAt: now)
            })
        }

        for effect in step.effects {
            switch effect {
            case .stageStarted(let stage, let approvers, let deadline, let usedFallback, let noApprover):
                try db.appendAudit(AuditEntry(
                    at: now, actor: "system", subjectKind: "request", subjectID: request.id, action: "stageStarted",
                    before: stage == 1 ? previous.rawValue : "pendingApproval stage \(stage - 1)",
                    after: "pendingApproval stage \(stage)",
                    reason: noApprover
                        ? "no approver found, not even a fallback approver or tenant admin: the stage will time out"
                        : "approvers \(approvers.map(\.email).joined(separator: ", "))"
                            + (usedFallback ? " (fallback: no primary approver found)" : "")
                            + "; decide by \(calendar.longDateAndTime(deadline))"))
                for approver in approvers {
                    try db.enqueueMail(notices.actionRequired(to: approver.email, notice, stage: stage, deadline: deadline), at: now)
                }
            case .reminded(let stage, let approvers, let deadline):
                try db.appendAudit(AuditEntry(
                    at: now, actor: "system", subjectKind: "request", subjectID: request.id, action: "reminded",
                    reason: "stage \(stage) approvers reminded: \(approvers.joined(separator: ", "))"))
                for approver in approvers {
                    try db.enqueueMail(notices.reminder(to: approver, notice, stage: stage, deadline: deadline), at: now)
                }
            case .escalated(let stage, let alternates, let deadline):
                try db.appendAudit(AuditEntry(
                    at: now, actor: "system", subjectKind: "request", subjectID: request.id, action: "escalated",
                    before: "pendingApproval stage \(stage)", after: "pendingApproval stage \(stage), escalated",
                    reason: alternates.isEmpty
                        ? "no escalation approver found; the stage's approvers can still decide"
                        : "forwarded to \(alternates.joined(separator: ", "))"))
                for approver in alternates {
                    try db.enqueueMail(notices.forwarded(to: approver, notice, stage: stage, deadline: deadline), at: now)
                }
            case .decidedBySomeoneElse(_, let notify, let decision):
                let decider = try displayName(decision.approver, db: db)
                for approver in notify {
                    try db.enqueueMail(
                        notices.decidedBySomeoneElse(
                            to: approver, notice, decision: decision.decision == .approve ? .approve : .deny,
                            by: decider, at: decision.at, reason: decision.justification),
                        at: now)
                }
            case .stageApproved(let stage, let decision):
                try db.appendAudit(AuditEntry(
                    at: now, actor: decision.approver, subjectKind: "request", subjectID: request.id, action: "stageApproved",
                    before: "pendingApproval stage \(stage)", after: "stage \(stage) approved",
                    reason: decision.justification.isEmpty ? nil : decision.justification))
                if tellRequestor {
                    try db.enqueueMail(notices.stageApproved(notice, stage: stage, by: try displayName(decision.approver, db: db)), at: now)
                }
            case .approved(let decision) where request.kind == .extend:
                try db.appendAudit(AuditEntry(
                    at: now, actor: decision.approver, subjectKind: "request", subjectID: request.id, action: "approved",
                    before: RequestState.pendingApproval.rawValue, after: RequestState.approved.rawValue,
                    reason: decision.justification.isEmpty ? nil : decision.justification))
                try lifecycle.applyExtension(
                    request, policy: loaded.policy, from: .pendingApproval, actor: decision.approver, db: db, now: now)
            case .approved(let decision):
                try delivery.deliver(
                    request, policy: loaded.policy, from: .pendingApproval, actor: decision.approver,
                    reason: decision.justification.isEmpty ? "stage \(decision.stage) approved" : decision.justification,
                    assignmentID: newID(), db: db, now: now)
            case .denied(let decision):
                try db.setApprovalState(
                    requestID: request.id,
                    ApprovalStateRecord(
                        state: .denied, currentStage: nil, stageStartedAt: nil, escalated: false, remindersSent: 0,
                        nextCheckAt: nil),
                    at: now, expected: .pendingApproval)
                try db.appendAudit(AuditEntry(
                    at: now, actor: decision.approver, subjectKind: "request", subjectID: request.id, action: "denied",
                    before: "pendingApproval stage \(decision.stage)", after: RequestState.denied.rawValue,
                    reason: decision.justification.isEmpty ? nil : decision.justification))
                if tellRequestor {
                    try db.enqueueMail(
                        notices.denied(notice, by: try displayName(decision.approver, db: db), at: now, reason: decision.justification),
                        at: now)
                }
            case .expired(let stage, let notify):
                try db.setApprovalState(
                    requestID: request.id,
                    ApprovalStateRecord(
                        state: .expired, currentStage: nil, stageStartedAt: nil, escalated: false, remindersSent: 0,
                        nextCheckAt: nil),
                    at: now, expected: .pendingApproval)
                try db.appendAudit(AuditEntry(
                    at: now, actor: "system", subjectKind: "request", subjectID: request.id, action: "expired",
                    before: "pendingApproval stage \(stage)", after: RequestState.expired.rawValue,
                    reason: "stage \(stage) was not decided by its deadline"))
                if tellRequestor { try db.enqueueMail(notices.expired(notice, at: now), at: now) }
                for approver in notify {
                    try db.enqueueMail(notices.closedWhileWaiting(to: approver, notice, expired: true, at: now), at: now)
                }
            case .canceled(let notify):
                for approver in notify {
                    try db.enqueueMail(notices.closedWhileWaiting(to: approver, notice, expired: false, at: now), at: now)
                }
            }
        }
    }
}
