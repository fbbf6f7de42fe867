import ArgumentParser
import FastCGIServer
import Foundation
import GatehouseModel
import GatehouseSite
import GatehouseStore
import Governance
import Workflow

struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Do the time-driven work that is due: approvals, scheduled starts, expiry and extension reminders, connectors, guests.",
        discussion: """
            Idempotent and safe to run every minute, beside `gatehouse serve` and even beside another \
            sweep: running it twice at the same instant changes nothing the second time. Mail it queues \
            is delivered by `gatehouse serve`'s outbox sender. Prints one summary line; problems with \
            one request are logged and retried by the next sweep (exit status 1).
            """
    )

    @Option(name: .long, help: ArgumentHelp("The site folder.", valueName: "dir"))
    var site = "site"

    @Option(name: .long, help: ArgumentHelp("The SQLite database, created when missing.", valueName: "path"))
    var db = "var/gatehouse.sqlite"

    @Option(name: .long, help: ArgumentHelp("Sweep as of this instant instead of now (ISO 8601, e.g. 2026-12-01T09:00:00Z or 2026-12-01T10:00:00+01:00).", valueName: "instant"))
    var now: String?

    @Flag(name: .long, help: "Print the summary only when something was done (for a loop or a timer).")
    var quiet = false

    func validate() throws {
        if let now, Self.instant(now) == nil {
            throw ValidationError("--now '\(now)' is not an ISO 8601 instant such as 2026-12-01T09:00:00Z")
        }
    }

    static func instant(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    func run() throws {
        let instant = now.flatMap(Self.instant) ?? Date()
        let model = try Serve.loadSite(site, command: "gatehouse sweep")
        Serve.warnAboutConnectors(of: model, in: site)
        let report: SweepReport
        do {
            let store = try Store(path: db)
            let calendar = try TenantCalendar(timeZoneIdentifier: model.tenant.timeZone)
            let approvals = Approvals(site: model, calendar: calendar, newID: Self.newID)
            let connectors = Connectors(
                store: store, site: model, calendar: calendar, runner: CommandConnector(siteFolder: site),
                log: FastCGIServer.logToStandardError)
            report = try Sweeper(
                store: store, approvals: approvals, connectors: connectors, log: FastCGIServer.logToStandardError
            ).run(now: instant)
        } catch {
            Check.printError("gatehouse sweep: \(error)")
            throw ExitCode(1)
        }
        if !quiet || report != SweepReport() {
            print("gatehouse sweep at \(instant.formatted(.iso8601)): \(report)")
        }
        if report.failed > 0 { throw ExitCode(1) }
    }

    /// A request or assignment id like the handler's: time-ordered, 80 random bits (``RecordID``).
    @Sendable static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        return RecordID.make(at: Date(), random: (0..<RecordID.randomByteCount).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }
}
