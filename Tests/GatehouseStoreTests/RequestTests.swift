import Foundation
import Testing
import GatehouseStore

@Suite struct RequestTests {
    /// `true`: every thread opens its own store on the file, as separate processes would.
    @Test(arguments: [false, true])
    func concurrentReplaysOfOnePostMakeOneRequest(separateConnections: Bool) throws {
        let folder = try TemporaryFolder()
        let path = folder.databasePath
        let shared = try Store(path: path)
        let stores = Locked<[Int: Store]>([:])
        let outcomes = try onThreads(8, prepare: { index in
            let store = separateConnections ? try Store(path: path) : shared
            stores.update { $0[index] = store }
        }) { index in
            let store = stores.value[index]!
            return try store.write { try $0.insertRequest(sampleRequest(id: "r-\(index)", key: "form-token-42")) }
        }
        let created = outcomes.filter { if case .created = $0 { true } else { false } }
        #expect(created.count == 1)
        let winner = try #require(created.first).id
        #expect(outcomes.allSatisfy { $0.id == winner })
        let all = try shared.read { try $0.requests(of: "allan@contoso.example") }
        #expect(all.map(\.id) == [winner])
    }

    @Test func concurrentDecisionsOnOneStageHaveExactlyOneWinner() throws {
        let folder = try TemporaryFolder()
        let path = folder.databasePath
        try Store(path: path).write { try $0.insertRequest(sampleRequest(id: "r1")) }
        let stores = Locked<[Int: Store]>([:])
        let outcomes = try onThreads(10, prepare: { index in
            let store = try Store(path: path)
            stores.update { $0[index] = store }
        }) { index in
            try stores.value[index]!.write {
                try $0.insertDecision(DecisionRecord(
                    requestID: "r1", stage: 1, approverEmail: "approver\(index)@contoso.example",
                    decision: index % 2 == 0 ? .approve : .deny, justification: "by \(index)", decidedAt: at(minutes: Double(index))))
            }
        }
        var winners: [DecisionRecord] = []
        var losers: [DecisionRecord] = []
        for outcome in outcomes {
            switch outcome {
            case .recorded(let d): winners.append(d)
            case .alreadyDecided(let d): losers.append(d)
            }
        }
        #expect(winners.count == 1)
        let winner = try #require(winners.first)
        #expect(losers.count == 9)
        #expect(losers.allSatisfy { $0 == winner })
        let stored = try Store(path: path).read { try $0.requestDetail(id: "r1") }
        #expect(stored?.decisions == [winner])
        // The stored decision is the winner's whole, not a mix of several attempts.
        let index = try #require(Int(winner.approverEmail.dropFirst("approver".count).prefix { $0.isNumber }))
        #expect(winner.justification == "by \(index)")
        #expect(winner.decision == (index % 2 == 0 ? .approve : .deny))
        #expect(winner.decidedAt == at(minutes: Double(index)))
    }

    @Test func historyIsNewestFirstAndDetailCarriesDecisionsByStage() throws {
        let store = try Store(path: TemporaryFolder().databasePath)
        try store.write { w throws in
            try w.insertRequest(sampleRequest(id: "old", createdAt: at(minutes: 0)))
            try w.insertRequest(sampleRequest(id: "new", packageID: "external", createdAt: at(minutes: 10)))
            try w.insertRequest(sampleRequest(id: "mid", state: .denied, createdAt: at(minutes: 5)))
            try w.insertRequest(sampleRequest(id: "other", email: "don@outlook.example", createdAt: at(minutes: 7)))
            _ = try w.insertDecision(DecisionRecord(requestID: "new", stage: 2, approverEmail: "Hallam@contoso.example", decision: .deny, justification: "No", decidedAt: at(minutes: 12)))
            _ = try w.insertDecision(DecisionRecord(requestID: "new", stage: 1, approverEmail: "adele@contoso.example", decision: .approve, justification: "Yes", decidedAt: at(minutes: 11)))
        }
        try store.read { r throws in
            #expect(try r.requests(of: "ALLAN@contoso.example").map(\.id) == ["new", "mid", "old"])
            #expect(try r.requests(of: "allan@contoso.example", limit: 2).map(\.id) == ["new", "mid"])
            #expect(try r.requests(of: "allan@contoso.example", packageID: "internal", in: [.pendingApproval]).map(\.id) == ["old"])
            let detail = try #require(try r.requestDetail(id: "new"))
            #expect(detail.request == sampleRequest(id: "new", packageID: "external", createdAt: at(minutes: 10)))
            #expect(detail.decisions.map(\.stage) == [1, 2])
            #expect(detail.decisions.map(\.approverEmail) == ["adele@contoso.example", "hallam@contoso.example"])
            #expect(try r.requestDetail(id: "missing") == nil)
        }
    }

    @Test func stateChangesCheckTheExpectedStateAndTheRequestExists() throws {
        let store = try Store(path: TemporaryFolder().databasePath)
        try store.write { try $0.insertRequest(sampleRequest(id: "r1")) }
        let approved = try store.write {
            try $0.updateRequest(id: "r1", state: .approved, currentStage: nil, escalated: false, at: at(minutes: 3), expected: .pendingApproval)
        }
        #expect(approved.state == .approved && approved.currentStage == nil && approved.updatedAt == at(minutes: 3))
        #expect(approved.createdAt == t0)
        #expect {
            try store.write {
                try $0.updateRequest(id: "r1", state: .canceled, currentStage: nil, escalated: false, at: at(minutes: 4), expected: .pendingApproval)
            }
        } throws: { error in
            "\(error)" == "request 'r1' is now approved, no longer pendingApproval: someone acted on it first"
        }
        #expect(throws: StoreError.requestNotFound(id: "nope")) {
            try store.write { try $0.updateRequest(id: "nope", state: .canceled, currentStage: nil, escalated: false, at: t0) }
        }
        #expect(throws: StoreError.requestNotFound(id: "nope")) {
            try store.write { try $0.insertDecision(DecisionRecord(requestID: "nope", stage: 1, approverEmail: "a@b.c", decision: .approve, justification: "", decidedAt: t0)) }
        }
        #expect(try store.read { try $0.request(id: "r1")?.state } == .approved)
    }

    @Test func invalidJSONInASnapshotIsRefused() throws {
        let store = try Store(path: TemporaryFolder().databasePath)
        var request = sampleRequest(id: "r1")
        request.answers = "{not json"
        #expect {
            try store.write { try $0.insertRequest(request) }
        } throws: { error in
            "\(error)" == "the database refused the change: CHECK constraint failed: json_valid(answers) (SQLite code 275)"
        }
    }
}

@Suite struct AssignmentTests {
    @Test func membershipIsTheUnionOfActiveGrants() throws {
        let store = try Store(path: TemporaryFolder().databasePath)
        let team = ResourceGrant(resourceID: "external-collaboration", role: "Member", state: .active)
        try store.write { w throws in
            try w.insertRequest(sampleRequest(id: "r1", state: .delivered))
            try w.insertRequest(sampleRequest(id: "r2", packageID: "external", state: .delivered))
            try w.insertAssignment(
                AssignmentRecord(id: "a1", requestID: "r1", email: "Allan@contoso.example", packageID: "internal", policyID: "members", state: .delivered, startsAt: t0, endsAt: at(minutes: 365 * 24 * 60)),
                grants: [team, ResourceGrant(resourceID: "crm", role: "Reader", state: .active)], at: t0)
            try w.insertAssignment(
                AssignmentRecord(id: "a2", requestID: "r2", email: "allan@contoso.example", packageID: "external", policyID: "partners", state: .delivered, startsAt: at(minutes: 1), endsAt: nil),
                grants: [team], at: at(minutes: 1))
        }
        let allan = ResourceMember(email: "allan@contoso.example", role: "Member")
        #expect(try store.read { try $0.members(resourceID: "external-collaboration") } == [allan])
        #expect(try store.read { try $0.activeAssignments(of: "allan@contoso.example") }.map(\.id) == ["a2", "a1"])

        let ended = try store.write { try $0.endAssignment(id: "a1", reason: "expired", at: at(minutes: 100)) }
        #expect(ended.state == .expired && ended.endedAt == at(minutes: 100) && ended.endReason == "expired")
        try store.read { r throws in
            #expect(try r.members(resourceID: "external-collaboration") == [allan])
            #expect(try r.members(resourceID: "crm").isEmpty)
            #expect(try r.grants(assignmentID: "a1").map(\.grant.state) == [.revoked, .revoked])
            #expect(try r.activeAssignments(of: "allan@contoso.example").map(\.id) == ["a2"])
            #expect(try r.assignments(of: "allan@contoso.example").map(\.id) == ["a2", "a1"])
        }
        try store.write { try $0.endAssignment(id: "a2", reason: "removed by holder", at: at(minutes: 200)) }
        #expect(try store.read { try $0.members(resourceID: "external-collaboration") }.isEmpty)
        // Ending twice keeps the first end.
        let again = try store.write { try $0.endAssignment(id: "a1", reason: "again", at: at(minutes: 300)) }
        #expect(again.endReason == "expired" && again.endedAt == at(minutes: 100))
        #expect(throws: StoreError.assignmentNotFound(id: "zz")) {
            try store.write { try $0.endAssignment(id: "zz", reason: "x", at: t0) }
        }
    }

    @Test func deliveryStatesOfAssignmentAndGrantsAreUpdated() throws {
        let store = try Store(path: TemporaryFolder().databasePath)
        try store.write { w throws in
            try w.insertRequest(sampleRequest(id: "r1", state: .delivering))
            try w.insertAssignment(
                AssignmentRecord(id: "a1", requestID: "r1", email: "allan@contoso.example", packageID: "internal", policyID: "members", state: .delivering, startsAt: t0, endsAt: nil),
                grants: [ResourceGrant(resourceID: "crm", role: "Reader", state: .pending)], at: t0)
            try w.setGrantState(assignmentID: "a1", resourceID: "crm", role: "Reader", .failed, at: at(minutes: 1))
            try w.setAssignmentState(id: "a1", .deliveryFailed)
        }
        try store.read { r throws in
            #expect(try r.assignment(id: "a1")?.state == .deliveryFailed)
            let grants = try r.grants(assignmentID: "a1")
            #expect(grants.map(\.grant) == [ResourceGrant(resourceID: "crm", role: "Reader", state: .failed)])
            #expect(grants.map(\.updatedAt) == [at(minutes: 1)])
        }
        #expect {
            try store.write { try $0.setGrantState(assignmentID: "a1", resourceID: "crm", role: "Owner", .active, at: t0) }
        } throws: { error in
            "\(error)" == "assignment 'a1' grants no role 'Owner' on resource 'crm'"
        }
    }
}

@Suite struct OutboxTests {
    func mail(_ subject: String) -> OutgoingMail {
        OutgoingMail(recipient: "allan@contoso.example", subject: subject, body: "Hello", kind: "test")
    }

    @Test func dueSentAndFailedScheduling() throws {
        let store = try Store(path: TemporaryFolder().databasePath)
        let (first, second) = try store.write { w throws in
            (try w.enqueueMail(mail("first"), at: t0), try w.enqueueMail(mail("second"), at: at(minutes: 1)))
        }
        func due(_ minutes: Double) throws -> [String] {
            try store.read { try $0.dueMail(now: at(minutes: minutes)).map(\.mail.subject) }
        }
        #expect(try due(0) == ["first"])
        #expect(try due(1) == ["first", "second"])
        #expect(try store.read { try $0.dueMail(now: at(minutes: 1), limit: 1) }.map(\.id) == [first])

        try store.write { try $0.markMailFailed(id: first, error: "sendmail exited with status 75", nextAttemptAt: at(minutes: 5)) }
        #expect(try due(2) == ["second"])
        try store.write { try $0.markMailSent(id: second, at: at(minutes: 2)) }
        #expect(try due(4.9).isEmpty)
        #expect(try due(5) == ["first"])

        let retried = try #require(try store.read { try $0.mail(id: first) })
        #expect(retried.attempts == 1 && retried.lastError == "sendmail exited with status 75" && retried.createdAt == t0)
        let sent = try #require(try store.read { try $0.mail(id: second) })
        #expect(sent.sentAt == at(minutes: 2) && sent.attempts == 1 && sent.nextAttemptAt == nil)

        // Giving up: never due again, the error kept.
        try store.write { try $0.markMailFailed(id: first, error: "no such user", nextAttemptAt: nil) }
        #expect(try due(60 * 24 * 365).isEmpty)
        #expect(try store.read { try $0.mail(id: first) }?.attempts == 2)
        #expect(try store.read { try $0.mail(to: "allan@contoso.example") }.map(\.id) == [second, first])
        #expect(throws: StoreError.mailNotFound(id: 999)) {
            try store.write { try $0.markMailSent(id: 999, at: t0) }
        }
    }
}
