import ArgumentParser

@main
struct Gatehouse: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gatehouse",
        abstract: "Self-hosted entitlement management: check and build the portal from site/, serve its handler, sweep what is due.",
        subcommands: [Check.self, Build.self, Serve.self, Sweep.self, DirectoryCommand.self, ReportCommand.self, AuditCommand.self, AssignCommand.self, RemoveCommand.self, CancelCommand.self, ReprocessCommand.self]
    )
}
