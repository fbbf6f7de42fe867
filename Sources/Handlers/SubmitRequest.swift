internal import Crypto
internal import Foundation
internal import GatehouseModel
internal import GatehouseStore
internal import Governance
internal import Portal
internal import Rendering
internal import Synchronization
internal import Workflow

extension Actions {
    private enum SubmitOutcome {
        /// A replayed post: the request the first post made.
        case existing(id: String)
        case created(id: String)
        case blocked([RequestBlock])
        case rejected(RejectedForm)
    }

    /// Snapshots already encoded, shared by every app in the process (keyed by value, not by app).
    private static let snapshots = SnapshotCache()

    /// How long a post of the static form (which carries no token) counts as a replay of an
    /// identical earlier one: one window and the one before it.
    static let replayWindow: TimeInterval = 600

    /// POST /requests: re-checks everything on the server, then records the request (and, for a
    /// policy without approval, delivers it) in one transaction and goes to the request's page.
    /// The checks, validation and composing run before the write transaction, which repeats only
    /// the replay and block checks another writer could have changed meanwhile.
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

        var fields: [String: [String]] = [:]
        for field in form.fields { fields[field.name, default: []].append(field.value) }
        let now = clock()
        let eligibility = Eligibility(site: site)
        let requestID = random.recordID(at: now)
        let assignmentID = random.recordID(at: now)

        // The session, replays, blocks, validation, the JSON columns and the mail are all read,
        // checked or composed in the session's read transaction, which does not hold SQLite's
        // single write lock.
        let (visitor, touch, read) = try visitorLeavingTouch(request) { db, person -> (keys: SubmissionKeys, requestor: Requestor, check: SubmitCheck) in
            let keys = idempotencyKeys(form: form, body: request.body, email: person.email, package: package.id, policy: policy.id, now: now)
            let requestor = Requestor(email: person.email, in: site, isGuest: person.isGovernedGuest, isBlocked: person.isBlocked)
            let check = try checkSubmission(
                keys: keys, person: person, requestor: requestor, package: package, policy: policy, language: language,
                fields: fields, eligibility: eligibility, calendar: calendar, requestID: requestID, db: db, now: now)
            return (keys, requestor, check)
        }
        guard case .signedIn(let person, _) = visitor, let read else {
            if let touch { try store.write { db in try db.touchSession(idHash: touch.idHash, at: touch.at) } }
            // What was typed is kept while the person signs in (or accepts the terms), and the
            // form comes back filled in; when it cannot be kept, the sign-in page says to submit again.
            guard let kept = try keepDraft(fields, package: package, policy: policy, language: language, request: request) else {
                if case .anonymous = visitor {
                    return .redirect(to: SafeRedirect(Paths.signIn(returnTo: formURL) + "&" + Self.resubmitParameter + "=1") ?? .home)
                }
                return try signInRequired(request, visitor: visitor, returnTo: formURL)
            }
            var response = try signInRequired(request, visitor: visitor, returnTo: kept.path)
            response.addHeader("Set-Cookie", kept.setCookie)
            return response
        }
        // A submission from a kept form: the kept copy goes with the request's transaction.
        let draftHash = form[FormField.draft].map(Hashing.sha256)
        let (keys, baseRequestor) = (read.keys, read.requestor)
        let plan: SubmitPlan
        switch read.check {
        case .ready(let ready): plan = ready
        case .done(let outcome):
            if let touch { try store.write { db in try db.touchSession(idHash: touch.idHash, at: touch.at) } }
            return try submitResponse(outcome, package: package, policy: policy, language: language, fields: fields, person: person)
        }

        // The write transaction re-checks only what another transaction may have changed since the
        // read (the person's blocks, a replay committed meanwhile), then inserts. A replay of a post
        // that committed meanwhile meets the open-request or held-package block (or the key's
        // uniqueness, if under the same key), so the replay lookups run only then.
        let outcome = try store.write { db -> SubmitOutcome in
            if let touch { try db.touchSession(idHash: touch.idHash, at: touch.at) }
            if let draftHash { try db.deleteDraft(tokenHash: draftHash, ownedBy: person.email) }
            let record = plan.record
            let current = try db.personFlags(email: person.email)
            var requestor = baseRequestor
            requestor.isGuest = (current?.isGovernedGuest ?? person.isGovernedGuest) && !requestor.isInternal
            requestor.isBlocked = current?.isBlocked ?? person.isBlocked
            let blocks = eligibility.blocks(
                requesting: package, through: policy.id, by: requestor,
                holding: try db.heldPackageIDs(of: person.email),
                openRequests: try db.requestedPackageIDs(of: person.email, in: RequestRecords.openStates))
            if !blocks.isEmpty {
                if case .replay(let id) = try replayCheck(keys, email: person.email, packageID: package.id, db: db) {
                    return .existing(id: id)
                }
                return .blocked(blocks)
            }

            // The row goes in already in the state its delivery or first stage leaves it in.
            let final = plan.delivery.map { Delivery.approvalState($0.requestState) } ?? plan.start.flatMap(approvals.recordedState(of:))
            if case .existing(let id) = try db.insertRequest(record, approval: final, replayedSince: keys.since) {
                return .existing(id: id)
            }
            try db.appendAudit(AuditEntry(
                at: now, actor: person.email, subjectKind: "request", subjectID: record.id, action: "submitted",
                after: record.state.rawValue,
                reason: requestor.isInternal || requestor.organization != nil ? nil
                    : "external requestor from unknown domain \(requestor.email.emailDomain ?? ""): organization to be proposed on approval"))
            if policy.requiresApproval {
                if let received = plan.received { try db.enqueueMail(received, at: now) }
                try approvals.start(
                    record, policy: policy, requestor: Self.snapshotRequestor(requestor), db: db, now: now,
                    prepared: plan.start, recorded: final != nil)
            } else {
                try approvals.delivery.deliver(
                    record, policy: policy, from: .submitted, actor: "system", reason: "the policy needs no approval",
                    assignmentID: assignmentID, db: db, now: now, prepared: plan.delivery, recorded: final != nil,
                    requestor: current)
            }
            return .created(id: record.id)
        }
        return try submitResponse(outcome, package: package, policy: policy, language: language, fields: fields, person: person)
    }

    /// The read phase of a submission: a replay, a block or invalid answers end it; otherwise the
    /// request to insert, with what its delivery or first approval stage will need.
    private func checkSubmission(
        keys: SubmissionKeys, person: PersonRecord, requestor baseRequestor: Requestor, package: AccessPackage, policy: Policy,
        language: String, fields: [String: [String]], eligibility: Eligibility, calendar: TenantCalendar,
        requestID: String, db: StoreReader, now: Date
    ) throws -> SubmitCheck {
        let key: String
        switch try replayCheck(keys, email: person.email, packageID: package.id, db: db) {
        case .replay(let id): return .done(.existing(id: id))
        case .key(let found): key = found
        }
        let blocks = eligibility.blocks(
            requesting: package, through: policy.id, by: baseRequestor,
            holding: try db.heldPackageIDs(of: person.email),
            openRequests: try db.requestedPackageIDs(of: person.email, in: RequestRecords.openStates))
        if !blocks.isEmpty { return .done(.blocked(blocks)) }

        let submission: RequestSubmission
        switch RequestSubmission.validate(fields, policy: policy, language: language, today: calendar.day(of: now)) {
        case .failure(let rejected): return .done(.rejected(rejected))
        case .success(let valid): submission = valid
        }
        let record = RequestRecord(
            id: requestID, idempotencyKey: key, kind: .add, actorKind: .user, requestorEmail: person.email,
            packageID: package.id, policyID: policy.id,
            policySnapshot: Self.snapshots.snapshot(of: policy, package: package.id, requestor: baseRequestor),
            language: language,
            justification: submission.justification ?? "", answers: RequestRecords.answersJSON(submission.answers),
            requestedStart: submission.schedule?.start.map(calendar.startOfDay),
            requestedEnd: submission.schedule?.end.map(calendar.startOfDay),
            state: policy.requiresApproval ? .pendingApproval : .submitted,
            currentStage: policy.requiresApproval ? 1 : nil, createdAt: now)
        guard policy.requiresApproval else {
            return .ready(SubmitPlan(
                record: record, received: nil, delivery: approvals.delivery.prepare(record, policy: policy, now: now),
                start: nil))
        }
        let start = try approvals.prepareStart(
            record, policy: policy, requestor: Self.snapshotRequestor(baseRequestor), db: db, now: now)
        let received = policy.notifications.requestor ? approvals.delivery.notices.received(start.notice) : nil
        return .ready(SubmitPlan(record: record, received: received, delivery: nil, start: start))
    }

    /// The requestor as the approval engine sees them.
    private static func snapshotRequestor(_ requestor: Requestor) -> SnapshotRequestor {
        SnapshotRequestor(
            domain: requestor.email.emailDomain ?? "", isInternal: requestor.isInternal,
            organizationID: requestor.organization?.id)
    }

    /// A request ready to insert, with the mail that tells its requestor it was received (if any).
    private struct SubmitPlan {
        var record: RequestRecord
        var received: OutgoingMail?
        /// For a policy without approval: the schedule and mail of the delivery.
        var delivery: PreparedDelivery?
        /// For a policy with approval: its first stage and what the mails say.
        var start: Approvals.PreparedStart?
    }

    /// What the read phase of a submission found: a request to insert, or the answer without writing.
    private enum SubmitCheck {
        case ready(SubmitPlan)
        case done(SubmitOutcome)
    }

    private enum ReplayCheck {
        /// A replay: the request the first post made.
        case replay(id: String)
        /// Not a replay: the key to record the new request under.
        case key(String)
    }

    /// Whether a post with `keys` (``idempotencyKeys(form:body:email:package:policy:now:)``) replays
    /// an earlier one. A canceled request does not count: the same post after a cancel is a new
    /// request, keyed after the canceled one's key.
    private func replayCheck(_ keys: SubmissionKeys, email: String, packageID: String, db: StoreReader) throws -> ReplayCheck {
        var candidates = keys.keys
        while true {
            var next: String?
            for candidate in candidates {
                guard let found = try db.requestSummary(of: email, idempotencyKey: candidate, since: keys.since),
                      found.packageID == packageID else { continue }
                guard found.state == .canceled else { return .replay(id: found.id) }
                next = candidate + ":after:" + found.id
                break
            }
            guard let next else { return .key(candidates[0]) }
            candidates = [next]
        }
    }

    private func submitResponse(
        _ outcome: SubmitOutcome, package: AccessPackage, policy: Policy, language: String, fields: [String: [String]],
        person: PersonRecord
    ) throws -> HTTPResponse {
        // A form shown again keeps the kept form it came from, so that its submission deletes it.
        let keptDraft = fields[FormField.draft]?.first.flatMap { Self.isToken($0) ? $0 : nil }
        switch outcome {
        case .existing(let id), .created(let id):
            if case .existing = outcome { log("POST /requests: replay of request \(id) by \(person.email)") }
            return .redirect(to: SafeRedirect(Paths.myRequest(id)) ?? .home)
        case .blocked(let blocks):
            return try views.requestForm(
                package, policy: policy, language: language,
                state: RequestFormState(
                    input: fields, problems: blocks.map(\.description), submissionToken: random.recordID(at: clock()),
                    draftToken: keptDraft),
                status: .conflict, signedInAs: person.displayName)
        case .rejected(let rejected):
            var errors: [String: String] = [:]
            for error in rejected.errors where errors[error.field] == nil { errors[error.field] = error.message }
            return try views.requestForm(
                package, policy: policy, language: language,
                state: RequestFormState(
                    input: rejected.input, errors: errors, submissionToken: random.recordID(at: clock()), draftToken: keptDraft),
                status: .unprocessableContent, signedInAs: person.displayName)
        }
    }

    /// The keys under which a post is recorded (the first) and recognised as a replay (all), and
    /// an instant no later than a request made under one of them was created.
    struct SubmissionKeys {
        var keys: [String]
        var since: Date?
    }

    /// The keys of this post: (person, form token) for a form the handler rendered, else (person,
    /// package, policy, SHA-256 of the body, 10-minute window and the one before). The token's
    /// time, or the earlier window's start, less an hour for clocks that disagree, bounds the
    /// search for a request made under them among the person's requests.
    func idempotencyKeys(
        form: URLEncodedForm, body: [UInt8], email: String, package: String, policy: String, now: Date
    ) -> SubmissionKeys {
        let margin: TimeInterval = 3600
        if let token = form[FormField.submission], !token.isEmpty {
            return SubmissionKeys(
                keys: ["form:\(token.prefix(12)):\(email):\(Hashing.sha256(token))"],
                since: RecordID.time(of: token).map { $0.addingTimeInterval(-margin) })
        }
        let digest = Hashing.hex(SHA256.hash(data: Data(body)))
        let window = Int((now.timeIntervalSince1970 / Self.replayWindow).rounded(.down))
        return SubmissionKeys(
            keys: [window, window - 1].map { "post:\($0):\(email):\(package):\(policy):\(digest)" },
            since: Date(timeIntervalSince1970: Double(window - 1) * Self.replayWindow - margin))
    }
}

/// Policy snapshots by policy and requestor domain: encoding one through JSONSerialization with
/// sorted keys took a sixth of a submission's CPU time, and a site has few policies and domains.
final class SnapshotCache: Sendable {
    private struct Key: Hashable {
        var packageID: String
        var policyID: String
        var domain: String
        var isInternal: Bool
        var organizationID: String?
    }

    private let entries = Mutex<[Key: (policy: Policy, json: String)]>([:])
    private let capacity: Int

    init(capacity: Int = 1024) {
        self.capacity = capacity
    }

    /// `RequestRecords.snapshot(of:requestor:)`, computed once per policy value and requestor domain.
    func snapshot(of policy: Policy, package packageID: String, requestor: Requestor) -> String {
        let key = Key(
            packageID: packageID, policyID: policy.id, domain: requestor.email.emailDomain ?? "",
            isInternal: requestor.isInternal, organizationID: requestor.organization?.id)
        if let hit = entries.withLock({ $0[key] }), hit.policy == policy { return hit.json }
        let json = RequestRecords.snapshot(of: policy, requestor: requestor)
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll() }
            entries[key] = (policy, json)
        }
        return json
    }
}

extension RandomSource {
    /// A request, assignment or form-token id that sorts by creation time (``RecordID``).
    func recordID(at date: Date) -> String {
        RecordID.make(at: date, random: bytes(RecordID.randomByteCount))
    }
}
