import ArgumentParser
import FastCGIServer
import Foundation
import GatehouseMail
import GatehouseModel
import GatehouseSite
import GatehouseStore
import Handlers
import Portal
import Rendering

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the FastCGI handler behind nginx: sign-in by emailed code, sessions, signed-in pages.",
        discussion: """
            Loads the site (refusing to start on a model with errors), opens the database, listens \
            on a unix socket (or the socket inherited from systemd or spawn-fcgi) and serves until \
            SIGTERM or SIGINT, finishing requests in flight. A background loop delivers the outbox \
            every --mail-interval seconds: as .eml files in --mail-dir, or through --mail-command. \
            One line per request and every error, with its detail, go to standard error.
            """
    )

    @Option(name: .long, help: ArgumentHelp("The site folder.", valueName: "dir"))
    var site = "site"

    @Option(name: .long, help: ArgumentHelp("The templates folder (the generator's, plus the handler's pages).", valueName: "dir"))
    var templates = "templates"

    @Option(name: .long, help: ArgumentHelp("The SQLite database, created when missing.", valueName: "path"))
    var db = "var/gatehouse.sqlite"

    @Option(name: .long, help: ArgumentHelp("The unix socket to create for nginx.", valueName: "path"))
    var socket = "var/run/gatehouse.sock"

    @Option(name: .long, help: ArgumentHelp("The socket's permissions, in octal.", valueName: "mode"))
    var socketMode = "660"

    @Option(name: .long, help: ArgumentHelp("The group that owns the socket (nginx's group, e.g. www-data).", valueName: "name"))
    var socketGroup: String?

    @Flag(name: .long, help: "Serve on the socket systemd (fd 3) or spawn-fcgi (fd 0) passed instead of creating one.")
    var inheritedSocket = false

    @Option(name: .long, help: ArgumentHelp("Worker threads answering requests.", valueName: "n"))
    var workers = 16

    @Option(name: .long, help: ArgumentHelp("How many requests may compute at once (default: 2 per CPU core); the other workers wait their turn, and a post waiting for its commit does not count.", valueName: "n"))
    var running: Int?

    @Option(name: .long, help: ArgumentHelp("Nice value added to the worker threads, so that the store's writer thread, which every post waits for, runs first when the CPUs are busy (0 to 19).", valueName: "n"))
    var workerNice = 5

    @Option(name: .long, help: ArgumentHelp("Where outgoing mail is written as .eml files.", valueName: "dir"))
    var mailDir = "var/mail"

    @Option(name: .long, help: ArgumentHelp("Deliver mail through this sendmail-compatible command instead (split on spaces, no shell), e.g. \"/usr/sbin/sendmail -t -i\".", valueName: "command"))
    var mailCommand: String?

    @Option(name: .long, help: ArgumentHelp("Seconds between two deliveries of the outbox.", valueName: "seconds"))
    var mailInterval: Double = 2

    @Option(name: .long, help: ArgumentHelp("The largest request body accepted, in bytes (keep it equal to nginx's client_max_body_size).", valueName: "bytes"))
    var maxBody = 65_536

    @Option(name: .long, help: ArgumentHelp("Trust single sign-on identities from this FastCGI parameter (nginx must always overwrite it), e.g. HTTP_X_GATEHOUSE_USER.", valueName: "param"))
    var ssoParam: String?

    func validate() throws {
        guard UInt32(socketMode, radix: 8) != nil else {
            throw ValidationError("--socket-mode '\(socketMode)' is not an octal mode such as 660")
        }
        guard workers >= 1 else { throw ValidationError("--workers must be at least 1") }
        if let running, running < 1 { throw ValidationError("--running must be at least 1") }
        guard (0...19).contains(workerNice) else { throw ValidationError("--worker-nice must be between 0 and 19") }
        guard maxBody >= 1024 else { throw ValidationError("--max-body must be at least 1024 bytes") }
        guard mailInterval > 0 else { throw ValidationError("--mail-interval must be positive") }
        if let mailCommand, mailCommand.split(separator: " ").isEmpty {
            throw ValidationError("--mail-command is empty")
        }
    }

    func run() throws {
        let log: @Sendable (String) -> Void = FastCGIServer.logToStandardError
        if !FastCGIServer.keepFreedMemory() { log("gatehouse serve: glibc refused the malloc thresholds; running with its defaults") }
        let model = try Self.loadSite(site, command: "gatehouse serve")
        Self.warnAboutConnectors(of: model, in: site)
        let permits = RunPermits(count: running ?? 2 * ProcessInfo.processInfo.activeProcessorCount)
        let theme: Theme
        let store: Store
        let app: App
        do {
            theme = try Theme.load(directory: templates)
            store = try Store(path: db, aroundCommitWait: { wait in permits.suspending(wait) })
            app = try App(
                site: model, store: store, theme: theme,
                settings: App.Settings(singleSignOnParam: ssoParam, maxBodyBytes: maxBody), log: log)
        } catch {
            Check.printError("gatehouse serve: \(error)")
            throw ExitCode(1)
        }

        let listener: FastCGIServer.Listener
        if inheritedSocket {
            guard let inherited = FastCGIServer.Listener.inheritedFromEnvironment(ProcessInfo.processInfo.environment) else {
                Check.printError("gatehouse serve: --inherited-socket, but neither systemd (LISTEN_FDS) nor spawn-fcgi (a socket on fd 0) passed one")
                throw ExitCode(1)
            }
            listener = inherited
        } else {
            let folder = URL(fileURLWithPath: socket).deletingLastPathComponent()
            try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            listener = .unixSocket(path: socket, mode: UInt32(socketMode, radix: 8)!, group: socketGroup)
        }

        // Two senders on one outbox: sign-in codes, which someone is waiting for, and the
        // notifications, which can wait for a moment when the CPUs are free.
        let codes = MailPump(
            sender: try mailSender(store: store, tenant: model.tenant, selection: .signInCodes, log: log),
            interval: mailInterval, log: log)
        let writerLoad = WriterLoad(store: store)
        let notifications = MailPump(
            sender: try mailSender(store: store, tenant: model.tenant, selection: .notifications, log: log),
            interval: mailInterval, busy: { writerLoad.isHigh() }, log: log)
        let server = FastCGIServer(
            listener: listener, workers: workers, maxBodyBytes: maxBody, workerNice: Int32(workerNice), permits: permits,
            log: log
        ) { request in
            app.respond(params: request.params, body: request.body).fastCGI
        }
        do {
            try server.open()
        } catch {
            Check.printError("gatehouse serve: \(error)")
            throw ExitCode(1)
        }
        server.stopOnTerminationSignals()
        // Mail is background work: under load, posts and pages go first and the outbox drains
        // after. Notifications run at the lowest priority (nice 19); sign-in codes at +10.
        codes.start { FastCGIServer.lowerCurrentThreadPriority(by: 10) }
        notifications.start { FastCGIServer.lowerCurrentThreadPriority(by: 19) }
        log("gatehouse serve: \(inheritedSocket ? "inherited socket" : socket), \(workers) workers (\(permits.count) computing at once), database \(db), "
            + (mailCommand.map { "mail through '\($0)'" } ?? "mail to \(mailDir)/"))
        defer {
            codes.stop()
            notifications.stop()
        }
        try server.run()
        log("gatehouse serve: stopped; store: \(store.commitSummary)")
    }

    /// The model in `site`, or exit with its diagnostics: `command` does not start on a site with errors.
    static func loadSite(_ site: String, command: String) throws -> Site {
        let files: SiteFiles
        do {
            files = try SiteFiles.read(directory: site)
        } catch let problem as Diagnostic {
            Check.printError(problem.description(inSiteFolder: site))
            throw ExitCode(1)
        }
        let result = SiteLoader(today: SiteLoader.today(for: files, at: Date())).load(files)
        for diagnostic in result.diagnostics { Check.printError(diagnostic.description(inSiteFolder: site)) }
        guard let model = result.site else {
            Check.printError(Check.count(result.errorCount, "error") + "; \(command) does not start on a site with errors")
            throw ExitCode(1)
        }
        return model
    }

    /// Connectors that cannot run, as warnings: the commands still start (the sweep retries the
    /// deliveries), but whoever starts them learns why deliveries will fail.
    static func warnAboutConnectors(of model: Site, in site: String) {
        for problem in ConnectorFiles.problems(in: model, siteFolder: site) {
            var warning = problem
            warning.severity = .warning
            warning.message += "; deliveries through it fail and are retried until it is fixed"
            Check.printError(warning.description(inSiteFolder: site))
        }
    }

    private func mailSender(
        store: Store, tenant: Tenant, selection: StoreMailQueue.Selection, log: @escaping @Sendable (String) -> Void
    ) throws -> MailSender {
        let domain = tenant.domains.first ?? "localhost"
        let from: MailAddress
        do {
            from = try MailAddress("noreply@\(domain)", name: tenant.name)
        } catch {
            Check.printError("gatehouse serve: cannot send mail as noreply@\(domain): \(error)")
            throw ExitCode(1)
        }
        let transport: any MailTransport = if let mailCommand {
            SendmailTransport(command: mailCommand.split(separator: " ").map(String.init))
        } else {
            OutboxFolderTransport(folder: URL(fileURLWithPath: mailDir))
        }
        return MailSender(queue: StoreMailQueue(store: store, from: from, selection: selection, log: log), transport: transport)
    }
}

extension Portal.HTTPResponse {
    /// The response in the FastCGI adapter's terms.
    var fastCGI: FastCGIResponse {
        FastCGIResponse(status: status.code, headers: headers.map { ($0.name, $0.value) }, body: body)
    }
}
