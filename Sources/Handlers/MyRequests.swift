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
        let (visitor, read) = try visitor(request) { db, person in try db.requestSummaries(of: person.email) }
        guard case .signedIn(let person, _) = visitor, let summaries = read else {
            return try signInRequired(request, visitor: visitor, returnTo: request.path)
        }
        let rows = summaries.map { summary in
            TemplateValues.row([
                "package": site.package(summary.packageID)?.name ?? summary.packageID,
                "url": Paths.myRequest(summary.id),
                "state": Self.stateName(summary.state),
                "submitted": calendar.longDate(summary.createdAt),
                "decided": Self.decidedAt(summary).map(calendar.longDate) ?? "—",
            ])
        }
        return try views.page("my-requests", title: "My requests", [
            "name": person.displayName, "email": person.email,
            "requests": rows, "isEmpty": rows.isEmpty,
        ], signedInAs: person.displayName)
    }

    /// When the request was decided: its last decision, or its last change once it left the open states; nil while open.
    static func decidedAt(_ summary: RequestSummary) -> Date? {
        if RequestRecords.cancelable.contains(summary.state) { return nil }
        return summary.lastDecisionAt ?? summary.updatedAt
    }

    /// `pendingApproval` -> "Pending approval".
    static func stateName(_ state: RequestState) -> String {
        stateNames[state] ?? state.rawValue
    }

    /// Every state's name, spelled out once (a history page names each of its rows).
    private static let stateNames: [RequestState: String] = Dictionary(uniqueKeysWithValues: RequestState.allCases.map { state in
        var words = ""
        for character in state.rawValue {
            if character.isUppercase { words += " " + character.lowercased() } else { words.append(character) }
        }
        return (state, words.prefix(1).uppercased() + words.dropFirst())
    })
}
