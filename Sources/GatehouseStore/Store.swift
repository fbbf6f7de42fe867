public import Foundation
internal import GRDB
internal import GRDBSQLite
internal import Synchronization

/// The handler's and the sweep's state in one SQLite file: open it once per process and share it.
///
/// Every change goes through ``write(_:)``, one IMMEDIATE transaction: group a change with the
/// mail and audit entries that report it so that they commit or vanish together.
public final class Store: Sendable {
    /// The database file, or `:memory:`.
    public let path: String
    let writer: any DatabaseWriter
    /// Concurrent ``write(_:)`` calls share one transaction and one commit.
    let commits: GroupCommit
    /// Read-only connections for ``read(_:)`` (nil for an in-memory store, which reads on `writer`).
    let readers: ReaderConnections?

    /// How long a writer waits for another process's write lock before giving up.
    public static let busyTimeout: TimeInterval = 5

    /// Opens (creating it and its folder when missing) the database at `path` and migrates it.
    ///
    /// `aroundCommitWait` is called with each ``write(_:)``'s wait for its commit, a wait that
    /// uses no CPU (`gatehouse serve` gives back the request's CPU turn during it).
    public convenience init(path: String, aroundCommitWait: (@Sendable (() -> Void) -> Void)? = nil) throws {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw StoreError.cannotOpen(
                path: path, reason: "cannot create the folder \(folder.path): \(error.localizedDescription)")
        }
        var pool: DatabasePool?
        do {
            // Switching a new file to WAL takes an exclusive lock that SQLite may refuse at once,
            // without its busy handler, while another process opens the same new file.
            for attempt in 1... {
                do {
                    pool = try DatabasePool(path: path, configuration: Self.configuration())
                    break
                } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY && attempt < 10 {
                    usleep(UInt32(20_000 * attempt))
                }
            }
            // GRDB's WAL setup lowers the writer to NORMAL after `prepareDatabase`; an acknowledged
            // post must survive a power loss, so the writer connection goes back to FULL.
            try pool!.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }

        } catch let error as DatabaseError {
            let hint = [.SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_READONLY].contains(error.resultCode)
                ? " (check that the folder exists and is writable by this user)" : ""
            throw StoreError.cannotOpen(path: path, reason: Self.explain(error) + hint)
        }
        try self.init(
            path: path, writer: pool!, readers: ReaderConnections(path: path, configuration: Self.readerConfiguration()),
            aroundCommitWait: aroundCommitWait)
    }

    /// A private in-memory database for tests of code that uses a store; nothing is kept.
    public static func inMemory() throws -> Store {
        try Store(path: ":memory:", writer: DatabaseQueue(configuration: configuration()), readers: nil)
    }

    private init(
        path: String, writer: any DatabaseWriter, readers: ReaderConnections?,
        aroundCommitWait: (@Sendable (() -> Void) -> Void)? = nil
    ) throws {
        self.path = path
        self.writer = writer
        self.commits = GroupCommit(writer: writer, aroundWait: aroundCommitWait)
        self.readers = readers
        do {
            try Self.migrate(writer)
        } catch let error as DatabaseError {
            throw StoreError.cannotOpen(path: path, reason: "migration failed: \(Self.explain(error))")
        }
    }

    private static func configuration() -> Configuration {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(busyTimeout)
        config.prepareDatabase { db in
            // No memory-mapped reads (mmap_size stays 0): in WAL mode a connection drops its whole
            // map when it begins a read after any commit, so under posts every read transaction
            // paid an munmap (a TLB shootdown on every core) and a page fault per page it touched.
            // With plain reads, bench-handler measured more posts per second and no slower history pages.
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Savepoint journals (each write of a group commit has its own savepoint) stay in
            // memory instead of spilling to temporary files: an open, an unlink and writes each time.
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        return config
    }

    /// Reader connections: opened read-only (SQLite itself refuses writes), with the writer's
    /// pragmas and GRDB's reader timeout, for the rare WAL recovery that blocks readers.
    private static func readerConfiguration() -> Configuration {
        var config = configuration()
        config.readonly = true
        config.busyMode = .timeout(10)
        return config
    }

    /// GRDB's migrator reads the applied migrations outside a transaction, so two processes
    /// opening a new file at once can both try "v1"; the loser's transaction rolls back and it
    /// finds the work done.
    private static func migrate(_ writer: any DatabaseWriter) throws {
        let migrator = Schema.migrator
        var attempt = 0
        while true {
            attempt += 1
            do {
                try migrator.migrate(writer)
                return
            } catch {
                if try writer.read({ try migrator.hasCompletedMigrations($0) }) { return }
                // Another opener may still be committing; give it time before trying again.
                if attempt >= 10 { throw error }
                usleep(UInt32(20_000 * attempt))
            }
        }
    }

    // MARK: Transactions

    /// Runs `body` in one write transaction: everything it changes commits together, or nothing
    /// does when it throws (its own error is rethrown unchanged). Not reentrant.
    ///
    /// Concurrent calls are committed as a group (``GroupCommit``): each body runs in its own
    /// savepoint, in arrival order, and each call returns after the shared commit.
    @discardableResult
    public func write<T>(_ body: (StoreWriter) throws -> T) throws -> T {
        do {
            return try commits.write { db in try body(StoreWriter(db)) }
        } catch let error as DatabaseError {
            throw mapped(error)
        }
    }

    /// Runs `body` on a consistent snapshot; writes inside it fail. Not reentrant.
    @discardableResult
    public func read<T>(_ body: (StoreReader) throws -> T) throws -> T {
        do {
            guard let readers else { return try writer.read { db in try body(StoreReader(db)) } }
            return try readers.read { db in try body(StoreReader(db)) }
        } catch let error as DatabaseError {
            throw mapped(error)
        }
    }

    // MARK: Diagnostics

    /// Writes and the commits that carried them since the store was opened.
    public var commitStatistics: CommitStatistics { commits.statistics }

    /// ``commitStatistics`` and the pages the writer wrote, for the log.
    public var commitSummary: String {
        let s = commits.statistics
        let pages = writer.writeWithoutTransaction { db -> Int32 in
            var current: Int32 = 0
            var highest: Int32 = 0
            sqlite3_db_status(db.sqliteConnection, SQLITE_DBSTATUS_CACHE_WRITE, &current, &highest, 0)
            return current
        }
        func seconds(_ d: Duration) -> String {
            String(format: "%.1f s", Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
        }
        return "\(s.writes) writes in \(s.commits) commits (largest group \(s.largestBatch), writer busy "
            + "\(seconds(s.busy)) of which committing \(seconds(s.committing)), writer CPU \(seconds(s.cpu))), "
            + "\(pages) pages written"
    }

    /// The pragmas in force on the writer connection, for `gatehouse doctor`-style checks.
    public func settings() throws -> StoreSettings {
        try writer.writeWithoutTransaction { try StoreSettings(db: $0) }
    }

    /// The pragmas in force on a reader connection (they differ from the writer's if setup failed).
    func readerSettings() throws -> StoreSettings {
        guard let readers else { return try writer.read { try StoreSettings(db: $0) } }
        return try readers.read { try StoreSettings(db: $0) }
    }

    /// Identifiers of the migrations applied to this database, in order.
    public func appliedMigrations() throws -> [String] {
        try writer.read { try Schema.migrator.appliedMigrations($0) }
    }

    private func mapped(_ error: DatabaseError) -> StoreError {
        if error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
            return .busy(path: path, seconds: Int(Self.busyTimeout))
        }
        return .database(Self.explain(error))
    }

    static func explain(_ error: DatabaseError) -> String {
        let message = error.message ?? "\(error.resultCode)"
        return "\(message) (SQLite code \(error.extendedResultCode.rawValue))"
    }
}

/// The connection settings that make the store durable and safe to share between processes.
public struct StoreSettings: Sendable, Hashable {
    /// `wal` for a file store.
    public var journalMode: String
    /// 2 is FULL: a committed transaction survives a power loss.
    public var synchronous: Int
    public var foreignKeys: Bool
    public var busyTimeoutMilliseconds: Int

    /// The expected values, for comparisons.
    public init(journalMode: String, synchronous: Int, foreignKeys: Bool, busyTimeoutMilliseconds: Int) {
        self.journalMode = journalMode
        self.synchronous = synchronous
        self.foreignKeys = foreignKeys
        self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
    }

    init(db: Database) throws {
        journalMode = try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? ""
        synchronous = try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
        foreignKeys = try Bool.fetchOne(db, sql: "PRAGMA foreign_keys") ?? false
        busyTimeoutMilliseconds = try Int.fetchOne(db, sql: "PRAGMA busy_timeout") ?? 0
    }
}

/// The store's read-only connections, each used by one thread at a time and kept for the next.
///
/// GRDB's `DatabasePool` caps its readers at five, so sixteen workers queued for them, and each of
/// its reads also checks the pool for reentrancy under a lock and probes the schema version. A
/// page's read here takes an idle connection (opening one when none is idle) and runs one
/// deferred transaction on it: a consistent snapshot, as before.
final class ReaderConnections: Sendable {
    private let path: String
    private let configuration: Configuration
    private let idle = Mutex<[DatabaseQueue]>([])

    init(path: String, configuration: Configuration) {
        self.path = path
        self.configuration = configuration
    }

    /// Runs `body` in a read transaction on an idle connection.
    ///
    /// The transaction's BEGIN and COMMIT are cached statements: GRDB's `read` parses both anew
    /// for every read (every page and post runs one).
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        let connection = try idle.withLock { $0.popLast() } ?? DatabaseQueue(path: path, configuration: configuration)
        defer { idle.withLock { $0.append(connection) } }
        return try connection.inDatabase { db in
            try db.cachedStatement(sql: "BEGIN DEFERRED TRANSACTION").execute()
            do {
                let value = try body(db)
                try db.cachedStatement(sql: "COMMIT TRANSACTION").execute()
                return value
            } catch {
                if db.isInsideTransaction { try? db.cachedStatement(sql: "ROLLBACK TRANSACTION").execute() }
                throw error
            }
        }
    }

    /// How many connections are open (all idle when no read is running).
    var count: Int { idle.withLock { $0.count } }
}

/// What went wrong, worded for the log line an operator reads.
public enum StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    /// Another process held the write lock longer than the busy timeout.
    case busy(path: String, seconds: Int)
    case requestNotFound(id: String)
    /// An optimistic state change lost a race: someone moved the request first.
    case requestStateChanged(id: String, expected: RequestState, actual: RequestState)
    case assignmentNotFound(id: String)
    case grantNotFound(assignmentID: String, resourceID: String, role: String)
    case personNotFound(email: String)
    case mailNotFound(id: Int64)
    /// A row holds a value this version does not know (a newer version wrote it?).
    case unreadableValue(table: String, column: String, value: String)
    /// SQLite refused the statement (constraint, trigger, disk full…).
    case database(String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason):
            "cannot open the database at \(path): \(reason)"
        case .busy(let path, let seconds):
            "the database at \(path) stayed locked by another writer for more than \(seconds) s; try again"
        case .requestNotFound(let id):
            "no request with id '\(id)'"
        case .requestStateChanged(let id, let expected, let actual):
            "request '\(id)' is now \(actual.rawValue), no longer \(expected.rawValue): someone acted on it first"
        case .assignmentNotFound(let id):
            "no assignment with id '\(id)'"
        case .grantNotFound(let assignmentID, let resourceID, let role):
            "assignment '\(assignmentID)' grants no role '\(role)' on resource '\(resourceID)'"
        case .personNotFound(let email):
            "no person '\(email)' has signed in"
        case .mailNotFound(let id):
            "no outgoing mail with id \(id)"
        case .unreadableValue(let table, let column, let value):
            "\(table).\(column) holds '\(value)', which this version of gatehouse does not know (was the database written by a newer version?)"
        case .database(let message):
            "the database refused the change: \(message)"
        }
    }
}

/// Read access inside one transaction; valid only inside the closure that received it.
public class StoreReader {
    let db: Database
    init(_ db: Database) { self.db = db }

    /// Runs raw SQL: only for tests that check what the schema or a read-only connection refuses.
    func executeForTesting(_ sql: String) throws {
        try db.execute(sql: sql)
    }

    /// SQLite's plan for `sql` (the detail column of EXPLAIN QUERY PLAN): only for tests of indexes.
    func queryPlanForTesting(_ sql: String, _ arguments: StatementArguments = []) throws -> [String] {
        try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] }
    }

    /// The names of the schema's indexes: only for tests of migrations.
    func indexNamesForTesting() throws -> Set<String> {
        Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index'"))
    }
}

/// Read and write access inside one write transaction; valid only inside the closure that received it.
public final class StoreWriter: StoreReader {}

// MARK: - Row decoding helpers

extension Row {
    func decode<E: RawRepresentable>(_ type: E.Type, _ column: String, table: String) throws -> E
    where E.RawValue == String {
        let raw: String = self[column]
        guard let value = E(rawValue: raw) else {
            throw StoreError.unreadableValue(table: table, column: column, value: raw)
        }
        return value
    }
}

/// Emails are keys: one spelling per address.
///
/// Addresses almost always arrive already normalized (ASCII, lowercase, no surrounding blanks);
/// those are returned as they are without Foundation's trimming, which showed in profiles of the
/// store's writer thread.
func normalized(_ email: String) -> String {
    var utf8 = email.utf8.makeIterator()
    var plain = true
    var first: UInt8?
    var last: UInt8?
    while let byte = utf8.next() {
        if first == nil { first = byte }
        last = byte
        if byte >= 0x80 || (0x41...0x5A).contains(byte) {
            plain = false
            break
        }
    }
    let blank: (UInt8?) -> Bool = { byte in byte.map { $0 == 0x20 || (0x09...0x0D).contains($0) } ?? false }
    if plain && !blank(first) && !blank(last) { return email }
    return email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
}
