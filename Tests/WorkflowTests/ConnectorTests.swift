import Foundation
import GatehouseModel
import GatehouseStore
import Governance
import Testing
import Workflow

#if canImport(Glibc)
import Glibc
#endif

/// The example site in a temporary site folder whose resources declare real connector scripts: each
/// appends its event to `<name>.log` in the site folder and fails (exit 1, a line on stderr) while
/// `<name>.fail` exists there.
private final class ConnectorBench {
    let bench: Bench
    let connectors: Connectors
    var folder: URL { bench.folder.url }

    /// `resources`: resource id -> script name in `connectors/`. Adds "lab-basics", a copy of the
    /// internal package (same roles), for the union rule.
    init(resources: [String: String] = ["lab-portal": "portal", "lab-wiki": "wiki"], maxAttempts: Int = 10) throws {
        var site = Example.site
        for c in site.catalogs.indices {
            for r in site.catalogs[c].resources.indices {
                if let name = resources[site.catalogs[c].resources[r].id] {
                    site.catalogs[c].resources[r].connector = "connectors/\(name).sh"
                }
            }
        }
        var copy = try #require(site.package("internal-access-package"))
        copy.id = "lab-basics"
        copy.name = "Lab basics"
        site.packages.append(copy)
        bench = try Bench(site: site)
        var connectors = Connectors(
            store: bench.store, site: site, calendar: paris,
            runner: CommandConnector(siteFolder: bench.folder.url.path, timeout: .seconds(10)))
        connectors.maxAttempts = maxAttempts
        self.connectors = connectors
        for name in Set(resources.values) {
            try script(name, """
                #!/bin/sh
                event=$(cat)
                if [ -e \(name).fail ]; then echo "\(name) is down" >&2; exit 1; fi
                printf '%s\\n' "$event" >> \(name).log
                """)
        }
    }

    /// Allan requests a package whose policy needs no approval, delivered at once as the handler does.
    func request(_ packageID: String, id: String = "r1", assignmentID: String = "assignment-1", at now: Date = t0) throws {
        let site = bench.site
        let policy = try #require(site.package(packageID)?.policies.first)
        try bench.store.write { db in
            let person = try db.upsertPersonOnSignIn(email: allan, displayName: nil, isExternal: false, at: now)
            let requestor = Requestor(email: person.email, in: site, isGuest: false, isBlocked: false)
            let record = RequestRecord(
                id: id, idempotencyKey: "key-\(id)", kind: .add, actorKind: .user, requestorEmail: allan,
                packageID: packageID, policyID: policy.id, policySnapshot: PolicySnapshot.encode(policy, requestor: requestor),
                language: "en", justification: "", answers: "[]", state: .submitted, createdAt: now)
            try db.insertRequest(record)
            try bench.approvals.delivery.deliver(
                record, policy: policy, from: .submitted, actor: "system", reason: "the policy needs no approval",
                assignmentID: assignmentID, db: db, now: now)
        }
    }

    func script(_ name: String, _ text: String) throws {
        let url = folder.appendingPathComponent("connectors/\(name).sh")
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
    }

    func down(_ name: String) { _ = FileManager.default.createFile(atPath: folder.appendingPathComponent("\(name).fail").path, contents: nil) }
    func up(_ name: String) throws { try FileManager.default.removeItem(at: folder.appendingPathComponent("\(name).fail")) }

    /// The events a script received, in order.
    func events(_ name: String) throws -> [String] {
        let url = folder.appendingPathComponent("\(name).log")
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        return try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    func sweep(at now: Date) throws -> SweepReport {
        try Sweeper(store: bench.store, approvals: bench.approvals, connectors: connectors, log: { _ in }).run(now: now)
    }

    func grants(_ assignmentID: String) throws -> [String: GrantAttempt] {
        Dictionary(uniqueKeysWithValues: try bench.store.read { try $0.grantAttempts(assignmentID: assignmentID) }
            .map { ($0.resourceID, $0) })
    }

    func assignment(_ id: String) throws -> AssignmentRecord { try #require(try bench.store.read { try $0.assignment(id: id) }) }

    func end(_ id: String, at now: Date) throws {
        let a = try assignment(id)
        try bench.store.write {
            try bench.approvals.lifecycle.end(a, kind: .admin, actor: adele, reason: "no longer in the lab", db: $0, now: now)
        }
    }

    /// The audit actions about an assignment, in order.
    func actions(_ id: String) throws -> [String] {
        try bench.store.read { try $0.auditEntries(subjectKind: "assignment", subjectID: id) }.map(\.entry.action)
    }
}

/// A sweep report with only connector counts.
private func connectorReport(events: Int, failures: Int = 0, gaveUp: Int = 0) -> SweepReport {
    var report = SweepReport()
    report.connectorEvents = events
    report.connectorFailures = failures
    report.connectorGaveUp = gaveUp
    return report
}

private func event(_ kind: String, _ resource: String, _ role: String, assignment: String, package: String = "internal-access-package", at: String) -> String {
    #"{"event":"\#(kind)","resource":"\#(resource)","role":"\#(role)","person":"allan@contoso.example","assignment":"\#(assignment)","package":"\#(package)","at":"\#(at)"}"#
}

@Suite struct ConnectorTests {
    @Test func deliveryWaitsForTheConnectorsAndRetriesWithBackoff() throws {
        let c = try ConnectorBench()
        c.down("portal")
        try c.request("internal-access-package")

        // In the transaction: pending grants with an attempt planned now; no connector ran yet.
        #expect(try c.bench.request().state == .delivering)
        #expect(try c.assignment("assignment-1").state == .delivering)
        var grants = try c.grants("assignment-1")
        #expect(grants["lab-portal"]?.state == .pending)
        #expect(grants["lab-portal"]?.nextAttemptAt == t0)
        #expect(grants["lab-wiki"]?.state == .pending)
        #expect(try c.bench.members("lab-wiki").isEmpty)
        #expect(try c.bench.mail(to: allan, kind: "accessDelivered").isEmpty)
        #expect(try c.events("wiki").isEmpty)

        // The sweep: the wiki answers, the portal fails and is retried in 1 minute.
        #expect(try c.sweep(at: t0) == connectorReport(events: 2, failures: 1))
        #expect(try c.events("wiki") == [event("grant", "lab-wiki", "Read", assignment: "assignment-1", at: "2028-03-01T08:00:00Z")])
        grants = try c.grants("assignment-1")
        #expect(grants["lab-wiki"]?.state == .active)
        #expect(grants["lab-wiki"]?.nextAttemptAt == nil)
        #expect(grants["lab-portal"]?.state == .pending)
        #expect(grants["lab-portal"]?.attempts == 1)
        #expect(grants["lab-portal"]?.nextAttemptAt == t0.addingTimeInterval(60))
        #expect(grants["lab-portal"]?.lastError == "the connector 'connectors/portal.sh' exited with status 1: portal is down")
        #expect(try c.bench.members("lab-wiki") == [ResourceMember(email: allan, role: "Read")])
        #expect(try c.assignment("assignment-1").state == .partiallyDelivered)
        #expect(try c.bench.request().state == .partiallyDelivered)
        #expect(try c.bench.mail(to: allan, kind: "accessDelivered").isEmpty)

        // Not before the backoff; then 5 minutes after the second failure.
        #expect(try c.sweep(at: t0.addingTimeInterval(59)) == SweepReport())
        #expect(try c.sweep(at: t0.addingTimeInterval(60)) == connectorReport(events: 1, failures: 1))
        grants = try c.grants("assignment-1")
        #expect(grants["lab-portal"]?.attempts == 2)
        #expect(grants["lab-portal"]?.nextAttemptAt == t0.addingTimeInterval(360))

        try c.up("portal")
        #expect(try c.sweep(at: t0.addingTimeInterval(359)) == SweepReport())
        #expect(try c.sweep(at: t0.addingTimeInterval(360)) == connectorReport(events: 1))
        #expect(try c.events("portal") == [event("grant", "lab-portal", "Reader", assignment: "assignment-1", at: "2028-03-01T08:06:00Z")])
        grants = try c.grants("assignment-1")
        #expect(grants["lab-portal"]?.state == .active)
        #expect(grants["lab-portal"]?.attempts == 0)
        #expect(grants["lab-portal"]?.lastError == nil)
        #expect(try c.assignment("assignment-1").state == .delivered)
        #expect(try c.bench.request().state == .delivered)
        #expect(try c.bench.mail(to: allan, kind: "accessDelivered").count == 1)
        #expect(try c.actions("assignment-1") == [
            "connectorGrantFailed", "connectorGranted", "deliveryState", "connectorGrantFailed", "connectorGranted",
            "deliveryState",
        ])
        #expect(try c.bench.audit(request: "r1").map(\.action).suffix(3) == ["delivering", "partiallyDelivered", "delivered"])

        // Done: nothing more is sent.
        #expect(try c.sweep(at: day(1)) == SweepReport())
        #expect(try c.events("portal").count == 1)
    }

    @Test func aResourceWithoutConnectorIsActiveAtOnceAndTheOtherWaits() throws {
        let c = try ConnectorBench(resources: ["lab-portal": "portal"])
        try c.request("internal-access-package")
        let grants = try c.grants("assignment-1")
        #expect(grants["lab-wiki"]?.state == .active)
        #expect(grants["lab-wiki"]?.nextAttemptAt == nil)
        #expect(grants["lab-portal"]?.state == .pending)
        #expect(try c.assignment("assignment-1").state == .delivering)
        #expect(try c.sweep(at: t0) == connectorReport(events: 1))
        #expect(try c.assignment("assignment-1").state == .delivered)
        #expect(try c.bench.mail(to: allan, kind: "accessDelivered").count == 1)
    }

    @Test func partialDeliveryWhenOneOfTwoConnectorsGivesUp() throws {
        let c = try ConnectorBench(maxAttempts: 2)
        c.down("wiki")
        try c.request("internal-access-package")
        #expect(try c.sweep(at: t0) == connectorReport(events: 2, failures: 1))
        #expect(try c.sweep(at: t0.addingTimeInterval(60)) == connectorReport(events: 1, failures: 1, gaveUp: 1))
        let grants = try c.grants("assignment-1")
        #expect(grants["lab-portal"]?.state == .active)
        #expect(grants["lab-wiki"]?.state == .failed)
        #expect(grants["lab-wiki"]?.attempts == 2)
        #expect(grants["lab-wiki"]?.nextAttemptAt == nil)
        #expect(grants["lab-wiki"]?.lastError?.hasSuffix("wiki is down") == true)
        #expect(try c.assignment("assignment-1").state == .partiallyDelivered)
        #expect(try c.bench.request().state == .partiallyDelivered)
        #expect(try c.bench.members("lab-wiki").isEmpty)
        #expect(try c.bench.members("lab-portal") == [ResourceMember(email: allan, role: "Reader")])
        #expect(try c.actions("assignment-1").contains("connectorGrantGaveUp"))
        #expect(try c.bench.mail(to: allan, kind: "accessDelivered").isEmpty)
        #expect(try c.sweep(at: day(2)) == SweepReport())
    }

    @Test func givesUpAfterTenAttemptsThenAnAdminReprocesses() throws {
        let c = try ConnectorBench()
        c.down("portal")
        c.down("wiki")
        try c.request("internal-access-package")
        var now = t0
        var waits: [TimeInterval] = []
        for attempt in 1...10 {
            let report = try c.sweep(at: now)
            #expect(report == connectorReport(events: 2, failures: 2, gaveUp: attempt == 10 ? 2 : 0), "attempt \(attempt)")
            let portal = try #require(try c.grants("assignment-1")["lab-portal"])
            #expect(portal.attempts == attempt)
            guard let next = portal.nextAttemptAt else { break }
            #expect(try c.sweep(at: next.addingTimeInterval(-1)) == SweepReport())
            waits.append(next.timeIntervalSince(now))
            now = next
        }
        #expect(waits == [60, 300, 1800, 7200, 21_600, 21_600, 21_600, 21_600, 21_600])
        #expect(Connectors.retryDelay(afterFailures: 10) == nil)
        let grants = try c.grants("assignment-1")
        #expect(grants.values.map(\.state) == [.failed, .failed])
        #expect(grants.values.allSatisfy { $0.nextAttemptAt == nil && $0.attempts == 10 })
        #expect(try c.assignment("assignment-1").state == .deliveryFailed)
        #expect(try c.bench.request().state == .deliveryFailed)
        #expect(try c.sweep(at: day(30)) == SweepReport())

        // The downstream is back; an admin reprocesses: pending again, sent by the next sweep.
        try c.up("portal")
        try c.up("wiki")
        let later = day(31)
        #expect(try c.connectors.reprocess(assignmentID: "assignment-1", actor: adele, now: later) == .planned(events: 2))
        #expect(try c.grants("assignment-1").values.map(\.state) == [.pending, .pending])
        #expect(try c.assignment("assignment-1").state == .delivering)
        let reprocessed = try #require(try c.bench.audit().last { $0.action == "reprocessed" })
        #expect(reprocessed.actor == adele)
        #expect(reprocessed.subjectID == "assignment-1")
        #expect(try c.sweep(at: later) == connectorReport(events: 2))
        #expect(try c.assignment("assignment-1").state == .delivered)
        #expect(try c.bench.request().state == .delivered)
        #expect(try c.bench.mail(to: allan, kind: "accessDelivered").count == 1)
    }

    @Test func reprocessingADeliveredAssignmentSendsItsGrantsAgain() throws {
        let c = try ConnectorBench()
        try c.request("internal-access-package")
        #expect(try c.sweep(at: t0) == connectorReport(events: 2))
        #expect(try c.assignment("assignment-1").state == .delivered)

        let later = day(3)
        #expect(try c.connectors.reprocess(assignmentID: "assignment-1", actor: adele, now: later) == .planned(events: 2))
        // The directory keeps the roles meanwhile.
        #expect(try c.grants("assignment-1").values.map(\.state) == [.active, .active])
        #expect(try c.bench.members("lab-portal") == [ResourceMember(email: allan, role: "Reader")])
        #expect(try c.sweep(at: later) == connectorReport(events: 2))
        #expect(try c.events("portal") == [
            event("grant", "lab-portal", "Reader", assignment: "assignment-1", at: "2028-03-01T08:00:00Z"),
            event("grant", "lab-portal", "Reader", assignment: "assignment-1", at: "2028-03-04T08:00:00Z"),
        ])
        #expect(try c.events("wiki").count == 2)
        #expect(try c.assignment("assignment-1").state == .delivered)
        // Still delivered: no second "you now have access".
        #expect(try c.bench.mail(to: allan, kind: "accessDelivered").count == 1)
        #expect(try c.connectors.reprocess(assignmentID: "nope", actor: adele, now: later) == .notFound)
    }

    @Test func endingSendsRevokesUnlessAnotherAssignmentGrantsTheRole() throws {
        let c = try ConnectorBench()
        try c.request("internal-access-package")
        try c.request("lab-basics", id: "r2", assignmentID: "assignment-2")
        #expect(try c.sweep(at: t0) == connectorReport(events: 4))
        #expect(try c.assignment("assignment-1").state == .delivered)
        #expect(try c.assignment("assignment-2").state == .delivered)

        // assignment-2 still grants both roles: no revoke goes out.
        try c.end("assignment-1", at: day(1))
        #expect(try c.grants("assignment-1").values.allSatisfy { $0.state == .revoked && $0.nextAttemptAt == nil })
        #expect(try c.sweep(at: day(1)) == SweepReport())
        #expect(try c.events("portal").filter { $0.contains(#""event":"revoke""#) }.isEmpty)
        #expect(try c.actions("assignment-1").filter { $0 == "connectorRevokeNotSent" }.count == 2)
        #expect(try c.bench.members("lab-portal") == [ResourceMember(email: allan, role: "Reader")])

        // The last one: revokes are owed; the portal fails once and is retried.
        c.down("portal")
        try c.end("assignment-2", at: day(2))
        #expect(try c.bench.members("lab-portal").isEmpty)
        #expect(try c.grants("assignment-2").values.allSatisfy { $0.state == .revoked && $0.nextAttemptAt == day(2) })
        #expect(try c.sweep(at: day(2)) == connectorReport(events: 2, failures: 1))
        #expect(try c.events("wiki").last == event("revoke", "lab-wiki", "Read", assignment: "assignment-2", package: "lab-basics", at: "2028-03-03T08:00:00Z"))
        let portal = try #require(try c.grants("assignment-2")["lab-portal"])
        #expect(portal.state == .revoked)
        #expect(portal.attempts == 1)
        #expect(portal.nextAttemptAt == day(2).addingTimeInterval(60))
        try c.up("portal")
        #expect(try c.sweep(at: day(2).addingTimeInterval(60)) == connectorReport(events: 1))
        #expect(try c.events("portal").last == event("revoke", "lab-portal", "Reader", assignment: "assignment-2", package: "lab-basics", at: "2028-03-03T08:01:00Z"))
        #expect(try c.grants("assignment-2").values.allSatisfy { $0.nextAttemptAt == nil && $0.lastError == nil })
        #expect(try c.actions("assignment-2").suffix(3) == ["connectorRevokeFailed", "connectorRevoked", "connectorRevoked"])
        #expect(try c.sweep(at: day(3)) == SweepReport())
    }

    @Test func aGrantNeverSentNeedsNoRevoke() throws {
        let c = try ConnectorBench()
        try c.request("internal-access-package")
        try c.end("assignment-1", at: t0)
        #expect(try c.grants("assignment-1").values.allSatisfy { $0.state == .revoked && $0.nextAttemptAt == nil })
        #expect(try c.sweep(at: t0) == SweepReport())
        #expect(try c.events("portal").isEmpty)
    }

    @Test func aScheduledStartWaitsForItsConnectorsWithoutStartingTwice() throws {
        let c = try ConnectorBench()
        let start = instant("2028-03-21T00:00:00+01:00")
        c.down("portal")
        try c.bench.submit("finance-reports", by: allan, requestedStart: start)
        _ = try c.bench.decide(by: nestor, .approve, at: day(1))
        _ = try c.bench.decide(by: adele, .approve, "Needed for the Q2 budget", at: day(2))
        #expect(try c.bench.request().state == .scheduled)
        #expect(try c.sweep(at: start.addingTimeInterval(-1)) == SweepReport())

        var started = connectorReport(events: 2, failures: 1)
        started.started = 1
        #expect(try c.sweep(at: start) == started)
        #expect(try c.assignment("assignment-1").state == .partiallyDelivered)
        #expect(try c.bench.request().state == .partiallyDelivered)
        // A later sweep retries the connector but does not start the assignment again.
        #expect(try c.sweep(at: start.addingTimeInterval(60)) == connectorReport(events: 1, failures: 1))
        try c.up("portal")
        #expect(try c.sweep(at: start.addingTimeInterval(360)) == connectorReport(events: 1))
        #expect(try c.bench.request().state == .delivered)
        #expect(try c.bench.mail(to: allan, kind: "accessDelivered").count == 1)
        #expect(try c.bench.audit(request: "r1").filter { $0.action == "delivering" }.count == 1)
    }

    @Test func twoSweepsAtOnceSendEachEventOnce() throws {
        let c = try ConnectorBench()
        for name in ["portal", "wiki"] {
            try c.script(name, """
                #!/bin/sh
                event=$(cat)
                sleep 0.2
                printf '%s\\n' "$event" >> \(name).log
                """)
        }
        try c.request("internal-access-package")
        let connectors = c.connectors
        let reports = try onThreads(2) { _ in try connectors.attemptDue(now: t0) }
        #expect(reports.map(\.succeeded).reduce(0, +) == 2)
        #expect(try c.events("portal").count == 1)
        #expect(try c.events("wiki").count == 1)
        #expect(try c.assignment("assignment-1").state == .delivered)
    }

    @Test func aConnectorThatHangsIsStoppedAtTheTimeout() throws {
        let c = try ConnectorBench()
        try c.script("hang", """
            #!/bin/sh
            echo "connecting to the directory" >&2
            sleep 30 &
            echo $! > hang.pid
            wait
            """)
        let runner = CommandConnector(siteFolder: c.folder.path, timeout: .milliseconds(500))
        let began = ContinuousClock.now
        let outcome = runner.send(
            ConnectorEvent(kind: .grant, resourceID: "lab-portal", role: "Reader", email: allan, assignmentID: "a", packageID: "p", at: t0),
            to: "connectors/hang.sh")
        let took = ContinuousClock.now - began
        #expect(outcome == .failed("the connector 'connectors/hang.sh' did not finish within 0.5 s and was stopped: connecting to the directory"))
        #expect(took < .seconds(5))
        // Its whole process group was stopped: the sleep is gone (or a zombie about to be reaped).
        let pid = try String(contentsOf: c.folder.appendingPathComponent("hang.pid"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        var alive = false
        for _ in 0..<100 {
            let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
            alive = stat.map { !$0.contains(") Z ") } ?? false
            if !alive { break }
            usleep(20_000)
        }
        #expect(!alive)
    }

    @Test func theErrorKeepsTheFirstTwoKilobytesOfStderr() throws {
        let c = try ConnectorBench()
        try c.script("chatty", """
            #!/bin/sh
            i=0
            while [ $i -lt 100 ]; do printf 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' >&2; i=$((i+1)); done
            exit 3
            """)
        let runner = CommandConnector(siteFolder: c.folder.path)
        let outcome = runner.send(
            ConnectorEvent(kind: .revoke, resourceID: "r", role: "x", email: allan, assignmentID: "a", packageID: "p", at: t0),
            to: "connectors/chatty.sh")
        guard case .failed(let error) = outcome else {
            Issue.record("expected a failure, got \(outcome)")
            return
        }
        let prefix = "the connector 'connectors/chatty.sh' exited with status 3: "
        #expect(error.hasPrefix(prefix))
        #expect(error.dropFirst(prefix.count) == String(repeating: "x", count: CommandConnector.stderrLimit))
        #expect(runner.send(
            ConnectorEvent(kind: .revoke, resourceID: "r", role: "x", email: allan, assignmentID: "a", packageID: "p", at: t0),
            to: "connectors/missing.sh")
            == .failed("the connector 'connectors/missing.sh' is not an executable file in \(c.folder.standardizedFileURL.path) (check the resource's `connector:` and that the file is executable)"))
    }

    @Test func aConnectorFileStillOpenForWritingIsStartedOnceItIsClosed() throws {
        let c = try ConnectorBench()
        try c.script("fresh", "#!/bin/sh\nexit 0\n")
        let path = c.folder.appendingPathComponent("connectors/fresh.sh").path
        // As while it is being replaced: someone still has it open for writing for a moment.
        let writer = open(path, O_WRONLY)
        #expect(writer >= 0)
        let closed = DispatchSemaphore(value: 0)
        Thread {
            usleep(15_000)
            close(writer)
            closed.signal()
        }.start()
        let outcome = CommandConnector(siteFolder: c.folder.path).send(
            ConnectorEvent(kind: .grant, resourceID: "r", role: "x", email: allan, assignmentID: "a", packageID: "p", at: t0),
            to: "connectors/fresh.sh")
        closed.wait()
        #expect(outcome == .done)
    }

    @Test func theExampleConnectorLogsEventsAndFailsOnItsFlag() throws {
        let c = try ConnectorBench()
        let shipped = Example.root.appendingPathComponent("site/connectors/example-connector.sh")
        try c.script("example", try String(contentsOf: shipped, encoding: .utf8))
        let log = c.folder.appendingPathComponent("var/events.log")
        let runner = CommandConnector(siteFolder: c.folder.path, environment: ["GATEHOUSE_CONNECTOR_LOG": log.path])
        let sent = ConnectorEvent(
            kind: .grant, resourceID: "lab-portal", role: "Reader", email: allan, assignmentID: "a1",
            packageID: "internal-access-package", at: t0)
        #expect(runner.send(sent, to: "connectors/example.sh") == .done)
        #expect(try String(contentsOf: log, encoding: .utf8) == sent.json + "\n")
        _ = FileManager.default.createFile(atPath: c.folder.appendingPathComponent("var/events.fail").path, contents: nil)
        guard case .failed(let error) = runner.send(sent, to: "connectors/example.sh") else {
            Issue.record("the example connector should fail while its flag exists")
            return
        }
        #expect(error.hasPrefix("the connector 'connectors/example.sh' exited with status 1: example connector:"))
        #expect(try String(contentsOf: log, encoding: .utf8) == sent.json + "\n")
        let mode = try FileManager.default.attributesOfItem(atPath: shipped.path)[.posixPermissions] as? Int
        #expect(mode.map { $0 & 0o111 == 0o111 } == true)
    }

    @Test func theEventIsOneLineOfEscapedJSON() {
        let e = ConnectorEvent(
            kind: .revoke, resourceID: "wiki", role: "Say \"hi\"\n\\", email: allan, assignmentID: "a", packageID: "p",
            at: t0)
        #expect(e.json == #"{"event":"revoke","resource":"wiki","role":"Say \"hi\"\n\\","person":"allan@contoso.example","assignment":"a","package":"p","at":"2028-03-01T08:00:00Z"}"#)
        let decoded = try? JSONSerialization.jsonObject(with: Data(e.json.utf8)) as? [String: String]
        #expect(decoded?["role"] == "Say \"hi\"\n\\")
    }
}
