/// A web origin, `scheme://host[:port]`, with scheme and host lower-cased and the default port
/// (80 for http, 443 for https) dropped, so equal origins compare equal.
public struct WebOrigin: Sendable, Hashable, CustomStringConvertible {
    public let scheme: String
    public let host: String
    /// nil for the scheme's default port.
    public let port: Int?

    /// The origin of an absolute http(s) URL; nil for anything else, including URLs with user info
    /// (`https://site@evil.example/`), which exist mostly to mislead.
    public init?(url: String) {
        self.init(parsing: Substring(url), allowPath: true)
    }

    /// An `Origin` header value, which is an origin and nothing more (no path, no trailing slash).
    public init?(header: String) {
        self.init(parsing: Substring(header), allowPath: false)
    }

    private init?(parsing text: Substring, allowPath: Bool) {
        guard let separator = text.firstRange(of: "://") else { return nil }
        let scheme = text[..<separator.lowerBound].lowercased()
        let defaultPort: Int
        switch scheme {
        case "http": defaultPort = 80
        case "https": defaultPort = 443
        default: return nil
        }
        let rest = text[separator.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" || $0 == "\\" } ?? rest.endIndex
        guard allowPath || authorityEnd == rest.endIndex else { return nil }
        let authority = rest[..<authorityEnd]

        let host: Substring
        let portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[...close]
            let after = authority[authority.index(after: close)...]
            guard after.isEmpty || after.hasPrefix(":") else { return nil }
            portText = after.isEmpty ? nil : after.dropFirst()
            guard host.dropFirst().dropLast().allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
        } else {
            if let colon = authority.lastIndex(of: ":") {
                host = authority[..<colon]
                portText = authority[authority.index(after: colon)...]
            } else {
                host = authority
                portText = nil
            }
            guard host.allSatisfy({ ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" || $0 == "." }) else { return nil }
        }
        guard !host.isEmpty, host != "[]" else { return nil }

        var port: Int? = nil
        if let portText, !portText.isEmpty {
            guard portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let number = Int(portText), (1...65535).contains(number) else { return nil }
            port = number == defaultPort ? nil : number
        }
        self.scheme = scheme
        self.host = host.lowercased()
        self.port = port
    }

    public var description: String {
        "\(scheme)://\(host)" + (port.map { ":\($0)" } ?? "")
    }
}

/// Cross-site request forgery defence for state-changing requests: a POST is accepted only when
/// the browser says it comes from the portal's own origin.
///
/// `Origin` decides when present (`null` is refused, not a reason to look further); without it,
/// the origin of `Referer` must match. With neither, the post is refused: every browser Gatehouse
/// supports sends one of them on a form post, and `SameSite=Lax` alone does not cover subdomains.
public struct OriginCheck: Sendable, Hashable {
    /// The only origin state-changing requests may come from.
    public let siteOrigin: WebOrigin
    /// `siteOrigin` as browsers serialize it, which nearly every post sends byte for byte.
    private let serialized: String

    /// A check against the origin of the tenant's base URL (`Tenant.baseURL`).
    public init(baseURL: String) throws(InvalidBaseURL) {
        guard let origin = WebOrigin(url: baseURL) else { throw InvalidBaseURL(baseURL: baseURL) }
        siteOrigin = origin
        serialized = origin.description
    }

    /// Judges a request: GET, HEAD and OPTIONS change nothing and pass; every other method is checked.
    public func check(_ request: RequestContext) -> Result<Void, OriginRefusal> {
        if [.get, .head, .options].contains(request.method) { return .success(()) }
        return check(origin: request.origin, referer: request.referer)
    }

    /// Judges the `Origin` and `Referer` header values of a state-changing request.
    public func check(origin: String?, referer: String?) -> Result<Void, OriginRefusal> {
        func refuse(_ reason: OriginRefusal.Reason) -> Result<Void, OriginRefusal> {
            .failure(OriginRefusal(reason: reason, expected: siteOrigin))
        }
        if let origin, !origin.isEmpty {
            if origin == serialized { return .success(()) }
            if origin == "null" { return refuse(.nullOrigin) }
            guard let sent = WebOrigin(header: origin) else { return refuse(.malformedOrigin(origin)) }
            return sent == siteOrigin ? .success(()) : refuse(.otherOrigin(sent.description))
        }
        if let referer, !referer.isEmpty {
            // The site's origin followed by its path: the authority ends there, nothing can follow it.
            if referer.utf8.count > serialized.utf8.count, referer.utf8.starts(with: serialized.utf8),
               referer.utf8[referer.utf8.index(referer.utf8.startIndex, offsetBy: serialized.utf8.count)] == UInt8(ascii: "/") {
                return .success(())
            }
            guard let sent = WebOrigin(url: referer) else { return refuse(.malformedReferer(referer)) }
            return sent == siteOrigin ? .success(()) : refuse(.otherReferer(sent.description))
        }
        return refuse(.noOriginOrReferer)
    }
}

/// Why a state-changing request was refused: a 403 whose log line says exactly what was sent.
public struct OriginRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        /// `Origin: null` (sandboxed frame, `data:` page, cross-site redirect).
        case nullOrigin
        case malformedOrigin(String)
        /// Another origin, normalized (`https://evil.example`).
        case otherOrigin(String)
        case malformedReferer(String)
        /// The origin of another site's `Referer`, normalized.
        case otherReferer(String)
        case noOriginOrReferer
    }

    public let reason: Reason
    /// The portal's own origin.
    public let expected: WebOrigin

    public var description: String {
        switch reason {
        case .nullOrigin: "refused: Origin is 'null', expected \(expected)"
        case .malformedOrigin(let sent): "refused: Origin '\(sent)' is not an http(s) origin, expected \(expected)"
        case .otherOrigin(let sent): "refused: Origin \(sent) is not \(expected)"
        case .malformedReferer(let sent): "refused: no Origin, and Referer '\(sent)' is not an http(s) URL, expected one on \(expected)"
        case .otherReferer(let sent): "refused: no Origin, and Referer is on \(sent), not \(expected)"
        case .noOriginOrReferer: "refused: neither Origin nor Referer was sent, expected \(expected)"
        }
    }
}

extension OriginRefusal: HTTPError {
    public var status: HTTPStatus { .forbidden }

    public var publicMessage: String {
        "This form was not sent from \(expected), so nothing was changed. Open the page on \(expected) and send it again."
    }
}

/// The tenant's base URL is not an absolute http(s) URL, so no origin can be derived from it.
public struct InvalidBaseURL: Error, Sendable, Hashable, CustomStringConvertible {
    public let baseURL: String

    public init(baseURL: String) {
        self.baseURL = baseURL
    }

    public var description: String {
        "baseURL '\(baseURL)' in tenant.yaml is not an absolute http(s) URL such as 'https://access.contoso.example'"
    }
}
