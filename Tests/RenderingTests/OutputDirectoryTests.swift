import Foundation
import GatehouseModel
import GatehouseSite
import Rendering
import SiteGenerator
import Testing

/// Writing to disk: deterministic, incremental, atomic.
struct OutputDirectoryTests {
    /// Writes `files` as a site folder and returns build options into `folder/public`.
    func options(in folder: URL, site files: [String: String]) throws -> BuildOptions {
        let site = folder.appendingPathComponent("site")
        try? FileManager.default.removeItem(at: site)
        for (path, text) in files {
            let url = site.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        return BuildOptions(
            siteDirectory: site, templatesDirectory: Repository.templates,
            outputDirectory: folder.appendingPathComponent("public"), today: fixedToday)
    }

    @Test func twoBuildsAreByteIdentical() throws {
        let first = try Fixture.render()
        let second = try Fixture.render()
        #expect(first == second)

        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let a = folder.appendingPathComponent("a"), b = folder.appendingPathComponent("b")
        try OutputDirectory.write(first, to: a)
        try OutputDirectory.write(second, to: b)
        #expect(try snapshotFolder(a) == snapshotFolder(b))
        #expect(try snapshotFolder(a)["access-packages/open/index.html"] == first.files["access-packages/open/index.html"])
    }

    @Test func secondBuildWritesNothing() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let options = try options(in: folder, site: Fixture.files)

        let first = try Generator.build(options)
        #expect(first.files == 15)
        #expect((first.written, first.unchanged, first.removed) == (15, 0, 0))
        let written = try snapshotFolder(options.outputDirectory)

        let second = try Generator.build(options)
        #expect((second.files, second.written, second.unchanged, second.removed) == (15, 0, 15, 0))
        #expect(try snapshotFolder(options.outputDirectory) == written)

        // Same bytes rendered again (the inputs' fingerprint differs): compared, not rewritten.
        let output = try Fixture.render()
        let rewrite = try OutputDirectory.write(output, to: options.outputDirectory)
        #expect(rewrite == WriteSummary(written: 0, unchanged: 15, removed: 0))
    }

    @Test func changedPackageRewritesOnlyItsPages() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Generator.build(try options(in: folder, site: Fixture.files))

        var files = Fixture.files
        files["packages/secret.md"] = Fixture.package(name: "Secret package", hidden: true, description: "Changed words.")
        let options = try options(in: folder, site: files)
        let inodes = try inodeNumbers(options.outputDirectory)
        let summary = try Generator.build(options)
        #expect((summary.written, summary.unchanged, summary.removed) == (1, 14, 0))
        let after = try inodeNumbers(options.outputDirectory)
        let replaced = Set(after.keys.filter { after[$0] != inodes[$0] })
        #expect(replaced == ["access-packages/secret/index.html", ".gatehouse-manifest"])
    }

    @Test func removedPackagePagesAndFoldersDisappear() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Generator.build(try options(in: folder, site: Fixture.files))
        let out = folder.appendingPathComponent("public")
        #expect(folders(in: out).contains("access-packages/secret"))

        var files = Fixture.files
        files["packages/secret.md"] = nil
        let summary = try Generator.build(try options(in: folder, site: files))
        #expect((summary.files, summary.written, summary.removed) == (12, 0, 3))
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("access-packages/secret").path))
        #expect(!folders(in: out).contains { $0.hasPrefix("access-packages/secret") })
        #expect(folders(in: out).contains("access-packages/open"))
    }

    @Test func strayFilesAndLeftoverTemporaryFilesAreRemoved() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let options = try options(in: folder, site: Fixture.files)
        try Generator.build(options)
        let out = options.outputDirectory
        try Data("old".utf8).write(to: out.appendingPathComponent("access-packages/open/.index.html.gatehouse-tmp"))
        try FileManager.default.createDirectory(at: out.appendingPathComponent("old/deep"), withIntermediateDirectories: true)
        try Data("old".utf8).write(to: out.appendingPathComponent("old/deep/page.html"))
        try Data("edited".utf8).write(to: out.appendingPathComponent("404.html"))

        let summary = try Generator.build(options)
        #expect((summary.written, summary.removed) == (1, 2))
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("old").path))
        #expect(try snapshotFolder(out)["404.html"] == Fixture.render().files["404.html"])
    }

    @Test func failedBuildLeavesThePreviousOutputUntouched() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Generator.build(try options(in: folder, site: Fixture.files))
        let out = folder.appendingPathComponent("public")
        let before = try snapshotFolder(out)
        let foldersBefore = folders(in: out)

        var files = Fixture.files
        files["packages/open.md"] = nil  // would remove pages…
        files["packages/clerk-tools.md"] = Fixture.package(name: "Clerk tools", catalog: "missing")  // …but the model is wrong
        #expect {
            try Generator.build(try options(in: folder, site: files))
        } throws: { error in
            guard case BuildError.invalidModel(let diagnostics) = error else { return false }
            return diagnostics.first?.description.hasPrefix("packages/clerk-tools.md:") == true
        }
        #expect(try snapshotFolder(out) == before)
        #expect(folders(in: out) == foldersBefore)
    }

    @Test func brokenTemplatesLeaveThePreviousOutputUntouched() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("public")
        try OutputDirectory.write(try Fixture.render(), to: out)
        let before = try snapshotFolder(out)
        var theme = Repository.theme
        theme.templates["package"] = "{{#unclosed}}"
        #expect(throws: BuildError.self) {
            try OutputDirectory.write(try Generator.render(try Fixture.site(), theme: theme), to: out)
        }
        #expect(try snapshotFolder(out) == before)
    }

    @Test func refusesToCleanAFolderItDidNotWrite() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("mine".utf8).write(to: folder.appendingPathComponent("notes.txt"))
        #expect(throws: BuildError.foreignOutput(folder.standardizedFileURL.path)) {
            try OutputDirectory.write(try Fixture.render(), to: folder)
        }
        #expect(try snapshotFolder(folder) == ["notes.txt": Array("mine".utf8)])
    }

    @Test func unsafeIDsNeverBecomePaths() {
        #expect(throws: BuildError.unsafePath("access-packages/../index.html")) {
            try OutputDirectory.write(SiteOutput(files: ["access-packages/../index.html": []]), to: URL(fileURLWithPath: "/nonexistent-gatehouse"))
        }
        #expect(BuildError.unsafePath("a/.b").description.contains("ids must not be empty, start with '.'"))
    }

    @Test func noChangeRebuildChecksSizes() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let options = try options(in: folder, site: Fixture.files)
        try Generator.build(options)
        // A page removed by hand is noticed and written again.
        try FileManager.default.removeItem(at: options.outputDirectory.appendingPathComponent("access-packages/open/index.html"))
        let summary = try Generator.build(options)
        #expect((summary.written, summary.unchanged) == (1, 14))
    }

    private func inodeNumbers(_ folder: URL) throws -> [String: UInt64] {
        var numbers: [String: UInt64] = [:]
        for path in try snapshotFolder(folder).keys {
            let attributes = try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(path).path)
            numbers[path] = (attributes[.systemFileNumber] as? NSNumber)?.uint64Value
        }
        return numbers
    }
}

extension OutputDirectoryTests {
    @Test func fileAndFolderCanTradePlaces() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try OutputDirectory.write(SiteOutput(files: ["static/a": Array("file".utf8), "static/b/c": Array("deep".utf8)]), to: folder)
        let summary = try OutputDirectory.write(SiteOutput(files: ["static/a/x": Array("now a folder".utf8), "static/b": Array("now a file".utf8)]), to: folder)
        #expect(summary == WriteSummary(written: 2, unchanged: 0, removed: 0))
        #expect(try snapshotFolder(folder) == [
            ".gatehouse-manifest": Array("gatehouse-manifest 1\nfingerprint \n12 static/a/x\n10 static/b\n".utf8),
            "static/a/x": Array("now a folder".utf8), "static/b": Array("now a file".utf8),
        ])
    }
}
