internal import Foundation
internal import GatehouseModel
internal import GatehouseStore
internal import Portal
internal import Rendering

/// Request forms posted without a session are kept while the person signs in.
///
/// Most people reach a request form from a shared package link before they have signed in: the
/// form is a static page. Its post, without a session, used to send them to sign in with nothing
/// kept. Now the posted fields are kept for an hour under a random token, the person signs in and
/// comes back to `/my/drafts/<token>/`: the same form, filled in as they left it, to check and
/// submit. The first person to open it signed in owns it; it is deleted when a request is made
/// from it or by the sweep once expired.
extension Actions {
    /// How long a kept form waits for its author (sign-in codes last 10 minutes).
    static let draftLifetime: TimeInterval = 3600
    /// At most this many forms kept per client address per hour; beyond, the old answer.
    static let draftsPerClientPerHour = 20
    /// The largest form kept, as JSON.
    static let draftMaxBytes = 32 * 1024

    /// Keeps the posted `fields` of `package`'s `policy` form for the person about to sign in;
    /// returns the path back to it and the browser cookie to set, or nil when it cannot be kept
    /// (the caller says so).
    func keepDraft(
        _ fields: [String: [String]], package: AccessPackage, policy: Policy, language: String, request: RequestContext
    ) throws -> (path: String, setCookie: String)? {
        var kept = fields
        for field in [FormField.package, FormField.policy, FormField.language, FormField.submission, FormField.draft] {
            kept[field] = nil
        }
        guard let json = try? JSONSerialization.data(withJSONObject: kept, options: [.sortedKeys]),
              json.count <= Self.draftMaxBytes,
              let text = String(data: json, encoding: .utf8) else { return nil }
        let now = clock()
        let client = request.remoteAddress ?? "unknown"
        let token = random.sessionID()
        // Only the browser that posted the form opens it: a link to it sent to someone else leads nowhere.
        let browserCookie = SessionCookie.browser(baseURL: site.tenant.baseURL)
        let browser = browserCookie.value(in: request.cookies).flatMap { Self.isToken($0) ? $0 : nil } ?? random.sessionID()
        guard let setCookie = try? browserCookie.setCookie(value: browser, maxAge: Int(Self.draftLifetime)) else { return nil }
        let draft = FormDraft(
            tokenHash: Hashing.sha256(token), packageID: package.id, policyID: policy.id, language: language, fields: text,
            client: client, browserHash: Hashing.sha256(browser), createdAt: now, expiresAt: now.addingTimeInterval(Self.draftLifetime))
        let saved = try store.write { db -> Bool in
            guard try db.draftCount(client: client, since: now.addingTimeInterval(-3600)) < Self.draftsPerClientPerHour else {
                return false
            }
            try db.saveDraft(draft)
            return true
        }
        if !saved { log("request form from \(client) not kept: \(Self.draftsPerClientPerHour) kept in the last hour already") }
        return saved ? (Paths.draft(token), setCookie) : nil
    }

    /// 64 lowercase hex digits, as ``RandomSource/sessionID()`` makes them.
    static func isToken(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// GET /my/drafts/<token>/: the kept form, filled in, for its author to check and submit.
    func draftPage(_ request: RequestContext, token: String) throws -> HTTPResponse {
        let visitor = try visitor(request)
        guard case .signedIn(let person, _) = visitor else {
            return try signInRequired(request, visitor: visitor, returnTo: request.path)
        }
        let now = clock()
        let hash = Hashing.sha256(token)
        let found = try store.read { try $0.draft(tokenHash: hash, now: now) }
        guard let draft = found,
              let browser = SessionCookie.browser(baseURL: site.tenant.baseURL).value(in: request.cookies),
              Hashing.sha256(browser) == draft.browserHash else { return draftGone() }
        if draft.ownerEmail != person.email {
            // The first person to open it signed in makes it theirs; anyone else finds nothing.
            let owner = draft.ownerEmail == nil ? try store.write { try $0.claimDraft(tokenHash: hash, email: person.email) } : draft.ownerEmail
            guard owner == person.email else { return draftGone() }
        }
        guard let package = site.package(draft.packageID), let policy = package.policy(draft.policyID) else {
            return views.message(
                status: .notFound, title: "Request option not found",
                text: "The access package or request option of the form you filled in no longer exists.",
                link: (Paths.home, "See the access packages"))
        }
        let input = (try? JSONSerialization.jsonObject(with: Data(draft.fields.utf8))) as? [String: [String]] ?? [:]
        let language = site.tenant.languages.contains(draft.language) ? draft.language : site.tenant.defaultLanguage
        return try views.requestForm(
            package, policy: policy, language: language,
            state: RequestFormState(
                input: input, submissionToken: random.recordID(at: now), draftToken: token,
                notices: ["What you typed before signing in was kept: check it, then submit the request."]),
            signedInAs: person.displayName)
    }

    private func draftGone() -> HTTPResponse {
        views.message(
            status: .notFound, title: "Form no longer kept",
            text: "A request form is kept for an hour while you sign in, in the browser you filled it in, and only for you. This one is not (any more): open the access package and fill in its request form again.",
            link: (Paths.home, "See the access packages"))
    }
}
