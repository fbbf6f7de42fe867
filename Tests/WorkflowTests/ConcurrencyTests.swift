import Foundation
import GatehouseModel
import GatehouseStore
import Governance
import Testing
import Workflow

/// Sixteen approvers of one stage decide at the same instant from sixteen threads.
@Suite struct ConcurrencyTests {
    /// The example site with 14 more people in `approvers` (16 with Adele and Hallam), who decide
    /// external-access-package's only stage.
    static let site: Site = {
        var site = changing(Example.site, package: externalPackage) {
            $0.approvalStages[0].approvers = [ApproverRef(.group("approvers"))]
        }
        for n in 1...14 {
            site.directory.people.append(
                Person(email: "approver\(n)@contoso.example", name: "Approver \(n)", manager: megan, groups: ["approvers"]))
        }
        return site
    }()

    @Test(arguments: [1, 2, 3])
    func oneDecisionWinsAndEveryOtherNamesIt(round: Int) throws {
        let bench = try Bench(site: Self.site)
        try bench.submit(externalPackage, by: alex, name: "Alex Wilber")
        let approvers = try bench.approvers().map(\.email)
        #expect(approvers.count == 16)
        #expect(Set(approvers).isSuperset(of: [adele, hallam]))

        let decidedAt = day(1)
        let store = bench.store
        let workflow = bench.approvals
        let outcomes = try onThreads(approvers.count) { index in
            try store.write { db in
                try workflow.decide(
                    requestID: "r1", by: approvers[index], index.isMultiple(of: 2) ? .approve : .deny,
                    justification: "decision \(index) of round \(round)", seenStage: 1, db: db, now: decidedAt)
            }
        }

        let winners = outcomes.compactMap { outcome -> (DecisionRecord, RequestState)? in
            if case .recorded(let decision, let state) = outcome { return (decision, state) }
            return nil
        }
        #expect(winners.count == 1)
        guard let (winner, state) = winners.first else { return }
        let refusals = outcomes.filter { if case .recorded = $0 { false } else { true } }
        #expect(refusals.count == 15)
        #expect(refusals.allSatisfy { $0 == .refused(.alreadyDecided(winner.stageDecision)) })

        #expect(try bench.decisions() == [winner])
        #expect(state == (winner.decision == .approve ? .delivered : .denied))
        #expect(try bench.request().state == state)
        #expect(try bench.request().updatedAt == decidedAt)
        #expect(try bench.assignments(of: alex).count == (winner.decision == .approve ? 1 : 0))

        // Everyone else is told once who decided; the winner is not.
        let told = try bench.mail(kind: "approvalDecidedByOther")
        #expect(told.map(\.recipient).sorted() == approvers.filter { $0 != winner.approverEmail }.sorted())
        let verb = winner.decision == .approve ? "approved" : "denied"
        let name = try #require(Self.site.directory.person(winner.approverEmail)?.name)
        #expect(told.allSatisfy { $0.subject == "Alex Wilber's request for External_AccessPackage was \(verb) by \(name)" })
        #expect(try bench.mail(to: alex).count == 1)
        let decisionAudits = try bench.audit(request: "r1").filter { ["approved", "denied"].contains($0.action) }
        #expect(decisionAudits.count == 1)
        #expect(decisionAudits.first?.actor == winner.approverEmail)
    }
}
