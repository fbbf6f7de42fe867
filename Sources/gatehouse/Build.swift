import ArgumentParser

struct Build: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Generate the static portal.")
    @Option(help: "The site folder.") var site = "site"
    func run() throws { throw CleanExit.message("build: not wired yet") }
}
