import ArgumentParser

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Validate the model in the site folder.")
    @Option(help: "The site folder.") var site = "site"
    func run() throws { throw CleanExit.message("check: not wired yet") }
}
