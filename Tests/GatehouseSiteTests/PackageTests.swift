import GatehouseModel
import GatehouseSite
import Testing

/// Package-level rules: catalog, resources, incompatibilities, policies, names.
@Suite struct PackageTests {
    static let policy = "policies: [{id: p, name: P, requestors: {scope: allMembers}, approval: none}]"

    @Test func theCatalogMustExist() {
        #expect(problems(package: "name: P\ncatalog: generl\n" + Self.policy) == [
            "packages/p.md:3:10: error: catalog 'generl' does not exist: there is no catalogs/generl.yaml (did you mean 'general'?)",
        ])
    }

    @Test func aResourceOfAnotherCatalog() {
        #expect(problems(package: "name: P\ncatalog: general\nresources:\n  - {resource: team, role: Member}\n" + Self.policy) == [
            "packages/p.md:5:16: error: resource 'team' is in catalog 'external', not in this package's catalog 'general'",
        ])
    }

    @Test func anUnknownResource() {
        #expect(problems(package: "name: P\ncatalog: general\nresources:\n  - {resource: wikki, role: Read}\n" + Self.policy) == [
            "packages/p.md:5:16: error: resource 'wikki' is not in catalog 'general' (did you mean 'wiki'?)",
        ])
    }

    @Test func anUnknownRoleOfTheResource() {
        #expect(problems(package: "name: P\ncatalog: general\nresources:\n  - {resource: portal, role: Admin}\n" + Self.policy) == [
            "packages/p.md:5:30: error: resource 'portal' has no role 'Admin' (its roles: Reader, Contributor)",
        ])
        #expect(problems(package: "name: P\ncatalog: general\nresources:\n  - {resource: portal, role: reader}\n" + Self.policy) == [
            "packages/p.md:5:30: error: resource 'portal' has no role 'reader' (did you mean 'Reader'?)",
        ])
    }

    @Test func aResourceRoleIsGrantedOnce() {
        #expect(problems(package: """
            name: P
            catalog: general
            resources:
              - {resource: wiki, role: Read}
              - {resource: wiki, role: Read}
            \(Self.policy)
            """) == [
            "packages/p.md:6:5: error: resource role 'wiki' / 'Read' is already granted (line 5)",
        ])
    }

    @Test func incompatiblePackagesAndGroupsMustExist() {
        #expect(problems(package: "name: P\ncatalog: general\nincompatible: {packages: [wikki, p], groups: [admin]}\n" + Self.policy) == [
            "packages/p.md:4:27: error: incompatible package 'wikki' does not exist: there is no packages/wikki.md (did you mean 'wiki'?)",
            "packages/p.md:4:34: error: a package cannot be incompatible with itself; remove 'p'",
            "packages/p.md:4:47: error: incompatible group 'admin' is not declared under groups in people.yaml (did you mean 'admins'?)",
        ])
    }

    @Test func aPackageWithoutPolicy() {
        #expect(problems(package: "name: P\ncatalog: general") == [
            "packages/p.md:2:1: error: package has no policy; add at least one under 'policies' so people can request it",
        ])
        #expect(problems(package: "name: P\ncatalog: general\npolicies: []") == [
            "packages/p.md:4:11: error: package has no policy; add at least one under 'policies' so people can request it",
        ])
    }

    @Test func twoPackagesOfACatalogCannotHaveTheSameName() {
        #expect(problems(package: "name: Wiki readers\ncatalog: general\n" + Self.policy) == [
            "packages/wiki.md:2:7: error: package name 'Wiki readers' is already used by packages/p.md in catalog 'general'; give each package a distinct name",
        ])
        // In another catalog the name is fine.
        #expect(problems(package: "name: Wiki readers\ncatalog: external\n" + Self.policy) == [])
    }

    @Test func policyIdsAreUniqueInAPackage() {
        #expect(problems(package: """
            name: P
            catalog: general
            policies:
              - {id: a, name: A, requestors: {scope: allMembers}, approval: none}
              - {id: a, name: B, requestors: {scope: allUsers}, approval: none}
            """) == [
            "packages/p.md:6:10: error: policy 'a' is already declared in this package (line 5); policy ids must be unique",
        ])
    }

    @Test func defaultsAndTheBody() throws {
        let files = Fixture.site(["packages/p.md": """
            ---
            name: P
            catalog: general
            policies:
              - id: p
                name: P
                requestors: {scope: allMembers}
                approval:
                  stages:
                    - approvers: [{person: adele@contoso.example}]
                questions:
                  - {id: q, type: shortText, text: Why?}
            ---
            # Title

            Body.

            """])
        let result = load(files)
        #expect(result.diagnostics == [])
        let package = try #require(result.site?.package("p"))
        #expect(package.description == "# Title\n\nBody.\n")
        #expect(package.hidden == false)
        #expect(package.resources == [])
        let policy = try #require(package.policies.first)
        #expect(policy.enabled)
        #expect(policy.justification == .optional)
        #expect(policy.notifications.requestor)
        #expect(policy.lifecycle.expiration == .never)
        #expect(policy.lifecycle.review == nil)
        #expect(policy.approvalStages[0].timeoutDays == 14)
        #expect(policy.approvalStages[0].justificationRequired == false)
        #expect(policy.approvalStages[0].escalation == nil)
        #expect(policy.questions[0].required == false)
        #expect(policy.questions[0].text == LocalizedText("Why?", source: policy.questions[0].text.source))
        #expect(policy.questions[0].source["text"] == SourceLocation(file: "packages/p.md", line: 12, column: 40))
    }
}
