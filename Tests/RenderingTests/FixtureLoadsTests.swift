import GatehouseModel
import Testing

@Test func fixtureSiteIsValid() throws {
    let site = try Fixture.site()
    #expect(site.packages.map(\.id) == ["clerk-tools", "legacy", "open", "secret"])
}
