import Foundation
import GatehouseModel

/// What tenant.yaml declares, with the pieces later files need even when the whole does not load.
struct DecodedTenant {
    var tenant: Tenant?
    var domains: Set<String>?
    var languages: [String]?
    /// Admin emails and where each is written, checked once people.yaml is read.
    var admins: [(text: String, value: Value)] = []
}

extension Context {
    static let tenantKeys = ["name", "domains", "baseURL", "timeZone", "languages", "admins", "externalUsers", "termsOfUse"]

    func decodeTenant(_ root: Value) -> DecodedTenant {
        var result = DecodedTenant()
        guard let fields = root.mapping("tenant.yaml", keys: Self.tenantKeys,
                                        expected: "a mapping with name, domains, baseURL, timeZone and languages") else { return result }
        let name = fields.required("name")?.text()

        var domains: [String]?
        if let value = fields.required("domains"), let items = value.strings(.domain) {
            domains = []
            for (text, item) in items {
                let domain = text.lowercased()
                if !Names.isValidDomain(domain) {
                    item.error("'\(text)' is not an email domain (like contoso.example)")
                } else if domains!.contains(domain) {
                    item.error("domain '\(text)' is listed twice")
                } else {
                    domains!.append(domain)
                }
            }
            if items.isEmpty {
                value.error("no domains: list the email domains of the tenant's own people, e.g. domains: [contoso.example]")
            }
            // Without domains nobody can be told internal; the checks that need them are skipped.
            if !domains!.isEmpty { result.domains = Set(domains!) }
        }

        let baseURL = fields.required("baseURL").flatMap { value in value.string().flatMap { Self.baseURL($0, at: value) } }

        var timeZone: String?
        if let value = fields.required("timeZone"), let text = value.string("a time zone name like Europe/Paris") {
            if TimeZone(identifier: text) == nil {
                let hint = didYouMean(text, among: TimeZone.knownTimeZoneIdentifiers)
                value.error("unknown time zone '\(text)'" + (hint.isEmpty ? "; use an IANA name like Europe/Paris" : hint))
            } else {
                timeZone = text
            }
        }

        var languages: [String]?
        if let value = fields.required("languages"), let items = value.strings(.language) {
            languages = []
            for (text, item) in items {
                if !Names.isValidLanguage(text) {
                    item.error("'\(text)' is not a language code (like en, fr or pt-BR)")
                } else if languages!.contains(text) {
                    item.error("language '\(text)' is listed twice")
                } else {
                    languages!.append(text)
                }
            }
            if items.isEmpty {
                value.error("no languages: list at least one language code, e.g. languages: [en]; the first is the default")
            }
            result.languages = languages
        }

        if let value = fields["admins"], let items = value.strings(.email) {
            result.admins = items.filter { email($0.text, at: $0.value) != nil }
        }

        var externalUsers = ExternalUserSettings()
        if let value = fields["externalUsers"],
           let settings = value.mapping("externalUsers", keys: ["blockSignIn", "removeAfterDays"]) {
            externalUsers.blockSignIn = settings["blockSignIn"]?.bool() ?? false
            if let days = settings["removeAfterDays"] {
                if days.scalarText == "never" {
                    externalUsers.removeAfterDays = nil
                } else if let number = days.scalarText.flatMap({ Int($0) }), number >= 0 {
                    externalUsers.removeAfterDays = number
                } else {
                    days.typeError("0 (remove at once), a number of days, or never")
                }
            }
        }
        let terms = fields["termsOfUse"]?.string() ?? ""

        if let name, let domains, let baseURL, let timeZone, let languages, !languages.isEmpty {
            result.tenant = Tenant(name: name, domains: domains, baseURL: baseURL, timeZone: timeZone, languages: languages,
                                   admins: result.admins.map(\.text), externalUsers: externalUsers, termsOfUse: terms,
                                   source: fields.source)
        }
        return result
    }

    /// An absolute http(s) URL without query or fragment, returned without a trailing slash.
    static func baseURL(_ text: String, at value: Value) -> String? {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty,
              components.query == nil, components.fragment == nil, components.user == nil else {
            value.error("baseURL '\(text)' must be an absolute http:// or https:// URL without query or fragment, like https://access.contoso.example")
            return nil
        }
        var url = text
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }

    // MARK: - people.yaml

    func decodeDirectory(_ root: Value) -> Directory? {
        guard let fields = root.mapping("people.yaml", keys: ["people", "groups"],
                                        expected: "a mapping with people and groups") else { return nil }
        var groups: [Group] = []
        var groupLines: [String: Int] = [:]
        for item in fields["groups"]?.list("a list of groups") ?? [] {
            guard let group = item.mapping("group", keys: ["id", "name"]) else { continue }
            let idValue = group.required("id")
            let id = idValue.flatMap { value in value.string("an id").flatMap { self.id($0, at: value, of: "group") } }
            let name = group.required("name")?.text()
            guard let id, let idValue else { continue }
            if let line = groupLines[id] {
                idValue.error("group '\(id)' is already declared (line \(line)); group ids must be unique")
                continue
            }
            groupLines[id] = idValue.location.line
            if let name { groups.append(Group(id: id, name: name, source: group.source)) }
        }

        var people: [Person] = []
        var managerValues: [String: Value] = [:]
        var personLines: [String: Int] = [:]
        let peopleValue = fields.required("people")
        for item in peopleValue?.list("a list of people") ?? [] {
            guard let person = item.mapping("person", keys: ["email", "name", "manager", "groups"]) else { continue }
            let emailValue = person.required("email")
            let email = emailValue.flatMap { value in value.string("an email").flatMap { self.email($0, at: value) } }
            let name = person.required("name")?.text()
            var manager: String?
            if let value = person["manager"], let text = value.string("an email") {
                manager = text
                if let email { managerValues[email.lowercased()] = value }
            }
            var memberOf: [String] = []
            if let value = person["groups"], let items = value.strings(.id) {
                for (text, item) in items {
                    if groupLines[text] == nil {
                        item.error("group '\(text)' is not declared under groups in people.yaml" + didYouMean(text, among: groupLines.keys))
                    } else if memberOf.contains(text) {
                        item.error("group '\(text)' is listed twice")
                    } else {
                        memberOf.append(text)
                    }
                }
            }
            guard let email, let emailValue else { continue }
            if let line = personLines[email.lowercased()] {
                emailValue.error("person '\(email)' is already listed (line \(line)); each person appears once")
                continue
            }
            personLines[email.lowercased()] = emailValue.location.line
            if known.isInternal(email) == false, let domains = known.domains {
                emailValue.error("'\(email)' is not in the tenant's domains (\(domains.sorted().joined(separator: ", "))): people.yaml lists internal people only; external users appear when they first sign in")
            }
            if let name {
                people.append(Person(email: email, name: name, manager: manager, groups: memberOf, source: person.source))
            }
        }
        if let peopleValue, peopleValue.isEmptyList {
            peopleValue.error("no people: list at least the tenant's admins and approvers")
        }

        checkManagers(people, managerValues: managerValues, known: Set(personLines.keys))
        return Directory(people: people, groups: groups)
    }

    private func checkManagers(_ people: [Person], managerValues: [String: Value], known emails: Set<String>) {
        var managerOf: [String: String] = [:]
        for person in people {
            let key = person.email.lowercased()
            guard let manager = person.manager, let value = managerValues[key] else { continue }
            guard self.email(manager, at: value) != nil else { continue }
            if manager.lowercased() == key {
                value.error("\(person.email) is their own manager; remove 'manager' or name someone else")
            } else if !emails.contains(manager.lowercased()) {
                value.error("manager '\(manager)' is not in people.yaml" + didYouMeanEmail(manager, among: people.map(\.email)))
            } else {
                managerOf[key] = manager.lowercased()
            }
        }
        // Each loop is reported once, at the first person of the file that is in it.
        var reported: Set<String> = []
        for person in people {
            let start = person.email.lowercased()
            guard !reported.contains(start) else { continue }
            var chain = [start]
            var current = start
            while let next = managerOf[current], chain.count <= people.count {
                if next == start {
                    reported.formUnion(chain)
                    let names = (chain + [start]).map { email in people.first { $0.email.lowercased() == email }?.email ?? email }
                    managerValues[start]?.error("managers form a loop: \(names.joined(separator: " → ")); someone in it must report to someone else")
                    break
                }
                if chain.contains(next) { break }
                chain.append(next)
                current = next
            }
        }
    }
}
