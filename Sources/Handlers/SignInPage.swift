internal import GatehouseStore
internal import Portal
internal import Rendering

extension Actions {
    /// GET /sign-in/?return=…: the email form, keeping the page to come back to.
    ///
    /// nginx sends `/sign-in/` here only when it has a query string; without one the generated
    /// static page answers (it has an empty `return`, which means the portal home).
    func signInPage(_ request: RequestContext) throws -> HTTPResponse {
        let returnTo = safeReturn(request.query[FormField.returnTo])
        // The generated pages cannot know who is signed in, so their navigation always offers to
        // sign in: a person who already is goes straight on, to where they were going or "For you".
        if case .signedIn = try visitor(request) {
            return .redirect(to: SafeRedirect(returnTo.isEmpty ? Paths.myHome : returnTo) ?? .home)
        }
        let message: String? = if request.query[Self.resubmitParameter] != nil {
            Self.resubmitMessage
        } else if returnTo.hasPrefix(Paths.drafts) {
            Self.keptMessage
        } else {
            nil
        }
        return try views.signInEmail(returnTo: returnTo, message: message)
    }

    /// On the way back to a kept request form.
    static let keptMessage = "Sign in to send your request: what you typed in the form is kept, and you come back to it."

    /// The query flag set when a request form was posted without a session.
    static let resubmitParameter = "resubmit"
    static let resubmitMessage = "Sign in, then submit the request form again: what you typed before signing in could not be kept."

    /// A `return` value kept only when it is a same-site path; anything else becomes empty (home).
    func safeReturn(_ value: String?) -> String {
        guard let value, let target = SafeRedirect(value) else { return "" }
        return target.path
    }
}
