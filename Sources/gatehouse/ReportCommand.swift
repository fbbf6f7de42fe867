import ArgumentParser
import Foundation
import GatehouseModel
import GatehouseStore
import Workflow

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print a report: assignments of a package or catalog, what a person can request and holds, connected organizations.",
        discussion: """
            Reports read the database as one snapshot, beside a running `gatehouse serve`, and write \
            to standard output: CSV (RFC 4180, CRLF line ends; a field that would start a spreadsheet \
            formula gets a ' first) or, for a person, text or JSON. Instants are ISO 8601 in UTC. \
            The audit log has its own command: gatehouse audit.
            """,
        subcommands: [Assignments.self, PersonCommand.self, Organizations.self]
    )

    /// The options every report takes.
    struct Locations: ParsableArguments {
        @Option(name: .long, help: ArgumentHelp("The site folder.", valueName: "dir"))
        var site = "site"

        @Option(name: .long, help: ArgumentHelp("The SQLite database.", valueName: "path"))
        var db = "var/gatehouse.sqlite"
    }

    struct Assignments: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Assignments of a package, or of every package of a catalog, as CSV.",
            discussion: """
                Columns: \(Reports.assignmentColumns.joined(separator: ", ")). Live assignments come \
                first, ended ones (state expired, with ended_at and end_reason) after them. A package \
                no longer in the site is reported while the database has requests for it.
                """
        )

        @OptionGroup var locations: Locations

        @Option(name: .long, help: ArgumentHelp("The package's id.", valueName: "id"))
        var package: String?

        @Option(name: .long, help: ArgumentHelp("The catalog's id: every package in it.", valueName: "id"))
        var catalog: String?

        func validate() throws {
            if (package == nil) == (catalog == nil) {
                throw ValidationError("give exactly one of --package ID or --catalog ID")
            }
        }

        func run() throws {
            let model = try Serve.loadSite(locations.site, command: "gatehouse report")
            let store = try ReportCommand.openStore(locations.db, command: "gatehouse report")
            let reports = Reports(site: model)
            try ReportCommand.reporting("gatehouse report") {
                try store.read { db in
                    let ids = try package.map { try reports.packageIDs(package: $0, db: db) }
                        ?? reports.packageIDs(catalog: catalog!)
                    try reports.writeAssignmentsCSV(packageIDs: ids, db: db, to: ReportCommand.standardOutput)
                }
            }
        }
    }

    struct PersonCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "person",
            abstract: "What a person can request now and what they hold, with the package granting each resource role.",
            discussion: """
                Can request: per package, the policies that include the person (the most specific \
                ones, as the portal offers them), whether approval is needed, and what stops a request \
                right now (already assigned, open request, separation of duties, blocked account). \
                Holds: live assignments with their dates and the roles each grants.
                """
        )

        @OptionGroup var locations: Locations

        @Argument(help: ArgumentHelp("The person's email address.", valueName: "email"))
        var email: String

        @Flag(name: .long, help: "Print JSON instead of text.")
        var json = false

        func validate() throws {
            guard email.emailDomain != nil else { throw ValidationError("'\(email)' is not an email address") }
        }

        func run() throws {
            let model = try Serve.loadSite(locations.site, command: "gatehouse report")
            let store = try ReportCommand.openStore(locations.db, command: "gatehouse report")
            try ReportCommand.reporting("gatehouse report") {
                let report = try store.read { try Reports(site: model).personReport(email: email, db: $0) }
                if json {
                    try ReportCommand.standardOutput(String(decoding: try report.json(), as: UTF8.self))
                } else {
                    try ReportCommand.standardOutput(report.text)
                }
            }
        }
    }

    struct Organizations: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Connected organizations as CSV: those declared in the site and those proposed on approval.",
            discussion: "Columns: \(Reports.organizationColumns.joined(separator: ", ")); lists are space-separated."
        )

        @OptionGroup var locations: Locations

        func run() throws {
            let model = try Serve.loadSite(locations.site, command: "gatehouse report")
            let store = try ReportCommand.openStore(locations.db, command: "gatehouse report")
            try ReportCommand.reporting("gatehouse report") {
                let csv = try store.read { try Reports(site: model).organizationsCSV(db: $0) }
                try ReportCommand.standardOutput(String(decoding: csv, as: UTF8.self))
            }
        }
    }

    // MARK: Shared by the report commands and gatehouse audit

    /// The existing database at `path`; a report never creates one.
    static func openStore(_ path: String, command: String) throws -> Store {
        guard FileManager.default.fileExists(atPath: path) else {
            Check.printError("\(command): there is no database at \(path) (start gatehouse serve first, or pass --db)")
            throw ExitCode(1)
        }
        do {
            return try Store(path: path)
        } catch {
            Check.printError("\(command): \(error)")
            throw ExitCode(1)
        }
    }

    /// Runs `body`, turning a report or store error into one line on standard error and exit status 1.
    static func reporting(_ command: String, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as ExitCode {
            throw error
        } catch {
            Check.printError("\(command): \(error)")
            throw ExitCode(1)
        }
    }

    /// Writes `text` to standard output as it comes, unbuffered: a page of an export at a time.
    static func standardOutput(_ text: String) throws {
        try FileHandle.standardOutput.write(contentsOf: Data(text.utf8))
    }
}
