internal import Foundation
internal import GRDB
internal import GRDBSQLite

/// Reading a few rows from GRDB's cached statements without GRDB's `Row`, and running the
/// submission's inserts without GRDB's `StatementArguments`.
///
/// Every `Row.fetchOne` and `Row.fetchCursor` built a dictionary of the statement's column names
/// (`sqlite3_column_name` for each column, then hashing them): on the queries every page and post
/// runs (the session, the person, a person's requests and keys) that was about as much work as
/// SQLite finding the rows. Here the columns are read by position, straight from the statement.
///
/// Arguments are bound the same way: GRDB boxes every argument as an existential, converts it to
/// a `DatabaseValue` and checks the count against the statement, on the writer thread that every
/// post waits for.
extension Database {
    /// Runs the cached statement `sql` with `arguments` and calls `row` for each result row, until
    /// it returns false. The statement is reset before and after.
    func eachRow(_ sql: String, _ arguments: [RawArgument], _ row: (RawRow) throws -> Bool) throws {
        let handle = try bound(sql, arguments)
        defer { sqlite3_reset(handle) }
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { return }
            guard code == SQLITE_ROW else { throw error(code, sql) }
            if try !row(RawRow(handle: handle)) { return }
        }
    }

    /// The first result row of `sql`, read by `read`; nil when there is none.
    func firstRow<T>(_ sql: String, _ arguments: [RawArgument], _ read: (RawRow) throws -> T) throws -> T? {
        var value: T?
        try eachRow(sql, arguments) { row in
            value = try read(row)
            return false
        }
        return value
    }

    /// Runs the cached statement `sql`, which returns no rows, with `arguments`.
    func run(_ sql: String, _ arguments: [RawArgument]) throws {
        let handle = try bound(sql, arguments)
        defer { sqlite3_reset(handle) }
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE else { throw error(code, sql) }
    }

    /// The cached statement `sql`, reset, with `arguments` bound in order.
    private func bound(_ sql: String, _ arguments: [RawArgument]) throws -> OpaquePointer {
        let statement = try cachedStatement(sql: sql)
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        for (index, argument) in arguments.enumerated() {
            let position = Int32(index + 1)
            let code: Int32 = switch argument {
            case .text(let text): sqlite3_bind_text(handle, position, text, -1, rawTransient)
            case .integer(let value): sqlite3_bind_int64(handle, position, value)
            case .null: sqlite3_bind_null(handle, position)
            }
            guard code == SQLITE_OK else { throw error(code, sql) }
        }
        return handle
    }

    private func error(_ code: Int32, _ sql: String) -> DatabaseError {
        DatabaseError(
            resultCode: ResultCode(rawValue: sqlite3_extended_errcode(sqliteConnection)),
            message: String(cString: sqlite3_errmsg(sqliteConnection)), sql: sql)
    }
}

/// SQLite copies bound text at once (SQLITE_TRANSIENT).
private let rawTransient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

/// A value bound to a statement parameter.
enum RawArgument {
    case text(String)
    case integer(Int64)
    case null

    static func text(_ value: String?) -> RawArgument { value.map(RawArgument.text) ?? .null }
    static func date(_ value: Date) -> RawArgument { .text(value.stored.text) }
    static func date(_ value: Date?) -> RawArgument { value.map(RawArgument.date) ?? .null }
    static func integer(_ value: Int?) -> RawArgument { value.map { .integer(Int64($0)) } ?? .null }
    static func bool(_ value: Bool) -> RawArgument { .integer(value ? 1 : 0) }
}

/// The current result row of a statement; valid only inside the closure that received it.
struct RawRow {
    let handle: OpaquePointer

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

    /// The column as text (empty for NULL).
    func text(_ column: Int32) -> String {
        guard let bytes = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    func optionalText(_ column: Int32) -> String? { isNull(column) ? nil : text(column) }

    func integer(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    func bool(_ column: Int32) -> Bool { integer(column) != 0 }

    /// A stored date (`YYYY-MM-DD HH:MM:SS.SSS`), read as GRDB reads it (``StoreTime``).
    func date(_ column: Int32) -> Date? {
        guard let bytes = sqlite3_column_text(handle, column) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, column))
        if let fast = StoreTime.date(fromStored: UnsafeBufferPointer(start: bytes, count: count)) { return fast }
        return StoreTime.date(text(column).databaseValue)
    }
}
