/// One request, read once from the FastCGI parameters into typed values; nothing deeper in the
/// handler looks at raw parameters (cgit's `prepare_context`).
public struct RequestContext: Sendable {
    public var method: HTTPMethod
    /// The decoded, absolute path the handler routes on (`/my/requests/`).
    public var path: String
    /// The raw `REQUEST_URI` as the client sent it, for the log line (nil when absent).
    public var requestURI: String?
    /// The decoded query string.
    public var query: URLEncodedForm
    /// `Content-Type` as sent (`application/x-www-form-urlencoded; charset=UTF-8`).
    public var contentType: String?
    public var contentLength: Int?
    public var body: [UInt8]
    public var cookies: Cookies
    public var origin: String?
    public var referer: String?
    public var acceptLanguage: String?
    /// The client address nginx saw (`REMOTE_ADDR`), for rate limits and the log.
    public var remoteAddress: String?
    /// Whether nginx received the request over TLS (`HTTPS=on`).
    public var isHTTPS: Bool
    /// The person single sign-on vouches for, read only from the configured parameter.
    public var singleSignOnUser: String?

    /// The FastCGI parameter nginx sets after its own authentication, when single sign-on is on.
    ///
    /// Trust it only because nginx overwrites it: the `location` passing to the handler must say
    /// `fastcgi_param HTTP_X_GATEHOUSE_USER $authenticated_user;` (without `if_not_empty`), which
    /// makes nginx drop any `X-Gatehouse-User` header the client sent instead of forwarding it.
    public static let defaultSingleSignOnParam = "HTTP_X_GATEHOUSE_USER"

    /// Reads a request from its FastCGI parameters and body.
    ///
    /// The path is `DOCUMENT_URI`, which nginx has already percent-decoded and normalized (decoding
    /// it again would turn `%2541` into `A`); without it, the path part of `REQUEST_URI`, decoded
    /// once. `singleSignOnParam` nil (the default) ignores identity headers entirely.
    public init(params: [String: String], body: [UInt8], singleSignOnParam: String? = nil) throws(RequestError) {
        guard let method = params["REQUEST_METHOD"].nonEmpty else { throw .missingMethod }
        self.method = HTTPMethod(rawValue: method)
        requestURI = params["REQUEST_URI"].nonEmpty

        let rawURI = requestURI.map { Substring($0) }
        let uriPath = rawURI.map { $0[..<($0.firstIndex(of: "?") ?? $0.endIndex)] }
        if let documentURI = params["DOCUMENT_URI"].nonEmpty {
            path = documentURI
        } else if let uriPath {
            switch PercentDecoding.decode(uriPath.utf8, plusIsSpace: false) {
            case .success(let decoded): path = decoded
            case .failure: throw .invalidPath(String(uriPath))
            }
        } else {
            throw .invalidPath("")
        }
        guard Self.isAcceptablePath(path) else { throw .invalidPath(path) }

        let rawQuery = params["QUERY_STRING"] ?? rawURI.flatMap { uri in
            uri.firstIndex(of: "?").map { String(uri[uri.index(after: $0)...]) }
        } ?? ""
        do throws(FormDecodingError) {
            query = try URLEncodedForm(decoding: rawQuery)
        } catch {
            throw .invalidQuery(error)
        }

        contentType = params["CONTENT_TYPE"].nonEmpty
        if let length = params["CONTENT_LENGTH"].nonEmpty {
            guard let value = Int(length), value >= 0 else { throw .invalidContentLength(length) }
            contentLength = value
        } else {
            contentLength = nil
        }
        self.body = body
        cookies = Cookies(header: params["HTTP_COOKIE"])
        origin = params["HTTP_ORIGIN"].nonEmpty
        referer = params["HTTP_REFERER"].nonEmpty
        acceptLanguage = params["HTTP_ACCEPT_LANGUAGE"].nonEmpty
        remoteAddress = params["REMOTE_ADDR"].nonEmpty
        isHTTPS = params["HTTPS"].map { $0.lowercased() == "on" || $0 == "1" } ?? false
        singleSignOnUser = singleSignOnParam.flatMap { params[$0] }.map(Self.trimmed).nonEmpty
    }

    /// A request built directly, for tests and internal redirects.
    public init(
        method: HTTPMethod = .get, path: String = "/", query: URLEncodedForm = URLEncodedForm(),
        contentType: String? = nil, body: [UInt8] = [], cookies: Cookies = Cookies(header: nil),
        origin: String? = nil, referer: String? = nil, acceptLanguage: String? = nil,
        remoteAddress: String? = "127.0.0.1", isHTTPS: Bool = false, singleSignOnUser: String? = nil
    ) {
        self.method = method
        self.path = path
        self.requestURI = nil
        self.query = query
        self.contentType = contentType
        self.contentLength = body.count
        self.body = body
        self.cookies = cookies
        self.origin = origin
        self.referer = referer
        self.acceptLanguage = acceptLanguage
        self.remoteAddress = remoteAddress
        self.isHTTPS = isHTTPS
        self.singleSignOnUser = singleSignOnUser
    }

    /// A form post from the site itself, for tests: the body encoded from `form`, same-origin `Origin`.
    public static func formPost(
        _ path: String, form: URLEncodedForm, origin: String?, cookies: Cookies = Cookies(header: nil)
    ) -> RequestContext {
        RequestContext(
            method: .post, path: path, contentType: "application/x-www-form-urlencoded",
            body: Array(form.encoded.utf8), cookies: cookies, origin: origin)
    }

    /// The body decoded as a form; refuses any other content type, oversized or malformed bodies.
    public func form(limits: URLEncodedForm.Limits = .default) throws(FormDecodingError) -> URLEncodedForm {
        let mediaType = contentType.map { type in
            Self.trimmed(String(type[..<(type.firstIndex(of: ";") ?? type.endIndex)])).lowercased()
        }
        guard mediaType == "application/x-www-form-urlencoded" else { throw .unsupportedContentType(contentType) }
        if let contentLength, contentLength > limits.maxBytes {
            throw .tooLarge(bytes: contentLength, limit: limits.maxBytes)
        }
        return try URLEncodedForm(decoding: body, limits: limits)
    }

    /// An absolute path without NUL and without `.`/`..` segments (nginx removes those; a client
    /// talking to the socket directly must not get them through either).
    private static func isAcceptablePath(_ path: String) -> Bool {
        path.hasPrefix("/") && !path.contains("\0")
            && !path.split(separator: "/", omittingEmptySubsequences: false).contains { $0 == "." || $0 == ".." }
    }

    private static func trimmed(_ text: String) -> String {
        var slice = Substring(text)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }
}

/// A request too broken to route: answered 400 before any handler runs.
public enum RequestError: Error, Sendable, Hashable, CustomStringConvertible {
    case missingMethod
    /// The path is not absolute, has a bad percent escape, invalid UTF-8, NUL or a dot segment.
    case invalidPath(String)
    case invalidQuery(FormDecodingError)
    case invalidContentLength(String)

    public var description: String {
        switch self {
        case .missingMethod: "REQUEST_METHOD is missing: is this socket reached through nginx's fastcgi_pass?"
        case .invalidPath(let path): "invalid request path '\(path)'"
        case .invalidQuery(let error): "invalid query string: \(error)"
        case .invalidContentLength(let value): "CONTENT_LENGTH '\(value)' is not a non-negative integer"
        }
    }
}

extension RequestError: HTTPError {
    public var status: HTTPStatus { .badRequest }

    public var publicMessage: String {
        switch self {
        case .invalidPath, .invalidQuery: "The address could not be read. Check the link and try again."
        case .missingMethod, .invalidContentLength: "The request could not be read."
        }
    }
}

extension Optional where Wrapped == String {
    /// nil for a missing or empty value (nginx sends empty parameters for absent headers).
    fileprivate var nonEmpty: String? {
        switch self {
        case .some(let value) where !value.isEmpty: value
        default: nil
        }
    }
}
