import ArgumentParser
import Foundation
import GatehouseModel
import GatehouseStore
import Workflow

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Export the audit log: every state change, oldest first, as CSV or JSON Lines.",
        discussion: """
            Columns (and JSON keys): \(AuditExport.columns.joined(separator: ", ")). `at` is ISO 8601 \
            in UTC; `id` increases in the order entries were appended. The log is append-only: an \
            export is never rewritten by later changes, only extended. Filters combine:
              --since/--until   entries at or after --since and strictly before --until
              --package ID      entries about a request or an assignment of that package
              --person EMAIL    entries by or about the person, their requests and assignments
            The export reads one snapshot of the database and streams it, whatever its size. It does \
            not need the site: packages and people removed from the model keep their history.
            """
    )

    @Option(name: .long, help: ArgumentHelp("The SQLite database.", valueName: "path"))
    var db = "var/gatehouse.sqlite"

    @Option(name: .long, help: ArgumentHelp("csv or jsonl (JSON Lines).", valueName: "format"))
    var format = "csv"

    @Option(name: .long, help: ArgumentHelp("Entries at or after this instant (ISO 8601, e.g. 2026-12-01T00:00:00Z or 2026-12-01T00:00:00+01:00).", valueName: "instant"))
    var since: String?

    @Option(name: .long, help: ArgumentHelp("Entries strictly before this instant (ISO 8601).", valueName: "instant"))
    var until: String?

    @Option(name: .long, help: ArgumentHelp("Entries about requests and assignments of this package.", valueName: "id"))
    var package: String?

    @Option(name: .long, help: ArgumentHelp("Entries by or about this person.", valueName: "email"))
    var person: String?

    func validate() throws {
        guard AuditFormat(rawValue: format) != nil else {
            throw ValidationError("--format '\(format)' is not one of csv, jsonl")
        }
        for (name, value) in [("--since", since), ("--until", until)] {
            if let value, Sweep.instant(value) == nil {
                throw ValidationError("\(name) '\(value)' is not an ISO 8601 instant such as 2026-12-01T09:00:00Z")
            }
        }
        if let since = since.flatMap(Sweep.instant), let until = until.flatMap(Sweep.instant), until <= since {
            throw ValidationError("--until must be later than --since: nothing is both at or after \(since.formatted(.iso8601)) and before \(until.formatted(.iso8601))")
        }
        if let person, person.emailDomain == nil {
            throw ValidationError("--person '\(person)' is not an email address")
        }
    }

    func run() throws {
        let store = try ReportCommand.openStore(db, command: "gatehouse audit")
        let filter = AuditFilter(
            since: since.flatMap(Sweep.instant), until: until.flatMap(Sweep.instant), packageID: package,
            person: person?.lowercased())
        try ReportCommand.reporting("gatehouse audit") {
            try store.read { db in
                // A filter that can match nothing is most often a typo: say so, and still export (the header).
                if let package, !(try db.hasRequests(packageID: package)) {
                    Check.printError("gatehouse audit: warning: the database has no request for package '\(package)'")
                }
                if let person, try db.person(email: person) == nil, try db.requests(of: person, limit: 1).isEmpty {
                    Check.printError("gatehouse audit: warning: '\(person.lowercased())' never signed in and made no request")
                }
                try AuditExport().write(AuditFormat(rawValue: format)!, filter: filter, db: db, to: ReportCommand.standardOutput)
            }
        }
    }
}
