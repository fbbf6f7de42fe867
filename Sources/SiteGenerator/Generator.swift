public import Foundation
internal import Dispatch
public import GatehouseModel
public import GatehouseSite
public import Rendering

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// Where `gatehouse build` reads and writes, and the day it validates against.
public struct BuildOptions: Sendable, Hashable {
    public var siteDirectory: URL
    public var templatesDirectory: URL
    public var outputDirectory: URL
    /// "Today" for rules such as "an end date already past"; injected, never read from a clock here.
    public var today: CalendarDay

    public init(siteDirectory: URL, templatesDirectory: URL, outputDirectory: URL, today: CalendarDay) {
        self.siteDirectory = siteDirectory
        self.templatesDirectory = templatesDirectory
        self.outputDirectory = outputDirectory
        self.today = today
    }

    public init(site: String, templates: String, output: String, today: CalendarDay) {
        self.init(
            siteDirectory: URL(fileURLWithPath: site), templatesDirectory: URL(fileURLWithPath: templates),
            outputDirectory: URL(fileURLWithPath: output), today: today)
    }
}

public struct BuildSummary: Sendable, Hashable {
    /// Files of the portal (pages, stylesheet, static files): written + unchanged.
    public var files: Int
    public var written: Int
    public var unchanged: Int
    public var removed: Int
    /// Wall time of the whole build.
    public var seconds: Double
    /// Model warnings; the build succeeded anyway.
    public var warnings: [Diagnostic]
    /// Wall time of each phase, in order (`read`, `check`, `load`, `render`, `write`), for `--timings`.
    public var phases: [Phase]

    public struct Phase: Sendable, Hashable {
        public var name: String
        public var seconds: Double
    }
}

/// `gatehouse build`: load -> validate -> render (in memory) -> write (atomic, incremental).
public enum Generator {
    /// Builds the portal. Throws `BuildError` before touching the output folder when the model or
    /// the templates are wrong. When neither the inputs, nor `today`, nor the gatehouse executable
    /// changed since the last build and its files are all in place, nothing is rendered.
    @discardableResult
    public static func build(_ options: BuildOptions, progress: (@Sendable (BuildProgress) -> Void)? = nil) throws -> BuildSummary {
        let clock = ContinuousClock()
        let start = clock.now
        var phases: [BuildSummary.Phase] = []
        var phaseStart = start
        func seconds(since instant: ContinuousClock.Instant) -> Double {
            let elapsed = clock.now - instant
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }
        func phase(_ name: String) {
            phases.append(BuildSummary.Phase(name: name, seconds: seconds(since: phaseStart)))
            phaseStart = clock.now
        }

        // While the inputs are read, another thread checks that the last build's files are intact.
        let lastBuild = Background { OutputDirectory.intactBuild(in: options.outputDirectory) }
        let files: SiteFiles
        do { files = try SiteFiles.read(directory: options.siteDirectory.path) } catch let diagnostic as Diagnostic {
            throw BuildError.invalidModel([diagnostic])
        }
        let theme: Theme
        do { theme = try Theme.load(directory: options.templatesDirectory.path) } catch let error as TemplateError {
            throw BuildError.templates(error)
        }
        phase("read")
        let fingerprint = Fingerprint.of(files: files, theme: theme, today: options.today, tool: toolIdentity())
        let last = lastBuild.value
        phase("check")
        if let last, last.fingerprint == fingerprint {
            let count = last.files
            return BuildSummary(
                files: count, written: 0, unchanged: count, removed: 0, seconds: seconds(since: start), warnings: [],
                phases: phases)
        }
        let (site, warnings) = try load(files, today: options.today)
        phase("load")
        let output = try render(site, theme: theme, progress: progress)
        phase("render")
        let written = try OutputDirectory.write(output, to: options.outputDirectory, fingerprint: fingerprint)
        phase("write")
        return BuildSummary(
            files: output.files.count, written: written.written, unchanged: written.unchanged, removed: written.removed,
            seconds: seconds(since: start), warnings: warnings, phases: phases)
    }

    /// Loads and validates; throws `BuildError.invalidModel` with every diagnostic when any is an error.
    public static func load(_ files: SiteFiles, today: CalendarDay) throws -> (site: Site, warnings: [Diagnostic]) {
        let result = SiteLoader(today: today).load(files)
        guard let site = result.site, !result.diagnostics.contains(where: { $0.severity == .error }) else {
            throw BuildError.invalidModel(result.diagnostics)
        }
        return (site, result.diagnostics)
    }

    /// Load and render in memory: the whole-site path tests use (no disk).
    public static func render(_ files: SiteFiles, theme: Theme, today: CalendarDay) throws -> SiteOutput {
        try render(load(files, today: today).site, theme: theme)
    }

    /// Identifies the running gatehouse executable (path, size, modification time) so that a new
    /// build of the tool re-renders; it never influences the output itself.
    static func toolIdentity() -> String {
        let path = Bundle.main.executablePath ?? CommandLine.arguments.first ?? ""
        var info = stat()
        guard stat(path, &info) == 0 else { return path }
        #if canImport(Darwin)
        let modified = info.st_mtimespec
        #else
        let modified = info.st_mtim
        #endif
        return "\(path) \(info.st_size) \(modified.tv_sec).\(modified.tv_nsec)"
    }
}

/// A value computed on another thread, waited for when needed.
final class Background<Value: Sendable>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Value?

    init(_ work: @escaping @Sendable () -> Value) {
        DispatchQueue.global().async {
            self.result = work()
            self.done.signal()
        }
    }

    var value: Value {
        done.wait()
        done.signal()
        return result!
    }
}

/// A digest of everything a build reads, to recognise a build with nothing to do.
enum Fingerprint {
    static let version = "gatehouse-build-1"

    static func of(files: SiteFiles, theme: Theme, today: CalendarDay, tool: String) -> String {
        var items: [(name: String, bytes: [UInt8])] = [
            ("version", Array(version.utf8)), ("today", Array(today.description.utf8)), ("tool", Array(tool.utf8)),
        ]
        items += files.files.keys.sorted().map { ("site/" + $0, files.files[$0]!) }
        items += theme.templates.keys.sorted().map { ("template/" + $0, Array(theme.templates[$0]!.utf8)) }
        items += theme.assets.keys.sorted().map { ("asset/" + $0, theme.assets[$0]!) }

        // Each item is digested on its own (in parallel), then the digests are combined in order.
        let digests = Slots<Digest>(count: items.count)
        let work = items
        let chunks = min(work.count, 16)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            for index in stride(from: chunk, to: work.count, by: chunks) {
                var digest = Digest()
                digest.add(Array(work[index].name.utf8))
                digest.add(work[index].bytes)
                digests[index] = digest
            }
        }
        var total = Digest()
        for digest in digests.values { total.add(digest!) }
        return total.hex
    }

    /// Two independent 64-bit lanes over 8-byte words (FNV-style multiply and rotate), with each
    /// item's length mixed in; for change detection, not security.
    struct Digest {
        var a: UInt64 = 0xcbf2_9ce4_8422_2325
        var b: UInt64 = 0x8422_2325_cbf2_9ce4

        mutating func add(_ bytes: [UInt8]) {
            mix(UInt64(bytes.count))
            bytes.withUnsafeBytes { raw in
                var offset = 0
                while offset + 8 <= raw.count {
                    mix(raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                    offset += 8
                }
                var tail: UInt64 = 0
                for index in offset..<raw.count { tail = tail << 8 | UInt64(raw[index]) }
                mix(tail)
            }
        }

        mutating func add(_ other: Digest) {
            mix(other.a)
            mix(other.b)
        }

        private mutating func mix(_ word: UInt64) {
            a = ((a ^ word) &* 0x0000_0100_0000_01b3).rotatedLeft(by: 29)
            b = ((b ^ word) &* 0x9e37_79b9_7f4a_7c15).rotatedLeft(by: 31)
        }

        var hex: String { ContentHash.hex(a) + ContentHash.hex(b) }
    }
}

extension UInt64 {
    fileprivate func rotatedLeft(by n: UInt64) -> UInt64 { self << n | self >> (64 - n) }
}
