import Foundation
import GatehouseModel
import GatehouseSite
import Rendering
import SiteGenerator
import Testing

enum Repository {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let templates = root.appendingPathComponent("templates")
    static let site = root.appendingPathComponent("site")
    /// The real templates folder, loaded once.
    static let theme: Theme = try! Theme.load(directory: templates.path)
}

let fixedToday = CalendarDay(year: 2026, month: 11, day: 23)!

/// A small valid site as files: a dictionary in, output files out (like Publish and Hugo's fixture tests).
enum Fixture {
    static let tenant = """
        name: Fixture Corp
        domains: [fixture.example]
        baseURL: https://access.fixture.example/
        timeZone: Europe/Paris
        languages: [en, fr]
        admins: [ada@fixture.example]
        externalUsers: {blockSignIn: false, removeAfterDays: 30}
        termsOfUse: Be nice.
        """

    static let people = """
        people:
          - {email: ada@fixture.example, name: Ada Admin, groups: [admins]}
          - {email: bob@fixture.example, name: Bob Boss, manager: ada@fixture.example}
          - {email: cy@fixture.example, name: Cy Clerk, manager: bob@fixture.example, groups: [clerks]}
        groups:
          - {id: admins, name: Administrators}
          - {id: clerks, name: Clerks team}
        """

    static let partner = """
        name: Partner Ltd
        description: A partner.
        domains: [partner.example]
        internalSponsors: [bob@fixture.example]
        externalSponsors: []
        state: configured
        """

    static func catalog(_ name: String, enabled: Bool = true) -> String {
        """
        name: \(name)
        description: The \(name) catalog.
        enabled: \(enabled)
        externalUsers: true
        resources:
          - {id: \(name.lowercased())-team, type: group, name: \(name) team, roles: [Member, Owner]}
          - {id: \(name.lowercased())-app, type: application, name: \(name) app, roles: [Reader]}
        roles:
          owners: [ada@fixture.example]
          packageManagers: [bob@fixture.example]
          assignmentManagers: []
          readers: []
        """
    }

    /// A package with one policy; `policy` replaces the default policy's YAML (indented by 2).
    static func package(
        name: String, catalog: String = "main", hidden: Bool = false, policy: String = members,
        description: String = "A package for **tests**."
    ) -> String {
        """
        ---
        name: \(name)
        catalog: \(catalog)
        hidden: \(hidden)
        resources:
          - {resource: \(catalog)-team, role: Member}
        policies:
        \(policy)
        ---
        \(description)
        """
    }

    static let members = """
          - id: members
            name: All members
            requestors: {scope: allMembers}
            justification: optional
            approval: none
            lifecycle:
              expiration: {afterDays: 365}
        """

    /// Every question type, translations, a custom schedule and a two-stage approval.
    static let questions = """
          - id: clerks
            name: Clerks
            requestors: {scope: specificPeople, people: [bob@fixture.example], groups: [clerks]}
            justification: required
            approval:
              stages:
                - approvers: [{manager: true}]
                  fallback: [{person: ada@fixture.example}]
                  timeoutDays: 10
                  escalation: {afterDays: 6, approvers: [{secondLevelManager: true}]}
                - approvers: [{group: admins}]
                  timeoutDays: 7
                  justificationRequired: true
            questions:
              - id: code
                type: shortText
                required: true
                text: {default: "Cost center", fr: "Centre de coûts"}
                regex: "[0-9]{4}"
                maxLength: 4
              - id: notes
                type: longText
                required: false
                text: {default: "Notes", fr: "Remarques"}
                maxLength: 500
              - id: colour
                type: multipleChoice
                required: true
                text: {default: "Favourite colour", fr: "Couleur préférée"}
                choices:
                  - {value: red, text: {default: Red, fr: Rouge}}
                  - {value: blue, text: {default: Blue}}
              - id: days
                type: multipleChoice
                required: false
                multipleSelection: true
                text: {default: "Which days?"}
                choices:
                  - {value: mon, text: {default: Monday, fr: Lundi}}
                  - {value: tue, text: {default: Tuesday, fr: Mardi}}
            lifecycle:
              expiration: {onDate: 2028-06-30}
              customSchedule: true
              extension: {allowed: true, requiresApproval: true}
        """

    static var files: [String: String] {
        [
            "tenant.yaml": tenant,
            "people.yaml": people,
            "organizations/partner.yaml": partner,
            "catalogs/main.yaml": catalog("Main"),
            "catalogs/old.yaml": catalog("Old", enabled: false),
            "packages/open.md": package(name: "Open package"),
            "packages/clerk-tools.md": package(name: "Clerk tools", policy: questions),
            "packages/secret.md": package(name: "Secret package", hidden: true),
            "packages/legacy.md": package(name: "Legacy package", catalog: "old"),
            "static/logo.svg": "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
        ]
    }

    /// Loads and renders `files` in memory with the real templates.
    static func render(_ files: [String: String] = files) throws -> SiteOutput {
        try Generator.render(SiteFiles(texts: files), theme: Repository.theme, today: fixedToday)
    }

    /// Loads `files`, failing the test with every diagnostic when the site is not valid.
    static func site(_ files: [String: String] = files) throws -> Site {
        let result = SiteLoader(today: fixedToday).load(SiteFiles(texts: files))
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.map(\.description).joined(separator: "\n"))")
        return try #require(result.site)
    }
}

/// Compares `text` with `Snapshots/<name>`; `GATEHOUSE_RECORD_SNAPSHOTS=1` (re)records instead.
func assertSnapshot(_ text: String, named name: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
    let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Snapshots").appendingPathComponent(name)
    let record = ProcessInfo.processInfo.environment["GATEHOUSE_RECORD_SNAPSHOTS"] == "1"
    guard !record, let expected = try? String(contentsOf: file, encoding: .utf8) else {
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: file)
        if !record {
            Issue.record(Comment(rawValue: "recorded a new snapshot at \(file.path); check it and run the tests again"),
                         sourceLocation: sourceLocation)
        }
        return
    }
    guard expected != text else { return }
    let expectedLines = expected.split(separator: "\n", omittingEmptySubsequences: false)
    let actualLines = text.split(separator: "\n", omittingEmptySubsequences: false)
    var diff: [String] = []
    for index in 0..<max(expectedLines.count, actualLines.count) {
        let old = index < expectedLines.count ? String(expectedLines[index]) : nil
        let new = index < actualLines.count ? String(actualLines[index]) : nil
        if old != new {
            if let old { diff.append("\(index + 1) - \(old)") }
            if let new { diff.append("\(index + 1) + \(new)") }
        }
        if diff.count >= 20 { break }
    }
    let message = "\(name) differs from its snapshot (GATEHOUSE_RECORD_SNAPSHOTS=1 re-records):\n"
        + diff.joined(separator: "\n")
    Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
}

/// A fresh folder under the system's temporary folder, removed by the caller.
func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-rendering-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Every file below `folder` (relative path -> bytes), dotfiles included.
func snapshotFolder(_ folder: URL) throws -> [String: [UInt8]] {
    var files: [String: [UInt8]] = [:]
    let root = folder.standardizedFileURL.path
    guard let enumerator = FileManager.default.enumerator(atPath: root) else { return [:] }
    for case let path as String in enumerator {
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: root + "/" + path, isDirectory: &isDirectory)
        if !isDirectory.boolValue { files[path] = [UInt8](FileManager.default.contents(atPath: root + "/" + path)!) }
    }
    return files
}

/// Every folder below `folder`, relative.
func folders(in folder: URL) -> Set<String> {
    var found = Set<String>()
    let root = folder.standardizedFileURL.path
    for case let path as String in FileManager.default.enumerator(atPath: root)! {
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: root + "/" + path, isDirectory: &isDirectory)
        if isDirectory.boolValue { found.insert(path) }
    }
    return found
}

extension String {
    /// Number of non-overlapping occurrences.
    func occurrences(of needle: String) -> Int { components(separatedBy: needle).count - 1 }
}
