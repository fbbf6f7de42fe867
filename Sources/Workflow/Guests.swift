public import Foundation
public import GatehouseModel
public import GatehouseStore
public import Governance

/// The external-user lifecycle of PRODUCT.md section 6: when a governed guest loses their last
/// assignment, the tenant settings in force at that moment decide whether they are blocked and when
/// they are removed; later setting changes are not retroactive. Guests Gatehouse did not bring in
/// are never touched. Runs inside the caller's write transaction.
public struct Guests: Sendable {
    public let site: Site
    public let calendar: TenantCalendar

    /// The reason recorded when the lifecycle blocks a guest; a new assignment lifts only this block.
    public static let blockReason = "Your access through this portal has ended, so your guest account is blocked. Ask the person who invited you if you need access again."

    public init(site: Site, calendar: TenantCalendar) {
        self.site = site
        self.calendar = calendar
    }

    /// After an assignment of `email` ended: if it was a governed guest's last one, block and plan
    /// the removal as the tenant's settings say now.
    public func assignmentEnded(email: String, db: StoreWriter, now: Date) throws {
        guard let guest = try db.guest(email: email), guest.person.isGovernedGuest, guest.removedAt == nil,
              try db.activeAssignments(of: email).isEmpty else { return }
        let settings = site.tenant.externalUsers
        let removeAt = settings.removeAfterDays.map { calendar.adding(days: $0, to: now) }
        try db.setGuestLoss(email: email, at: now, removeAt: removeAt)
        var what: [String] = []
        if settings.blockSignIn && !guest.person.isBlocked {
            try db.setBlocked(email: email, reason: Self.blockReason)
            try db.endSessions(email: email, at: now)
            what.append("blocked")
        }
        if let removeAt { what.append("to be removed on \(calendar.longDateAndTime(removeAt))") }
        try db.appendAudit(AuditEntry(
            at: now, actor: "system", subjectKind: "person", subjectID: guest.person.email, action: "lostLastAssignment",
            after: what.isEmpty ? "kept (tenant settings)" : what.joined(separator: ", "),
            reason: "the governed guest's last assignment ended; blockSignIn \(settings.blockSignIn ? "on" : "off"), removeAfterDays \(settings.removeAfterDays.map(String.init) ?? "off")"))
        if let removeAt, removeAt <= now { try remove(email: email, db: db, now: now) }
    }

    /// After `email` received an assignment: a planned removal is off, and a block the lifecycle set is lifted.
    public func assignmentDelivered(email: String, db: StoreWriter, now: Date) throws {
        guard let guest = try db.guest(email: email), guest.person.isGovernedGuest, guest.removedAt == nil,
              guest.lostLastAssignmentAt != nil || guest.person.blockedReason == Self.blockReason else { return }
        try db.setGuestLoss(email: email, at: nil, removeAt: nil)
        if guest.person.blockedReason == Self.blockReason { try db.setBlocked(email: email, reason: nil) }
        try db.appendAudit(AuditEntry(
            at: now, actor: "system", subjectKind: "person", subjectID: guest.person.email, action: "guestRestored",
            before: guest.person.isBlocked ? "blocked" : "access ended", after: "active guest",
            reason: "a new assignment was delivered"))
    }

    /// Removes a guest whose planned removal has come (the sweep): blocked for good, sessions ended,
    /// marked removed; their requests and the audit log keep their history.
    public func remove(email: String, db: StoreWriter, now: Date) throws {
        guard let guest = try db.guest(email: email), guest.removedAt == nil, let removeAt = guest.removeAt,
              removeAt <= now else { return }
        guard try db.activeAssignments(of: email).isEmpty else {
            try db.setGuestLoss(email: email, at: nil, removeAt: nil)
            return
        }
        try db.markRemoved(email: email, at: now)
        try db.setBlocked(email: email, reason: "Your guest account was removed from \(site.tenant.name).")
        try db.endSessions(email: email, at: now)
        try db.appendAudit(AuditEntry(
            at: now, actor: "system", subjectKind: "person", subjectID: guest.person.email, action: "guestRemoved",
            before: "governed guest", after: "removed",
            reason: "no assignment since \(guest.lostLastAssignmentAt.map(calendar.longDateAndTime) ?? "?"); removal planned then"))
    }
}
