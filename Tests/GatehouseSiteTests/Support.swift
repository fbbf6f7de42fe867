import Foundation
import GatehouseModel
import GatehouseSite

/// The "today" of every test, as in the example site's acceptance criteria.
let today = CalendarDay(year: 2026, month: 11, day: 23)!

/// A minimal valid site, as files. Tests replace or remove one file and look at the diagnostics.
enum Fixture {
    static let files: [String: String] = [
        "tenant.yaml": """
            name: Test Lab
            domains: [contoso.example]
            baseURL: https://access.contoso.example
            timeZone: Europe/Paris
            languages: [en, fr]
            admins: [megan@contoso.example]

            """,
        "people.yaml": """
            people:
              - email: megan@contoso.example
                name: Megan Bowen
                groups: [admins]
              - email: adele@contoso.example
                name: Adele Vance
                manager: megan@contoso.example
                groups: [approvers]
            groups:
              - {id: admins, name: Administrators}
              - {id: approvers, name: Approvers}

            """,
        "organizations/azureblog.yaml": """
            name: Azureblog
            domains: [azureblog.example]
            internalSponsors: [adele@contoso.example]
            externalSponsors: [alex@azureblog.example]

            """,
        "catalogs/general.yaml": """
            name: General
            externalUsers: false
            resources:
              - {id: wiki, type: site, name: Wiki}
              - {id: portal, type: application, name: Portal, roles: [Reader, Contributor]}
            roles:
              owners: [megan@contoso.example]

            """,
        "catalogs/external.yaml": """
            name: External
            resources:
              - {id: team, type: group, name: Team}

            """,
        "packages/wiki.md": """
            ---
            name: Wiki readers
            catalog: general
            resources:
              - {resource: wiki, role: Read}
            policies:
              - id: members
                name: Members
                requestors: {scope: allMembers}
                approval: none
            ---
            Read the wiki.

            """,
    ]

    /// The fixture's `path` with `old` replaced by `new`; stops the tests when `old` is not there.
    static func edit(_ path: String, _ old: String, _ new: String) -> String {
        let text = files[path]!
        precondition(text.contains(old), "\(path) has no '\(old)'")
        return text.replacingOccurrences(of: old, with: new)
    }

    /// The fixture with `overrides` applied; a nil text removes the file.
    static func site(_ overrides: [String: String?] = [:]) -> SiteFiles {
        var texts = files
        for (path, text) in overrides { texts[path] = text }
        return SiteFiles(texts: texts)
    }
}

func load(_ files: SiteFiles) -> SiteLoadResult {
    SiteLoader(today: today).load(files)
}

/// The diagnostics of the fixture with `overrides`, as printed.
func problems(_ overrides: [String: String?] = [:]) -> [String] {
    load(Fixture.site(overrides)).diagnostics.map(\.description)
}

/// The diagnostics when `frontMatter` is the YAML of a new `packages/p.md`; its line k is line k + 1 of the file.
func problems(package frontMatter: String, body: String = "Body.\n") -> [String] {
    problems(["packages/p.md": "---\n" + frontMatter + "\n---\n" + body])
}

/// The diagnostics when `policy` (written without indentation) is the only policy of a new `packages/p.md`
/// in `catalog`. Line k, column c of `policy` is line k + 5, column c + 4 of the file.
func problems(policy: String, catalog: String = "general") -> [String] {
    let lines = policy.split(separator: "\n", omittingEmptySubsequences: false)
    let indented = lines.enumerated().map { index, line in (index == 0 ? "  - " : "    ") + line }
    return problems(package: """
        name: P
        catalog: \(catalog)
        resources: []
        policies:
        \(indented.joined(separator: "\n"))
        """)
}
