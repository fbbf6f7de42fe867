import GatehouseModel
import Governance
import Testing

/// A policy with one question of each kind and a 30-day custom schedule.
private func formPolicy(
    justification: JustificationRule = .required, expiration: Expiration = .afterDays(30), customSchedule: Bool = true
) -> Policy {
    Policy(
        id: "staff", name: "Staff", requestors: .allMembers, justification: justification,
        questions: [
            Question(id: "team", kind: .multipleChoice, required: true,
                     text: LocalizedText("Which team won the 2022 final?", translations: ["fr": "Quelle équipe a gagné la finale 2022 ?"]),
                     choices: [
                        Choice(value: "arg", text: LocalizedText("Argentina", translations: ["fr": "Argentine"])),
                        Choice(value: "fra", text: LocalizedText("France")),
                     ]),
            Question(id: "costCenter", kind: .shortText, required: true, text: LocalizedText("Cost center (four digits)"),
                     pattern: "[0-9]{4}"),
            Question(id: "notes", kind: .longText, text: LocalizedText("Anything else?"), maxLength: 100),
            Question(id: "tools", kind: .multipleChoice, required: true, text: LocalizedText("Which tools?"),
                     choices: [
                        Choice(value: "git", text: LocalizedText("Git", translations: ["fr": "Git (dépôts)"])),
                        Choice(value: "jira", text: LocalizedText("Jira")),
                        Choice(value: "wiki", text: LocalizedText("Wiki", translations: ["fr": "Wiki interne"])),
                     ], allowsMultiple: true),
            Question(id: "code", kind: .shortText, text: LocalizedText("Code"), pattern: "ab|cd"),
        ],
        lifecycle: Lifecycle(expiration: expiration, customSchedule: customSchedule))
}

private let formToday = CalendarDay("2028-03-01")!

/// A complete, valid post as the form page sends it (including fields the validator ignores).
private let validFields: [String: [String]] = [
    "package": ["internal"], "policy": ["staff"], "language": ["en"],
    "justification": ["  Quarter close  "],
    "answer.team": ["arg"],
    "answer.costCenter": [" 1234 "],
    "answer.notes": [""],
    "answer.tools": ["wiki", "git"],
    "answer.code": [""],
    "start": [""], "end": [""],
]

private func fields(_ changes: [String: [String]?]) -> [String: [String]] {
    var result = validFields
    for (key, value) in changes { result[key] = value }
    return result
}

private func errors(of result: Result<RequestSubmission, RejectedForm>) -> [FieldError] {
    if case .failure(let rejected) = result { return rejected.errors }
    return []
}

struct FormCase: Sendable, CustomTestStringConvertible {
    var name: String
    var changes: [String: [String]?]
    var expected: [FieldError]
    var testDescription: String { name }

    init(_ name: String, _ changes: [String: [String]?], _ expected: [FieldError]) {
        self.name = name
        self.changes = changes
        self.expected = expected
    }

    init(_ name: String, _ changes: [String: [String]?], _ field: String, _ message: String) {
        self.init(name, changes, [FieldError(field: field, message: message)])
    }
}

private let team = "Answer “Which team won the 2022 final?”"
private let costCenter = "Answer “Cost center (four digits)”"
private let formatAdvice = "must match the expected format: check what the question asks for and correct your answer."

private let formCases: [FormCase] = [
    FormCase("valid as posted", [:], []),
    FormCase("justification missing", ["justification": nil],
             "justification", "Business justification is required: say why you need this access."),
    FormCase("justification blank", ["justification": [" \n\t "]],
             "justification", "Business justification is required: say why you need this access."),
    FormCase("justification too long", ["justification": [String(repeating: "x", count: 4001)]],
             "justification", "Business justification: at most 4000 characters (you wrote 4001)."),
    FormCase("justification sent twice", ["justification": ["a", "b"]],
             "justification", "Business justification: the form sent 2 values where one is expected; reload the form and submit it again."),
    FormCase("single choice missing", ["answer.team": nil],
             "answer.team", "\(team): choose one of the options."),
    FormCase("single choice empty value", ["answer.team": [""]],
             "answer.team", "\(team): choose one of the options."),
    FormCase("single choice with two values", ["answer.team": ["arg", "fra"]],
             "answer.team", "\(team): choose only one of the options."),
    FormCase("choice not among the options", ["answer.team": ["bra"]],
             "answer.team", "\(team): “bra” is not one of the options; choose from the list shown."),
    FormCase("multiple choice required", ["answer.tools": nil],
             "answer.tools", "Answer “Which tools?”: choose at least one of the options."),
    FormCase("multiple choice duplicate", ["answer.tools": ["git", "wiki", "git"]],
             "answer.tools", "Answer “Which tools?”: “git” was chosen more than once; choose each option once."),
    FormCase("multiple choice unknown value", ["answer.tools": ["git", "svn"]],
             "answer.tools", "Answer “Which tools?”: “svn” is not one of the options; choose from the list shown."),
    FormCase("required text missing", ["answer.costCenter": nil],
             "answer.costCenter", "\(costCenter): this question is required; write an answer."),
    FormCase("required text blank", ["answer.costCenter": ["   "]],
             "answer.costCenter", "\(costCenter): this question is required; write an answer."),
    FormCase("pattern not matched", ["answer.costCenter": ["12a4"]], "answer.costCenter", "\(costCenter) \(formatAdvice)"),
    FormCase("pattern matches only a part", ["answer.costCenter": ["12345"]], "answer.costCenter", "\(costCenter) \(formatAdvice)"),
    FormCase("alternation anchored as a whole", ["answer.code": ["abcd"]], "answer.code", "Answer “Code” \(formatAdvice)"),
    FormCase("alternation second branch", ["answer.code": ["cd"]], []),
    FormCase("text sent twice", ["answer.costCenter": ["1234", "5678"]],
             "answer.costCenter", "\(costCenter): the form sent 2 values where one is expected; reload the form and submit it again."),
    FormCase("text too long", ["answer.notes": [String(repeating: "n", count: 140)]],
             "answer.notes", "Answer “Anything else?”: at most 100 characters (you wrote 140)."),
    FormCase("length counts characters, not bytes", ["answer.notes": [String(repeating: "👍🏽", count: 100)]], []),
    FormCase("length counts after trimming", ["answer.notes": ["  " + String(repeating: "n", count: 100) + "\n"]], []),
    FormCase("unknown question", ["answer.bogus": ["x"]],
             "answer.bogus", "Unknown question “bogus”: this request option has no such question (it may have changed); reload the form and submit it again."),
    FormCase("start not a date", ["start": ["05/03/2028"]],
             "start", "Start date: write the date as YYYY-MM-DD, for example 2028-03-01 (you wrote “05/03/2028”)."),
    FormCase("start on a day that does not exist", ["start": ["2028-02-30"]],
             "start", "Start date: write the date as YYYY-MM-DD, for example 2028-03-01 (you wrote “2028-02-30”)."),
    FormCase("start in the past (leap day)", ["start": ["2028-02-29"]],
             "start", "Start date: 29 February 2028 has passed; choose today (1 March 2028) or a later day."),
    FormCase("start today", ["start": ["2028-03-01"]], []),
    FormCase("end equal to start", ["start": ["2028-03-05"], "end": ["2028-03-05"]],
             "end", "End date: choose a day after the start date (5 March 2028)."),
    FormCase("end alone, today", ["end": ["2028-03-01"]],
             "end", "End date: choose a day after today (1 March 2028)."),
    FormCase("end beyond afterDays from the start", ["start": ["2028-03-05"], "end": ["2028-04-05"]],
             "end", "End date: access through this request option lasts at most 30 days, so it ends on 4 April 2028 at the latest; choose that day or an earlier one."),
    FormCase("end on the last permitted day", ["start": ["2028-03-05"], "end": ["2028-04-04"]], []),
    FormCase("end alone counts from today", ["end": ["2028-04-01"]],
             "end", "End date: access through this request option lasts at most 30 days, so it ends on 31 March 2028 at the latest; choose that day or an earlier one."),
    FormCase("every problem at once, in form order",
             ["justification": nil, "answer.team": nil, "answer.notes": [String(repeating: "n", count: 101)],
              "answer.zz": ["1"], "answer.aa": ["2"], "start": ["2028-02-01"], "end": ["tomorrow"]],
             [
                FieldError(field: "justification", message: "Business justification is required: say why you need this access."),
                FieldError(field: "answer.team", message: "\(team): choose one of the options."),
                FieldError(field: "answer.notes", message: "Answer “Anything else?”: at most 100 characters (you wrote 101)."),
                FieldError(field: "answer.aa", message: "Unknown question “aa”: this request option has no such question (it may have changed); reload the form and submit it again."),
                FieldError(field: "answer.zz", message: "Unknown question “zz”: this request option has no such question (it may have changed); reload the form and submit it again."),
                FieldError(field: "start", message: "Start date: 1 February 2028 has passed; choose today (1 March 2028) or a later day."),
                FieldError(field: "end", message: "End date: write the date as YYYY-MM-DD, for example 2028-03-01 (you wrote “tomorrow”)."),
             ]),
    FormCase("an end is not judged against an unreadable start", ["start": ["soon"], "end": ["2028-03-02"]],
             "start", "Start date: write the date as YYYY-MM-DD, for example 2028-03-01 (you wrote “soon”)."),
]

@Suite struct RequestFormTests {
    @Test(arguments: formCases)
    func validation(_ formCase: FormCase) {
        let result = RequestSubmission.validate(fields(formCase.changes), policy: formPolicy(), language: "en", today: formToday)
        #expect(errors(of: result) == formCase.expected)
    }

    @Test func aValidFormKeepsAnswersAsThePersonSawThem() throws {
        let result = RequestSubmission.validate(
            fields(["language": ["fr"], "start": ["2028-03-10"], "end": [" 2028-03-20 "]]),
            policy: formPolicy(), language: "fr", today: formToday)
        let submission = try result.get()
        #expect(submission == RequestSubmission(
            language: "fr", justification: "Quarter close",
            answers: [
                GivenAnswer(questionID: "team", question: "Quelle équipe a gagné la finale 2022 ?", values: ["arg"], shown: ["Argentine"]),
                GivenAnswer(questionID: "costCenter", question: "Cost center (four digits)", values: ["1234"], shown: ["1234"]),
                // Policy order, whatever order the browser sent; untranslated texts fall back to the default.
                GivenAnswer(questionID: "tools", question: "Which tools?", values: ["git", "wiki"], shown: ["Git (dépôts)", "Wiki interne"]),
            ],
            schedule: RequestedSchedule(start: CalendarDay("2028-03-10"), end: CalendarDay("2028-03-20"))))
        #expect(submission.storedAnswers == ["team": ["arg"], "costCenter": ["1234"], "tools": ["git", "wiki"]])
    }

    @Test func messagesNameTheQuestionInTheFormsLanguage() {
        let result = RequestSubmission.validate(fields(["answer.team": nil]), policy: formPolicy(), language: "fr", today: formToday)
        #expect(errors(of: result) == [FieldError(field: "answer.team", message: "Answer “Quelle équipe a gagné la finale 2022 ?”: choose one of the options.")])
    }

    @Test func aRefusedFormKeepsWhatThePersonTyped() throws {
        let posted = fields(["answer.team": nil, "answer.bogus": ["x"], "end": ["2028-02-02"]])
        let result = RequestSubmission.validate(posted, policy: formPolicy(), language: "en", today: formToday)
        guard case .failure(let rejected) = result else { Issue.record("accepted"); return }
        // The form's own fields as typed (untrimmed); not package, policy, language or unknown questions.
        #expect(rejected.input == [
            "justification": ["  Quarter close  "], "answer.costCenter": [" 1234 "], "answer.notes": [""],
            "answer.tools": ["wiki", "git"], "answer.code": [""], "start": [""], "end": ["2028-02-02"],
        ])
        #expect(rejected.message(for: "end") == "End date: choose a day after today (1 March 2028).")
        #expect(rejected.message(for: "answer.costCenter") == nil)
    }

    @Test func justificationRules() throws {
        let optional = formPolicy(justification: .optional)
        #expect(try RequestSubmission.validate(fields(["justification": ["  "]]), policy: optional, language: "en", today: formToday)
            .get().justification == nil)
        #expect(try RequestSubmission.validate(fields(["justification": ["Because"]]), policy: optional, language: "en", today: formToday)
            .get().justification == "Because")

        // A justification posted for a policy that asks for none is ignored, even an oversized one.
        let none = formPolicy(justification: .none)
        let long = String(repeating: "x", count: 5000)
        #expect(try RequestSubmission.validate(fields(["justification": [long]]), policy: none, language: "en", today: formToday)
            .get().justification == nil)
        guard case .failure(let rejected) = RequestSubmission.validate(
            fields(["justification": [long], "answer.team": nil]), policy: none, language: "en", today: formToday) else {
            Issue.record("accepted")
            return
        }
        #expect(rejected.errors.map(\.field) == ["answer.team"])
        #expect(rejected.input["justification"] == nil)
    }

    @Test func datesOnlyWhenThePolicyOffersThem() {
        let fixed = formPolicy(customSchedule: false)
        #expect(errors(of: RequestSubmission.validate(fields(["end": ["2028-03-10"]]), policy: fixed, language: "en", today: formToday)) == [
            FieldError(field: "end", message: "End date: this request option does not let you choose dates; access starts when the request is approved. Leave the dates empty."),
        ])
        // Empty date fields are fine and mean "no custom schedule".
        #expect((try? RequestSubmission.validate(validFields, policy: fixed, language: "en", today: formToday).get().schedule) == .some(nil))

        let hourly = formPolicy(expiration: .afterHours(8))
        #expect(errors(of: RequestSubmission.validate(fields(["start": ["2028-03-02"], "end": ["2028-03-03"]]), policy: hourly, language: "en", today: formToday)) == [
            FieldError(field: "start", message: "Start date: access through this request option lasts 8 hours from approval, so it cannot be scheduled by date; leave the dates empty."),
        ])
    }

    @Test func onDatePoliciesBoundTheDates() throws {
        let dated = formPolicy(expiration: .onDate(CalendarDay("2028-06-30")!))
        func check(_ changes: [String: [String]?]) -> [FieldError] {
            errors(of: RequestSubmission.validate(fields(changes), policy: dated, language: "en", today: formToday))
        }
        #expect(check(["start": ["2028-06-01"], "end": ["2028-06-30"]]) == [])
        #expect(check(["start": ["2028-06-30"]]) == [])
        #expect(check(["end": ["2028-07-01"]]) == [
            FieldError(field: "end", message: "End date: access through this request option ends on 30 June 2028 at the latest; choose that day or an earlier one."),
        ])
        #expect(check(["start": ["2028-07-01"]]) == [
            FieldError(field: "start", message: "Start date: access through this request option ends on 30 June 2028; choose a start on or before that day."),
        ])
    }

    @Test func neverExpiringPoliciesTakeAnyLaterEnd() throws {
        let open = formPolicy(expiration: .never)
        let submission = try RequestSubmission.validate(fields(["end": ["2099-12-31"]]), policy: open, language: "en", today: formToday).get()
        #expect(submission.schedule == RequestedSchedule(start: nil, end: CalendarDay("2099-12-31")))
    }

    @Test func afterDaysCountsCalendarDaysAcrossTheLeapDay() {
        let yearly = formPolicy(expiration: .afterDays(365))
        let today = CalendarDay("2028-02-01")!
        func check(_ start: String, _ end: String) -> [String] {
            errors(of: RequestSubmission.validate(fields(["start": [start], "end": [end]]), policy: yearly, language: "en", today: today))
                .map(\.message)
        }
        #expect(check("2028-02-29", "2029-02-28") == [])
        #expect(check("2028-02-29", "2029-03-01") == [
            "End date: access through this request option lasts at most 365 days, so it ends on 28 February 2029 at the latest; choose that day or an earlier one.",
        ])
    }
}
