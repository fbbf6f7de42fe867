internal import Foundation
internal import GatehouseModel
internal import GatehouseStore
internal import Governance
internal import Portal
internal import Rendering
internal import Workflow

extension Actions {
    /// GET /my/requests/<id>/: package, policy, justification, answers as the person saw them,
    /// decisions so far, dates; a cancel form while pending, "Request again" once ended.
    /// Only the requestor sees it: anyone else gets the same 404 as for an unknown id.
    func requestPage(_ request: RequestContext, id: String) throws -> HTTPResponse {
        let visitor = try visitor(request)
        guard case .signedIn(let person, _) = visitor else {
            return try signInRequired(request, visitor: visitor, returnTo: request.path)
        }
        guard let (detail, assignment, waiting) = try store.read({ db -> (RequestDetail, AssignmentRecord?, Any)? in
            guard let detail = try db.requestDetail(id: id), detail.request.requestorEmail == person.email else { return nil }
            // While pending: who decides the current stage and by when.
            var waiting: Any = false
            if detail.request.state == .pendingApproval, let loaded = try approvals.load(id, db: db),
               let stage = loaded.progress.status.pendingStage {
                let names = try loaded.progress.approvers.map { try approvals.displayName($0.email, db: db) }
                let count = loaded.policy.approvalStages.count
                waiting = [
                    "who": (names.isEmpty ? "No approver could be found" : names.joined(separator: ", "))
                        + (count > 1 ? " (stage \(stage) of \(count))" : ""),
                    "deadline": loaded.engine.timeline(of: loaded.progress).map { calendar.longDateAndTime($0.deadline) } ?? "—",
                ]
            }
            return (detail, try db.assignments(of: person.email).first { $0.requestID == id }, waiting)
        }) else {
            return requestNotFound()
        }
        let record = detail.request
        let answers = RequestRecords.answers(fromJSON: record.answers)
        return try views.page("my-request", title: "Request for \(packageName(record.packageID))", [
            "package": packageName(record.packageID),
            "policy": RequestRecords.policyName(inSnapshot: record.policySnapshot) ?? record.policyID,
            "state": Self.stateName(record.state),
            "submitted": calendar.longDateAndTime(record.createdAt),
            "updated": calendar.longDateAndTime(record.updatedAt),
            "requestedStart": record.requestedStart.map(calendar.longDate) ?? false,
            "requestedEnd": record.requestedEnd.map(calendar.longDate) ?? false,
            "justification": record.justification.isEmpty ? "None given" : record.justification,
            "answers": answers.map { ["question": $0.question, "shown": $0.shown.joined(separator: ", ")] },
            "hasAnswers": !answers.isEmpty,
            "decisions": detail.decisions.map { d -> [String: Any] in
                [
                    "stage": d.stage, "decision": d.decision == .approve ? "Approved" : "Denied",
                    "approver": site.directory.person(d.approverEmail)?.name ?? d.approverEmail,
                    "date": calendar.longDateAndTime(d.decidedAt),
                    "justification": d.justification.isEmpty ? false : d.justification,
                ]
            },
            "hasDecisions": !detail.decisions.isEmpty,
            "waiting": waiting,
            "access": assignment.map { a -> [String: Any] in
                ["start": calendar.longDateAndTime(a.startsAt), "end": a.endsAt.map(calendar.longEnd) ?? "no end date"]
            } ?? false,
            "noDecisions": ((try? PolicySnapshot.decode(record.policySnapshot))?.policy.approvalStages.isEmpty ?? false)
                ? "No approver decision: this request option needs no approval."
                : (record.state == .pendingApproval ? "No decision yet." : "No approver decided before the request ended."),
            "cancel": RequestRecords.cancelable.contains(record.state)
                ? ["action": Paths.cancelRequest(record.id), "reasonName": FormField.reason] : false,
            "again": RequestRecords.requestableAgain.contains(record.state) ? Paths.requestAgain(record.id) : false,
        ], signedInAs: person.displayName)
    }

    /// POST /my/requests/<id>/cancel: cancels a pending request of the signed-in person, with the
    /// optional `reason` in the audit entry, then shows the request again.
    func cancelRequest(_ request: RequestContext, id: String) throws -> HTTPResponse {
        let form = try form(request)
        let visitor = try visitor(request)
        guard case .signedIn(let person, _) = visitor else {
            return try signInRequired(request, visitor: visitor, returnTo: Paths.myRequest(id))
        }
        let reason = (form[FormField.reason] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let now = clock()
        let outcome = try store.write { db in
            try approvals.cancel(requestID: id, by: person.email, reason: reason, db: db, now: now)
        }
        switch outcome {
        case .canceled: return .redirect(to: SafeRedirect(Paths.myRequest(id)) ?? .home)
        case .notFound: return requestNotFound()
        case .notPending(let state):
            return views.message(
                status: .conflict, title: "Cannot cancel",
                text: "This request is \(Self.stateName(state).lowercased()), so it can no longer be canceled. Only requests waiting for a decision can be.",
                link: (Paths.myRequest(id), "Back to the request"))
        }
    }

    /// GET /my/requests/<id>/again/: the request form of a denied, expired or canceled request,
    /// prefilled with its justification and answers, with a fresh submission token.
    func requestAgain(_ request: RequestContext, id: String) throws -> HTTPResponse {
        let visitor = try visitor(request)
        guard case .signedIn(let person, _) = visitor else {
            return try signInRequired(request, visitor: visitor, returnTo: request.path)
        }
        guard let record = try store.read({ try $0.request(id: id) }), record.requestorEmail == person.email else {
            return requestNotFound()
        }
        guard RequestRecords.requestableAgain.contains(record.state) else {
            return views.message(
                status: .conflict, title: "Nothing to request again",
                text: "This request is \(Self.stateName(record.state).lowercased()); only denied, expired or canceled requests can be sent again.",
                link: (Paths.myRequest(id), "Back to the request"))
        }
        guard let package = site.package(record.packageID), let policy = package.policy(record.policyID) else {
            return views.message(
                status: .notFound, title: "Request option not found",
                text: "The access package or request option of this request no longer exists, so it cannot be requested again the same way.",
                link: (Paths.home, "See the access packages"))
        }
        var input: [String: [String]] = [:]
        if !record.justification.isEmpty { input[FormField.justification] = [record.justification] }
        for answer in RequestRecords.answers(fromJSON: record.answers) { input[FormField.answer(answer.questionID)] = answer.values }
        let language = site.tenant.languages.contains(record.language) ? record.language : site.tenant.defaultLanguage
        return try views.requestForm(
            package, policy: policy, language: language, state: RequestFormState(input: input, submissionToken: random.recordID(at: clock())),
            signedInAs: person.displayName)
    }

    /// GET /my/access/: active and ended assignments with their real start and end in the tenant's zone.
    func myAccess(_ request: RequestContext) throws -> HTTPResponse {
        let visitor = try visitor(request)
        guard case .signedIn(let person, _) = visitor else {
            return try signInRequired(request, visitor: visitor, returnTo: request.path)
        }
        let now = clock()
        let all = try store.read { try $0.assignments(of: person.email) }
        func row(_ a: AssignmentRecord, end: Date?) -> [String: Any] {
            [
                "package": packageName(a.packageID), "url": Paths.package(a.packageID),
                "start": calendar.longDateAndTime(a.startsAt),
                "end": end.map(calendar.longEnd) ?? "No end date",
                "state": a.state == .delivered || a.state == .expired ? false : Self.stateName(RequestState(rawValue: a.state.rawValue) ?? .delivering),
            ]
        }
        let isActive = { (a: AssignmentRecord) in a.state != .expired && (a.endsAt.map { now < $0 } ?? true) }
        let extensible = Set(all.filter(isActive).compactMap { a -> String? in
            guard a.endsAt != nil, site.package(a.packageID)?.policy(a.policyID)?.lifecycle.extensionAllowed == true else { return nil }
            return a.id
        })
        let active = all.filter(isActive).map { a -> [String: Any] in
            var r = row(a, end: a.endsAt)
            r["extend"] = extensible.contains(a.id) ? Paths.extendAccess(a.id) : false
            r["remove"] = ["action": Paths.removeAccess(a.id), "reasonName": FormField.reason, "id": a.id] as [String: Any]
            return r
        }
        let ended = all.filter { !isActive($0) }.map { row($0, end: $0.endedAt ?? $0.endsAt) }
        return try views.page("my-access", title: "My access", [
            "active": active, "hasActive": !active.isEmpty, "ended": ended, "hasEnded": !ended.isEmpty,
        ], signedInAs: person.displayName)
    }

    /// GET /my/: "For you", the packages the portal lists for the signed-in person (section 2 visibility).
    func myHome(_ request: RequestContext) throws -> HTTPResponse {
        let visitor = try visitor(request)
        guard case .signedIn(let person, _) = visitor else {
            return try signInRequired(request, visitor: visitor, returnTo: request.path)
        }
        let requestor = Requestor(email: person.email, in: site, isGuest: person.isGovernedGuest, isBlocked: person.isBlocked)
        let (pending, requests, assignments) = try store.read { db in
            (try db.pendingApprovalCount(for: person.email), try db.requestSummaries(of: person.email), try db.activeAssignments(of: person.email))
        }
        // What the person already has or asked for, per package: the access (latest end first), else
        // the newest open request.
        var holding: [String: AssignmentRecord] = [:]
        for a in assignments where holding[a.packageID].map({ ($0.endsAt ?? .distantFuture) < (a.endsAt ?? .distantFuture) }) ?? true {
            holding[a.packageID] = a
        }
        var asked: [String: RequestSummary] = [:]
        for r in requests where RequestRecords.openStates.contains(r.state) && asked[r.packageID] == nil { asked[r.packageID] = r }
        let packages = Eligibility(site: site).listedPackages(for: requestor).map { package -> [String: Any] in
            let summary = views.packageSummaries[package.id] ?? ""
            var status: Any = false
            if let a = holding[package.id] {
                status = ["text": a.endsAt.map { "You have access until \(calendar.longEnd($0))" } ?? "You have access, with no end date", "url": Paths.myAccess]
            } else if let r = asked[package.id] {
                status = ["text": "You asked for it on \(calendar.longDate(r.createdAt)): \(Self.stateName(r.state).lowercased())", "url": Paths.myRequest(r.id)]
            }
            return ["name": package.name, "url": Paths.package(package.id), "summary": summary.isEmpty ? false : summary, "status": status]
        }
        return try views.page("my-home", title: "For you", [
            "name": person.displayName, "email": person.email, "packages": packages, "isEmpty": packages.isEmpty,
            "pendingApprovals": pending == 0 ? false : [
                "url": Paths.approvals,
                "text": pending == 1 ? "1 request waits for your decision" : "\(pending) requests wait for your decision",
            ],
            "admin": AdminAuthorization(site: site).hasAnyRole(person.email) ? Paths.admin : false,
        ], signedInAs: person.displayName)
    }

    private func packageName(_ id: String) -> String { site.package(id)?.name ?? id }

    private func requestNotFound() -> HTTPResponse {
        views.message(
            status: .notFound, title: "Request not found",
            text: "There is no request of yours at this address. Your requests are listed in My requests.",
            link: (Paths.myRequests, "My requests"))
    }
}
