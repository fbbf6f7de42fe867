internal import GatehouseModel
internal import Foundation
internal import GatehouseStore
internal import Portal
internal import Rendering

extension Actions {
    /// GET /sign-in/terms?return=…: the tenant's terms of use, the person's name (the approvers
    /// see it instead of an email address) and an accept button.
    func termsPage(_ request: RequestContext) throws -> HTTPResponse {
        let returnTo = safeReturn(request.query[FormField.returnTo])
        switch try visitor(request) {
        case .needsTerms(let person, _):
            // The stored name, unless it is only the email address it started as.
            let name = person.displayName == person.email ? "" : person.displayName
            return try termsForm(name: name, error: nil, returnTo: returnTo, status: .ok)
        case .signedIn:
            return .redirect(to: SafeRedirect.returnTarget(returnTo))
        case let other:
            return try signInRequired(request, visitor: other, returnTo: returnTo.isEmpty ? Paths.home : returnTo)
        }
    }

    /// POST /sign-in/terms: records the acceptance and the name (each with an audit entry), then
    /// goes to `return`. A missing or unusable name shows the form again with what was typed.
    func acceptTerms(_ request: RequestContext) throws -> HTTPResponse {
        let form = try form(request)
        let returnTo = safeReturn(form[FormField.returnTo])
        switch try visitor(request) {
        case .needsTerms(let person, _):
            let typed = form[FormField.name] ?? ""
            let name: String
            switch Self.checkedName(typed) {
            case .failure(let problem):
                return try termsForm(name: typed, error: problem.message, returnTo: returnTo, status: .unprocessableContent)
            case .success(let checked):
                name = checked
            }
            let now = clock()
            let version = termsVersion
            try store.write { db in
                try db.recordTermsAccepted(email: person.email, version: version, displayName: name, at: now)
                try db.appendAudit(AuditEntry(
                    at: now, actor: person.email, subjectKind: "person", subjectID: person.email,
                    action: "termsAccepted", after: version))
                if name != person.displayName {
                    try db.appendAudit(AuditEntry(
                        at: now, actor: person.email, subjectKind: "person", subjectID: person.email,
                        action: "nameChanged", before: person.displayName, after: name))
                }
            }
            return .redirect(to: SafeRedirect.returnTarget(returnTo))
        case .signedIn:
            return .redirect(to: SafeRedirect.returnTarget(returnTo))
        case let other:
            return try signInRequired(request, visitor: other, returnTo: returnTo.isEmpty ? Paths.home : returnTo)
        }
    }

    /// Why a typed name cannot be used, in words for the field.
    struct NameProblem: Error, Equatable {
        let message: String
    }

    /// The name to store: `typed` without surrounding spaces and with inner runs of spaces made
    /// one, or what is wrong with it.
    static func checkedName(_ typed: String) -> Result<String, NameProblem> {
        if typed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0 == "\u{2028}" || $0 == "\u{2029}" }) {
            return .failure(NameProblem(message: "Your name cannot contain line breaks or tabs: type it on one line."))
        }
        let name = typed.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        if name.isEmpty {
            return .failure(NameProblem(message: "Enter your name, as the people who approve your requests should see it."))
        }
        if name.count > FormField.nameMaxLength {
            return .failure(NameProblem(message: "Your name is \(name.count) characters long; shorten it to \(FormField.nameMaxLength) or fewer."))
        }
        return .success(name)
    }

    private func termsForm(name: String, error: String?, returnTo: String, status: HTTPStatus) throws -> HTTPResponse {
        return try views.page("terms", title: "Terms of use", [
            "termsHTML": terms.html, "action": Paths.signInTerms, "signOut": Paths.signOut,
            "returnName": FormField.returnTo, "returnTo": returnTo,
            "nameName": FormField.name, "name": name, "nameMaxLength": FormField.nameMaxLength,
            "error": error ?? false,
        ], status: status)
    }
}
