import Foundation
import GatehouseModel
import GatehouseSite
import GatehouseStore
import Governance
import Testing
import Workflow

/// The repository's example site, loaded once.
enum Example {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let site: Site = {
        let files = try! SiteFiles.read(directory: root.appendingPathComponent("site").path)
        let result = SiteLoader(today: CalendarDay("2026-11-23")!).load(files)
        precondition(result.site != nil, "the example site does not load: \(result.diagnostics)")
        return result.site!
    }()
}

let paris = try! TenantCalendar(timeZoneIdentifier: "Europe/Paris")

/// An instant from an ISO 8601 text with its offset, so each test states the wall-clock time it means.
func instant(_ text: String) -> Date {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.date(from: text)!
}

/// Wednesday 1 March 2028, 09:00 in Paris: every request is submitted then.
let t0 = instant("2028-03-01T09:00:00+01:00")

/// `n` tenant days after `start` (same wall-clock time).
func day(_ n: Int, from start: Date = t0) -> Date { paris.adding(days: n, to: start) }

// The people of the example site.
let adele = "adele@contoso.example"
let allan = "allan@contoso.example"
let hallam = "hallam@contoso.example"
let lee = "lee@contoso.example"
let megan = "megan@contoso.example"
let nestor = "nestor@contoso.example"
/// An Azureblog partner: external, from a connected organization.
let alex = "alex@azureblog.example"

let externalPackage = "external-access-package"
let financePackage = "finance-reports"
let contractorPackage = "external-contractor"

/// A fresh folder under the system temporary folder, removed when released.
final class TemporaryFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("gatehouse-workflow-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    var databasePath: String { url.appendingPathComponent("var/gatehouse.sqlite").path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value { lock.withLock { stored } }
    func update<T>(_ change: (inout Value) -> T) -> T { lock.withLock { change(&stored) } }
}

/// A SQLite store on disk with the workflow over it, and the reads the tests assert on.
final class Bench {
    let folder: TemporaryFolder
    let store: Store
    let site: Site
    let approvals: Approvals
    let logged = Locked<[String]>([])

    init(site: Site = Example.site) throws {
        folder = try TemporaryFolder()
        store = try Store(path: folder.databasePath)
        self.site = site
        let ids = Locked(0)
        approvals = Approvals(
            site: site, calendar: try TenantCalendar(timeZoneIdentifier: site.tenant.timeZone),
            newID: { "assignment-\(ids.update { $0 += 1; return $0 })" })
    }

    var sweeper: Sweeper {
        let logged = logged
        return Sweeper(store: store, approvals: approvals, log: { line in logged.update { $0.append(line) } })
    }

    /// Records a request the way the handler does and starts its approval, at `now`. The requestor
    /// signs in first (external people need a person row to become governed guests). The snapshot
    /// takes the policy from `submittedSite` (default: the bench's site).
    @discardableResult
    func submit(
        _ packageID: String, policy policyID: String? = nil, by email: String, name: String? = nil, id: String = "r1",
        justification: String = "Documentation of the lab API", requestedStart: Date? = nil, at now: Date = t0,
        submittedSite: Site? = nil
    ) throws -> RequestRecord {
        let package = try #require((submittedSite ?? site).package(packageID))
        let policy = try #require(policyID.flatMap { package.policy($0) } ?? package.policies.first)
        return try store.write { db in
            let person = try db.upsertPersonOnSignIn(
                email: email, displayName: name, isExternal: !site.tenant.isInternal(email: email), at: now)
            let requestor = Requestor(
                email: person.email, in: site, isGuest: person.isGovernedGuest, isBlocked: person.isBlocked)
            let snapshot = PolicySnapshot.encode(policy, requestor: requestor)
            let record = RequestRecord(
                id: id, idempotencyKey: "key-\(id)", kind: .add, actorKind: .user, requestorEmail: person.email,
                packageID: package.id, policyID: policy.id, policySnapshot: snapshot, language: "en",
                justification: justification, answers: "[]", requestedStart: requestedStart,
                state: .pendingApproval, currentStage: 1, createdAt: now)
            try db.insertRequest(record)
            try approvals.start(
                record, policy: policy, requestor: try PolicySnapshot.decode(snapshot).requestor, db: db, now: now)
            return record
        }
    }

    func decide(
        _ id: String = "r1", by email: String, _ decision: ApprovalDecision, _ justification: String = "",
        seenStage: Int? = nil, at now: Date
    ) throws -> Approvals.DecisionOutcome {
        try store.write {
            try approvals.decide(
                requestID: id, by: email, decision, justification: justification, seenStage: seenStage, db: $0, now: now)
        }
    }

    func cancel(_ id: String = "r1", by email: String, reason: String = "", at now: Date) throws -> Approvals.CancelOutcome {
        try store.write { try approvals.cancel(requestID: id, by: email, reason: reason, db: $0, now: now) }
    }

    func sweep(at now: Date) throws -> SweepReport { try sweeper.run(now: now) }

    // MARK: Reading back

    func request(_ id: String = "r1") throws -> RequestRecord { try #require(try store.read { try $0.request(id: id) }) }
    func approvalState(_ id: String = "r1") throws -> ApprovalStateRecord {
        try #require(try store.read { try $0.approvalState(requestID: id) })
    }
    func approvers(_ id: String = "r1") throws -> [ApproverRecord] { try store.read { try $0.approvers(requestID: id) } }
    func decisions(_ id: String = "r1") throws -> [DecisionRecord] { try store.read { try $0.decisions(requestID: id) } }
    func assignments(of email: String) throws -> [AssignmentRecord] { try store.read { try $0.assignments(of: email) } }
    func grants(_ assignmentID: String) throws -> [ResourceGrant] {
        try store.read { try $0.grants(assignmentID: assignmentID).map(\.grant) }
    }
    func members(_ resourceID: String) throws -> [ResourceMember] { try store.read { try $0.members(resourceID: resourceID) } }
    func person(_ email: String) throws -> PersonRecord? { try store.read { try $0.person(email: email) } }

    /// Every queued message, in the order queued.
    func outbox() throws -> [MailRecord] {
        try store.read { try $0.dueMail(now: .distantFuture, limit: 100_000) }.sorted { $0.id < $1.id }
    }
    /// The messages to `recipient` (of `kind` when given), in the order queued.
    func mail(to recipient: String, kind: String? = nil) throws -> [OutgoingMail] {
        try outbox().map(\.mail).filter { $0.recipient == recipient && (kind == nil || $0.kind == kind) }
    }
    func mail(kind: String) throws -> [OutgoingMail] { try outbox().map(\.mail).filter { $0.kind == kind } }

    /// The whole audit log, in order.
    func audit() throws -> [AuditEntry] { try store.read { try $0.auditEntries(afterID: 0, limit: 100_000) }.map(\.entry) }
    /// The audit entries of one request, in order.
    func audit(request id: String) throws -> [AuditEntry] {
        try store.read { try $0.auditEntries(subjectKind: "request", subjectID: id) }.map(\.entry)
    }

    /// Whether `email` may decide the request now, as the approval page would ask.
    func canDecide(_ email: String, _ id: String = "r1") throws -> Bool {
        let loaded = try #require(try store.read { try approvals.load(id, db: $0) })
        return loaded.engine.canDecide(loaded.progress, email: email)
    }
}

/// A copy of `site` with one policy changed.
func changing(_ site: Site, package packageID: String, _ change: (inout Policy) -> Void) -> Site {
    var site = site
    let index = site.packages.firstIndex { $0.id == packageID }!
    change(&site.packages[index].policies[0])
    return site
}

/// The outcome's recorded decision, failing the test when it was not recorded.
func recorded(_ outcome: Approvals.DecisionOutcome, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> DecisionRecord? {
    guard case .recorded(let decision, _) = outcome else {
        Issue.record("expected a recorded decision, got \(outcome)", sourceLocation: sourceLocation)
        return nil
    }
    return decision
}

extension DecisionRecord {
    /// The decision as the engine reports it in refusals.
    var stageDecision: StageDecision {
        StageDecision(
            stage: stage, approver: approverEmail, decision: decision == .approve ? .approve : .deny,
            justification: justification, at: decidedAt)
    }
}

/// Runs `body` on `count` real threads released together, and returns their results in order.
func onThreads<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) throws -> T) throws -> [T] {
    let results = Locked<[Int: Result<T, any Error>]>([:])
    let gate = Barrier(count)
    let done = DispatchGroup()
    for index in 0..<count {
        done.enter()
        let thread = Thread {
            gate.arriveAndWait()
            let result = Result<T, any Error> { try body(index) }
            results.update { $0[index] = result }
            done.leave()
        }
        thread.start()
    }
    done.wait()
    return try results.value.sorted { $0.key < $1.key }.map { try $0.value.get() }
}

/// Holds threads until `count` of them arrived, so that they contend for real.
final class Barrier: @unchecked Sendable {
    private let condition = NSCondition()
    private var waiting: Int
    init(_ count: Int) { waiting = count }
    func arriveAndWait() {
        condition.lock()
        waiting -= 1
        if waiting == 0 { condition.broadcast() }
        while waiting > 0 { condition.wait() }
        condition.unlock()
    }
}
