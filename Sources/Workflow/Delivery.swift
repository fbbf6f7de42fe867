public import Foundation
public import GatehouseModel
public import GatehouseStore
public import Governance

/// Turns an approved request into an assignment with its resource roles (PRODUCT.md section 5),
/// inside the caller's write transaction, with its audit entries and mail.
public struct Delivery: Sendable {
    public let site: Site
    public let calendar: TenantCalendar
    public let notices: Notices

    public init(site: Site, calendar: TenantCalendar) {
        self.site = site
        self.calendar = calendar
        notices = Notices(baseURL: site.tenant.baseURL, calendar: calendar)
    }

    /// Approves `request` (now in `previous`) at `now` and delivers it through `policy` (the request's
    /// snapshot): the clock starts now, or at the approved custom start when later, and the end comes
    /// from the policy then. A future start leaves the request `scheduled` and the assignment
    /// `delivering` until ``start(_:db:now:)``. Roles whose resource has a command connector are
    /// `pending` with an attempt planned now, and the assignment and request `delivering` until
    /// ``Connectors/attemptDue(now:)`` records the answers. An external requestor becomes a governed
    /// guest, and one from an unknown domain proposes a connected organization.
    ///
    /// `prepared` (from ``prepare(_:policy:now:)`` with the same request, policy and `now`) saves the
    /// calendar work and the mail text inside the caller's write transaction. `recorded`: the
    /// caller inserted the request already in `prepared.requestState`, so its row is not written
    /// again (the audit log still tells each step). `requestor`: the requestor's flags, when the
    /// caller read them in this transaction.
    @discardableResult
    public func deliver(
        _ request: RequestRecord, policy: Policy, from previous: RequestState, actor: String, reason: String,
        assignmentID: String, db: StoreWriter, now: Date, prepared: PreparedDelivery? = nil, recorded: Bool = false,
        requestor: PersonFlags? = nil
    ) throws -> AssignmentRecord {
        let prepared = prepared ?? prepare(request, policy: policy, now: now)
        let schedule = prepared.schedule
        let startsLater = schedule.start > now
        let package = site.package(request.packageID)
        // Roles with a command connector stay pending until it answers (Connectors.attemptDue, after commit).
        let viaConnector = { (ref: ResourceRoleRef) in site.connector(packageID: request.packageID, resourceID: ref.resource) != nil }
        let awaitsConnector = self.awaitsConnector(request.packageID, startsLater: startsLater)
        let assignment = AssignmentRecord(
            id: assignmentID, requestID: request.id, email: request.requestorEmail, packageID: request.packageID,
            policyID: request.policyID, state: startsLater || awaitsConnector ? .delivering : .delivered,
            startsAt: schedule.start, endsAt: schedule.end)
        try db.insertAssignment(
            assignment,
            grants: (package?.resources ?? []).map {
                ResourceGrant(resourceID: $0.resource, role: $0.role, state: startsLater || viaConnector($0) ? .pending : .active)
            },
            at: now,
            nextCheckAt: AccessLifecycle(calendar: calendar).nextCheck(
                start: schedule.start, end: schedule.end, remindersSent: 0,
                remindersApply: policy.lifecycle.extensionAllowed))
        if awaitsConnector { try db.planPendingGrantAttempts(assignmentID: assignmentID, at: now) }
        let state = prepared.requestState
        if !recorded {
            try db.setApprovalState(requestID: request.id, Self.approvalState(state), at: now, expected: previous)
        }
        try db.appendAudit(AuditEntry(
            at: now, actor: actor, subjectKind: "request", subjectID: request.id, action: "approved",
            before: previous.rawValue, after: RequestState.approved.rawValue, reason: reason))
        try db.appendAudit(AuditEntry(
            at: now, actor: "system", subjectKind: "request", subjectID: request.id,
            action: state.rawValue, before: RequestState.approved.rawValue, after: state.rawValue,
            reason: "assignment \(assignmentID)" + (startsLater ? " starts \(calendar.longDateAndTime(schedule.start))" : "")
                + (awaitsConnector ? ", waiting for its connectors" : "")))

        if let person = try requestor ?? db.personFlags(email: request.requestorEmail), person.isExternal {
            if !person.isGovernedGuest {
                try db.markGovernedGuest(email: person.email, since: now)
                try db.appendAudit(AuditEntry(
                    at: now, actor: "system", subjectKind: "person", subjectID: person.email, action: "governedGuest",
                    after: "governed guest", reason: "first approved request \(request.id)"))
            }
            if let snapshot = try? PolicySnapshot.decode(request.policySnapshot),
               snapshot.requestor.organizationID == nil, !snapshot.requestor.isInternal, !snapshot.requestor.domain.isEmpty,
               try db.proposeOrganization(domain: snapshot.requestor.domain, requestID: request.id, at: now)
            {
                try db.appendAudit(AuditEntry(
                    at: now, actor: "system", subjectKind: "organization", subjectID: snapshot.requestor.domain,
                    action: "proposed", after: "proposed", reason: "first approved request \(request.id) from this domain"))
            }
            // Only external people are guests; an internal requestor has nothing to restore.
            try Guests(site: site, calendar: calendar).assignmentDelivered(email: request.requestorEmail, db: db, now: now)
        }

        // Through connectors, "you now have access" waits until they all answered (ConnectorPlan.settle).
        if policy.notifications.requestor, !awaitsConnector {
            try db.enqueueMail(prepared.mail, at: now)
        }
        return assignment
    }

    /// What ``deliver(_:policy:from:actor:reason:assignmentID:db:now:prepared:)`` computes without
    /// the database: the assignment's schedule and the mail that tells the requestor. A submission
    /// prepares it before taking the write lock.
    public func prepare(_ request: RequestRecord, policy: Policy, now: Date) -> PreparedDelivery {
        let requested = RequestedSchedule(
            start: request.requestedStart.map(calendar.day(of:)), end: request.requestedEnd.map(calendar.day(of:)))
        let schedule = AssignmentSchedule(
            expiration: policy.lifecycle.expiration, approvedAt: now, requested: requested, calendar: calendar)
        let name = site.package(request.packageID)?.name ?? request.packageID
        let startsLater = schedule.start > now
        let mail = startsLater
            ? notices.scheduled(to: request.requestorEmail, packageName: name, start: schedule.start, end: schedule.end)
            : notices.delivered(to: request.requestorEmail, packageName: name, end: schedule.end)
        let state: RequestState = startsLater
            ? .scheduled : awaitsConnector(request.packageID, startsLater: false) ? .delivering : .delivered
        return PreparedDelivery(schedule: schedule, mail: mail, requestState: state)
    }

    /// The request's approval columns once delivered (or scheduled, or waiting for connectors).
    public static func approvalState(_ state: RequestState) -> ApprovalStateRecord {
        ApprovalStateRecord(
            state: state, currentStage: nil, stageStartedAt: nil, escalated: false, remindersSent: 0, nextCheckAt: nil)
    }

    /// Whether delivering `packageID` now waits for a command connector (some role's resource has one).
    private func awaitsConnector(_ packageID: String, startsLater: Bool) -> Bool {
        guard !startsLater, let package = site.package(packageID) else { return false }
        return package.resources.contains { site.connector(packageID: packageID, resourceID: $0.resource) != nil }
    }

    /// Delivers an assignment whose scheduled start has come: its grants become active, it and its
    /// request become `delivered`, and the holder is told. Roles with a command connector stay
    /// `pending` with an attempt planned now, and the assignment `delivering` until the connectors
    /// answer (``Connectors/attemptDue(now:)``). Does nothing if it is no longer waiting.
    public func start(_ assignment: AssignmentRecord, db: StoreWriter, now: Date) throws {
        // Started already when its connector attempts are planned: it waits for them, not for its start.
        guard let current = try db.assignment(id: assignment.id), current.state == .delivering,
              current.startsAt <= now, try !db.hasPlannedGrantAttempts(assignmentID: current.id) else { return }
        var awaitsConnector = false
        for grant in try db.grants(assignmentID: current.id) where grant.grant.state == .pending {
            if site.connector(packageID: current.packageID, resourceID: grant.grant.resourceID) != nil {
                awaitsConnector = true
                continue
            }
            try db.setGrantState(
                assignmentID: current.id, resourceID: grant.grant.resourceID, role: grant.grant.role, .active, at: now)
        }
        if awaitsConnector {
            try db.planPendingGrantAttempts(assignmentID: current.id, at: now)
        } else {
            try db.setAssignmentState(id: current.id, .delivered)
        }
        let state: RequestState = awaitsConnector ? .delivering : .delivered
        let request = try db.request(id: current.requestID)
        if let request, request.state == .scheduled {
            try db.setApprovalState(
                requestID: request.id,
                ApprovalStateRecord(
                    state: state, currentStage: nil, stageStartedAt: nil, escalated: false, remindersSent: 0,
                    nextCheckAt: nil),
                at: now, expected: .scheduled)
        }
        try db.appendAudit(AuditEntry(
            at: now, actor: "system", subjectKind: "request", subjectID: current.requestID, action: state.rawValue,
            before: RequestState.scheduled.rawValue, after: state.rawValue,
            reason: "assignment \(current.id) started" + (awaitsConnector ? ", waiting for its connectors" : "")))
        let notify = request.flatMap { try? PolicySnapshot.decode($0.policySnapshot) }?.policy.notifications.requestor ?? true
        if notify, !awaitsConnector {
            try db.enqueueMail(
                notices.delivered(
                    to: current.email, packageName: site.package(current.packageID)?.name ?? current.packageID,
                    end: current.endsAt),
                at: now)
        }
    }
}

/// The part of a delivery that needs no database (``Delivery/prepare(_:policy:now:)``).
public struct PreparedDelivery: Sendable {
    public var schedule: AssignmentSchedule
    /// "You now have access" or "starts on", as the schedule says.
    public var mail: OutgoingMail
    /// Where the request ends up: `scheduled`, `delivering` (waiting for connectors) or `delivered`.
    public var requestState: RequestState
}
