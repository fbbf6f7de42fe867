public import GatehouseModel

/// The request form's field names, spelled as Rendering's `FormField` spells them (Governance does not import Rendering).
public enum RequestFormField {
    public static let justification = "justification"
    /// Requested start and end days of a custom schedule (`YYYY-MM-DD`).
    public static let start = "start"
    public static let end = "end"
    /// Prefix of the fields holding answers: `answer.<questionId>`.
    public static let answerPrefix = "answer."
    /// The field holding the answer to `questionID`.
    public static func answer(_ questionID: String) -> String { answerPrefix + questionID }
    /// The longest business justification accepted, in characters (the form's `maxlength`).
    public static let justificationMaxLength = 4000
}

/// A problem with one form field, worded so the person knows which field and what to change.
public struct FieldError: Sendable, Hashable, CustomStringConvertible {
    /// The form field the message belongs next to (`justification`, `answer.<id>`, `start`, `end`).
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}

/// One question as the requestor answered it, with the texts they saw (approvers are shown these).
public struct GivenAnswer: Sendable, Hashable {
    public var questionID: String
    /// The question in the requestor's language.
    public var question: String
    /// What is stored: the trimmed text, or the chosen choices' values in the policy's order.
    public var values: [String]
    /// What the requestor saw for each value: the text itself, or the choice's text in their language.
    public var shown: [String]

    public init(questionID: String, question: String, values: [String], shown: [String]) {
        self.questionID = questionID
        self.question = question
        self.values = values
        self.shown = shown
    }
}

/// The days a requestor asked for; an absent start means "at approval", an absent end "as the policy says".
public struct RequestedSchedule: Sendable, Hashable {
    public var start: CalendarDay?
    /// The last day of access: access ends at the end of this day in the tenant's time zone.
    public var end: CalendarDay?

    public init(start: CalendarDay? = nil, end: CalendarDay? = nil) {
        self.start = start
        self.end = end
    }
}

/// A request form that passed every rule of its policy, ready to be recorded.
public struct RequestSubmission: Sendable, Hashable {
    /// The language the form was shown in, so answers can be shown back the same way.
    public var language: String
    /// Trimmed; nil when the policy asks for none or the person left the optional one empty.
    public var justification: String?
    /// In the policy's question order; optional questions left empty are absent.
    public var answers: [GivenAnswer]
    /// Nil when the person asked for no dates (or the policy offers none).
    public var schedule: RequestedSchedule?

    public init(language: String, justification: String?, answers: [GivenAnswer], schedule: RequestedSchedule?) {
        self.language = language
        self.justification = justification
        self.answers = answers
        self.schedule = schedule
    }

    /// The answers as stored with the request: question id -> stored values.
    public var storedAnswers: [String: [String]] {
        Dictionary(uniqueKeysWithValues: answers.map { ($0.questionID, $0.values) })
    }

    /// Checks a posted request form against `policy` and returns the valid request, or every problem at once.
    ///
    /// - Parameters:
    ///   - fields: the decoded form, field name -> values in order; fields other than the
    ///     justification, answers and dates (package, policy, language, tokens) are ignored.
    ///   - language: the language the form was shown in (question and choice texts).
    ///   - today: today's date in the tenant's time zone (custom start days may not be earlier).
    public static func validate(
        _ fields: [String: [String]], policy: Policy, language: String, today: CalendarDay
    ) -> Result<RequestSubmission, RejectedForm> {
        var validator = FormValidator(fields: fields, policy: policy, language: language, today: today)
        let justification = validator.justification()
        let answers = validator.answers()
        let schedule = validator.schedule()
        guard validator.errors.isEmpty else {
            return .failure(RejectedForm(errors: validator.errors, input: validator.keptInput()))
        }
        return .success(RequestSubmission(language: language, justification: justification, answers: answers, schedule: schedule))
    }
}

/// Why a request form was refused, with what the person wrote so the form can show it again.
public struct RejectedForm: Error, Sendable, Hashable {
    /// Justification first, then questions in form order, unknown questions, start, end; at most one per field.
    public var errors: [FieldError]
    /// The posted values of the form's own fields (justification unless the policy has none, known answers, dates), as typed.
    public var input: [String: [String]]

    public init(errors: [FieldError], input: [String: [String]]) {
        self.errors = errors
        self.input = input
    }

    /// The message to show next to `field`, if it has one.
    public func message(for field: String) -> String? {
        errors.first { $0.field == field }?.message
    }
}

// MARK: - Rules

private struct FormValidator {
    let fields: [String: [String]]
    let policy: Policy
    let language: String
    let today: CalendarDay
    var errors: [FieldError] = []

    init(fields: [String: [String]], policy: Policy, language: String, today: CalendarDay) {
        self.fields = fields
        self.policy = policy
        self.language = language
        self.today = today
    }

    mutating func fail(_ field: String, _ message: String) {
        errors.append(FieldError(field: field, message: message))
    }

    /// What a single-valued field holds, trimmed: nothing (absent or blank), a value, or several values (reported).
    enum Posted {
        case absent, value(String), invalid

        var text: String? {
            if case .value(let text) = self { return text }
            return nil
        }
    }

    mutating func singleText(_ field: String, label: String) -> Posted {
        let values = fields[field] ?? []
        guard values.count <= 1 else {
            fail(field, "\(label): the form sent \(values.count) values where one is expected; reload the form and submit it again.")
            return .invalid
        }
        let text = values.first.map(trimmed) ?? ""
        return text.isEmpty ? .absent : .value(text)
    }

    mutating func justification() -> String? {
        let field = RequestFormField.justification
        guard policy.justification != .none else { return nil }
        let label = "Business justification"
        let text: String
        switch singleText(field, label: label) {
        case .invalid: return nil
        case .absent:
            if policy.justification == .required {
                fail(field, "Business justification is required: say why you need this access.")
            }
            return nil
        case .value(let value): text = value
        }
        let limit = RequestFormField.justificationMaxLength
        if text.count > limit {
            fail(field, "\(label): at most \(limit) characters (you wrote \(text.count)).")
            return nil
        }
        return text
    }

    mutating func answers() -> [GivenAnswer] {
        var given: [GivenAnswer] = []
        for question in policy.questions {
            if let answer = answer(question) { given.append(answer) }
        }
        let known = Set(policy.questions.map { RequestFormField.answer($0.id) })
        let unknown = fields.keys.filter { $0.hasPrefix(RequestFormField.answerPrefix) && !known.contains($0) }.sorted()
        for field in unknown {
            let id = field.dropFirst(RequestFormField.answerPrefix.count)
            fail(field, "Unknown question “\(id)”: this request option has no such question (it may have changed); reload the form and submit it again.")
        }
        return given
    }

    private mutating func answer(_ question: Question) -> GivenAnswer? {
        let field = RequestFormField.answer(question.id)
        let text = question.text.text(in: language)
        let label = "Answer “\(text)”"
        switch question.kind {
        case .shortText, .longText:
            let value: String
            switch singleText(field, label: label) {
            case .invalid: return nil
            case .absent:
                if question.required { fail(field, "\(label): this question is required; write an answer.") }
                return nil
            case .value(let text): value = text
            }
            if let limit = question.effectiveMaxLength, value.count > limit {
                fail(field, "\(label): at most \(limit) characters (you wrote \(value.count)).")
                return nil
            }
            if let pattern = question.pattern {
                guard let regex = try? Regex(pattern) else {
                    fail(field, "\(label) cannot be checked: its expected format is broken in the policy; tell the package's owners.")
                    return nil
                }
                // wholeMatch anchors the pattern at both ends, alternations included.
                guard (try? regex.wholeMatch(in: value)) != nil else {
                    fail(field, "\(label) must match the expected format: check what the question asks for and correct your answer.")
                    return nil
                }
            }
            return GivenAnswer(questionID: question.id, question: text, values: [value], shown: [value])

        case .multipleChoice:
            let values = (fields[field] ?? []).map(trimmed).filter { !$0.isEmpty }
            guard !values.isEmpty else {
                if question.required {
                    let what = question.allowsMultiple ? "choose at least one of the options" : "choose one of the options"
                    fail(field, "\(label): \(what).")
                }
                return nil
            }
            if let stranger = values.first(where: { value in !question.choices.contains { $0.value == value } }) {
                fail(field, "\(label): “\(stranger)” is not one of the options; choose from the list shown.")
                return nil
            }
            if !question.allowsMultiple && values.count > 1 {
                fail(field, "\(label): choose only one of the options.")
                return nil
            }
            if let twice = values.enumerated().first(where: { index, value in values[..<index].contains(value) })?.element {
                fail(field, "\(label): “\(twice)” was chosen more than once; choose each option once.")
                return nil
            }
            let chosen = question.choices.filter { values.contains($0.value) }
            return GivenAnswer(questionID: question.id, question: text, values: chosen.map(\.value),
                               shown: chosen.map { $0.text.text(in: language) })
        }
    }

    // MARK: Schedule

    mutating func schedule() -> RequestedSchedule? {
        let startField = RequestFormField.start, endField = RequestFormField.end
        let before = errors.count
        let startText = singleText(startField, label: "Start date").text
        let endText = singleText(endField, label: "End date").text
        guard errors.count == before, startText != nil || endText != nil else { return nil }
        let firstField = startText != nil ? startField : endField

        guard policy.lifecycle.customSchedule else {
            fail(firstField, "\(label(firstField)): this request option does not let you choose dates; access starts when the request is approved. Leave the dates empty.")
            return nil
        }
        if case .afterHours(let hours) = policy.lifecycle.expiration {
            fail(firstField, "\(label(firstField)): access through this request option lasts \(hours) \(hours == 1 ? "hour" : "hours") from approval, so it cannot be scheduled by date; leave the dates empty.")
            return nil
        }

        let start = startText.flatMap { day($0, field: startField) }
        if let start, start < today {
            fail(startField, "Start date: \(start.longDescription) has passed; choose today (\(today.longDescription)) or a later day.")
        } else if case .onDate(let last) = policy.lifecycle.expiration, let start, start > last {
            fail(startField, "Start date: access through this request option ends on \(last.longDescription); choose a start on or before that day.")
        }
        let end = endText.flatMap { day($0, field: endField) }
        // An end is only checked against a start that could be read (or today when none was given).
        let startUnreadable = startText != nil && start == nil
        if let end, !startUnreadable {
            let from = start ?? today
            if end <= from {
                let after = start == nil ? "today (\(today.longDescription))" : "the start date (\(from.longDescription))"
                fail(endField, "End date: choose a day after \(after).")
            } else {
                switch policy.lifecycle.expiration {
                case .afterDays(let days):
                    let latest = from.adding(days: days)
                    if end > latest {
                        fail(endField, "End date: access through this request option lasts at most \(days) \(days == 1 ? "day" : "days"), so it ends on \(latest.longDescription) at the latest; choose that day or an earlier one.")
                    }
                case .onDate(let last) where end > last:
                    fail(endField, "End date: access through this request option ends on \(last.longDescription) at the latest; choose that day or an earlier one.")
                case .onDate, .never, .afterHours:
                    break
                }
            }
        }
        guard errors.count == before else { return nil }
        return RequestedSchedule(start: start, end: end)
    }

    private func label(_ field: String) -> String {
        field == RequestFormField.start ? "Start date" : "End date"
    }

    private mutating func day(_ text: String, field: String) -> CalendarDay? {
        if let day = CalendarDay(text) { return day }
        fail(field, "\(label(field)): write the date as YYYY-MM-DD, for example \(today) (you wrote “\(text)”).")
        return nil
    }

    /// The posted values of the fields the form shows, so a refused form can be shown again as typed.
    func keptInput() -> [String: [String]] {
        var kept: [String] = [RequestFormField.start, RequestFormField.end]
        if policy.justification != .none { kept.append(RequestFormField.justification) }
        kept += policy.questions.map { RequestFormField.answer($0.id) }
        return fields.filter { kept.contains($0.key) }
    }
}

private func trimmed(_ text: String) -> String {
    var slice = Substring(text)
    while slice.first?.isWhitespace == true { slice.removeFirst() }
    while slice.last?.isWhitespace == true { slice.removeLast() }
    return String(slice)
}

extension CalendarDay {
    /// The day `days` later (earlier when negative), in the proleptic Gregorian calendar.
    func adding(days: Int) -> CalendarDay {
        CalendarDay(dayNumber: dayNumber + days)
    }

    /// Days since 1970-01-01 (Howard Hinnant's days_from_civil).
    var dayNumber: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    init(dayNumber: Int) {
        let z = dayNumber + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        // Out of CalendarDay's 1...9999 range only for absurd offsets; clamp to its ends.
        self = CalendarDay(year: y, month: m, day: d)
            ?? (y < 1 ? CalendarDay(year: 1, month: 1, day: 1)! : CalendarDay(year: 9999, month: 12, day: 31)!)
    }
}
