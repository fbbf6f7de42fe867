import GatehouseModel

extension Context {
    static let organizationKeys = ["name", "description", "domains", "internalSponsors", "externalSponsors", "state"]

    /// `domainOwners` maps each domain claimed so far to its organization, so two organizations cannot claim one.
    func decodeOrganization(id: String, _ root: Value, domainOwners: inout [String: String]) -> Organization? {
        guard let fields = root.mapping("organization", keys: Self.organizationKeys,
                                        expected: "a mapping with name, domains and sponsors") else { return nil }
        let name = fields.required("name")?.text()
        let description = fields["description"]?.string() ?? ""

        var domains: [String] = []
        if let value = fields.required("domains"), let items = value.strings(.domain) {
            if items.isEmpty { value.error("no domains: list the email domains of this organization's people") }
            for (text, item) in items {
                let domain = text.lowercased()
                if !Names.isValidDomain(domain) {
                    item.error("'\(text)' is not an email domain (like fabrikam.example)")
                } else if domains.contains(domain) {
                    item.error("domain '\(text)' is listed twice")
                } else if known.domains?.contains(domain) == true {
                    item.error("domain '\(text)' is one of the tenant's own domains; connected organizations are for external users")
                } else if let owner = domainOwners[domain], owner != id {
                    item.error("domain '\(text)' already belongs to organization '\(owner)'; a domain belongs to one organization")
                } else {
                    domains.append(domain)
                    domainOwners[domain] = id
                }
            }
        }

        let internalSponsors = people(fields["internalSponsors"], as: "internal sponsor")
        var externalSponsors: [String] = []
        if let value = fields["externalSponsors"], let items = value.strings(.email) {
            for (text, item) in items {
                guard email(text, at: item) != nil else { continue }
                if known.isInternal(text) == true {
                    item.error("external sponsor '\(text)' is one of the tenant's own people; list them under internalSponsors")
                } else if let domain = text.emailDomain, !domains.isEmpty, !domains.contains(domain) {
                    item.error("external sponsor '\(text)' is not from this organization's domains (\(domains.joined(separator: ", ")))")
                } else if externalSponsors.contains(where: { $0.lowercased() == text.lowercased() }) {
                    item.error("external sponsor '\(text)' is listed twice")
                } else {
                    externalSponsors.append(text)
                }
            }
        }
        let state = fields["state"].map { $0.oneOf(Organization.State.self, "organization state") } ?? .configured

        guard let name, let state else { return nil }
        return Organization(id: id, name: name, description: description, domains: domains, internalSponsors: internalSponsors,
                            externalSponsors: externalSponsors, state: state, source: fields.source)
    }

    static let catalogKeys = ["name", "description", "enabled", "externalUsers", "resources", "roles"]
    static let resourceKeys = ["id", "type", "name", "roles", "connector"]
    static let catalogRoleKeys = ["owners", "packageManagers", "assignmentManagers", "readers"]

    /// `resourceOwners` maps each resource id declared so far to its catalog and position.
    func decodeCatalog(id: String, _ root: Value, resourceOwners: inout [String: (catalog: String, at: SourceLocation)]) -> Catalog? {
        guard let fields = root.mapping("catalog", keys: Self.catalogKeys,
                                        expected: "a mapping with name, resources and roles") else { return nil }
        let name = fields.required("name")?.text()
        let description = fields["description"]?.string() ?? ""
        let enabled = fields["enabled"]?.bool() ?? true
        let externalUsers = fields["externalUsers"]?.bool() ?? true

        var resources: [Resource] = []
        for item in fields["resources"]?.list("a list of resources") ?? [] {
            guard let resource = item.mapping("resource", keys: Self.resourceKeys) else { continue }
            let idValue = resource.required("id")
            let resourceID = idValue.flatMap { value in value.string("an id").flatMap { self.id($0, at: value, of: "resource") } }
            let kind = resource.required("type")?.oneOf(Resource.Kind.self, "resource type")
            let resourceName = resource.required("name")?.text()
            var roles: [String]?
            if let value = resource["roles"], let items = value.strings(.role) {
                roles = []
                for (text, item) in items {
                    if text.allSatisfy(\.isWhitespace) {
                        item.error("a role name is empty")
                    } else if roles!.contains(text) {
                        item.error("role '\(text)' is listed twice")
                    } else if kind == .group, !Resource.defaultRoles(for: .group).contains(text) {
                        item.error("a group has the roles Member and Owner, not '\(text)'" + didYouMean(text, among: Resource.defaultRoles(for: .group)))
                    } else {
                        roles!.append(text)
                    }
                }
                if items.isEmpty {
                    value.error("no roles: list the resource's roles, or remove 'roles' to use the defaults of its type")
                }
            }
            let connector = resource["connector"]?.text("a path to an executable")
            guard let resourceID, let idValue else { continue }
            if let owner = resourceOwners[resourceID] {
                if owner.catalog == id {
                    idValue.error("resource '\(resourceID)' is already declared in this catalog (line \(owner.at.line)); resource ids must be unique")
                    continue
                }
                // Kept in this catalog so its packages are not also reported.
                idValue.error("resource '\(resourceID)' is already declared in catalog '\(owner.catalog)' (\(owner.at)); a resource belongs to one catalog")
            } else {
                resourceOwners[resourceID] = (id, idValue.location)
            }
            guard let kind, let resourceName else { continue }
            resources.append(Resource(id: resourceID, kind: kind, name: resourceName,
                                      roles: roles ?? Resource.defaultRoles(for: kind), connector: connector, source: resource.source))
        }

        var roles = CatalogRoles()
        if let value = fields["roles"], let holders = value.mapping("catalog roles", keys: Self.catalogRoleKeys) {
            roles.owners = people(holders["owners"], as: "catalog owner")
            roles.packageManagers = people(holders["packageManagers"], as: "package manager")
            roles.assignmentManagers = people(holders["assignmentManagers"], as: "assignment manager")
            roles.readers = people(holders["readers"], as: "catalog reader")
        }

        guard let name else { return nil }
        return Catalog(id: id, name: name, description: description, enabled: enabled, externalUsers: externalUsers,
                       resources: resources, roles: roles, source: fields.source)
    }
}
