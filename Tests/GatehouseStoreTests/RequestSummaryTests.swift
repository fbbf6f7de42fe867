import Foundation
import Testing
import GatehouseStore

/// The narrow reads the history page and the submission checks use instead of whole requests.
@Suite struct RequestSummaryTests {
    @Test func summariesAreNewestFirstWithTheDecisionOfTheHighestStage() throws {
        let store = try Store(path: TemporaryFolder().databasePath)
        try store.write { w throws in
            try w.insertRequest(sampleRequest(id: "old", state: .denied, createdAt: at(minutes: 0)))
            try w.insertRequest(sampleRequest(id: "tie-1", packageID: "external", createdAt: at(minutes: 10)))
            try w.insertRequest(sampleRequest(id: "tie-2", packageID: "finance", createdAt: at(minutes: 10)))
            try w.insertRequest(sampleRequest(id: "other", email: "don@outlook.example", createdAt: at(minutes: 5)))
            // Stage 2 was decided before stage 1's time: the summary follows the stage, not the clock.
            _ = try w.insertDecision(DecisionRecord(
                requestID: "old", stage: 2, approverEmail: "hallam@contoso.example", decision: .deny, justification: "No",
                decidedAt: at(minutes: 3)))
            _ = try w.insertDecision(DecisionRecord(
                requestID: "old", stage: 1, approverEmail: "adele@contoso.example", decision: .approve, justification: "",
                decidedAt: at(minutes: 4)))
        }
        let summaries = try store.read { try $0.requestSummaries(of: "Allan@contoso.example") }
        #expect(summaries.map(\.id) == ["tie-2", "tie-1", "old"], "equal times: the larger id (ids grow with time) first")
        #expect(summaries.last == RequestSummary(
            id: "old", requestorEmail: "allan@contoso.example", packageID: "internal", policyID: "members",
            state: .denied, createdAt: t0, updatedAt: t0, lastDecisionAt: at(minutes: 3)))
        #expect(summaries.map(\.lastDecisionAt) == [nil, nil, at(minutes: 3)])
        try store.read { r throws in
            #expect(try r.requestSummaries(of: "allan@contoso.example", limit: 1).map(\.id) == ["tie-2"])
            #expect(try r.requestSummaries(of: "nobody@contoso.example").isEmpty)
            #expect(try r.requestSummary(of: "allan@contoso.example", idempotencyKey: "key-tie-1")?.packageID == "external")
            #expect(try r.requestSummary(of: "allan@contoso.example", idempotencyKey: "key-old")?.lastDecisionAt == at(minutes: 3))
            #expect(try r.requestSummary(of: "allan@contoso.example", idempotencyKey: "key-missing") == nil)
            // A key is looked up among one person's requests, created since the given instant.
            #expect(try r.requestSummary(of: "don@outlook.example", idempotencyKey: "key-tie-1") == nil)
            #expect(try r.requestSummary(of: "allan@contoso.example", idempotencyKey: "key-old", since: at(minutes: 1)) == nil)
            #expect(try r.requestSummary(of: "allan@contoso.example", idempotencyKey: "key-old", since: t0)?.id == "old")
        }
    }

    @Test func openRequestsAndHeldPackagesAreFilteredInTheQuery() throws {
        let store = try Store(path: TemporaryFolder().databasePath)
        try store.write { w throws in
            try w.insertRequest(sampleRequest(id: "r1", state: .pendingApproval))
            try w.insertRequest(sampleRequest(id: "r2", packageID: "external", state: .denied))
            try w.insertRequest(sampleRequest(id: "r3", packageID: "finance", state: .delivered))
            try w.insertRequest(sampleRequest(id: "r4", packageID: "lab", state: .delivered))
            try w.insertRequest(sampleRequest(id: "r5", email: "don@outlook.example", packageID: "crm", state: .submitted))
            try w.insertAssignment(
                AssignmentRecord(
                    id: "a3", requestID: "r3", email: "allan@contoso.example", packageID: "finance", policyID: "members",
                    state: .delivered, startsAt: t0, endsAt: nil),
                grants: [], at: t0)
            try w.insertAssignment(
                AssignmentRecord(
                    id: "a4", requestID: "r4", email: "allan@contoso.example", packageID: "lab", policyID: "members",
                    state: .delivering, startsAt: t0, endsAt: nil),
                grants: [], at: t0)
            try w.insertAssignment(
                AssignmentRecord(
                    id: "a5", requestID: "r5", email: "don@outlook.example", packageID: "crm", policyID: "members",
                    state: .delivered, startsAt: t0, endsAt: nil),
                grants: [], at: t0)
        }
        try store.read { r throws in
            #expect(try r.requestedPackageIDs(of: "ALLAN@contoso.example", in: [.submitted, .pendingApproval]) == ["internal"])
            #expect(try r.requestedPackageIDs(of: "allan@contoso.example", in: [.denied, .delivered]) == ["external", "finance", "lab"])
            #expect(try r.requestedPackageIDs(of: "allan@contoso.example", in: []).isEmpty)
            #expect(try r.requests(of: "allan@contoso.example", packageID: "external", in: [.denied, .expired]).map(\.id) == ["r2"])
            #expect(try r.requests(of: "allan@contoso.example", packageID: "external", in: [.pendingApproval]).isEmpty)
            #expect(try r.heldPackageIDs(of: "Allan@contoso.example") == ["finance", "lab"])
        }
        try store.write { try $0.endAssignment(id: "a4", reason: "expired", at: at(minutes: 1)) }
        #expect(try store.read { try $0.heldPackageIDs(of: "allan@contoso.example") } == ["finance"])
    }
}
