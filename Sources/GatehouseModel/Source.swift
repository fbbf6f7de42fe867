/// Where a value was declared: a file relative to the site folder, and a 1-based line and column.
///
/// Model values keep their positions so that rules checked after loading (references between
/// files, cross-field rules) can still point at the exact place a person has to edit.
public struct SourceLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// A location for values built in code (tests, synthetic models).
    public static func generated(_ what: String = "<generated>") -> SourceLocation {
        SourceLocation(file: what, line: 0, column: 0)
    }

    public var description: String { "\(file):\(line):\(column)" }

    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.file, a.line, a.column) < (b.file, b.line, b.column)
    }
}

/// The positions of one declared mapping: where it starts and where each of its keys' values is.
public struct SourceMap: Sendable, Hashable {
    public var start: SourceLocation
    /// Position of the value of each key that was present, by key name.
    public var fields: [String: SourceLocation]

    public init(start: SourceLocation, fields: [String: SourceLocation] = [:]) {
        self.start = start
        self.fields = fields
    }

    public static func generated(_ what: String = "<generated>") -> SourceMap {
        SourceMap(start: .generated(what))
    }

    /// The position of `field`'s value, or the mapping's start when the key was absent.
    public subscript(field: String) -> SourceLocation { fields[field] ?? start }
}

/// A problem found in the model, printed as `path:line:column: error: message`.
public struct Diagnostic: Sendable, Hashable, Error, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable { case error, warning }

    public var location: SourceLocation
    public var severity: Severity
    public var message: String

    public init(_ severity: Severity = .error, at location: SourceLocation, _ message: String) {
        self.location = location
        self.severity = severity
        self.message = message
    }

    public var description: String { "\(location): \(severity.rawValue): \(message)" }
}
