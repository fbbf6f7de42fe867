internal import Dispatch
internal import Foundation
public import GatehouseModel
public import Rendering

/// Every file of the generated portal, in memory: path relative to the output folder -> bytes.
public struct SiteOutput: Sendable, Hashable {
    public var files: [String: [UInt8]]

    public init(files: [String: [UInt8]] = [:]) {
        self.files = files
    }

    /// A file as UTF-8 text (tests and diagnostics), or nil when absent.
    public func text(_ path: String) -> String? {
        files[path].map { String(decoding: $0, as: UTF8.self) }
    }

    /// Paths in byte order, as they are written.
    public var paths: [String] { files.keys.sorted() }
}

/// How far rendering is: `done` of `total` access packages.
public struct BuildProgress: Sendable, Hashable {
    public var done: Int
    public var total: Int

    public init(done: Int, total: Int) {
        self.done = done
        self.total = total
    }
}

extension Generator {
    /// Renders every page of `site` into memory, in parallel across packages. Pure: the same site
    /// and theme always give the same bytes.
    public static func render(
        _ site: Site, theme: Theme, progress: (@Sendable (BuildProgress) -> Void)? = nil
    ) throws -> SiteOutput {
        let renderer: PortalRenderer
        do { renderer = try PortalRenderer(site: site, theme: theme) } catch let error as TemplateError {
            throw BuildError.templates(error)
        }
        var files: [String: [UInt8]] = [:]
        func add(_ path: String, _ bytes: [UInt8]) throws {
            try OutputPath.validate(path)
            guard files.updateValue(bytes, forKey: path) == nil else { throw BuildError.duplicateOutput(path) }
        }
        func page(_ path: String, _ html: String) throws { try add(Paths.outputFile(for: path), Array(html.utf8)) }

        try rendering {
            try page(Paths.home, renderer.home())
            try page(Paths.signIn, renderer.signIn())
            try page(Paths.notFound, renderer.notFound())
        }
        for (name, bytes) in theme.assets { try add(Paths.outputFile(for: Paths.asset(name)), bytes) }
        for file in site.staticFiles { try add(Paths.outputFile(for: Paths.staticFile(file.path)), file.contents) }

        for batch in try renderPackages(site.packages, renderer: renderer, progress: progress) {
            for page in batch { try add(page.path, page.bytes) }
        }
        return SiteOutput(files: files)
    }

    /// The pages of the packages, rendered by `concurrentPerform` in batches; each batch keeps its
    /// results in its own slot, so no lock is held while rendering.
    private static func renderPackages(
        _ packages: [AccessPackage], renderer: PortalRenderer, progress: (@Sendable (BuildProgress) -> Void)?
    ) throws -> [[RenderedPage]] {
        let batchSize = 32
        let batches = (packages.count + batchSize - 1) / batchSize
        let results = Slots<Result<[RenderedPage], any Error>>(count: batches)
        let counter = ProgressCounter(total: packages.count, report: progress)
        DispatchQueue.concurrentPerform(iterations: batches) { batch in
            let range = batch * batchSize..<min(packages.count, (batch + 1) * batchSize)
            results[batch] = Result {
                var pages: [RenderedPage] = []
                for package in packages[range] {
                    try pages.append(contentsOf: renderPages(of: package, renderer: renderer))
                }
                return pages
            }
            counter.add(range.count)
        }
        return try results.values.map { try $0!.get() }
    }

    /// A package page, and its request forms: one per self-service policy and language.
    static func renderPages(of package: AccessPackage, renderer: PortalRenderer) throws -> [RenderedPage] {
        try rendering {
            var pages = [RenderedPage(Paths.package(package.id), Array(try renderer.packagePage(package).utf8))]
            let languages = renderer.site.tenant.languages
            for policy in renderer.formPolicies(of: package) {
                for language in languages {
                    let html = Array(try renderer.requestForm(package, policy: policy, language: language).utf8)
                    let variant = language == renderer.site.tenant.defaultLanguage ? nil : language
                    pages.append(RenderedPage(
                        file: Paths.requestFormFile(package: package.id, policy: policy.id, language: variant), html))
                }
            }
            return pages
        }
    }

    private static func rendering<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as TemplateError { throw BuildError.templates(error) }
    }
}

/// A page's output file and its bytes.
struct RenderedPage {
    var path: String
    var bytes: [UInt8]

    init(_ urlPath: String, _ bytes: [UInt8]) {
        self.init(file: Paths.outputFile(for: urlPath), bytes)
    }

    init(file: String, _ bytes: [UInt8]) {
        path = file
        self.bytes = bytes
    }
}

/// One result slot per parallel task; each slot is written by exactly one task.
final class Slots<Value>: @unchecked Sendable {
    private let storage: UnsafeMutablePointer<Value?>
    let count: Int

    init(count: Int) {
        self.count = count
        storage = .allocate(capacity: max(count, 1))
        storage.initialize(repeating: nil, count: count)
    }

    deinit {
        storage.deinitialize(count: count)
        storage.deallocate()
    }

    /// Each index is written by one task and read after all tasks finished.
    subscript(index: Int) -> Value? {
        get { storage[index] }
        set { storage[index] = newValue }
    }

    var values: [Value?] { (0..<count).map { storage[$0] } }
}

/// Counts finished packages across threads and reports about every percent, serially.
final class ProgressCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var done = 0
    private var reported = 0
    private let total: Int
    private let report: (@Sendable (BuildProgress) -> Void)?

    init(total: Int, report: (@Sendable (BuildProgress) -> Void)?) {
        self.total = total
        self.report = report
    }

    func add(_ count: Int) {
        guard let report else { return }
        lock.lock()
        defer { lock.unlock() }
        done += count
        if done == total || done - reported >= max(1, total / 100) {
            reported = done
            report(BuildProgress(done: done, total: total))
        }
    }
}
