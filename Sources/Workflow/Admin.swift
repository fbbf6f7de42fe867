public import Foundation
public import GatehouseModel
public import GatehouseStore
public import Governance
internal import Rendering

// MARK: - Roles and authorization

/// A role that gives rights on a catalog's requests and assignments (PRODUCT.md section 7).
public enum AdminRole: String, Sendable, Hashable, CaseIterable {
    case tenantAdmin, owner, packageManager, assignmentManager, reader

    /// "tenant admin", "package manager"…
    public var title: String {
        switch self {
        case .tenantAdmin: "tenant admin"
        case .owner: "owner"
        case .packageManager: "package manager"
        case .assignmentManager: "assignment manager"
        case .reader: "reader"
        }
    }
}

/// What the admin pages and commands let a role do in a catalog.
public enum AdminAction: String, Sendable, Hashable, CaseIterable {
    /// See its packages' requests and assignments.
    case view
    /// Assign a person directly through a policy.
    case assign
    /// End an assignment.
    case remove
    /// Cancel a request that waits for a decision.
    case cancel
    /// Deliver again an assignment that is not fully delivered.
    case reprocess

    /// The roles that allow the action; tenant admins may do everything.
    public var allowedRoles: [AdminRole] {
        switch self {
        case .view: [.tenantAdmin, .owner, .packageManager, .assignmentManager, .reader]
        case .assign, .remove, .cancel, .reprocess: [.tenantAdmin, .owner, .packageManager, .assignmentManager]
        }
    }

    /// "to assign access packages in it", completing "You need to be … of the catalog X, or a tenant admin, …".
    var purpose: String {
        switch self {
        case .view: "to see its requests and assignments"
        case .assign: "to assign access packages in it"
        case .remove: "to remove assignments in it"
        case .cancel: "to cancel requests in it"
        case .reprocess: "to reprocess assignments in it"
        }
    }
}

/// Why someone may not do an admin action: the message names the roles that would allow it.
public struct AdminRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    /// The action refused; nil for a tenant-wide page (governed guests, reports).
    public var action: AdminAction?
    /// The roles the person holds where they tried (empty: none).
    public var held: [AdminRole]
    /// The sentence shown on the page or the command line.
    public var message: String

    public init(action: AdminAction?, held: [AdminRole], message: String) {
        self.action = action
        self.held = held
        self.message = message
    }

    public var description: String { message }
}

/// A catalog and the roles someone holds in it.
public struct AdminCatalog: Sendable, Hashable {
    public var catalog: Catalog
    /// In `AdminRole` order; `.tenantAdmin` first when the person is one.
    public var roles: [AdminRole]
}

/// Who may do what on the admin side: a pure function of the model's role holders.
public struct AdminAuthorization: Sendable {
    public let site: Site

    public init(site: Site) { self.site = site }

    /// Whether `email` is one of the tenant admins (`tenant.yaml`).
    public func isTenantAdmin(_ email: String) -> Bool {
        let email = email.lowercased()
        return site.tenant.admins.contains { $0.lowercased() == email }
    }

    /// The roles `email` holds in `catalog`, tenant admin included, in `AdminRole` order.
    public func roles(of email: String, in catalog: Catalog) -> [AdminRole] {
        let email = email.lowercased()
        func has(_ list: [String]) -> Bool { list.contains { $0.lowercased() == email } }
        var roles: [AdminRole] = []
        if isTenantAdmin(email) { roles.append(.tenantAdmin) }
        if has(catalog.roles.owners) { roles.append(.owner) }
        if has(catalog.roles.packageManagers) { roles.append(.packageManager) }
        if has(catalog.roles.assignmentManagers) { roles.append(.assignmentManager) }
        if has(catalog.roles.readers) { roles.append(.reader) }
        return roles
    }

    /// Whether `email` may do `action` in `catalog`; the refusal names the roles that would allow it.
    public func check(_ action: AdminAction, by email: String, catalog: Catalog) -> Result<Void, AdminRefusal> {
        let held = roles(of: email, in: catalog)
        if held.contains(where: action.allowedRoles.contains) { return .success(()) }
        let catalogRoles = action.allowedRoles.filter { $0 != .tenantAdmin }.map(\.title)
        let needed = catalogRoles.dropLast().joined(separator: ", ") + " or " + catalogRoles.last!
        var message = "You need to be \(Self.article(needed)) \(needed) of the catalog \(catalog.name), or a tenant admin, \(action.purpose)."
        if held == [.reader] {
            message += " As a reader of it you may only see its requests and assignments."
        }
        return .failure(AdminRefusal(action: action, held: held, message: message))
    }

    /// Whether `email` is a tenant admin, for what only they may do (`purpose`: "to see the governed guests").
    public func checkTenantAdmin(by email: String, _ purpose: String) -> Result<Void, AdminRefusal> {
        isTenantAdmin(email)
            ? .success(())
            : .failure(AdminRefusal(action: nil, held: [], message: "You need to be a tenant admin \(purpose)."))
    }

    /// The catalogs `email` has a role in (every catalog for a tenant admin), in model order.
    public func catalogs(of email: String) -> [AdminCatalog] {
        site.catalogs.compactMap { catalog in
            let roles = roles(of: email, in: catalog)
            return roles.isEmpty ? nil : AdminCatalog(catalog: catalog, roles: roles)
        }
    }

    /// Whether `email` holds any admin role at all.
    public func hasAnyRole(_ email: String) -> Bool {
        isTenantAdmin(email) || !catalogs(of: email).isEmpty
    }

    /// Whether `email` may do `action` on something of the package `packageID`. A package no longer in
    /// the model has no catalog: only tenant admins may act on what is left of it.
    public func check(_ action: AdminAction, by email: String, packageID: String) -> Result<Void, AdminRefusal> {
        if let package = site.package(packageID), let catalog = site.catalog(package.catalog) {
            return check(action, by: email, catalog: catalog)
        }
        if isTenantAdmin(email) { return .success(()) }
        return .failure(AdminRefusal(
            action: action, held: [],
            message: "You need to be a tenant admin \(action.purpose.replacingOccurrences(of: " in it", with: "")) of “\(packageID)”: that access package is no longer in the model, so no catalog role covers it."))
    }

    private static func article(_ words: String) -> String {
        words.first.map { "aeiou".contains($0) } == true ? "an" : "a"
    }
}

// MARK: - Actions

/// The admin actions of PRODUCT.md section 7 on the store: assign directly, remove, cancel,
/// reprocess. Each authorizes `by` first (the refusal says which role is missing), then changes
/// state with its audit entries and mail inside the caller's write transaction.
public struct Admin: Sendable {
    public let approvals: Approvals
    public let authorization: AdminAuthorization

    public init(approvals: Approvals) {
        self.approvals = approvals
        authorization = AdminAuthorization(site: approvals.site)
    }

    public var site: Site { approvals.site }
    var calendar: TenantCalendar { approvals.calendar }

    /// The form field naming the person to assign (the other fields are `RequestFormField`'s).
    public static let personField = "person"
    /// The form field holding why an admin removes or cancels.
    public static let reasonField = "reason"
    /// The longest reason accepted, in characters.
    public static let reasonMaxLength = 1000

    /// What a direct assignment did.
    public enum AssignOutcome: Sendable, Hashable {
        /// Delivered now, or scheduled when `assignment.state` is `delivering` (a custom start later).
        case assigned(requestID: String, assignment: AssignmentRecord)
        /// The policy requires approval: the request went to its approvers.
        case sentForApproval(requestID: String)
        case refused(AdminRefusal)
        /// No such package or policy.
        case notFound(String)
        /// Rules that keep this person from this package now (separation of duties, already assigned…).
        case blocked([String])
        /// Field problems (`person`, `justification`, `answer.<id>`, `start`, `end`) with the input to show again.
        case rejected(RejectedForm)
    }

    /// What a remove, cancel or reprocess did.
    public enum Outcome: Sendable, Hashable {
        /// Done; the sentence says what.
        case done(String)
        case refused(AdminRefusal)
        case notFound(String)
        /// Nothing to do in the current state (already ended, no longer pending…).
        case conflict(String)
        /// A field to correct (`reason`).
        case invalid(field: String, message: String)
    }

    // MARK: Assign

    /// `by` assigns `email` the package through `policyID`, with the answers (question id -> values)
    /// and the optional custom start and end days (`YYYY-MM-DD`) that `RequestSubmission.validate`
    /// accepts for that policy. The justification is optional for admins.
    ///
    /// The person must be on the policy's side (internal or external; any for `adminOnly`) and
    /// known: internal people in the directory, external people signed in once. Separation of
    /// duties, an open request or a live assignment block it. Creates an `add` request with actor
    /// kind `admin`: without approval it is delivered at once and the person gets no email
    /// (PRODUCT.md section 9); with approval it goes to the approvers like any request.
    public func assign(
        email rawEmail: String, package packageID: String, policy policyID: String, answers: [String: [String]] = [:],
        start: String? = nil, end: String? = nil, justification: String = "", by actor: String, db: StoreWriter,
        now: Date
    ) throws -> AssignOutcome {
        let actor = actor.lowercased()
        guard let package = site.package(packageID), let catalog = site.catalog(package.catalog) else {
            return .notFound("There is no access package “\(packageID)”.")
        }
        if case .failure(let refusal) = authorization.check(.assign, by: actor, catalog: catalog) { return .refused(refusal) }
        guard let policy = package.policy(policyID) else {
            return .notFound("\(package.name) has no policy “\(policyID)”.")
        }
        guard policy.enabled else {
            return .blocked(["The policy “\(policy.name)” of \(package.name) is turned off: it accepts no new assignments. Choose another policy."])
        }

        // The form: the person, then the policy's own fields as a requestor's form would be checked.
        let email = rawEmail.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        var fields: [String: [String]] = [:]
        for (id, values) in answers { fields[RequestFormField.answer(id), default: []] += values }
        if let start, !start.isEmpty { fields[RequestFormField.start] = [start] }
        if let end, !end.isEmpty { fields[RequestFormField.end] = [end] }
        if !justification.isEmpty { fields[RequestFormField.justification] = [justification] }
        var checked = policy
        if checked.justification == .required { checked.justification = .optional }
        var errors: [FieldError] = []
        var input: [String: [String]] = [Self.personField: [rawEmail]]
        let person = try db.person(email: email)
        if let problem = personProblem(email, raw: rawEmail, stored: person) {
            errors.append(FieldError(field: Self.personField, message: problem))
        }
        let submission: RequestSubmission?
        switch RequestSubmission.validate(fields, policy: checked, language: site.tenant.defaultLanguage, today: calendar.day(of: now)) {
        case .failure(let rejected):
            errors += rejected.errors
            input.merge(rejected.input) { a, _ in a }
            submission = nil
        case .success(let valid):
            input.merge(fields) { a, _ in a }
            submission = valid
        }
        guard errors.isEmpty, let submission else { return .rejected(RejectedForm(errors: errors, input: input)) }

        // The rules that keep this person from this package now.
        let requestor = Requestor(
            email: email, in: site, isGuest: person?.isGovernedGuest ?? false, isBlocked: person?.isBlocked ?? false)
        let name = try approvals.displayName(email, db: db)
        let blocks = try assignBlocks(package, policy: policy, catalog: catalog, requestor: requestor, name: name, db: db)
        if !blocks.isEmpty { return .blocked(blocks) }

        let requestID = approvals.newID()
        let record = RequestRecord(
            id: requestID, idempotencyKey: "admin:\(requestID)", kind: .add, actorKind: .admin, requestorEmail: email,
            packageID: package.id, policyID: policy.id, policySnapshot: PolicySnapshot.encode(policy, requestor: requestor),
            language: site.tenant.defaultLanguage, justification: submission.justification ?? "",
            answers: Self.answersJSON(submission.answers),
            requestedStart: submission.schedule?.start.map(calendar.startOfDay),
            requestedEnd: submission.schedule?.end.map(calendar.startOfDay),
            state: policy.requiresApproval ? .pendingApproval : .submitted,
            currentStage: policy.requiresApproval ? 1 : nil, createdAt: now)
        try db.insertRequest(record)
        try db.appendAudit(AuditEntry(
            at: now, actor: actor, subjectKind: "request", subjectID: requestID, action: "submitted",
            after: record.state.rawValue,
            reason: "direct assignment of \(package.name) to \(email) through “\(policy.name)” by an administrator"
                + (submission.justification.map { ": \($0)" } ?? "")))
        if policy.requiresApproval {
            try approvals.start(
                record, policy: policy,
                requestor: SnapshotRequestor(
                    domain: email.emailDomain ?? "", isInternal: requestor.isInternal,
                    organizationID: requestor.organization?.id),
                db: db, now: now)
            return .sentForApproval(requestID: requestID)
        }
        // No email for a direct assignment that needs no approval (PRODUCT.md section 9).
        var quiet = policy
        quiet.notifications.requestor = false
        let assignment = try approvals.delivery.deliver(
            record, policy: quiet, from: .submitted, actor: actor,
            reason: "assigned directly by an administrator; the policy needs no approval",
            assignmentID: approvals.newID(), db: db, now: now)
        return .assigned(requestID: requestID, assignment: assignment)
    }

    /// What is wrong with the typed person, if anything (the `person` field's message).
    private func personProblem(_ email: String, raw: String, stored: PersonRecord?) -> String? {
        if email.isEmpty { return "Person: write the email address of the person to assign." }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !email.contains(where: \.isWhitespace) else {
            return "Person: “\(raw)” is not an email address; write it as name@domain."
        }
        if site.tenant.isInternal(email: email) {
            if site.directory.person(email) == nil {
                return "Person: \(email) is not in the directory (site/people.yaml); add them there first, or check the spelling."
            }
        } else if stored == nil {
            return "Person: \(email) has never signed in to this portal. External people appear when they first sign in: ask them to sign in once, then assign again."
        }
        return nil
    }

    /// The blocks of a direct assignment, in the order to fix them.
    private func assignBlocks(
        _ package: AccessPackage, policy: Policy, catalog: Catalog, requestor: Requestor, name: String, db: StoreReader
    ) throws -> [String] {
        let who = name == requestor.email ? requestor.email : "\(name) (\(requestor.email))"
        if requestor.isBlocked {
            return ["\(who) is blocked from this portal; unblock them before assigning anything."]
        }
        guard catalog.enabled else {
            return ["The catalog \(catalog.name) is turned off: nothing in it can be assigned until it is enabled again."]
        }
        if !requestor.isInternal && !catalog.externalUsers {
            return ["The catalog \(catalog.name) is open to members of \(site.tenant.name) only, and \(who) is external."]
        }
        switch policy.requestors.audience {
        case .internalUsers where !requestor.isInternal:
            return ["The policy “\(policy.name)” is for \(Eligibility(site: site).describe(policy.requestors)), and \(who) is external: choose a policy for external people."]
        case .externalUsers where requestor.isInternal:
            return ["The policy “\(policy.name)” is for \(Eligibility(site: site).describe(policy.requestors)), and \(who) is a member of \(site.tenant.name): choose a policy for members."]
        default:
            break
        }
        var blocks: [String] = []
        let held = try db.heldPackageIDs(of: requestor.email)
        if held.contains(package.id) {
            blocks.append("\(who) already has \(package.name). Remove that assignment first, or let them extend it.")
        } else if let open = try db.requests(of: requestor.email, packageID: package.id, in: [.submitted, .pendingApproval]).first {
            blocks.append("\(who) already has a request for \(package.name) waiting for approval (submitted \(calendar.longDateAndTime(open.createdAt))). Cancel it first, or wait for its decision.")
        }
        for id in package.incompatible.packages where held.contains(id) {
            let other = site.package(id)?.name ?? id
            blocks.append("\(package.name) cannot be held together with \(other), which \(who) has (separation of duties). Remove \(other) first.")
        }
        for id in package.incompatible.groups where requestor.groups.contains(id) {
            blocks.append("Members of \(site.directory.group(id)?.name ?? id) cannot hold \(package.name) (separation of duties), and \(who) is one.")
        }
        return blocks
    }

    /// The answers column, as the request form stores it: `[{"questionID", "question", "values", "shown"}]`.
    static func answersJSON(_ answers: [GivenAnswer]) -> String {
        let rows = answers.map { ["questionID": $0.questionID, "question": $0.question, "values": $0.values, "shown": $0.shown] as [String: Any] }
        let data = (try? JSONSerialization.data(withJSONObject: rows, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    // MARK: Remove

    /// `by` ends the assignment for `reason` (required: the holder is told); its roles are revoked
    /// unless another live assignment grants them.
    public func remove(assignmentID: String, reason: String, by actor: String, db: StoreWriter, now: Date) throws -> Outcome {
        let actor = actor.lowercased()
        guard let a = try db.assignment(id: assignmentID) else {
            return .notFound("There is no assignment “\(assignmentID)”.")
        }
        if case .failure(let refusal) = authorization.check(.remove, by: actor, packageID: a.packageID) { return .refused(refusal) }
        let why: String
        switch checkedReason(reason, doing: "removes this access; the person is told") {
        case .invalid(let invalid): return invalid
        case .valid(let text): why = text
        }
        let packageName = site.package(a.packageID)?.name ?? a.packageID
        guard a.state != .expired else {
            let when = a.endedAt.map { " on \(calendar.longDateAndTime($0))" } ?? ""
            return .conflict("This assignment of \(packageName) already ended\(when); there is nothing to remove.")
        }
        try approvals.lifecycle.end(a, kind: .admin, actor: actor, reason: "removed by an administrator: \(why)", db: db, now: now)
        return .done("Removed \(packageName) from \(try approvals.displayName(a.email, db: db)).")
    }

    // MARK: Cancel

    /// `by` cancels a request that waits for a decision, for `reason` (required); the approvers
    /// of its current stage and (when its policy mails them) the requestor are told.
    public func cancel(requestID: String, reason: String, by actor: String, db: StoreWriter, now: Date) throws -> Outcome {
        let actor = actor.lowercased()
        guard let request = try db.request(id: requestID) else {
            return .notFound("There is no request “\(requestID)”.")
        }
        if case .failure(let refusal) = authorization.check(.cancel, by: actor, packageID: request.packageID) {
            return .refused(refusal)
        }
        let why: String
        switch checkedReason(reason, doing: "cancels this request; the requestor and the approvers are told") {
        case .invalid(let invalid): return invalid
        case .valid(let text): why = text
        }
        let packageName = site.package(request.packageID)?.name ?? request.packageID
        guard request.state == .pendingApproval || request.state == .submitted else {
            return .conflict("This request for \(packageName) is \(Self.words(request.state)); only a request that waits for a decision can be canceled.")
        }
        // Who waits on the current stage, read before the request leaves it.
        let waiting = request.state == .pendingApproval ? try approvals.load(requestID, db: db) : nil
        try db.setApprovalState(
            requestID: requestID,
            ApprovalStateRecord(
                state: .canceled, currentStage: nil, stageStartedAt: nil, escalated: false, remindersSent: 0,
                nextCheckAt: nil),
            at: now, expected: request.state)
        try db.appendAudit(AuditEntry(
            at: now, actor: actor, subjectKind: "request", subjectID: requestID, action: "canceled",
            before: request.state.rawValue, after: RequestState.canceled.rawValue,
            reason: "canceled by an administrator: \(why)"))
        let adminName = try approvals.displayName(actor, db: db)
        let snapshot = try? PolicySnapshot.decode(request.policySnapshot)
        var notice = waiting?.notice
        if notice == nil, let snapshot {
            notice = try approvals.notice(
                for: request, policy: snapshot.policy, organizationID: snapshot.requestor.organizationID, db: db)
        }
        if let waiting, let step = waiting.engine.cancel(waiting.progress, at: now) {
            for case .canceled(let notify) in step.effects {
                for approver in notify {
                    try db.enqueueMail(
                        approvals.notices.canceledByAdmin(toApprover: approver, waiting.notice, by: adminName, reason: why, at: now),
                        at: now)
                }
            }
        }
        if let notice, snapshot?.policy.notifications.requestor ?? true {
            try db.enqueueMail(approvals.notices.canceledByAdmin(notice, by: adminName, reason: why, at: now), at: now)
        }
        return .done("Canceled \(try approvals.displayName(request.requestorEmail, db: db))'s request for \(packageName).")
    }

    // MARK: Reprocess

    /// `by` delivers again an assignment: every role that is not active, or that goes through a
    /// command connector (also on a `delivered` assignment whose downstream drifted), is planned
    /// again now and the next sweep sends it (`Connectors`); on an ended assignment, the revokes
    /// that were given up are planned again. A scheduled assignment that has not started is left alone.
    public func reprocess(assignmentID: String, by actor: String, db: StoreWriter, now: Date) throws -> Outcome {
        let actor = actor.lowercased()
        guard let a = try db.assignment(id: assignmentID) else {
            return .notFound("There is no assignment “\(assignmentID)”.")
        }
        if case .failure(let refusal) = authorization.check(.reprocess, by: actor, packageID: a.packageID) {
            return .refused(refusal)
        }
        let packageName = site.package(a.packageID)?.name ?? a.packageID
        let holder = try approvals.displayName(a.email, db: db)
        switch try ConnectorPlan(site: site, notices: approvals.notices).reprocess(assignmentID: a.id, actor: actor, db: db, now: now) {
        case .planned(let events):
            let what = a.state == .expired ? "revoke" : "grant"
            return .done(
                "Planned \(events) \(what) event\(events == 1 ? "" : "s") again for \(packageName) of \(holder); the next sweep sends them.")
        case .notFound:
            return .notFound("There is no assignment “\(assignmentID)”.")
        case .notStarted:
            return .conflict("This assignment of \(packageName) starts on \(calendar.longDateAndTime(a.startsAt)); it is delivered then.")
        case .nothingToSend:
            return .conflict(a.state == .expired
                ? "This assignment of \(packageName) has ended and none of its revokes failed; there is nothing to send again."
                : "Nothing to reprocess: every role of this assignment of \(packageName) is active in the built-in directory and none goes through a connector.")
        }
    }

    // MARK: Helpers

    private enum Reason {
        case valid(String)
        case invalid(Outcome)
    }

    private func checkedReason(_ reason: String, doing what: String) -> Reason {
        let text = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty {
            return .invalid(.invalid(field: Self.reasonField, message: "Reason: say why an administrator \(what)."))
        }
        if text.count > Self.reasonMaxLength {
            return .invalid(.invalid(
                field: Self.reasonField,
                message: "Reason: at most \(Self.reasonMaxLength) characters (you wrote \(text.count))."))
        }
        return .valid(text)
    }

    /// `pendingApproval` -> "pending approval".
    static func words(_ state: RequestState) -> String {
        var words = ""
        for character in state.rawValue {
            if character.isUppercase { words += " " + character.lowercased() } else { words.append(character) }
        }
        return words
    }
}

// MARK: - Mail

extension Notices {
    /// An administrator canceled a request this approver was asked to decide.
    public func canceledByAdmin(toApprover approver: String, _ r: NoticeRequest, by admin: String, reason: String, at: Date)
        -> OutgoingMail
    {
        OutgoingMail(
            recipient: approver,
            subject: "\(r.requestorName)'s request for \(r.packageName) was canceled",
            body: """
                \(r.requestorName)'s request for \(r.packageName) was canceled by \(admin), an administrator (\(calendar.longDateAndTime(at))). No action is needed from you.

                Reason: \(reason)

                See the request at \(Paths.absolute(Paths.approval(r.requestID), baseURL: baseURL))

                """,
            kind: "approvalCanceled")
    }

    /// An administrator canceled the requestor's request.
    public func canceledByAdmin(_ r: NoticeRequest, by admin: String, reason: String, at: Date) -> OutgoingMail {
        OutgoingMail(
            recipient: r.requestorEmail, subject: "Your request for \(r.packageName) was canceled",
            body: """
                \(admin), an administrator, canceled your request for \(r.packageName) on \(calendar.longDateAndTime(at)). Nothing was granted.

                Reason: \(reason)

                See the request at \(Paths.absolute(Paths.myRequest(r.requestID), baseURL: baseURL))

                """,
            kind: "requestCanceled")
    }
}
