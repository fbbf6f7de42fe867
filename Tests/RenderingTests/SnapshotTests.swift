import Foundation
import GatehouseModel
import GatehouseSite
import Rendering
import SiteGenerator
import Testing

/// Whole pages of the example tenant (site/), compared with committed files in Snapshots/.
/// After an intended change: `GATEHOUSE_RECORD_SNAPSHOTS=1 swift test --filter SnapshotTests`.
/// The stylesheet's content hash is masked, so a CSS change does not touch every snapshot
/// (`stylesheetURLChangesWithItsContent` covers it).
struct SnapshotTests {
    let output: SiteOutput

    init() throws {
        let files = try SiteFiles.read(directory: Repository.site.path)
        let rendered = try Generator.render(files, theme: Repository.theme, today: fixedToday)
        let version = try PortalRenderer(site: try Fixture.site(), theme: Repository.theme).stylesheetURL
        output = SiteOutput(files: rendered.files.mapValues { bytes in
            Array(String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: version, with: Paths.stylesheet + "?v=HASH").utf8)
        })
    }

    @Test func packagePage() throws {
        try assertSnapshot(try #require(output.text("access-packages/finance-reports/index.html")), named: "finance-reports.html")
    }

    @Test func requestFormInFrench() throws {
        try assertSnapshot(
            try #require(output.text("access-packages/finance-reports/request-finance-team.fr.html")),
            named: "finance-reports-request-fr.html")
    }

    @Test func homePage() throws {
        try assertSnapshot(try #require(output.text("access-packages/index.html")), named: "home.html")
    }
}
