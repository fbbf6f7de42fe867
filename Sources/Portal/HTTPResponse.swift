/// What the handler answers: status, headers in order (several `Set-Cookie` allowed), body bytes.
///
/// The FastCGI adapter writes `cgiBytes`; nothing else about the transport leaks in here.
public struct HTTPResponse: Sendable, Hashable {
    /// One header line; `name` as it is written, compared case-insensitively by the accessors.
    public struct Header: Sendable, Hashable {
        public var name: String
        public var value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public var status: HTTPStatus
    public var headers: [Header]
    public var body: [UInt8]

    public init(status: HTTPStatus = .ok, headers: [Header] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of header `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// Every value of header `name`, in order.
    public func headerValues(_ name: String) -> [String] {
        headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }

    /// Adds a header line, keeping any earlier one of the same name (right for `Set-Cookie`).
    public mutating func addHeader(_ name: String, _ value: String) {
        headers.append(Header(name, value))
    }

    /// Sets header `name`, replacing every earlier line of that name.
    public mutating func setHeader(_ name: String, _ value: String) {
        headers.removeAll { $0.name.lowercased() == name.lowercased() }
        headers.append(Header(name, value))
    }

    /// The body as text, for tests and logs.
    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    // MARK: Helpers

    /// An HTML page; `no-store` because handler pages depend on who is looking.
    public static func html(_ html: String, status: HTTPStatus = .ok) -> HTTPResponse {
        HTTPResponse(status: status, headers: [
            Header("Content-Type", "text/html; charset=utf-8"),
            Header("Cache-Control", "no-store"),
            Header("X-Content-Type-Options", "nosniff"),
        ], body: Array(html.utf8))
    }

    /// `303 See Other` to a path of this site, so a reload after a post never posts again.
    public static func redirect(to target: SafeRedirect) -> HTTPResponse {
        HTTPResponse(status: .seeOther, headers: [
            Header("Location", target.path),
            Header("Cache-Control", "no-store"),
        ])
    }

    /// A short plain-text error; the friendly HTML page is the caller's to render when it has one.
    public static func error(_ status: HTTPStatus, _ message: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: [
            Header("Content-Type", "text/plain; charset=utf-8"),
            Header("Cache-Control", "no-store"),
            Header("X-Content-Type-Options", "nosniff"),
        ], body: Array((message + "\n").utf8))
    }

    /// The plain error for an `HTTPError`: its status and public message, never internal detail.
    public static func error(_ error: some HTTPError) -> HTTPResponse {
        .error(error.status, error.publicMessage)
    }

    // MARK: Wire form

    /// The response as a FastCGI responder writes it on stdout: `Status:`, the headers,
    /// `Content-Length`, a blank line, the body. CR, LF and NUL in names or values become spaces,
    /// so no value can start a header of its own.
    public var cgiBytes: [UInt8] {
        var head = "Status: \(status.code) \(Self.clean(status.reason))\r\n"
        for header in headers where header.name.lowercased() != "content-length" {
            head += Self.clean(header.name) + ": " + Self.clean(header.value) + "\r\n"
        }
        head += "Content-Length: \(body.count)\r\n\r\n"
        return Array(head.utf8) + body
    }

    private static func clean(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { $0 == "\r" || $0 == "\n" || $0 == "\0" ? " " : $0 }))
    }
}
