internal import Dispatch
public import Foundation

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// What writing an output did: files rewritten, files left alone because their bytes were the
/// same, and files of an earlier build removed because this build did not produce them.
public struct WriteSummary: Sendable, Hashable {
    public var written = 0
    public var unchanged = 0
    public var removed = 0

    public init(written: Int = 0, unchanged: Int = 0, removed: Int = 0) {
        self.written = written
        self.unchanged = unchanged
        self.removed = removed
    }
}

/// Writes a `SiteOutput` into a folder: every file through a temporary file and a rename, only when
/// its bytes changed, and removes what the build did not produce. A manifest records what was
/// written and from which inputs, so an unchanged rebuild can stop after checking it.
public enum OutputDirectory {
    /// Kept in the output folder; also marks the folder as one `gatehouse build` may clean.
    public static let manifestName = ".gatehouse-manifest"
    static let temporarySuffix = ".gatehouse-tmp"

    /// Writes `output` into `directory` (created when missing). `fingerprint` identifies the inputs
    /// (see `Generator.build`); empty means "unknown", which never matches on the next build.
    ///
    /// Folders that do not exist yet are filled under a hidden temporary name and renamed into
    /// place whole; files in existing folders are compared (size, then bytes) and replaced through
    /// a temporary file and a rename only when they differ. Then every file this build did not
    /// produce is removed, with the folders it leaves empty, and the manifest is written last.
    @discardableResult
    public static func write(_ output: SiteOutput, to directory: URL, fingerprint: String = "") throws -> WriteSummary {
        let root = directory.standardizedFileURL.path
        try makeDirectories(root)
        let manifest = Manifest.read(root: root)
        let fresh = try isEmptyDirectory(root)
        if manifest == nil, !fresh { throw BuildError.foreignOutput(root) }
        for path in output.files.keys { try OutputPath.validate(path) }
        let paths = output.paths

        // Which folders exist, and for each file the highest missing folder above it, if any.
        var exists: [String: Bool] = ["": true]
        func folderExists(_ folder: String) -> Bool {
            if let known = exists[folder] { return known }
            var info = stat()
            let found = lstat(root + "/" + folder, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
            exists[folder] = found
            return found
        }
        var newRoots: [String] = []
        var plan: [(path: String, newRoot: String?)] = []
        plan.reserveCapacity(paths.count)
        for path in paths {
            var newRoot: String?
            var end = path.startIndex
            while let slash = path[end...].firstIndex(of: "/") {
                let folder = String(path[..<slash])
                if !folderExists(folder) {
                    newRoot = folder
                    break
                }
                end = path.index(after: slash)
            }
            if let newRoot, newRoots.last != newRoot { newRoots.append(newRoot) }
            plan.append((path, newRoot))
        }

        // New folders are built under a hidden name, then appear whole.
        var stagingFolders: [String: String] = [:]
        for folder in newRoots {
            let name = folder.split(separator: "/").last!
            let parent = OutputDirectory.parent(folder)
            let staging = root + "/" + (parent.isEmpty ? "" : parent + "/") + "." + name + temporarySuffix
            try removeTree(staging)
            try makeDirectories(staging)
            stagingFolders[folder] = staging
        }
        let staging = stagingFolders
        let work = plan

        // Files, in parallel over contiguous ranges (a package's files stay together).
        let chunks = min(paths.count, 16)
        let results = Slots<Result<WriteSummary, any Error>>(count: chunks)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            results[chunk] = Result {
                var summary = WriteSummary()
                var made = Set<String>()
                let range = chunk * work.count / chunks..<(chunk + 1) * work.count / chunks
                for (path, newRoot) in work[range] {
                    let bytes = output.files[path]!
                    guard let newRoot else {
                        if try writeIfChanged(root + "/" + path, bytes) { summary.written += 1 } else { summary.unchanged += 1 }
                        continue
                    }
                    let target = staging[newRoot]! + path.dropFirst(newRoot.count)
                    let folder = OutputDirectory.parent(target)
                    if !made.contains(folder) {
                        try makeDirectories(folder)
                        made.insert(folder)
                    }
                    try writeNew(target, bytes)
                    summary.written += 1
                }
                return summary
            }
        }
        var summary = WriteSummary()
        var failure: (any Error)?
        for result in results.values {
            switch result! {
            case .success(let part):
                summary.written += part.written
                summary.unchanged += part.unchanged
            case .failure(let error):
                failure = failure ?? error
            }
        }
        if let failure {
            for folder in newRoots { try? removeTree(staging[folder]!) }
            throw failure
        }
        for folder in newRoots {
            let target = root + "/" + folder
            var info = stat()
            if lstat(target, &info) == 0 { try removeTree(target) }  // a file where the folder goes
            guard rename(staging[folder]!, target) == 0 else {
                throw BuildError.output(path: target, message: "cannot move the new folder into place: " + lastError())
            }
        }

        // Everything else in the folder goes (a fresh folder has nothing else), then empty folders.
        if !fresh {
            let produced = Set(paths).union([manifestName])
            var emptied = Set<String>()
            for path in try listFiles(root) where !produced.contains(path) {
                guard unlink(root + "/" + path) == 0 || errno == ENOENT else {
                    throw BuildError.output(path: root + "/" + path, message: "cannot remove: " + lastError())
                }
                summary.removed += 1
                emptied.insert(parent(path))
            }
            for folder in emptied.sorted(by: { $0.count > $1.count }) {
                var current = folder
                while !current.isEmpty, rmdir(root + "/" + current) == 0 { current = parent(current) }
            }
        }

        let newManifest = Manifest(fingerprint: fingerprint, files: paths.map { ($0, output.files[$0]!.count) })
        try writeAtomically(root + "/" + manifestName, newManifest.bytes)
        return summary
    }

    /// The fingerprint and file count of the last build when every one of its files is still
    /// there with the size it was written with; nil when there is no manifest or anything is off.
    public static func intactBuild(in directory: URL) -> (fingerprint: String, files: Int)? {
        let root = directory.standardizedFileURL.path
        guard let manifest = Manifest.read(root: root), !manifest.fingerprint.isEmpty else { return nil }
        let rootFD = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { return nil }
        defer { close(rootFD) }
        let entries = manifest.files
        let chunks = min(entries.count, 16)
        let intact = Slots<Bool>(count: chunks)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            intact[chunk] = stride(from: chunk, to: entries.count, by: chunks).allSatisfy { index in
                var info = stat()
                return fstatat(rootFD, entries[index].path, &info, 0) == 0 && (info.st_mode & S_IFMT) == S_IFREG
                    && Int(info.st_size) == entries[index].size
            }
        }
        return intact.values.allSatisfy { $0 == true } ? (manifest.fingerprint, entries.count) : nil
    }

    /// The number of files of the last build when it came from the same `fingerprint` and is intact.
    public static func upToDate(_ directory: URL, fingerprint: String) -> Int? {
        guard let last = intactBuild(in: directory), last.fingerprint == fingerprint else { return nil }
        return last.files
    }

    // MARK: - Files

    /// Returns whether the file was (re)written.
    static func writeIfChanged(_ path: String, _ bytes: [UInt8]) throws -> Bool {
        if let size = fileSize(path), size == bytes.count, let existing = readFile(path, size: size), existing == bytes {
            return false
        }
        try writeAtomically(path, bytes)
        return true
    }

    /// Writes a temporary file beside `path` and renames it over `path`, so a reader sees the
    /// old bytes or the new ones, never a mix.
    static func writeAtomically(_ path: String, _ bytes: [UInt8]) throws {
        let slash = path.lastIndex(of: "/")!
        let temporary = String(path[...slash]) + "." + path[path.index(after: slash)...] + temporarySuffix
        var fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0, errno == ENOENT {
            // A folder of the last build was removed by hand.
            try makeDirectories(String(path[..<slash]))
            fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        }
        guard fd >= 0 else { throw BuildError.output(path: path, message: "cannot create: " + lastError()) }
        if let failure = writeAll(fd, bytes) ?? (close(fd) == 0 ? nil : lastError()) {
            unlink(temporary)
            throw BuildError.output(path: path, message: "cannot write: " + failure)
        }
        if rename(temporary, path) != 0 {
            // A folder of an older build stands where this file goes.
            if errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST, (try? removeTree(path)) != nil,
               rename(temporary, path) == 0 {
                return
            }
            let message = lastError()
            unlink(temporary)
            throw BuildError.output(path: path, message: "cannot replace: " + message)
        }
    }

    /// Creates a file that cannot exist yet (inside a staging folder) and writes it.
    static func writeNew(_ path: String, _ bytes: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw BuildError.output(path: path, message: "cannot create: " + lastError()) }
        if let failure = writeAll(fd, bytes) ?? (close(fd) == 0 ? nil : lastError()) {
            throw BuildError.output(path: path, message: "cannot write: " + failure)
        }
    }

    /// Writes every byte; returns the error text on failure (the descriptor stays open).
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> String? {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return lastError()
                }
                offset += n
            }
            return nil
        }
    }

    /// `rm -rf`, for staging folders left by an interrupted build.
    static func removeTree(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            for file in try listFiles(path) { unlink(path + "/" + file) }
            var folders: [String] = []
            func collect(_ folder: String) {
                guard let dir = opendir(folder) else { return }
                defer { closedir(dir) }
                while let entry = readdir(dir) {
                    let name = entryName(entry)
                    if name != ".", name != ".." { folders.append(folder + "/" + name); collect(folder + "/" + name) }
                }
            }
            collect(path)
            for folder in folders.sorted(by: { $0.count > $1.count }) { rmdir(folder) }
            guard rmdir(path) == 0 else { throw BuildError.output(path: path, message: "cannot remove: " + lastError()) }
        } else if unlink(path) != 0 {
            throw BuildError.output(path: path, message: "cannot remove: " + lastError())
        }
    }

    static func fileSize(_ path: String) -> Int? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int(info.st_size)
    }

    static func readFile(_ path: String, size: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: size)
        var offset = 0
        let complete = bytes.withUnsafeMutableBytes { buffer -> Bool in
            while offset < size {
                let n = read(fd, buffer.baseAddress! + offset, size - offset)
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { return false }
                offset += n
            }
            return true
        }
        return complete ? bytes : nil
    }

    /// `mkdir -p`; a file standing where a folder must be (left by an older build) is replaced.
    static func makeDirectories(_ path: String) throws {
        if mkdir(path, 0o755) == 0 { return }
        switch errno {
        case EEXIST:
            var info = stat()
            if stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR { return }
            guard unlink(path) == 0, mkdir(path, 0o755) == 0 else {
                throw BuildError.output(path: path, message: "cannot replace this file by a folder: " + lastError())
            }
        case ENOENT:
            let up = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
            guard !up.isEmpty, up != path else { throw BuildError.output(path: path, message: "cannot create folder") }
            try makeDirectories(up)
            guard mkdir(path, 0o755) == 0 || errno == EEXIST else {
                throw BuildError.output(path: path, message: "cannot create folder: " + lastError())
            }
        default:
            throw BuildError.output(path: path, message: "cannot create folder: " + lastError())
        }
    }

    static func isEmptyDirectory(_ path: String) throws -> Bool {
        guard let dir = opendir(path) else {
            throw BuildError.output(path: path, message: "cannot read folder: " + lastError())
        }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = entryName(entry)
            if name != ".", name != ".." { return false }
        }
        return true
    }

    /// Every non-folder below `root`, as relative paths.
    static func listFiles(_ root: String) throws -> [String] {
        var found: [String] = []
        func walk(_ relative: String) throws {
            let full = relative.isEmpty ? root : root + "/" + relative
            guard let dir = opendir(full) else {
                throw BuildError.output(path: full, message: "cannot read folder: " + lastError())
            }
            defer { closedir(dir) }
            while let entry = readdir(dir) {
                let name = entryName(entry)
                if name == "." || name == ".." { continue }
                let path = relative.isEmpty ? name : relative + "/" + name
                var isDirectory = Int32(entry.pointee.d_type) == Int32(DT_DIR)
                if Int32(entry.pointee.d_type) == Int32(DT_UNKNOWN) {
                    var info = stat()
                    isDirectory = lstat(root + "/" + path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
                }
                if isDirectory { try walk(path) } else { found.append(path) }
            }
        }
        try walk("")
        return found
    }

    private static func entryName(_ entry: UnsafeMutablePointer<dirent>) -> String {
        withUnsafePointer(to: entry.pointee.d_name) { pointer in
            pointer.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
        }
    }

    static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[..<slash])
    }

    static func lastError() -> String { String(cString: strerror(errno)) }
}

/// The record of the last build: which inputs it came from and the size of each file it wrote.
struct Manifest: Hashable {
    var fingerprint: String
    /// Sorted by path.
    var files: [(path: String, size: Int)]

    static let header = "gatehouse-manifest 1"

    static func == (a: Manifest, b: Manifest) -> Bool {
        a.fingerprint == b.fingerprint && a.files.elementsEqual(b.files) { $0.path == $1.path && $0.size == $1.size }
    }

    func hash(into hasher: inout Hasher) { hasher.combine(fingerprint) }

    var bytes: [UInt8] {
        var text = Manifest.header + "\nfingerprint " + fingerprint + "\n"
        for (path, size) in files {
            text += String(size)
            text += " "
            text += path
            text += "\n"
        }
        return Array(text.utf8)
    }

    static func read(root: String) -> Manifest? {
        let path = root + "/" + OutputDirectory.manifestName
        guard let size = OutputDirectory.fileSize(path), let bytes = OutputDirectory.readFile(path, size: size) else { return nil }
        var lines: [ArraySlice<UInt8>] = []
        lines.reserveCapacity(bytes.count / 48)
        var start = 0
        for index in bytes.indices where bytes[index] == 0x0A {
            lines.append(bytes[start..<index])
            start = index + 1
        }
        let fingerprintPrefix = Array("fingerprint ".utf8)
        guard lines.count >= 2, lines[0].elementsEqual(header.utf8), lines[1].starts(with: fingerprintPrefix) else { return nil }
        var files: [(path: String, size: Int)] = []
        files.reserveCapacity(lines.count - 2)
        for line in lines.dropFirst(2) {
            var size = 0
            var index = line.startIndex
            while index < line.endIndex, line[index] >= 0x30, line[index] <= 0x39 {
                size = size * 10 + Int(line[index] - 0x30)
                index += 1
            }
            guard index > line.startIndex, index < line.endIndex, line[index] == 0x20 else { return nil }
            files.append((String(decoding: line[(index + 1)...], as: UTF8.self), size))
        }
        return Manifest(
            fingerprint: String(decoding: lines[1].dropFirst(fingerprintPrefix.count), as: UTF8.self), files: files)
    }
}

/// Output paths are made of model ids; refuse any that could leave the output folder or hide.
enum OutputPath {
    static func validate(_ path: String) throws {
        // Byte by byte: this runs for every file of every build, twice.
        var safe = !path.isEmpty
        var segmentStart = true
        for byte in path.utf8 where safe {
            switch byte {
            case UInt8(ascii: "/"):
                safe = !segmentStart
                segmentStart = true
            case UInt8(ascii: "."):
                safe = !segmentStart
                segmentStart = false
            case 0, UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\\"):
                safe = false
            default:
                segmentStart = false
            }
        }
        safe = safe && !segmentStart
        guard safe else { throw BuildError.unsafePath(path) }
    }
}
