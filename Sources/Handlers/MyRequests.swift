internal import GatehouseModel
internal import Foundation
internal import GatehouseStore
internal import Governance
internal import Portal
internal import Rendering

extension Actions {
    /// GET /my/requests/: who is signed in, every request newest first (package, state in words,
    /// submitted and decided days in the tenant's zone, link to its page), and a sign-out button.
    func myRequests(_ request: RequestContext) throws -> HTTPResponse {
        let visitor = try visitor(request)
        guard case .signedIn(let person, _) = visitor else {
            return try signInRequired(request, visitor: visitor, returnTo: request.path)
        }
        let calendar = try tenantCalendar()
        let rows = try store.read { db in
            try db.requests(of: person.email).map { record -> [String: Any] in
                let decided = try Self.decidedAt(record, decisions: db.decisions(requestID: record.id))
                return [
                    "package": site.package(record.packageID)?.name ?? record.packageID,
                    "url": Paths.myRequest(record.id),
                    "state": Self.stateName(record.state),
                    "submitted": calendar.longDate(record.createdAt),
                    "decided": decided.map(calendar.longDate) ?? "—",
                ]
            }
        }
        return try views.page("my-requests", title: "My requests", [
            "name": person.displayName, "email": person.email,
            "requests": rows, "isEmpty": rows.isEmpty, "signOut": Paths.signOut,
        ])
    }

    /// When the request was decided: its last decision, or its last change once it left the open states; nil while open.
    static func decidedAt(_ record: RequestRecord, decisions: [DecisionRecord]) -> Date? {
        if RequestRecords.cancelable.contains(record.state) { return nil }
        return decisions.last?.decidedAt ?? record.updatedAt
    }

    /// `pendingApproval` -> "Pending approval".
    static func stateName(_ state: RequestState) -> String {
        var words = ""
        for character in state.rawValue {
            if character.isUppercase { words += " " + character.lowercased() } else { words.append(character) }
        }
        return words.prefix(1).uppercased() + words.dropFirst()
    }
}
