internal import Foundation
internal import GatehouseModel
internal import GatehouseStore
internal import Governance
internal import Portal
internal import Rendering
internal import Workflow

/// The admin pages under `/admin/` (PRODUCT.md section 7): what the signed-in person's catalog roles
/// let them see and do. Every page and every post checks the role on the server; a refusal is a
/// 403 page that names the role that is missing.
extension Actions {
    var admin: Admin { Admin(approvals: approvals) }

    /// Rows shown per package and list before the page says there are more.
    static let adminListLimit = 500

    /// A row form that came back with a message, kept with what was typed.
    struct AdminRowProblem {
        enum Kind { case remove, cancel, reprocess }
        var kind: Kind
        var id: String
        var message: String
        var reason: String
    }

    // MARK: Pages

    /// GET /admin/: the catalogs the person has a role in, with the role (every catalog for tenant admins).
    func adminHome(_ request: RequestContext) throws -> HTTPResponse {
        let visitor = try visitor(request)
        guard case .signedIn(let person, _) = visitor else {
            return try signInRequired(request, visitor: visitor, returnTo: Paths.admin)
        }
        let authorization = admin.authorization
        let isTenantAdmin = authorization.isTenantAdmin(person.email)
        let catalogs = authorization.catalogs(of: person.email)
        guard isTenantAdmin || !catalogs.isEmpty else {
            return views.message(
                status: .forbidden, title: "Not an administrator",
                text: "You need to be a tenant admin, or an owner, package manager, assignment manager or reader of a catalog, to use the administration pages. You have none of these roles.")
        }
        let rows = catalogs.map { entry -> [String: Any] in
            let packages = site.packages.filter { $0.catalog == entry.catalog.id }
            return [
                "name": entry.catalog.name, "url": Paths.adminCatalog(entry.catalog.id),
                "roles": Self.roleWords(entry.roles), "packages": packages.count,
                "state": entry.catalog.enabled ? (entry.catalog.externalUsers ? "Enabled, open to external users" : "Enabled, members only") : "Turned off",
            ]
        }
        return try views.page("admin-home", title: "Administration", [
            "name": person.displayName, "email": person.email,
            "catalogs": rows, "hasCatalogs": !rows.isEmpty,
            "tenantAdmin": isTenantAdmin
                ? ["guestsURL": Paths.adminGuests, "tenantName": site.tenant.name, "auditCSV": Paths.adminAuditCSV,
                   "auditJSONLines": Paths.adminAuditJSONLines, "organizationsCSV": Paths.adminOrganizationsCSV] as [String: Any]
                : false,
        ], signedInAs: person.displayName)
    }

    /// GET /admin/catalogs/<id>/: the catalog's packages with their live assignments and pending
    /// requests, and the forms the person's roles allow.
    func adminCatalog(_ request: RequestContext, id: String) throws -> HTTPResponse {
        let visitor = try visitor(request)
        guard case .signedIn(let person, _) = visitor else {
            return try signInRequired(request, visitor: visitor, returnTo: Paths.adminCatalog(id))
        }
        guard let catalog = site.catalog(id) else { return adminNotFound("There is no catalog “\(id)”.") }
        return try renderCatalog(catalog, person: person, problem: nil, status: .ok)
    }

    /// GET /admin/packages/<id>/assign?policy=<policy>: the direct assignment form for one policy.
    func adminAssignPage(_ request: RequestContext, packageID: String) throws -> HTTPResponse {
        let visitor = try visitor(request)
        guard case .signedIn(let person, _) = visitor else {
            return try signInRequired(request, visitor: visitor, returnTo: Paths.adminAssign(packageID))
        }
        guard let package = site.package(packageID), let catalog = site.catalog(package.catalog) else {
            return adminNotFound("There is no access package “\(packageID)”.")
        }
        if case .failure(let refusal) = admin.authorization.check(.assign, by: person.email, catalog: catalog) {
            return adminRefused(refusal, catalog: catalog)
        }
        return try renderAssign(
            package, catalog: catalog, policyID: request.query[FormField.policy], input: [:], errors: [:], problems: [],
            status: .ok, person: person)
    }

    /// POST /admin/packages/<id>/assign: assigns directly (or sends to the approvers) and goes back
    /// to the catalog; a problem comes back on the form with the input kept.
    func adminAssign(_ request: RequestContext, packageID: String) throws -> HTTPResponse {
        let form = try form(request)
        let visitor = try visitor(request)
        guard case .signedIn(let person, _) = visitor else {
            return try signInRequired(request, visitor: visitor, returnTo: Paths.adminAssign(packageID))
        }
        guard let package = site.package(packageID), let catalog = site.catalog(package.catalog) else {
            return adminNotFound("There is no access package “\(packageID)”.")
        }
        var fields: [String: [String]] = [:]
        for field in form.fields { fields[field.name, default: []].append(field.value) }
        let policyID = form[FormField.policy] ?? ""
        var answers: [String: [String]] = [:]
        for (name, values) in fields where name.hasPrefix(FormField.answerPrefix) {
            answers[String(name.dropFirst(FormField.answerPrefix.count))] = values
        }
        let now = clock()
        let outcome = try store.write { db in
            try admin.assign(
                email: form[Admin.personField] ?? "", package: package.id, policy: policyID, answers: answers,
                start: form[FormField.start], end: form[FormField.end], justification: form[FormField.justification] ?? "",
                by: person.email, db: db, now: now)
        }
        switch outcome {
        case .assigned(let requestID, let assignment):
            log("POST \(request.path): \(person.email) assigned \(package.id) to \(assignment.email) (request \(requestID))")
            return .redirect(to: SafeRedirect(Paths.adminCatalog(catalog.id)) ?? .home)
        case .sentForApproval(let requestID):
            log("POST \(request.path): \(person.email) sent \(package.id) for approval (request \(requestID))")
            return .redirect(to: SafeRedirect(Paths.adminCatalog(catalog.id)) ?? .home)
        case .refused(let refusal):
            return adminRefused(refusal, catalog: catalog)
        case .notFound(let text):
            return try renderAssign(
                package, catalog: catalog, policyID: nil, input: fields, errors: [:], problems: [text], status: .notFound,
                person: person)
        case .blocked(let blocks):
            return try renderAssign(
                package, catalog: catalog, policyID: policyID, input: fields, errors: [:], problems: blocks, status: .conflict,
                person: person)
        case .rejected(let rejected):
            var errors: [String: String] = [:]
            for error in rejected.errors where errors[error.field] == nil { errors[error.field] = error.message }
            return try renderAssign(
                package, catalog: catalog, policyID: policyID, input: fields, errors: errors, problems: [],
                status: .unprocessableContent, person: person)
        }
    }

    /// POST /admin/assignments/<id>/remove (field `reason`).
    func adminRemove(_ request: RequestContext, id: String) throws -> HTTPResponse {
        try adminRowAction(request, kind: .remove, id: id) { admin, reason, email, db, now in
            try admin.remove(assignmentID: id, reason: reason, by: email, db: db, now: now)
        } packageOf: { db in try db.assignment(id: id)?.packageID }
    }

    /// POST /admin/requests/<id>/cancel (field `reason`).
    func adminCancel(_ request: RequestContext, id: String) throws -> HTTPResponse {
        try adminRowAction(request, kind: .cancel, id: id) { admin, reason, email, db, now in
            try admin.cancel(requestID: id, reason: reason, by: email, db: db, now: now)
        } packageOf: { db in try db.request(id: id)?.packageID }
    }

    /// POST /admin/assignments/<id>/reprocess.
    func adminReprocess(_ request: RequestContext, id: String) throws -> HTTPResponse {
        try adminRowAction(request, kind: .reprocess, id: id) { admin, _, email, db, now in
            try admin.reprocess(assignmentID: id, by: email, db: db, now: now)
        } packageOf: { db in try db.assignment(id: id)?.packageID }
    }

    /// GET /admin/guests/: governed guests and whether and when they are blocked or removed (tenant admins).
    func adminGuests(_ request: RequestContext) throws -> HTTPResponse {
        let visitor = try visitor(request)
        guard case .signedIn(let person, _) = visitor else {
            return try signInRequired(request, visitor: visitor, returnTo: Paths.adminGuests)
        }
        if case .failure(let refusal) = admin.authorization.checkTenantAdmin(by: person.email, "to see the governed guests") {
            return views.message(status: .forbidden, title: "Not allowed", text: refusal.message, link: (Paths.admin, "Back to administration"))
        }
        let settings = site.tenant.externalUsers
        let limit = Self.adminListLimit
        let rows = try store.read { db -> [[String: Any]] in
            try db.governedGuests(limit: limit + 1).map { guest -> [String: Any] in
                let live = try db.activeAssignments(of: guest.person.email)
                return [
                    "name": guest.person.displayName, "email": guest.person.email,
                    "since": guest.person.governedGuestSince.map(calendar.longDate) ?? "—",
                    "holds": live.isEmpty ? "Nothing" : live.map { site.package($0.packageID)?.name ?? $0.packageID }.joined(separator: ", "),
                    "signIn": guest.person.isBlocked
                        ? "Blocked" + (guest.person.blockedReason.map { $0.isEmpty ? "" : ": \($0)" } ?? "")
                        : "Allowed",
                    "outlook": Self.guestOutlook(guest, holding: live.count, settings: settings, calendar: calendar),
                ]
            }
        }
        return try views.page("admin-guests", title: "Governed guests", [
            "guests": Array(rows.prefix(limit)), "isEmpty": rows.isEmpty,
            "more": rows.count > limit ? "Only the first \(limit) guests are shown." : false,
            "policy": Self.guestPolicyWords(settings),
            "adminURL": Paths.admin,
        ], signedInAs: person.displayName)
    }

    /// The downloads of the admin pages (PRODUCT.md section 11), made by `Reports`.
    enum AdminReport {
        case catalogAssignments(String)
        case auditCSV, auditJSONLines, organizations
    }

    /// GET /admin/reports/…: a catalog's assignments for anyone who may see the catalog; the audit
    /// log and the organizations for tenant admins.
    func adminReport(_ request: RequestContext, _ report: AdminReport) throws -> HTTPResponse {
        let visitor = try visitor(request)
        guard case .signedIn(let person, _) = visitor else {
            return try signInRequired(request, visitor: visitor, returnTo: request.path)
        }
        let reports = Reports(site: site)
        let authorization = admin.authorization
        let (body, type, file): ([UInt8], String, String)
        switch report {
        case .catalogAssignments(let id):
            guard let catalog = site.catalog(id) else { return adminNotFound("There is no catalog “\(id)”.") }
            if case .failure(let refusal) = authorization.check(.view, by: person.email, catalog: catalog) {
                return adminRefused(refusal, catalog: nil)
            }
            body = try store.read { try reports.assignmentsCSV(catalog: catalog.id, db: $0) }
            (type, file) = ("text/csv", "assignments-\(catalog.id).csv")
        case .auditCSV, .auditJSONLines, .organizations:
            if case .failure(let refusal) = authorization.checkTenantAdmin(by: person.email, "to download the audit log and the organizations") {
                return adminRefused(refusal, catalog: nil)
            }
            switch report {
            case .auditCSV:
                body = try store.read { try reports.auditCSV(db: $0) }
                (type, file) = ("text/csv", "audit.csv")
            case .auditJSONLines:
                body = try store.read { try reports.auditJSONLines(db: $0) }
                (type, file) = ("application/jsonl", "audit.jsonl")
            default:
                body = try store.read { try reports.organizationsCSV(db: $0) }
                (type, file) = ("text/csv", "organizations.csv")
            }
        }
        return HTTPResponse(status: .ok, headers: [
            HTTPResponse.Header("Content-Type", "\(type); charset=utf-8"),
            HTTPResponse.Header("Content-Disposition", "attachment; filename=\"\(file)\""),
            HTTPResponse.Header("Cache-Control", "no-store"),
            HTTPResponse.Header("X-Content-Type-Options", "nosniff"),
        ], body: body)
    }

    // MARK: Rendering

    private func renderCatalog(_ catalog: Catalog, person: PersonRecord, problem: AdminRowProblem?, status: HTTPStatus)
        throws -> HTTPResponse
    {
        let authorization = admin.authorization
        if case .failure(let refusal) = authorization.check(.view, by: person.email, catalog: catalog) {
            return adminRefused(refusal, catalog: nil)
        }
        func allowed(_ action: AdminAction) -> Bool {
            if case .success = authorization.check(action, by: person.email, catalog: catalog) { return true }
            return false
        }
        let (canAssign, canRemove, canCancel, canReprocess) = (allowed(.assign), allowed(.remove), allowed(.cancel), allowed(.reprocess))
        let now = clock()
        let limit = Self.adminListLimit
        let packages = site.packages.filter { $0.catalog == catalog.id }
        let packageRows = try store.read { db -> [[String: Any]] in
            try packages.map { package -> [String: Any] in
                let assignments = try db.liveAssignments(packageID: package.id, limit: limit + 1)
                let pending = try db.pendingRequests(packageID: package.id, limit: limit + 1)
                let assignmentRows = try assignments.prefix(limit).map { a -> [String: Any] in
                    let mine = problem.flatMap { $0.id == a.id && $0.kind != .cancel ? $0 : nil }
                    let reprocessable = a.state == .partiallyDelivered || a.state == .deliveryFailed
                        || (a.state == .delivering && a.startsAt <= now)
                    return [
                        "person": try approvals.displayName(a.email, db: db), "email": a.email,
                        "policy": package.policy(a.policyID)?.name ?? a.policyID,
                        "state": Self.assignmentWords(a, now: now, calendar: calendar),
                        "start": calendar.longDate(a.startsAt),
                        "end": a.endsAt.map(calendar.longEnd) ?? "No end date",
                        "problem": mine?.message ?? false,
                        "remove": canRemove
                            ? ["action": Paths.adminRemove(a.id), "id": a.id, "reasonName": Admin.reasonField,
                               "reason": mine?.kind == .remove ? mine!.reason : "", "invalid": mine?.kind == .remove,
                               "maxLength": Admin.reasonMaxLength] as [String: Any]
                            : false,
                        "reprocess": canReprocess && reprocessable ? ["action": Paths.adminReprocess(a.id)] : false,
                    ]
                }
                let pendingRows = try pending.prefix(limit).map { r -> [String: Any] in
                    let mine = problem.flatMap { $0.id == r.id && $0.kind == .cancel ? $0 : nil }
                    let stages = (try? PolicySnapshot.decode(r.policySnapshot))?.policy.approvalStages.count ?? 0
                    var state = Self.stateName(r.state)
                    if r.state == .pendingApproval, let stage = r.currentStage, stages > 1 { state += ", stage \(stage) of \(stages)" }
                    return [
                        "person": try approvals.displayName(r.requestorEmail, db: db), "email": r.requestorEmail,
                        "what": (r.kind == .extend ? "Extension" : "New access") + (r.actorKind == .admin ? ", by an administrator" : ""),
                        "policy": package.policy(r.policyID)?.name ?? RequestRecords.policyName(inSnapshot: r.policySnapshot) ?? r.policyID,
                        "state": state, "submitted": calendar.longDateAndTime(r.createdAt),
                        "problem": mine?.message ?? false,
                        "cancel": canCancel
                            ? ["action": Paths.adminCancel(r.id), "id": r.id, "reasonName": Admin.reasonField,
                               "reason": mine?.reason ?? "", "invalid": mine != nil, "maxLength": Admin.reasonMaxLength] as [String: Any]
                            : false,
                    ]
                }
                return [
                    "name": package.name, "id": package.id, "hidden": package.hidden,
                    "assignURL": canAssign && package.policies.contains(where: \.enabled) ? Paths.adminAssign(package.id) : false,
                    "assignments": assignmentRows, "hasAssignments": !assignmentRows.isEmpty,
                    "moreAssignments": assignments.count > limit ? "Only the \(limit) latest assignments are shown." : false,
                    "pending": pendingRows, "hasPending": !pendingRows.isEmpty,
                    "morePending": pending.count > limit ? "Only the \(limit) oldest requests are shown." : false,
                ]
            }
        }
        let roles = authorization.roles(of: person.email, in: catalog)
        return try views.page("admin-catalog", title: catalog.name, [
            "name": catalog.name, "description": catalog.description,
            "roles": Self.roleWords(roles),
            "readOnly": !(canAssign || canRemove || canCancel || canReprocess),
            "state": catalog.enabled ? false : "This catalog is turned off: nothing in it can be requested or assigned.",
            "packages": packageRows, "hasPackages": !packageRows.isEmpty,
            "adminURL": Paths.admin, "assignmentsCSV": Paths.adminCatalogAssignmentsCSV(catalog.id),
            "problem": problem?.message ?? false,
        ], status: status, signedInAs: person.displayName)
    }

    private func renderAssign(
        _ package: AccessPackage, catalog: Catalog, policyID: String?, input: [String: [String]], errors: [String: String],
        problems: [String], status: HTTPStatus, person: PersonRecord
    ) throws -> HTTPResponse {
        let enabled = package.policies.filter(\.enabled)
        guard let policy = enabled.first(where: { $0.id == policyID }) ?? enabled.first else {
            return views.message(
                status: .conflict, title: "Cannot be assigned",
                text: "No policy of \(package.name) is enabled, so it cannot be assigned. Enable one in its file first.",
                link: (Paths.adminCatalog(catalog.id), "Back to \(catalog.name)"))
        }
        let eligibility = Eligibility(site: site)
        func value(_ name: String) -> String { input[name]?.first ?? "" }
        func error(_ name: String) -> Any { errors[name].map { $0 as Any } ?? false }
        let language = site.tenant.defaultLanguage
        let questions = policy.questions.map { q -> [String: Any] in
            let name = FormField.answer(q.id)
            let given = input[name] ?? []
            var context: [String: Any] = [
                "id": "q-" + q.id, "name": name, "label": q.text.text(in: language), "required": q.required,
                "shortText": q.kind == .shortText, "longText": q.kind == .longText, "choice": q.kind == .multipleChoice,
                "value": given.first ?? "", "error": error(name), "maxLength": q.effectiveMaxLength.map { $0 as Any } ?? false,
            ]
            context["choices"] = q.choices.enumerated().map { number, choice -> [String: Any] in
                [
                    "id": "q-\(q.id)-\(number + 1)", "name": name, "value": choice.value,
                    "label": choice.text.text(in: language), "checked": given.contains(choice.value),
                    "inputType": q.allowsMultiple ? "checkbox" : "radio",
                ]
            }
            return context
        }
        let approval = policy.requiresApproval
            ? "This policy requires approval: the assignment goes to its approvers as a request, and the person is told when it is decided."
            : "This policy needs no approval: the person gets the access at once (no email is sent for a direct assignment)."
        return try views.page("admin-assign", title: "Assign \(package.name)", [
            "package": package.name, "catalog": catalog.name, "catalogURL": Paths.adminCatalog(catalog.id),
            "problems": problems, "hasProblems": !problems.isEmpty,
            "choose": enabled.count > 1
                ? ["action": Paths.adminAssign(package.id), "name": FormField.policy,
                   "policies": enabled.map { ["id": $0.id, "name": $0.name, "selected": $0.id == policy.id] }] as [String: Any]
                : false,
            "policyName": policy.name,
            "policyWho": eligibility.describe(policy.requestors),
            "approval": approval,
            "form": [
                "action": Paths.adminAssign(package.id), "policyField": FormField.policy, "policy": policy.id,
                "personName": Admin.personField, "person": value(Admin.personField), "personError": error(Admin.personField),
                "justification": policy.justification == .none ? false : [
                    "name": FormField.justification, "value": value(FormField.justification),
                    "error": error(FormField.justification), "maxLength": FormField.justificationMaxLength,
                ] as [String: Any],
                "questions": questions,
                "schedule": policy.lifecycle.customSchedule ? [
                    "startName": FormField.start, "start": value(FormField.start), "startError": error(FormField.start),
                    "endName": FormField.end, "end": value(FormField.end), "endError": error(FormField.end),
                ] as [String: Any] : false,
            ] as [String: Any],
        ], status: status, signedInAs: person.displayName)
    }

    /// Runs a row action (remove, cancel, reprocess) in one write transaction and answers: back to the
    /// catalog when done, the catalog again with the message beside the row when the reason is missing.
    private func adminRowAction(
        _ request: RequestContext, kind: AdminRowProblem.Kind, id: String,
        _ action: (Admin, String, String, StoreWriter, Date) throws -> Admin.Outcome,
        packageOf: (StoreReader) throws -> String?
    ) throws -> HTTPResponse {
        let form = try form(request)
        let visitor = try visitor(request)
        guard case .signedIn(let person, _) = visitor else {
            return try signInRequired(request, visitor: visitor, returnTo: returnPath(for: request))
        }
        let reason = form[Admin.reasonField] ?? ""
        let now = clock()
        let admin = admin
        let (outcome, packageID) = try store.write { db in
            (try action(admin, reason, person.email, db, now), try packageOf(db))
        }
        let catalog = packageID.flatMap { site.package($0) }.flatMap { site.catalog($0.catalog) }
        switch outcome {
        case .done(let text):
            log("POST \(request.path): \(person.email): \(text)")
            return .redirect(to: SafeRedirect(catalog.map { Paths.adminCatalog($0.id) } ?? Paths.admin) ?? .home)
        case .refused(let refusal):
            return adminRefused(refusal, catalog: catalog)
        case .notFound(let text):
            return adminNotFound(text)
        case .conflict(let text):
            return views.message(
                status: .conflict, title: "Nothing to do", text: text,
                link: catalog.map { (Paths.adminCatalog($0.id), "Back to \($0.name)") } ?? (Paths.admin, "Back to administration"))
        case .invalid(_, let message):
            guard let catalog else {
                return views.message(status: .unprocessableContent, title: "The form is incomplete", text: message, link: (Paths.admin, "Back to administration"))
            }
            return try renderCatalog(
                catalog, person: person, problem: AdminRowProblem(kind: kind, id: id, message: message, reason: reason),
                status: .unprocessableContent)
        }
    }

    private func adminRefused(_ refusal: AdminRefusal, catalog: Catalog?) -> HTTPResponse {
        views.message(
            status: .forbidden, title: "Not allowed", text: refusal.message,
            link: catalog.map { (Paths.adminCatalog($0.id), "Back to \($0.name)") } ?? (Paths.admin, "Back to administration"))
    }

    private func adminNotFound(_ text: String) -> HTTPResponse {
        views.message(status: .notFound, title: "Not found", text: text, link: (Paths.admin, "Back to administration"))
    }

    // MARK: Words

    /// "tenant admin, owner".
    static func roleWords(_ roles: [AdminRole]) -> String {
        roles.map(\.title).joined(separator: ", ").capitalizedFirst
    }

    static func assignmentWords(_ a: AssignmentRecord, now: Date, calendar: TenantCalendar) -> String {
        switch a.state {
        case .delivering: a.startsAt > now ? "Scheduled" : "Delivering"
        case .delivered: "Delivered"
        case .partiallyDelivered: "Partially delivered"
        case .deliveryFailed: "Delivery failed"
        case .expired: "Ended"
        }
    }

    /// What the tenant settings do to a guest who loses their last access, in words.
    static func guestPolicyWords(_ settings: ExternalUserSettings) -> String {
        let block = settings.blockSignIn ? "their sign-in is blocked" : "they can still sign in"
        let remove = settings.removeAfterDays.map { $0 == 0 ? "they are removed at once" : "they are removed \($0) day\($0 == 1 ? "" : "s") later" }
            ?? "they are never removed"
        return "When a governed guest loses their last access package, \(block) and \(remove). Changes to these settings apply to guests who lose their access afterwards."
    }

    /// Whether and when this guest is or will be blocked or removed.
    static func guestOutlook(_ guest: GuestRecord, holding: Int, settings: ExternalUserSettings, calendar: TenantCalendar) -> String {
        if let removed = guest.removedAt { return "Removed on \(calendar.longDateAndTime(removed))." }
        if let lost = guest.lostLastAssignmentAt, holding == 0 {
            let removal = guest.removeAt.map { "will be removed on \(calendar.longDateAndTime($0))" } ?? "will not be removed"
            return "Lost their last access on \(calendar.longDateAndTime(lost)); \(removal)."
        }
        if holding == 0 { return "Holds nothing; the next sweep applies the guest settings." }
        let block = settings.blockSignIn ? "sign-in blocked" : "sign-in not blocked"
        let remove = settings.removeAfterDays.map { $0 == 0 ? "removed at once" : "removed \($0) day\($0 == 1 ? "" : "s") later" } ?? "never removed"
        return "Keeps access while holding a package; after the last one ends: \(block), \(remove)."
    }
}

extension String {
    fileprivate var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
