public import GatehouseModel

/// The person asking, as the rules of PRODUCT.md section 2 see them.
public struct Requestor: Sendable, Hashable {
    public var email: String
    /// Their email domain is one of the tenant's.
    public var isInternal: Bool
    /// An external user already brought in as a guest of the tenant.
    public var isGuest: Bool
    /// Blocked people cannot sign in or request.
    public var isBlocked: Bool
    /// Directory groups (internal people only).
    public var groups: Set<String>
    /// The connected organization matching their email domain (external people only).
    public var organization: Organization?

    public init(
        email: String, isInternal: Bool, isGuest: Bool = false, isBlocked: Bool = false,
        groups: Set<String> = [], organization: Organization? = nil
    ) {
        self.email = email
        self.isInternal = isInternal
        self.isGuest = isGuest
        self.isBlocked = isBlocked
        self.groups = groups
        self.organization = organization
    }

    /// Resolves `email` against the declared model: internal by domain, groups from the
    /// directory, organization by domain. Guest and blocked flags come from the store.
    public init(email: String, in site: Site, isGuest: Bool = false, isBlocked: Bool = false) {
        let isInternal = site.tenant.isInternal(email: email)
        let domain = email.emailDomain
        self.init(
            email: email, isInternal: isInternal, isGuest: isGuest && !isInternal, isBlocked: isBlocked,
            groups: isInternal ? Set(site.directory.person(email)?.groups ?? []) : [],
            organization: isInternal ? nil : site.organizations.first { org in
                org.domains.contains { $0.lowercased() == domain }
            })
    }
}

/// Who may see and request what: scopes, visibility and the most specific policy.
public struct Eligibility: Sendable {
    public let site: Site

    public init(site: Site) { self.site = site }

    /// Whether `scope` includes `requestor`.
    public func scope(_ scope: RequestorScope, includes requestor: Requestor) -> Bool {
        switch scope {
        case .specificPeople(let people, let groups):
            guard requestor.isInternal else { return false }
            let email = requestor.email.lowercased()
            return people.contains { $0.lowercased() == email } || !requestor.groups.isDisjoint(with: groups)
        case .allMembers:
            return requestor.isInternal
        case .allUsers:
            return requestor.isInternal || requestor.isGuest
        case .specificOrganizations(let ids):
            guard !requestor.isInternal, let org = requestor.organization else { return false }
            return ids.contains(org.id)
        case .allConfiguredOrganizations:
            return !requestor.isInternal && requestor.organization?.state == .configured
        case .anyone:
            return !requestor.isInternal
        case .adminOnly:
            return false
        }
    }

    /// Why the package's catalog keeps `requestor` out, if it does.
    public func catalogGate(_ package: AccessPackage, for requestor: Requestor) -> RequestBlock? {
        guard let catalog = site.catalog(package.catalog), catalog.enabled else {
            return .catalogDisabled(package: package.name)
        }
        if !requestor.isInternal && !catalog.externalUsers {
            return .catalogClosedToExternalUsers(package: package.name, catalog: catalog.name)
        }
        return nil
    }

    /// The enabled self-service policies of `package` that include `requestor`, most specific
    /// first; only the most specific level is returned (the person picks among those).
    public func requestPolicies(_ package: AccessPackage, for requestor: Requestor) -> [Policy] {
        guard catalogGate(package, for: requestor) == nil else { return [] }
        let including = package.policies.filter { $0.isSelfService && scope($0.requestors, includes: requestor) }
        guard let best = including.map(\.requestors.specificity).min() else { return [] }
        return including.filter { $0.requestors.specificity == best }
    }

    /// Listed in the portal for `requestor`: not hidden, and at least one policy offers it.
    public func isListed(_ package: AccessPackage, for requestor: Requestor) -> Bool {
        !package.hidden && !requestPolicies(package, for: requestor).isEmpty
    }

    /// The packages the portal home lists for `requestor`, in model order.
    public func listedPackages(for requestor: Requestor) -> [AccessPackage] {
        site.packages.filter { isListed($0, for: requestor) }
    }

    /// Everything that keeps `requestor` from asking for `package` through `policyID` right now.
    ///
    /// - Parameters:
    ///   - held: ids of the packages the person holds (active assignments).
    ///   - open: ids of the packages the person has an open request for.
    /// - Returns: the blocks in the order a person should fix them; empty when the request may go ahead.
    public func blocks(
        requesting package: AccessPackage, through policyID: String, by requestor: Requestor,
        holding held: Set<String>, openRequests open: Set<String>
    ) -> [RequestBlock] {
        if requestor.isBlocked { return [.blocked] }
        if let gate = catalogGate(package, for: requestor) { return [gate] }
        guard let policy = package.policy(policyID) else {
            return [.unknownPolicy(package: package.name)]
        }
        guard policy.isSelfService else { return [.policyClosed(package: package.name, policy: policy.name)] }
        guard scope(policy.requestors, includes: requestor) else {
            let others = requestPolicies(package, for: requestor)
            return [.notInScope(policy: policy.name, description: describe(policy.requestors), alternatives: others.map(\.name))]
        }
        var blocks: [RequestBlock] = []
        if open.contains(package.id) { blocks.append(.openRequest(package: package.name)) }
        if held.contains(package.id) { blocks.append(.alreadyAssigned(package: package.name)) }
        for id in package.incompatible.packages where held.contains(id) {
            blocks.append(.incompatiblePackage(package: package.name, holding: site.package(id)?.name ?? id))
        }
        for id in package.incompatible.groups where requestor.groups.contains(id) {
            blocks.append(.incompatibleGroup(package: package.name, group: site.directory.group(id)?.name ?? id))
        }
        return blocks
    }

    /// Who a scope admits, in words a requestor understands.
    public func describe(_ scope: RequestorScope) -> String {
        switch scope {
        case .specificPeople(let people, let groups):
            let names = people.map { site.directory.person($0)?.name ?? $0 }
                + groups.map { "members of \(site.directory.group($0)?.name ?? $0)" }
            return names.isEmpty ? "nobody yet" : Self.list(names)
        case .allMembers: return "members of \(site.tenant.name)"
        case .allUsers: return "members and guests of \(site.tenant.name)"
        case .specificOrganizations(let ids):
            return "people of " + Self.list(ids.map { site.organization($0)?.name ?? $0 })
        case .allConfiguredOrganizations: return "people of \(site.tenant.name)'s connected organizations"
        case .anyone: return "anyone with an email address outside \(site.tenant.name)"
        case .adminOnly: return "people assigned by an administrator"
        }
    }

    static func list(_ items: [String]) -> String {
        switch items.count {
        case 0: ""
        case 1: items[0]
        default: items.dropLast().joined(separator: ", ") + " and " + items[items.count - 1]
        }
    }
}

/// A rule that stops a request, with a message that says which rule and what to do.
public enum RequestBlock: Sendable, Hashable, CustomStringConvertible {
    case blocked
    case catalogDisabled(package: String)
    case catalogClosedToExternalUsers(package: String, catalog: String)
    case unknownPolicy(package: String)
    case policyClosed(package: String, policy: String)
    case notInScope(policy: String, description: String, alternatives: [String])
    case openRequest(package: String)
    case alreadyAssigned(package: String)
    case incompatiblePackage(package: String, holding: String)
    case incompatibleGroup(package: String, group: String)

    public var description: String {
        switch self {
        case .blocked:
            "Your account is blocked from requesting access. Contact the administrators of this portal."
        case .catalogDisabled(let package):
            "\(package) cannot be requested at the moment: its catalog is turned off."
        case .catalogClosedToExternalUsers(let package, let catalog):
            "\(package) is in the \(catalog) catalog, which is open to members of the organization only."
        case .unknownPolicy(let package):
            "This way of requesting \(package) no longer exists. Open the package page again and pick one of its request options."
        case .policyClosed(let package, let policy):
            "The request option “\(policy)” of \(package) does not accept requests at the moment."
        case .notInScope(let policy, let description, let alternatives):
            "The request option “\(policy)” is for \(description), and you are not one of them."
                + (alternatives.isEmpty
                    ? " No other request option of this package includes you; ask the package's owners if you need it."
                    : " Use “\(alternatives.joined(separator: "” or “"))” instead.")
        case .openRequest(let package):
            "You already have an open request for \(package). Wait for its decision or cancel it from your request history."
        case .alreadyAssigned(let package):
            "You already have \(package). Extend it from My access instead of requesting it again."
        case .incompatiblePackage(let package, let holding):
            "\(package) cannot be held together with \(holding), which you have (separation of duties). Remove \(holding) first or ask an administrator."
        case .incompatibleGroup(let package, let group):
            "Members of \(group) cannot hold \(package) (separation of duties)."
        }
    }
}
