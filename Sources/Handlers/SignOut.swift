internal import GatehouseModel
internal import GatehouseStore
internal import Portal
internal import Rendering

extension Actions {
    /// POST /sign-out: ends the session, removes the cookie and goes to the portal home.
    func signOut(_ request: RequestContext) throws -> HTTPResponse {
        if let id = cookie.value(in: request.cookies), !id.isEmpty {
            let hash = Hashing.sha256(id)
            let now = clock()
            try store.write { db in
                if case .valid(let session) = try db.session(idHash: hash, now: now, idleTimeout: settings.sessionIdleTimeout) {
                    try db.endSession(idHash: hash, at: now)
                    try db.appendAudit(AuditEntry(
                        at: now, actor: session.email, subjectKind: "person", subjectID: session.email, action: "signedOut"))
                }
            }
        }
        var response = HTTPResponse.redirect(to: .home)
        response.addHeader("Set-Cookie", cookie.deletion)
        return response
    }
}
