import Foundation
import GatehouseModel

/// The contents of a site folder, by path relative to the folder with `/` separators.
///
/// Loading works on this value rather than on the disk so tests and benchmarks can build sites in memory.
public struct SiteFiles: Sendable {
    public var files: [String: [UInt8]]

    public init(_ files: [String: [UInt8]]) { self.files = files }

    /// Convenience for tests: each text stored as UTF-8.
    public init(texts: [String: String]) {
        self.files = texts.mapValues { Array($0.utf8) }
    }

    /// The folders whose files are model files; anything else in them is reported by the loader.
    static let modelFolders = ["organizations", "catalogs", "packages"]

    /// Reads `tenant.yaml`, `people.yaml`, every file of `organizations/`, `catalogs/` and `packages/`
    /// (so a misnamed `x.yml` is reported rather than ignored), and `static/` recursively.
    /// Names starting with a dot are skipped. Throws a `Diagnostic` whose file is "" when the folder
    /// itself cannot be read, or names the file that could not be read.
    public static func read(directory: String) throws -> SiteFiles {
        let fileManager = FileManager.default
        let root = URL(fileURLWithPath: directory, isDirectory: true)
        var isDirectory: ObjCBool = false
        guard fileManager.fileExists(atPath: root.path, isDirectory: &isDirectory) else {
            throw Diagnostic(at: SourceLocation(file: "", line: 0, column: 0),
                             "site folder not found; it should hold tenant.yaml, people.yaml, catalogs/ and packages/")
        }
        guard isDirectory.boolValue else {
            throw Diagnostic(at: SourceLocation(file: "", line: 0, column: 0), "this is a file, not a site folder")
        }

        var files: [String: [UInt8]] = [:]
        func load(_ relative: String) throws {
            do {
                files[relative] = Array(try Data(contentsOf: root.appendingPathComponent(relative)))
            } catch {
                throw Diagnostic(at: SourceLocation(file: relative, line: 1, column: 1), "couldn't read this file: \(error.localizedDescription)")
            }
        }
        func entries(_ relative: String) -> [(name: String, isDirectory: Bool)] {
            let url = relative.isEmpty ? root : root.appendingPathComponent(relative)
            guard let names = try? fileManager.contentsOfDirectory(atPath: url.path) else { return [] }
            return names.filter { !$0.hasPrefix(".") }.sorted().map { name in
                var isDirectory: ObjCBool = false
                _ = fileManager.fileExists(atPath: url.appendingPathComponent(name).path, isDirectory: &isDirectory)
                return (name, isDirectory.boolValue)
            }
        }
        func loadTree(_ relative: String) throws {
            for entry in entries(relative) {
                let path = relative + "/" + entry.name
                if entry.isDirectory { try loadTree(path) } else { try load(path) }
            }
        }

        for entry in entries("") {
            switch (entry.name, entry.isDirectory) {
            case ("tenant.yaml", false), ("people.yaml", false): try load(entry.name)
            case ("static", true): try loadTree("static")
            case (let name, true) where modelFolders.contains(name):
                for child in entries(name) {
                    // Sub-folders are recorded empty so the loader can say they are not read.
                    if child.isDirectory { files["\(name)/\(child.name)/"] = [] } else { try load("\(name)/\(child.name)") }
                }
            default: continue
            }
        }
        return SiteFiles(files)
    }
}
