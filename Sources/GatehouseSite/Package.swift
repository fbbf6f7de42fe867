import GatehouseModel

extension Context {
    static let packageKeys = ["name", "catalog", "hidden", "resources", "incompatible", "policies"]

    func decodePackage(id: String, _ root: Value, description: String) -> AccessPackage? {
        guard let fields = root.mapping("package", keys: Self.packageKeys,
                                        expected: "a mapping with name, catalog, resources and policies") else { return nil }
        let name = fields.required("name")?.text()
        let hidden = fields["hidden"]?.bool() ?? false

        var catalogID: String?
        var catalog: Catalog?
        if let value = fields.required("catalog"), let text = value.string("a catalog id") {
            catalogID = text
            if self.catalog(text, at: value) { catalog = known.catalogs[text] }
        }

        var resources: [ResourceRoleRef] = []
        for item in fields["resources"]?.list("a list of resource roles like {resource: id, role: Member}") ?? [] {
            guard let ref = item.mapping("resource role", keys: ["resource", "role"],
                                         expected: "a resource role like {resource: id, role: Member}") else { continue }
            let resourceValue = ref.required("resource")
            let resource = resourceValue?.string("a resource id")
            let roleValue = ref.required("role")
            let role = roleValue?.string("a role name")
            guard let resource, let resourceValue, let role, let roleValue else { continue }
            if let catalog, let catalogID {
                checkResourceRole(resource, role, in: catalog, catalogID, resourceValue: resourceValue, roleValue: roleValue)
            }
            if let earlier = resources.first(where: { $0.resource == resource && $0.role == role }) {
                item.error("resource role '\(resource)' / '\(role)' is already granted (line \(earlier.source.start.line))")
                continue
            }
            resources.append(ResourceRoleRef(resource: resource, role: role, source: ref.source))
        }

        var incompatible = Incompatibility()
        if let value = fields["incompatible"], let lists = value.mapping("incompatible", keys: ["packages", "groups"]) {
            for (text, item) in lists["packages"]?.strings(.id) ?? [] {
                if text == id {
                    item.error("a package cannot be incompatible with itself; remove '\(text)'")
                } else if incompatible.packages.contains(text) {
                    item.error("incompatible package '\(text)' is listed twice")
                } else {
                    package(text, at: item, as: "incompatible package")
                    incompatible.packages.append(text)
                }
            }
            incompatible.groups = groups(lists["groups"], as: "incompatible group")
            incompatible.source = lists.source
        }

        var policies: [Policy] = []
        let noPolicy = "package has no policy; add at least one under 'policies' so people can request it"
        if !fields.has("policies") {
            if !fields.isMisspelled("policies") { fields.error(noPolicy) }
        } else if let value = fields.required("policies"), let items = value.list("a list of policies") {
            if items.isEmpty { value.error(noPolicy) }
            var lines: [String: Int] = [:]
            for item in items {
                guard let decoded = decodePolicy(item, catalog: catalog, catalogID: catalogID) else { continue }
                if let line = lines[decoded.id] {
                    decoded.idValue.error("policy '\(decoded.id)' is already declared in this package (line \(line)); policy ids must be unique")
                    continue
                }
                lines[decoded.id] = decoded.idValue.location.line
                if let policy = decoded.policy { policies.append(policy) }
            }
        }

        guard let name, let catalogID else { return nil }
        return AccessPackage(id: id, name: name, catalog: catalogID, hidden: hidden, description: description,
                             resources: resources, incompatible: incompatible, policies: policies, source: fields.source)
    }

    private func checkResourceRole(_ resource: String, _ role: String, in catalog: Catalog, _ catalogID: String,
                                   resourceValue: Value, roleValue: Value) {
        if let declared = catalog.resource(resource) {
            guard !declared.roles.contains(role) else { return }
            let hint = didYouMean(role, among: declared.roles)
            roleValue.error("resource '\(resource)' has no role '\(role)'"
                            + (hint.isEmpty ? " (its roles: \(declared.roles.joined(separator: ", ")))" : hint))
        } else if let other = known.resourceCatalogs[resource] {
            resourceValue.error("resource '\(resource)' is in catalog '\(other)', not in this package's catalog '\(catalogID)'")
        } else {
            resourceValue.error("resource '\(resource)' is not in catalog '\(catalogID)'" + didYouMean(resource, among: catalog.resources.map(\.id)))
        }
    }
}
