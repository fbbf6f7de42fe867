import GatehouseModel
import Rendering
import Testing

/// The sentences a package page uses, from the example tenant's people and groups.
struct DescribeTests {
    let describer: PolicyDescriber

    init() throws {
        describer = PolicyDescriber(site: try Fixture.site())
    }

    @Test func requestorsInWords() {
        #expect(describer.requestors(.allMembers) == "Members of the directory")
        #expect(describer.requestors(.allUsers) == "Members and guests of the directory")
        #expect(describer.requestors(.anyone) == "Anyone with an email address")
        #expect(describer.requestors(.specificOrganizations(["partner"])) == "People of Partner Ltd")
        #expect(describer.requestors(.specificPeople(people: ["bob@fixture.example"], groups: ["clerks"]))
            == "Bob Boss and members of Clerks team")
        #expect(describer.requestors(.specificPeople(people: [], groups: ["clerks", "admins"]))
            == "Members of Clerks team and members of Administrators")
        #expect(describer.requestors(.allConfiguredOrganizations) == "People of any configured connected organization")
    }

    @Test func approversByDisplayName() {
        let stage = ApprovalStage(
            approvers: [ApproverRef(.manager), ApproverRef(.person("ada@fixture.example"))],
            fallback: [ApproverRef(.person("bob@fixture.example"))], timeoutDays: 14)
        #expect(describer.approvers(of: stage) == ["The requestor’s manager (fallback: Bob Boss)", "Ada Admin"])
        #expect(describer.approver(.group("admins")) == "members of Administrators")
        #expect(describer.approver(.person("unknown@else.example")) == "unknown@else.example")
        #expect(describer.decision(of: stage) == "One approver decides within 14 days; otherwise the request expires.")
    }

    @Test func decisionAndEscalation() {
        let stage = ApprovalStage(
            approvers: [ApproverRef(.person("ada@fixture.example"))], timeoutDays: 1, justificationRequired: true,
            escalation: Escalation(afterDays: 6, approvers: [ApproverRef(.group("clerks"))]))
        #expect(describer.decision(of: stage) == "Ada Admin decides within 1 day and gives a reason; otherwise the request expires.")
        #expect(describer.escalation(of: stage) == "If nobody decides, the request is forwarded to members of Clerks team after 6 days.")
        #expect(describer.decision(of: ApprovalStage(approvers: [ApproverRef(.group("admins"))], timeoutDays: 7))
            == "One member of Administrators decides within 7 days; otherwise the request expires.")
    }

    @Test func durations() {
        #expect(describer.duration(.afterDays(365)) == "365 days from approval")
        #expect(describer.duration(.afterHours(8)) == "8 hours from approval")
        #expect(describer.duration(.onDate(CalendarDay("2028-06-30")!)) == "until 30 June 2028")
        #expect(describer.duration(.never) == "no end date")
    }

    @Test func reviewSummary() {
        let review = AccessReview(
            startsOn: CalendarDay("2027-01-01")!, frequency: .quarterly, durationDays: 14,
            reviewers: .manager(fallback: [ApproverRef(.person("ada@fixture.example"))]), whenNoResponse: .removeAccess)
        #expect(describer.review(review) == "Reviewed every three months from 1 January 2027 by the holder’s manager "
            + "(fallback: Ada Admin), within 14 days. Without an answer, access is removed.")
        #expect(describer.review(nil) == "No recurring access review.")
    }

    @Test func separationOfDuties() {
        #expect(describer.separation(packages: ["Finance reports"], groups: ["admins"])
            == "People who hold Finance reports, and members of Administrators, cannot request it.")
        #expect(describer.separation(packages: [], groups: []) == nil)
    }

    @Test func frenchLongDates() {
        #expect(UIStrings(language: "fr").longDate(CalendarDay("2028-06-30")!) == "30 juin 2028")
        #expect(UIStrings(language: "fr").longDate(CalendarDay("2028-08-01")!) == "1er août 2028")
        #expect(UIStrings(language: "de")["submit"] == "Submit request", "languages without a table fall back to English")
    }
}
