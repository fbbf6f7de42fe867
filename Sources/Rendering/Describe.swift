public import GatehouseModel

/// Fast lookups of display names, built once per site.
struct SiteIndex: Sendable {
    let peopleByEmail: [String: Person]
    let groupNames: [String: String]
    let organizationNames: [String: String]
    let catalogs: [String: Catalog]
    let packageNames: [String: String]

    init(_ site: Site) {
        var people: [String: Person] = [:]
        for person in site.directory.people where people[person.email.lowercased()] == nil {
            people[person.email.lowercased()] = person
        }
        peopleByEmail = people
        groupNames = Dictionary(site.directory.groups.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        organizationNames = Dictionary(site.organizations.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        catalogs = Dictionary(site.catalogs.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        packageNames = Dictionary(site.packages.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
    }

    /// A person's display name; the email itself when the directory does not know them.
    func personName(_ email: String) -> String { peopleByEmail[email.lowercased()]?.name ?? email }
    func groupName(_ id: String) -> String { groupNames[id] ?? id }
    func organizationName(_ id: String) -> String { organizationNames[id] ?? id }
}

/// The English sentences the package page uses to explain a policy. Pure functions of the model.
public struct PolicyDescriber: Sendable {
    let index: SiteIndex

    public init(site: Site) { index = SiteIndex(site) }
    init(index: SiteIndex) { self.index = index }

    /// Who can request: "Members of the directory", "Allan Deyoung and members of Finance team"…
    public func requestors(_ scope: RequestorScope) -> String {
        switch scope {
        case .specificPeople(let people, let groups):
            let names = people.map(index.personName) + groups.map { "members of " + index.groupName($0) }
            return names.isEmpty ? "Nobody yet (no people or groups are listed)" : capitalized(list(names))
        case .allMembers:
            return "Members of the directory"
        case .allUsers:
            return "Members and guests of the directory"
        case .specificOrganizations(let ids):
            return ids.isEmpty ? "Nobody yet (no organizations are listed)" : "People of " + list(ids.map(index.organizationName))
        case .allConfiguredOrganizations:
            return "People of any configured connected organization"
        case .anyone:
            return "Anyone with an email address"
        case .adminOnly:
            return "Only administrators, who assign it directly"
        }
    }

    /// One approver as a person reads it, mid-sentence: "Adele Vance", "members of Access approvers",
    /// "the requestor's manager (fallback: Megan Bowen)".
    public func approver(_ approver: Approver, fallback: [ApproverRef] = []) -> String {
        let name: String
        switch approver {
        case .person(let email): name = index.personName(email)
        case .group(let id): name = "members of " + index.groupName(id)
        case .manager: name = "the requestor’s manager"
        case .secondLevelManager: name = "the requestor’s second-level manager"
        case .internalSponsors: name = "the organization’s internal sponsors"
        case .externalSponsors: name = "the organization’s external sponsors"
        }
        guard approver.needsFallback, !fallback.isEmpty else { return name }
        return name + " (fallback: " + list(fallback.map { self.approver($0.kind) }) + ")"
    }

    /// The approvers of a stage, each capitalized, for a list.
    public func approvers(of stage: ApprovalStage) -> [String] {
        stage.approvers.map { capitalized(approver($0.kind, fallback: stage.fallback)) }
    }

    /// "Adele Vance decides within 14 days and gives a reason; otherwise the request expires."
    public func decision(of stage: ApprovalStage) -> String {
        let who: String
        switch stage.approvers.count == 1 ? stage.approvers[0].kind : nil {
        case .group(let id)?: who = "One member of " + index.groupName(id)
        case let kind?: who = capitalized(approver(kind))
        case nil: who = "One approver"
        }
        let reason = stage.justificationRequired ? " and gives a reason" : ""
        return "\(who) decides within \(count(stage.timeoutDays, "day"))\(reason); otherwise the request expires."
    }

    /// "If nobody decides, the request is forwarded to the requestor's second-level manager after 6 days."
    public func escalation(of stage: ApprovalStage) -> String? {
        guard let escalation = stage.escalation else { return nil }
        let to = list(escalation.approvers.map { approver($0.kind, fallback: stage.fallback) })
        return "If nobody decides, the request is forwarded to \(to) after \(count(escalation.afterDays, "day"))."
    }

    /// "365 days from approval", "until 30 June 2028", "8 hours from approval", "no end date".
    public func duration(_ expiration: Expiration) -> String { Self.duration(expiration) }

    /// See ``duration(_:)``; needs nothing of the site.
    public static func duration(_ expiration: Expiration) -> String {
        switch expiration {
        case .afterDays(let days): return count(days, "day") + " from approval"
        case .afterHours(let hours): return count(hours, "hour") + " from approval"
        case .onDate(let day): return "until " + day.longDescription
        case .never: return "no end date"
        }
    }

    public func extensionRule(_ lifecycle: Lifecycle) -> String {
        guard lifecycle.extensionAllowed else { return "Cannot be extended: request it again when it ends." }
        return lifecycle.extensionRequiresApproval
            ? "Can be extended before it ends, with approval."
            : "Can be extended before it ends, without approval."
    }

    public func justification(_ rule: JustificationRule) -> String {
        switch rule {
        case .required: return "Required: say why you need this access."
        case .optional: return "Optional."
        case .none: return "Not asked."
        }
    }

    /// "Reviewed monthly from 1 January 2027 by Adele Vance, who has 14 days; unanswered: access is removed."
    public func review(_ review: AccessReview?) -> String {
        guard let review else { return "No recurring access review." }
        let frequency: String
        switch review.frequency {
        case .weekly: frequency = "every week"
        case .monthly: frequency = "every month"
        case .quarterly: frequency = "every three months"
        case .semiAnnually: frequency = "every six months"
        case .annually: frequency = "every year"
        }
        let reviewers: String
        switch review.reviewers {
        case .selfReview: reviewers = "each holder, for their own access"
        case .specific(let refs): reviewers = list(refs.map { approver($0.kind) })
        case .manager(let fallback):
            reviewers = "the holder’s manager"
                + (fallback.isEmpty ? "" : " (fallback: " + list(fallback.map { approver($0.kind) }) + ")")
        }
        let whenNoResponse: String
        switch review.whenNoResponse {
        case .keepAccess: whenNoResponse = "access is kept"
        case .removeAccess: whenNoResponse = "access is removed"
        case .acceptRecommendation:
            whenNoResponse = "the recommendation applies (kept after a sign-in in the last 30 days, removed otherwise)"
        }
        return "Reviewed \(frequency) from \(review.startsOn.longDescription) by \(reviewers), within "
            + "\(count(review.durationDays, "day")). Without an answer, \(whenNoResponse)."
    }

    /// Separation of duties: "People who hold Finance reports, and members of LAB administrators, cannot request it."
    public func separation(packages: [String], groups: [String]) -> String? {
        let holders = packages.isEmpty ? nil : "people who hold " + list(packages)
        let members = groups.isEmpty ? nil : "members of " + list(groups.map(index.groupName))
        switch (holders, members) {
        case (nil, nil): return nil
        case let (holders?, nil): return capitalized(holders) + " cannot request it."
        case let (nil, members?): return capitalized(members) + " cannot request it."
        case let (holders?, members?): return capitalized(holders) + ", and " + members + ", cannot request it."
        }
    }

    /// "Group", "Application", "Site".
    public static func kindName(_ kind: Resource.Kind) -> String {
        switch kind {
        case .group: "Group"
        case .application: "Application"
        case .site: "Site"
        }
    }
}

/// "A", "A and B", "A, B and C".
func list(_ items: [String]) -> String {
    switch items.count {
    case 0: return ""
    case 1: return items[0]
    default: return items.dropLast().joined(separator: ", ") + " and " + items[items.count - 1]
    }
}

func count(_ n: Int, _ unit: String) -> String { n == 1 ? "1 \(unit)" : "\(n) \(unit)s" }

func capitalized(_ text: String) -> String {
    guard let first = text.first, first.isLowercase else { return text }
    return first.uppercased() + text.dropFirst()
}
