import GatehouseModel
import Yams

/// Bytes -> text -> YAML nodes, with every failure turned into a diagnostic at its real position.
enum Documents {
    /// The file as UTF-8 text (a leading byte order mark dropped), or nil after reporting where it is not UTF-8.
    static func text(of bytes: [UInt8], path: String, log: DiagnosticLog) -> String? {
        if var text = utf8Text(bytes) {
            if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
            return text
        }
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        loop: while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar): offset += scalar.count
            case .emptyInput, .error: break loop
            }
        }
        let prefix = String(decoding: bytes[..<offset], as: UTF8.self)
        let (line, column) = position(ofEndOf: prefix)
        log.error(SourceLocation(file: path, line: line, column: column),
                  "this file is not valid UTF-8 text; save it as UTF-8")
        return nil
    }

    /// The bytes as text when they are valid UTF-8 (decoding repairs invalid bytes, so compare back).
    static func utf8Text(_ bytes: [UInt8]) -> String? {
        let text = String(decoding: bytes, as: UTF8.self)
        return text.utf8.elementsEqual(bytes) ? text : nil
    }

    /// 1-based line and column (in Unicode scalars, like libyaml) just after `prefix`.
    static func position(ofEndOf prefix: some StringProtocol) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for scalar in prefix.unicodeScalars {
            if scalar == "\n" { line += 1; column = 1 } else { column += 1 }
        }
        return (line, column)
    }

    /// The root of a YAML document; an empty document reads as an empty mapping at its first line.
    static func parse(_ text: String, file: YAMLFile, log: DiagnosticLog) -> Value? {
        do {
            // The basic resolver leaves every scalar a string: the reader decides what a value means,
            // and Yams does not run its tag regexes on every key it hashes.
            let root = try Yams.compose(yaml: text, .basic, .default, .utf8) ?? Node.mapping(Node.Mapping([]))
            return Value(node: root, file: file, log: log, key: nil)
        } catch let error as YamlError {
            report(error, file: file, log: log)
            return nil
        } catch {
            log.error(file.start, "invalid YAML: \(error)")
            return nil
        }
    }

    private static func report(_ error: YamlError, file: YAMLFile, log: DiagnosticLog) {
        switch error {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            var message = "invalid YAML: \(problem)"
            if let context {
                let at = file.location(context.mark)
                message += " (\(context.text) that starts at line \(at.line), column \(at.column))"
            }
            log.error(file.location(mark), message + hint(for: problem))
        case .reader(let problem, let offset, _, let yaml):
            var location = file.start
            if let offset, let index = yaml.index(yaml.startIndex, offsetBy: offset, limitedBy: yaml.endIndex) {
                let (line, column) = position(ofEndOf: yaml[..<index])
                location = SourceLocation(file: file.path, line: line + file.lineOffset, column: column)
            }
            log.error(location, "invalid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let others = duplicates.dropFirst()
            log.error(file.location(context.mark),
                      "key '\(duplicates.first ?? "")' is written more than once in the same mapping; keep only one"
                          + (others.isEmpty ? "" : " (so is \(listed(Array(others), quoted: true)))"))
        default:
            log.error(file.start, "invalid YAML: \(error)")
        }
    }

    /// What to do about libyaml's most common complaints.
    private static func hint(for problem: String) -> String {
        if problem.contains("mapping values are not allowed") {
            return "; check the indentation, and quote values that contain ': '"
        }
        if problem.contains("tab character") { return "; indent with spaces, not tabs" }
        if problem.contains("cannot start any token") { return "; quote the value" }
        return ""
    }

    // MARK: - Front matter

    struct FrontMatter {
        var yaml: String
        /// Lines before the YAML in the file (the opening `---`).
        var lineOffset: Int
        /// The Markdown after the closing `---`.
        var body: String
    }

    enum FrontMatterProblem: Error { case missing, unclosed }

    /// Splits `---\n<yaml>\n---\n<markdown>`; a fence line may end in spaces or `\r`.
    static func frontMatter(of text: String) -> Result<FrontMatter, FrontMatterProblem> {
        let bytes = text.utf8
        func lineEnd(from start: String.Index) -> String.Index {
            bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
        }
        func isFence(_ start: String.Index, _ end: String.Index) -> Bool {
            let line = bytes[start..<end]
            guard line.starts(with: "---".utf8) else { return false }
            return line.dropFirst(3).allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") }
        }
        let firstEnd = lineEnd(from: bytes.startIndex)
        guard isFence(bytes.startIndex, firstEnd), firstEnd < bytes.endIndex else {
            return .failure(isFence(bytes.startIndex, firstEnd) ? .unclosed : .missing)
        }
        let yamlStart = bytes.index(after: firstEnd)
        var lineStart = yamlStart
        while lineStart < bytes.endIndex {
            let end = lineEnd(from: lineStart)
            if isFence(lineStart, end) {
                let body = end < bytes.endIndex ? String(text[bytes.index(after: end)...]) : ""
                return .success(FrontMatter(yaml: String(text[yamlStart..<lineStart]), lineOffset: 1, body: body))
            }
            guard end < bytes.endIndex else { break }
            lineStart = bytes.index(after: end)
        }
        return .failure(.unclosed)
    }
}
