internal import GatehouseStore
internal import Portal
internal import Rendering

extension Actions {
    /// GET /sign-in/?return=…: the email form, keeping the page to come back to.
    ///
    /// nginx sends `/sign-in/` here only when it has a query string; without one the generated
    /// static page answers (it has an empty `return`, which means the portal home).
    func signInPage(_ request: RequestContext) throws -> HTTPResponse {
        try views.signInEmail(returnTo: safeReturn(request.query[FormField.returnTo]))
    }

    /// A `return` value kept only when it is a same-site path; anything else becomes empty (home).
    func safeReturn(_ value: String?) -> String {
        guard let value, let target = SafeRedirect(value) else { return "" }
        return target.path
    }
}
