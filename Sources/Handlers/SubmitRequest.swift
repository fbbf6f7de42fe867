internal import Crypto
internal import Foundation
internal import GatehouseModel
internal import GatehouseStore
internal import Governance
internal import Portal
internal import Rendering

extension Actions {
    private enum SubmitOutcome {
        /// A replayed post: the request the first post made.
        case existing(id: String)
        case created(id: String)
        case blocked([RequestBlock])
        case rejected(RejectedForm)
    }

    /// How long a post of the static form (which carries no token) counts as a replay of an
    /// identical earlier one: one window and the one before it.
    static let replayWindow: TimeInterval = 600

    /// POST /requests: re-checks everything on the server, then records the request (and, for a
    /// policy without approval, delivers it) in one transaction and goes to the request's page.
    ///
    /// Idempotency: a form rendered by the handler carries a random `submission` token and the
    /// key is (person, token). The static form cannot know a random value, so its key is
    /// (person, package, policy, SHA-256 of the posted body, 10-minute window); a replay in the
    /// same or the next window finds the first request and goes to it. Any later replay meets the
    /// open-request or already-assigned block instead of creating a second request. After a
    /// cancel, the same post is a new request (its key is chained after the canceled one's).
    func submitRequest(_ request: RequestContext) throws -> HTTPResponse {
        let form = try form(request)
        let packageID = form[FormField.package] ?? ""
        let policyID = form[FormField.policy] ?? ""
        guard let package = site.package(packageID) else {
            return views.message(
                status: .notFound, title: "Access package not found",
                text: packageID.isEmpty
                    ? "The form did not say which access package it requests. Open the package page again and use its request form."
                    : "There is no access package “\(packageID)”. It may have been removed; see the list of access packages.",
                link: (Paths.home, "See the access packages"))
        }
        guard let policy = package.policy(policyID) else {
            return views.message(
                status: .notFound, title: "Request option not found",
                text: "\(package.name) has no request option “\(policyID)”. It may have changed; open the package page again and pick one of its request options.",
                link: (Paths.package(package.id), "Back to \(package.name)"))
        }
        let posted = form[FormField.language] ?? ""
        let language = site.tenant.languages.contains(posted) ? posted : site.tenant.defaultLanguage
        let formURL = language == site.tenant.defaultLanguage
            ? Paths.requestForm(package: package.id, policy: policy.id)
            : Paths.requestForm(package: package.id, policy: policy.id, language: language)

        let visitor = try visitor(request)
        guard case .signedIn(let person, _) = visitor else {
            if case .anonymous = visitor {
                // The posted answers are lost; the sign-in page says to submit again.
                return .redirect(to: SafeRedirect(Paths.signIn(returnTo: formURL) + "&" + Self.resubmitParameter + "=1") ?? .home)
            }
            return try signInRequired(request, visitor: visitor, returnTo: formURL)
        }

        var fields: [String: [String]] = [:]
        for field in form.fields { fields[field.name, default: []].append(field.value) }
        let now = clock()
        let calendar = try tenantCalendar()
        let keys = idempotencyKeys(form: form, body: request.body, email: person.email, package: package.id, policy: policy.id, now: now)
        let requestID = random.token()
        let assignmentID = random.token()

        let outcome = try store.write { db -> SubmitOutcome in
            // A replay finds the request its first post made. A canceled one does not count: the
            // same post after a cancel is a new request, keyed after the canceled one.
            let mine = try db.requests(of: person.email, packageID: package.id, in: Set(RequestState.allCases))
            var candidates = keys, key = keys[0]
            while let found = mine.first(where: { candidates.contains($0.idempotencyKey) }) {
                guard found.state == .canceled else { return .existing(id: found.id) }
                key = found.idempotencyKey + ":after:" + found.id
                candidates = [key]
            }

            let current = try db.person(email: person.email) ?? person
            let requestor = Requestor(email: current.email, in: site, isGuest: current.isGovernedGuest, isBlocked: current.isBlocked)
            let held = Set(try db.activeAssignments(of: current.email).map(\.packageID))
            let open = Set(try db.requests(of: current.email).filter { RequestRecords.openStates.contains($0.state) }.map(\.packageID))
            let blocks = Eligibility(site: site).blocks(
                requesting: package, through: policy.id, by: requestor, holding: held, openRequests: open)
            if !blocks.isEmpty { return .blocked(blocks) }

            let submission: RequestSubmission
            switch RequestSubmission.validate(fields, policy: policy, language: language, today: calendar.day(of: now)) {
            case .failure(let rejected): return .rejected(rejected)
            case .success(let valid): submission = valid
            }
            let record = RequestRecord(
                id: requestID, idempotencyKey: key, kind: .add, actorKind: .user, requestorEmail: current.email,
                packageID: package.id, policyID: policy.id,
                policySnapshot: RequestRecords.snapshot(of: policy, requestor: requestor), language: language,
                justification: submission.justification ?? "", answers: RequestRecords.answersJSON(submission.answers),
                requestedStart: submission.schedule?.start.map(calendar.startOfDay),
                requestedEnd: submission.schedule?.end.map(calendar.startOfDay),
                state: policy.requiresApproval ? .pendingApproval : .submitted,
                currentStage: policy.requiresApproval ? 1 : nil, createdAt: now)
            if case .existing(let id) = try db.insertRequest(record) { return .existing(id: id) }
            try db.appendAudit(AuditEntry(
                at: now, actor: current.email, subjectKind: "request", subjectID: requestID, action: "submitted",
                after: record.state.rawValue,
                reason: requestor.isInternal || requestor.organization != nil ? nil
                    : "external requestor from unknown domain \(requestor.email.emailDomain ?? ""): organization to be proposed on approval"))
            if policy.requiresApproval {
                if policy.notifications.requestor {
                    try db.enqueueMail(receivedMail(to: current.email, package: package, policy: policy, requestID: requestID, at: now, calendar: calendar), at: now)
                }
            } else {
                try deliver(
                    record, package: package, policy: policy, requested: submission.schedule, assignmentID: assignmentID,
                    person: current, db: db, now: now, calendar: calendar)
            }
            return .created(id: requestID)
        }

        switch outcome {
        case .existing(let id), .created(let id):
            if case .existing = outcome { log("POST /requests: replay of request \(id) by \(person.email)") }
            return .redirect(to: SafeRedirect(Paths.myRequest(id)) ?? .home)
        case .blocked(let blocks):
            return try views.requestForm(
                package, policy: policy, language: language,
                state: RequestFormState(input: fields, problems: blocks.map(\.description), submissionToken: random.token()),
                status: .conflict)
        case .rejected(let rejected):
            var errors: [String: String] = [:]
            for error in rejected.errors where errors[error.field] == nil { errors[error.field] = error.message }
            return try views.requestForm(
                package, policy: policy, language: language,
                state: RequestFormState(input: rejected.input, errors: errors, submissionToken: random.token()),
                status: .unprocessableContent)
        }
    }

    /// Approves a request whose policy needs no approval and delivers it, inside the caller's transaction:
    /// the assignment with its real schedule, a grant per resource role, the state, audit and mail.
    private func deliver(
        _ record: RequestRecord, package: AccessPackage, policy: Policy, requested: RequestedSchedule?,
        assignmentID: String, person: PersonRecord, db: StoreWriter, now: Date, calendar: TenantCalendar
    ) throws {
        let schedule = AssignmentSchedule(
            expiration: policy.lifecycle.expiration, approvedAt: now, requested: requested, calendar: calendar)
        let startsLater = schedule.start > now
        try db.insertAssignment(
            AssignmentRecord(
                id: assignmentID, requestID: record.id, email: person.email, packageID: package.id, policyID: policy.id,
                state: startsLater ? .delivering : .delivered, startsAt: schedule.start, endsAt: schedule.end),
            grants: package.resources.map { ResourceGrant(resourceID: $0.resource, role: $0.role, state: startsLater ? .pending : .active) },
            at: now)
        let state: RequestState = startsLater ? .scheduled : .delivered
        try db.updateRequest(id: record.id, state: state, currentStage: nil, escalated: false, at: now, expected: .submitted)
        if person.isExternal { try db.markGovernedGuest(email: person.email, since: now) }
        try db.appendAudit(AuditEntry(
            at: now, actor: "system", subjectKind: "request", subjectID: record.id, action: "approved",
            before: RequestState.submitted.rawValue, after: RequestState.approved.rawValue, reason: "the policy needs no approval"))
        try db.appendAudit(AuditEntry(
            at: now, actor: "system", subjectKind: "request", subjectID: record.id, action: startsLater ? "scheduled" : "delivered",
            before: RequestState.approved.rawValue, after: state.rawValue, reason: "assignment \(assignmentID)"))
        guard policy.notifications.requestor else { return }
        let until = schedule.end.map { "until \(calendar.longEnd($0))" } ?? "with no end date"
        let link = Paths.absolute(Paths.myAccess, baseURL: site.tenant.baseURL)
        let mail = startsLater
            ? OutgoingMail(
                recipient: person.email, subject: "Your access to \(package.name) starts on \(calendar.longDate(schedule.start))",
                body: "Your request for \(package.name) is approved. Your access starts on \(calendar.longDateAndTime(schedule.start)) and lasts \(until).\n\n\(link)\n",
                kind: "requestScheduled")
            : OutgoingMail(
                recipient: person.email, subject: "You now have access to \(package.name)",
                body: "You now have access to \(package.name) \(until).\n\nSee everything you have at \(link)\n",
                kind: "accessDelivered")
        try db.enqueueMail(mail, at: now)
    }

    private func receivedMail(
        to email: String, package: AccessPackage, policy: Policy, requestID: String, at now: Date, calendar: TenantCalendar
    ) -> OutgoingMail {
        let link = Paths.absolute(Paths.myRequest(requestID), baseURL: site.tenant.baseURL)
        return OutgoingMail(
            recipient: email, subject: "Request received: \(package.name)",
            body: """
                We received your request for \(package.name) (\(policy.name)) on \(calendar.longDateAndTime(now)).

                It now waits for approval; you will get an email when it is decided.

                Follow it or cancel it at \(link)

                """,
            kind: "requestSubmitted")
    }

    /// The keys under which this post is recorded (the first) and recognised as a replay (all).
    func idempotencyKeys(
        form: URLEncodedForm, body: [UInt8], email: String, package: String, policy: String, now: Date
    ) -> [String] {
        if let token = form[FormField.submission], !token.isEmpty {
            return ["form:\(email):\(Hashing.sha256(token))"]
        }
        let digest = SHA256.hash(data: Data(body)).map { String(format: "%02x", $0) }.joined()
        let window = Int((now.timeIntervalSince1970 / Self.replayWindow).rounded(.down))
        return [window, window - 1].map { "post:\(email):\(package):\(policy):\(digest):\($0)" }
    }

    /// The tenant's calendar (its time zone was checked when the site was loaded).
    func tenantCalendar() throws -> TenantCalendar {
        try TenantCalendar(timeZoneIdentifier: site.tenant.timeZone)
    }
}

extension RandomSource {
    /// 128 random bits as 32 lowercase hex digits: request, assignment and form-token ids.
    func token() -> String {
        bytes(16).map { String(format: "%02x", $0) }.joined()
    }
}
