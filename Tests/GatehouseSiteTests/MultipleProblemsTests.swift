import Foundation
import GatehouseModel
import GatehouseSite
import Testing

@Suite struct MultipleProblemsTests {
    @Test func everyProblemOfEveryFileIsReportedInOneRunSorted() {
        let tenant = Fixture.edit("tenant.yaml", "timeZone: Europe/Paris", "timeZone: Europe/Pariss")
        let catalog = Fixture.edit("catalogs/general.yaml", "owners: [megan", "owners: [megann")
        let wiki = Fixture.edit("packages/wiki.md", "role: Read}", "role: Reed}")
            .replacingOccurrences(of: "catalog: general", with: "catalog: general\nhiden: true")
        let result = load(Fixture.site(["tenant.yaml": tenant, "catalogs/general.yaml": catalog, "packages/wiki.md": wiki]))
        #expect(result.site == nil)
        #expect(result.errorCount == 4)
        #expect(result.diagnostics.map(\.description) == [
            "catalogs/general.yaml:7:12: error: catalog owner 'megann@contoso.example' is not in people.yaml (did you mean 'megan@contoso.example'?)",
            "packages/wiki.md:4:1: error: unknown key 'hiden' in package (did you mean 'hidden'?)",
            "packages/wiki.md:6:28: error: resource 'wiki' has no role 'Reed' (did you mean 'Read'?)",
            "tenant.yaml:4:11: error: unknown time zone 'Europe/Pariss' (did you mean 'Europe/Paris'?)",
        ])
    }
}
