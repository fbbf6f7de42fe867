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

    /// Parses a `Cookie` header value (nil: no header).
    public init(header: String?) {
        storage = []
        guard let header else { return }
        for part in header.split(separator: ";", omittingEmptySubsequences: true) {
            guard let equals = part.firstIndex(of: "=") else { continue }
            let name = part[..<equals].trimmingSpaces()
            var value = part[part.index(after: equals)...].trimmingSpaces()
            if value.count >= 2, value.first == "\"", value.last == "\"" {
                value = value.dropFirst().dropLast()
            }
            guard Cookies.isToken(name), value.unicodeScalars.allSatisfy(Cookies.isCookieOctet) else { continue }
            storage.append(Pair(name: String(name), value: String(value)))
        }
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
        !text.isEmpty && text.unicodeScalars.allSatisfy { scalar in
            (0x21...0x7E).contains(scalar.value) && !"()<>@,;:\\\"/[]?={}".unicodeScalars.contains(scalar)
        }
    }

    /// RFC 6265 `cookie-octet`: visible ASCII except `"`, `,`, `;` and `\`.
    static func isCookieOctet(_ scalar: Unicode.Scalar) -> Bool {
        (0x21...0x7E).contains(scalar.value) && scalar != "\"" && scalar != "," && scalar != ";" && scalar != "\\"
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
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

    /// The session id this cookie carries in a request, if any.
    public func value(in cookies: Cookies) -> String? {
        cookies[name]
    }

    /// `Set-Cookie` for a new session id living `maxAge` seconds (the session's absolute lifetime).
    public func setCookie(value: String, maxAge: Int) throws(CookieError) -> String {
        guard !value.isEmpty, value.unicodeScalars.allSatisfy(Cookies.isCookieOctet) else {
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
