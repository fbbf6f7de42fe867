internal import Foundation
internal import GatehouseMarkdown
internal import GatehouseModel
internal import Portal
internal import Rendering

/// The handler's pages, rendered with the generator's templates and layout.
struct Views: Sendable {
    /// Templates the handler renders besides the generator's own.
    static let templateNames = [
        "sign-in-email", "sign-in-code", "terms", "my-requests", "message", "my-request", "my-access", "my-home", "approvals", "approval", "extend-access",
        "admin-home", "admin-catalog", "admin-assign", "admin-guests",
    ]

    let site: Site
    let templates: TemplateLibrary
    let stylesheetURL: String
    /// The generator's renderer, for the request form the handler shows again.
    let renderer: PortalRenderer
    private let ui: [String: String]
    /// What the layout shows on every handler page, made once as fast template values.
    private let chrome: Chrome
    /// The layout's links, for the navigation of a signed-in person.
    private let navLinks: [String: String]
    /// Each package's one-line summary (its description's first paragraph as plain text), as
    /// the generated portal home lists it; made once.
    let packageSummaries: [String: String]

    /// Immutable template values (strings and rows of strings), so safe to share between threads.
    private struct Chrome: @unchecked Sendable {
        let values: [String: Any]
    }

    init(site: Site, theme: Theme) throws {
        for name in Self.templateNames where theme.templates[name] == nil {
            throw TemplateError.missingTemplate(name: name, referencedBy: nil)
        }
        self.site = site
        packageSummaries = Dictionary(site.packages.map { ($0.id, Markdown.summary($0.description)) }) { first, _ in first }
        renderer = try PortalRenderer(site: site, theme: theme)
        stylesheetURL = renderer.stylesheetURL
        templates = try TemplateLibrary(theme)
        let strings = UIStrings(language: "en")
        var ui: [String: String] = [:]
        for key in [
            "skipToContent", "navLabel", "navHome", "navMyRequests", "navMyAccess", "navApprovals", "navSignIn", "navSignOut",
            "navSignedInAs",
        ] {
            ui[key] = strings[key]
        }
        self.ui = ui
        navLinks = [
            "home": Paths.home, "forYou": Paths.myHome, "myRequests": Paths.myRequests, "myAccess": Paths.myAccess,
            "approvals": Paths.approvals, "signIn": Paths.signIn, "signOut": Paths.signOut,
        ]
        chrome = Chrome(values: TemplateValues.fast([
            "lang": "en", "tenantName": site.tenant.name, "stylesheet": stylesheetURL, "ui": ui, "nav": navLinks,
        ]))
    }

    /// A page of template `name` inside the layout, as `no-store` HTML. With `signedInAs` (the
    /// person's name) the navigation names them and offers to sign out instead of to sign in.
    func page(
        _ name: String, title: String, _ context: [String: Any], status: HTTPStatus = .ok, signedInAs: String? = nil
    ) throws -> HTTPResponse {
        var full = TemplateValues.fast(context)
        full.merge(chrome.values) { _, layout in layout }
        full["title"] = TemplateValues.text(title)
        if let signedInAs {
            var nav = navLinks
            nav["person"] = signedInAs
            full["nav"] = TemplateValues.row(nav)
        }
        return .html(try templates.render(name, full), status: status)
    }

    /// The generator's request form with the person's input, messages and a fresh idempotency token.
    func requestForm(
        _ package: AccessPackage, policy: Policy, language: String, state: RequestFormState, status: HTTPStatus = .ok,
        signedInAs: String
    ) throws -> HTTPResponse {
        var state = state
        state.signedInAs = signedInAs
        return .html(try renderer.requestForm(package, policy: policy, language: language, state: state), status: status)
    }

    /// A short page with a heading and one paragraph; plain text if even that cannot be rendered.
    func message(status: HTTPStatus, title: String, text: String, link: (url: String, label: String)? = nil) -> HTTPResponse {
        var context: [String: Any] = ["heading": title, "text": text, "link": false]
        if let link { context["link"] = ["url": link.url, "label": link.label] }
        return (try? page("message", title: title, context, status: status)) ?? .error(status, text)
    }

    /// The sign-in page asking for an email: `message` above the form, `error` beside the field.
    func signInEmail(
        email: String = "", returnTo: String, message: String? = nil, error: String? = nil, status: HTTPStatus = .ok
    ) throws -> HTTPResponse {
        try page("sign-in-email", title: "Sign in", [
            "action": Paths.signInCode, "emailName": FormField.email, "email": email,
            "returnName": FormField.returnTo, "returnTo": returnTo,
            "message": message ?? false, "error": error ?? false,
        ], status: status)
    }

    /// The "enter your code" page; `newCode` offers a button asking for another code instead.
    func signInCode(
        email: String, returnTo: String, message: String? = nil, error: String? = nil, newCode: Bool = false,
        status: HTTPStatus = .ok
    ) throws -> HTTPResponse {
        try page("sign-in-code", title: "Enter your code", [
            "action": Paths.signInVerify, "newCodeAction": Paths.signInCode,
            "emailName": FormField.email, "email": email, "codeName": FormField.code,
            "returnName": FormField.returnTo, "returnTo": returnTo,
            "message": message ?? false, "error": error ?? false, "newCode": newCode,
        ], status: status)
    }
}
