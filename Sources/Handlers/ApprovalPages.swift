internal import Foundation
internal import GatehouseModel
internal import GatehouseStore
internal import Governance
internal import Portal
internal import Rendering
internal import Workflow

extension Actions {
    /// What an approver typed, kept when the decision form comes back with a message.
    struct DecisionFormState {
        var justification = ""
        /// About the whole form (no decision chosen, decided meanwhile…).
        var problem: String?
        var justificationError: String?
    }

    /// The longest approver justification accepted.
    static let decisionJustificationMaxLength = 2000

    /// GET /approvals/ (Pending) and /approvals/history/ (History): the signed-in person's approvals.
    /// Their own requests never appear (the store leaves them out).
    func approvalsPage(_ request: RequestContext, history: Bool) throws -> HTTPResponse {
        let visitor = try visitor(request)
        guard case .signedIn(let person, _) = visitor else {
            return try signInRequired(request, visitor: visitor, returnTo: request.path)
        }
        let (items, pendingCount, names) = try store.read { db -> ([ApprovalListItem], Int, [String: String]) in
            let items = history ? try db.approvalHistory(for: person.email) : try db.pendingApprovals(for: person.email)
            let count = history ? try db.pendingApprovalCount(for: person.email) : items.count
            var names: [String: String] = [:]
            for email in Set(items.map(\.requestorEmail)) { names[email] = try approvals.displayName(email, db: db) }
            return (items, count, names)
        }
        let rows = items.map { item -> [String: Any] in
            let package = site.package(item.packageID)
            let stages = package?.policy(item.policyID)?.approvalStages.count ?? 0
            let last: String = if history {
                switch item.myDecision {
                case .approve?: "You approved · now \(Self.stateName(item.state).lowercased())"
                case .deny?: "You denied"
                case nil: Self.stateName(item.state)
                }
            } else {
                item.stageDeadline.map(calendar.longDateAndTime) ?? "—"
            }
            return [
                "url": Paths.approval(item.requestID),
                "requestor": names[item.requestorEmail] ?? item.requestorEmail,
                "organization": organizationName(of: item.requestorEmail) ?? false,
                "package": package?.name ?? item.packageID,
                "stage": stages > 1 ? "Stage \(item.stage) of \(stages)" + (item.escalated && !history ? ", forwarded" : "") : false,
                "submitted": calendar.longDateAndTime(item.createdAt),
                "last": last,
            ]
        }
        return try views.page("approvals", title: history ? "Approval history" : "Approvals", [
            "name": person.displayName, "email": person.email,
            "pendingURL": Paths.approvals, "historyURL": Paths.approvalHistory,
            "pendingTab": !history, "historyTab": history, "pendingCount": pendingCount,
            "items": rows, "isEmpty": rows.isEmpty,
            "emptyText": history
                ? "Nothing yet: requests you were asked to decide appear here once they no longer wait for you."
                : "No request waits for your decision.",
            "lastColumn": history ? "Outcome" : "Decide by",
        ], signedInAs: person.displayName)
    }

    /// GET /approvals/<id>/: the request as its approvers see it, with approve and deny while the
    /// person may decide. Anyone who was never asked to decide it gets the same 404 as for an unknown id.
    func approvalPage(_ request: RequestContext, id: String) throws -> HTTPResponse {
        let visitor = try visitor(request)
        guard case .signedIn(let person, _) = visitor else {
            return try signInRequired(request, visitor: visitor, returnTo: Paths.approval(id))
        }
        return try renderApproval(request, id: id, person: person, form: DecisionFormState(), status: .ok)
    }

    /// POST /approvals/<id>/decide: approve or deny the stage the approver saw, with a reason.
    func decide(_ request: RequestContext, id: String) throws -> HTTPResponse {
        let form = try form(request)
        let visitor = try visitor(request)
        guard case .signedIn(let person, _) = visitor else {
            return try signInRequired(request, visitor: visitor, returnTo: Paths.approval(id))
        }
        let justification = (form[FormField.justification] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        var state = DecisionFormState(justification: form[FormField.justification] ?? "")
        let decision = (form[FormField.decision]).flatMap(ApprovalDecision.init(rawValue:))
        guard let decision else {
            state.problem = "Choose Approve or Deny: the form did not say which."
            return try renderApproval(request, id: id, person: person, form: state, status: .unprocessableContent)
        }
        if justification.count > Self.decisionJustificationMaxLength {
            state.justificationError = "The reason is \(justification.count) characters long; shorten it to \(Self.decisionJustificationMaxLength) or fewer."
            return try renderApproval(request, id: id, person: person, form: state, status: .unprocessableContent)
        }
        let seenStage = form[FormField.stage].flatMap { Int($0) }
        let now = clock()
        let outcome = try store.write { db in
            try approvals.decide(
                requestID: id, by: person.email, decision, justification: justification, seenStage: seenStage, db: db,
                now: now)
        }
        switch outcome {
        case .recorded(let record, let newState):
            log("POST \(request.path): \(person.email) \(record.decision.rawValue)d stage \(record.stage) of \(id); request now \(newState.rawValue)")
            return .redirect(to: SafeRedirect(Paths.approval(id)) ?? .home)
        case .notFound:
            return approvalNotFound()
        case .refused(let refusal):
            switch refusal {
            case .justificationRequired:
                state.justificationError = "This stage requires a reason: say why you approve or deny."
                return try renderApproval(request, id: id, person: person, form: state, status: .unprocessableContent)
            case .ownRequest:
                return views.message(
                    status: .forbidden, title: "Not yours to decide", text: refusal.message(in: calendar),
                    link: (Paths.myRequest(id), "See your request"))
            case .notAnApprover:
                state.problem = refusal.message(in: calendar)
                return try renderApproval(request, id: id, person: person, form: state, status: .forbidden)
            case .alreadyDecided(let d):
                let name = try store.read { try approvals.displayName(d.approver, db: $0) }
                state.problem = "Already \(d.decision == .approve ? "approved" : "denied") by \(name) at \(calendar.longDateAndTime(d.at)). Your decision was not recorded."
                return try renderApproval(request, id: id, person: person, form: state, status: .conflict)
            case .notPending:
                state.problem = refusal.message(in: calendar) + " Your decision was not recorded."
                return try renderApproval(request, id: id, person: person, form: state, status: .conflict)
            }
        }
    }

    private func renderApproval(
        _ request: RequestContext, id: String, person: PersonRecord, form: DecisionFormState, status: HTTPStatus
    ) throws -> HTTPResponse {
        let language = AcceptLanguage.best(request.acceptLanguage, for: site.tenant)
        guard let (loaded, names) = try store.read({ db -> (Approvals.Loaded, [String: String])? in
            guard let loaded = try approvals.load(id, db: db),
                  loaded.everyApprover.contains(where: { $0.email == person.email }),
                  loaded.request.requestorEmail != person.email else { return nil }
            var names: [String: String] = [:]
            for email in Set(loaded.progress.decisions.map(\.approver)) { names[email] = try approvals.displayName(email, db: db) }
            return (loaded, names)
        }) else {
            return approvalNotFound()
        }
        let record = loaded.request
        let package = site.package(record.packageID)
        let canDecide = loaded.engine.canDecide(loaded.progress, email: person.email)
        let stage = loaded.progress.status.pendingStage
        let stageCount = loaded.policy.approvalStages.count
        let timeline = loaded.engine.timeline(of: loaded.progress)
        let answers = displayedAnswers(record, policy: loaded.policy, language: language)
        let mine = loaded.progress.decisions.last { $0.approver == person.email }
        let outcome: Any = mine.map { d in
            "You \(d.decision == .approve ? "approved" : "denied") stage \(d.stage) on \(calendar.longDateAndTime(d.at)). The request is now \(Self.stateName(record.state).lowercased())."
        } ?? false
        let resources = (package?.resources ?? []).map { ref -> [String: Any] in
            let resource = site.catalog(package?.catalog ?? "")?.resources.first { $0.id == ref.resource }
            return ["resource": resource?.name ?? ref.resource, "role": ref.role]
        }
        var context: [String: Any] = [:]
        context["outcome"] = form.problem == nil ? outcome : false
        context["problem"] = canDecide ? false : (form.problem.map { $0 as Any } ?? false)
        context["requestorName"] = loaded.notice.requestorName
        context["requestorEmail"] = record.requestorEmail
        context["organization"] = loaded.notice.organizationName
            ?? (site.tenant.isInternal(email: record.requestorEmail) ? site.tenant.name : "External (no connected organization)")
        context["package"] = loaded.notice.packageName
        context["verb"] = loaded.notice.extending == nil ? "requests" : "asks to extend"
        context["extending"] = loaded.notice.extending.map { calendar.longDateAndTime($0) as Any } ?? false
        context["policy"] = loaded.policy.name
        context["state"] = Self.stateName(record.state)
        context["submitted"] = calendar.longDateAndTime(record.createdAt)
        context["requestedStart"] = record.requestedStart.map(calendar.longDate) ?? false
        context["requestedEnd"] = record.requestedEnd.map(calendar.longDate) ?? false
        if let stage {
            let forwarded = loaded.progress.escalated ? " (forwarded)" : ""
            // How long the access would last, by the policy as it was when the request was made
            // (an extension's new end and a requested period are shown on their own lines).
            let plain = loaded.notice.extending == nil && record.requestedStart == nil && record.requestedEnd == nil
            let deadline = timeline.map { calendar.longDateAndTime($0.deadline) } ?? "—"
            let access: Any = plain ? PolicyDescriber.duration(loaded.policy.lifecycle.expiration) : false
            context["current"] = [
                "stage": (stageCount > 1 ? "\(stage) of \(stageCount)" : "\(stage)") + forwarded,
                "deadline": deadline, "accessIfApproved": access,
            ]
        } else {
            context["current"] = false
        }
        context["resources"] = resources
        context["hasResources"] = !resources.isEmpty
        context["justification"] = record.justification.isEmpty ? "None given" : record.justification
        context["answers"] = answers
        context["hasAnswers"] = !answers.isEmpty
        context["history"] = loaded.progress.decisions.map { d -> [String: Any] in
            [
                "stage": d.stage, "approver": names[d.approver] ?? d.approver,
                "decision": d.decision == .approve ? "Approved" : "Denied",
                "justification": d.justification.isEmpty ? "—" : d.justification,
                "date": calendar.longDateAndTime(d.at),
            ]
        }
        context["hasHistory"] = !loaded.progress.decisions.isEmpty
        if canDecide, let stage {
            let required = loaded.policy.approvalStages.indices.contains(stage - 1)
                && loaded.policy.approvalStages[stage - 1].justificationRequired
            context["decide"] = [
                "action": Paths.decide(record.id), "stageName": FormField.stage, "stage": stage,
                "decisionName": FormField.decision, "justificationName": FormField.justification,
                "justificationValue": form.justification, "maxLength": Self.decisionJustificationMaxLength,
                "justificationRequired": required,
                "justificationError": form.justificationError.map { $0 as Any } ?? false,
                "problem": form.problem.map { $0 as Any } ?? false,
            ] as [String: Any]
        } else {
            context["decide"] = false
        }
        return try views.page(
            "approval", title: "\(loaded.notice.requestorName) \(context["verb"] as? String ?? "requests") \(loaded.notice.packageName)",
            context,
            status: status, signedInAs: person.displayName)
    }

    /// Each answer with its question and choices in `language` (the approver's), from the snapshot;
    /// an answer whose question is gone from the snapshot shows as the requestor saw it.
    private func displayedAnswers(_ record: RequestRecord, policy: Policy, language: String) -> [[String: Any]] {
        RequestRecords.answers(fromJSON: record.answers).map { answer in
            guard let question = policy.questions.first(where: { $0.id == answer.questionID }) else {
                return ["question": answer.question, "shown": answer.shown.joined(separator: ", ")]
            }
            let shown: [String] = question.kind == .multipleChoice
                ? answer.values.map { value in question.choices.first { $0.value == value }?.text.text(in: language) ?? value }
                : answer.values
            return ["question": question.text.text(in: language), "shown": shown.isEmpty ? "—" : shown.joined(separator: ", ")]
        }
    }

    private func organizationName(of email: String) -> String? {
        guard !site.tenant.isInternal(email: email), let domain = email.emailDomain else { return nil }
        return site.organizations.first { $0.domains.contains { $0.lowercased() == domain } }?.name
    }

    private func approvalNotFound() -> HTTPResponse {
        views.message(
            status: .notFound, title: "Request not found",
            text: "There is no request for you to decide at this address. The requests waiting for you are listed in Approvals.",
            link: (Paths.approvals, "See your approvals"))
    }
}
