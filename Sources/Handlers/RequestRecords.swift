internal import Foundation
internal import GatehouseModel
internal import GatehouseStore
internal import Governance

/// How requests are written to and read back from the store's JSON columns; pure functions.
enum RequestRecords {
    /// States in which a request still waits for something (the open-request block, cancel).
    static let openStates: Set<RequestState> = [.submitted, .pendingApproval, .approved, .scheduled, .delivering]
    /// States a person may cancel from.
    static let cancelable: Set<RequestState> = [.submitted, .pendingApproval]
    /// Ended requests that offer "Request again".
    static let requestableAgain: Set<RequestState> = [.denied, .expired, .canceled]

    /// The JSON stored as the request's policy snapshot: `{"policy": {...}, "requestor": {...}}`.
    ///
    /// `policy` is the policy as it is now, so a later model change does not alter a pending
    /// request; `requestor` records the email domain and the connected organization it matched
    /// (`null` for an `anyone` request from an unknown domain: the proposed organization is created
    /// from `domain` when such a request is first approved).
    static func snapshot(of policy: Policy, requestor: Requestor) -> String {
        let requestorPart: [String: Any] = [
            "domain": requestor.email.emailDomain ?? "",
            "internal": requestor.isInternal,
            "organization": requestor.organization?.id ?? NSNull(),
        ]
        return json(["policy": policyJSON(policy), "requestor": requestorPart])
    }

    /// The policy's name as recorded in a snapshot, nil if the snapshot cannot be read.
    static func policyName(inSnapshot snapshot: String) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(snapshot.utf8)) as? [String: Any],
              let policy = object["policy"] as? [String: Any] else { return nil }
        return policy["name"] as? String
    }

    /// The answers column: `[{"questionID", "question", "values", "shown"}]` in form order.
    static func answersJSON(_ answers: [GivenAnswer]) -> String {
        json(answers.map { ["questionID": $0.questionID, "question": $0.question, "values": $0.values, "shown": $0.shown] })
    }

    /// The answers column read back; an unreadable column reads as no answers.
    static func answers(fromJSON text: String) -> [GivenAnswer] {
        guard let rows = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]] else { return [] }
        return rows.compactMap { row in
            guard let id = row["questionID"] as? String else { return nil }
            return GivenAnswer(
                questionID: id, question: row["question"] as? String ?? id,
                values: row["values"] as? [String] ?? [], shown: row["shown"] as? [String] ?? [])
        }
    }

    static func json(_ object: Any) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
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
}
