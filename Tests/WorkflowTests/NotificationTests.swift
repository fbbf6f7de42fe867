import Foundation
import GatehouseModel
import GatehouseStore
import Governance
import Testing
import Workflow

/// `notifications: {requestor: false}`: the requestor gets no mail; approvers still do.
@Suite struct NotificationTests {
    static func quiet(_ packageID: String, in site: Site = Example.site) -> Site {
        changing(site, package: packageID) { $0.notifications = Notifications(requestor: false) }
    }

    @Test func noRequestorMailThroughTwoStages() throws {
        let bench = try Bench(site: Self.quiet(financePackage))
        try bench.submit(financePackage, by: allan)
        _ = try bench.decide(by: nestor, .approve, at: day(1))
        #expect(try bench.request().currentStage == 2)
        _ = try bench.decide(by: hallam, .approve, "Confirmed", at: day(2))
        #expect(try bench.request().state == .delivered)
        #expect(try bench.assignments(of: allan).count == 1)

        #expect(try bench.mail(to: allan).isEmpty)
        #expect(try bench.mail(to: nestor).map(\.kind) == ["approvalRequired"])
        #expect(try bench.mail(to: adele).map(\.kind) == ["approvalRequired", "approvalDecidedByOther"])
        #expect(try bench.mail(to: hallam).map(\.kind) == ["approvalRequired"])
    }

    @Test func noRequestorMailOnDenialOrExpiry() throws {
        let bench = try Bench(site: Self.quiet(externalPackage))
        try bench.submit(externalPackage, by: alex, name: "Alex Wilber", id: "r1")
        try bench.submit(externalPackage, by: alex, name: "Alex Wilber", id: "r2")
        _ = try bench.decide("r1", by: adele, .deny, "No", at: day(1))
        #expect(try bench.request("r1").state == .denied)

        var expected = SweepReport()
        expected.requestsChecked = 1
        expected.expired = 1
        #expect(try bench.sweep(at: day(14)) == expected)
        #expect(try bench.request("r2").state == .expired)

        #expect(try bench.mail(to: alex).isEmpty)
        #expect(try bench.mail(to: adele).map(\.kind)
            == ["approvalRequired", "approvalRequired", "approvalExpired"])
    }

    @Test func noRequestorMailForAScheduledStart() throws {
        let bench = try Bench(site: Self.quiet(financePackage))
        let start = paris.startOfDay(CalendarDay("2028-03-21")!)
        try bench.submit(financePackage, by: allan, requestedStart: start)
        _ = try bench.decide(by: nestor, .approve, at: day(1))
        _ = try bench.decide(by: adele, .approve, "Confirmed", at: day(2))
        #expect(try bench.request().state == .scheduled)
        var expected = SweepReport()
        expected.started = 1
        #expect(try bench.sweep(at: start) == expected)
        #expect(try bench.request().state == .delivered)
        #expect(try bench.mail(to: allan).isEmpty)
    }

    /// A pending request keeps the policy it was submitted under: the snapshot decides, not today's site.
    @Test func theSnapshotDecidesNotTheCurrentSite() throws {
        let quiet = try Bench()  // the site now says "tell the requestor"; the request was submitted when it did not
        try quiet.submit(externalPackage, by: alex, name: "Alex Wilber", submittedSite: Self.quiet(externalPackage))
        _ = try quiet.decide(by: adele, .approve, "Fine", at: day(1))
        #expect(try quiet.request().state == .delivered)
        #expect(try quiet.mail(to: alex).isEmpty)

        let loud = try Bench(site: Self.quiet(externalPackage))
        try loud.submit(externalPackage, by: alex, name: "Alex Wilber", submittedSite: Example.site)
        _ = try loud.decide(by: adele, .approve, "Fine", at: day(1))
        #expect(try loud.mail(to: alex).map(\.kind) == ["accessDelivered"])
    }
}
