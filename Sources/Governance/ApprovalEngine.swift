public import Foundation
public import GatehouseModel

/// The approval rules of PRODUCT.md section 4 as pure transitions of `ApprovalProgress`.
///
/// The engine never reads a clock: every transition takes the instant it happens at. Approvers are
/// resolved from `site` when a stage starts (or escalates), so pass the model as it is then.
public struct ApprovalEngine: Sendable {
    /// The snapshot's stages, in order; stage numbers are 1-based positions in it.
    public let stages: [ApprovalStage]
    public let requestor: ApprovalRequestor
    public let site: Site
    public let calendar: TenantCalendar

    public init(stages: [ApprovalStage], requestor: ApprovalRequestor, site: Site, calendar: TenantCalendar) {
        self.stages = stages
        self.requestor = requestor
        self.site = site
        self.calendar = calendar
    }

    // MARK: - Transitions

    /// Stage 1 begins at `now`. With no stages (`approval: none`) the progress is approved at once and there is
    /// nothing to do.
    public func start(at now: Date) -> ApprovalStep {
        guard !stages.isEmpty else {
            return ApprovalStep(progress: ApprovalProgress(status: .approved, stageStartedAt: now, approvers: []),
                                effects: [])
        }
        return beginning(stage: 1, at: now, decisions: [], effects: [])
    }

    /// Records `decision` by `email` on the pending stage, or says why not.
    ///
    /// - Parameter seenStage: the stage the approver was shown, when known; if someone else settled it in the
    ///   meantime the refusal is `alreadyDecided` with their decision rather than `notAnApprover` of the next stage.
    public func decide(
        _ progress: ApprovalProgress, by email: String, _ decision: ApprovalDecision, justification: String,
        at now: Date, seenStage: Int? = nil
    ) -> Result<ApprovalStep, DecisionRefusal> {
        let email = email.lowercased()
        if email == requestor.email.lowercased() { return .failure(.ownRequest) }
        let stage: Int
        switch progress.status {
        case .pending(let pending):
            stage = pending
        case .approved, .denied:
            if let seen = seenStage ?? progress.decisions.last?.stage, let earlier = progress.decision(onStage: seen) {
                return .failure(.alreadyDecided(earlier))
            }
            return .failure(.notPending(progress.status))
        case .expired, .canceled:
            return .failure(.notPending(progress.status))
        }
        let seen = seenStage ?? stage
        if let earlier = progress.decision(onStage: seen) { return .failure(.alreadyDecided(earlier)) }
        guard seen == stage, progress.approvers.contains(where: { $0.email == email }) else {
            return .failure(.notAnApprover(stage: seen))
        }
        if stages.indices.contains(stage - 1), stages[stage - 1].justificationRequired,
           justification.allSatisfy(\.isWhitespace) {
            return .failure(.justificationRequired(stage: stage))
        }

        let recorded = StageDecision(stage: stage, approver: email, decision: decision, justification: justification, at: now)
        var effects: [ApprovalEffect] = []
        let others = progress.approvers.map(\.email).filter { $0 != email }
        if !others.isEmpty { effects.append(.decidedBySomeoneElse(stage: stage, notify: others, decision: recorded)) }
        var next = progress
        next.decisions.append(recorded)
        switch decision {
        case .deny:
            next.status = .denied
            effects.append(.denied(decision: recorded))
        case .approve where stage >= stages.count:
            next.status = .approved
            effects.append(.approved(decision: recorded))
        case .approve:
            effects.append(.stageApproved(stage: stage, decision: recorded))
            return .success(beginning(stage: stage + 1, at: now, decisions: next.decisions, effects: effects))
        }
        return .success(ApprovalStep(progress: next, effects: effects))
    }

    /// What the sweep does at `now`: expire at the deadline; otherwise escalate once when due, and send the
    /// latest due reminder not yet sent (one at most, so a sweep that was down does not send a burst).
    ///
    /// Idempotent: a non-pending progress, or a second call at the same `now`, yields no effects and the same progress.
    public func advance(_ progress: ApprovalProgress, to now: Date) -> ApprovalStep {
        guard let stage = progress.status.pendingStage, let timeline = timeline(of: progress) else {
            return ApprovalStep(progress: progress, effects: [])
        }
        var next = progress
        if now >= timeline.deadline {
            next.status = .expired
            return ApprovalStep(progress: next, effects: [.expired(stage: stage, notify: progress.approvers.map(\.email))])
        }
        var effects: [ApprovalEffect] = []
        if let escalateAt = timeline.escalateAt, now >= escalateAt, !progress.escalated,
           let escalation = stages[stage - 1].escalation {
            let known = Set(progress.approvers.map(\.email))
            let alternates = resolve(escalation.approvers).filter { !known.contains($0) }
            next.approvers += alternates.map { StageApprover(email: $0, role: .alternate) }
            next.escalated = true
            effects.append(.escalated(stage: stage, alternates: alternates, deadline: timeline.deadline))
        }
        let due = timeline.reminders.count(where: { $0 <= now })
        if due > progress.remindersSent {
            next.remindersSent = due
            if !next.approvers.isEmpty {
                effects.append(.reminded(stage: stage, approvers: next.approvers.map(\.email), deadline: timeline.deadline))
            }
        }
        return ApprovalStep(progress: next, effects: effects)
    }

    /// Cancels a pending approval; nil when it is not pending.
    public func cancel(_ progress: ApprovalProgress, at now: Date) -> ApprovalStep? {
        guard progress.status.pendingStage != nil else { return nil }
        var next = progress
        next.status = .canceled
        return ApprovalStep(progress: next, effects: [.canceled(notify: progress.approvers.map(\.email))])
    }

    // MARK: - Questions

    /// The pending stage's instants, counted in tenant calendar days from its start; nil when not pending.
    ///
    /// Deadline: start + timeout. Escalation: start + afterDays. Reminders: at the midpoint (timeout / 2 days,
    /// none when 0) and one day before the deadline (none when that is not after the start).
    public func timeline(of progress: ApprovalProgress) -> StageTimeline? {
        guard let stage = progress.status.pendingStage, stages.indices.contains(stage - 1) else { return nil }
        let definition = stages[stage - 1]
        let start = progress.stageStartedAt
        var reminders: [Date] = []
        if definition.timeoutDays / 2 > 0 { reminders.append(calendar.adding(days: definition.timeoutDays / 2, to: start)) }
        let lastDay = calendar.adding(days: definition.timeoutDays - 1, to: start)
        if lastDay > start && !reminders.contains(lastDay) { reminders.append(lastDay) }
        return StageTimeline(
            stage: stage, startedAt: start,
            escalateAt: definition.escalation.map { calendar.adding(days: $0.afterDays, to: start) },
            reminders: reminders.sorted(), deadline: calendar.adding(days: definition.timeoutDays, to: start))
    }

    /// The earliest instant at which `advance` has something to do (a reminder, the escalation, the deadline);
    /// nil when not pending. What the store keeps as the request's next check.
    public func nextCheck(of progress: ApprovalProgress) -> Date? {
        guard let timeline = timeline(of: progress) else { return nil }
        var candidates = [timeline.deadline]
        if let escalateAt = timeline.escalateAt, !progress.escalated { candidates.append(escalateAt) }
        if progress.remindersSent < timeline.reminders.count { candidates.append(timeline.reminders[progress.remindersSent]) }
        return candidates.min()
    }

    /// Whether `email` may decide the pending stage now: listed, not the requestor, and the stage undecided.
    public func canDecide(_ progress: ApprovalProgress, email: String) -> Bool {
        let email = email.lowercased()
        guard let stage = progress.status.pendingStage, email != requestor.email.lowercased(),
              progress.decision(onStage: stage) == nil else { return false }
        return progress.approvers.contains { $0.email == email }
    }

    // MARK: - Resolution

    /// `refs` resolved against the current site: lowercased, de-duplicated in order, without the requestor.
    public func resolve(_ refs: [ApproverRef]) -> [String] {
        let directory = site.directory
        let organization = requestor.organizationID.flatMap(site.organization)
        let manager = requestor.isInternal ? directory.person(requestor.email)?.manager : nil
        var emails: [String] = []
        for ref in refs {
            switch ref.kind {
            case .person(let email): emails.append(email)
            case .group(let id): emails += directory.members(of: id).map(\.email)
            case .manager: emails += manager.map { [$0] } ?? []
            case .secondLevelManager: emails += manager.flatMap { directory.person($0)?.manager }.map { [$0] } ?? []
            case .internalSponsors: emails += organization?.internalSponsors ?? []
            case .externalSponsors: emails += organization?.externalSponsors ?? []
            }
        }
        let own = requestor.email.lowercased()
        var seen: Set<String> = [own]
        return emails.map { $0.lowercased() }.filter { seen.insert($0).inserted }
    }

    /// `stage` begins at `now`: approvers resolved, primary first, then the stage's fallback, then the tenant admins.
    private func beginning(stage: Int, at now: Date, decisions: [StageDecision], effects: [ApprovalEffect]) -> ApprovalStep {
        let definition = stages[stage - 1]
        var approvers = resolve(definition.approvers).map { StageApprover(email: $0, role: .primary) }
        let usedFallback = approvers.isEmpty
        if usedFallback {
            let fallback = resolve(definition.fallback)
            let people = fallback.isEmpty ? resolve(site.tenant.admins.map { ApproverRef(.person($0)) }) : fallback
            approvers = people.map { StageApprover(email: $0, role: .fallback) }
        }
        let progress = ApprovalProgress(status: .pending(stage: stage), stageStartedAt: now, approvers: approvers,
                                        decisions: decisions)
        let deadline = calendar.adding(days: definition.timeoutDays, to: now)
        return ApprovalStep(progress: progress, effects: effects + [
            .stageStarted(stage: stage, approvers: approvers, deadline: deadline, usedFallback: usedFallback,
                          noApprover: approvers.isEmpty),
        ])
    }
}
