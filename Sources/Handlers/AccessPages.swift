internal import Foundation
internal import GatehouseModel
internal import GatehouseStore
internal import Governance
internal import Portal
internal import Rendering
internal import Workflow

extension Actions {
    /// GET /my/access/<id>/extend: the assignment's current end and the end an extension approved
    /// today would give, before anything is submitted; or why it cannot be extended.
    func extendPage(_ request: RequestContext, id: String) throws -> HTTPResponse {
        let visitor = try visitor(request)
        guard case .signedIn(let person, _) = visitor else {
            return try signInRequired(request, visitor: visitor, returnTo: request.path)
        }
        return try renderExtend(id: id, person: person, justification: "", justificationError: nil, status: .ok)
    }

    /// POST /my/access/<id>/extend: extends at once, or sends an extend request to the approvers.
    func extendAccess(_ request: RequestContext, id: String) throws -> HTTPResponse {
        let form = try form(request)
        let visitor = try visitor(request)
        guard case .signedIn(let person, _) = visitor else {
            return try signInRequired(request, visitor: visitor, returnTo: Paths.extendAccess(id))
        }
        let typed = form[FormField.justification] ?? ""
        let justification = typed.trimmingCharacters(in: .whitespacesAndNewlines)
        if justification.count > FormField.justificationMaxLength {
            return try renderExtend(
                id: id, person: person, justification: typed,
                justificationError: "The justification is \(justification.count) characters long; shorten it to \(FormField.justificationMaxLength) or fewer.",
                status: .unprocessableContent)
        }
        let now = clock()
        let outcome = try store.write { db in
            try approvals.lifecycle.requestExtension(
                assignmentID: id, by: person.email, justification: justification, approvals: approvals, db: db, now: now)
        }
        switch outcome {
        case nil:
            return accessNotFound()
        case .extended?:
            return .redirect(to: SafeRedirect(Paths.myAccess) ?? .home)
        case .pendingApproval(let requestID)?:
            return .redirect(to: SafeRedirect(Paths.myRequest(requestID)) ?? .home)
        case .refused(let why)?:
            return try renderExtend(id: id, person: person, justification: typed, justificationError: nil, status: .conflict, problem: why)
        }
    }

    /// POST /my/access/<id>/remove: the holder gives the access up ("I no longer need this").
    func removeAccess(_ request: RequestContext, id: String) throws -> HTTPResponse {
        let form = try form(request)
        let visitor = try visitor(request)
        guard case .signedIn(let person, _) = visitor else {
            return try signInRequired(request, visitor: visitor, returnTo: Paths.myAccess)
        }
        let reason = (form[FormField.reason] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let now = clock()
        enum Outcome { case removed, notFound, alreadyEnded }
        let outcome = try store.write { db -> Outcome in
            guard let a = try db.assignment(id: id), a.email == person.email else { return .notFound }
            guard a.state != .expired else { return .alreadyEnded }
            try approvals.lifecycle.end(
                a, kind: .user, actor: person.email,
                reason: reason.isEmpty ? "removed by its holder" : "removed by its holder: \(reason.prefix(1000))",
                db: db, now: now)
            return .removed
        }
        switch outcome {
        case .removed: return .redirect(to: SafeRedirect(Paths.myAccess) ?? .home)
        case .notFound: return accessNotFound()
        case .alreadyEnded:
            return views.message(
                status: .conflict, title: "Already ended", text: "This access has already ended; there is nothing to remove.",
                link: (Paths.myAccess, "Back to My access"))
        }
    }

    private func renderExtend(
        id: String, person: PersonRecord, justification: String, justificationError: String?, status: HTTPStatus,
        problem: String? = nil
    ) throws -> HTTPResponse {
        let now = clock()
        let lifecycle = approvals.lifecycle
        guard let (a, policy, refusal) = try store.read({ db -> (AssignmentRecord, Policy?, String?)? in
            guard let a = try db.assignment(id: id), a.email == person.email else { return nil }
            let policy = try lifecycle.policy(of: a, db: db)
            return (a, policy, try lifecycle.extensionRefusal(a, policy: policy, db: db, now: now))
        }) else {
            return accessNotFound()
        }
        let packageName = site.package(a.packageID)?.name ?? a.packageID
        let newEnd = refusal == nil ? policy.flatMap { lifecycle.proposedEnd(a, policy: $0, now: now) } : nil
        let needsApproval = policy.map { $0.lifecycle.extensionRequiresApproval && $0.requiresApproval } ?? false
        var context: [String: Any] = [
            "package": packageName, "policy": policy?.name ?? a.policyID,
            "start": calendar.longDateAndTime(a.startsAt),
            "currentEnd": a.endsAt.map(calendar.longEnd) ?? "No end date",
            "newEnd": newEnd.map(calendar.longEnd) ?? false,
            "refusal": (problem == nil ? refusal : nil).map { $0 as Any } ?? false,
        ]
        if refusal == nil || problem != nil {
            context["form"] = [
                "action": Paths.extendAccess(a.id), "justificationName": FormField.justification,
                "justificationValue": justification, "maxLength": FormField.justificationMaxLength,
                "justificationError": justificationError.map { $0 as Any } ?? false,
                "problem": problem.map { $0 as Any } ?? false,
                "approvalNote": needsApproval
                    ? "The extension goes to the approvers of \(policy?.name ?? a.policyID); your access continues until its current end while they decide, and the new end is counted from their approval."
                    : "The extension applies at once.",
                "button": needsApproval ? "Ask for the extension" : "Extend my access",
            ] as [String: Any]
        } else {
            context["form"] = false
        }
        return try views.page(
            "extend-access", title: "Extend \(packageName)", context, status: status, signedInAs: person.displayName)
    }

    private func accessNotFound() -> HTTPResponse {
        views.message(
            status: .notFound, title: "Access not found",
            text: "There is no access of yours at this address. What you have is listed in My access.",
            link: (Paths.myAccess, "See My access"))
    }
}
