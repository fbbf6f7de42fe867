internal import Foundation
public import GatehouseModel

/// The policy a request was made under, frozen as JSON when it was submitted:
/// `{"policy": {...}, "requestor": {"domain", "internal", "organization"}}`.
///
/// A pending request keeps following the policy it was asked under even when the model changes later.
/// The snapshot leaves out source positions and the policy's access review.
public enum PolicySnapshot {
    /// What a snapshot holds.
    public struct Contents: Sendable, Hashable {
        /// The policy as it was, with generated source maps and no access review.
        public var policy: Policy
        public var requestor: SnapshotRequestor

        public init(policy: Policy, requestor: SnapshotRequestor) {
            self.policy = policy
            self.requestor = requestor
        }
    }

    /// The JSON stored with a request: keys sorted, slashes unescaped.
    ///
    /// `requestor` records the email domain and the connected organization it matched (`null` for an
    /// `anyone` request from an unknown domain: the proposed organization is created from `domain`
    /// when such a request is first approved).
    public static func encode(_ policy: Policy, requestor: Requestor) -> String {
        let requestorPart: [String: Any] = [
            "domain": requestor.email.emailDomain ?? "",
            "internal": requestor.isInternal,
            "organization": requestor.organization?.id ?? NSNull(),
        ]
        return json(["policy": policyJSON(policy), "requestor": requestorPart])
    }

    /// Reads a snapshot back; throws naming the first key that is missing or malformed.
    public static func decode(_ json: String) throws(PolicySnapshotError) -> Contents {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(json.utf8))
        } catch {
            throw PolicySnapshotError(path: "", problem: "not JSON")
        }
        let root = try Node(object, path: "").object()
        return Contents(policy: try policy(root.key("policy").object()),
                        requestor: try requestor(root.key("requestor").object()))
    }

    // MARK: - Writing

    private static func json(_ object: Any) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    private static func policyJSON(_ p: Policy) -> [String: Any] {
        [
            "id": p.id, "name": p.name, "enabled": p.enabled, "requestors": scopeJSON(p.requestors),
            "justification": p.justification.rawValue,
            "approvalStages": p.approvalStages.map { stage -> [String: Any] in
                [
                    "approvers": stage.approvers.map { approverJSON($0.kind) },
                    "fallback": stage.fallback.map { approverJSON($0.kind) },
                    "timeoutDays": stage.timeoutDays, "justificationRequired": stage.justificationRequired,
                    "escalation": stage.escalation.map { e -> Any in
                        ["afterDays": e.afterDays, "approvers": e.approvers.map { approverJSON($0.kind) }]
                    } ?? NSNull(),
                ]
            },
            "questions": p.questions.map { q -> [String: Any] in
                [
                    "id": q.id, "type": q.kind.rawValue, "required": q.required, "text": textJSON(q.text),
                    "regex": q.pattern ?? NSNull(), "maxLength": q.maxLength ?? NSNull(),
                    "multipleSelection": q.allowsMultiple,
                    "choices": q.choices.map { ["value": $0.value, "text": textJSON($0.text)] },
                ]
            },
            "lifecycle": [
                "expiration": expirationJSON(p.lifecycle.expiration), "customSchedule": p.lifecycle.customSchedule,
                "extensionAllowed": p.lifecycle.extensionAllowed,
                "extensionRequiresApproval": p.lifecycle.extensionRequiresApproval,
            ] as [String: Any],
            "notifications": ["requestor": p.notifications.requestor],
        ]
    }

    private static func textJSON(_ text: LocalizedText) -> [String: String] {
        var out = text.translations
        out["default"] = text.defaultText
        return out
    }

    private static func scopeJSON(_ scope: RequestorScope) -> [String: Any] {
        switch scope {
        case .specificPeople(let people, let groups): ["scope": scope.name, "people": people, "groups": groups]
        case .specificOrganizations(let ids): ["scope": scope.name, "organizations": ids]
        default: ["scope": scope.name]
        }
    }

    private static func approverJSON(_ approver: Approver) -> [String: Any] {
        switch approver {
        case .person(let email): ["person": email]
        case .group(let id): ["group": id]
        case .manager: ["manager": true]
        case .secondLevelManager: ["secondLevelManager": true]
        case .internalSponsors: ["internalSponsors": true]
        case .externalSponsors: ["externalSponsors": true]
        }
    }

    private static func expirationJSON(_ expiration: Expiration) -> [String: Any] {
        switch expiration {
        case .onDate(let day): ["onDate": day.description]
        case .afterDays(let days): ["afterDays": days]
        case .afterHours(let hours): ["afterHours": hours]
        case .never: ["never": true]
        }
    }

    // MARK: - Reading

    private static func policy(_ o: Object) throws(PolicySnapshotError) -> Policy {
        let justificationNode = try o.key("justification")
        let justification = try justificationNode.string()
        guard let rule = JustificationRule(rawValue: justification) else {
            throw justificationNode.error("unknown justification rule '\(justification)'")
        }
        var stages: [ApprovalStage] = []
        for node in try o.key("approvalStages").array() { stages.append(try stage(node.object())) }
        var questions: [Question] = []
        for node in try o.key("questions").array() { questions.append(try question(node.object())) }
        let lifecycle = try o.key("lifecycle").object()
        return Policy(
            id: try o.key("id").string(), name: try o.key("name").string(),
            requestors: try scope(o.key("requestors").object()), enabled: try o.key("enabled").bool(),
            justification: rule, approvalStages: stages, questions: questions,
            lifecycle: Lifecycle(
                expiration: try expiration(lifecycle.key("expiration").object()),
                customSchedule: try lifecycle.key("customSchedule").bool(),
                extensionAllowed: try lifecycle.key("extensionAllowed").bool(),
                extensionRequiresApproval: try lifecycle.key("extensionRequiresApproval").bool()),
            notifications: Notifications(requestor: try o.key("notifications").object().key("requestor").bool()))
    }

    private static func scope(_ o: Object) throws(PolicySnapshotError) -> RequestorScope {
        let scopeNode = try o.key("scope")
        let name = try scopeNode.string()
        switch name {
        case "specificPeople":
            return .specificPeople(people: try o.key("people").strings(), groups: try o.key("groups").strings())
        case "allMembers": return .allMembers
        case "allUsers": return .allUsers
        case "specificOrganizations": return .specificOrganizations(try o.key("organizations").strings())
        case "allConfiguredOrganizations": return .allConfiguredOrganizations
        case "anyone": return .anyone
        case "adminOnly": return .adminOnly
        default: throw scopeNode.error("unknown requestor scope '\(name)'")
        }
    }

    private static func stage(_ o: Object) throws(PolicySnapshotError) -> ApprovalStage {
        let escalationNode = o.optionalKey("escalation")
        let escalation: Escalation? = if let escalationNode {
            try Escalation(afterDays: escalationNode.object().key("afterDays").int(),
                           approvers: approvers(escalationNode.object().key("approvers")))
        } else {
            nil
        }
        return ApprovalStage(
            approvers: try approvers(o.key("approvers")), fallback: try approvers(o.key("fallback")),
            timeoutDays: try o.key("timeoutDays").int(),
            justificationRequired: try o.key("justificationRequired").bool(), escalation: escalation)
    }

    private static func approvers(_ node: Node) throws(PolicySnapshotError) -> [ApproverRef] {
        var refs: [ApproverRef] = []
        for entry in try node.array() {
            let o = try entry.object()
            guard o.keys.count == 1, let key = o.keys.first else {
                throw entry.error("an approver has exactly one key (person, group, manager, …)")
            }
            let kind: Approver = switch key {
            case "person": .person(try o.key(key).string())
            case "group": .group(try o.key(key).string())
            case "manager": .manager
            case "secondLevelManager": .secondLevelManager
            case "internalSponsors": .internalSponsors
            case "externalSponsors": .externalSponsors
            default: throw entry.error("unknown approver kind '\(key)'")
            }
            refs.append(ApproverRef(kind))
        }
        return refs
    }

    private static func question(_ o: Object) throws(PolicySnapshotError) -> Question {
        let typeNode = try o.key("type")
        let type = try typeNode.string()
        guard let kind = Question.Kind(rawValue: type) else {
            throw typeNode.error("unknown question type '\(type)'")
        }
        var choices: [Choice] = []
        for node in try o.key("choices").array() {
            let choice = try node.object()
            choices.append(Choice(value: try choice.key("value").string(), text: try text(choice.key("text"))))
        }
        return Question(
            id: try o.key("id").string(), kind: kind, required: try o.key("required").bool(),
            text: try text(o.key("text")), pattern: try o.optionalKey("regex")?.string(),
            maxLength: try o.optionalKey("maxLength")?.int(), choices: choices,
            allowsMultiple: try o.key("multipleSelection").bool())
    }

    private static func text(_ node: Node) throws(PolicySnapshotError) -> LocalizedText {
        let o = try node.object()
        var translations: [String: String] = [:]
        for key in o.keys where key != "default" { translations[key] = try o.key(key).string() }
        return LocalizedText(try o.key("default").string(), translations: translations)
    }

    private static func expiration(_ o: Object) throws(PolicySnapshotError) -> Expiration {
        if let node = o.optionalKey("onDate") {
            let text = try node.string()
            guard let day = CalendarDay(text) else { throw node.error("'\(text)' is not a YYYY-MM-DD day") }
            return .onDate(day)
        }
        if let node = o.optionalKey("afterDays") { return .afterDays(try node.int()) }
        if let node = o.optionalKey("afterHours") { return .afterHours(try node.int()) }
        if o.optionalKey("never") != nil { return .never }
        throw PolicySnapshotError(path: o.path, problem: "expected one of onDate, afterDays, afterHours, never")
    }

    private static func requestor(_ o: Object) throws(PolicySnapshotError) -> SnapshotRequestor {
        SnapshotRequestor(domain: try o.key("domain").string(), isInternal: try o.key("internal").bool(),
                          organizationID: try o.optionalKey("organization")?.string())
    }

    /// A JSON value and where it sits (`policy.approvalStages[0].timeoutDays`).
    private struct Node {
        var value: Any
        var path: String

        init(_ value: Any, path: String) {
            self.value = value
            self.path = path
        }

        func error(_ problem: String) -> PolicySnapshotError { PolicySnapshotError(path: path, problem: problem) }

        func object() throws(PolicySnapshotError) -> Object {
            guard let dictionary = value as? [String: Any] else { throw error("expected an object") }
            return Object(dictionary: dictionary, path: path)
        }

        func array() throws(PolicySnapshotError) -> [Node] {
            guard let array = value as? [Any] else { throw error("expected an array") }
            return array.enumerated().map { Node($0.element, path: "\(path)[\($0.offset)]") }
        }

        func string() throws(PolicySnapshotError) -> String {
            guard let string = value as? String else { throw error("expected a string") }
            return string
        }

        func strings() throws(PolicySnapshotError) -> [String] {
            var out: [String] = []
            for node in try array() { out.append(try node.string()) }
            return out
        }

        func bool() throws(PolicySnapshotError) -> Bool {
            // JSONSerialization reads `true` and `1` alike as NSNumber; only a real boolean will do.
            guard let number = value as? NSNumber, isJSONBoolean(number), let bool = value as? Bool else {
                throw error("expected true or false")
            }
            return bool
        }

        func int() throws(PolicySnapshotError) -> Int {
            guard let number = value as? NSNumber, !isJSONBoolean(number), let int = value as? Int else {
                throw error("expected an integer")
            }
            return int
        }
    }

    private struct Object {
        var dictionary: [String: Any]
        var path: String

        var keys: [String] { dictionary.keys.sorted() }

        func key(_ name: String) throws(PolicySnapshotError) -> Node {
            guard let value = dictionary[name] else { throw PolicySnapshotError(path: child(name), problem: "missing") }
            return Node(value, path: child(name))
        }

        /// The value under `name`, nil when absent or `null`.
        func optionalKey(_ name: String) -> Node? {
            guard let value = dictionary[name], !(value is NSNull) else { return nil }
            return Node(value, path: child(name))
        }

        private func child(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }
    }
}

/// Tells JSON booleans from numbers among the NSNumbers JSONSerialization returns: a boolean's
/// Objective-C type is `c` (char), an integer's `i` or `q`.
private func isJSONBoolean(_ number: NSNumber) -> Bool {
    String(cString: number.objCType) == "c"
}

/// The requestor part of a snapshot.
public struct SnapshotRequestor: Sendable, Hashable {
    /// The requestor's email domain, lowercased.
    public var domain: String
    public var isInternal: Bool
    /// The connected organization the domain matched when the request was made; nil when none did.
    public var organizationID: String?

    public init(domain: String, isInternal: Bool, organizationID: String?) {
        self.domain = domain
        self.isInternal = isInternal
        self.organizationID = organizationID
    }
}

/// A snapshot that cannot be read, with the key that is wrong (`policy.approvalStages[0].timeoutDays: missing`).
public struct PolicySnapshotError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Dotted path of the offending value; empty for the whole text.
    public var path: String
    public var problem: String

    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String {
        "policy snapshot: " + (path.isEmpty ? problem : "\(path): \(problem)")
    }
}
