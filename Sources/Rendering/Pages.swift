public import GatehouseModel
internal import GatehouseMarkdown
internal import Mustache

/// Renders every page of the static portal from one site and one theme.
///
/// Each page is a pure function of the model (and the requested language): no clock, no files.
/// Shared by `gatehouse build` and, for the pages that depend on who is looking, the handler.
public struct PortalRenderer: Sendable {
    public let site: Site
    let templates: TemplateLibrary
    let index: SiteIndex
    let describer: PolicyDescriber
    /// `/assets/gatehouse.css?v=<content hash>`: a new stylesheet gets a new URL, so it can be cached forever.
    public let stylesheetURL: String
    private let strings: [String: UIStrings]
    private let english: UIStrings

    public init(site: Site, theme: Theme) throws {
        guard let css = theme.assets[Theme.stylesheetAsset] else {
            throw TemplateError.missingAsset(Theme.stylesheetAsset)
        }
        for name in Theme.requiredTemplates where theme.templates[name] == nil {
            throw TemplateError.missingTemplate(name: name, referencedBy: nil)
        }
        self.site = site
        templates = try TemplateLibrary(theme)
        index = SiteIndex(site)
        describer = PolicyDescriber(index: index)
        stylesheetURL = Paths.stylesheet + "?v=" + ContentHash.hex(ContentHash.fnv1a64(css), digits: 12)
        var strings: [String: UIStrings] = [:]
        for language in site.tenant.languages + ["en"] { strings[language] = UIStrings(language: language) }
        self.strings = strings
        english = strings["en"]!
    }

    // MARK: Pages

    /// The portal home: listed packages of enabled catalogs, by catalog.
    public func home() throws -> String {
        var context = base(title: "Access packages", ui: english)
        var catalogs: [[String: Any]] = []
        for catalog in site.catalogs.sorted(by: Self.byName(\.name, \.id)) where catalog.enabled {
            let packages = site.packages
                .filter { $0.catalog == catalog.id && Self.isListed($0) }
                .sorted(by: Self.byName(\.name, \.id))
            guard !packages.isEmpty else { continue }
            catalogs.append([
                "name": catalog.name,
                "description": catalog.description,
                "hasDescription": !catalog.description.isEmpty,
                "packages": packages.map { package -> [String: Any] in
                    let summary = Markdown.summary(package.description)
                    return ["name": package.name, "summary": summary.isEmpty ? false : summary, "url": Paths.package(package.id)]
                },
            ])
        }
        context["catalogs"] = catalogs
        context["isEmpty"] = catalogs.isEmpty
        context["homeLink"] = Paths.absolute(Paths.home, baseURL: site.tenant.baseURL)
        return try templates.render("home", context)
    }

    /// Whether the home page lists the package: not hidden, and someone can request it themselves.
    public static func isListed(_ package: AccessPackage) -> Bool {
        !package.hidden && package.policies.contains(where: \.isSelfService)
    }

    /// The policies that get a request form (none when the catalog is off).
    public func formPolicies(of package: AccessPackage) -> [Policy] {
        guard index.catalogs[package.catalog]?.enabled ?? false else { return [] }
        return package.policies.filter(\.isSelfService)
    }

    /// One package: what it grants, who may request it and how, and its shareable links.
    public func packagePage(_ package: AccessPackage) throws -> String {
        let catalog = index.catalogs[package.catalog]
        let catalogEnabled = catalog?.enabled ?? false
        var context = base(title: package.name, ui: english)
        context["name"] = package.name
        context["catalogName"] = catalog?.name ?? package.catalog
        context["descriptionHTML"] = Markdown.html(package.description)
        context["hidden"] = package.hidden
        context["resources"] = package.resources.map { ref -> [String: Any] in
            let resource = catalog?.resource(ref.resource)
            return [
                "name": resource?.name ?? ref.resource,
                "type": resource.map { PolicyDescriber.kindName($0.kind) } ?? "",
                "role": ref.role,
            ]
        }
        context["hasResources"] = !package.resources.isEmpty

        var notice: String?
        if !catalogEnabled {
            notice = "This access package cannot be requested now: its catalog “\(catalog?.name ?? package.catalog)” is turned off."
        } else if !package.policies.contains(where: \.isSelfService) {
            notice = "This access package cannot be requested now: none of its policies accepts requests. An administrator can still assign it."
        }
        context["notice"] = notice ?? false

        let shown = package.policies.filter { if case .adminOnly = $0.requestors { false } else { true } }
        context["policies"] = shown.map { policyContext($0, package: package, requestable: catalogEnabled) }
        context["hasPolicies"] = !shown.isEmpty
        context["adminNote"] = package.policies.contains(where: { if case .adminOnly = $0.requestors { true } else { false } })
            ? "Administrators can also assign this access package directly." : false

        context["separation"] = describer.separation(
            packages: package.incompatible.packages.map { index.packageNames[$0] ?? $0 },
            groups: package.incompatible.groups) ?? false

        context["packageLink"] = Paths.absolute(Paths.package(package.id), baseURL: site.tenant.baseURL)
        context["homeLink"] = Paths.absolute(Paths.home, baseURL: site.tenant.baseURL)
        return try templates.render("package", context)
    }

    private func policyContext(_ policy: Policy, package: AccessPackage, requestable: Bool) -> [String: Any] {
        var context: [String: Any] = [
            "name": policy.name,
            "who": describer.requestors(policy.requestors),
            "justification": describer.justification(policy.justification),
            "duration": capitalized(describer.duration(policy.lifecycle.expiration)) + ".",
            "extension": describer.extensionRule(policy.lifecycle),
            "review": describer.review(policy.lifecycle.review),
            "noApproval": policy.approvalStages.isEmpty,
            "stages": policy.approvalStages.enumerated().map { number, stage -> [String: Any] in
                var stageContext: [String: Any] = [
                    "number": number + 1,
                    "approvers": describer.approvers(of: stage),
                    "decision": describer.decision(of: stage),
                ]
                stageContext["escalation"] = describer.escalation(of: stage) ?? false
                return stageContext
            },
            "questions": policy.questions.map { $0.text.defaultText },
            "hasQuestions": !policy.questions.isEmpty,
        ]
        context["customSchedule"] = policy.lifecycle.customSchedule
            ? "You may ask for a specific start and end date within this limit." : false
        context["disabled"] = policy.enabled ? false : "This policy is turned off: it accepts no requests now."
        context["canRequest"] = policy.enabled && requestable
        context["requestURL"] = Paths.requestForm(package: package.id, policy: policy.id)
        return context
    }

    /// The request form of one self-service policy in one language (translations fall back to the default text);
    /// `state` adds what the handler shows again: the input, messages and the idempotency token.
    public func requestForm(
        _ package: AccessPackage, policy: Policy, language: String, state: RequestFormState = .empty
    ) throws -> String {
        let ui = strings[language] ?? UIStrings(language: language)
        var context = base(title: ui.format("requestTitle", ["package": package.name]), ui: ui, language: language)
        context["packageURL"] = Paths.package(package.id)
        context["policyIntro"] = ui.format("policyIntro", ["policy": policy.name])
        let languages = site.tenant.languages.map { code -> [String: Any] in
            [
                "code": code,
                "name": UIStrings.languageName(code),
                "url": Paths.requestForm(package: package.id, policy: policy.id, language: code),
                "current": code == language,
            ]
        }
        context["languages"] = languages
        context["hasLanguages"] = languages.count > 1
        context["action"] = Paths.submitRequest
        var hidden = [
            ["name": FormField.package, "value": package.id],
            ["name": FormField.policy, "value": policy.id],
            ["name": FormField.language, "value": language],
        ]
        if let token = state.submissionToken { hidden.append(["name": FormField.submission, "value": token]) }
        if let token = state.draftToken { hidden.append(["name": FormField.draft, "value": token]) }
        if !state.notices.isEmpty { context["notices"] = state.notices }
        if let person = state.signedInAs {
            context["nav"] = Self.navigation.merging(["person": person, "signOut": Paths.signOut, "forYou": Paths.myHome]) { $1 }
        }
        context["hidden"] = hidden
        if !state.problems.isEmpty { context["problems"] = state.problems }
        // The handler's form is for a signed-in person; only the static one needs the note.
        context["signInNote"] = state.submissionToken == nil
        let summary = errorSummary(policy, state: state)
        context["errorSummary"] = summary
        context["hasErrorSummary"] = !summary.isEmpty
        if let error = state.errors[FormField.justification] { context["justificationError"] = error }
        context["justificationDescribedBy"] = Self.describedBy(
            "justification", hint: true, error: state.errors[FormField.justification] != nil)
        if let value = state.value(FormField.justification) { context["justificationValue"] = value }
        context["justification"] = policy.justification != .none
        context["justificationName"] = FormField.justification
        context["justificationRequired"] = policy.justification == .required
        context["justificationMaxLength"] = FormField.justificationMaxLength
        context["questions"] = policy.questions.map { questionContext($0, language: language, ui: ui, state: state) }
        context["hasQuestions"] = !policy.questions.isEmpty
        context["schedule"] = false
        if policy.lifecycle.customSchedule {
            var schedule: [String: Any] = [
                "max": false,
                "startName": FormField.start,
                "endName": FormField.end,
                "empty": ui["scheduleEmpty"],
                "startValue": state.value(FormField.start) ?? false,
                "endValue": state.value(FormField.end) ?? false,
                "startError": state.errors[FormField.start] ?? false,
                "endError": state.errors[FormField.end] ?? false,
            ]
            switch policy.lifecycle.expiration {
            case .afterDays(let days): schedule["sentence"] = ui.format("scheduleDays", ["count": String(days)])
            case .afterHours(let hours): schedule["sentence"] = ui.format("scheduleHours", ["count": String(hours)])
            case .onDate(let day):
                schedule["sentence"] = ui.format("scheduleDate", ["date": ui.longDate(day)])
                schedule["max"] = day.description
            case .never: schedule["sentence"] = ui["scheduleNever"]
            }
            context["schedule"] = schedule
        }
        return try templates.render("request-form", context)
    }

    /// The fields with a message, in the form's order, each linking to its input.
    private func errorSummary(_ policy: Policy, state: RequestFormState) -> [[String: String]] {
        var items: [[String: String]] = []
        func add(_ field: String, target: String) {
            if let message = state.errors[field] { items.append(["href": "#" + target, "message": message]) }
        }
        add(FormField.justification, target: "justification")
        for question in policy.questions {
            add(FormField.answer(question.id), target: "q-" + question.id + (question.kind == .multipleChoice ? "-1" : ""))
        }
        add(FormField.start, target: "start")
        add(FormField.end, target: "end")
        return items
    }

    /// The ids of the hint and the message that describe a field, for `aria-describedby`; false when none.
    private static func describedBy(_ id: String, hint: Bool, error: Bool) -> Any {
        let ids = (hint ? [id + "-hint"] : []) + (error ? [id + "-error"] : [])
        return ids.isEmpty ? false : ids.joined(separator: " ")
    }

    private func questionContext(_ question: Question, language: String, ui: UIStrings, state: RequestFormState) -> [String: Any] {
        let htmlID = "q-" + question.id
        let name = FormField.answer(question.id)
        // Every key the template asks for is present (false when off), so that Mustache finds it
        // in the question itself instead of searching the whole context stack.
        var context: [String: Any] = [
            "id": htmlID,
            "name": name,
            "label": question.text.text(in: language),
            "required": question.required,
            "requiredText": ui["required"],
            "shortText": question.kind == .shortText,
            "longText": question.kind == .longText,
            "choice": question.kind == .multipleChoice,
            "hasHint": false,
            "maxLength": false,
            "hasPattern": false,
            "error": state.errors[name] ?? false,
            "value": state.value(name) ?? false,
            "text": state.value(name) ?? "",
        ]
        switch question.kind {
        case .shortText, .longText:
            if let maxLength = question.effectiveMaxLength {
                context["maxLength"] = maxLength
                context["hasHint"] = true
                context["hint"] = ui.format("maxLength", ["count": String(maxLength)])
            }
            if question.kind == .shortText, let pattern = question.pattern {
                context["hasPattern"] = true
                context["pattern"] = pattern
                context["patternHint"] = ui["formatHint"]
            }
        case .multipleChoice:
            if question.allowsMultiple {
                context["hasHint"] = true
                context["hint"] = question.required ? ui["selectAll"] + " " + ui["selectAtLeastOne"] : ui["selectAll"]
            }
            let inputType = question.allowsMultiple ? "checkbox" : "radio"
            let radioRequired = question.required && !question.allowsMultiple
            context["choices"] = question.choices.enumerated().map { number, choice -> [String: Any] in
                [
                    "id": "\(htmlID)-\(number + 1)", "name": name, "value": choice.value,
                    "label": choice.text.text(in: language), "inputType": inputType, "radioRequired": radioRequired,
                    "checked": state.input[name]?.contains(choice.value) ?? false,
                ]
            }
        }
        context["describedBy"] = Self.describedBy(htmlID, hint: context["hasHint"] as? Bool == true, error: state.errors[name] != nil)
        return context
    }

    /// The sign-in page; `returnTo` is the path to come back to (empty in the static page).
    public func signIn(returnTo: String = "") throws -> String {
        var context = base(title: "Sign in", ui: english)
        context["action"] = Paths.signInCode
        context["emailName"] = FormField.email
        context["returnName"] = FormField.returnTo
        context["returnTo"] = returnTo
        return try templates.render("sign-in", context)
    }

    public func notFound() throws -> String {
        try templates.render("not-found", base(title: "Page not found", ui: english))
    }

    // MARK: Context shared by every page

    private func base(title: String, ui: UIStrings, language: String? = nil) -> [String: Any] {
        [
            "lang": language ?? ui.language,
            "title": title,
            "tenantName": site.tenant.name,
            "stylesheet": stylesheetURL,
            "ui": ui.all,
            "nav": Self.navigation,
        ]
    }

    private static let navigation = [
        "home": Paths.home, "myRequests": Paths.myRequests, "myAccess": Paths.myAccess,
        "approvals": Paths.approvals, "signIn": Paths.signIn,
    ]

    private static func byName<T>(_ name: KeyPath<T, String>, _ id: KeyPath<T, String>) -> (T, T) -> Bool {
        { a, b in
            let (x, y) = (a[keyPath: name].lowercased(), b[keyPath: name].lowercased())
            return x != y ? x < y : a[keyPath: id] < b[keyPath: id]
        }
    }
}

/// Context values for pages that render many rows.
public enum TemplateValues {
    /// A table row for a template section (`{{#rows}}<td>{{field}}</td>{{/rows}}`): each field renders,
    /// escaped, exactly as the same string in a `[String: Any]` would, but Mustache reads it with
    /// three dynamic casts instead of about seven (a sixth of a ten-row history page's rendering).
    public static func row(_ fields: [String: String]) -> Any { TextRow(fields: fields) }

    /// A string that renders, escaped, exactly as itself, read with fewer dynamic casts (see ``row(_:)``).
    public static func text(_ string: String) -> Any { TextRow.Text(renderText: string) }

    /// `context` with its strings and string dictionaries as ``text(_:)`` and ``row(_:)`` values;
    /// everything else is kept as it is.
    public static func fast(_ context: [String: Any]) -> [String: Any] {
        var out = context
        for (key, value) in context {
            if let string = value as? String {
                out[key] = text(string)
            } else if let fields = value as? [String: String] {
                out[key] = row(fields)
            }
        }
        return out
    }
}

/// See ``TemplateValues/row(_:)``; a missing field is looked up further out, as in a dictionary.
private struct TextRow: MustacheParent {
    let fields: [String: String]

    func child(named name: String) -> Any? { fields[name].map(Text.init(renderText:)) }

    struct Text: MustacheCustomRenderable {
        let renderText: String
        var isNull: Bool { false }
    }
}

/// A stable, fast content hash (64-bit FNV-1a) for cache-busters and change detection; not for security.
public enum ContentHash {
    public static func fnv1a64<Bytes: Sequence>(_ bytes: Bytes, seed: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64
    where Bytes.Element == UInt8 {
        var hash = seed
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }

    /// `digits` lowercase hex digits of `value` (the high ones).
    public static func hex(_ value: UInt64, digits: Int = 16) -> String {
        let full = String(value, radix: 16)
        let padded = String(repeating: "0", count: 16 - full.count) + full
        return String(padded.prefix(digits))
    }
}
