public import Foundation
public import GatehouseStore
internal import Governance

/// What one sweep did.
public struct SweepReport: Sendable, Hashable, CustomStringConvertible {
    /// Pending requests looked at because something was due.
    public var requestsChecked = 0
    public var expired = 0
    public var escalated = 0
    public var reminded = 0
    /// Scheduled assignments whose start came and that were delivered.
    public var started = 0
    /// Assignments that reached their end.
    public var ended = 0
    /// Holders reminded to extend.
    public var extensionReminders = 0
    /// Governed guests removed after their last assignment.
    public var guestsRemoved = 0
    /// Grant and revoke events handed to command connectors.
    public var connectorEvents = 0
    /// Of those, the ones that failed (retried later, or given up: `connectorGaveUp`).
    public var connectorFailures = 0
    /// Events that failed for the last time: grants now `failed`, revokes given up.
    public var connectorGaveUp = 0
    /// Request forms kept for someone signing in that expired unused, deleted.
    public var draftsRemoved = 0
    /// Requests or assignments that failed (logged, retried by the next sweep).
    public var failed = 0

    public init() {}

    public var description: String {
        "checked \(requestsChecked) pending request\(requestsChecked == 1 ? "" : "s"): \(expired) expired, "
            + "\(escalated) escalated, \(reminded) reminded; \(started) scheduled assignment\(started == 1 ? "" : "s") started, "
            + "\(ended) ended, \(extensionReminders) extension reminder\(extensionReminders == 1 ? "" : "s"); "
            + "\(guestsRemoved) guest\(guestsRemoved == 1 ? "" : "s") removed"
            + (connectorEvents > 0
                ? "; \(connectorEvents) connector event\(connectorEvents == 1 ? "" : "s") sent, \(connectorFailures) failed"
                    + (connectorGaveUp > 0 ? " (\(connectorGaveUp) given up)" : "") : "")
            + (draftsRemoved > 0 ? "; \(draftsRemoved) expired form\(draftsRemoved == 1 ? "" : "s") deleted" : "")
            + (failed > 0 ? "; \(failed) failed (see above)" : "")
    }
}

/// The time-driven work of PRODUCT.md section 5 that concerns approvals and delivery: approval
/// timeouts, escalations, reminders, and assignments whose scheduled start has come.
///
/// Idempotent: each request's `next_check_at` moves past `now` once its due work is done, so a
/// second run at the same instant finds nothing. Safe beside the handler and another sweep: each
/// batch is one IMMEDIATE transaction that re-reads every request before changing it.
public struct Sweeper: Sendable {
    public let store: Store
    public let approvals: Approvals
    /// Sends the grant and revoke events owed to command connectors; nil: none are sent.
    public let connectors: Connectors?
    public var batchSize: Int
    let log: @Sendable (String) -> Void

    public init(
        store: Store, approvals: Approvals, connectors: Connectors? = nil, batchSize: Int = 500,
        log: @escaping @Sendable (String) -> Void
    ) {
        self.store = store
        self.approvals = approvals
        self.connectors = connectors
        self.batchSize = batchSize
        self.log = log
    }

    /// Does everything due at `now`.
    public func run(now: Date) throws -> SweepReport {
        var report = SweepReport()
        try sweepRequests(now: now, into: &report)
        try startAssignments(now: now, into: &report)
        try endAndRemind(now: now, into: &report)
        try removeGuests(now: now, into: &report)
        connectorAttempts(now: now, into: &report)
        // What people typed before signing in is not kept past its hour.
        report.draftsRemoved = try store.write { try $0.deleteExpiredDrafts(now: now) }
        return report
    }

    /// Last, so that the revokes of assignments that ended in this run go out in it.
    private func connectorAttempts(now: Date, into report: inout SweepReport) {
        guard let connectors else { return }
        do {
            let done = try connectors.attemptDue(now: now)
            report.connectorEvents += done.sent
            report.connectorFailures += done.failed + done.gaveUp
            report.connectorGaveUp += done.gaveUp
            report.failed += done.errors
        } catch {
            log("gatehouse sweep: connectors: \(error)")
            report.failed += 1
        }
    }

    private func sweepRequests(now: Date, into report: inout SweepReport) throws {
        var skipped: Set<String> = []
        while true {
            let due = try store.read { try $0.requestsDue(at: now, limit: batchSize + skipped.count) }
                .filter { !skipped.contains($0) }
            if due.isEmpty { return }
            let batch = Array(due.prefix(batchSize))
            do {
                let effects = try store.write { db in
                    try batch.flatMap { try approvals.advance(requestID: $0, db: db, now: now) }
                }
                count(effects, requests: batch.count, into: &report)
            } catch {
                // One request breaks the batch: do them one by one and skip the broken ones.
                for id in batch {
                    do {
                        let effects = try store.write { try approvals.advance(requestID: id, db: $0, now: now) }
                        count(effects, requests: 1, into: &report)
                    } catch {
                        log("gatehouse sweep: request \(id): \(error)")
                        report.failed += 1
                        skipped.insert(id)
                    }
                }
            }
        }
    }

    private func count(_ effects: [ApprovalEffect], requests: Int, into report: inout SweepReport) {
        report.requestsChecked += requests
        for effect in effects {
            switch effect {
            case .expired: report.expired += 1
            case .escalated: report.escalated += 1
            case .reminded: report.reminded += 1
            default: break
            }
        }
    }

    private func startAssignments(now: Date, into report: inout SweepReport) throws {
        var skipped: Set<String> = []
        while true {
            let due = try store.read { try $0.assignmentsAwaitingStart(by: now, limit: batchSize + skipped.count) }
                .filter { !skipped.contains($0.id) }
            if due.isEmpty { return }
            let batch = Array(due.prefix(batchSize))
            do {
                try store.write { db in
                    for assignment in batch { try approvals.delivery.start(assignment, db: db, now: now) }
                }
                report.started += batch.count
            } catch {
                for assignment in batch {
                    do {
                        try store.write { try approvals.delivery.start(assignment, db: $0, now: now) }
                        report.started += 1
                    } catch {
                        log("gatehouse sweep: assignment \(assignment.id): \(error)")
                        report.failed += 1
                        skipped.insert(assignment.id)
                    }
                }
            }
        }
    }

    private func endAndRemind(now: Date, into report: inout SweepReport) throws {
        var skipped: Set<String> = []
        while true {
            let due = try store.read { try $0.assignmentsDue(at: now, limit: batchSize + skipped.count) }
                .map(\.assignment.id).filter { !skipped.contains($0) }
            if due.isEmpty { return }
            let batch = Array(due.prefix(batchSize))
            do {
                let effects = try store.write { db in
                    try batch.map { try approvals.lifecycle.advance(assignmentID: $0, db: db, now: now) }
                }
                count(effects, into: &report)
            } catch {
                for id in batch {
                    do {
                        let effect = try store.write { try approvals.lifecycle.advance(assignmentID: id, db: $0, now: now) }
                        count([effect], into: &report)
                    } catch {
                        log("gatehouse sweep: assignment \(id): \(error)")
                        report.failed += 1
                        skipped.insert(id)
                    }
                }
            }
        }
    }

    private func count(_ effects: [Lifecycle.SweepEffect], into report: inout SweepReport) {
        for effect in effects {
            switch effect {
            case .expired: report.ended += 1
            case .reminded: report.extensionReminders += 1
            case .nothing: break
            }
        }
    }

    private func removeGuests(now: Date, into report: inout SweepReport) throws {
        var skipped: Set<String> = []
        while true {
            let due = try store.read { try $0.guestsDueRemoval(at: now, limit: batchSize + skipped.count) }
                .filter { !skipped.contains($0) }
            if due.isEmpty { return }
            for email in due.prefix(batchSize) {
                do {
                    try store.write { try approvals.guests.remove(email: email, db: $0, now: now) }
                    report.guestsRemoved += 1
                } catch {
                    log("gatehouse sweep: guest \(email): \(error)")
                    report.failed += 1
                    skipped.insert(email)
                }
            }
        }
    }
}
