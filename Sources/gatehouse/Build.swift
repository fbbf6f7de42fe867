import ArgumentParser
import Foundation
import GatehouseModel
import GatehouseSite
import SiteGenerator

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct Build: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate the static portal.",
        discussion: """
            Validates the site like `gatehouse check`, then renders every page into memory and \
            writes only the files whose bytes changed; files of an earlier build that this one \
            does not produce are removed. When the site has any error, nothing is written and the \
            errors are printed as `path:line:column: error: message`.

            Exit status: 0 on success, 1 when the model, the templates or the output folder has a problem.
            """
    )

    @Option(name: .long, help: ArgumentHelp("The site folder.", valueName: "dir"))
    var site = "site"

    @Option(name: .long, help: ArgumentHelp("The templates folder (Mustache templates and assets/).", valueName: "dir"))
    var templates = "templates"

    @Option(name: .long, help: ArgumentHelp("The output folder served by nginx.", valueName: "dir"))
    var out = "public"

    @Flag(name: .long, help: "Print the time of each phase (read, check, load, render, write) to standard error.")
    var timings = false

    func run() throws {
        let interactive = isatty(STDERR_FILENO) == 1
        var progress: (@Sendable (BuildProgress) -> Void)?
        if interactive {
            progress = { step in Self.printError("\rrendering \(step.done)/\(step.total)", newline: false) }
        }
        let options = BuildOptions(site: site, templates: templates, output: out, today: today())
        do {
            let summary = try Generator.build(options, progress: progress)
            if interactive { Self.printError("\r\u{1B}[K", newline: false) }
            for warning in summary.warnings { Check.printError(warning.description(inSiteFolder: site)) }
            if timings {
                Check.printError(summary.phases.map { "\($0.name) \(String(format: "%.2f", $0.seconds)) s" }.joined(separator: ", "))
            }
            let folder = out.hasSuffix("/") ? out : out + "/"
            print("built \(summary.files) pages in \(folder): \(summary.written) written, "
                + "\(summary.unchanged) unchanged, \(summary.removed) removed (\(String(format: "%.2f", summary.seconds)) s)")
        } catch let error as BuildError {
            if interactive { Self.printError("\r\u{1B}[K", newline: false) }
            if case .invalidModel(let diagnostics) = error {
                for diagnostic in diagnostics { Check.printError(diagnostic.description(inSiteFolder: site)) }
                Check.printError(Check.count(diagnostics.count { $0.severity == .error }, "error"))
            } else {
                Check.printError(error.description)
            }
            throw ExitCode(1)
        }
    }

    /// Today in the tenant's time zone (from tenant.yaml alone; UTC when it cannot be read).
    private func today() -> CalendarDay {
        let tenant = FileManager.default.contents(atPath: site + "/tenant.yaml").map { ["tenant.yaml": [UInt8]($0)] }
        return SiteLoader.today(for: SiteFiles(tenant ?? [:]), at: Date())
    }
}

extension Build {
    static func printError(_ text: String, newline: Bool) {
        FileHandle.standardError.write(Data((newline ? text + "\n" : text).utf8))
    }
}
