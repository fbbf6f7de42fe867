import ArgumentParser
import Foundation
import GatehouseModel
import GatehouseStore

struct DirectoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "directory",
        abstract: "Show the built-in directory: who holds a resource's roles, or which roles a person holds.",
        discussion: """
            Membership is the union of the active grants of every live assignment: a role stays while \
            any package still grants it. Give --resource ID or --person EMAIL.
            """
    )

    @Option(name: .long, help: ArgumentHelp("The SQLite database.", valueName: "path"))
    var db = "var/gatehouse.sqlite"

    @Option(name: .long, help: ArgumentHelp("List the members of this resource (its id in the catalog).", valueName: "id"))
    var resource: String?

    @Option(name: .long, help: ArgumentHelp("List the roles this person holds, with the package granting each.", valueName: "email"))
    var person: String?

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    func validate() throws {
        if (resource == nil) == (person == nil) {
            throw ValidationError("give exactly one of --resource ID or --person EMAIL")
        }
    }

    func run() throws {
        guard FileManager.default.fileExists(atPath: db) else {
            Check.printError("gatehouse directory: there is no database at \(db) (start gatehouse serve first, or pass --db)")
            throw ExitCode(1)
        }
        let store: Store
        do { store = try Store(path: db) } catch {
            Check.printError("gatehouse directory: \(error)")
            throw ExitCode(1)
        }
        if let resource {
            let members = try store.read { try $0.members(resourceID: resource) }
            if json {
                try printJSON(["resource": resource, "members": members.map { ["email": $0.email, "role": $0.role] }])
            } else if members.isEmpty {
                print("\(resource): no members")
            } else {
                for m in members { print("\(m.email)\t\(m.role)") }
            }
        } else if let person {
            let roles = try store.read { try $0.roles(of: person) }
            if json {
                try printJSON([
                    "person": person.lowercased(),
                    "roles": roles.map { ["resource": $0.resourceID, "role": $0.role, "package": $0.packageID, "assignment": $0.assignmentID] },
                ])
            } else if roles.isEmpty {
                print("\(person.lowercased()): no roles")
            } else {
                for r in roles { print("\(r.resourceID)\t\(r.role)\tvia \(r.packageID)") }
            }
        }
    }

    private func printJSON(_ value: Any) throws {
        let data = try JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        print(String(decoding: data, as: UTF8.self))
    }
}
