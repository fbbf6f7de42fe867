import GatehouseModel

/// What the files read so far declare, for checking references from the files read after them.
///
/// Files are read in dependency order (tenant, people, organizations, catalogs, packages). A file
/// that exists but could not be read still counts as declared, so its references are not reported
/// as unknown a second time; a `nil` collection means "unknown, skip those checks".
struct Known: Sendable {
    var today: CalendarDay
    /// The tenant's own email domains, lowercased; nil when tenant.yaml does not say.
    var domains: Set<String>?
    /// Declared language codes; nil when tenant.yaml does not say.
    var languages: [String]?
    /// Lowercased email -> person; nil when people.yaml could not be read.
    var people: [String: Person]?
    var groups: Set<String> = []
    var organizationIDs: Set<String> = []
    var organizations: [String: Organization] = [:]
    var catalogIDs: Set<String> = []
    var catalogs: [String: Catalog] = [:]
    /// Resource id -> the catalog that declares it.
    var resourceCatalogs: [String: String] = [:]
    var packageIDs: Set<String> = []

    init(today: CalendarDay) { self.today = today }

    /// Whether `email` is internal, or nil when the tenant's domains are unknown.
    func isInternal(_ email: String) -> Bool? {
        guard let domains, let domain = email.emailDomain else { return nil }
        return domains.contains(domain)
    }
}

/// The state every decoder works with: what is known and where problems go.
struct Context {
    let known: Known
    let log: DiagnosticLog

    // MARK: - Values that name things

    /// An email in a valid form, or nil after reporting it.
    func email(_ text: String, at value: Value) -> String? {
        guard Names.isValidEmail(text) else {
            value.error("'\(text)' is not an email address")
            return nil
        }
        return text
    }

    func id(_ text: String, at value: Value, of what: String) -> String? {
        guard Names.isValidID(text) else {
            value.error("\(what) id '\(text)' is not valid: \(Names.idRule) (for example '\(Names.slug(text))')")
            return nil
        }
        return text
    }

    // MARK: - References

    /// Reports `email` unless it is a person of people.yaml; `role` names it in the message (`approver`).
    func person(_ text: String, at value: Value, as role: String) {
        guard let email = email(text, at: value), let people = known.people else { return }
        guard people[email.lowercased()] == nil else { return }
        let hint = didYouMeanEmail(email, among: people.values.map(\.email))
        if known.isInternal(email) == false, hint.isEmpty {
            value.error("\(role) '\(email)' is not in people.yaml: only the tenant's own people can be \(role)s")
            return
        }
        value.error("\(role) '\(email)' is not in people.yaml" + hint)
    }

    func group(_ id: String, at value: Value, as role: String = "group") {
        guard known.people != nil, !known.groups.contains(id) else { return }
        value.error("\(role) '\(id)' is not declared under groups in people.yaml" + didYouMean(id, among: known.groups))
    }

    func organization(_ id: String, at value: Value) {
        guard !known.organizationIDs.contains(id) else { return }
        value.error("organization '\(id)' does not exist: there is no organizations/\(id).yaml"
                    + didYouMean(id, among: known.organizationIDs))
    }

    func catalog(_ id: String, at value: Value) -> Bool {
        guard !known.catalogIDs.contains(id) else { return true }
        value.error("catalog '\(id)' does not exist: there is no catalogs/\(id).yaml" + didYouMean(id, among: known.catalogIDs))
        return false
    }

    func package(_ id: String, at value: Value, as role: String) {
        guard !known.packageIDs.contains(id) else { return }
        value.error("\(role) '\(id)' does not exist: there is no packages/\(id).md" + didYouMean(id, among: known.packageIDs))
    }

    /// Reads a list of people's emails, checking each against people.yaml.
    func people(_ value: Value?, as role: String) -> [String] {
        guard let value, let items = value.strings(.email) else { return [] }
        var seen: [String: Int] = [:]
        var result: [String] = []
        for (text, item) in items {
            if let line = seen[text.lowercased()] {
                item.error("\(role) '\(text)' is already listed (line \(line))")
                continue
            }
            seen[text.lowercased()] = item.location.line
            person(text, at: item, as: role)
            result.append(text)
        }
        return result
    }

    /// Reads a list of group ids, checking each against people.yaml.
    func groups(_ value: Value?, as role: String = "group") -> [String] {
        guard let value, let items = value.strings(.id) else { return [] }
        var seen: [String: Int] = [:]
        var result: [String] = []
        for (text, item) in items {
            if let line = seen[text] {
                item.error("\(role) '\(text)' is already listed (line \(line))")
                continue
            }
            seen[text] = item.location.line
            group(text, at: item, as: role)
            result.append(text)
        }
        return result
    }

    // MARK: - Texts

    /// `text: "…"` or `text: {default: "…", fr: "…"}`, with every language checked against tenant.yaml.
    func localized(_ value: Value) -> LocalizedText? {
        if value.isScalar {
            guard let text = value.text() else { return nil }
            return LocalizedText(text, source: SourceMap(start: value.location))
        }
        guard let pairs = value.pairs("a text, or a mapping with 'default' and translations by language") else { return nil }
        var defaultText: String?
        var translations: [String: String] = [:]
        var source = SourceMap(start: value.location)
        for (key, keyLocation, item) in pairs {
            guard let text = item.text() else { continue }
            source.fields[key] = item.location
            if key == "default" {
                defaultText = text
                continue
            }
            if let languages = known.languages, !languages.contains(key) {
                log.error(keyLocation, "language '\(key)' is not declared in tenant.yaml languages (\(languages.joined(separator: ", ")))"
                          + didYouMean(key, among: languages) + "; add it there or remove this translation")
                continue
            }
            translations[key] = text
        }
        guard let defaultText else {
            if pairs.isEmpty {
                value.error("'\(value.key ?? "text")' is empty; write {default: \"…\"}")
            } else if pairs.contains(where: { $0.key == "default" }) {
                // The default was there but empty; already reported.
            } else {
                value.error("translations without a default text; add `default: …`, the text shown when no translation fits")
            }
            return nil
        }
        return LocalizedText(defaultText, translations: translations, source: source)
    }
}
