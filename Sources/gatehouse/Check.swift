import ArgumentParser
import Foundation
import GatehouseModel
import GatehouseSite

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate the model in the site folder.",
        discussion: """
            Reads tenant.yaml, people.yaml, organizations/*.yaml, catalogs/*.yaml and packages/*.md, checks \
            that the resources' connectors are executable files, and reports every problem at once, one per line, as

              path:line:column: error: message

            with a suggestion when a name is close to a known one. Dates such as an expiration \
            date are compared with today in the tenant's time zone.

            Exit status: 0 when the site is valid, 1 when there is any error.
            """
    )

    @Option(name: .long, help: ArgumentHelp("The site folder to check.", valueName: "dir"))
    var site = "site"

    func run() throws {
        let files: SiteFiles
        do {
            files = try SiteFiles.read(directory: site)
        } catch let problem as Diagnostic {
            Self.printError(problem.description(inSiteFolder: site))
            Self.printError("1 error")
            throw ExitCode(1)
        }
        let loader = SiteLoader(today: SiteLoader.today(for: files, at: Date()))
        let result = loader.load(files)
        // The connectors are files on this machine: checked once the model says which there are.
        let connectors = result.site.map { ConnectorFiles.problems(in: $0, siteFolder: site) } ?? []
        let diagnostics = result.diagnostics + connectors
        for diagnostic in diagnostics {
            Self.printError(diagnostic.description(inSiteFolder: site))
        }
        let errors = diagnostics.count { $0.severity == .error }
        guard let model = result.site, errors == 0 else {
            Self.printError(Self.count(errors, "error"))
            throw ExitCode(1)
        }
        let warnings = diagnostics.count - errors
        print("\(site): " + Self.summary(of: model) + " — " + (warnings == 0 ? "no problems" : Self.count(warnings, "warning")))
    }

    /// `4 packages, 4 policies, 2 catalogs, 1 organization, 6 people`
    static func summary(of site: Site) -> String {
        [
            count(site.packages.count, "package"),
            count(site.packages.reduce(0) { $0 + $1.policies.count }, "policy", "policies"),
            count(site.catalogs.count, "catalog"),
            count(site.organizations.count, "organization"),
            count(site.directory.people.count, "person", "people"),
        ].joined(separator: ", ")
    }

    static func count(_ n: Int, _ singular: String, _ plural: String? = nil) -> String {
        "\(n) " + (n == 1 ? singular : plural ?? singular + "s")
    }

    static func printError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
