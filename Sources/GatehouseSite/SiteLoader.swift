import Dispatch
import Foundation
public import GatehouseModel

/// The outcome of loading a site: the model when it is valid, and every problem found.
public struct SiteLoadResult: Sendable {
    /// nil when any error diagnostic exists.
    public var site: Site?
    /// Sorted by file, line and column; all problems, not just the first.
    public var diagnostics: [Diagnostic]

    public init(site: Site?, diagnostics: [Diagnostic]) {
        self.site = site
        self.diagnostics = diagnostics
    }

    public var errorCount: Int { diagnostics.count { $0.severity == .error } }
}

/// Turns the files of a site folder into a validated `Site`.
///
/// Files are read in dependency order — tenant.yaml, people.yaml, organizations, catalogs, packages —
/// so each file's references are checked against the files it depends on, and a file that cannot be
/// read does not cause a cascade of "unknown" errors in the files that name it.
public struct SiteLoader: Sendable {
    /// Injected so that "an end date already past" does not depend on the clock.
    public var today: CalendarDay

    public init(today: CalendarDay) { self.today = today }

    public func load(_ files: SiteFiles) -> SiteLoadResult {
        let log = DiagnosticLog()
        var known = Known(today: today)
        let layout = Layout(files, log: log)

        // tenant.yaml
        var tenant = DecodedTenant()
        if let root = document("tenant.yaml", in: files, layout: layout, log: log,
                               missing: "every site needs one, with name, domains, baseURL, timeZone and languages") {
            tenant = Context(known: known, log: log).decodeTenant(root)
        }
        known.domains = tenant.domains
        known.languages = tenant.languages

        // people.yaml
        var directory: Directory?
        if let root = document("people.yaml", in: files, layout: layout, log: log,
                               missing: "every site needs one, listing the tenant's people and groups") {
            directory = Context(known: known, log: log).decodeDirectory(root)
            if let directory {
                known.people = Dictionary(directory.people.map { ($0.email.lowercased(), $0) }, uniquingKeysWith: { first, _ in first })
                known.groups = Set(directory.groups.map(\.id))
            }
        }
        for (email, value) in tenant.admins {
            Context(known: known, log: log).person(email, at: value, as: "tenant admin")
        }

        // organizations/
        known.organizationIDs = Set(layout.organizations.map(\.id))
        var domainOwners: [String: String] = [:]
        var organizations: [Organization] = []
        for file in layout.organizations {
            guard let root = document(file.path, in: files, layout: layout, log: log),
                  let organization = Context(known: known, log: log).decodeOrganization(id: file.id, root, domainOwners: &domainOwners)
            else { continue }
            organizations.append(organization)
            known.organizations[file.id] = organization
        }
        reportDuplicateNames(organizations.map { ($0.name, $0.source, "organization", "organizations/\($0.id).yaml") }, log: log)

        // catalogs/
        known.catalogIDs = Set(layout.catalogs.map(\.id))
        var resourceOwners: [String: (catalog: String, at: SourceLocation)] = [:]
        var catalogs: [Catalog] = []
        for file in layout.catalogs {
            let root = document(file.path, in: files, layout: layout, log: log)
            let catalog = root.flatMap { Context(known: known, log: log).decodeCatalog(id: file.id, $0, resourceOwners: &resourceOwners) }
            if let catalog {
                catalogs.append(catalog)
                known.catalogs[file.id] = catalog
            }
        }
        known.resourceCatalogs = resourceOwners.mapValues(\.catalog)
        reportDuplicateNames(catalogs.map { ($0.name, $0.source, "catalog", "catalogs/\($0.id).yaml") }, log: log)

        // packages/
        known.packageIDs = Set(layout.packages.map(\.id))
        var packages: [AccessPackage] = []
        for (package, diagnostics) in Self.packages(layout.packages, files: files, known: known) {
            log.append(contentsOf: diagnostics)
            if let package { packages.append(package) }
        }
        // Two packages of one catalog with the same name cannot be told apart in the portal.
        for catalog in Set(packages.map(\.catalog)).sorted() {
            reportDuplicateNames(packages.filter { $0.catalog == catalog }.map {
                ($0.name, $0.source, "package", "packages/\($0.id).md in catalog '\(catalog)'")
            }, log: log)
        }

        var diagnostics: [Diagnostic] = []
        for diagnostic in log.diagnostics.sorted(by: { ($0.location, $0.message) < ($1.location, $1.message) })
        where diagnostic != diagnostics.last {
            diagnostics.append(diagnostic)
        }
        var site: Site?
        if log.errorCount == 0, let tenant = tenant.tenant, let directory {
            site = Site(tenant: tenant, directory: directory, organizations: organizations.sorted { $0.id < $1.id },
                        catalogs: catalogs.sorted { $0.id < $1.id }, packages: packages.sorted { $0.id < $1.id },
                        staticFiles: layout.staticFiles)
        }
        return SiteLoadResult(site: site, diagnostics: diagnostics)
    }

    /// Packages only depend on the files read before them, so they are read in parallel, each with its own log.
    static func packages(_ list: [Layout.File], files: SiteFiles, known: Known) -> [(AccessPackage?, [Diagnostic])] {
        let results = UnsafeMutableBufferPointer<(AccessPackage?, [Diagnostic])>.allocate(capacity: list.count)
        results.initialize(repeating: (nil, []))
        defer { results.deallocate() }
        let slots = Slots(results)
        let chunks = min(list.count, ProcessInfo.processInfo.activeProcessorCount * 4)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            for index in stride(from: chunk, to: list.count, by: chunks) {
                let log = DiagnosticLog()
                let package = Self.package(list[index], bytes: files.files[list[index].path] ?? [], known: known, log: log)
                slots.buffer[index] = (package, log.diagnostics)
            }
        }
        let collected = Array(results)
        _ = results.deinitialize()
        return collected
    }

    /// Front matter, then YAML, then the package; positions are those of the .md file.
    static func package(_ file: Layout.File, bytes: [UInt8], known: Known, log: DiagnosticLog) -> AccessPackage? {
        guard let text = Documents.text(of: bytes, path: file.path, log: log) else { return nil }
        let start = SourceLocation(file: file.path, line: 1, column: 1)
        switch Documents.frontMatter(of: text) {
        case .failure(.missing):
            log.error(start, "couldn't find front matter in `\(file.path)`; did you forget to add `---` at the top?")
            return nil
        case .failure(.unclosed):
            log.error(start, "the front matter of `\(file.path)` is not closed; add a `---` line after the YAML, before the description")
            return nil
        case .success(let frontMatter):
            let yaml = YAMLFile(path: file.path, lineOffset: frontMatter.lineOffset)
            guard let root = Documents.parse(frontMatter.yaml, file: yaml, log: log) else { return nil }
            return Context(known: known, log: log).decodePackage(id: file.id, root, description: frontMatter.body)
        }
    }

    /// The parsed YAML of `path`, reporting a missing file when `missing` says why it is needed.
    private func document(_ path: String, in files: SiteFiles, layout: Layout, log: DiagnosticLog, missing: String? = nil) -> Value? {
        guard let bytes = files.files[path] else {
            if let missing {
                let hint = didYouMean(path, among: layout.topLevelFiles)
                log.error(SourceLocation(file: path, line: 1, column: 1), "missing \(path): \(missing)\(hint)")
            }
            return nil
        }
        guard let text = Documents.text(of: bytes, path: path, log: log) else { return nil }
        return Documents.parse(text, file: YAMLFile(path: path), log: log)
    }

    private func reportDuplicateNames(_ items: [(name: String, source: SourceMap, kind: String, file: String)], log: DiagnosticLog) {
        var first: [String: String] = [:]
        for item in items {
            let key = item.name.lowercased()
            if let other = first[key] {
                log.error(item.source["name"], "\(item.kind) name '\(item.name)' is already used by \(other); give each \(item.kind) a distinct name")
            } else {
                first[key] = item.file
            }
        }
    }
}

/// Which files of the site are organizations, catalogs, packages and static files; misplaced ones are reported.
struct Layout {
    struct File: Sendable {
        var id: String
        var path: String
    }

    var organizations: [File] = []
    var catalogs: [File] = []
    var packages: [File] = []
    var staticFiles: [StaticFile] = []
    var topLevelFiles: [String] = []

    private static let folders: [(folder: String, singular: String, plural: String, suffix: String)] = [
        ("organizations", "organization", "organizations", ".yaml"),
        ("catalogs", "catalog", "catalogs", ".yaml"),
        ("packages", "package", "packages", ".md"),
    ]

    init(_ files: SiteFiles, log: DiagnosticLog) {
        for path in files.files.keys.sorted() {
            let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            if parts.contains(where: { $0.hasPrefix(".") }) { continue }
            if parts.count == 1 {
                topLevelFiles.append(path)
                continue
            }
            if parts[0] == "static" {
                if !path.hasSuffix("/") {
                    staticFiles.append(StaticFile(path: parts.dropFirst().joined(separator: "/"), contents: files.files[path] ?? []))
                }
                continue
            }
            guard let folder = Self.folders.first(where: { $0.folder == parts[0] }) else { continue }
            let location = SourceLocation(file: path, line: 1, column: 1)
            guard parts.count == 2, !parts[1].isEmpty else {
                log.error(location, "sub-folders of \(folder.folder)/ are not read; move the files into \(folder.folder)/ itself")
                continue
            }
            let name = parts[1]
            guard name.hasSuffix(folder.suffix), name.count > folder.suffix.count else {
                var stem = name.split(separator: ".").first.map(String.init) ?? name
                if !Names.isValidID(stem) { stem = Names.slug(stem) }
                log.error(location, "\(path) is not read: \(folder.plural) are files named \(folder.folder)/<id>\(folder.suffix); rename it to \(folder.folder)/\(stem)\(folder.suffix)")
                continue
            }
            let id = String(name.dropLast(folder.suffix.count))
            if !Names.isValidID(id) {
                log.error(location, "\(folder.singular) id '\(id)' (the file name) is not valid: \(Names.idRule); rename the file to \(folder.folder)/\(Names.slug(id))\(folder.suffix)")
            }
            let file = File(id: id, path: path)
            switch folder.folder {
            case "organizations": organizations.append(file)
            case "catalogs": catalogs.append(file)
            default: packages.append(file)
            }
        }
    }
}

/// Result slots written by concurrent workers, each at its own index.
private struct Slots<Element>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Element>
    init(_ buffer: UnsafeMutableBufferPointer<Element>) { self.buffer = buffer }
}
