import Foundation
import GatehouseModel
import GatehouseSite
import Testing

@Suite struct SiteFilesTests {
    /// Writes `files` under a new temporary folder and returns its path.
    static func folder(_ files: [String: String]) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-site-\(UUID().uuidString)")
        for (path, text) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        return root.path
    }

    @Test func readsTheModelFilesAndStaticFilesAndSkipsDotfiles() throws {
        let root = try Self.folder([
            "tenant.yaml": "t", "people.yaml": "p", "README.md": "not read",
            "organizations/a.yaml": "o", "organizations/.hidden.yaml": "x",
            "catalogs/c.yaml": "c", "catalogs/typo.yml": "y",
            "packages/p.md": "m", "packages/old/q.md": "q",
            "static/site.css": "css", "static/img/logo.svg": "svg", "static/.DS_Store": "x",
            ".git/config": "x", "notes/a.yaml": "x",
        ])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let files = try SiteFiles.read(directory: root)
        #expect(files.files.keys.sorted() == [
            "catalogs/c.yaml", "catalogs/typo.yml", "organizations/a.yaml", "packages/old/", "packages/p.md",
            "people.yaml", "static/img/logo.svg", "static/site.css", "tenant.yaml",
        ])
        #expect(files.files["static/img/logo.svg"] == Array("svg".utf8))
    }

    @Test func staticFilesReachTheSite() throws {
        var files = Fixture.site()
        files.files["static/css/site.css"] = Array("body{}".utf8)
        files.files["static/logo.png"] = [0x89, 0x50]
        let site = try #require(load(files).site)
        #expect(site.staticFiles == [StaticFile(path: "css/site.css", contents: Array("body{}".utf8)),
                                     StaticFile(path: "logo.png", contents: [0x89, 0x50])])
    }

    @Test func aMissingFolderIsADiagnostic() {
        #expect {
            try SiteFiles.read(directory: "/nonexistent/gatehouse-site")
        } throws: { error in
            (error as? Diagnostic)?.description(inSiteFolder: "/nonexistent/gatehouse-site")
                == "/nonexistent/gatehouse-site: error: site folder not found; it should hold tenant.yaml, people.yaml, catalogs/ and packages/"
        }
    }

    @Test func diagnosticsPrintRelativeToTheSiteFolder() {
        let diagnostic = Diagnostic(at: SourceLocation(file: "packages/x.md", line: 14, column: 7), "message")
        #expect(diagnostic.description(inSiteFolder: "site/") == "site/packages/x.md:14:7: error: message")
        #expect(diagnostic.description(inSiteFolder: ".") == "packages/x.md:14:7: error: message")
        #expect(diagnostic.description(inSiteFolder: "/srv/site") == "/srv/site/packages/x.md:14:7: error: message")
    }

    @Test func todayIsTakenInTheTenantsTimeZone() {
        // 23:30 UTC on 22 November is already 23 November in Paris.
        let now = Date(timeIntervalSince1970: 1_795_390_200)
        #expect(SiteLoader.today(for: Fixture.site(), at: now) == CalendarDay(year: 2026, month: 11, day: 23))
        let utc = Fixture.site(["tenant.yaml": Fixture.edit("tenant.yaml", "Europe/Paris", "UTC")])
        #expect(SiteLoader.today(for: utc, at: now) == CalendarDay(year: 2026, month: 11, day: 22))
        #expect(SiteLoader.today(for: SiteFiles([:]), at: now) == CalendarDay(year: 2026, month: 11, day: 22))
    }

    @Test func packagesAreSortedById() throws {
        let second = Fixture.edit("packages/wiki.md", "name: Wiki readers", "name: Wiki editors")
        let site = try #require(load(Fixture.site(["packages/wiki-editors.md": second])).site)
        #expect(site.packages.map(\.id) == ["wiki", "wiki-editors"])
    }

    @Test func crlfLineEndingsWork() throws {
        let wiki = Fixture.files["packages/wiki.md"]!.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\r\n")
        let result = load(Fixture.site(["packages/wiki.md": wiki]))
        #expect(result.diagnostics == [])
        #expect(result.site?.package("wiki")?.description == "Read the wiki.\r\n")
    }
}
