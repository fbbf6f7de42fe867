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

    /// The JSON stored as the request's policy snapshot (see `PolicySnapshot.encode`).
    static func snapshot(of policy: Policy, requestor: Requestor) -> String {
        PolicySnapshot.encode(policy, requestor: requestor)
    }

    /// The policy's name as recorded in a snapshot, nil if the snapshot cannot be read.
    static func policyName(inSnapshot snapshot: String) -> String? {
        try? PolicySnapshot.decode(snapshot).policy.name
    }

    /// The answers column: `[{"questionID", "question", "values", "shown"}]` in form order.
    ///
    /// Written directly (``JSONText``), byte for byte what `JSONSerialization` writes with sorted
    /// keys and unescaped slashes (tested).
    static func answersJSON(_ answers: [GivenAnswer]) -> String {
        var out = "["
        out.reserveCapacity(64 + answers.count * 96)
        for (index, answer) in answers.enumerated() {
            if index > 0 { out += "," }
            out += "{\"question\":"
            JSONText.append(answer.question, to: &out)
            out += ",\"questionID\":"
            JSONText.append(answer.questionID, to: &out)
            out += ",\"shown\":"
            appendJSONArray(answer.shown, to: &out)
            out += ",\"values\":"
            appendJSONArray(answer.values, to: &out)
            out += "}"
        }
        return out + "]"
    }

    private static func appendJSONArray(_ strings: [String], to out: inout String) {
        out += "["
        for (index, string) in strings.enumerated() {
            if index > 0 { out += "," }
            JSONText.append(string, to: &out)
        }
        out += "]"
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
}
