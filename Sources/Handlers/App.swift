public import Foundation
public import GatehouseModel
public import GatehouseStore
public import Portal
public import Rendering
internal import Governance
internal import Workflow

/// The portal's dynamic side: a request in, a response out, with every dependency given here.
///
/// Composed once per process and shared by every worker thread; it holds no mutable state (the
/// store serializes writes). Every POST passes `OriginCheck` before any route runs, and no error
/// becomes a stack trace: the client gets a short page, `log` gets the detail.
public struct App: Sendable {
    /// Timeouts and limits of sign-in and sessions.
    public struct Settings: Sendable, Hashable {
        /// A session unused this long is over.
        public var sessionIdleTimeout: TimeInterval
        /// A session is over this long after sign-in, however active.
        public var sessionLifetime: TimeInterval
        /// How long an emailed code can be used.
        public var codeLifetime: TimeInterval
        /// Wrong attempts allowed on one code before a new one is needed.
        public var maxWrongCodeAttempts: Int
        /// Codes one address may request per `rateLimitWindow`.
        public var codesPerAddress: Int
        /// Codes one client (IP address) may request per `rateLimitWindow`.
        public var codesPerClient: Int
        /// The sliding window both code-request limits count over.
        public var rateLimitWindow: TimeInterval
        /// The FastCGI parameter nginx fills after single sign-on; nil ignores identity headers.
        public var singleSignOnParam: String?
        /// The largest form body read, in bytes (nginx refuses larger ones first).
        public var maxBodyBytes: Int

        public init(
            sessionIdleTimeout: TimeInterval = 8 * 3600, sessionLifetime: TimeInterval = 7 * 86400,
            codeLifetime: TimeInterval = 600, maxWrongCodeAttempts: Int = 5, codesPerAddress: Int = 5,
            codesPerClient: Int = 20, rateLimitWindow: TimeInterval = 900, singleSignOnParam: String? = nil,
            maxBodyBytes: Int = 65_536
        ) {
            self.sessionIdleTimeout = sessionIdleTimeout
            self.sessionLifetime = sessionLifetime
            self.codeLifetime = codeLifetime
            self.maxWrongCodeAttempts = maxWrongCodeAttempts
            self.codesPerAddress = codesPerAddress
            self.codesPerClient = codesPerClient
            self.rateLimitWindow = rateLimitWindow
            self.singleSignOnParam = singleSignOnParam
            self.maxBodyBytes = maxBodyBytes
        }

        /// 8 h idle, 7 days absolute, codes valid 10 min with 5 tries, 5 codes per address and 20 per client per 15 min.
        public static let standard = Settings()
    }

    /// The model the pages are built from (its tenant decides internal vs external and the base URL).
    public let site: Site
    /// Sessions, codes, people, outbox and audit.
    public let store: Store
    /// The limits in force.
    public let settings: Settings
    let actions: Actions
    private let router: Router

    /// Builds the app; throws when the theme lacks a template the handler renders or the base URL is not http(s).
    public init(
        site: Site, store: Store, theme: Theme, settings: Settings = .standard,
        clock: @escaping @Sendable () -> Date = { Date() }, random: RandomSource = .system,
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) throws {
        self.site = site
        self.store = store
        self.settings = settings
        let views = try Views(site: site, theme: theme)
        let calendar = try TenantCalendar(timeZoneIdentifier: site.tenant.timeZone)
        let actions = Actions(
            site: site, store: store, settings: settings, views: views, clock: clock, random: random, log: log,
            originCheck: try OriginCheck(baseURL: site.tenant.baseURL), cookie: SessionCookie(baseURL: site.tenant.baseURL),
            approvals: Approvals(site: site, calendar: calendar, newID: { random.recordID(at: clock()) }),
            terms: TermsStamp(site.tenant.termsOfUse), calendar: calendar)
        self.actions = actions
        var router = Router(
            notFound: { _ in views.message(status: .notFound, title: "Page not found", text: "There is no page at this address.") },
            methodNotAllowed: { request, _ in
                views.message(status: .methodNotAllowed, title: "Not allowed", text: "This address does not accept \(request.method).")
            })
        let a = actions
        router.get(Paths.signIn) { request, _ in a.guarded(request) { try a.signInPage(request) } }
        router.post(Paths.signInCode) { request, _ in a.guarded(request) { try a.requestCode(request) } }
        router.post(Paths.signInVerify) { request, _ in a.guarded(request) { try a.verifyCode(request) } }
        router.get(Paths.signInTerms) { request, _ in a.guarded(request) { try a.termsPage(request) } }
        router.post(Paths.signInTerms) { request, _ in a.guarded(request) { try a.acceptTerms(request) } }
        router.post(Paths.signOut) { request, _ in a.guarded(request) { try a.signOut(request) } }
        router.get(Paths.auth) { request, _ in a.guarded(request) { try a.auth(request) } }
        router.get(Paths.myRequests) { request, _ in a.guarded(request) { try a.myRequests(request) } }
        router.post(Paths.submitRequest) { request, _ in a.guarded(request) { try a.submitRequest(request) } }
        router.get(Paths.myHome) { request, _ in a.guarded(request) { try a.myHome(request) } }
        router.get(Paths.myAccess) { request, _ in a.guarded(request) { try a.myAccess(request) } }
        router.get(Paths.myRequests + ":id/") { request, p in a.guarded(request) { try a.requestPage(request, id: p["id"] ?? "") } }
        router.get(Paths.drafts + ":token/") { request, p in a.guarded(request) { try a.draftPage(request, token: p["token"] ?? "") } }
        router.post(Paths.myRequests + ":id/cancel") { request, p in
            a.guarded(request) { try a.cancelRequest(request, id: p["id"] ?? "") }
        }
        router.get(Paths.myRequests + ":id/again/") { request, p in
            a.guarded(request) { try a.requestAgain(request, id: p["id"] ?? "") }
        }
        router.get(Paths.myAccess + ":id/extend") { request, p in a.guarded(request) { try a.extendPage(request, id: p["id"] ?? "") } }
        router.post(Paths.myAccess + ":id/extend") { request, p in a.guarded(request) { try a.extendAccess(request, id: p["id"] ?? "") } }
        router.post(Paths.myAccess + ":id/remove") { request, p in a.guarded(request) { try a.removeAccess(request, id: p["id"] ?? "") } }
        router.get(Paths.approvals) { request, _ in a.guarded(request) { try a.approvalsPage(request, history: false) } }
        router.get(Paths.approvalHistory) { request, _ in a.guarded(request) { try a.approvalsPage(request, history: true) } }
        router.get(Paths.approvals + ":id/") { request, p in a.guarded(request) { try a.approvalPage(request, id: p["id"] ?? "") } }
        router.post(Paths.approvals + ":id/decide") { request, p in
            a.guarded(request) { try a.decide(request, id: p["id"] ?? "") }
        }
        // Admin pages (AdminPages.swift): each re-checks the person's catalog role itself.
        router.get(Paths.admin) { request, _ in a.guarded(request) { try a.adminHome(request) } }
        router.get(Paths.adminGuests) { request, _ in a.guarded(request) { try a.adminGuests(request) } }
        router.get(Paths.admin + "catalogs/:id/") { request, p in a.guarded(request) { try a.adminCatalog(request, id: p["id"] ?? "") } }
        router.get(Paths.admin + "packages/:id/assign") { request, p in a.guarded(request) { try a.adminAssignPage(request, packageID: p["id"] ?? "") } }
        router.post(Paths.admin + "packages/:id/assign") { request, p in a.guarded(request) { try a.adminAssign(request, packageID: p["id"] ?? "") } }
        router.post(Paths.admin + "assignments/:id/remove") { request, p in a.guarded(request) { try a.adminRemove(request, id: p["id"] ?? "") } }
        router.post(Paths.admin + "assignments/:id/reprocess") { request, p in a.guarded(request) { try a.adminReprocess(request, id: p["id"] ?? "") } }
        router.post(Paths.admin + "requests/:id/cancel") { request, p in a.guarded(request) { try a.adminCancel(request, id: p["id"] ?? "") } }
        router.get(Paths.admin + "reports/catalogs/:id/assignments.csv") { request, p in
            a.guarded(request) { try a.adminReport(request, .catalogAssignments(p["id"] ?? "")) }
        }
        router.get(Paths.adminAuditCSV) { request, _ in a.guarded(request) { try a.adminReport(request, .auditCSV) } }
        router.get(Paths.adminAuditJSONLines) { request, _ in a.guarded(request) { try a.adminReport(request, .auditJSONLines) } }
        router.get(Paths.adminOrganizationsCSV) { request, _ in a.guarded(request) { try a.adminReport(request, .organizations) } }
        self.router = router
    }

    /// Answers one request: the origin check for state-changing methods, then the route table.
    public func respond(to request: RequestContext) -> HTTPResponse {
        if case .failure(let refusal) = actions.originCheck.check(request) {
            actions.log("\(request.method) \(request.path): \(refusal)")
            return actions.views.message(status: .forbidden, title: "Form refused", text: refusal.publicMessage)
        }
        return router.respond(to: request)
    }

    /// Answers a request straight from its FastCGI parameters; an unreadable one gets a 400 page.
    /// The FastCGI parameter nginx's `@gatehouse_sign_in_first` sets to the page an `auth_request`
    /// refused (`$request_uri`). Only nginx sets parameters without the `HTTP_` prefix.
    public static let signInFirstParam = "GATEHOUSE_SIGN_IN_FIRST"

    /// To the sign-in page, coming back to `page` afterwards: the page is percent-encoded into the
    /// query, which nginx cannot do, so that its own query (`?a=1&b=2`) comes back whole. Whatever
    /// the page is, the sign-in page only keeps a same-site path.
    static func signInFirst(_ page: String) -> HTTPResponse {
        .redirect(to: SafeRedirect(Paths.signIn(returnTo: page)) ?? .home)
    }

    public func respond(params: [String: String], body: [UInt8]) -> HTTPResponse {
        if let page = params[Self.signInFirstParam] { return Self.signInFirst(page) }
        do throws(RequestError) {
            let request = try RequestContext(params: params, body: body, singleSignOnParam: settings.singleSignOnParam)
            return respond(to: request)
        } catch {
            actions.log("bad request: \(error)")
            return actions.views.message(status: error.status, title: "Bad request", text: error.publicMessage)
        }
    }
}
