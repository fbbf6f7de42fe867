internal import GatehouseModel
internal import Foundation
internal import GatehouseStore
internal import Portal
internal import Rendering

extension Actions {
    /// GET /my/requests/: who is signed in, their requests newest first, and a sign-out button.
    func myRequests(_ request: RequestContext) throws -> HTTPResponse {
        let visitor = try visitor(request)
        guard case .signedIn(let person, _) = visitor else {
            return try signInRequired(request, visitor: visitor, returnTo: request.path)
        }
        let requests = try store.read { try $0.requests(of: person.email) }
        let rows = requests.map { record -> [String: Any] in
            [
                "package": site.package(record.packageID)?.name ?? record.packageID,
                "packageURL": Paths.package(record.packageID),
                "state": Self.stateName(record.state),
                "submitted": Self.day(record.createdAt),
            ]
        }
        return try views.page("my-requests", title: "My requests", [
            "name": person.displayName, "email": person.email,
            "requests": rows, "isEmpty": rows.isEmpty, "signOut": Paths.signOut,
        ])
    }

    static func stateName(_ state: RequestState) -> String {
        var words = ""
        for character in state.rawValue {
            if character.isUppercase { words += " " + character.lowercased() } else { words.append(character) }
        }
        return words.prefix(1).uppercased() + words.dropFirst()
    }

    /// `2026-11-23` in UTC: what the list shows until the history page (another piece) shows dates in the tenant's zone.
    static func day(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0)!
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }
}
