/// The whole declared model of one tenant, as loaded from `site/`.
public struct Site: Sendable, Hashable {
    public var tenant: Tenant
    public var directory: Directory
    /// Sorted by id.
    public var organizations: [Organization]
    /// Sorted by id.
    public var catalogs: [Catalog]
    /// Sorted by id.
    public var packages: [AccessPackage] { didSet { packageIndex = Self.index(packages) } }
    /// Files copied as they are (CSS, images), relative to `site/static/`.
    public var staticFiles: [StaticFile]
    /// Position of each package by id: pages and the handler look packages up per request.
    private var packageIndex: [String: Int]

    public init(
        tenant: Tenant, directory: Directory, organizations: [Organization], catalogs: [Catalog],
        packages: [AccessPackage], staticFiles: [StaticFile] = []
    ) {
        self.tenant = tenant
        self.directory = directory
        self.organizations = organizations
        self.catalogs = catalogs
        self.packages = packages
        self.staticFiles = staticFiles
        packageIndex = Self.index(packages)
    }

    public func catalog(_ id: String) -> Catalog? { catalogs.first { $0.id == id } }
    public func package(_ id: String) -> AccessPackage? { packageIndex[id].map { packages[$0] } }

    private static func index(_ packages: [AccessPackage]) -> [String: Int] {
        Dictionary(packages.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
    }
    public func organization(_ id: String) -> Organization? { organizations.first { $0.id == id } }
}

public struct StaticFile: Sendable, Hashable {
    /// Path below `static/`, with `/` separators.
    public var path: String
    public var contents: [UInt8]

    public init(path: String, contents: [UInt8]) {
        self.path = path
        self.contents = contents
    }
}

/// Text with a default and translations by language code (`{default: "…", fr: "…"}`).
public struct LocalizedText: Sendable, Hashable {
    public var defaultText: String
    /// Language code -> text.
    public var translations: [String: String]
    public var source: SourceMap

    public init(_ defaultText: String, translations: [String: String] = [:], source: SourceMap = .generated()) {
        self.defaultText = defaultText
        self.translations = translations
        self.source = source
    }

    /// The text in `language` when translated, otherwise the default.
    public func text(in language: String?) -> String {
        guard let language, let translated = translations[language] else { return defaultText }
        return translated
    }
}

// MARK: - Tenant

public struct Tenant: Sendable, Hashable {
    public var name: String
    /// The tenant's own email domains: people with these are internal, everyone else external.
    public var domains: [String]
    /// Absolute, without a trailing slash (`https://access.contoso.example`).
    public var baseURL: String
    /// IANA zone name (`Europe/Paris`).
    public var timeZone: String
    /// Language codes; the first is the default language of pages.
    public var languages: [String]
    /// Emails of tenant admins.
    public var admins: [String]
    public var externalUsers: ExternalUserSettings
    /// Markdown shown to external users at their first sign-in.
    public var termsOfUse: String
    public var source: SourceMap

    public init(
        name: String, domains: [String], baseURL: String, timeZone: String, languages: [String],
        admins: [String], externalUsers: ExternalUserSettings, termsOfUse: String,
        source: SourceMap = .generated()
    ) {
        self.name = name
        self.domains = domains
        self.baseURL = baseURL
        self.timeZone = timeZone
        self.languages = languages
        self.admins = admins
        self.externalUsers = externalUsers
        self.termsOfUse = termsOfUse
        self.source = source
    }

    public var defaultLanguage: String { languages.first ?? "en" }

    /// Whether `email` belongs to one of the tenant's own domains.
    public func isInternal(email: String) -> Bool {
        guard let domain = email.emailDomain else { return false }
        return domains.contains { $0.lowercased() == domain }
    }
}

public struct ExternalUserSettings: Sendable, Hashable {
    /// Block sign-in when a governed guest loses their last assignment.
    public var blockSignIn: Bool
    /// Remove the guest this many days after the last assignment ended; nil = never.
    public var removeAfterDays: Int?

    public init(blockSignIn: Bool = false, removeAfterDays: Int? = nil) {
        self.blockSignIn = blockSignIn
        self.removeAfterDays = removeAfterDays
    }
}

// MARK: - Directory

public struct Directory: Sendable, Hashable {
    /// In file order.
    public var people: [Person] { didSet { (byEmail, byGroup) = Self.index(people) } }
    public var groups: [Group]
    /// Lowercased email -> position in `people` (the first, if listed twice).
    private var byEmail: [String: Int]
    /// Group id -> positions of its members, in file order.
    private var byGroup: [String: [Int]]

    public init(people: [Person], groups: [Group]) {
        self.people = people
        self.groups = groups
        (byEmail, byGroup) = Self.index(people)
    }

    public func person(_ email: String) -> Person? {
        byEmail[email.lowercased()].map { people[$0] }
    }

    public func group(_ id: String) -> Group? { groups.first { $0.id == id } }

    public func members(of group: String) -> [Person] { (byGroup[group] ?? []).map { people[$0] } }

    private static func index(_ people: [Person]) -> ([String: Int], [String: [Int]]) {
        var byEmail: [String: Int] = [:], byGroup: [String: [Int]] = [:]
        for (position, person) in people.enumerated() {
            let key = person.email.lowercased()
            if byEmail[key] == nil { byEmail[key] = position }
            for group in Set(person.groups) { byGroup[group, default: []].append(position) }
        }
        return (byEmail, byGroup)
    }
}

public struct Person: Sendable, Hashable {
    public var email: String
    public var name: String
    /// The manager's email.
    public var manager: String?
    /// Group ids.
    public var groups: [String]
    public var source: SourceMap

    public init(email: String, name: String, manager: String? = nil, groups: [String] = [], source: SourceMap = .generated()) {
        self.email = email
        self.name = name
        self.manager = manager
        self.groups = groups
        self.source = source
    }
}

public struct Group: Sendable, Hashable {
    public var id: String
    public var name: String
    public var source: SourceMap

    public init(id: String, name: String, source: SourceMap = .generated()) {
        self.id = id
        self.name = name
        self.source = source
    }
}

// MARK: - Connected organizations

public struct Organization: Sendable, Hashable {
    public enum State: String, Sendable, Hashable, CaseIterable { case configured, proposed }

    public var id: String
    public var name: String
    public var description: String
    public var domains: [String]
    /// Emails of our people.
    public var internalSponsors: [String]
    /// Emails of their people.
    public var externalSponsors: [String]
    public var state: State
    public var source: SourceMap

    public init(
        id: String, name: String, description: String = "", domains: [String],
        internalSponsors: [String] = [], externalSponsors: [String] = [], state: State = .configured,
        source: SourceMap = .generated()
    ) {
        self.id = id
        self.name = name
        self.description = description
        self.domains = domains
        self.internalSponsors = internalSponsors
        self.externalSponsors = externalSponsors
        self.state = state
        self.source = source
    }
}

// MARK: - Catalogs and resources

public struct Catalog: Sendable, Hashable {
    public var id: String
    public var name: String
    public var description: String
    /// When off, nothing in the catalog is visible or requestable.
    public var enabled: Bool
    /// Must be on for any external user to request a package in this catalog.
    public var externalUsers: Bool
    public var resources: [Resource]
    public var roles: CatalogRoles
    public var source: SourceMap

    public init(
        id: String, name: String, description: String = "", enabled: Bool = true, externalUsers: Bool = true,
        resources: [Resource] = [], roles: CatalogRoles = CatalogRoles(), source: SourceMap = .generated()
    ) {
        self.id = id
        self.name = name
        self.description = description
        self.enabled = enabled
        self.externalUsers = externalUsers
        self.resources = resources
        self.roles = roles
        self.source = source
    }

    public func resource(_ id: String) -> Resource? { resources.first { $0.id == id } }
}

/// Emails of the people holding each catalog role.
public struct CatalogRoles: Sendable, Hashable {
    public var owners: [String]
    public var packageManagers: [String]
    public var assignmentManagers: [String]
    public var readers: [String]

    public init(owners: [String] = [], packageManagers: [String] = [], assignmentManagers: [String] = [], readers: [String] = []) {
        self.owners = owners
        self.packageManagers = packageManagers
        self.assignmentManagers = assignmentManagers
        self.readers = readers
    }
}

public struct Resource: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable { case group, application, site }

    public var id: String
    public var kind: Kind
    public var name: String
    /// Role names; a group has Member and Owner, an application without app roles "Default Access".
    public var roles: [String]
    /// Path of an executable that receives grant and revoke events, relative to the site folder.
    public var connector: String?
    public var source: SourceMap

    public init(id: String, kind: Kind, name: String, roles: [String], connector: String? = nil, source: SourceMap = .generated()) {
        self.id = id
        self.kind = kind
        self.name = name
        self.roles = roles
        self.connector = connector
        self.source = source
    }

    /// The roles a resource of `kind` has when the model names none.
    public static func defaultRoles(for kind: Kind) -> [String] {
        switch kind {
        case .group: ["Member", "Owner"]
        case .application: ["Default Access"]
        case .site: ["Read", "Edit", "Full control"]
        }
    }
}

extension String {
    /// The lowercased part after the last `@`, or nil when there is none.
    public var emailDomain: String? {
        guard let at = lastIndex(of: "@"), index(after: at) < endIndex else { return nil }
        return String(self[index(after: at)...]).lowercased()
    }
}
