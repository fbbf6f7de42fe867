import Foundation
import GatehouseModel
import Governance
import Testing

/// An instant from an ISO 8601 text with its offset, so each test states the wall-clock time it means.
private func instant(_ text: String) -> Date {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.date(from: text)!
}

private let paris = try! TenantCalendar(timeZoneIdentifier: "Europe/Paris")
/// Wednesday 1 March 2028, 09:00 in Paris: the fixed clock every request starts on.
private let t0 = instant("2028-03-01T09:00:00+01:00")

/// `n` tenant days after `start`.
private func day(_ n: Int, from start: Date = t0) -> Date { paris.adding(days: n, to: start) }
private func hours(_ n: Double, from start: Date = t0) -> Date { start.addingTimeInterval(n * 3600) }

private let lee = "lee@contoso.example"        // the usual requestor; manager Miriam, whose manager is Diego
private let miriam = "miriam@contoso.example"
private let diego = "diego@contoso.example"
private let alex = "alex@contoso.example"      // group "approvers", with Lynne and Lee
private let lynne = "lynne@contoso.example"
private let grady = "grady@contoso.example"    // nobody's approver unless named
private let orphan = "orphan@contoso.example"  // no manager
private let adele = "adele@contoso.example"    // Azureblog's internal sponsor
private let joni = "joni@azureblog.example"    // Azureblog's external sponsor
private let megan = "megan@contoso.example"    // admin
private let nestor = "nestor@contoso.example"  // admin

/// People with a manager chain, a group, two organizations (one without sponsors) and two admins.
private func approvalSite(admins: [String] = [megan, nestor], leesManager: String = miriam) -> Site {
    let tenant = Tenant(
        name: "Contoso", domains: ["contoso.example"], baseURL: "https://access.contoso.example",
        timeZone: "Europe/Paris", languages: ["en"], admins: admins, externalUsers: ExternalUserSettings(),
        termsOfUse: "")
    let directory = Directory(
        people: [
            Person(email: "Alex@Contoso.example", name: "Alex Wilber", groups: ["approvers"]),
            Person(email: lee, name: "Lee Gu", manager: leesManager, groups: ["approvers"]),
            Person(email: lynne, name: "Lynne Robbins", groups: ["approvers"]),
            Person(email: miriam, name: "Miriam Graham", manager: "Diego@Contoso.example"),
            Person(email: diego, name: "Diego Siciliani"),
            Person(email: grady, name: "Grady Archie", manager: miriam),
            Person(email: orphan, name: "Orphan Annie"),
            Person(email: adele, name: "Adele Vance"),
            Person(email: megan, name: "Megan Bowen"),
            Person(email: nestor, name: "Nestor Wilke"),
        ],
        groups: [Group(id: "approvers", name: "Approvers")])
    let organizations = [
        Organization(id: "azureblog", name: "Azureblog", domains: ["azureblog.example"],
                     internalSponsors: [adele], externalSponsors: [joni]),
        Organization(id: "fabrikam", name: "Fabrikam", domains: ["fabrikam.example"]),
    ]
    return Site(tenant: tenant, directory: directory, organizations: organizations, catalogs: [], packages: [])
}

private let internalRequestor = ApprovalRequestor(email: lee, isInternal: true)
private let partner = ApprovalRequestor(email: "pat@azureblog.example", isInternal: false, organizationID: "azureblog")
private let unsponsored = ApprovalRequestor(email: "sam@fabrikam.example", isInternal: false, organizationID: "fabrikam")
private let managerless = ApprovalRequestor(email: orphan, isInternal: true)

private func stage(
    _ approvers: Approver..., fallback: [Approver] = [], timeout: Int = 14, justification: Bool = false,
    escalation: (days: Int, approvers: [Approver])? = nil
) -> ApprovalStage {
    ApprovalStage(
        approvers: approvers.map { ApproverRef($0) }, fallback: fallback.map { ApproverRef($0) }, timeoutDays: timeout,
        justificationRequired: justification,
        escalation: escalation.map { Escalation(afterDays: $0.days, approvers: $0.approvers.map { ApproverRef($0) }) })
}

private func engine(_ stages: ApprovalStage..., requestor: ApprovalRequestor = internalRequestor,
                    site: Site = approvalSite()) -> ApprovalEngine {
    ApprovalEngine(stages: stages, requestor: requestor, site: site, calendar: paris)
}

private func primary(_ emails: String...) -> [StageApprover] { emails.map { StageApprover(email: $0, role: .primary) } }
private func fallback(_ emails: String...) -> [StageApprover] { emails.map { StageApprover(email: $0, role: .fallback) } }

/// The refusal of a decision that should not have been recorded.
private func refusal(_ result: Result<ApprovalStep, DecisionRefusal>) -> DecisionRefusal? {
    if case .failure(let refusal) = result { refusal } else { nil }
}

private let threeApprovers = [alex, lynne, diego]

@Suite struct ApprovalEngineTests {
    // MARK: - Walking the stages

    @Test(arguments: 1...3)
    func everyStageApprovedApprovesTheRequest(stageCount: Int) throws {
        let engine = ApprovalEngine(stages: threeApprovers.prefix(stageCount).map { stage(.person($0)) },
                                    requestor: internalRequestor, site: approvalSite(), calendar: paris)
        let started = engine.start(at: t0)
        #expect(started.effects == [.stageStarted(stage: 1, approvers: primary(alex), deadline: day(14),
                                                  usedFallback: false, noApprover: false)])
        var progress = started.progress
        for stageNumber in 1...stageCount {
            let at = hours(Double(stageNumber))
            let step = try engine.decide(progress, by: threeApprovers[stageNumber - 1], .approve, justification: "ok", at: at).get()
            let decision = StageDecision(stage: stageNumber, approver: threeApprovers[stageNumber - 1], decision: .approve,
                                         justification: "ok", at: at)
            if stageNumber < stageCount {
                #expect(step.effects == [
                    .stageApproved(stage: stageNumber, decision: decision),
                    .stageStarted(stage: stageNumber + 1, approvers: primary(threeApprovers[stageNumber]),
                                  deadline: day(14, from: at), usedFallback: false, noApprover: false),
                ])
                #expect(step.progress.status == .pending(stage: stageNumber + 1))
                #expect(step.progress.stageStartedAt == at)
            } else {
                #expect(step.effects == [.approved(decision: decision)])
                #expect(step.progress.status == .approved)
            }
            progress = step.progress
        }
        #expect(progress.decisions.map(\.approver) == Array(threeApprovers.prefix(stageCount)))
    }

    @Test(arguments: 1...3)
    func aDenyAtAnyStageEndsTheRequest(deniedStage: Int) throws {
        let engine = engine(stage(.person(alex)), stage(.person(lynne)), stage(.person(diego)))
        var progress = engine.start(at: t0).progress
        for earlier in 1..<deniedStage {
            progress = try engine.decide(progress, by: threeApprovers[earlier - 1], .approve, justification: "",
                                         at: hours(Double(earlier))).get().progress
        }
        let at = hours(Double(deniedStage))
        let step = try engine.decide(progress, by: threeApprovers[deniedStage - 1], .deny, justification: "Not needed", at: at).get()
        let decision = StageDecision(stage: deniedStage, approver: threeApprovers[deniedStage - 1], decision: .deny,
                                     justification: "Not needed", at: at)
        #expect(step.effects == [.denied(decision: decision)])
        #expect(step.progress.status == .denied)
        #expect(step.progress.decisions.count == deniedStage)
        // Nothing is left for the sweep.
        #expect(engine.advance(step.progress, to: day(30)).effects.isEmpty)
        #expect(engine.nextCheck(of: step.progress) == nil)
    }

    @Test(arguments: 1...3)
    func anUndecidedStageExpiresAtItsOwnDeadline(expiringStage: Int) throws {
        let timeouts = [5, 10, 14]
        let engine = ApprovalEngine(stages: (0..<3).map { stage(.person(threeApprovers[$0]), timeout: timeouts[$0]) },
                                    requestor: internalRequestor, site: approvalSite(), calendar: paris)
        var progress = engine.start(at: t0).progress
        for earlier in 1..<expiringStage {
            progress = try engine.decide(progress, by: threeApprovers[earlier - 1], .approve, justification: "",
                                         at: day(earlier, from: progress.stageStartedAt)).get().progress
        }
        let deadline = day(timeouts[expiringStage - 1], from: progress.stageStartedAt)
        #expect(engine.timeline(of: progress)?.deadline == deadline)

        let justBefore = engine.advance(progress, to: deadline.addingTimeInterval(-1))
        #expect(justBefore.progress.status == .pending(stage: expiringStage))
        #expect(!justBefore.effects.contains { if case .expired = $0 { true } else { false } })

        let expired = engine.advance(justBefore.progress, to: deadline)
        #expect(expired.effects == [.expired(stage: expiringStage, notify: [threeApprovers[expiringStage - 1]])])
        #expect(expired.progress.status == .expired)
    }

    @Test func withoutStagesTheRequestIsApprovedAtOnce() {
        let step = engine().start(at: t0)
        #expect(step.progress.status == .approved)
        #expect(step.effects.isEmpty)
    }

    @Test func deadlinesCountTenantDaysAcrossDaylightSavingTime() {
        // Paris moves to summer time on 26 March 2028: fourteen days from 20 March 10:00 end at 10:00 summer time.
        let start = instant("2028-03-20T10:00:00+01:00")
        let step = engine(stage(.person(alex))).start(at: start)
        #expect(step.effects == [.stageStarted(stage: 1, approvers: primary(alex),
                                               deadline: instant("2028-04-03T10:00:00+02:00"),
                                               usedFallback: false, noApprover: false)])
    }

    // MARK: - Who approves

    struct Resolution: Sendable, CustomTestStringConvertible {
        var approver: Approver
        var requestor: ApprovalRequestor
        var expected: [String]
        var testDescription: String { "\(approver) for \(requestor.email)" }
    }

    @Test(arguments: [
        Resolution(approver: .person("Alex@CONTOSO.example"), requestor: internalRequestor, expected: [alex]),
        // Lee is in the group too, and never approves their own request.
        Resolution(approver: .group("approvers"), requestor: internalRequestor, expected: [alex, lynne]),
        Resolution(approver: .manager, requestor: internalRequestor, expected: [miriam]),
        Resolution(approver: .secondLevelManager, requestor: internalRequestor, expected: [diego]),
        Resolution(approver: .internalSponsors, requestor: partner, expected: [adele]),
        Resolution(approver: .externalSponsors, requestor: partner, expected: [joni]),
    ])
    func eachApproverKindResolvesFromTheSite(_ resolution: Resolution) {
        let step = engine(stage(resolution.approver, fallback: [.person(grady)]), requestor: resolution.requestor).start(at: t0)
        #expect(step.progress.approvers == resolution.expected.map { StageApprover(email: $0, role: .primary) })
        #expect(step.effects == [.stageStarted(stage: 1, approvers: step.progress.approvers, deadline: day(14),
                                               usedFallback: false, noApprover: false)])
    }

    @Test func emailsAreLowercasedAndListedOnceInOrder() {
        let step = engine(stage(.person("LYNNE@contoso.example"), .group("approvers"), .person(alex))).start(at: t0)
        #expect(step.progress.approvers == primary(lynne, alex))
    }

    struct Missing: Sendable, CustomTestStringConvertible {
        var approver: Approver
        var requestor: ApprovalRequestor
        var testDescription: String { "\(approver) for \(requestor.email)" }
    }

    @Test(arguments: [
        Missing(approver: .manager, requestor: managerless),
        // External requestors have no manager in our directory.
        Missing(approver: .manager, requestor: partner),
        Missing(approver: .internalSponsors, requestor: unsponsored),
        Missing(approver: .externalSponsors, requestor: unsponsored),
        // An organization the site no longer declares.
        Missing(approver: .internalSponsors,
                requestor: ApprovalRequestor(email: "kim@gone.example", isInternal: false, organizationID: "gone")),
    ])
    func theFallbackDecidesWhenNoPrimaryApproverIsFound(_ missing: Missing) {
        let step = engine(stage(missing.approver, fallback: [.person(grady)]), requestor: missing.requestor).start(at: t0)
        #expect(step.progress.approvers == fallback(grady))
        #expect(step.effects == [.stageStarted(stage: 1, approvers: fallback(grady), deadline: day(14),
                                               usedFallback: true, noApprover: false)])
    }

    @Test func theTenantAdminsDecideWhenNotEvenAFallbackIsFound() {
        let step = engine(stage(.manager, fallback: [.group("nobody")]), requestor: managerless).start(at: t0)
        #expect(step.effects == [.stageStarted(stage: 1, approvers: fallback(megan, nestor), deadline: day(14),
                                               usedFallback: true, noApprover: false)])
        // An admin asking is not among their own approvers.
        let megansOwn = engine(stage(.manager), requestor: ApprovalRequestor(email: megan, isInternal: true)).start(at: t0)
        #expect(megansOwn.progress.approvers == fallback(nestor))
    }

    @Test func withNobodyAtAllTheStageCanOnlyTimeOut() {
        let engine = engine(stage(.manager), requestor: managerless, site: approvalSite(admins: []))
        let started = engine.start(at: t0)
        #expect(started.effects == [.stageStarted(stage: 1, approvers: [], deadline: day(14), usedFallback: true,
                                                  noApprover: true)])
        // No one to remind.
        let reminded = engine.advance(started.progress, to: day(7))
        #expect(reminded.effects.isEmpty)
        #expect(reminded.progress.remindersSent == 1)
        #expect(engine.advance(reminded.progress, to: day(14)).effects == [.expired(stage: 1, notify: [])])
    }

    @Test func eachStageResolvesFromTheSiteAsItIsWhenTheStageStarts() throws {
        let stages = [stage(.person(alex)), stage(.manager)]
        let before = ApprovalEngine(stages: stages, requestor: internalRequestor, site: approvalSite(), calendar: paris)
        let progress = before.start(at: t0).progress
        // Lee changed teams while stage 1 waited.
        let after = ApprovalEngine(stages: stages, requestor: internalRequestor,
                                   site: approvalSite(leesManager: grady), calendar: paris)
        let step = try after.decide(progress, by: alex, .approve, justification: "", at: day(1)).get()
        #expect(step.progress.approvers == primary(grady))
    }

    // MARK: - Refused decisions

    @Test func theRequestorNeverDecidesTheirOwnRequest() {
        let engine = engine(stage(.group("approvers"), .person(lee)))
        let started = engine.start(at: t0)
        #expect(started.progress.approvers == primary(alex, lynne))
        // Even when listed (a stored progress from before the rule), the requestor is refused.
        var listed = started.progress
        listed.approvers.append(StageApprover(email: lee, role: .primary))
        let result = engine.decide(listed, by: "LEE@contoso.example", .approve, justification: "mine", at: hours(1))
        #expect(refusal(result) == .ownRequest)
        #expect(refusal(result)?.description == "You cannot approve or deny your own request.")
        #expect(!engine.canDecide(listed, email: lee))
    }

    @Test func someoneNotListedIsNotAnApprover() {
        let engine = engine(stage(.person(alex)))
        let progress = engine.start(at: t0).progress
        let result = engine.decide(progress, by: grady, .approve, justification: "", at: hours(1))
        #expect(refusal(result) == .notAnApprover(stage: 1))
        #expect(refusal(result)?.description == "You are not an approver of stage 1 of this request.")
        #expect(!engine.canDecide(progress, email: grady))
        #expect(engine.canDecide(progress, email: "ALEX@contoso.example"))
    }

    @Test func aCanceledRequestTakesNoDecision() throws {
        let engine = engine(stage(.group("approvers")))
        let started = engine.start(at: t0).progress
        let canceled = try #require(engine.cancel(started, at: hours(1)))
        #expect(canceled.effects == [.canceled(notify: [alex, lynne])])
        #expect(canceled.progress.status == .canceled)
        #expect(engine.cancel(canceled.progress, at: hours(2)) == nil)

        let result = engine.decide(canceled.progress, by: alex, .approve, justification: "", at: hours(2))
        #expect(refusal(result) == .notPending(.canceled))
        #expect(refusal(result)?.description == "This request was canceled; there is nothing left to decide.")
        #expect(!engine.canDecide(canceled.progress, email: alex))
    }

    @Test func anExpiredRequestTakesNoDecision() {
        let engine = engine(stage(.person(alex), timeout: 5))
        let expired = engine.advance(engine.start(at: t0).progress, to: day(5)).progress
        let result = engine.decide(expired, by: alex, .approve, justification: "", at: day(5))
        #expect(refusal(result) == .notPending(.expired))
        #expect(refusal(result)?.description == "This request expired: it was not decided in time. The requestor may ask again.")
    }

    @Test func theFirstDecisionOfAStageWins() throws {
        let engine = engine(stage(.group("approvers")))
        let first = try engine.decide(engine.start(at: t0).progress, by: alex, .approve, justification: "fine", at: hours(1)).get()
        let decision = StageDecision(stage: 1, approver: alex, decision: .approve, justification: "fine", at: hours(1))
        #expect(first.effects == [.decidedBySomeoneElse(stage: 1, notify: [lynne], decision: decision),
                                  .approved(decision: decision)])

        let late = engine.decide(first.progress, by: lynne, .deny, justification: "no", at: hours(2))
        #expect(refusal(late) == .alreadyDecided(decision))
        #expect(refusal(late)?.description == "Already approved by alex@contoso.example at 2028-03-01T09:00:00Z.")
        #expect(refusal(late)?.message(in: paris) == "Already approved by alex@contoso.example at 1 March 2028, 10:00.")
    }

    @Test func aDecisionOnAStageAlreadyPassedNamesItsDecider() throws {
        let engine = engine(stage(.group("approvers")), stage(.person(diego)))
        let denied = try engine.decide(engine.start(at: t0).progress, by: lynne, .deny, justification: "", at: hours(1)).get()
        #expect(refusal(engine.decide(denied.progress, by: alex, .approve, justification: "", at: hours(2)))?.description
            == "Already denied by lynne@contoso.example at 2028-03-01T09:00:00Z.")

        // Alex and Lynne both opened stage 1; Alex approved first and stage 2 began.
        let moved = try engine.decide(engine.start(at: t0).progress, by: alex, .approve, justification: "", at: hours(1)).get()
        let alexs = StageDecision(stage: 1, approver: alex, decision: .approve, justification: "", at: hours(1))
        #expect(refusal(engine.decide(moved.progress, by: lynne, .deny, justification: "", at: hours(2), seenStage: 1))
            == .alreadyDecided(alexs))
        // Without knowing what Lynne saw, she is simply not an approver of stage 2.
        #expect(refusal(engine.decide(moved.progress, by: lynne, .deny, justification: "", at: hours(2)))
            == .notAnApprover(stage: 2))
    }

    @Test func aStageCanRequireAJustification() throws {
        let engine = engine(stage(.person(alex), justification: true), stage(.person(lynne)))
        let progress = engine.start(at: t0).progress
        for blank in ["", "   ", " \n\t "] {
            let result = engine.decide(progress, by: alex, .approve, justification: blank, at: hours(1))
            #expect(refusal(result) == .justificationRequired(stage: 1))
        }
        #expect(refusal(engine.decide(progress, by: alex, .deny, justification: "", at: hours(1)))
            == .justificationRequired(stage: 1))
        #expect(refusal(engine.decide(progress, by: alex, .approve, justification: "", at: hours(1)))?.description
            == "Stage 1 requires a justification: say why you approve or deny.")

        let approved = try engine.decide(progress, by: alex, .approve, justification: "Audit season", at: hours(1)).get()
        #expect(approved.progress.decisions.last?.justification == "Audit season")
        // Stage 2 does not ask for one.
        let done = try engine.decide(approved.progress, by: lynne, .approve, justification: "", at: hours(2)).get()
        #expect(done.progress.status == .approved)
    }

    // MARK: - Escalation

    @Test func escalationForwardsExactlyAtItsInstant() {
        let engine = engine(stage(.person(alex), escalation: (days: 8, approvers: [.person(lynne)])))
        let progress = engine.start(at: t0).progress
        #expect(engine.timeline(of: progress)?.escalateAt == day(8))

        let justBefore = engine.advance(progress, to: day(8).addingTimeInterval(-1))
        #expect(!justBefore.progress.escalated)
        #expect(!justBefore.effects.contains { if case .escalated = $0 { true } else { false } })
        #expect(justBefore.progress.approvers == primary(alex))

        let atIt = engine.advance(justBefore.progress, to: day(8))
        #expect(atIt.effects == [.escalated(stage: 1, alternates: [lynne], deadline: day(14))])
        #expect(atIt.progress.escalated)
        #expect(atIt.progress.approvers == primary(alex) + [StageApprover(email: lynne, role: .alternate)])
        // Once only.
        #expect(engine.advance(atIt.progress, to: day(9)).effects.isEmpty)
    }

    @Test func theSecondLevelManagerIsReachedOnEscalation() {
        let engine = engine(stage(.manager, fallback: [.person(grady)],
                                  escalation: (days: 8, approvers: [.secondLevelManager])))
        let progress = engine.start(at: t0).progress
        #expect(progress.approvers == primary(miriam))
        let escalated = engine.advance(progress, to: day(8))
        #expect(escalated.effects.first == .escalated(stage: 1, alternates: [diego], deadline: day(14)))
        #expect(escalated.progress.approvers.map(\.email) == [miriam, diego])
    }

    @Test func escalationAddsNobodyTwiceAndStillHappensWhenItFindsNobody() {
        let dedupe = engine(stage(.person(alex), escalation: (days: 8, approvers: [.person(alex), .group("approvers")])))
        let forwarded = dedupe.advance(dedupe.start(at: t0).progress, to: day(8))
        #expect(forwarded.effects.first == .escalated(stage: 1, alternates: [lynne], deadline: day(14)))
        #expect(forwarded.progress.approvers.map(\.email) == [alex, lynne])

        let nobody = engine(stage(.person(alex), escalation: (days: 8, approvers: [.manager])), requestor: managerless)
        let empty = nobody.advance(nobody.start(at: t0).progress, to: day(8))
        #expect(empty.effects.first == .escalated(stage: 1, alternates: [], deadline: day(14)))
        #expect(empty.progress.escalated)
        #expect(nobody.advance(empty.progress, to: day(9)).effects.isEmpty)
    }

    @Test func primariesStillDecideAfterEscalationAndAlternatesOnlyAfterIt() throws {
        let engine = engine(stage(.person(alex), escalation: (days: 8, approvers: [.person(lynne)])))
        let progress = engine.start(at: t0).progress
        #expect(refusal(engine.decide(progress, by: lynne, .approve, justification: "", at: day(7)))
            == .notAnApprover(stage: 1))
        #expect(!engine.canDecide(progress, email: lynne))

        let escalated = engine.advance(progress, to: day(8)).progress
        #expect(engine.canDecide(escalated, email: lynne))
        #expect(engine.canDecide(escalated, email: alex))
        let byAlternate = try engine.decide(escalated, by: lynne, .approve, justification: "", at: day(9)).get()
        #expect(byAlternate.progress.status == .approved)
        #expect(byAlternate.effects.first == .decidedBySomeoneElse(
            stage: 1, notify: [alex],
            decision: StageDecision(stage: 1, approver: lynne, decision: .approve, justification: "", at: day(9))))
        let byPrimary = try engine.decide(escalated, by: alex, .deny, justification: "", at: day(9)).get()
        #expect(byPrimary.progress.status == .denied)
    }

    @Test func aNewStageStartsUnescalatedWithItsOwnClock() throws {
        let engine = engine(stage(.person(alex), escalation: (days: 8, approvers: [.person(grady)])),
                            stage(.person(lynne), timeout: 6))
        var progress = engine.advance(engine.start(at: t0).progress, to: day(8)).progress
        #expect(progress.escalated && progress.remindersSent == 1)
        progress = try engine.decide(progress, by: grady, .approve, justification: "", at: day(9)).get().progress
        #expect(progress.status == .pending(stage: 2))
        #expect(!progress.escalated && progress.remindersSent == 0)
        #expect(progress.approvers == primary(lynne))
        #expect(engine.timeline(of: progress) == StageTimeline(
            stage: 2, startedAt: day(9), escalateAt: nil, reminders: [day(12), day(14)], deadline: day(15)))
    }

    // MARK: - Reminders and the sweep

    @Test(arguments: [(1, [Int]()), (2, [1]), (3, [1, 2]), (4, [2, 3]), (14, [7, 13])])
    func remindersFallAtTheMidpointAndOnTheLastDay(timeout: Int, reminderDays: [Int]) {
        let engine = engine(stage(.person(alex), timeout: timeout))
        let timeline = engine.timeline(of: engine.start(at: t0).progress)
        #expect(timeline?.reminders == reminderDays.map { day($0) })
        #expect(timeline?.deadline == day(timeout))
    }

    @Test func remindersAreSentWhenDueAndOnlyOnce() {
        let engine = engine(stage(.group("approvers")))
        var progress = engine.start(at: t0).progress
        let reminder = ApprovalEffect.reminded(stage: 1, approvers: [alex, lynne], deadline: day(14))

        var step = engine.advance(progress, to: day(7).addingTimeInterval(-1))
        #expect(step.effects.isEmpty)
        step = engine.advance(step.progress, to: day(7))
        #expect(step.effects == [reminder])
        #expect(step.progress.remindersSent == 1)
        step = engine.advance(step.progress, to: day(13).addingTimeInterval(-1))
        #expect(step.effects.isEmpty)
        step = engine.advance(step.progress, to: day(13))
        #expect(step.effects == [reminder])
        #expect(step.progress.remindersSent == 2)
        progress = step.progress
        #expect(engine.advance(progress, to: day(14).addingTimeInterval(-1)).effects.isEmpty)
    }

    @Test func aSweepBackAfterALongGapSendsOneReminderNotABurst() {
        let engine = engine(stage(.person(alex), escalation: (days: 8, approvers: [.person(lynne)])))
        let late = engine.advance(engine.start(at: t0).progress, to: hours(6, from: day(13)))
        #expect(late.effects == [
            .escalated(stage: 1, alternates: [lynne], deadline: day(14)),
            .reminded(stage: 1, approvers: [alex, lynne], deadline: day(14)),
        ])
        #expect(late.progress.remindersSent == 2)
        #expect(engine.advance(late.progress, to: hours(7, from: day(13))).effects.isEmpty)
    }

    @Test func advanceIsIdempotent() throws {
        let engine = engine(stage(.person(alex), escalation: (days: 8, approvers: [.person(lynne)])))
        let first = engine.advance(engine.start(at: t0).progress, to: day(8))
        #expect(!first.effects.isEmpty)
        let again = engine.advance(first.progress, to: day(8))
        #expect(again.effects.isEmpty)
        #expect(again.progress == first.progress)

        let approved = try engine.decide(first.progress, by: alex, .approve, justification: "", at: day(9)).get().progress
        let ended = engine.advance(approved, to: day(20))
        #expect(ended.effects.isEmpty)
        #expect(ended.progress == approved)
    }

    @Test func theNextCheckIsTheEarliestThingStillToDo() {
        let engine = engine(stage(.person(alex), escalation: (days: 8, approvers: [.person(lynne)])))
        var progress = engine.start(at: t0).progress
        #expect(engine.nextCheck(of: progress) == day(7))
        progress = engine.advance(progress, to: day(7)).progress
        #expect(engine.nextCheck(of: progress) == day(8))
        progress = engine.advance(progress, to: day(8)).progress
        #expect(engine.nextCheck(of: progress) == day(13))
        progress = engine.advance(progress, to: day(13)).progress
        #expect(engine.nextCheck(of: progress) == day(14))
        progress = engine.advance(progress, to: day(14)).progress
        #expect(engine.nextCheck(of: progress) == nil)
    }

    @Test func progressSurvivesAJSONRoundTrip() throws {
        let engine = engine(stage(.person(alex)), stage(.group("approvers"), escalation: (days: 8, approvers: [.person(grady)])))
        var progress = try engine.decide(engine.start(at: t0).progress, by: alex, .approve, justification: "ok", at: hours(1))
            .get().progress
        progress = engine.advance(progress, to: day(8, from: hours(1))).progress
        let data = try JSONEncoder().encode(progress)
        #expect(try JSONDecoder().decode(ApprovalProgress.self, from: data) == progress)
    }
}
