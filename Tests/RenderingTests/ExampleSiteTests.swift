import Foundation
import GatehouseModel
import GatehouseSite
import Rendering
import SiteGenerator
import Testing

/// The example tenant in site/, through the real loader and templates, onto disk.
struct ExampleSiteTests {
    @Test func buildsTheExampleTenant() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let options = BuildOptions(
            siteDirectory: Repository.site, templatesDirectory: Repository.templates,
            outputDirectory: folder.appendingPathComponent("public"), today: fixedToday)
        let reports = ProgressLog()
        let summary = try Generator.build(options, progress: { reports.append($0) })
        #expect(summary.warnings.isEmpty)
        #expect(summary.written == summary.files && summary.unchanged == 0 && summary.removed == 0)
        #expect(reports.last == BuildProgress(done: 4, total: 4))

        let files = try snapshotFolder(options.outputDirectory)
        let html = { (path: String) in String(decoding: files[path] ?? [], as: UTF8.self) }
        #expect(files.count == summary.files + 1, "the pages and the manifest")

        let home = html("access-packages/index.html")
        for listed in ["Internal_AccessPackage", "External_AccessPackage", "External contractor"] {
            #expect(home.contains(">\(listed)</a>"), "\(listed) is listed")
        }
        #expect(!home.contains("Finance reports"), "hidden")
        #expect(html("access-packages/finance-reports/index.html").contains("<h1>Finance reports</h1>"))

        let contractor = html("access-packages/external-contractor/index.html")
        #expect(contractor.contains("<dd>Anyone with an email address</dd>"))
        #expect(contractor.contains("<p>Adele Vance decides within 14 days and gives a reason; otherwise the request expires.</p>"))
        #expect(contractor.contains("<dd>Until 30 June 2028.</dd>"))
        #expect(contractor.contains("value=\"http://127.0.0.1:8080/access-packages/external-contractor/\""))

        let members = html("access-packages/internal-access-package/index.html")
        #expect(members.contains("<dd>Members of the directory</dd>"))
        #expect(members.contains("<dd>365 days from approval.</dd>"))
        #expect(members.contains("Reviewed every month from 1 January 2027 by Adele Vance, within 14 days."))

        let french = html("access-packages/external-contractor/request-contractors.fr.html")
        #expect(french.contains("<html lang=\"fr\">"))
        #expect(french.contains("<legend>Quelle équipe a gagné la finale 2022 ? <span class=\"required\">(obligatoire)</span></legend>"))
        #expect(french.contains("<label for=\"q-final-1\">Argentine</label>"))
        #expect(html("access-packages/external-contractor/request-contractors.html").contains("<html lang=\"en\">"))

        let again = try Generator.build(options)
        #expect((again.written, again.unchanged, again.removed) == (0, summary.files, 0))
    }
}

/// Collects progress reports (they may come from worker threads).
final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var reports: [BuildProgress] = []

    func append(_ report: BuildProgress) {
        lock.lock()
        reports.append(report)
        lock.unlock()
    }

    var last: BuildProgress? {
        lock.lock()
        defer { lock.unlock() }
        return reports.last
    }
}
