import GatehouseModel
import Yams

/// Collects the problems found while reading; one per load, or one per file when files are read in parallel.
final class DiagnosticLog {
    private(set) var diagnostics: [Diagnostic] = []

    func error(_ location: SourceLocation, _ message: String) {
        diagnostics.append(Diagnostic(.error, at: location, message))
    }

    func append(contentsOf other: [Diagnostic]) { diagnostics.append(contentsOf: other) }

    var errorCount: Int { diagnostics.count { $0.severity == .error } }
}

/// One YAML document of the site: its path, and how many lines precede it in the file (front matter).
struct YAMLFile {
    var path: String
    var lineOffset: Int = 0

    func location(_ mark: Mark?) -> SourceLocation {
        guard let mark else { return SourceLocation(file: path, line: 1 + lineOffset, column: 1) }
        return SourceLocation(file: path, line: mark.line + lineOffset, column: mark.column)
    }

    var start: SourceLocation { SourceLocation(file: path, line: 1 + lineOffset, column: 1) }
}

/// What a value should have been, in the words of an error message.
struct Expected {
    /// `an email`
    var one: String
    /// `a list of emails`
    var list: String

    static let string = Expected(one: "a string", list: "a list of strings")
    static let email = Expected(one: "an email", list: "a list of emails")
    static let domain = Expected(one: "a domain", list: "a list of domains")
    static let id = Expected(one: "an id", list: "a list of ids")
    static let language = Expected(one: "a language code", list: "a list of language codes")
    static let role = Expected(one: "a role name", list: "a list of role names")
}

/// A YAML node being read, with enough context to report problems about it.
struct Value {
    let node: Node
    let file: YAMLFile
    let log: DiagnosticLog
    /// The key this value was found under, for messages (`for 'people'`).
    let key: String?

    var location: SourceLocation { file.location(node.mark) }

    /// `~`, `null` or nothing at all after the colon.
    var isNull: Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    var isScalar: Bool {
        if case .scalar = node { return true }
        return false
    }

    /// `[]`, written out (not `nothing`).
    var isEmptyList: Bool {
        if case .sequence(let sequence) = node { return sequence.isEmpty }
        return false
    }

    /// How many elements a list has, without reporting anything; 0 for anything else.
    var elementCount: Int {
        if case .sequence(let sequence) = node { return sequence.count }
        return 0
    }

    /// How the value reads in a message: `a mapping`, `a list`, `nothing`, `'text'`.
    var found: String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            if isNull { return "nothing" }
            let text = scalar.string.count > 40 ? String(scalar.string.prefix(40)) + "…" : scalar.string
            return "'\(text)'"
        }
    }

    func error(_ message: String) { log.error(location, message) }

    func typeError(_ expected: String) {
        error("expected \(expected)\(key.map { " for '\($0)'" } ?? ""), found \(found)")
    }

    /// The text of a non-null scalar, without reporting anything.
    var scalarText: String? {
        guard case .scalar(let scalar) = node, !isNull else { return nil }
        return scalar.string
    }

    func string(_ expected: String = "a string") -> String? {
        guard let text = scalarText else { typeError(expected); return nil }
        return text
    }

    /// A string that must not be empty or only spaces.
    func text(_ expected: String = "a string") -> String? {
        guard let text = string(expected) else { return nil }
        if text.allSatisfy(\.isWhitespace) {
            error("'\(key ?? "text")' is empty")
            return nil
        }
        return text
    }

    func int() -> Int? {
        guard let text = scalarText, let number = Int(text) else { typeError("a whole number"); return nil }
        return number
    }

    func bool() -> Bool? {
        switch scalarText {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: typeError("true or false"); return nil
        }
    }

    func day() -> CalendarDay? {
        guard let text = scalarText, let day = CalendarDay(text) else {
            typeError("a date like 2027-09-17")
            return nil
        }
        return day
    }

    /// One of the raw values of `E`, with a suggestion or the list of allowed values otherwise.
    func oneOf<E: RawRepresentable & CaseIterable>(_: E.Type, _ what: String) -> E? where E.RawValue == String {
        let allowed = E.allCases.map(\.rawValue)
        guard let text = scalarText else { typeError("one of \(listed(allowed))"); return nil }
        if let value = E(rawValue: text) { return value }
        let hint = didYouMean(text, among: allowed)
        error("unknown \(what) '\(text)'" + (hint.isEmpty ? " (expected one of \(listed(allowed)))" : hint))
        return nil
    }

    /// The elements of a list; `nothing` reads as an empty list.
    func list(_ expected: String) -> [Value]? {
        if isNull { return [] }
        guard case .sequence(let sequence) = node else { typeError(expected); return nil }
        return sequence.map { Value(node: $0, file: file, log: log, key: key) }
    }

    /// A list of scalars, each with its value for positions; non-scalars are reported and skipped.
    func strings(_ expected: Expected) -> [(text: String, value: Value)]? {
        guard let items = list(expected.list) else { return nil }
        return items.compactMap { item in
            guard let text = item.scalarText else {
                item.error("expected \(expected.one) in '\(key ?? "list")', found \(item.found)")
                return nil
            }
            return (text, item)
        }
    }

    /// Reads a mapping, reporting every key that is not in `keys`.
    func mapping(_ what: String, keys: [String], expected: String? = nil) -> Fields? {
        guard case .mapping(let mapping) = node else {
            typeError(expected ?? "a mapping (\(what))")
            return nil
        }
        return Fields(mapping: mapping, what: what, keys: keys, file: file, log: log, at: location)
    }

    /// A mapping whose keys are free-form (translations by language); each pair is returned in order.
    func pairs(_ expected: String) -> [(key: String, keyLocation: SourceLocation, value: Value)]? {
        guard case .mapping(let mapping) = node else { typeError(expected); return nil }
        return mapping.compactMap { pair in
            let keyValue = Value(node: pair.key, file: file, log: log, key: nil)
            guard let name = keyValue.scalarText else { keyValue.error("expected a key name, found \(keyValue.found)"); return nil }
            return (name, keyValue.location, Value(node: pair.value, file: file, log: log, key: name))
        }
    }
}

/// The keys of one mapping being turned into a model value, with the `SourceMap` it gets.
struct Fields {
    let what: String
    let file: YAMLFile
    let log: DiagnosticLog
    let start: SourceLocation
    /// Known keys present, in file order; a linear search beats hashing for a handful of keys.
    private var entries: [(key: String, keyMark: Mark?, value: Node)] = []
    /// Known keys suggested for misspelled ones; not reported missing a second time.
    private var misspelled: Set<String> = []

    init(mapping: Node.Mapping, what: String, keys allowed: [String], file: YAMLFile, log: DiagnosticLog, at start: SourceLocation) {
        self.what = what
        self.file = file
        self.log = log
        self.start = start
        for (keyNode, valueNode) in mapping {
            let keyLocation = file.location(keyNode.mark)
            guard case .scalar(let scalar) = keyNode else {
                log.error(keyLocation, "expected a key name in \(what), found \(Value(node: keyNode, file: file, log: log, key: nil).found)")
                continue
            }
            let key = scalar.string
            guard allowed.contains(key) else {
                let suggestion = closest(to: key, among: allowed)
                let hint = suggestion.map { " (did you mean '\($0)'?)" } ?? ""
                if let suggestion { misspelled.insert(suggestion) }
                log.error(keyLocation, "unknown key '\(key)' in \(what)" + (hint.isEmpty ? " (known keys: \(allowed.joined(separator: ", ")))" : hint))
                continue
            }
            entries.append((key, keyNode.mark, valueNode))
        }
    }

    /// Where the mapping starts and where each present key's value is.
    var source: SourceMap {
        var map = SourceMap(start: start)
        for entry in entries { map.fields[entry.key] = file.location(entry.value.mark) }
        return map
    }

    /// The value of `key`, or nil when the key is absent or has no value.
    subscript(_ key: String) -> Value? {
        guard let entry = entries.first(where: { $0.key == key }) else { return nil }
        let value = Value(node: entry.value, file: file, log: log, key: key)
        return value.isNull ? nil : value
    }

    /// Whether an unknown key was reported with `key` as its suggestion.
    func isMisspelled(_ key: String) -> Bool { misspelled.contains(key) }

    /// Whether the key is written, even without a value.
    func has(_ key: String) -> Bool { entries.contains { $0.key == key } }

    /// Keys present, in file order.
    var keys: [String] { entries.map(\.key) }

    func keyLocation(_ key: String) -> SourceLocation? {
        entries.first(where: { $0.key == key }).map { file.location($0.keyMark) }
    }

    /// The value of a key that must be there; reports it missing (at the mapping) or empty (at the key).
    func required(_ key: String, hint: String = "") -> Value? {
        if let value = self[key] { return value }
        if misspelled.contains(key) { return nil }
        if let keyLocation = keyLocation(key) {
            log.error(keyLocation, "'\(key)' in \(what) has no value\(hint)")
        } else {
            log.error(start, "missing key '\(key)' in \(what)\(hint)")
        }
        return nil
    }

    func error(_ message: String) { log.error(start, message) }
}
