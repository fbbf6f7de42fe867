import Foundation
import GatehouseModel
import GatehouseStore
import Governance
import Testing
import Workflow

/// finance-reports (customSchedule) requested to start on 21 March 2028, approved on 3 March.
@Suite struct ScheduledDeliveryTests {
    let start = instant("2028-03-21T00:00:00+01:00")

    @Test func approvalBeforeTheStartSchedulesAndTheSweepDeliversAtTheStart() throws {
        let bench = try Bench()
        #expect(paris.startOfDay(CalendarDay("2028-03-21")!) == start)
        try bench.submit(financePackage, by: allan, requestedStart: start)
        _ = try bench.decide(by: nestor, .approve, at: day(1))
        let outcome = try bench.decide(by: adele, .approve, "Needed for the Q2 budget", at: day(2))
        #expect(recorded(outcome) != nil)
        if case .recorded(_, let state) = outcome { #expect(state == .scheduled) }

        let request = try bench.request()
        #expect(request.state == .scheduled)
        #expect(request.updatedAt == day(2))
        let assignment = try #require(try bench.assignments(of: allan).first)
        #expect(assignment.state == .delivering)
        #expect(assignment.startsAt == start)
        // 90 days from the real start, not from the approval; summer time by then.
        #expect(assignment.endsAt == instant("2028-06-19T00:00:00+02:00"))
        #expect(try bench.grants(assignment.id) == [
            ResourceGrant(resourceID: "lab-portal", role: "Contributor", state: .pending),
            ResourceGrant(resourceID: "lab-wiki", role: "Edit", state: .pending),
        ])
        #expect(try bench.members("lab-portal").isEmpty)
        let scheduled = try bench.mail(to: allan, kind: "requestScheduled")
        #expect(scheduled.count == 1)
        #expect(scheduled.first?.subject == "Your access to Finance reports starts on 21 March 2028")
        #expect(scheduled.first?.body.contains("starts on 21 March 2028, 0:00 and lasts until 18 June 2028") == true)
        #expect(try bench.mail(to: allan, kind: "accessDelivered").isEmpty)
        #expect(try bench.audit(request: "r1").suffix(2).map(\.action) == ["approved", "scheduled"])

        // Just before the start: nothing.
        let auditCount = try bench.audit().count
        let mailCount = try bench.outbox().count
        #expect(try bench.sweep(at: start.addingTimeInterval(-1)) == SweepReport())
        #expect(try bench.request().state == .scheduled)
        #expect(try bench.assignments(of: allan).first?.state == .delivering)
        #expect(try bench.audit().count == auditCount)
        #expect(try bench.outbox().count == mailCount)

        // At the start: delivered.
        var started = SweepReport()
        started.started = 1
        #expect(try bench.sweep(at: start) == started)
        #expect(try bench.assignments(of: allan).first?.state == .delivered)
        #expect(try bench.grants(assignment.id).map(\.state) == [.active, .active])
        #expect(try bench.members("lab-wiki") == [ResourceMember(email: allan, role: "Edit")])
        #expect(try bench.request().state == .delivered)
        #expect(try bench.request().updatedAt == start)
        let delivered = try bench.mail(to: allan, kind: "accessDelivered")
        #expect(delivered.count == 1)
        #expect(delivered.first?.body.contains("You now have access to Finance reports until 18 June 2028.") == true)
        #expect(try bench.audit(request: "r1").last?.action == "delivered")

        // And only once.
        #expect(try bench.sweep(at: start.addingTimeInterval(60)) == SweepReport())
        #expect(try bench.outbox().count == mailCount + 1)
    }

    @Test func aStartAlreadyPassedAtApprovalDeliversAtOnce() throws {
        let bench = try Bench()
        let today = paris.startOfDay(CalendarDay("2028-03-01")!)
        try bench.submit(financePackage, by: allan, requestedStart: today)
        _ = try bench.decide(by: nestor, .approve, at: day(1))
        _ = try bench.decide(by: adele, .approve, "Fine", at: day(2))
        #expect(try bench.request().state == .delivered)
        #expect(try bench.assignments(of: allan).first?.startsAt == day(2))
        #expect(try bench.assignments(of: allan).first?.state == .delivered)
    }
}
