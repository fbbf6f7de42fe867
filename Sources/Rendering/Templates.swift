internal import Foundation
internal import Mustache

/// The look of the portal: Mustache templates and the static assets they link to.
///
/// Loaded from `templates/` (`*.mustache` anywhere below it, named by their path without the
/// extension; every file below `templates/assets/` is an asset), or built in memory by tests.
public struct Theme: Sendable, Hashable {
    /// Template name (`layout`, `package`, `partials/x`) -> Mustache text.
    public var templates: [String: String]
    /// Path below `assets/` -> bytes, served as `/assets/<path>`.
    public var assets: [String: [UInt8]]

    public init(templates: [String: String], assets: [String: [UInt8]]) {
        self.templates = templates
        self.assets = assets
    }

    /// The templates every build renders; loading fails early when one is missing.
    public static let requiredTemplates = ["layout", "home", "package", "request-form", "sign-in", "not-found"]
    /// The stylesheet every page links to.
    public static let stylesheetAsset = "gatehouse.css"

    /// Reads a templates folder. Throws `TemplateError` naming the file when something is missing.
    public static func load(directory: String) throws -> Theme {
        let root = directory.hasSuffix("/") ? directory : directory + "/"
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TemplateError.missingDirectory(directory)
        }
        guard let enumerator = FileManager.default.enumerator(atPath: root) else {
            throw TemplateError.missingDirectory(directory)
        }
        var templates: [String: String] = [:]
        var assets: [String: [UInt8]] = [:]
        for case let path as String in enumerator {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root + path, isDirectory: &isDir), !isDir.boolValue else { continue }
            let isAsset = path.hasPrefix("assets/")
            guard isAsset || path.hasSuffix(".mustache") else { continue }
            guard let data = FileManager.default.contents(atPath: root + path) else {
                throw TemplateError.unreadable(directory: directory, file: path)
            }
            if isAsset {
                assets[String(path.dropFirst("assets/".count))] = [UInt8](data)
            } else {
                templates[String(path.dropLast(".mustache".count))] = String(decoding: data, as: UTF8.self)
            }
        }
        return Theme(templates: templates, assets: assets)
    }
}

/// A problem with the templates folder, or a page asked for a template that does not exist.
public enum TemplateError: Error, Hashable, CustomStringConvertible {
    case missingDirectory(String)
    case unreadable(directory: String, file: String)
    /// `file` is the template name plus `.mustache`; line and column are 1-based.
    case syntax(file: String, line: Int, column: Int, message: String)
    case missingTemplate(name: String, referencedBy: String?)
    case missingAsset(String)

    public var description: String {
        switch self {
        case .missingDirectory(let path):
            return "\(path): error: templates folder not found; pass the folder that holds layout.mustache with --templates"
        case .unreadable(let directory, let file):
            return "\(directory)/\(file): error: cannot read this template file"
        case .syntax(let file, let line, let column, let message):
            return "\(file):\(line):\(column): error: \(message)"
        case .missingTemplate(let name, let referencedBy):
            if let referencedBy {
                return "\(referencedBy).mustache: error: refers to template '\(name)', but there is no \(name).mustache"
            }
            return "error: no template named '\(name)' (expected \(name).mustache in the templates folder)"
        case .missingAsset(let name):
            return "assets/\(name): error: the stylesheet every page links to is missing from the templates folder"
        }
    }
}

/// Parsed templates with HTML escaping on; rendering an unknown template throws instead of
/// returning nil, and partials that do not exist are found when the library is built.
public struct TemplateLibrary: Sendable {
    private let library: MustacheLibrary
    private let names: Set<String>

    public init(_ theme: Theme) throws {
        HTMLEscaping.registered
        var library = MustacheLibrary()
        for name in theme.templates.keys.sorted() {
            let text = theme.templates[name]!
            do {
                library.register(try MustacheTemplate(string: text), named: name)
            } catch let error as MustacheTemplate.ParserError {
                throw TemplateError.syntax(
                    file: name + ".mustache", line: error.context.lineNumber, column: error.context.columnNumber,
                    message: Self.explain(error.error))
            }
            for partial in Self.partialReferences(in: text) where theme.templates[partial] == nil {
                throw TemplateError.missingTemplate(name: partial, referencedBy: name)
            }
        }
        self.library = library
        self.names = Set(theme.templates.keys)
    }

    public func contains(_ name: String) -> Bool { names.contains(name) }

    /// Renders `context` (dictionaries, arrays, strings, numbers, booleans) with template `name`.
    public func render(_ name: String, _ context: [String: Any]) throws -> String {
        guard names.contains(name), let text = library.render(context, withTemplate: name) else {
            throw TemplateError.missingTemplate(name: name, referencedBy: nil)
        }
        return text
    }

    /// Names after `{{>` and `{{<` (partials and parents), for the load-time check.
    static func partialReferences(in text: String) -> [String] {
        var found: [String] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            rest = rest[open.upperBound...]
            let trimmed = rest.drop { $0 == " " }
            guard let sigil = trimmed.first, sigil == ">" || sigil == "<" else { continue }
            guard let close = trimmed.range(of: "}}") else { break }
            let name = trimmed[trimmed.index(after: trimmed.startIndex)..<close.lowerBound]
                .trimmingCharacters(in: .whitespaces)
            if !name.isEmpty, !name.hasPrefix("*") { found.append(name) }
        }
        return found
    }

    private static func explain(_ error: any Error) -> String {
        guard let error = error as? MustacheTemplate.Error else { return "\(error)" }
        switch error {
        case .sectionCloseNameIncorrect: return "this closing tag does not match the open section"
        case .unfinishedName: return "unfinished tag name"
        case .expectedSectionEnd: return "a section is not closed"
        case .invalidSetDelimiter: return "badly formed set-delimiter tag"
        case .transformAppliedToInheritanceSection: return "a transform cannot apply to an inheritance section"
        case .illegalTokenInsideInheritSection: return "only {{$block}} overrides may appear inside {{<parent}}"
        case .textInsideInheritSection: return "text inside {{<parent}} must be inside a {{$block}}"
        case .invalidConfigVariableSyntax: return "badly formed pragma"
        case .unrecognisedConfigVariable: return "unknown pragma"
        }
    }
}
