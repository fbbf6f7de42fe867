import GatehouseModel
import GatehouseSite
import Testing

/// Who may request: a policy serves internal or external users, never both.
@Suite struct ScopeTests {
    @Test func specificPeopleCannotListAnExternalUser() {
        #expect(problems(policy: """
            id: p
            name: P
            requestors: {scope: specificPeople, people: [adele@contoso.example, alex@azureblog.example]}
            approval: none
            """) == [
            "packages/p.md:8:73: error: 'alex@azureblog.example' is an external user, but scope specificPeople serves internal users; a policy serves internal or external users, never both — let external users request through another policy with scope specificOrganizations or anyone",
        ])
    }

    @Test func organizationsWithAnInternalScope() {
        #expect(problems(policy: """
            id: p
            name: P
            requestors: {scope: allMembers, organizations: [azureblog]}
            approval: none
            """) == [
            "packages/p.md:8:37: error: 'organizations' lists connected organizations (external users), but scope 'allMembers' serves internal users; a policy serves internal or external users, never both — put them in another policy with scope specificOrganizations",
        ])
    }

    @Test func groupsWithAnExternalScope() {
        #expect(problems(policy: """
            id: p
            name: P
            requestors: {scope: anyone, groups: [admins]}
            approval: none
            """, catalog: "external") == [
            "packages/p.md:8:33: error: 'groups' lists internal users, but scope 'anyone' serves external users; a policy serves internal or external users, never both — put them in another policy with scope specificPeople",
        ])
    }

    @Test func anUnknownScope() {
        #expect(problems(policy: "id: p\nname: P\nrequestors: {scope: anyon}\napproval: none") == [
            "packages/p.md:8:25: error: unknown scope 'anyon' (did you mean 'anyone'?)",
        ])
    }

    @Test func specificPeopleMustNameSomeone() {
        #expect(problems(policy: "id: p\nname: P\nrequestors: {scope: specificPeople}\napproval: none") == [
            "packages/p.md:8:25: error: scope specificPeople lists nobody; add people: [emails] or groups: [ids]",
        ])
        #expect(problems(policy: "id: p\nname: P\nrequestors: {scope: specificPeople, people: [], groups: []}\napproval: none") == [
            "packages/p.md:8:25: error: scope specificPeople lists nobody; add people: [emails] or groups: [ids]",
        ])
    }

    @Test func requestorsMustBeKnown() {
        #expect(problems(policy: """
            id: p
            name: P
            requestors: {scope: specificPeople, people: [adele@contoso.exmple], groups: [admin]}
            approval: none
            """) == [
            "packages/p.md:8:50: error: requestor 'adele@contoso.exmple' is not in people.yaml (did you mean 'adele@contoso.example'?)",
            "packages/p.md:8:82: error: group 'admin' is not declared under groups in people.yaml (did you mean 'admins'?)",
        ])
    }

    @Test func organizationsMustExist() {
        #expect(problems(policy: """
            id: p
            name: P
            requestors: {scope: specificOrganizations, organizations: [azurblog]}
            approval: none
            """, catalog: "external") == [
            "packages/p.md:8:64: error: organization 'azurblog' does not exist: there is no organizations/azurblog.yaml (did you mean 'azureblog'?)",
        ])
    }

    @Test func externalUsersNeedACatalogThatAllowsThem() {
        #expect(problems(policy: "id: p\nname: P\nrequestors: {scope: anyone}\napproval: none") == [
            "packages/p.md:8:25: error: scope 'anyone' serves external users, but catalog 'general' does not allow them (externalUsers: false in catalogs/general.yaml)",
        ])
    }
}

/// Approval stages, approvers, fallback and escalation.
@Suite struct ApprovalTests {
    @Test func approversMustBePeopleOfTheDirectory() {
        #expect(problems(policy: """
            id: p
            name: P
            requestors: {scope: allMembers}
            approval:
              stages:
                - approvers: [{person: adel@contoso.example}]
            """) == [
            "packages/p.md:11:32: error: approver 'adel@contoso.example' is not in people.yaml (did you mean 'adele@contoso.example'?)",
        ])
        #expect(problems(policy: """
            id: p
            name: P
            requestors: {scope: allMembers}
            approval:
              stages:
                - approvers: [{group: aprovers}]
            """) == [
            "packages/p.md:11:31: error: group 'aprovers' is not declared under groups in people.yaml (did you mean 'approvers'?)",
        ])
    }

    @Test func approvalIsNoneOrStages() {
        #expect(problems(policy: "id: p\nname: P\nrequestors: {scope: allMembers}\napproval: nope") == [
            "packages/p.md:9:15: error: expected `none` or a mapping with 'stages' for 'approval', found 'nope'",
        ])
        #expect(problems(policy: "id: p\nname: P\nrequestors: {scope: allMembers}") == [
            "packages/p.md:6:5: error: missing key 'approval' in policy; write `approval: none` to approve requests at once",
        ])
    }

    @Test func zeroStages() {
        #expect(problems(policy: "id: p\nname: P\nrequestors: {scope: allMembers}\napproval: {stages: []}") == [
            "packages/p.md:9:24: error: approval has no stages; write `approval: none` to approve requests at once, or add 1 to 3 stages",
        ])
    }

    @Test func moreThanThreeStages() {
        #expect(problems(policy: """
            id: p
            name: P
            requestors: {scope: allMembers}
            approval:
              stages:
                - approvers: [{person: adele@contoso.example}]
                - approvers: [{person: adele@contoso.example}]
                - approvers: [{person: adele@contoso.example}]
                - approvers: [{person: megan@contoso.example}]
            """) == [
            "packages/p.md:14:11: error: approval has 4 stages; at most 3 are allowed",
        ])
    }

    @Test func managerNeedsFallbackApprovers() {
        #expect(problems(policy: """
            id: p
            name: P
            requestors: {scope: allMembers}
            approval:
              stages:
                - approvers: [{manager: true}]
            """) == [
            "packages/p.md:11:23: error: manager approval needs fallback approvers for requestors without a manager; add `fallback: [{person: …}]` to this stage",
        ])
    }

    @Test func sponsorsNeedFallbackApprovers() {
        #expect(problems(policy: """
            id: p
            name: P
            requestors: {scope: specificOrganizations, organizations: [azureblog]}
            approval:
              stages:
                - approvers: [{internalSponsors: true}]
            """, catalog: "external") == [
            "packages/p.md:11:23: error: internalSponsors approval needs fallback approvers for requestors whose organization has no sponsors; add `fallback: [{person: …}]` to this stage",
        ])
    }

    @Test func fallbackApproversWithoutManagerOrSponsors() {
        #expect(problems(policy: """
            id: p
            name: P
            requestors: {scope: allMembers}
            approval:
              stages:
                - approvers: [{person: adele@contoso.example}]
                  fallback: [{person: megan@contoso.example}]
            """) == [
            "packages/p.md:12:21: error: fallback approvers are only used with manager or sponsor approvers; remove 'fallback'",
        ])
    }

    @Test func sponsorsInAnInternalPolicy() {
        #expect(problems(policy: """
            id: p
            name: P
            requestors: {scope: allMembers}
            approval:
              stages:
                - approvers: [{externalSponsors: true}]
                  fallback: [{person: adele@contoso.example}]
            """) == [
            "packages/p.md:11:23: error: externalSponsors approval is for external requestors (sponsors belong to connected organizations), but scope 'allMembers' serves internal users; use the manager, people or a group",
        ])
    }

    @Test func managerInAnExternalPolicy() {
        #expect(problems(policy: """
            id: p
            name: P
            requestors: {scope: anyone}
            approval:
              stages:
                - approvers: [{manager: true}]
                  fallback: [{person: adele@contoso.example}]
            """, catalog: "external") == [
            "packages/p.md:11:23: error: manager approval needs the requestor's manager, but scope 'anyone' serves external users, who have none here; use people, a group or sponsors",
        ])
    }

    @Test func managerInTwoStages() {
        #expect(problems(policy: """
            id: p
            name: P
            requestors: {scope: allMembers}
            approval:
              stages:
                - approvers: [{manager: true}]
                  fallback: [{person: adele@contoso.example}]
                - approvers: [{manager: true}]
                  fallback: [{person: adele@contoso.example}]
            """) == [
            "packages/p.md:13:23: error: manager approval is already used in stage 1; manager, internalSponsors and externalSponsors may each approve in one stage only",
        ])
    }

    @Test func secondLevelManagerOnlyEscalatesTheManager() {
        #expect(problems(policy: """
            id: p
            name: P
            requestors: {scope: allMembers}
            approval:
              stages:
                - approvers: [{secondLevelManager: true}]
                  fallback: [{person: adele@contoso.example}]
            """) == [
            "packages/p.md:11:23: error: secondLevelManager can only be an escalation approver, in a stage whose approvers include {manager: true}",
        ])
        #expect(problems(policy: """
            id: p
            name: P
            requestors: {scope: allMembers}
            approval:
              stages:
                - approvers: [{person: adele@contoso.example}]
                  escalation: {afterDays: 8, approvers: [{secondLevelManager: true}]}
            """) == [
            "packages/p.md:12:50: error: secondLevelManager can only escalate a stage whose approvers include {manager: true}",
        ])
    }

    /// A stage with `timeoutDays` and `escalation: {afterDays: …}`, as the diagnostics of the site.
    static func escalation(timeout: Int, after: Int) -> [String] {
        problems(policy: """
            id: p
            name: P
            requestors: {scope: allMembers}
            approval:
              stages:
                - approvers: [{person: adele@contoso.example}]
                  timeoutDays: \(timeout)
                  escalation: {afterDays: \(after), approvers: [{person: megan@contoso.example}]}
            """)
    }

    @Test func escalationNeedsATimeoutOfFourDays() {
        #expect(Self.escalation(timeout: 3, after: 2) == [
            "packages/p.md:12:24: error: escalation needs a decision timeout of at least 4 days, but timeoutDays is 3",
        ])
    }

    @Test func escalationTooEarly() {
        #expect(Self.escalation(timeout: 10, after: 5) == [
            "packages/p.md:13:35: error: escalation after 5 days is too early for a 10-day timeout: forward no earlier than day 6, one day after half the timeout",
        ])
        #expect(Self.escalation(timeout: 7, after: 4) == [
            "packages/p.md:13:35: error: escalation after 4 days is too early for a 7-day timeout: forward no earlier than day 5, one day after half the timeout",
        ])
    }

    @Test func escalationOnTheLastDay() {
        #expect(Self.escalation(timeout: 10, after: 10) == [
            "packages/p.md:13:35: error: escalation after 10 days is on or after the last day of the 10-day timeout; forward by day 9 at the latest",
        ])
    }

    @Test(arguments: [(10, 6), (10, 9), (7, 5), (4, 3), (14, 8)])
    func escalationInsideTheWindow(timeout: Int, after: Int) {
        #expect(Self.escalation(timeout: timeout, after: after) == [])
    }

    @Test func approverEntriesNameOneApprover() {
        #expect(problems(policy: """
            id: p
            name: P
            requestors: {scope: allMembers}
            approval:
              stages:
                - approvers: [{person: adele@contoso.example, group: approvers}, {manager: false}]
            """) == [
            "packages/p.md:11:55: error: each approver has exactly one of person, group, manager, secondLevelManager, internalSponsors and externalSponsors; split 'person' and 'group' into two entries",
            "packages/p.md:11:84: error: write {manager: true}, or remove this approver",
        ])
    }
}

/// Requestor questions and their texts.
@Suite struct QuestionTests {
    @Test func questionRules() {
        #expect(problems(policy: """
            id: p
            name: P
            requestors: {scope: allMembers}
            approval: none
            questions:
              - id: team
                type: multipleChoice
                text: Which team?
              - id: code
                type: shortText
                text: {default: Code, de: Kode}
                regex: "[0-9"
                choices: [{value: a, text: A}]
            """) == [
            "packages/p.md:11:9: error: multipleChoice question 'team' has no choices; add choices: [{value: …, text: …}]",
            "packages/p.md:16:31: error: language 'de' is not declared in tenant.yaml languages (en, fr); add it there or remove this translation",
            "packages/p.md:17:16: error: regex '[0-9' does not compile: expected ']'",
            "packages/p.md:18:9: error: 'choices' only applies to multipleChoice questions; set type: multipleChoice or remove 'choices'",
        ])
    }

    @Test func aTranslationWithoutDefaultText() {
        #expect(problems(policy: """
            id: p
            name: P
            requestors: {scope: allMembers}
            approval: none
            questions:
              - id: team
                type: shortText
                text: {fr: Équipe}
            """) == [
            "packages/p.md:13:15: error: translations without a default text; add `default: …`, the text shown when no translation fits",
        ])
    }

    @Test func questionIdsAndChoiceValuesAreUnique() {
        #expect(problems(policy: """
            id: p
            name: P
            requestors: {scope: allMembers}
            approval: none
            questions:
              - id: team
                type: multipleChoice
                text: Team?
                choices:
                  - {value: a, text: A}
                  - {value: a, text: {default: B, fr: B}}
              - id: team
                type: longText
                text: Again?
            """) == [
            "packages/p.md:16:21: error: choice value 'a' is already used in this question (line 15)",
            "packages/p.md:17:13: error: question 'team' is already declared in this policy (line 11); question ids must be unique",
        ])
    }

    @Test func textOnlySettingsOnAChoiceQuestion() {
        #expect(problems(policy: """
            id: p
            name: P
            requestors: {scope: allMembers}
            approval: none
            questions:
              - id: team
                type: multipleChoice
                text: Team?
                maxLength: 10
                choices: [{value: a, text: A}]
              - {id: why, type: longText, text: Why?, multipleSelection: true, maxLength: 0}
            """) == [
            "packages/p.md:14:9: error: 'maxLength' only applies to shortText and longText questions; remove it",
            "packages/p.md:16:47: error: 'multipleSelection' only applies to multipleChoice questions; set type: multipleChoice or remove 'multipleSelection'",
            "packages/p.md:16:83: error: maxLength must be at least 1 character",
        ])
    }
}

/// Expiration, extension and access reviews.
@Suite struct LifecycleTests {
    static func lifecycle(_ lines: String) -> [String] {
        problems(policy: "id: p\nname: P\nrequestors: {scope: allMembers}\napproval: none\nlifecycle:\n" + lines)
    }

    @Test func expirationDaysInRange() {
        #expect(Self.lifecycle("  expiration: {afterDays: 3661}") == [
            "packages/p.md:11:31: error: expiration after 3661 days is out of range: use 0 to 3660 days, or `expiration: never`",
        ])
        #expect(Self.lifecycle("  expiration: {afterDays: -1}") == [
            "packages/p.md:11:31: error: expiration after -1 days is out of range: use 0 to 3660 days, or `expiration: never`",
        ])
        #expect(Self.lifecycle("  expiration: {afterDays: 0}") == [])
        #expect(Self.lifecycle("  expiration: {afterDays: 3660}") == [])
    }

    @Test func expirationHoursArePositive() {
        #expect(Self.lifecycle("  expiration: {afterHours: 0}") == [
            "packages/p.md:11:32: error: expiration after 0 hours must be at least 1 hour",
        ])
    }

    @Test func expirationDateMustBeAfterToday() {
        #expect(Self.lifecycle("  expiration: {onDate: 2026-11-22}") == [
            "packages/p.md:11:28: error: expiration date 2026-11-22 is already past (today is 2026-11-23); choose a later date",
        ])
        #expect(Self.lifecycle("  expiration: {onDate: 2026-11-23}") == [
            "packages/p.md:11:28: error: expiration date 2026-11-23 is today; choose a later date",
        ])
        #expect(Self.lifecycle("  expiration: {onDate: 2026-11-24}") == [])
        #expect(Self.lifecycle("  expiration: {onDate: 2026-02-30}") == [
            "packages/p.md:11:28: error: expected a date like 2027-09-17 for 'onDate', found '2026-02-30'",
        ])
    }

    @Test func expirationIsOneThing() {
        #expect(Self.lifecycle("  expiration: {afterDays: 3, afterHours: 4}") == [
            "packages/p.md:11:34: error: expiration takes one of afterDays, afterHours or onDate, not both 'afterDays' and 'afterHours'",
        ])
        #expect(Self.lifecycle("  expiration: forever") == [
            "packages/p.md:11:19: error: expected `never`, or one of {afterDays: N}, {afterHours: N}, {onDate: YYYY-MM-DD} for 'expiration', found 'forever'",
        ])
    }

    @Test func extensionSettingsThatCannotWork() {
        #expect(Self.lifecycle("  expiration: {afterDays: 30}\n  extension: {allowed: true, requiresApproval: true}") == [
            "packages/p.md:12:52: error: extensions would need approval, but the policy has `approval: none`; add approval stages or set requiresApproval: false",
        ])
        #expect(Self.lifecycle("  extension: {allowed: true}") == [
            "packages/p.md:11:28: error: extension is allowed but access never expires; set an expiration or remove 'extension'",
        ])
    }

    @Test func customScheduleNeedsDays() {
        #expect(Self.lifecycle("  expiration: {afterHours: 8}\n  customSchedule: true") == [
            "packages/p.md:12:23: error: a custom schedule takes start and end dates, which access lasting hours cannot use; "
                + "expire after days or on a date, or set customSchedule: false",
        ])
        #expect(Self.lifecycle("  expiration: {afterDays: 8}\n  customSchedule: true").isEmpty)
    }

    @Test func reviewRules() {
        #expect(Self.lifecycle("""
              review:
                startsOn: 2027-01-01
                frequency: monthy
                durationDays: 0
                reviewers: []
            """) == [
            "packages/p.md:13:20: error: unknown review frequency 'monthy' (did you mean 'monthly'?)",
            "packages/p.md:14:23: error: durationDays must be at least 1 day",
            "packages/p.md:15:20: error: review has no reviewers; add reviewers: [{self: true}], [{manager: true}] with fallback, or people and groups",
        ])
    }

    @Test func aReviewWithoutReviewers() {
        #expect(Self.lifecycle("  review: {startsOn: 2027-01-01, frequency: weekly, durationDays: 8}") == [
            "packages/p.md:11:15: error: missing key 'reviewers' in review; add reviewers: [{self: true}], [{manager: true}] with fallback, or people and groups",
            "packages/p.md:11:71: error: a weekly review cannot last longer than 7 days",
        ])
    }

    @Test func reviewers() {
        #expect(Self.lifecycle("""
              review:
                startsOn: 2027-01-01
                frequency: quarterly
                durationDays: 14
                reviewers: [{manager: true}]
            """) == [
            "packages/p.md:15:21: error: manager review needs fallback reviewers for holders without a manager; add `fallback: [{person: …}]` to the review",
        ])
        #expect(Self.lifecycle("""
              review:
                startsOn: 2027-01-01
                frequency: quarterly
                durationDays: 14
                reviewers: [{self: true}, {person: adele@contoso.example}]
                fallback: [{person: megan@contoso.example}]
            """) == [
            "packages/p.md:15:21: error: self-review cannot be combined with other reviewers",
            "packages/p.md:16:19: error: fallback reviewers are only used with {manager: true}; remove 'fallback'",
        ])
    }

    @Test func reviewersMustBePeopleOfTheDirectory() {
        #expect(Self.lifecycle("""
              review:
                startsOn: 2027-01-01
                frequency: annually
                durationDays: 30
                reviewers: [{person: adele@contoso.example}, {person: nestor@contoso.example}, {group: admin}]
            """) == [
            "packages/p.md:15:63: error: reviewer 'nestor@contoso.example' is not in people.yaml",
            "packages/p.md:15:96: error: group 'admin' is not declared under groups in people.yaml (did you mean 'admins'?)",
        ])
    }

    @Test func reviewsAreRead() throws {
        let files = Fixture.site(["packages/p.md": """
            ---
            name: P
            catalog: general
            policies:
              - id: p
                name: P
                requestors: {scope: allMembers}
                approval: none
                lifecycle:
                  expiration: {afterHours: 8}
                  review:
                    startsOn: 2027-01-01
                    frequency: semiAnnually
                    durationDays: 30
                    reviewers: [{manager: true}]
                    fallback: [{group: admins}]
            ---

            """])
        let result = load(files)
        #expect(result.diagnostics == [])
        let lifecycle = try #require(result.site?.package("p")?.policies.first?.lifecycle)
        #expect(lifecycle.expiration == .afterHours(8))
        let review = try #require(lifecycle.review)
        #expect(review.startsOn == CalendarDay(year: 2027, month: 1, day: 1))
        #expect(review.frequency == .semiAnnually)
        #expect(review.whenNoResponse == .keepAccess)
        guard case .manager(let fallback) = review.reviewers else {
            Issue.record("expected manager reviewers, got \(review.reviewers)")
            return
        }
        #expect(fallback.map(\.kind) == [.group("admins")])
    }
}
