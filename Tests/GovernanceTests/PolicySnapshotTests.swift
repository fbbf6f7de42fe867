import Foundation
import GatehouseModel
import Governance
import Testing

private let lee = Requestor(email: "lee@contoso.example", isInternal: true)

private func policy(
    requestors: RequestorScope = .allMembers, stages: [ApprovalStage] = [], questions: [Question] = [],
    lifecycle: Lifecycle = Lifecycle(), notifications: Notifications = Notifications(),
    enabled: Bool = true, justification: JustificationRule = .optional
) -> Policy {
    Policy(id: "members", name: "Members", requestors: requestors, enabled: enabled, justification: justification,
           approvalStages: stages, questions: questions, lifecycle: lifecycle, notifications: notifications)
}

private func roundTrip(_ policy: Policy, requestor: Requestor = lee) throws -> Policy {
    try PolicySnapshot.decode(PolicySnapshot.encode(policy, requestor: requestor)).policy
}

/// A snapshot as the portal has written it since requests were first stored.
private let storedRow = #"{"policy":{"approvalStages":[{"approvers":[{"manager":true}],"escalation":{"afterDays":5,"approvers":[{"secondLevelManager":true}]},"fallback":[{"person":"megan@contoso.example"}],"justificationRequired":true,"timeoutDays":7}],"enabled":true,"id":"members","justification":"required","lifecycle":{"customSchedule":false,"expiration":{"afterDays":365},"extensionAllowed":false,"extensionRequiresApproval":false},"name":"Members/Staff","notifications":{"requestor":false},"questions":[{"choices":[],"id":"reason","maxLength":20,"multipleSelection":false,"regex":"[A-Z]+","required":true,"text":{"default":"Why?","fr":"Pourquoi ?"},"type":"shortText"}],"requestors":{"groups":["finance"],"people":["lee@contoso.example"],"scope":"specificPeople"}},"requestor":{"domain":"contoso.example","internal":true,"organization":null}}"#

private let storedPolicy = Policy(
    id: "members", name: "Members/Staff",
    requestors: .specificPeople(people: ["lee@contoso.example"], groups: ["finance"]), justification: .required,
    approvalStages: [ApprovalStage(
        approvers: [ApproverRef(.manager)], fallback: [ApproverRef(.person("megan@contoso.example"))], timeoutDays: 7,
        justificationRequired: true, escalation: Escalation(afterDays: 5, approvers: [ApproverRef(.secondLevelManager)]))],
    questions: [Question(id: "reason", kind: .shortText, required: true,
                         text: LocalizedText("Why?", translations: ["fr": "Pourquoi ?"]), pattern: "[A-Z]+", maxLength: 20)],
    lifecycle: Lifecycle(expiration: .afterDays(365)), notifications: Notifications(requestor: false))

@Suite struct PolicySnapshotTests {
    @Test func theFormatIsTheOneStoredRowsUse() throws {
        #expect(PolicySnapshot.encode(storedPolicy, requestor: lee) == storedRow)
        let contents = try PolicySnapshot.decode(storedRow)
        #expect(contents.policy == storedPolicy)
        #expect(contents.requestor == SnapshotRequestor(domain: "contoso.example", isInternal: true, organizationID: nil))
    }

    @Test(arguments: [
        RequestorScope.specificPeople(people: ["lee@contoso.example", "allan@contoso.example"], groups: ["finance"]),
        .specificPeople(people: [], groups: []), .allMembers, .allUsers, .specificOrganizations(["azureblog", "fabrikam"]),
        .allConfiguredOrganizations, .anyone, .adminOnly,
    ])
    func everyRequestorScopeRoundTrips(_ scope: RequestorScope) throws {
        let original = policy(requestors: scope)
        #expect(try roundTrip(original) == original)
    }

    @Test(arguments: [
        Approver.person("adele@contoso.example"), .group("lab-admins"), .manager, .secondLevelManager,
        .internalSponsors, .externalSponsors,
    ])
    func everyApproverKindRoundTrips(_ approver: Approver) throws {
        let original = policy(stages: [
            ApprovalStage(approvers: [ApproverRef(approver), ApproverRef(.person("megan@contoso.example"))],
                          fallback: [ApproverRef(approver)], timeoutDays: 10, justificationRequired: true,
                          escalation: Escalation(afterDays: 6, approvers: [ApproverRef(approver)])),
        ])
        #expect(try roundTrip(original) == original)
    }

    @Test(arguments: [
        Expiration.onDate(CalendarDay("2028-06-30")!), .afterDays(0), .afterDays(3660), .afterHours(8), .never,
    ])
    func everyExpirationRoundTrips(_ expiration: Expiration) throws {
        let original = policy(lifecycle: Lifecycle(expiration: expiration, customSchedule: true, extensionAllowed: true,
                                                   extensionRequiresApproval: true))
        #expect(try roundTrip(original) == original)
    }

    @Test func questionsRoundTripWithTheirTextsChoicesAndLimits() throws {
        let original = policy(questions: [
            Question(id: "ticket", kind: .shortText, required: true,
                     text: LocalizedText("Ticket number", translations: ["fr": "Numéro de ticket", "de": "Ticketnummer"]),
                     pattern: #"INC-\d{6}"#, maxLength: 10),
            Question(id: "details", kind: .longText, text: LocalizedText("Details (http://wiki/x)")),
            Question(id: "sites", kind: .multipleChoice, required: true, text: LocalizedText("Sites"),
                     choices: [Choice(value: "paris", text: LocalizedText("Paris", translations: ["de": "Paris"])),
                               Choice(value: "lyon", text: LocalizedText("Lyon"))],
                     allowsMultiple: true),
        ])
        #expect(try roundTrip(original) == original)
    }

    @Test func stagesRoundTripWithAndWithoutEscalation() throws {
        let original = policy(stages: [
            ApprovalStage(approvers: [ApproverRef(.group("finance"))]),
            ApprovalStage(approvers: [ApproverRef(.manager)], fallback: [ApproverRef(.person("megan@contoso.example"))],
                          timeoutDays: 14, escalation: Escalation(afterDays: 8, approvers: [ApproverRef(.secondLevelManager)])),
            ApprovalStage(approvers: [ApproverRef(.person("diego@contoso.example"))], timeoutDays: 4),
        ])
        #expect(try roundTrip(original) == original)
        #expect(try roundTrip(original).approvalStages[0].escalation == nil)
    }

    @Test func flagsAndNotificationsRoundTrip() throws {
        for original in [
            policy(notifications: Notifications(requestor: false)),
            policy(enabled: false, justification: .none),
            policy(justification: .required),
        ] {
            #expect(try roundTrip(original) == original)
        }
    }

    @Test func theRequestorPartRecordsDomainAndOrganization() throws {
        let azureblog = Organization(id: "azureblog", name: "Azureblog", domains: ["azureblog.example"])
        let partner = Requestor(email: "pat@Azureblog.example", isInternal: false, organization: azureblog)
        #expect(try PolicySnapshot.decode(PolicySnapshot.encode(policy(), requestor: partner)).requestor
            == SnapshotRequestor(domain: "azureblog.example", isInternal: false, organizationID: "azureblog"))
        let stranger = Requestor(email: "kim@mail.example", isInternal: false)
        #expect(try PolicySnapshot.decode(PolicySnapshot.encode(policy(), requestor: stranger)).requestor
            == SnapshotRequestor(domain: "mail.example", isInternal: false, organizationID: nil))
    }

    struct Broken: Sendable, CustomTestStringConvertible {
        var replace: String
        var with: String
        var path: String
        var problem: String
        var testDescription: String { "\(path): \(problem)" }
    }

    @Test(arguments: [
        Broken(replace: #""timeoutDays":7"#, with: #""timeoutDays":"7""#,
               path: "policy.approvalStages[0].timeoutDays", problem: "expected an integer"),
        Broken(replace: #"{"manager":true}"#, with: #"{"boss":true}"#,
               path: "policy.approvalStages[0].approvers[0]", problem: "unknown approver kind 'boss'"),
        Broken(replace: #"{"manager":true}"#, with: #"{"manager":true,"group":"x"}"#,
               path: "policy.approvalStages[0].approvers[0]",
               problem: "an approver has exactly one key (person, group, manager, …)"),
        Broken(replace: #""scope":"specificPeople""#, with: #""scope":"everybody""#,
               path: "policy.requestors.scope", problem: "unknown requestor scope 'everybody'"),
        Broken(replace: #"{"afterDays":365}"#, with: #"{"onDate":"2028-02-30"}"#,
               path: "policy.lifecycle.expiration.onDate", problem: "'2028-02-30' is not a YYYY-MM-DD day"),
        Broken(replace: #"{"afterDays":365}"#, with: #"{}"#,
               path: "policy.lifecycle.expiration", problem: "expected one of onDate, afterDays, afterHours, never"),
        Broken(replace: #""enabled":true"#, with: #""enabled":1"#, path: "policy.enabled", problem: "expected true or false"),
        Broken(replace: #""name":"Members/Staff","#, with: "", path: "policy.name", problem: "missing"),
        Broken(replace: #""type":"shortText""#, with: #""type":"essay""#,
               path: "policy.questions[0].type", problem: "unknown question type 'essay'"),
        Broken(replace: #","requestor":{"domain":"contoso.example","internal":true,"organization":null}"#, with: "",
               path: "requestor", problem: "missing"),
    ])
    func aBrokenSnapshotSaysWhatIsWrong(_ broken: Broken) {
        let text = storedRow.replacingOccurrences(of: broken.replace, with: broken.with)
        #expect(text != storedRow)
        #expect(throws: PolicySnapshotError(path: broken.path, problem: broken.problem)) {
            try PolicySnapshot.decode(text)
        }
    }

    @Test func textThatIsNotASnapshotSaysSo() {
        #expect(throws: PolicySnapshotError(path: "", problem: "not JSON")) { try PolicySnapshot.decode("{") }
        #expect(throws: PolicySnapshotError(path: "policy", problem: "missing")) { try PolicySnapshot.decode("{}") }
        #expect(throws: PolicySnapshotError(path: "", problem: "expected an object")) { try PolicySnapshot.decode("[]") }
        #expect(PolicySnapshotError(path: "policy.enabled", problem: "expected true or false").description
            == "policy snapshot: policy.enabled: expected true or false")
        #expect(PolicySnapshotError(path: "", problem: "not JSON").description == "policy snapshot: not JSON")
    }
}
