import GatehouseModel

extension Context {
    static let questionKeys = ["id", "type", "required", "text", "regex", "maxLength", "choices", "multipleSelection"]

    /// The question's id and where it is written (for duplicates), and the question when it reads completely.
    func decodeQuestion(_ item: Value) -> (String, Value, Question?)? {
        guard let fields = item.mapping("question", keys: Self.questionKeys,
                                        expected: "a question with id, type and text") else { return nil }
        let idValue = fields.required("id")
        let id = idValue.flatMap { value in value.string("an id").flatMap { self.id($0, at: value, of: "question") } }
        let kind = fields.required("type")?.oneOf(Question.Kind.self, "question type")
        let required = fields["required"]?.bool() ?? false
        let text = fields.required("text").flatMap { localized($0) }
        var complete = kind != nil && text != nil

        func onlyForChoices(_ key: String) {
            guard kind != nil, kind != .multipleChoice, let at = fields.keyLocation(key) else { return }
            log.error(at, "'\(key)' only applies to multipleChoice questions; set type: multipleChoice or remove '\(key)'")
            complete = false
        }
        func onlyForText(_ key: String) -> Bool {
            guard kind == .multipleChoice, let at = fields.keyLocation(key) else { return true }
            log.error(at, "'\(key)' only applies to shortText and longText questions; remove it")
            complete = false
            return false
        }

        var pattern: String?
        if onlyForText("regex"), let value = fields["regex"], let text = value.string("a regular expression") {
            do {
                _ = try Regex(text)
                pattern = text
            } catch {
                value.error("regex '\(text)' does not compile: \(error)")
                complete = false
            }
        }
        var maxLength: Int?
        if onlyForText("maxLength"), let value = fields["maxLength"], let number = value.int() {
            if number < 1 {
                value.error("maxLength must be at least 1 character")
                complete = false
            }
            maxLength = number
        }

        onlyForChoices("choices")
        onlyForChoices("multipleSelection")
        var choices: [Choice] = []
        var allowsMultiple = false
        if kind == .multipleChoice {
            allowsMultiple = fields["multipleSelection"]?.bool() ?? false
            let items = fields["choices"]?.list("a list of choices like {value: v, text: …}") ?? []
            if items.isEmpty {
                (fields["choices"].map(\.location) ?? fields.start).report(log, "multipleChoice question\(id.map { " '\($0)'" } ?? "") has no choices; add choices: [{value: …, text: …}]")
                complete = false
            }
            var lines: [String: Int] = [:]
            for item in items {
                guard let choice = item.mapping("choice", keys: ["value", "text"], expected: "a choice like {value: v, text: …}") else {
                    complete = false
                    continue
                }
                let valueValue = choice.required("value")
                let value = valueValue?.text("a stored value")
                let text = choice.required("text").flatMap { localized($0) }
                guard let value, let valueValue, let text else { complete = false; continue }
                if let line = lines[value] {
                    valueValue.error("choice value '\(value)' is already used in this question (line \(line))")
                    continue
                }
                lines[value] = valueValue.location.line
                choices.append(Choice(value: value, text: text, source: choice.source))
            }
        }

        guard let id, let idValue else { return nil }
        guard complete, let kind, let text else { return (id, idValue, nil) }
        return (id, idValue, Question(id: id, kind: kind, required: required, text: text, pattern: pattern, maxLength: maxLength,
                                      choices: choices, allowsMultiple: allowsMultiple, source: fields.source))
    }

    // MARK: - Lifecycle

    static let lifecycleKeys = ["expiration", "customSchedule", "extension", "review"]

    /// `requiresApproval` is whether the policy has approval stages, nil when that could not be read.
    func decodeLifecycle(_ value: Value, scope: ScopeInfo?, requiresApproval: Bool?) -> Lifecycle? {
        guard let fields = value.mapping("lifecycle", keys: Self.lifecycleKeys) else { return nil }
        var expiration: Expiration? = .never
        if let value = fields["expiration"] { expiration = decodeExpiration(value) }
        let customSchedule = fields["customSchedule"]?.bool() ?? false
        if customSchedule, case .afterHours = expiration, let at = fields["customSchedule"] {
            at.error("a custom schedule takes start and end dates, which access lasting hours cannot use; "
                + "expire after days or on a date, or set customSchedule: false")
        }

        var extensionAllowed = false
        var extensionRequiresApproval = false
        if let value = fields["extension"], let settings = value.mapping("extension", keys: ["allowed", "requiresApproval"]) {
            extensionAllowed = settings["allowed"]?.bool() ?? false
            extensionRequiresApproval = settings["requiresApproval"]?.bool() ?? false
            if extensionAllowed, expiration == .never, let at = settings["allowed"] {
                at.error("extension is allowed but access never expires; set an expiration or remove 'extension'")
            }
            if extensionRequiresApproval, let at = settings["requiresApproval"] {
                if !extensionAllowed {
                    at.error("requiresApproval has no effect when extension is not allowed; set allowed: true or remove it")
                } else if requiresApproval == false {
                    at.error("extensions would need approval, but the policy has `approval: none`; add approval stages or set requiresApproval: false")
                }
            }
        }

        var review: AccessReview?
        var reviewBroken = false
        if let value = fields["review"] {
            review = decodeReview(value, scope: scope)
            reviewBroken = review == nil
        }
        guard let expiration, !reviewBroken else { return nil }
        return Lifecycle(expiration: expiration, customSchedule: customSchedule, extensionAllowed: extensionAllowed,
                         extensionRequiresApproval: extensionRequiresApproval, review: review, source: fields.source)
    }

    private func decodeExpiration(_ value: Value) -> Expiration? {
        let expected = "`never`, or one of {afterDays: N}, {afterHours: N}, {onDate: YYYY-MM-DD}"
        if value.isScalar {
            if value.scalarText == "never" { return .never }
            value.typeError(expected)
            return nil
        }
        guard let fields = value.mapping("expiration", keys: ["afterDays", "afterHours", "onDate"], expected: expected) else { return nil }
        guard let key = fields.keys.first else {
            fields.error("expiration needs one of afterDays, afterHours or onDate; or write `expiration: never`")
            return nil
        }
        if fields.keys.count > 1, let at = fields.keyLocation(fields.keys[1]) {
            log.error(at, "expiration takes one of afterDays, afterHours or onDate, not both '\(key)' and '\(fields.keys[1])'")
            return nil
        }
        guard let setting = fields.required(key) else { return nil }
        switch key {
        case "afterDays":
            guard let days = setting.int() else { return nil }
            guard (0...3660).contains(days) else {
                setting.error("expiration after \(days) days is out of range: use 0 to 3660 days, or `expiration: never`")
                return nil
            }
            return .afterDays(days)
        case "afterHours":
            guard let hours = setting.int() else { return nil }
            guard hours > 0 else {
                setting.error("expiration after \(hours) hours must be at least 1 hour")
                return nil
            }
            return .afterHours(hours)
        default:
            guard let day = setting.day() else { return nil }
            if day < known.today {
                setting.error("expiration date \(day) is already past (today is \(known.today)); choose a later date")
                return nil
            }
            if day == known.today {
                setting.error("expiration date \(day) is today; choose a later date")
                return nil
            }
            return .onDate(day)
        }
    }

    // MARK: - Access reviews

    static let reviewKeys = ["startsOn", "frequency", "durationDays", "reviewers", "fallback", "justificationRequired", "whenNoResponse"]

    /// The longest a review of each frequency may last: it must close before the next one starts.
    static let longestReview: [AccessReview.Frequency: Int] = [
        .weekly: 7, .monthly: 30, .quarterly: 90, .semiAnnually: 180, .annually: 365,
    ]

    private func decodeReview(_ value: Value, scope: ScopeInfo?) -> AccessReview? {
        guard let fields = value.mapping("review", keys: Self.reviewKeys,
                                         expected: "a review with startsOn, frequency, durationDays and reviewers") else { return nil }
        let startsOn = fields.required("startsOn")?.day()
        let frequency = fields.required("frequency")?.oneOf(AccessReview.Frequency.self, "review frequency")
        var durationDays: Int?
        if let value = fields.required("durationDays"), let days = value.int() {
            if days < 1 {
                value.error("durationDays must be at least 1 day")
            } else if let frequency, let longest = Self.longestReview[frequency], days > longest {
                value.error("a \(frequency.rawValue) review cannot last longer than \(longest) days")
            } else {
                durationDays = days
            }
        }
        let justificationRequired = fields["justificationRequired"]?.bool() ?? false
        let whenNoResponse = fields["whenNoResponse"].map { $0.oneOf(AccessReview.WhenNoResponse.self, "whenNoResponse value") }
            ?? .keepAccess

        var reviewers: AccessReview.Reviewers?
        let fallback = fields["fallback"].map { list in
            approverEntries(list, as: .fallbackReviewer).compactMap { entry in entry.kind.map { ApproverRef($0, source: entry.source) } }
        } ?? []
        let hint = "; add reviewers: [{self: true}], [{manager: true}] with fallback, or people and groups"
        if let value = fields.required("reviewers", hint: hint) {
            let entries = approverEntries(value, as: .reviewer)
            if value.isEmptyList {
                value.error("review has no reviewers" + hint)
            }
            let selfEntry = entries.first { $0.kind == nil }
            let managerEntry = entries.first { $0.kind == .manager }
            if let special = selfEntry ?? managerEntry, entries.count > 1 {
                special.value.error("\(special.kind == nil ? "self-review" : "manager review") cannot be combined with other reviewers")
            } else if selfEntry != nil {
                reviewers = .selfReview
            } else if let managerEntry {
                if let scope { checkAudience(.manager, at: managerEntry.source.start, scope: scope, what: "review") }
                if fallback.isEmpty {
                    managerEntry.value.error("manager review needs fallback reviewers for holders without a manager; add `fallback: [{person: …}]` to the review")
                } else {
                    reviewers = .manager(fallback: fallback)
                }
            } else if !entries.isEmpty {
                reviewers = .specific(entries.compactMap { entry in entry.kind.map { ApproverRef($0, source: entry.source) } })
            }
            if managerEntry == nil, !fallback.isEmpty, let at = fields["fallback"] {
                at.error("fallback reviewers are only used with {manager: true}; remove 'fallback'")
            }
        }

        guard let startsOn, let frequency, let durationDays, let whenNoResponse, let reviewers else { return nil }
        return AccessReview(startsOn: startsOn, frequency: frequency, durationDays: durationDays, reviewers: reviewers,
                            justificationRequired: justificationRequired, whenNoResponse: whenNoResponse, source: fields.source)
    }
}

extension SourceLocation {
    func report(_ log: DiagnosticLog, _ message: String) { log.error(self, message) }
}
