public import Foundation

/// How a person came to decide a stage.
public enum ApproverRole: String, Sendable, Hashable, Codable, CaseIterable {
    /// Resolved from the stage's approvers when it started.
    case primary
    /// The stage's fallback approvers, or the tenant admins, because no primary approver was found.
    case fallback
    /// Added when the stage was escalated.
    case alternate
}

/// One person who may decide the current stage.
public struct StageApprover: Sendable, Hashable, Codable {
    /// Lowercased.
    public var email: String
    public var role: ApproverRole

    public init(email: String, role: ApproverRole) {
        self.email = email
        self.role = role
    }
}

public enum ApprovalDecision: String, Sendable, Hashable, Codable, CaseIterable {
    case approve, deny
}

/// The decision that settled one stage.
public struct StageDecision: Sendable, Hashable, Codable {
    /// 1-based.
    public var stage: Int
    /// The decider's email, lowercased.
    public var approver: String
    public var decision: ApprovalDecision
    public var justification: String
    public var at: Date

    public init(stage: Int, approver: String, decision: ApprovalDecision, justification: String, at: Date) {
        self.stage = stage
        self.approver = approver
        self.decision = decision
        self.justification = justification
        self.at = at
    }
}

/// Where a request stands in its approval: the value the store persists and `ApprovalEngine` transforms.
public struct ApprovalProgress: Sendable, Hashable, Codable {
    public enum Status: Sendable, Hashable, Codable {
        /// Waiting for a decision on `stage` (1-based).
        case pending(stage: Int)
        case approved, denied
        /// The current stage was not decided before its deadline.
        case expired
        case canceled

        /// The stage waiting for a decision, nil when none is.
        public var pendingStage: Int? {
            if case .pending(let stage) = self { stage } else { nil }
        }
    }

    public var status: Status
    /// When the current (or last) stage started: its clock.
    public var stageStartedAt: Date
    /// The current stage was forwarded to its escalation approvers.
    public var escalated: Bool
    /// Reminders already counted in the current stage (see `ApprovalEngine.advance`).
    public var remindersSent: Int
    /// Who may decide the current stage: resolved when it started, then any alternates added by escalation.
    public var approvers: [StageApprover]
    /// The decisions of all stages so far, in order.
    public var decisions: [StageDecision]

    public init(
        status: Status, stageStartedAt: Date, escalated: Bool = false, remindersSent: Int = 0,
        approvers: [StageApprover], decisions: [StageDecision] = []
    ) {
        self.status = status
        self.stageStartedAt = stageStartedAt
        self.escalated = escalated
        self.remindersSent = remindersSent
        self.approvers = approvers
        self.decisions = decisions
    }

    /// The decision taken on `stage`, if any.
    public func decision(onStage stage: Int) -> StageDecision? { decisions.first { $0.stage == stage } }
}

/// The requestor as approval sees them: from the request and its policy snapshot.
public struct ApprovalRequestor: Sendable, Hashable {
    public var email: String
    public var isInternal: Bool
    /// The connected organization recorded in the snapshot (external requestors).
    public var organizationID: String?

    public init(email: String, isInternal: Bool, organizationID: String? = nil) {
        self.email = email
        self.isInternal = isInternal
        self.organizationID = organizationID
    }

    /// The requestor of a request whose snapshot recorded `snapshot`.
    public init(email: String, snapshot: SnapshotRequestor) {
        self.init(email: email, isInternal: snapshot.isInternal, organizationID: snapshot.organizationID)
    }
}

/// A transformed progress and what the caller must do about it (mail, audit, deliver), in order.
public struct ApprovalStep: Sendable, Hashable {
    public var progress: ApprovalProgress
    public var effects: [ApprovalEffect]

    public init(progress: ApprovalProgress, effects: [ApprovalEffect]) {
        self.progress = progress
        self.effects = effects
    }
}

/// Something that happened in an approval, for the caller to act on.
public enum ApprovalEffect: Sendable, Hashable {
    /// A stage began. `usedFallback`: no primary approver was found; `noApprover`: not even the fallback
    /// approvers nor the tenant admins, so the stage can only time out.
    case stageStarted(stage: Int, approvers: [StageApprover], deadline: Date, usedFallback: Bool, noApprover: Bool)
    /// Remind every current approver of the stage.
    case reminded(stage: Int, approvers: [String], deadline: Date)
    /// The stage was forwarded; `alternates` are the people added (possibly none found).
    case escalated(stage: Int, alternates: [String], deadline: Date)
    /// Tell the stage's other approvers that it was decided, by whom and why.
    case decidedBySomeoneElse(stage: Int, notify: [String], decision: StageDecision)
    /// A stage other than the last was approved (tell the requestor); the next one starts.
    case stageApproved(stage: Int, decision: StageDecision)
    /// The last stage was approved: the caller delivers.
    case approved(decision: StageDecision)
    case denied(decision: StageDecision)
    /// The stage timed out: tell the requestor and `notify`, the stage's approvers.
    case expired(stage: Int, notify: [String])
    /// The request was canceled while pending: tell `notify`, the current stage's approvers.
    case canceled(notify: [String])
}

/// The instants that matter in one stage.
public struct StageTimeline: Sendable, Hashable {
    public var stage: Int
    public var startedAt: Date
    /// When the stage is forwarded; nil without escalation.
    public var escalateAt: Date?
    /// When approvers are reminded, ascending.
    public var reminders: [Date]
    /// When the stage expires undecided.
    public var deadline: Date

    public init(stage: Int, startedAt: Date, escalateAt: Date?, reminders: [Date], deadline: Date) {
        self.stage = stage
        self.startedAt = startedAt
        self.escalateAt = escalateAt
        self.reminders = reminders
        self.deadline = deadline
    }
}

/// Why a decision was not recorded, worded for the person who tried.
public enum DecisionRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    case ownRequest
    case notAnApprover(stage: Int)
    /// The stage was settled first by someone else (or by the same person earlier).
    case alreadyDecided(StageDecision)
    /// The request is no longer waiting for a decision.
    case notPending(ApprovalProgress.Status)
    /// The stage requires a justification and the text was blank.
    case justificationRequired(stage: Int)

    /// The message with instants in ISO 8601 UTC (`2028-03-01T08:00:00Z`).
    public var description: String { message { $0.formatted(.iso8601) } }

    /// The message with instants as the tenant writes them (`1 March 2028, 9:00`).
    public func message(in calendar: TenantCalendar) -> String { message(calendar.longDateAndTime) }

    private func message(_ instant: (Date) -> String) -> String {
        switch self {
        case .ownRequest:
            return "You cannot approve or deny your own request."
        case .notAnApprover(let stage):
            return "You are not an approver of stage \(stage) of this request."
        case .alreadyDecided(let d):
            let verb = d.decision == .approve ? "approved" : "denied"
            return "Already \(verb) by \(d.approver) at \(instant(d.at))."
        case .notPending(let status):
            switch status {
            case .pending(let stage): return "This request is waiting for a decision on stage \(stage)."
            case .approved: return "This request is already approved."
            case .denied: return "This request is already denied."
            case .expired: return "This request expired: it was not decided in time. The requestor may ask again."
            case .canceled: return "This request was canceled; there is nothing left to decide."
            }
        case .justificationRequired(let stage):
            return "Stage \(stage) requires a justification: say why you approve or deny."
        }
    }
}
