/// An `application/x-www-form-urlencoded` body or query string: every field in the order sent.
///
/// Decoding follows browsers and Hummingbird's `URLEncodedFormNode`: `+` is a space *before*
/// percent-decoding (so `%2B` stays a plus), a repeated name keeps every value, and malformed input
/// is a `FormDecodingError` naming the field, never a crash or a silent U+FFFD.
public struct URLEncodedForm: Sendable, Hashable {
    /// One `name=value` pair, decoded.
    public struct Field: Sendable, Hashable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// Bounds checked before any work is done, so an oversized post costs nothing to refuse.
    public struct Limits: Sendable, Hashable {
        /// Largest encoded size accepted, in bytes; matches nginx's `client_max_body_size 64k`.
        public var maxBytes: Int
        /// Most `name=value` pairs accepted.
        public var maxFields: Int

        public init(maxBytes: Int = 65_536, maxFields: Int = 200) {
            self.maxBytes = maxBytes
            self.maxFields = maxFields
        }

        public static let `default` = Limits()
    }

    /// Every field in the order it came.
    public private(set) var fields: [Field]

    public init(_ fields: [Field] = []) {
        self.fields = fields
    }

    /// A form from literal pairs, in order (`["a": "1", "a": "2"]` keeps both).
    public init(_ pairs: KeyValuePairs<String, String>) {
        fields = pairs.map { Field(name: $0.key, value: $0.value) }
    }

    /// Decodes encoded bytes (a request body or a query string).
    public init(decoding bytes: some Collection<UInt8>, limits: Limits = .default) throws(FormDecodingError) {
        guard bytes.count <= limits.maxBytes else {
            throw .tooLarge(bytes: bytes.count, limit: limits.maxBytes)
        }
        fields = []
        let pairs = bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true)
        guard pairs.count <= limits.maxFields else { throw .tooManyFields(limit: limits.maxFields) }
        for (offset, pair) in pairs.enumerated() {
            let equals = pair.firstIndex(of: UInt8(ascii: "="))
            let rawName = pair[..<(equals ?? pair.endIndex)]
            let rawValue = equals.map { pair[pair.index(after: $0)...] } ?? pair[pair.endIndex...]
            let name: String
            switch PercentDecoding.decode(rawName, plusIsSpace: true) {
            case .success(let decoded): name = decoded
            case .failure(.malformedEscape(let escape)): throw .malformedEscape(escape, in: .name(position: offset + 1))
            case .failure(.invalidUTF8): throw .invalidUTF8(in: .name(position: offset + 1))
            }
            switch PercentDecoding.decode(rawValue, plusIsSpace: true) {
            case .success(let value): fields.append(Field(name: name, value: value))
            case .failure(.malformedEscape(let escape)): throw .malformedEscape(escape, in: .value(name: name))
            case .failure(.invalidUTF8): throw .invalidUTF8(in: .value(name: name))
            }
        }
    }

    /// Decodes an encoded string (a query string or a literal body in a test).
    public init(decoding text: String, limits: Limits = .default) throws(FormDecodingError) {
        try self.init(decoding: Array(text.utf8), limits: limits)
    }

    /// The first value sent under `name`.
    public subscript(name: String) -> String? {
        fields.first { $0.name == name }?.value
    }

    /// Every value sent under `name`, in order (multiple-choice answers, repeated checkboxes).
    public func values(_ name: String) -> [String] {
        fields.filter { $0.name == name }.map(\.value)
    }

    /// Field names without repeats, in order of first appearance.
    public var names: [String] {
        var seen = Set<String>()
        return fields.compactMap { seen.insert($0.name).inserted ? $0.name : nil }
    }

    public mutating func append(_ name: String, _ value: String) {
        fields.append(Field(name: name, value: value))
    }

    /// The form encoded as browsers do (`a=b+c&d=%C3%A9`), decodable back to the same fields.
    public var encoded: String {
        fields.map { Self.encode($0.name) + "=" + Self.encode($0.value) }.joined(separator: "&")
    }

    /// One name or value encoded: ASCII letters, digits and `*-._` kept, space as `+`, all else `%XX`.
    public static func encode(_ text: String) -> String {
        var out = ""
        out.unicodeScalars.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "*"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: " "):
                out.unicodeScalars.append("+")
            default:
                let digits = Array("0123456789ABCDEF".unicodeScalars)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(digits[Int(byte >> 4)])
                out.unicodeScalars.append(digits[Int(byte & 0xF)])
            }
        }
        return out
    }
}

/// Why a form could not be read, with the field it concerns; every case is a 4xx, never a 500.
public enum FormDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Where in the form a problem is: the name of the n-th pair (1-based), or the value of a named field.
    public enum Location: Sendable, Hashable {
        case name(position: Int)
        case value(name: String)
    }

    case tooLarge(bytes: Int, limit: Int)
    case tooManyFields(limit: Int)
    /// A `%` not followed by two hex digits; the offending text (`%G1`, `%4`, `%`).
    case malformedEscape(String, in: Location)
    case invalidUTF8(in: Location)
    /// The body is not `application/x-www-form-urlencoded` (nil: no content type was sent).
    case unsupportedContentType(String?)

    public var description: String {
        switch self {
        case .tooLarge(let bytes, let limit):
            "The form is too large (\(bytes) bytes); at most \(limit) bytes are accepted."
        case .tooManyFields(let limit):
            "The form has too many fields; at most \(limit) are accepted."
        case .malformedEscape(let escape, let location):
            "The form could not be read: \(location.phrase) contains “\(escape)”, which is not a valid percent escape (% and two hex digits)."
        case .invalidUTF8(let location):
            "The form could not be read: \(location.phrase) is not valid UTF-8 text."
        case .unsupportedContentType(let type):
            "Expected a form (application/x-www-form-urlencoded), but the request sent \(type.map { "“\($0)”" } ?? "no content type")."
        }
    }
}

extension FormDecodingError.Location {
    fileprivate var phrase: String {
        switch self {
        case .name(let position): "the name of field \(position)"
        case .value(let name): "field “\(name)”"
        }
    }
}

extension FormDecodingError: HTTPError {
    public var status: HTTPStatus {
        switch self {
        case .tooLarge, .tooManyFields: .contentTooLarge
        case .unsupportedContentType: .unsupportedMediaType
        case .malformedEscape, .invalidUTF8: .badRequest
        }
    }

    public var publicMessage: String { description }
}
