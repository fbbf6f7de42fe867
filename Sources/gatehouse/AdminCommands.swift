import ArgumentParser
import Foundation
import GatehouseModel
import GatehouseStore
import Governance
import Workflow

/// What every admin command needs: the model, the store, and who acts.
struct AdminOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The site folder.", valueName: "dir"))
    var site = "site"

    @Option(name: .long, help: ArgumentHelp("The SQLite database, created when missing.", valueName: "path"))
    var db = "var/gatehouse.sqlite"

    @Option(
        name: .customLong("as"),
        help: ArgumentHelp(
            "The email of the admin acting: a tenant admin, or an owner, package manager or assignment manager of the package's catalog.",
            valueName: "email"))
    var acting: String

    /// Opens the site and the store and runs `body` in one write transaction at the current time.
    func run<T>(_ command: String, _ body: (Admin, StoreWriter, Date) throws -> T) throws -> T {
        let model = try Serve.loadSite(site, command: "gatehouse \(command)")
        do {
            let store = try Store(path: db)
            let calendar = try TenantCalendar(timeZoneIdentifier: model.tenant.timeZone)
            let admin = Admin(approvals: Approvals(site: model, calendar: calendar, newID: Sweep.newID))
            let now = Date()
            return try store.write { db in try body(admin, db, now) }
        } catch {
            Check.printError("gatehouse \(command): \(error)")
            throw ExitCode(1)
        }
    }

    /// Prints what a remove, cancel or reprocess did; a refusal or problem goes to stderr with status 1.
    func report(_ outcome: Admin.Outcome, command: String) throws {
        switch outcome {
        case .done(let text):
            print(text)
        case .refused(let refusal):
            Check.printError("gatehouse \(command): \(refusal.message)")
            throw ExitCode(1)
        case .notFound(let text), .conflict(let text):
            Check.printError("gatehouse \(command): \(text)")
            throw ExitCode(1)
        case .invalid(let field, let message):
            Check.printError("gatehouse \(command): --\(field): \(message)")
            throw ExitCode(1)
        }
    }
}

struct AssignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assign",
        abstract: "Assign an access package to a person directly, through one of its policies.",
        discussion: """
            Without approval the person gets the access at once (and no email); when the policy requires \
            approval, the assignment becomes a request to its approvers. Separation of duties, an open \
            request or a live assignment block it. Answers and dates are checked as the request form \
            checks them; dates only where the policy allows a custom schedule.
            """
    )

    @OptionGroup var options: AdminOptions

    @Option(name: .long, help: ArgumentHelp("The email of the person to assign.", valueName: "email"))
    var person: String

    @Option(name: .long, help: ArgumentHelp("The access package's id.", valueName: "id"))
    var package: String

    @Option(name: .long, help: ArgumentHelp("The policy's id in that package.", valueName: "id"))
    var policy: String

    @Option(
        name: .long,
        help: ArgumentHelp("An answer, question id = value; repeat for each question and each chosen choice.", valueName: "question=value"))
    var answer: [String] = []

    @Option(name: .long, help: ArgumentHelp("The first day of access (custom schedule).", valueName: "YYYY-MM-DD"))
    var start: String?

    @Option(name: .long, help: ArgumentHelp("The last day of access (custom schedule).", valueName: "YYYY-MM-DD"))
    var end: String?

    @Option(name: .long, help: ArgumentHelp("Why (optional); approvers see it.", valueName: "text"))
    var justification = ""

    func validate() throws {
        for text in answer where !text.contains("=") || text.hasPrefix("=") {
            throw ValidationError("--answer '\(text)' is not question=value")
        }
    }

    func run() throws {
        var answers: [String: [String]] = [:]
        for text in answer {
            let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            answers[String(parts[0]), default: []].append(String(parts[1]))
        }
        let (outcome, calendar, name) = try options.run("assign") { admin, db, now in
            (try admin.assign(
                email: person, package: package, policy: policy, answers: answers, start: start, end: end,
                justification: justification, by: options.acting, db: db, now: now),
             admin.approvals.calendar, admin.site.package(package)?.name ?? package)
        }
        switch outcome {
        case .assigned(let requestID, let assignment):
            let until = assignment.endsAt.map { "until \(calendar.longEnd($0))" } ?? "with no end date"
            let when = assignment.state == .delivering
                ? "scheduled from \(calendar.longDateAndTime(assignment.startsAt)), \(until)"
                : "delivered, \(until)"
            print("Assigned \(name) to \(assignment.email): \(when) (request \(requestID), assignment \(assignment.id)).")
        case .sentForApproval(let requestID):
            print("The policy requires approval: request \(requestID) went to its approvers.")
        case .refused(let refusal):
            Check.printError("gatehouse assign: \(refusal.message)")
            throw ExitCode(1)
        case .notFound(let text):
            Check.printError("gatehouse assign: \(text)")
            throw ExitCode(1)
        case .blocked(let blocks):
            for block in blocks { Check.printError("gatehouse assign: \(block)") }
            throw ExitCode(1)
        case .rejected(let rejected):
            for error in rejected.errors { Check.printError("gatehouse assign: \(Self.option(error.field)): \(error.message)") }
            throw ExitCode(1)
        }
    }

    /// The option a form field comes from: `answer.final` -> `--answer final=…`.
    static func option(_ field: String) -> String {
        if field.hasPrefix(RequestFormField.answerPrefix) {
            return "--answer \(field.dropFirst(RequestFormField.answerPrefix.count))=…"
        }
        return "--" + field
    }
}

struct RemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "End an assignment; its roles are revoked unless another assignment grants them. The holder is told.")

    @OptionGroup var options: AdminOptions

    @Option(name: .long, help: ArgumentHelp("The assignment's id.", valueName: "id"))
    var assignment: String

    @Option(name: .long, help: ArgumentHelp("Why; the holder is told.", valueName: "text"))
    var reason: String

    func run() throws {
        let outcome = try options.run("remove") { admin, db, now in
            try admin.remove(assignmentID: assignment, reason: reason, by: options.acting, db: db, now: now)
        }
        try options.report(outcome, command: "remove")
    }
}

struct CancelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel a request that waits for a decision; its approvers and requestor are told.")

    @OptionGroup var options: AdminOptions

    @Option(name: .long, help: ArgumentHelp("The request's id.", valueName: "id"))
    var request: String

    @Option(name: .long, help: ArgumentHelp("Why; the requestor and approvers are told.", valueName: "text"))
    var reason: String

    func run() throws {
        let outcome = try options.run("cancel") { admin, db, now in
            try admin.cancel(requestID: request, reason: reason, by: options.acting, db: db, now: now)
        }
        try options.report(outcome, command: "cancel")
    }
}

struct ReprocessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reprocess",
        abstract: "Send an assignment's roles again: a failed or partial delivery, or a downstream system that drifted.",
        discussion: """
            Plans the grant events again (on an ended assignment, the revokes that were given up); the \
            next `gatehouse sweep` sends them through the connectors.
            """)

    @OptionGroup var options: AdminOptions

    @Option(name: .long, help: ArgumentHelp("The assignment's id.", valueName: "id"))
    var assignment: String

    func run() throws {
        let outcome = try options.run("reprocess") { admin, db, now in
            try admin.reprocess(assignmentID: assignment, by: options.acting, db: db, now: now)
        }
        try options.report(outcome, command: "reprocess")
    }
}
