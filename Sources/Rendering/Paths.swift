/// Every URL of the portal and every path the handler answers, built in one place.
///
/// Page paths end with `/` and are served from `<path>index.html`; handler paths (form posts and
/// pages that depend on who is looking) have no file behind them and go to the FastCGI handler.
public enum Paths {
    /// The portal home: every listed access package, by catalog.
    public static let home = "/access-packages/"
    public static let signIn = "/sign-in/"
    public static let notFound = "/404.html"
    public static let assetsPrefix = "/assets/"
    public static let staticPrefix = "/static/"
    public static let stylesheet = asset("gatehouse.css")

    public static func package(_ id: String) -> String {
        home + segment(id) + "/"
    }

    /// The negotiated form: nginx picks the language variant from `Accept-Language`.
    public static func requestForm(package: String, policy: String) -> String {
        Self.package(package) + "request/" + segment(policy) + "/"
    }

    /// One explicit language variant of a request form.
    public static func requestForm(package: String, policy: String, language: String) -> String {
        requestForm(package: package, policy: policy) + segment(language) + "/"
    }

    /// The file, relative to the output folder, behind a request form: beside the package page,
    /// `request-<policy>.html` in the default language and `request-<policy>.<lang>.html` in each
    /// other one (nil `language`: the default). nginx maps both form URLs above onto these, so a
    /// package keeps one folder however many policies and languages it has.
    public static func requestFormFile(package: String, policy: String, language: String?) -> String {
        let folder = outputFile(for: Self.package(package)).dropLast("index.html".count)
        return folder + "request-" + policy + (language.map { "." + $0 } ?? "") + ".html"
    }

    public static func asset(_ name: String) -> String { assetsPrefix + encodePath(name) }

    /// A file of `site/static/`, by its path below that folder.
    public static func staticFile(_ path: String) -> String { staticPrefix + encodePath(path) }

    // MARK: Handler endpoints (implemented by `gatehouse serve`)

    /// POST: submit a request (fields: `FormField`).
    public static let submitRequest = "/requests"
    /// POST: email a one-time sign-in code.
    public static let signInCode = "/sign-in/code"
    /// POST: check the code and open a session.
    public static let signInVerify = "/sign-in/verify"
    /// GET: the terms of use an external person accepts at first sign-in; POST: accept them.
    public static let signInTerms = "/sign-in/terms"
    /// POST: close the session.
    public static let signOut = "/sign-out"
    /// GET, internal to nginx (`auth_request`): 204 with `X-Gatehouse-User` for a valid session, else 401.
    public static let auth = "/auth"
    public static let myRequests = "/my/requests/"
    /// GET: the signed-in person's own portal home ("For you"): only the packages they may request.
    public static let myHome = "/my/"
    /// GET: one of the signed-in person's requests.
    public static func myRequest(_ id: String) -> String { myRequests + segment(id) + "/" }
    /// A request form kept while its author signed in (see `FormDraft`).
    public static let drafts = "/my/drafts/"
    public static func draft(_ token: String) -> String { drafts + segment(token) + "/" }
    /// POST (field `reason`): cancel one of the signed-in person's pending requests.
    public static func cancelRequest(_ id: String) -> String { myRequest(id) + "cancel" }
    /// GET: the request form again, prefilled with the answers of an ended request.
    public static func requestAgain(_ id: String) -> String { myRequest(id) + "again/" }
    public static let myAccess = "/my/access/"
    /// GET: the extension page of one of the person's assignments (the new end shown before
    /// submitting); POST: ask for the extension.
    public static func extendAccess(_ assignmentID: String) -> String { myAccess + segment(assignmentID) + "/extend" }
    /// POST (field `reason`): the holder gives up one of their assignments ("I no longer need this").
    public static func removeAccess(_ assignmentID: String) -> String { myAccess + segment(assignmentID) + "/remove" }
    /// GET: the requests waiting for the signed-in person's decision ("Pending" tab).
    public static let approvals = "/approvals/"
    /// GET: the stages the signed-in person was asked to decide that no longer wait for them.
    public static let approvalHistory = approvals + "history/"
    /// GET: one request as its approvers see it, with approve and deny.
    public static func approval(_ requestID: String) -> String { approvals + segment(requestID) + "/" }
    /// POST (fields `decision`, `stage`, `justification`): approve or deny the current stage.
    public static func decide(_ requestID: String) -> String { approval(requestID) + "decide" }

    // MARK: Admin

    /// GET: the catalogs the signed-in person has an admin role in (every catalog for a tenant admin).
    public static let admin = "/admin/"
    /// GET: one catalog's packages with their assignments and pending requests, and the forms the person's roles allow.
    public static func adminCatalog(_ id: String) -> String { admin + "catalogs/" + segment(id) + "/" }
    /// GET (query `policy`): the direct assignment form of a package; POST: assign.
    public static func adminAssign(_ packageID: String) -> String { admin + "packages/" + segment(packageID) + "/assign" }
    /// POST (field `reason`): an admin ends an assignment.
    public static func adminRemove(_ assignmentID: String) -> String { admin + "assignments/" + segment(assignmentID) + "/remove" }
    /// POST: an admin delivers again an assignment that is not fully delivered.
    public static func adminReprocess(_ assignmentID: String) -> String { admin + "assignments/" + segment(assignmentID) + "/reprocess" }
    /// POST (field `reason`): an admin cancels a request that waits for a decision.
    public static func adminCancel(_ requestID: String) -> String { admin + "requests/" + segment(requestID) + "/cancel" }
    /// GET: the governed guests and whether and when they are blocked or removed (tenant admins).
    public static let adminGuests = admin + "guests/"
    /// GET: the assignments of a catalog's packages as CSV (anyone who may see the catalog).
    public static func adminCatalogAssignmentsCSV(_ id: String) -> String {
        admin + "reports/catalogs/" + segment(id) + "/assignments.csv"
    }
    /// GET (tenant admins): the whole audit log as CSV.
    public static let adminAuditCSV = admin + "reports/audit.csv"
    /// GET (tenant admins): the whole audit log as JSON Lines.
    public static let adminAuditJSONLines = admin + "reports/audit.jsonl"
    /// GET (tenant admins): connected organizations, declared and proposed, as CSV.
    public static let adminOrganizationsCSV = admin + "reports/organizations.csv"

    /// Every path the FastCGI handler owns, for the nginx configuration and its tests. A path here
    /// matches itself and everything below it.
    public static let handlerPaths: [String] = [
        submitRequest, signInCode, signInVerify, signOut, myRequests, myAccess, approvals,
    ]

    /// The sign-in page that brings the person back to `returnTo` afterwards
    /// (`/sign-in/?return=/my/requests/`); nginx hands it to the handler because of its query.
    public static func signIn(returnTo: String) -> String {
        signIn + "?" + FormField.returnTo + "=" + encodeQueryValue(returnTo)
    }

    /// A query value encoded for a link: what is not unreserved or `/` becomes `%XX`.
    public static func encodeQueryValue(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            if byte == UInt8(ascii: "/") || (isUnreserved(byte) && byte != UInt8(ascii: "+")
                && byte != UInt8(ascii: "=") && byte != UInt8(ascii: ";")) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%" + hex(byte >> 4) + hex(byte & 0xF)
            }
        }
        return out
    }

    /// `baseURL` (without a trailing slash) joined with an absolute path.
    public static func absolute(_ path: String, baseURL: String) -> String {
        var base = Substring(baseURL)
        while base.hasSuffix("/") { base = base.dropLast() }
        return String(base) + path
    }

    /// Percent-encodes one path segment: everything but RFC 3986 unreserved characters and a few
    /// harmless sub-delimiters, so that a model id can never add a segment or a query.
    public static func segment(_ text: String) -> String {
        if text == "." || text == ".." { return text.replacingDots() }
        // Ids and slugs need no escaping: every history row builds one such link.
        if text.utf8.allSatisfy(isUnreserved) { return text }
        var out = ""
        out.unicodeScalars.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if isUnreserved(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%" + hex(byte >> 4) + hex(byte & 0xF)
            }
        }
        return out
    }

    private static func encodePath(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { segment(String($0)) }.joined(separator: "/")
    }

    private static func isUnreserved(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"),
             UInt8(ascii: "@"), UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "("),
             UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","),
             UInt8(ascii: ";"), UInt8(ascii: "="):
            return true
        default:
            return false
        }
    }

    private static func hex(_ nibble: UInt8) -> String {
        String(UnicodeScalar(nibble < 10 ? nibble + 48 : nibble + 55))
    }
}

extension String {
    fileprivate func replacingDots() -> String {
        String(repeating: "%2E", count: count)
    }
}

/// Names of the form fields the pages post and the handler reads.
public enum FormField {
    public static let package = "package"
    public static let policy = "policy"
    /// The language of the form variant, so that answers to choices are shown back the same way.
    public static let language = "language"
    public static let justification = "justification"
    /// Requested start and end of a custom schedule (`YYYY-MM-DD`).
    public static let start = "start"
    public static let end = "end"
    /// Where to go after signing in (a path of this site; empty for the home page).
    public static let returnTo = "return"
    public static let email = "email"
    public static let code = "code"
    /// The name an external person gives at their first sign-in.
    public static let name = "name"
    /// The idempotency token of a handler-rendered request form (absent from the static form).
    public static let submission = "submission"
    /// The token of the kept form a handler-rendered request form was filled from (see `FormDraft`).
    public static let draft = "draft"
    /// Why the person cancels a request.
    public static let reason = "reason"
    /// An approver's answer: `approve` or `deny`.
    public static let decision = "decision"
    /// The approval stage the approver saw, so a decision never lands on a later stage by accident.
    public static let stage = "stage"
    /// Prefix of the fields holding answers: `answer.<questionId>`.
    public static let answerPrefix = "answer."

    public static func answer(_ questionID: String) -> String { answerPrefix + questionID }

    /// The longest business justification accepted.
    public static let justificationMaxLength = 4000
    /// The longest name a person may give.
    public static let nameMaxLength = 100
}

extension Paths {
    /// The file, relative to the output folder, that serves a page path: the path percent-decoded
    /// the way nginx decodes it, with `index.html` added to folder paths (`/access-packages/x/`
    /// -> `access-packages/x/index.html`).
    public static func outputFile(for path: String) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(path.utf8)
        if utf8.first == UInt8(ascii: "/") { utf8.removeFirst() }
        var i = 0
        while i < utf8.count {
            if utf8[i] == UInt8(ascii: "%"), i + 2 < utf8.count, let high = hexValue(utf8[i + 1]), let low = hexValue(utf8[i + 2]) {
                bytes.append(high << 4 | low)
                i += 3
            } else {
                bytes.append(utf8[i])
                i += 1
            }
        }
        let decoded = String(decoding: bytes, as: UTF8.self)
        return decoded.isEmpty || decoded.hasSuffix("/") ? decoded + "index.html" : decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - 48
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - 55
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - 87
        default: nil
        }
    }
}
