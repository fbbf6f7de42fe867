/// A bundle of resource roles people request together, with the policies that govern it.
public struct AccessPackage: Sendable, Hashable {
    /// The file name without `.md`; also the URL segment.
    public var id: String
    public var name: String
    public var catalog: String
    /// Not listed in the portal, but requestable by its direct link by anyone in scope.
    public var hidden: Bool
    /// Markdown.
    public var description: String
    public var resources: [ResourceRoleRef]
    public var incompatible: Incompatibility
    public var policies: [Policy]
    public var source: SourceMap

    public init(
        id: String, name: String, catalog: String, hidden: Bool = false, description: String = "",
        resources: [ResourceRoleRef] = [], incompatible: Incompatibility = Incompatibility(),
        policies: [Policy] = [], source: SourceMap = .generated()
    ) {
        self.id = id
        self.name = name
        self.catalog = catalog
        self.hidden = hidden
        self.description = description
        self.resources = resources
        self.incompatible = incompatible
        self.policies = policies
        self.source = source
    }

    public func policy(_ id: String) -> Policy? { policies.first { $0.id == id } }
}

/// One role of one resource of the package's catalog.
public struct ResourceRoleRef: Sendable, Hashable {
    public var resource: String
    public var role: String
    public var source: SourceMap

    public init(resource: String, role: String, source: SourceMap = .generated()) {
        self.resource = resource
        self.role = role
        self.source = source
    }
}

/// Separation of duties: holding any of these packages, or being in any of these groups, blocks a request.
public struct Incompatibility: Sendable, Hashable {
    public var packages: [String]
    public var groups: [String]
    public var source: SourceMap

    public init(packages: [String] = [], groups: [String] = [], source: SourceMap = .generated()) {
        self.packages = packages
        self.groups = groups
        self.source = source
    }
}

// MARK: - Policy

public struct Policy: Sendable, Hashable {
    public var id: String
    public var name: String
    public var requestors: RequestorScope
    /// When off the policy accepts no new requests or assignments.
    public var enabled: Bool
    public var justification: JustificationRule
    /// Empty when requests are approved immediately (`approval: none`).
    public var approvalStages: [ApprovalStage]
    public var questions: [Question]
    public var lifecycle: Lifecycle
    public var notifications: Notifications
    public var source: SourceMap

    public init(
        id: String, name: String, requestors: RequestorScope, enabled: Bool = true,
        justification: JustificationRule = .optional, approvalStages: [ApprovalStage] = [],
        questions: [Question] = [], lifecycle: Lifecycle = Lifecycle(), notifications: Notifications = Notifications(),
        source: SourceMap = .generated()
    ) {
        self.id = id
        self.name = name
        self.requestors = requestors
        self.enabled = enabled
        self.justification = justification
        self.approvalStages = approvalStages
        self.questions = questions
        self.lifecycle = lifecycle
        self.notifications = notifications
        self.source = source
    }

    public var requiresApproval: Bool { !approvalStages.isEmpty }

    /// Whether people can ask through this policy themselves (enabled and not admin-only).
    public var isSelfService: Bool {
        if case .adminOnly = requestors { return false }
        return enabled
    }
}

public enum JustificationRule: String, Sendable, Hashable, CaseIterable {
    case required, optional
    /// The form does not ask for a justification at all.
    case none
}

/// Who may request through a policy. A policy serves internal or external users, never both.
public enum RequestorScope: Sendable, Hashable {
    /// People (emails) and groups (ids) of the directory.
    case specificPeople(people: [String], groups: [String])
    /// Internal users, not guests.
    case allMembers
    /// Members and existing guests.
    case allUsers
    /// Connected organization ids, in any state.
    case specificOrganizations([String])
    /// Connected organizations in state `configured`.
    case allConfiguredOrganizations
    /// Every external user.
    case anyone
    /// No self-service; only admins assign through it.
    case adminOnly

    public enum Audience: Sendable, Hashable { case internalUsers, externalUsers, admins }

    public var audience: Audience {
        switch self {
        case .specificPeople, .allMembers, .allUsers: .internalUsers
        case .specificOrganizations, .allConfiguredOrganizations, .anyone: .externalUsers
        case .adminOnly: .admins
        }
    }

    /// The model's spelling (`specificPeople`, `anyone`, …).
    public var name: String {
        switch self {
        case .specificPeople: "specificPeople"
        case .allMembers: "allMembers"
        case .allUsers: "allUsers"
        case .specificOrganizations: "specificOrganizations"
        case .allConfiguredOrganizations: "allConfiguredOrganizations"
        case .anyone: "anyone"
        case .adminOnly: "adminOnly"
        }
    }

    /// Lower is more specific; when several policies include a person the most specific wins.
    public var specificity: Int {
        switch self {
        case .specificPeople, .specificOrganizations: 0
        case .allMembers: 1
        case .allUsers, .allConfiguredOrganizations, .anyone: 2
        case .adminOnly: 3
        }
    }
}

// MARK: - Approval

public struct ApprovalStage: Sendable, Hashable {
    public var approvers: [ApproverRef]
    /// Used when manager or sponsors cannot be found.
    public var fallback: [ApproverRef]
    public var timeoutDays: Int
    public var justificationRequired: Bool
    public var escalation: Escalation?
    public var source: SourceMap

    public init(
        approvers: [ApproverRef], fallback: [ApproverRef] = [], timeoutDays: Int = 14,
        justificationRequired: Bool = false, escalation: Escalation? = nil, source: SourceMap = .generated()
    ) {
        self.approvers = approvers
        self.fallback = fallback
        self.timeoutDays = timeoutDays
        self.justificationRequired = justificationRequired
        self.escalation = escalation
        self.source = source
    }
}

public struct Escalation: Sendable, Hashable {
    public var afterDays: Int
    public var approvers: [ApproverRef]
    public var source: SourceMap

    public init(afterDays: Int, approvers: [ApproverRef], source: SourceMap = .generated()) {
        self.afterDays = afterDays
        self.approvers = approvers
        self.source = source
    }
}

/// One entry of an approver list, with where it was written.
public struct ApproverRef: Sendable, Hashable {
    public var kind: Approver
    public var source: SourceMap

    public init(_ kind: Approver, source: SourceMap = .generated()) {
        self.kind = kind
        self.source = source
    }
}

public enum Approver: Sendable, Hashable {
    case person(String)
    case group(String)
    /// The requestor's manager (internal requestors).
    case manager
    /// The manager's manager; only as an escalation approver when the stage's approver is the manager.
    case secondLevelManager
    /// The connected organization's internal sponsors (external requestors).
    case internalSponsors
    /// The connected organization's external sponsors (external requestors).
    case externalSponsors

    /// Manager and sponsors are resolved per request and may find nobody.
    public var needsFallback: Bool {
        switch self {
        case .manager, .secondLevelManager, .internalSponsors, .externalSponsors: true
        case .person, .group: false
        }
    }
}

// MARK: - Questions

public struct Question: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable { case shortText, longText, multipleChoice }

    public var id: String
    public var kind: Kind
    public var required: Bool
    public var text: LocalizedText
    /// For text questions: every answer must match the whole pattern.
    public var pattern: String?
    /// For text questions: the most characters an answer may have.
    public var maxLength: Int?
    public var choices: [Choice]
    /// For multiple choice: whether several choices may be selected.
    public var allowsMultiple: Bool
    public var source: SourceMap

    public init(
        id: String, kind: Kind, required: Bool = false, text: LocalizedText, pattern: String? = nil,
        maxLength: Int? = nil, choices: [Choice] = [], allowsMultiple: Bool = false, source: SourceMap = .generated()
    ) {
        self.id = id
        self.kind = kind
        self.required = required
        self.text = text
        self.pattern = pattern
        self.maxLength = maxLength
        self.choices = choices
        self.allowsMultiple = allowsMultiple
        self.source = source
    }

    /// The length limit applied when the model gives none.
    public static let defaultMaxLength = [Kind.shortText: 200, .longText: 4000]

    public var effectiveMaxLength: Int? { maxLength ?? Question.defaultMaxLength[kind] }
}

public struct Choice: Sendable, Hashable {
    /// Stored with the request.
    public var value: String
    public var text: LocalizedText
    public var source: SourceMap

    public init(value: String, text: LocalizedText, source: SourceMap = .generated()) {
        self.value = value
        self.text = text
        self.source = source
    }
}

// MARK: - Lifecycle

public struct Lifecycle: Sendable, Hashable {
    public var expiration: Expiration
    /// The requestor may ask for a start and end inside what the policy permits.
    public var customSchedule: Bool
    public var extensionAllowed: Bool
    public var extensionRequiresApproval: Bool
    public var review: AccessReview?
    public var source: SourceMap

    public init(
        expiration: Expiration = .never, customSchedule: Bool = false, extensionAllowed: Bool = false,
        extensionRequiresApproval: Bool = false, review: AccessReview? = nil, source: SourceMap = .generated()
    ) {
        self.expiration = expiration
        self.customSchedule = customSchedule
        self.extensionAllowed = extensionAllowed
        self.extensionRequiresApproval = extensionRequiresApproval
        self.review = review
        self.source = source
    }
}

public enum Expiration: Sendable, Hashable {
    /// At the end of that day in the tenant's time zone.
    case onDate(CalendarDay)
    case afterDays(Int)
    case afterHours(Int)
    case never
}

public struct AccessReview: Sendable, Hashable {
    public enum Frequency: String, Sendable, Hashable, CaseIterable {
        case weekly, monthly, quarterly, semiAnnually, annually
    }

    public enum Reviewers: Sendable, Hashable {
        /// Each holder reviews their own access.
        case selfReview
        case specific([ApproverRef])
        /// The holder's manager, with fallback reviewers.
        case manager(fallback: [ApproverRef])
    }

    public enum WhenNoResponse: String, Sendable, Hashable, CaseIterable {
        case keepAccess, removeAccess, acceptRecommendation
    }

    public var startsOn: CalendarDay
    public var frequency: Frequency
    public var durationDays: Int
    public var reviewers: Reviewers
    public var justificationRequired: Bool
    public var whenNoResponse: WhenNoResponse
    public var source: SourceMap

    public init(
        startsOn: CalendarDay, frequency: Frequency, durationDays: Int, reviewers: Reviewers,
        justificationRequired: Bool = false, whenNoResponse: WhenNoResponse = .keepAccess, source: SourceMap = .generated()
    ) {
        self.startsOn = startsOn
        self.frequency = frequency
        self.durationDays = durationDays
        self.reviewers = reviewers
        self.justificationRequired = justificationRequired
        self.whenNoResponse = whenNoResponse
        self.source = source
    }
}

public struct Notifications: Sendable, Hashable {
    /// Whether the requestor receives emails about their requests.
    public var requestor: Bool

    public init(requestor: Bool = true) { self.requestor = requestor }
}
