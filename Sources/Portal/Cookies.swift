/// The cookies a browser sent in its `Cookie` header.
///
/// Parsing never fails: pairs that are not `name=value` with a token name are skipped, so a
/// broken cookie set by some other application on the same domain cannot lock anyone out.
public struct Cookies: Sendable, Hashable {
    /// Every well-formed pair in the order sent.
    public var pairs: [(name: String, value: String)] {
        storage.map { ($0.name, $0.value) }
    }

    private struct Pair: Sendable, Hashable {
        var name: String
        var value: String
    }

    private var storage: [Pair]

    /// Parses a `Cookie` header value (nil: no header). Works on the UTF-8 bytes: every byte a
    /// valid pair may hold is ASCII, and this runs for every request.
    public init(header: String?) {
        storage = []
        guard var header else { return }
        var found: [Pair] = []
        header.withUTF8 { bytes in
            var start = 0
            while start < bytes.count {
                var end = start
                while end < bytes.count && bytes[end] != UInt8(ascii: ";") { end += 1 }
                if let pair = Self.pair(bytes, from: start, to: end) { found.append(pair) }
                start = end + 1
            }
        }
        storage = found
    }

    /// The pair in `bytes[from..<to]`, if it is a well-formed `name=value`.
    private static func pair(_ bytes: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> Pair? {
        var equals = from
        while equals < to && bytes[equals] != UInt8(ascii: "=") { equals += 1 }
        guard equals < to else { return nil }
        func isSpace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        var nameStart = from, nameEnd = equals
        while nameStart < nameEnd && isSpace(bytes[nameStart]) { nameStart += 1 }
        while nameEnd > nameStart && isSpace(bytes[nameEnd - 1]) { nameEnd -= 1 }
        var valueStart = equals + 1, valueEnd = to
        while valueStart < valueEnd && isSpace(bytes[valueStart]) { valueStart += 1 }
        while valueEnd > valueStart && isSpace(bytes[valueEnd - 1]) { valueEnd -= 1 }
        if valueEnd - valueStart >= 2, bytes[valueStart] == UInt8(ascii: "\""), bytes[valueEnd - 1] == UInt8(ascii: "\"") {
            valueStart += 1
            valueEnd -= 1
        }
        guard nameStart < nameEnd else { return nil }
        for i in nameStart..<nameEnd where !isTokenByte(bytes[i]) { return nil }
        for i in valueStart..<valueEnd where !isCookieOctet(bytes[i]) { return nil }
        return Pair(
            name: String(decoding: UnsafeBufferPointer(rebasing: bytes[nameStart..<nameEnd]), as: UTF8.self),
            value: String(decoding: UnsafeBufferPointer(rebasing: bytes[valueStart..<valueEnd]), as: UTF8.self))
    }

    /// Literal cookies, for tests.
    public init(_ pairs: KeyValuePairs<String, String>) {
        storage = pairs.map { Pair(name: $0.key, value: $0.value) }
    }

    /// The first value sent under `name`: browsers send the most specific path first.
    public subscript(name: String) -> String? {
        storage.first { $0.name == name }?.value
    }

    /// Every value sent under `name` (the same name set for several paths or domains).
    public func values(_ name: String) -> [String] {
        storage.filter { $0.name == name }.map(\.value)
    }

    public var isEmpty: Bool { storage.isEmpty }

    /// RFC 6265 `token`: visible ASCII without separators.
    static func isToken(_ text: some StringProtocol) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy(isTokenByte)
    }

    static func isTokenByte(_ byte: UInt8) -> Bool {
        (0x21...0x7E).contains(byte) && !separators.contains(byte)
    }

    private static let separators = Set("()<>@,;:\\\"/[]?={}".utf8)

    /// RFC 6265 `cookie-octet`: visible ASCII except `"`, `,`, `;` and `\`.
    static func isCookieOctet(_ byte: UInt8) -> Bool {
        (0x21...0x7E).contains(byte) && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: ",")
            && byte != UInt8(ascii: ";") && byte != UInt8(ascii: "\\")
    }
}

/// The session cookie's `Set-Cookie` values: `HttpOnly`, `SameSite=Lax`, `Path=/`, and `Secure`
/// whenever the portal's base URL is https (so the id never travels in clear text).
public struct SessionCookie: Sendable, Hashable {
    public static let defaultName = "gatehouse_session"

    /// The cookie name the handler sets and reads.
    public let name: String
    /// Whether `Secure` is added; true when the base URL is https.
    public let secure: Bool

    /// A session cookie for the portal at `baseURL`.
    public init(baseURL: String, name: String = SessionCookie.defaultName) {
        precondition(Cookies.isToken(name), "cookie name '\(name)' is not an RFC 6265 token")
        self.name = name
        self.secure = baseURL.lowercased().hasPrefix("https://")
    }

    /// The cookie of a browser that posted a request form before signing in (see the handler's
    /// kept forms): the same attributes as the session's.
    public static func browser(baseURL: String) -> SessionCookie {
        SessionCookie(baseURL: baseURL, name: "gatehouse_browser")
    }

    /// The session id this cookie carries in a request, if any.
    public func value(in cookies: Cookies) -> String? {
        cookies[name]
    }

    /// `Set-Cookie` for a new session id living `maxAge` seconds (the session's absolute lifetime).
    public func setCookie(value: String, maxAge: Int) throws(CookieError) -> String {
        guard !value.isEmpty, value.utf8.allSatisfy(Cookies.isCookieOctet) else {
            throw .invalidValue
        }
        guard maxAge > 0 else { throw .nonPositiveMaxAge(maxAge) }
        return "\(name)=\(value); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Lax" + (secure ? "; Secure" : "")
    }

    /// `Set-Cookie` that removes the cookie (sign-out, expired session): empty, `Max-Age=0`, and a
    /// past `Expires` for old clients.
    public var deletion: String {
        "\(name)=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax" + (secure ? "; Secure" : "")
    }
}

/// Why a `Set-Cookie` value could not be built (a programming error in the caller, reported, not trapped).
public enum CookieError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The value is empty or has a character a cookie cannot carry (space, `;`, `,`, `"`, `\`, non-ASCII).
    case invalidValue
    case nonPositiveMaxAge(Int)

    public var description: String {
        switch self {
        case .invalidValue:
            "A cookie value must be non-empty visible ASCII without space, '\"', ',', ';' or '\\'; encode the session id (hex or base64url)."
        case .nonPositiveMaxAge(let seconds):
            "A session cookie needs a positive Max-Age, got \(seconds); use the deletion form to remove it."
        }
    }
}
