import Foundation
import GRDB
import Testing
@testable import GatehouseStore

/// v8 rebuilds the tables a submission writes; a database made by v7 must come through whole.
/// v9 changes an index; a v8 database keeps its requests and the admin page finds the waiting ones.
@Suite struct MigrationTests {
    /// A database at `path` migrated only up to `version`, filled by `fill`.
    private func database(at path: String, upTo version: String, _ fill: (Database) throws -> Void) throws {
        try FileManager.default.createDirectory(
            at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
        let queue = try DatabaseQueue(path: path)
        try Schema.migrator.migrate(queue, upTo: version)
        try queue.write(fill)
        try queue.close()
    }

    @Test func v8KeepsEveryRowAndEveryRule() throws {
        let folder = try TemporaryFolder()
        try database(at: folder.databasePath, upTo: "v7") { db in
            try db.execute(sql: """
                INSERT INTO person (email, display_name, is_external, first_sign_in_at, last_sign_in_at, remove_at)
                VALUES ('allan@contoso.example', 'Allan', 0, '2026-01-05 09:00:00.000', '2026-01-05 09:00:00.000',
                    '2027-01-05 09:00:00.000');
                INSERT INTO session (id_hash, email, created_at, last_seen_at, expires_at)
                VALUES ('h1', 'allan@contoso.example', '2026-01-05 09:00:00.000', '2026-01-05 09:00:00.000',
                    '2026-01-12 09:00:00.000');
                INSERT INTO request (id, idempotency_key, kind, actor_kind, requestor_email, package_id, policy_id,
                    policy_snapshot, language, justification, answers, state, current_stage, escalated, created_at, updated_at,
                    stage_started_at, stage_deadline, reminders_sent, next_check_at)
                VALUES ('r1', 'k1', 'add', 'user', 'allan@contoso.example', 'internal', 'members', '{"id":"members"}', 'en',
                    'Project', '[]', 'pendingApproval', 1, 1, '2026-01-05 09:00:00.000', '2026-01-05 09:00:01.000',
                    '2026-01-05 09:00:00.000', '2026-01-19 09:00:00.000', 1, '2026-01-12 09:00:00.000');
                INSERT INTO approver (request_id, stage, email, role, added_at)
                VALUES ('r1', 1, 'adele@contoso.example', 'primary', '2026-01-05 09:00:00.000');
                INSERT INTO request (id, idempotency_key, kind, actor_kind, requestor_email, package_id, policy_id,
                    policy_snapshot, language, justification, answers, state, created_at, updated_at)
                VALUES ('r0', 'k0', 'add', 'user', 'allan@contoso.example', 'wiki', 'members', '{}', 'en', '', '[]',
                    'delivered', '2026-01-01 09:00:00.000', '2026-01-01 09:00:00.000');
                INSERT INTO decision (request_id, stage, approver_email, decision, justification, decided_at)
                VALUES ('r0', 1, 'adele@contoso.example', 'approve', 'ok', '2026-01-01 10:00:00.000');
                INSERT INTO assignment (id, request_id, email, package_id, policy_id, state, starts_at, ends_at,
                    next_check_at, reminders_sent)
                VALUES ('a0', 'r0', 'allan@contoso.example', 'wiki', 'members', 'delivered', '2026-01-01 10:00:00.000',
                    '2027-01-01 10:00:00.000', '2026-12-18 10:00:00.000', 0);
                INSERT INTO resource_grant (assignment_id, resource_id, role, state, updated_at, attempts, next_attempt_at, last_error)
                VALUES ('a0', 'lab-wiki', 'Read', 'active', '2026-01-01 10:00:00.000', 2, NULL, 'timeout');
                INSERT INTO audit (at, actor, subject_kind, subject_id, action) VALUES
                    ('2026-01-05 09:00:00.000', 'allan@contoso.example', 'request', 'r1', 'submitted'),
                    ('2026-01-05 09:00:01.000', 'system', 'request', 'r1', 'stageStarted');
                INSERT INTO outbox (created_at, recipient, subject, body, kind, next_attempt_at)
                VALUES ('2026-01-05 09:00:01.000', 'adele@contoso.example', 'Approve', 'Please', 'approvalNeeded',
                    '2026-01-05 09:00:01.000');
                INSERT INTO request (id, idempotency_key, kind, actor_kind, requestor_email, package_id, policy_id,
                    policy_snapshot, language, justification, answers, state, created_at, updated_at, assignment_id)
                VALUES ('r2', 'k2', 'extend', 'user', 'allan@contoso.example', 'wiki', 'members', '{}', 'en', '', '[]',
                    'canceled', '2026-02-01 09:00:00.000', '2026-02-01 09:00:00.000', 'a0');
                """)
        }
        let store = try Store(path: folder.databasePath)
        #expect(try store.appliedMigrations().contains("v8"))
        try store.read { db in
            let r1 = try #require(try db.request(id: "r1"))
            #expect(r1.state == .pendingApproval && r1.currentStage == 1 && r1.escalated && r1.idempotencyKey == "k1")
            let stage = try #require(try db.approvalState(requestID: "r1"))
            #expect(stage.remindersSent == 1 && stage.nextCheckAt != nil && stage.stageDeadline != nil)
            #expect(try db.approvers(requestID: "r1", stage: 1).map(\.email) == ["adele@contoso.example"])
            #expect(try db.decisions(requestID: "r0").map(\.justification) == ["ok"])
            #expect(try db.assignment(id: "a0")?.endsAt != nil)
            let grants = try db.grants(assignmentID: "a0")
            #expect(grants.map(\.grant.role) == ["Read"] && grants.first?.grant.state == .active)
            #expect(try db.request(id: "r2")?.kind == .extend)
            let summaries = try db.requestSummaries(of: "allan@contoso.example")
            #expect(summaries.map(\.id) == ["r2", "r1", "r0"])
            // The last decision's time came along into the request row.
            #expect(summaries.map { $0.lastDecisionAt == nil } == [true, true, false])
            #expect(try db.person(email: "allan@contoso.example")?.displayName == "Allan")
            let later = Date(timeIntervalSince1970: 1_801_440_000)  // 2027-02-01
            #expect(try db.guestsDueRemoval(at: later, limit: 10) == ["allan@contoso.example"])
            let halfPastNine = Date(timeIntervalSince1970: 1_767_605_400)  // 2026-01-05 09:30 UTC
            if case .valid(let session) = try db.session(idHash: "h1", now: halfPastNine, idleTimeout: 3600) {
                #expect(session.email == "allan@contoso.example")
            } else {
                Issue.record("the session did not survive v8")
            }
            #expect(try db.heldPackageIDs(of: "allan@contoso.example") == ["wiki"])
        }
        // Audit and outbox rows keep their ids, and new ones follow.
        let audit = try store.read { try $0.auditEntries(subjectKind: "request", subjectID: "r1") }
        #expect(audit.map(\.entry.action) == ["submitted", "stageStarted"] && audit.map(\.id) == [1, 2])
        let next = try store.write {
            try $0.appendAudit(AuditEntry(at: t0, actor: "system", subjectKind: "request", subjectID: "r1", action: "reminded"))
        }
        #expect(next == 3)
        #expect(try store.read { try $0.dueMail(now: t0) }.map(\.id) == [1])
        // The rules hold after the rebuild.
        for statement in [
            "DELETE FROM audit", "UPDATE audit SET actor = 'mallory@contoso.example'",
            "UPDATE request SET state = 'lost' WHERE id = 'r1'", "UPDATE request SET kind = 'borrow' WHERE id = 'r1'",
            "UPDATE assignment SET state = 'paused' WHERE id = 'a0'", "UPDATE resource_grant SET state = 'maybe'",
            "UPDATE approver SET role = 'boss'", "UPDATE request SET answers = '{not json' WHERE id = 'r1'",
            "INSERT INTO assignment (id, request_id, email, package_id, policy_id, state, starts_at) VALUES ('a9', 'nope', 'x@y', 'p', 'q', 'delivered', 'now')",
        ] {
            #expect(throws: (any Error).self, "\(statement)") { try store.write { try $0.executeForTesting(statement) } }
        }
        // A decision recorded after v8 sets the request's decided_at (the trigger).
        try store.write { db in
            _ = try db.insertDecision(DecisionRecord(
                requestID: "r1", stage: 1, approverEmail: "adele@contoso.example", decision: .approve, justification: "ok",
                decidedAt: at(minutes: 5)))
        }
        #expect(try store.read { try $0.requestSummaries(of: "allan@contoso.example") }.first { $0.id == "r1" }?.lastDecisionAt == at(minutes: 5))
        let indexes = try store.read { try $0.indexNamesForTesting() }
        #expect(!indexes.contains("request_by_state") && !indexes.contains("assignment_by_end"))
        // The keys have no unique index any more: request's only automatic index is its primary key.
        #expect(indexes.filter { $0.hasPrefix("sqlite_autoindex_request_") } == ["sqlite_autoindex_request_1"])
        #expect(indexes.isSuperset(of: [
            "request_by_requestor", "request_waiting_by_package", "request_due", "request_by_assignment", "assignment_by_email",
            "assignment_by_package", "assignment_waiting", "assignment_due", "resource_grant_by_resource",
            "resource_grant_retry", "approver_by_email", "outbox_due", "outbox_codes_due",
        ]))
    }

    /// v9: requests by package are indexed only while they wait for a decision.
    @Test func v9IndexesOnlyWaitingRequestsByPackage() throws {
        let folder = try TemporaryFolder()
        try database(at: folder.databasePath, upTo: "v8") { db in
            for (id, package, state) in [("r1", "internal", "pendingApproval"), ("r2", "internal", "delivered"), ("r3", "gone", "denied")] {
                try db.execute(sql: """
                    INSERT INTO request (id, idempotency_key, kind, actor_kind, requestor_email, package_id, policy_id,
                        policy_snapshot, language, justification, answers, state, created_at, updated_at)
                    VALUES (?, ?, 'add', 'user', 'allan@contoso.example', ?, 'members', '{}', 'en', '', '[]', ?,
                        '2026-01-05 09:00:00.000', '2026-01-05 09:00:00.000')
                    """, arguments: [id, "k-\(id)", package, state])
            }
        }
        let store = try Store(path: folder.databasePath)
        let indexes = try store.read { try $0.indexNamesForTesting() }
        #expect(!indexes.contains("request_by_package"))
        #expect(indexes.contains("request_waiting_by_package"))
        #expect(try store.read { try $0.pendingRequests(packageID: "internal", limit: 10) }.map(\.id) == ["r1"])
        let plan = try store.read {
            try $0.queryPlanForTesting(
                "SELECT * FROM request WHERE package_id = ? AND (state = 'submitted' OR state = 'pendingApproval') ORDER BY created_at, id LIMIT ?",
                ["internal", 10])
        }
        #expect(plan.contains { $0.contains("USING INDEX request_waiting_by_package") }, "\(plan)")
        #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(plan)")
        // A package the model no longer has still counts its requests in any state.
        #expect(try store.read { try $0.hasRequests(packageID: "gone") })
        #expect(try store.read { try $0.hasRequests(packageID: "internal") })
        #expect(try !store.read { try $0.hasRequests(packageID: "never") })
        // A request that stops waiting leaves the index; the admin page no longer lists it.
        try store.write { db in
            _ = try db.updateRequest(id: "r1", state: .denied, currentStage: nil, escalated: false, at: at(minutes: 1))
        }
        #expect(try store.read { try $0.pendingRequests(packageID: "internal", limit: 10) }.isEmpty)
    }
}
