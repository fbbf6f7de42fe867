internal import Foundation
internal import GatehouseMail
internal import GatehouseModel
internal import GatehouseStore
internal import Portal
internal import Rendering

extension Actions {
    private enum CodeOutcome {
        case sent
        case blocked(reason: String)
        case limitedAddress
        case limitedClient
    }

    /// POST /sign-in/code: emails a fresh one-time code and asks for it.
    ///
    /// The code is stored hashed; its mail and audit entry are written in the same transaction.
    /// The answer is the same whether or not the address ever signed in.
    func requestCode(_ request: RequestContext) throws -> HTTPResponse {
        let form = try form(request)
        let returnTo = safeReturn(form[FormField.returnTo])
        let typed = (form[FormField.email] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if let problem = Self.emailProblem(typed) {
            return try views.signInEmail(email: typed, returnTo: returnTo, error: problem, status: .unprocessableContent)
        }
        let email = typed.lowercased()
        let now = clock()
        let since = now.addingTimeInterval(-settings.rateLimitWindow)
        let client = request.remoteAddress ?? "unknown"
        let code = random.signInCode()
        let outcome = try store.write { db -> CodeOutcome in
            if let person = try db.person(email: email), let reason = person.blockedReason {
                return .blocked(reason: reason)
            }
            if try db.codeRequestCount(email: email, since: since) >= settings.codesPerAddress { return .limitedAddress }
            if try db.codeRequestCount(clientAddress: client, since: since) >= settings.codesPerClient { return .limitedClient }
            try db.recordCodeRequest(email: email, clientAddress: client, at: now)
            try db.createSignInCode(
                email: email, codeHash: Hashing.code(code, email: email), clientAddress: client, at: now,
                expiresAt: now.addingTimeInterval(settings.codeLifetime))
            try db.enqueueMail(codeMail(to: email, code: code), at: now)
            try db.appendAudit(AuditEntry(
                at: now, actor: email, subjectKind: "person", subjectID: email, action: "signInCodeSent",
                reason: "from \(client)"))
            return .sent
        }
        switch outcome {
        case .sent:
            return try views.signInCode(
                email: email, returnTo: returnTo,
                message: "We sent a 6-digit code to \(email). It is valid for \(minutes(settings.codeLifetime)). Check your inbox (and your spam folder).")
        case .blocked(let reason):
            log("sign-in code refused for \(email): blocked")
            let why = reason.isEmpty ? "" : " Reason: \(reason)."
            return views.message(
                status: .forbidden, title: "Access blocked",
                text: "Your access to this portal is blocked, so no code was sent.\(why) If you think this is a mistake, contact the portal's administrators.")
        case .limitedAddress, .limitedClient:
            let who = if case .limitedAddress = outcome { "this address" } else { "your network address" }
            log("sign-in code refused for \(email) from \(client): rate limit for \(who)")
            var response = views.message(
                status: .tooManyRequests, title: "Too many codes",
                text: "Too many sign-in codes were asked for \(who) recently. Try again in \(minutes(settings.rateLimitWindow)); the codes already sent still work until they expire.")
            response.setHeader("Retry-After", String(Int(settings.rateLimitWindow)))
            return response
        }
    }

    /// The code mail: subject, the code, how long it lasts, and the portal's address.
    func codeMail(to email: String, code: String) -> OutgoingMail {
        let tenant = site.tenant.name
        let body = """
            Your sign-in code for \(tenant) is:

                \(code)

            It is valid for \(minutes(settings.codeLifetime)). Type it on the page where you asked for it.

            If you did not ask to sign in, ignore this email: nobody can sign in without the code.

            \(Paths.absolute(Paths.home, baseURL: site.tenant.baseURL))
            """
        return OutgoingMail(recipient: email, subject: "Your sign-in code for \(tenant)", body: body, kind: OutgoingMail.signInCodeKind)
    }

    func minutes(_ interval: TimeInterval) -> String {
        let count = Int((interval / 60).rounded(.up))
        return count == 1 ? "1 minute" : "\(count) minutes"
    }

    /// Why `text` cannot receive a code, worded for the person; nil when it can.
    static func emailProblem(_ text: String) -> String? {
        if text.isEmpty { return "Enter your email address, for example name@example.com." }
        do {
            _ = try MailAddress(text)
            return nil
        } catch {
            if case .invalidAddress(_, let reason) = error {
                return "“\(text)” is not an email address we can send a code to: \(reason)."
            }
            return "“\(text)” is not an email address we can send a code to."
        }
    }
}
