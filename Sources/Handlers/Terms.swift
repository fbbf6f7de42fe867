internal import GatehouseModel
internal import Foundation
internal import GatehouseStore
internal import Portal
internal import Rendering

extension Actions {
    /// GET /sign-in/terms?return=…: the tenant's terms of use with an accept button.
    func termsPage(_ request: RequestContext) throws -> HTTPResponse {
        let returnTo = safeReturn(request.query[FormField.returnTo])
        switch try visitor(request) {
        case .needsTerms:
            let paragraphs = site.tenant.termsOfUse
                .components(separatedBy: "\n\n")
                .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
                .filter { !$0.isEmpty }
            return try views.page("terms", title: "Terms of use", [
                "paragraphs": paragraphs, "action": Paths.signInTerms, "signOut": Paths.signOut,
                "returnName": FormField.returnTo, "returnTo": returnTo,
            ])
        case .signedIn:
            return .redirect(to: SafeRedirect.returnTarget(returnTo))
        case let other:
            return try signInRequired(request, visitor: other, returnTo: returnTo.isEmpty ? Paths.home : returnTo)
        }
    }

    /// POST /sign-in/terms: records the acceptance (with an audit entry), then goes to `return`.
    func acceptTerms(_ request: RequestContext) throws -> HTTPResponse {
        let form = try form(request)
        let returnTo = safeReturn(form[FormField.returnTo])
        switch try visitor(request) {
        case .needsTerms(let person, _):
            let now = clock()
            let version = termsVersion
            try store.write { db in
                try db.recordTermsAccepted(email: person.email, version: version, at: now)
                try db.appendAudit(AuditEntry(
                    at: now, actor: person.email, subjectKind: "person", subjectID: person.email,
                    action: "termsAccepted", after: version))
            }
            return .redirect(to: SafeRedirect.returnTarget(returnTo))
        case .signedIn:
            return .redirect(to: SafeRedirect.returnTarget(returnTo))
        case let other:
            return try signInRequired(request, visitor: other, returnTo: returnTo.isEmpty ? Paths.home : returnTo)
        }
    }
}
