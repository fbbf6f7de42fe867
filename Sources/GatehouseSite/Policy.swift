import GatehouseModel

/// A policy as read, with its id kept even when the rest is broken so duplicates are still found.
struct DecodedPolicy {
    var id: String
    var idValue: Value
    var policy: Policy?
}

/// The scope of a policy as far as it could be read; rules that depend on it are skipped when unknown.
struct ScopeInfo {
    var name: String
    var audience: RequestorScope.Audience
}

extension Context {
    static let policyKeys = ["id", "name", "requestors", "enabled", "justification", "approval", "questions", "lifecycle", "notifications"]
    static let requestorKeys = ["scope", "people", "groups", "organizations"]
    static let scopeNames = ["specificPeople", "allMembers", "allUsers", "specificOrganizations",
                             "allConfiguredOrganizations", "anyone", "adminOnly"]
    /// The product's limit for `specificPeople`.
    static let maxSpecificPeople = 500

    func decodePolicy(_ item: Value, catalog: Catalog?, catalogID: String?) -> DecodedPolicy? {
        guard let fields = item.mapping("policy", keys: Self.policyKeys,
                                        expected: "a policy with id, name, requestors and approval") else { return nil }
        let idValue = fields.required("id")
        let id = idValue.flatMap { value in value.string("an id").flatMap { self.id($0, at: value, of: "policy") } }
        let name = fields.required("name")?.text()

        var scope: ScopeInfo?
        var requestors: RequestorScope?
        if let value = fields.required("requestors") {
            (requestors, scope) = decodeRequestors(value, catalog: catalog, catalogID: catalogID)
        }
        let enabled = fields["enabled"]?.bool() ?? true
        let justification = fields["justification"].map { $0.oneOf(JustificationRule.self, "justification rule") } ?? .optional

        var stages: [ApprovalStage]?
        if let value = fields.required("approval", hint: "; write `approval: none` to approve requests at once") {
            stages = decodeApproval(value, scope: scope)
        }

        var questions: [Question] = []
        if let value = fields["questions"], let items = value.list("a list of questions") {
            var lines: [String: Int] = [:]
            for item in items {
                guard let (questionID, questionIDValue, question) = decodeQuestion(item) else { continue }
                if let line = lines[questionID] {
                    questionIDValue.error("question '\(questionID)' is already declared in this policy (line \(line)); question ids must be unique")
                    continue
                }
                lines[questionID] = questionIDValue.location.line
                if let question { questions.append(question) }
            }
        }

        var lifecycle: Lifecycle? = Lifecycle(source: SourceMap(start: fields.start))
        if let value = fields["lifecycle"] {
            lifecycle = decodeLifecycle(value, scope: scope, requiresApproval: stages.map { !$0.isEmpty })
        }

        var notifications: Notifications? = Notifications()
        if let value = fields["notifications"] {
            notifications = value.mapping("notifications", keys: ["requestor"]).map {
                Notifications(requestor: $0["requestor"]?.bool() ?? true)
            }
        }

        guard let id, let idValue else { return nil }
        var policy: Policy?
        if let name, let requestors, let justification, let stages, let lifecycle, let notifications {
            policy = Policy(id: id, name: name, requestors: requestors, enabled: enabled, justification: justification,
                            approvalStages: stages, questions: questions, lifecycle: lifecycle,
                            notifications: notifications, source: fields.source)
        }
        return DecodedPolicy(id: id, idValue: idValue, policy: policy)
    }

    // MARK: - Requestors

    private func decodeRequestors(_ value: Value, catalog: Catalog?, catalogID: String?) -> (RequestorScope?, ScopeInfo?) {
        guard let fields = value.mapping("requestors", keys: Self.requestorKeys,
                                         expected: "a mapping like {scope: allMembers}") else { return (nil, nil) }
        guard let scopeValue = fields.required("scope"), let name = scopeValue.string("a scope") else { return (nil, nil) }
        guard Self.scopeNames.contains(name) else {
            let hint = didYouMean(name, among: Self.scopeNames)
            scopeValue.error("unknown scope '\(name)'" + (hint.isEmpty ? " (expected one of \(listed(Self.scopeNames)))" : hint))
            return (nil, nil)
        }
        let audience: RequestorScope.Audience = switch name {
        case "specificPeople", "allMembers", "allUsers": .internalUsers
        case "adminOnly": .admins
        default: .externalUsers
        }

        // Lists that do not belong to the scope: mixing internal and external users, or just ignored.
        func misplaced(_ key: String, isInternal: Bool, belongsTo owner: String) {
            guard let at = fields.keyLocation(key) else { return }
            if isInternal, audience == .externalUsers {
                log.error(at, "'\(key)' lists internal users, but scope '\(name)' serves external users; a policy serves internal or external users, never both — put them in another policy with scope \(owner)")
            } else if !isInternal, audience == .internalUsers {
                log.error(at, "'\(key)' lists connected organizations (external users), but scope '\(name)' serves internal users; a policy serves internal or external users, never both — put them in another policy with scope \(owner)")
            } else {
                log.error(at, "'\(key)' is only read with scope \(owner); remove it or change the scope")
            }
        }

        var people: [String] = []
        var groups: [String] = []
        var organizations: [String] = []
        if name == "specificPeople" {
            let peopleItems = fields["people"]?.strings(.email) ?? []
            for (text, item) in peopleItems {
                guard email(text, at: item) != nil else { continue }
                // An external-looking email close to a person's is a typo, reported as such by `person`.
                if known.isInternal(text) == false,
                   known.people.map({ didYouMeanEmail(text, among: $0.values.map(\.email)).isEmpty }) ?? true {
                    item.error("'\(text)' is an external user, but scope specificPeople serves internal users; a policy serves internal or external users, never both — let external users request through another policy with scope specificOrganizations or anyone")
                } else if people.contains(where: { $0.lowercased() == text.lowercased() }) {
                    item.error("requestor '\(text)' is listed twice")
                } else {
                    person(text, at: item, as: "requestor")
                    people.append(text)
                }
            }
            groups = self.groups(fields["groups"])
            // Entries that were written but are wrong are reported on their own.
            if peopleItems.isEmpty, (fields["groups"]?.elementCount ?? 0) == 0 {
                scopeValue.error("scope specificPeople lists nobody; add people: [emails] or groups: [ids]")
            } else if people.count + groups.count > Self.maxSpecificPeople, let at = fields["people"] ?? fields["groups"] {
                at.error("scope specificPeople lists \(people.count + groups.count) people and groups; at most \(Self.maxSpecificPeople) are allowed, use groups instead")
            }
        } else {
            misplaced("people", isInternal: true, belongsTo: "specificPeople")
            misplaced("groups", isInternal: true, belongsTo: "specificPeople")
        }
        if name == "specificOrganizations" {
            for (text, item) in fields["organizations"]?.strings(.id) ?? [] {
                if organizations.contains(text) {
                    item.error("organization '\(text)' is listed twice")
                } else {
                    organization(text, at: item)
                    organizations.append(text)
                }
            }
            if organizations.isEmpty {
                (fields["organizations"] ?? scopeValue).error("scope specificOrganizations lists no organizations; add organizations: [ids]")
            }
        } else {
            misplaced("organizations", isInternal: false, belongsTo: "specificOrganizations")
        }

        if audience == .externalUsers, let catalog, let catalogID, !catalog.externalUsers {
            scopeValue.error("scope '\(name)' serves external users, but catalog '\(catalogID)' does not allow them (externalUsers: false in catalogs/\(catalogID).yaml)")
        }

        let scope: RequestorScope = switch name {
        case "specificPeople": .specificPeople(people: people, groups: groups)
        case "allMembers": .allMembers
        case "allUsers": .allUsers
        case "specificOrganizations": .specificOrganizations(organizations)
        case "allConfiguredOrganizations": .allConfiguredOrganizations
        case "anyone": .anyone
        default: .adminOnly
        }
        return (scope, ScopeInfo(name: name, audience: audience))
    }

    // MARK: - Approval

    private func decodeApproval(_ value: Value, scope: ScopeInfo?) -> [ApprovalStage]? {
        if value.isScalar {
            if value.scalarText == "none" { return [] }
            value.typeError("`none` or a mapping with 'stages'")
            return nil
        }
        guard let fields = value.mapping("approval", keys: ["stages"], expected: "`none` or a mapping with 'stages'"),
              let stagesValue = fields.required("stages", hint: "; write `approval: none` to approve requests at once"),
              let items = stagesValue.list("a list of approval stages") else { return nil }
        if items.isEmpty {
            stagesValue.error("approval has no stages; write `approval: none` to approve requests at once, or add 1 to 3 stages")
        } else if items.count > 3 {
            items[3].error("approval has \(items.count) stages; at most 3 are allowed")
        }
        var stages: [ApprovalStage] = []
        var complete = true
        var firstStage: [Approver: Int] = [:]
        for (index, item) in items.enumerated() {
            guard let stage = decodeStage(item, scope: scope) else { complete = false; continue }
            for ref in stage.approvers where [.manager, .internalSponsors, .externalSponsors].contains(ref.kind) {
                if let first = firstStage[ref.kind], first != index {
                    log.error(ref.source.start, "\(Self.kindName(ref.kind)) approval is already used in stage \(first + 1); manager, internalSponsors and externalSponsors may each approve in one stage only")
                } else {
                    firstStage[ref.kind] = index
                }
            }
            stages.append(stage)
        }
        return complete && (1...3).contains(items.count) ? stages : nil
    }

    static let stageKeys = ["approvers", "fallback", "timeoutDays", "justificationRequired", "escalation"]

    private func decodeStage(_ item: Value, scope: ScopeInfo?) -> ApprovalStage? {
        guard let fields = item.mapping("approval stage", keys: Self.stageKeys,
                                        expected: "an approval stage with approvers") else { return nil }
        var approvers: [ApproverRef]?
        if let value = fields.required("approvers") {
            approvers = approverList(value, as: .approver, scope: scope)
            if value.isEmptyList { value.error("a stage needs at least one approver") }
        }
        let fallback = fields["fallback"].flatMap { approverList($0, as: .fallback, scope: scope) } ?? []
        var timeoutDays = 14
        if let value = fields["timeoutDays"], let days = value.int() {
            if days < 1 { value.error("timeoutDays must be at least 1 day") }
            timeoutDays = days
        }
        let justificationRequired = fields["justificationRequired"]?.bool() ?? false

        var escalation: Escalation?
        var escalationBroken = false
        if let value = fields["escalation"] {
            escalation = decodeEscalation(value, timeoutDays: timeoutDays, timeoutValue: fields["timeoutDays"],
                                          stageApprovers: approvers ?? [], scope: scope)
            escalationBroken = escalation == nil
        }

        for ref in approvers ?? [] where ref.kind == .secondLevelManager {
            log.error(ref.source.start, "secondLevelManager can only be an escalation approver, in a stage whose approvers include {manager: true}")
        }
        let resolved = (approvers ?? []) + (escalation?.approvers ?? [])
        if let needing = resolved.first(where: { $0.kind.needsFallback && $0.kind != .secondLevelManager }), fallback.isEmpty {
            log.error(needing.source.start, "\(Self.kindName(needing.kind)) approval needs fallback approvers \(Self.fallbackReason(needing.kind)); add `fallback: [{person: …}]` to this stage")
        } else if !fallback.isEmpty, !resolved.contains(where: { $0.kind.needsFallback }), let value = fields["fallback"] {
            value.error("fallback approvers are only used with manager or sponsor approvers; remove 'fallback'")
        }

        guard let approvers, !approvers.isEmpty, !escalationBroken else { return nil }
        return ApprovalStage(approvers: approvers, fallback: fallback, timeoutDays: timeoutDays,
                             justificationRequired: justificationRequired, escalation: escalation, source: fields.source)
    }

    private func decodeEscalation(_ value: Value, timeoutDays: Int, timeoutValue: Value?, stageApprovers: [ApproverRef],
                                  scope: ScopeInfo?) -> Escalation? {
        guard let fields = value.mapping("escalation", keys: ["afterDays", "approvers"],
                                         expected: "a mapping like {afterDays: 8, approvers: [...]}") else { return nil }
        let afterValue = fields.required("afterDays")
        let afterDays = afterValue?.int()
        var approvers: [ApproverRef]?
        if let list = fields.required("approvers") {
            approvers = approverList(list, as: .escalation, scope: scope)
            if list.isEmptyList { list.error("escalation needs at least one approver to forward to") }
        }
        if timeoutDays < 4 {
            (timeoutValue ?? value).error("escalation needs a decision timeout of at least 4 days, but timeoutDays is \(timeoutDays)")
        } else if let afterDays, let afterValue {
            if afterDays * 2 < timeoutDays + 2 {
                afterValue.error("escalation after \(afterDays) days is too early for a \(timeoutDays)-day timeout: forward no earlier than day \((timeoutDays + 3) / 2), one day after half the timeout")
            } else if afterDays >= timeoutDays {
                afterValue.error("escalation after \(afterDays) days is on or after the last day of the \(timeoutDays)-day timeout; forward by day \(timeoutDays - 1) at the latest")
            }
        }
        for ref in approvers ?? [] where ref.kind == .secondLevelManager {
            if !stageApprovers.contains(where: { $0.kind == .manager }) {
                log.error(ref.source.start, "secondLevelManager can only escalate a stage whose approvers include {manager: true}")
            }
        }
        guard let afterDays, let approvers, !approvers.isEmpty else { return nil }
        return Escalation(afterDays: afterDays, approvers: approvers, source: fields.source)
    }

    static func kindName(_ kind: Approver) -> String {
        switch kind {
        case .person: "person"
        case .group: "group"
        case .manager: "manager"
        case .secondLevelManager: "secondLevelManager"
        case .internalSponsors: "internalSponsors"
        case .externalSponsors: "externalSponsors"
        }
    }

    private static func fallbackReason(_ kind: Approver) -> String {
        switch kind {
        case .manager, .secondLevelManager: "for requestors without a manager"
        default: "for requestors whose organization has no sponsors"
        }
    }

    // MARK: - Approver lists

    enum ApproverSlot {
        case approver, fallback, escalation, reviewer, fallbackReviewer

        var name: String {
            switch self {
            case .approver: "approver"
            case .fallback: "fallback approver"
            case .escalation: "escalation approver"
            case .reviewer: "reviewer"
            case .fallbackReviewer: "fallback reviewer"
            }
        }

        var keys: [String] {
            switch self {
            case .approver, .escalation: ["person", "group", "manager", "secondLevelManager", "internalSponsors", "externalSponsors"]
            case .fallback, .fallbackReviewer: ["person", "group"]
            case .reviewer: ["person", "group", "self", "manager"]
            }
        }
    }

    /// A list of `{person: email}`, `{group: id}`, `{manager: true}`…; `{self: true}` reads as nil approver for reviewers.
    func approverEntries(_ value: Value, as slot: ApproverSlot) -> [(kind: Approver?, source: SourceMap, value: Value)] {
        guard let items = value.list("a list of \(slot.name)s like [{person: email}]") else { return [] }
        var entries: [(kind: Approver?, source: SourceMap, value: Value)] = []
        for item in items {
            guard let fields = item.mapping(slot.name, keys: slot.keys,
                                            expected: "\(slot == .approver || slot == .escalation ? "an" : "a") \(slot.name) like {person: email} or {group: id}")
            else { continue }
            guard let key = fields.keys.first else {
                fields.error("this \(slot.name) names nobody; write one of \(slot.keys.map { "{\($0): …}" }.joined(separator: ", "))")
                continue
            }
            if fields.keys.count > 1, let at = fields.keyLocation(fields.keys[1]) {
                log.error(at, "each \(slot.name) has exactly one of \(listed(slot.keys)); split '\(key)' and '\(fields.keys[1])' into two entries")
                continue
            }
            guard let entryValue = fields.required(key) else { continue }
            var kind: Approver?
            switch key {
            case "person":
                guard let text = entryValue.string("an email") else { continue }
                person(text, at: entryValue, as: slot.name)
                kind = .person(text)
            case "group":
                guard let text = entryValue.string("a group id") else { continue }
                group(text, at: entryValue)
                kind = .group(text)
            default:
                guard let flag = entryValue.bool() else { continue }
                guard flag else {
                    entryValue.error("write {\(key): true}, or remove this \(slot.name)")
                    continue
                }
                kind = switch key {
                case "manager": .manager
                case "secondLevelManager": .secondLevelManager
                case "internalSponsors": .internalSponsors
                case "externalSponsors": .externalSponsors
                default: nil // self
                }
            }
            let duplicate = entries.first { $0.kind == kind }
            if let duplicate {
                item.error("this \(slot.name) is already listed (line \(duplicate.source.start.line))")
                continue
            }
            entries.append((kind, fields.source, item))
        }
        return entries
    }

    /// Approvers of a stage, with the rules that tie approver kinds to the policy's audience.
    private func approverList(_ value: Value, as slot: ApproverSlot, scope: ScopeInfo?) -> [ApproverRef] {
        approverEntries(value, as: slot).compactMap { entry in
            guard let kind = entry.kind else { return nil }
            if let scope { checkAudience(kind, at: entry.source.start, scope: scope, what: "approval") }
            return ApproverRef(kind, source: entry.source)
        }
    }

    func checkAudience(_ kind: Approver, at location: SourceLocation, scope: ScopeInfo, what: String) {
        let isManager = kind == .manager || kind == .secondLevelManager
        let isSponsor = kind == .internalSponsors || kind == .externalSponsors
        if isManager, scope.audience == .externalUsers {
            log.error(location, "\(Self.kindName(kind)) \(what) needs the requestor's manager, but scope '\(scope.name)' serves external users, who have none here; use people, a group or sponsors")
        } else if isSponsor, scope.audience == .internalUsers {
            log.error(location, "\(Self.kindName(kind)) \(what) is for external requestors (sponsors belong to connected organizations), but scope '\(scope.name)' serves internal users; use the manager, people or a group")
        }
    }
}
