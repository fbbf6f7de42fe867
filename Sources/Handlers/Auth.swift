internal import GatehouseStore
internal import Portal

extension Actions {
    /// GET /auth, for nginx's `auth_request`: 204 with `X-Gatehouse-User` for a signed-in person
    /// (the session is touched), 401 for anyone else, including external people with terms pending.
    func auth(_ request: RequestContext) throws -> HTTPResponse {
        guard case .signedIn(let person, _) = try visitor(request) else {
            return HTTPResponse(status: HTTPStatus(code: 401, reason: "Unauthorized"), headers: [.init("Cache-Control", "no-store")])
        }
        return HTTPResponse(
            status: HTTPStatus(code: 204, reason: "No Content"),
            headers: [.init("X-Gatehouse-User", person.email), .init("Cache-Control", "no-store")])
    }
}
