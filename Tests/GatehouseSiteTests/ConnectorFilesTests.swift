import Foundation
import GatehouseModel
import GatehouseSite
import Testing

@Suite struct ConnectorFilesTests {
    /// The fixture with the wiki and portal resources declaring `wiki` and `portal` as connectors.
    private static func site(wiki: String, portal: String) throws -> Site {
        let catalog = Fixture.edit(
            "catalogs/general.yaml",
            """
              - {id: wiki, type: site, name: Wiki}
              - {id: portal, type: application, name: Portal, roles: [Reader, Contributor]}
            """,
            """
              - {id: wiki, type: site, name: Wiki, connector: \(wiki)}
              - {id: portal, type: application, name: Portal, roles: [Reader, Contributor], connector: \(portal)}
            """)
        return try #require(load(Fixture.site(["catalogs/general.yaml": catalog])).site)
    }

    /// A temporary site folder with `connectors/ok.sh` (executable), `connectors/plain.sh` (not
    /// executable) and the folder `connectors/dir`.
    private static func folder() throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-connectors-\(UUID().uuidString)")
        let connectors = root.appendingPathComponent("connectors")
        try FileManager.default.createDirectory(at: connectors.appendingPathComponent("dir"), withIntermediateDirectories: true)
        for (name, mode) in [("ok.sh", 0o755), ("plain.sh", 0o644)] {
            let path = connectors.appendingPathComponent(name).path
            try Data("#!/bin/sh\nexit 0\n".utf8).write(to: URL(fileURLWithPath: path))
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        }
        return root.path
    }

    @Test func anExecutableConnectorPassesAndTheOthersAreNamedAtTheirLine() throws {
        let root = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(ConnectorFiles.problems(in: try Self.site(wiki: "connectors/ok.sh", portal: "connectors/ok.sh"), siteFolder: root).isEmpty)

        let found = ConnectorFiles.problems(in: try Self.site(wiki: "connectors/plain.sh", portal: "connectors/missing.sh"), siteFolder: root)
        #expect(found.map(\.description) == [
            "catalogs/general.yaml:4:51: error: the connector of resource 'wiki', 'connectors/plain.sh' (in \(root)), is not executable: run chmod +x on it",
            "catalogs/general.yaml:5:92: error: the connector of resource 'portal', 'connectors/missing.sh' (in \(root)), does not exist: check the path",
        ])
        let folderOnly = ConnectorFiles.problems(in: try Self.site(wiki: "connectors/dir", portal: "connectors/ok.sh"), siteFolder: root)
        #expect(folderOnly.map(\.message) == ["the connector of resource 'wiki', 'connectors/dir' (in \(root)), is not a file: name the executable itself"])
    }

    @Test func anAbsolutePathMissingHereIsOnlyAWarning() throws {
        let root = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let found = ConnectorFiles.problems(
            in: try Self.site(wiki: "/nonexistent/gatehouse-connector", portal: root + "/connectors/ok.sh"), siteFolder: root)
        #expect(found.map(\.severity) == [.warning])
        #expect(found.map(\.message) == ["the connector of resource 'wiki', '/nonexistent/gatehouse-connector', does not exist: check the path"])
    }
}
