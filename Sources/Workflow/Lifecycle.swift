public import Foundation
public import GatehouseModel
public import GatehouseStore
public import Governance
internal import Rendering

/// Assignments after delivery (PRODUCT.md section 5): extension reminders, expiry, extension and
/// removal, each inside the caller's write transaction with its request record, audit and mail.
///
/// Ending an assignment revokes its grants; the built-in directory's membership is the union of
/// active grants, so a role another live assignment of the person grants stays.
public struct Lifecycle: Sendable {
    public let site: Site
    public let calendar: TenantCalendar
    public let notices: Notices
    let timing: AccessLifecycle
    let newID: @Sendable () -> String

    public init(site: Site, calendar: TenantCalendar, newID: @escaping @Sendable () -> String) {
        self.site = site
        self.calendar = calendar
        notices = Notices(baseURL: site.tenant.baseURL, calendar: calendar)
        timing = AccessLifecycle(calendar: calendar)
        self.newID = newID
    }

    /// The policy an assignment lives under now: the model's, or its request's snapshot when the
    /// model no longer has it.
    public func policy(of a: AssignmentRecord, db: StoreReader) throws -> Policy? {
        if let current = site.package(a.packageID)?.policy(a.policyID) { return current }
        guard let request = try db.request(id: a.requestID) else { return nil }
        return try? PolicySnapshot.decode(request.policySnapshot).policy
    }

    /// What happened to one assignment in a sweep.
    public enum SweepEffect: Sendable, Hashable { case expired, reminded, nothing }

    /// The sweep's work for one due assignment: expire it at its end, or send the latest due
    /// extension reminder. Re-reads the row, so a second run at the same instant does nothing.
    @discardableResult
    public func advance(assignmentID: String, db: StoreWriter, now: Date) throws -> SweepEffect {
        guard let row = try db.assignmentLifecycle(id: assignmentID) else { return .nothing }
        let a = row.assignment
        guard a.state != .expired else {
            try db.setAssignmentLifecycle(id: a.id, nextCheckAt: nil, remindersSent: row.remindersSent)
            return .nothing
        }
        let policy = try policy(of: a, db: db)
        let remindersApply = policy?.lifecycle.extensionAllowed ?? false
        switch timing.due(at: now, start: a.startsAt, end: a.endsAt, remindersSent: row.remindersSent, remindersApply: remindersApply) {
        case .end:
            try end(a, kind: .system, actor: "system", reason: "its end date was reached", db: db, now: now)
            return .expired
        case .reminder(let daysLeft, let sent):
            try db.setAssignmentLifecycle(
                id: a.id,
                nextCheckAt: timing.nextCheck(start: a.startsAt, end: a.endsAt, remindersSent: sent, remindersApply: true),
                remindersSent: sent)
            if policy?.notifications.requestor ?? true, let end = a.endsAt {
                try db.enqueueMail(
                    notices.extensionReminder(
                        to: a.email, packageName: packageName(a.packageID), end: end, daysLeft: daysLeft,
                        assignmentID: a.id, canExtend: extensionRefusal(a, policy: policy, db: db, now: now) == nil),
                    at: now)
            }
            try db.appendAudit(AuditEntry(
                at: now, actor: "system", subjectKind: "assignment", subjectID: a.id, action: "extensionReminder",
                reason: "\(daysLeft) day\(daysLeft == 1 ? "" : "s") before the end"))
            return .reminded
        case .nothing:
            try db.setAssignmentLifecycle(
                id: a.id,
                nextCheckAt: timing.nextCheck(
                    start: a.startsAt, end: a.endsAt, remindersSent: row.remindersSent, remindersApply: remindersApply),
                remindersSent: row.remindersSent)
            return .nothing
        }
    }

    /// Ends an assignment for good: a `remove` request of `kind` records who and why, its grants
    /// are revoked, the holder is told. A role a command connector may hold gets a revoke event
    /// planned, unless another live assignment of the person still grants it. Returns the remove
    /// request's id.
    @discardableResult
    public func end(
        _ a: AssignmentRecord, kind: ActorKind, actor: String, reason: String, db: StoreWriter, now: Date
    ) throws -> String {
        let original = try db.request(id: a.requestID)
        let requestID = newID()
        let removal = RequestRecord(
            id: requestID, idempotencyKey: "remove:\(a.id)", kind: .remove, actorKind: kind, requestorEmail: a.email,
            packageID: a.packageID, policyID: a.policyID, policySnapshot: original?.policySnapshot ?? "{}",
            language: original?.language ?? site.tenant.defaultLanguage, justification: reason, answers: "[]",
            state: .delivered, createdAt: now)
        guard case .created = try db.insertRequest(removal) else { return requestID }
        try db.setRequestAssignment(requestID: requestID, assignmentID: a.id)
        let grantsBefore = try db.grantAttempts(assignmentID: a.id)
        let ended = try db.endAssignment(id: a.id, reason: reason, at: now)
        try db.setAssignmentLifecycle(id: a.id, nextCheckAt: nil, remindersSent: 0)
        try db.appendAudit(AuditEntry(
            at: now, actor: actor, subjectKind: "assignment", subjectID: a.id, action: "ended",
            before: a.state.rawValue, after: ended.state.rawValue, reason: reason))
        // Revoke events for the command connectors, sent after commit (Connectors.attemptDue).
        try ConnectorPlan(site: site, notices: notices).planRevokes(ending: a, grants: grantsBefore, db: db, now: now)
        try db.appendAudit(AuditEntry(
            at: now, actor: actor, subjectKind: "request", subjectID: requestID, action: "removed",
            after: RequestState.delivered.rawValue, reason: "\(kind.rawValue) removal of assignment \(a.id): \(reason)"))
        if let pending = try db.pendingExtension(assignmentID: a.id) {
            try cancelExtension(pending, of: a, db: db, now: now)
        }
        let notify = (original.flatMap { try? PolicySnapshot.decode($0.policySnapshot) }?.policy.notifications.requestor) ?? true
        if notify {
            try db.enqueueMail(
                notices.accessEnded(
                    to: a.email, packageName: packageName(a.packageID), endedAt: now,
                    why: kind == .user ? "you removed it" : reason,
                    requestAgain: try mayRequestAgain(a, db: db) ? Paths.package(a.packageID) : nil),
                at: now)
        }
        try Guests(site: site, calendar: calendar).assignmentEnded(email: a.email, db: db, now: now)
        return requestID
    }

    /// Cancels an extension that waits for approval because the assignment it would extend
    /// ended; the approvers of its current stage are told, so that nobody decides it for nothing.
    private func cancelExtension(_ requestID: String, of a: AssignmentRecord, db: StoreWriter, now: Date) throws {
        let approvals = Approvals(site: site, calendar: calendar, newID: newID)
        // Who waits on the current stage, read before the request leaves it.
        let waiting = try approvals.load(requestID, db: db)
        try db.setApprovalState(
            requestID: requestID,
            ApprovalStateRecord(state: .canceled, currentStage: nil, stageStartedAt: nil, escalated: false, remindersSent: 0, nextCheckAt: nil),
            at: now)
        try db.appendAudit(AuditEntry(
            at: now, actor: "system", subjectKind: "request", subjectID: requestID, action: "canceled",
            before: RequestState.pendingApproval.rawValue, after: RequestState.canceled.rawValue,
            reason: "the assignment it would extend ended"))
        guard let waiting, let step = waiting.engine.cancel(waiting.progress, at: now) else { return }
        for case .canceled(let notify) in step.effects {
            for approver in notify {
                try db.enqueueMail(notices.extensionCanceled(toApprover: approver, waiting.notice, at: now), at: now)
            }
        }
    }

    // MARK: Extension

    /// Why `a` cannot be extended now, nil when it can (PRODUCT.md section 5).
    public func extensionRefusal(_ a: AssignmentRecord, policy: Policy?, db: StoreReader, now: Date) throws -> String? {
        guard a.state != .expired else { return "This access has already ended." }
        guard let policy, policy.lifecycle.extensionAllowed else {
            return "The request option this access was given through does not allow extensions."
        }
        guard a.endsAt != nil else { return "This access has no end date: there is nothing to extend." }
        let person = try db.person(email: a.email)
        let requestor = Requestor(
            email: a.email, in: site, isGuest: person?.isGovernedGuest ?? false, isBlocked: person?.isBlocked ?? false)
        if requestor.isBlocked { return "Your account is blocked; an administrator must unblock it first." }
        if case .adminOnly = policy.requestors {} else if !Eligibility(site: site).scope(policy.requestors, includes: requestor) {
            return "You are no longer among the people who may request \(packageName(a.packageID)) through \(policy.name), so it cannot be extended."
        }
        if try db.pendingExtension(assignmentID: a.id) != nil {
            return "An extension of this access already waits for approval."
        }
        guard let proposed = proposedEnd(a, policy: policy, now: now), let current = a.endsAt, proposed > current else {
            return "This access already ends as late as \(policy.name) allows."
        }
        return nil
    }

    /// The end an extension approved at `now` would give: the policy's duration counted again from
    /// now, never before the current end nor past an onDate policy's day.
    public func proposedEnd(_ a: AssignmentRecord, policy: Policy, now: Date) -> Date? {
        AssignmentSchedule(start: a.startsAt, end: a.endsAt)
            .extended(expiration: policy.lifecycle.expiration, approvedAt: now, calendar: calendar).end
    }

    /// How long a second extension post counts as a replay of the first (a double click).
    public static let replayWindow: TimeInterval = 600

    /// The outcome of an extension request.
    public enum ExtensionOutcome: Sendable, Hashable {
        /// Extended at once to `end`.
        case extended(end: Date?)
        /// An extend request waits for approval.
        case pendingApproval(requestID: String)
        case refused(String)
    }

    /// The holder asks to extend `assignmentID`. Without approval the end moves now; with approval an
    /// `extend` request goes through the policy's stages and the end moves when it is approved.
    public func requestExtension(
        assignmentID: String, by email: String, justification: String, approvals: Approvals, db: StoreWriter, now: Date
    ) throws -> ExtensionOutcome? {
        guard let a = try db.assignment(id: assignmentID), a.email == email.lowercased() else { return nil }
        // A double click: the extension this person made a moment ago answers the replay.
        if let last = try db.latestExtension(assignmentID: a.id), now.timeIntervalSince(last.createdAt) < Self.replayWindow {
            switch last.state {
            case .delivered: return .extended(end: a.endsAt)
            case .pendingApproval: return .pendingApproval(requestID: last.id)
            default: break
            }
        }
        let policy = try policy(of: a, db: db)
        if let refusal = try extensionRefusal(a, policy: policy, db: db, now: now) { return .refused(refusal) }
        guard let policy else { return .refused("The request option of this access no longer exists.") }
        let person = try db.person(email: a.email)
        let requestor = Requestor(email: a.email, in: site, isGuest: person?.isGovernedGuest ?? false)
        let requestID = newID()
        let needsApproval = policy.lifecycle.extensionRequiresApproval && policy.requiresApproval
        let record = RequestRecord(
            id: requestID, idempotencyKey: "extend:\(a.id):\(requestID)", kind: .extend, actorKind: .user,
            requestorEmail: a.email, packageID: a.packageID, policyID: policy.id,
            policySnapshot: PolicySnapshot.encode(policy, requestor: requestor), language: site.tenant.defaultLanguage,
            justification: justification, answers: "[]", state: needsApproval ? .pendingApproval : .submitted,
            currentStage: needsApproval ? 1 : nil, createdAt: now)
        try db.insertRequest(record)
        try db.setRequestAssignment(requestID: requestID, assignmentID: a.id)
        try db.appendAudit(AuditEntry(
            at: now, actor: a.email, subjectKind: "request", subjectID: requestID, action: "submitted",
            after: record.state.rawValue, reason: "extension of assignment \(a.id)"))
        if needsApproval {
            try approvals.start(
                record, policy: policy,
                requestor: SnapshotRequestor(
                    domain: a.email.emailDomain ?? "", isInternal: requestor.isInternal,
                    organizationID: requestor.organization?.id),
                db: db, now: now)
            return .pendingApproval(requestID: requestID)
        }
        let end = try applyExtension(record, policy: policy, from: .submitted, actor: "system", db: db, now: now)
        return .extended(end: end)
    }

    /// Moves the assignment of an approved `extend` request to its new end and closes the request.
    @discardableResult
    public func applyExtension(
        _ request: RequestRecord, policy: Policy, from previous: RequestState, actor: String, db: StoreWriter, now: Date
    ) throws -> Date? {
        guard let id = try db.assignmentID(ofRequest: request.id), let a = try db.assignment(id: id), a.state != .expired
        else {
            try db.setApprovalState(
                requestID: request.id,
                ApprovalStateRecord(state: .deliveryFailed, currentStage: nil, stageStartedAt: nil, escalated: false, remindersSent: 0, nextCheckAt: nil),
                at: now)
            try db.appendAudit(AuditEntry(
                at: now, actor: "system", subjectKind: "request", subjectID: request.id, action: "deliveryFailed",
                before: previous.rawValue, after: RequestState.deliveryFailed.rawValue,
                reason: "the assignment to extend has ended"))
            return nil
        }
        // Never earlier than now planned; nil (no end) when the policy no longer ends access.
        var newEnd: Date? = nil
        if let proposed = proposedEnd(a, policy: policy, now: now), let current = a.endsAt {
            newEnd = max(proposed, current)
        }
        try db.setAssignmentEnd(
            id: a.id, endsAt: newEnd,
            nextCheckAt: timing.nextCheck(
                start: a.startsAt, end: newEnd, remindersSent: 0, remindersApply: policy.lifecycle.extensionAllowed))
        try db.setApprovalState(
            requestID: request.id,
            ApprovalStateRecord(state: .delivered, currentStage: nil, stageStartedAt: nil, escalated: false, remindersSent: 0, nextCheckAt: nil),
            at: now)
        try db.appendAudit(AuditEntry(
            at: now, actor: actor, subjectKind: "assignment", subjectID: a.id, action: "extended",
            before: a.endsAt.map(calendar.longDateAndTime) ?? "no end", after: newEnd.map(calendar.longDateAndTime) ?? "no end",
            reason: "request \(request.id)"))
        if policy.notifications.requestor {
            try db.enqueueMail(notices.delivered(to: a.email, packageName: packageName(a.packageID), end: newEnd), at: now)
        }
        return newEnd
    }

    // MARK: Helpers

    private func packageName(_ id: String) -> String { site.package(id)?.name ?? id }

    /// Whether the person could request the package again today through some self-service policy.
    private func mayRequestAgain(_ a: AssignmentRecord, db: StoreReader) throws -> Bool {
        guard let package = site.package(a.packageID) else { return false }
        let person = try db.person(email: a.email)
        let requestor = Requestor(
            email: a.email, in: site, isGuest: person?.isGovernedGuest ?? false, isBlocked: person?.isBlocked ?? false)
        guard !requestor.isBlocked else { return false }
        return !Eligibility(site: site).requestPolicies(package, for: requestor).isEmpty
    }
}
