import Foundation
import GatehouseModel
import GatehouseStore
import Governance
import Testing
import Workflow

/// What the sweep does to finance-reports' stage 1 (Nestor, 10 days; reminder on day 5 and day 9;
/// forwarded to Megan, the second-level manager, on day 6; expired on day 10).
@Suite struct SweepTests {
    func report(checked: Int = 0, expired: Int = 0, escalated: Int = 0, reminded: Int = 0, started: Int = 0) -> SweepReport {
        var report = SweepReport()
        report.requestsChecked = checked
        report.expired = expired
        report.escalated = escalated
        report.reminded = reminded
        report.started = started
        return report
    }

    /// Everything a second sweep must leave as it is.
    struct Snapshot: Equatable {
        var state: ApprovalStateRecord
        var updatedAt: Date
        var approvers: [ApproverRecord]
        var audit: Int
        var outbox: Int

        init(_ bench: Bench) throws {
            state = try bench.approvalState()
            updatedAt = try bench.request().updatedAt
            approvers = try bench.approvers()
            audit = try bench.audit().count
            outbox = try bench.outbox().count
        }
    }

    @Test func remindsAtTheMidpointEscalatesOnDaySixAndExpiresOnDayTen() throws {
        let bench = try Bench()
        try bench.submit(financePackage, by: allan)

        #expect(try bench.sweep(at: t0) == report())
        #expect(try bench.sweep(at: day(5).addingTimeInterval(-1)) == report())
        #expect(try bench.mail(kind: "approvalReminder").isEmpty)

        // Day 5: the midpoint reminder, to Nestor.
        #expect(try bench.sweep(at: day(5)) == report(checked: 1, reminded: 1))
        let reminders = try bench.mail(kind: "approvalReminder")
        #expect(reminders.map(\.recipient) == [nestor])
        #expect(reminders.first?.subject == "Reminder: Allan Deyoung's request for Finance reports expires on 11 March 2028")
        #expect(reminders.first?.body.contains("Decide by: 11 March 2028, 9:00") == true)
        #expect(reminders.first?.body.contains("http://127.0.0.1:8080/approvals/r1/") == true)
        var state = try bench.approvalState()
        #expect(state.remindersSent == 1)
        #expect(state.nextCheckAt == day(6))
        #expect(try bench.request().updatedAt == t0)  // a reminder is not a change the requestor sees
        #expect(try bench.audit(request: "r1").map(\.action) == ["stageStarted", "reminded"])

        // Megan is no approver yet.
        #expect(try !bench.canDecide(megan))
        #expect(try bench.decide(by: megan, .approve, at: day(5)) == .notFound)

        // Day 6: forwarded to Megan; Nestor can still decide.
        #expect(try bench.sweep(at: day(6)) == report(checked: 1, escalated: 1))
        state = try bench.approvalState()
        #expect(state.escalated)
        #expect(state.currentStage == 1)
        #expect(state.nextCheckAt == day(9))
        #expect(try bench.request().updatedAt == day(6))
        #expect(try bench.approvers() == [
            ApproverRecord(requestID: "r1", stage: 1, email: nestor, role: .primary, addedAt: t0),
            ApproverRecord(requestID: "r1", stage: 1, email: megan, role: .alternate, addedAt: day(6)),
        ])
        let forwarded = try bench.mail(to: megan)
        #expect(forwarded.map(\.kind) == ["approvalForwarded"])
        #expect(forwarded.first?.subject == "Forwarded to you: Allan Deyoung requests Finance reports")
        #expect(forwarded.first?.body.contains("Decide by: 11 March 2028, 9:00") == true)
        #expect(forwarded.first?.body.contains("(stage 1 of 2)") == true)
        #expect(try bench.audit(request: "r1").last?.reason == "forwarded to megan@contoso.example")
        #expect(try bench.canDecide(nestor))
        #expect(try bench.canDecide(megan))
        #expect(try bench.store.read { try $0.pendingApprovals(for: megan).map(\.role) } == [.alternate])

        // The same instant again: nothing.
        let before = try Snapshot(bench)
        #expect(try bench.sweep(at: day(6)) == report())
        #expect(try Snapshot(bench) == before)

        // Day 10: expired; Allan and both approvers are told.
        let mailBefore = try bench.outbox().count
        #expect(try bench.sweep(at: day(10)) == report(checked: 1, expired: 1))
        let request = try bench.request()
        #expect(request.state == .expired)
        #expect(request.currentStage == nil)
        #expect(request.updatedAt == day(10))
        #expect(try bench.approvalState().nextCheckAt == nil)
        let mail = try bench.outbox().dropFirst(mailBefore).map(\.mail)
        #expect(Set(mail.map(\.recipient)) == [allan, nestor, megan])
        #expect(mail.count == 3)
        let toAllan = try #require(mail.first { $0.recipient == allan })
        #expect(toAllan.kind == "requestExpired")
        #expect(toAllan.subject == "Your request for Finance reports expired")
        #expect(toAllan.body.contains("expired on 11 March 2028, 9:00"))
        #expect(toAllan.body.contains("http://127.0.0.1:8080/my/requests/r1/"))
        for approver in [nestor, megan] {
            let told = mail.first { $0.recipient == approver }
            #expect(told?.kind == "approvalExpired")
            #expect(told?.subject == "Allan Deyoung's request for Finance reports expired")
        }
        #expect(try bench.audit(request: "r1").last?.action == "expired")
        #expect(try bench.mail(to: nestor, kind: "approvalReminder").count == 1)  // day 9 was never swept

        // Too late to decide, for either of them.
        #expect(try bench.decide(by: nestor, .approve, at: day(10)) == .refused(.notPending(.expired)))
        #expect(try bench.decide(by: megan, .approve, at: day(11)) == .refused(.notPending(.expired)))
        #expect(try bench.decisions().isEmpty)
        let after = try Snapshot(bench)
        #expect(try bench.sweep(at: day(12)) == report())
        #expect(try Snapshot(bench) == after)
        #expect(bench.logged.value.isEmpty)
    }

    @Test func requestFormsKeptForSigningInAreDeletedOnceExpired() throws {
        let bench = try Bench()
        for (token, created) in [("a", day(0)), ("b", day(0).addingTimeInterval(1800))] {
            try bench.store.write {
                try $0.saveDraft(FormDraft(
                    tokenHash: token, packageID: "p", policyID: "q", language: "en", fields: #"{"justification":["x"]}"#,
                    client: "192.0.2.1", browserHash: "h", createdAt: created, expiresAt: created.addingTimeInterval(3600)))
            }
        }
        // Each at its expiry, not a second before; the report says so only when it deleted any.
        #expect(try bench.sweep(at: day(0).addingTimeInterval(3599)).draftsRemoved == 0)
        let first = try bench.sweep(at: day(0).addingTimeInterval(3600))
        #expect(first.draftsRemoved == 1)
        #expect(first.description.hasSuffix("; 1 expired form deleted"))
        #expect(try bench.store.read { try $0.draft(tokenHash: "b", now: day(0).addingTimeInterval(3600)) } != nil)
        #expect(try bench.sweep(at: day(0).addingTimeInterval(5400)).draftsRemoved == 1)
        #expect(try bench.sweep(at: day(1)) == SweepReport())
    }

    @Test func theEscalationWaitsForItsInstant() throws {
        let bench = try Bench()
        try bench.submit(financePackage, by: allan)
        let almost = day(6).addingTimeInterval(-1)

        // One second before: only the (overdue) midpoint reminder.
        #expect(try bench.sweep(at: almost) == report(checked: 1, reminded: 1))
        #expect(try bench.approvalState().escalated == false)
        #expect(try bench.approvalState().nextCheckAt == day(6))
        #expect(try bench.approvers().map(\.email) == [nestor])
        #expect(try bench.mail(to: megan).isEmpty)
        #expect(try bench.decide(by: megan, .approve, at: almost) == .notFound)

        // At the instant.
        #expect(try bench.sweep(at: day(6)) == report(checked: 1, escalated: 1))
        #expect(try bench.approvalState().escalated)
        #expect(try bench.mail(to: megan).map(\.kind) == ["approvalForwarded"])
        #expect(try bench.mail(to: nestor, kind: "approvalReminder").count == 1)
    }

    @Test func aSweepDownForNineDaysSendsOneReminder() throws {
        let bench = try Bench()
        try bench.submit(financePackage, by: allan)
        #expect(try bench.sweep(at: t0) == report())

        // Day 9: both reminders and the escalation are due; one reminder goes out.
        #expect(try bench.sweep(at: day(9)) == report(checked: 1, escalated: 1, reminded: 1))
        #expect(try bench.mail(to: nestor, kind: "approvalReminder").count == 1)
        #expect(try bench.mail(to: megan, kind: "approvalForwarded").count == 1)
        let state = try bench.approvalState()
        #expect(state.remindersSent == 2)
        #expect(state.escalated)
        #expect(state.nextCheckAt == day(10))
        #expect(try bench.audit(request: "r1").filter { $0.action == "reminded" }.count == 1)

        let before = try Snapshot(bench)
        #expect(try bench.sweep(at: day(9).addingTimeInterval(3600)) == report())
        #expect(try Snapshot(bench) == before)
    }

    @Test func meganDecidesAfterTheEscalationAndNestorIsTold() throws {
        let bench = try Bench()
        try bench.submit(financePackage, by: allan)
        _ = try bench.sweep(at: day(6))
        let outcome = try bench.decide(by: megan, .approve, "Nestor is on leave", at: day(7))
        #expect(outcome == .recorded(
            DecisionRecord(
                requestID: "r1", stage: 1, approverEmail: megan, decision: .approve, justification: "Nestor is on leave",
                decidedAt: day(7)),
            state: .pendingApproval))
        #expect(try bench.request().currentStage == 2)
        #expect(try bench.approvalState().escalated == false)  // stage 2 has its own escalation state
        #expect(try bench.approvalState().stageStartedAt == day(7))
        #expect(try bench.mail(to: nestor, kind: "approvalDecidedByOther").first?.subject
            == "Allan Deyoung's request for Finance reports was approved by Megan Bowen")
        #expect(try bench.mail(to: allan, kind: "requestStageApproved").first?.body
            .contains("Megan Bowen approved stage 1 of 2") == true)
    }

    @Test func nestorStillDecidesAfterTheEscalationAndMeganIsTold() throws {
        let bench = try Bench()
        try bench.submit(financePackage, by: allan)
        _ = try bench.sweep(at: day(6))
        let outcome = try bench.decide(by: nestor, .deny, "Not this quarter", at: day(8))
        #expect(recorded(outcome)?.approverEmail == nestor)
        #expect(try bench.request().state == .denied)
        #expect(try bench.mail(to: megan, kind: "approvalDecidedByOther").first?.subject
            == "Allan Deyoung's request for Finance reports was denied by Nestor Wilke")
        #expect(try bench.decide(by: megan, .approve, "Overrule", at: day(8)) == .refused(.alreadyDecided(
            StageDecision(stage: 1, approver: nestor, decision: .deny, justification: "Not this quarter", at: day(8)))))
        // Nothing left for the sweep.
        let mailCount = try bench.outbox().count
        #expect(try bench.sweep(at: day(10)) == report())
        #expect(try bench.outbox().count == mailCount)
        #expect(try bench.request().state == .denied)
    }

    @Test func theSecondStageHasItsOwnClock() throws {
        let bench = try Bench()
        try bench.submit(financePackage, by: allan)
        _ = try bench.decide(by: nestor, .approve, at: day(4))

        // Stage 1's deadline (day 10) is no deadline for stage 2 (7 days from day 4); its two
        // reminders (days 7 and 10) are both due, and one goes out to each approver.
        #expect(try bench.sweep(at: day(10)) == report(checked: 1, reminded: 1))
        #expect(try bench.request().state == .pendingApproval)
        #expect(try bench.mail(kind: "approvalReminder").map(\.recipient).sorted() == [adele, hallam])
        #expect(try bench.mail(kind: "approvalReminder").first?.body.contains("Decide by: 12 March 2028, 9:00") == true)
        #expect(try bench.approvalState().nextCheckAt == day(11))

        #expect(try bench.sweep(at: day(11)) == report(checked: 1, expired: 1))
        #expect(try bench.mail(kind: "approvalExpired").map(\.recipient).sorted() == [adele, hallam])
        #expect(try bench.mail(to: nestor, kind: "approvalExpired").isEmpty)
    }

    @Test func oneSweepHandlesManyRequestsInBatches() throws {
        let bench = try Bench()
        for n in 1...7 { try bench.submit(financePackage, by: allan, id: "r\(n)", at: t0.addingTimeInterval(Double(n) * 60)) }
        var sweeper = bench.sweeper
        sweeper.batchSize = 3
        #expect(try sweeper.run(now: day(6).addingTimeInterval(3600)) == report(checked: 7, escalated: 7, reminded: 7))
        #expect(try bench.mail(to: megan, kind: "approvalForwarded").count == 7)
        #expect(try sweeper.run(now: day(6).addingTimeInterval(3600)) == report())
    }
}
