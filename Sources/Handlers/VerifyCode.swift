internal import Foundation
internal import GatehouseModel
internal import GatehouseStore
internal import Portal
internal import Rendering

extension Actions {
    private enum VerifyOutcome {
        case signedIn(PersonRecord, sessionID: String)
        case refused(CodeCheck)
        case blocked(reason: String)
    }

    /// POST /sign-in/verify: checks the code; on success opens a session and goes back to `return`
    /// (or to the terms of use first, for an external person who has not accepted them).
    func verifyCode(_ request: RequestContext) throws -> HTTPResponse {
        let form = try form(request)
        let returnTo = safeReturn(form[FormField.returnTo])
        let typed = (form[FormField.email] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if let problem = Self.emailProblem(typed) {
            return try views.signInEmail(email: typed, returnTo: returnTo, error: problem, status: .unprocessableContent)
        }
        let email = typed.lowercased()
        let code = (form[FormField.code] ?? "").filter { !$0.isWhitespace }
        guard code.count == 6, code.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            return try views.signInCode(
                email: email, returnTo: returnTo, error: "Enter the 6-digit code from the email.",
                status: .unprocessableContent)
        }
        let now = clock()
        let sessionID = random.sessionID()
        let outcome = try store.write { db -> VerifyOutcome in
            if let person = try db.person(email: email), let reason = person.blockedReason {
                return .blocked(reason: reason)
            }
            let check = try db.verifySignInCode(
                email: email, codeHash: Hashing.code(code, email: email), now: now,
                maxWrongAttempts: settings.maxWrongCodeAttempts)
            guard check == .accepted else { return .refused(check) }
            let person = try db.upsertPersonOnSignIn(
                email: email, displayName: site.directory.person(email)?.name,
                isExternal: !site.tenant.isInternal(email: email), at: now)
            try db.createSession(
                idHash: Hashing.sha256(sessionID), email: email, at: now,
                expiresAt: now.addingTimeInterval(settings.sessionLifetime))
            try db.appendAudit(AuditEntry(
                at: now, actor: email, subjectKind: "person", subjectID: email, action: "signedIn",
                reason: "one-time code from \(request.remoteAddress ?? "unknown")"))
            return .signedIn(person, sessionID: sessionID)
        }
        switch outcome {
        case .signedIn(let person, let id):
            let target = needsTerms(person)
                ? SafeRedirect(Paths.signInTerms + "?" + FormField.returnTo + "=" + Paths.encodeQueryValue(returnTo)) ?? .home
                : SafeRedirect.returnTarget(returnTo)
            var response = HTTPResponse.redirect(to: target)
            response.addHeader("Set-Cookie", try cookie.setCookie(value: id, maxAge: Int(settings.sessionLifetime)))
            return response
        case .blocked(let reason):
            let why = reason.isEmpty ? "" : " Reason: \(reason)."
            return views.message(
                status: .forbidden, title: "Access blocked",
                text: "Your access to this portal is blocked, so you cannot sign in.\(why) If you think this is a mistake, contact the portal's administrators.")
        case .refused(let check):
            return try refusedCode(check, email: email, returnTo: returnTo)
        }
    }

    private func refusedCode(_ check: CodeCheck, email: String, returnTo: String) throws -> HTTPResponse {
        switch check {
        case .wrong(let left) where left > 0:
            return try views.signInCode(
                email: email, returnTo: returnTo,
                error: "That code is not right. You can try \(left == 1 ? "1 more time" : "\(left) more times").",
                status: .unprocessableContent)
        case .wrong, .tooManyAttempts:
            return try views.signInCode(
                email: email, returnTo: returnTo,
                message: "That code was entered wrongly too many times and no longer works. Ask for a new code.",
                newCode: true, status: .unprocessableContent)
        case .expired:
            return try views.signInCode(
                email: email, returnTo: returnTo,
                message: "That code has expired: codes are valid for \(minutes(settings.codeLifetime)). Ask for a new code.",
                newCode: true, status: .unprocessableContent)
        case .noCode, .accepted:
            return try views.signInCode(
                email: email, returnTo: returnTo,
                message: "There is no code waiting for \(email) (it may have been used already). Ask for a new code.",
                newCode: true, status: .unprocessableContent)
        }
    }
}
