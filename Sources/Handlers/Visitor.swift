internal import Crypto
internal import Foundation
internal import GatehouseMarkdown
internal import GatehouseModel
internal import GatehouseStore
internal import Portal
internal import Rendering

/// Who is asking, as far as the session cookie (or single sign-on) tells.
enum Visitor {
    /// A valid session (touched); `sessionHash` is nil for a single sign-on identity.
    case signedIn(PersonRecord, sessionHash: String?)
    /// Signed in, but an external person who has not accepted the current terms of use yet.
    case needsTerms(PersonRecord, sessionHash: String)
    /// A session cookie came, but its session is over: the page says so.
    case sessionOver(SessionLookup)
    /// No session cookie.
    case anonymous
}

/// The tenant's terms of use, as the sign-in checks need them.
struct TermsStamp: Sendable {
    /// A hash of the text: a new text asks external people to accept again.
    let version: String
    /// Whether there is any text to accept.
    let hasText: Bool
    /// The text (Markdown, as the model says) as HTML, rendered once in cmark's safe mode.
    let html: String

    init(_ text: String) {
        version = ContentHash.hex(ContentHash.fnv1a64(Array(text.utf8)), digits: 16)
        hasText = !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        html = Markdown.html(text)
    }
}

/// SHA-256 in lowercase hex: how session ids and codes are stored, so a copy of the database opens nothing.
enum Hashing {
    static func sha256(_ text: String) -> String {
        hex(SHA256.hash(data: Data(text.utf8)))
    }

    /// Lowercase hex of `bytes` (`String(format: "%02x")` per byte cost microseconds each).
    static func hex<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A code is hashed with its address, so equal codes of two people do not share a hash.
    static func code(_ code: String, email: String) -> String {
        sha256(email.lowercased() + ":" + code)
    }
}

extension Actions {
    /// The version stamp of the tenant's terms of use; a new text asks external people again.
    var termsVersion: String { terms.version }

    var hasTerms: Bool { terms.hasText }

    func needsTerms(_ person: PersonRecord) -> Bool {
        person.isExternal && hasTerms && person.termsVersion != termsVersion
    }

    /// Resolves the visitor at the clock's now, restarting the idle timeout of a valid session.
    func visitor(_ request: RequestContext) throws -> Visitor {
        try visitor(request) { _, _ in () }.visitor
    }

    /// Resolves the visitor like ``visitor(_:)`` and, for a signed-in person, runs `read` in the same
    /// read transaction, so that a page that reads the store anyway needs no second one.
    func visitor<T>(_ request: RequestContext, thenRead read: (StoreReader, PersonRecord) throws -> T) throws
        -> (visitor: Visitor, read: T?)
    {
        let (visitor, touch, value) = try visitorLeavingTouch(request, thenRead: read)
        if let touch { try store.write { db in try db.touchSession(idHash: touch.idHash, at: touch.at) } }
        return (visitor, value)
    }

    /// A session whose activity is due to be recorded, at the instant the visitor was resolved.
    struct SessionTouch {
        var idHash: String
        var at: Date
    }

    /// Resolves the visitor like ``visitor(_:)`` but leaves the activity record (`touch`, when one is
    /// due) to the caller, so that an action that writes anyway saves a transaction and its fsync.
    func visitorLeavingTouch(_ request: RequestContext) throws -> (visitor: Visitor, touch: SessionTouch?) {
        let (visitor, touch, _) = try visitorLeavingTouch(request) { _, _ in () }
        return (visitor, touch)
    }

    /// ``visitorLeavingTouch(_:)`` that, for a signed-in person, also runs `read` in the session's
    /// read transaction (as ``visitor(_:thenRead:)`` does).
    func visitorLeavingTouch<T>(
        _ request: RequestContext, thenRead read: (StoreReader, PersonRecord) throws -> T
    ) throws -> (visitor: Visitor, touch: SessionTouch?, read: T?) {
        let now = clock()
        if let email = request.singleSignOnUser, site.tenant.isInternal(email: email) {
            let person = try store.write { db in
                try db.person(email: email)
                    ?? db.upsertPersonOnSignIn(email: email, displayName: site.directory.person(email)?.name, isExternal: false, at: now)
            }
            if person.isBlocked { return (.sessionOver(.ended), nil, nil) }
            return (.signedIn(person, sessionHash: nil), nil, try store.read { db in try read(db, person) })
        }
        guard let id = cookie.value(in: request.cookies), !id.isEmpty else { return (.anonymous, nil, nil) }
        let hash = Hashing.sha256(id)
        // A read transaction: most requests change nothing, and a write (with its fsync) for
        // every page would serialize the whole portal behind the database's single writer.
        let found = try store.read { db -> (lookup: SessionLookup, person: PersonRecord?, read: T?) in
            let lookup = try db.session(idHash: hash, now: now, idleTimeout: settings.sessionIdleTimeout)
            guard case .valid(let session) = lookup, let person = try db.person(email: session.email) else {
                return (lookup, nil, nil)
            }
            let signedIn = !person.isBlocked && !needsTerms(person)
            return (lookup, person, signedIn ? try read(db, person) : nil)
        }
        guard case .valid(let session) = found.lookup else { return (.sessionOver(found.lookup), nil, nil) }
        guard let person = found.person, !person.isBlocked else {
            try store.write { db in try db.endSession(idHash: hash, at: now) }
            return (.sessionOver(.ended), nil, nil)
        }
        // The idle timeout restarts with activity, recorded at most every five minutes.
        let touch = now.timeIntervalSince(session.lastSeenAt) >= Self.touchInterval
            ? SessionTouch(idHash: hash, at: now) : nil
        if needsTerms(person) { return (.needsTerms(person, sessionHash: hash), touch, nil) }
        return (.signedIn(person, sessionHash: hash), touch, found.read)
    }

    /// How stale a session's last activity may be before a request records it again.
    ///
    /// Five minutes: the recorded activity lags the real one by less than that, so an idle session
    /// ends at most five minutes before eight idle hours have passed, never after. A touch writes a
    /// random page of the session table; once a minute it was one page in eight of a submission's.
    static let touchInterval: TimeInterval = 300

    /// What a page that needs a signed-in person answers to anyone else: the sign-in page (with
    /// "your session ended" when a session ran out), or the terms page for a new external person.
    func signInRequired(_ request: RequestContext, visitor: Visitor, returnTo: String) throws -> HTTPResponse {
        switch visitor {
        case .signedIn:
            preconditionFailure("signInRequired called for a signed-in visitor")
        case .needsTerms:
            return .redirect(to: SafeRedirect(Paths.signInTerms + "?" + FormField.returnTo + "=" + Paths.encodeQueryValue(returnTo)) ?? .home)
        case .anonymous:
            return .redirect(to: SafeRedirect(Paths.signIn(returnTo: returnTo)) ?? .home)
        case .sessionOver:
            var response = try views.signInEmail(
                returnTo: returnTo, message: "Your session ended; sign in again to continue.")
            response.addHeader("Set-Cookie", cookie.deletion)
            return response
        }
    }

    /// The path to come back to after signing in from this request: the page itself for a GET,
    /// the same-site page the form was on for a POST, else the home page.
    func returnPath(for request: RequestContext) -> String {
        if request.method == .get || request.method == .head { return request.path }
        if let referer = request.referer, let origin = WebOrigin(url: referer), origin == originCheck.siteOrigin,
           let start = referer.range(of: "://").flatMap({ referer[$0.upperBound...].firstIndex(of: "/") }) {
            return SafeRedirect.returnTarget(String(referer[start...])).path
        }
        return Paths.home
    }
}
