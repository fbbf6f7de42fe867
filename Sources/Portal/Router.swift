/// The handler's table from (method, path pattern) to a closure (cgit's `cmd.c`).
///
/// Patterns are absolute paths whose `:name` segments match any one non-empty segment and are
/// handed to the closure by name; a trailing `/` is significant. When several patterns match a
/// path, the most specific wins whatever the registration order (at the first segment where they
/// differ, a literal beats a `:param`), and that pattern's methods decide: another method gets
/// `405` with `Allow`. No pattern at all gets `404`. `HEAD` runs the `GET` closure without a body.
public struct Router: Sendable {
    /// A page or action: the request and the pattern's parameters in, the response out.
    public typealias Handler = @Sendable (RequestContext, [String: String]) -> HTTPResponse

    /// What a (method, path) resolves to; `pattern` is the route as registered.
    public enum Match: Sendable, Hashable {
        case found(pattern: String, parameters: [String: String])
        /// The path exists for these methods only (sorted, `HEAD` included when `GET` is).
        case methodNotAllowed(allowed: [HTTPMethod])
        case notFound
    }

    private struct Route: Sendable {
        var method: HTTPMethod
        var pattern: String
        var segments: [Segment]
        var handler: Handler
    }

    private enum Segment: Sendable, Hashable {
        case literal(Substring)
        case parameter(String)

        var isParameter: Bool { if case .parameter = self { true } else { false } }
    }

    private var routes: [Route] = []
    private let notFound: @Sendable (RequestContext) -> HTTPResponse
    private let methodNotAllowed: @Sendable (RequestContext, [HTTPMethod]) -> HTTPResponse

    /// A router answering unknown paths and methods with `notFound` and `methodNotAllowed` (plain
    /// text by default); the router sets `Allow` on the latter's response itself.
    public init(
        notFound: @escaping @Sendable (RequestContext) -> HTTPResponse = { _ in
            .error(.notFound, "There is no page at this address.")
        },
        methodNotAllowed: @escaping @Sendable (RequestContext, [HTTPMethod]) -> HTTPResponse = { request, _ in
            .error(.methodNotAllowed, "This address does not accept \(request.method).")
        }
    ) {
        self.notFound = notFound
        self.methodNotAllowed = methodNotAllowed
    }

    /// Registers `handler` for `method` on `pattern`. Registering the same method twice on one
    /// pattern shape (`/a/:x` and `/a/:y` are one shape) is a programming error and traps.
    public mutating func add(_ method: HTTPMethod, _ pattern: String, _ handler: @escaping Handler) {
        precondition(pattern.hasPrefix("/"), "route pattern '\(pattern)' must start with '/'")
        let segments: [Segment] = pattern.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.hasPrefix(":") ? .parameter(String($0.dropFirst())) : .literal($0)
        }
        let names = segments.compactMap { if case .parameter(let name) = $0 { name } else { nil } }
        precondition(!names.contains(""), "route pattern '\(pattern)' has a ':' without a name")
        precondition(Set(names).count == names.count, "route pattern '\(pattern)' repeats a parameter name")
        let shape = Self.shape(segments)
        precondition(!routes.contains { $0.method == method && Self.shape($0.segments) == shape },
                     "\(method) \(pattern) is registered twice")
        routes.append(Route(method: method, pattern: pattern, segments: segments, handler: handler))
    }

    public mutating func get(_ pattern: String, _ handler: @escaping Handler) { add(.get, pattern, handler) }

    public mutating func post(_ pattern: String, _ handler: @escaping Handler) { add(.post, pattern, handler) }

    /// Resolves without running anything (for tests and for nginx configuration checks).
    public func match(_ method: HTTPMethod, _ path: String) -> Match {
        switch resolve(method, path) {
        case .found(let route, let parameters): .found(pattern: route.pattern, parameters: parameters)
        case .methodNotAllowed(let allowed): .methodNotAllowed(allowed: allowed)
        case .notFound: .notFound
        }
    }

    /// Runs the handler for `request`, or answers 404 / 405.
    public func respond(to request: RequestContext) -> HTTPResponse {
        switch resolve(request.method, request.path) {
        case .found(let route, let parameters):
            var response = route.handler(request, parameters)
            if request.method == .head { response.body = [] }
            return response
        case .methodNotAllowed(let allowed):
            var response = methodNotAllowed(request, allowed)
            response.status = .methodNotAllowed
            response.setHeader("Allow", allowed.map(\.rawValue).joined(separator: ", "))
            return response
        case .notFound:
            var response = notFound(request)
            response.status = .notFound
            return response
        }
    }

    private enum Resolution {
        case found(Route, [String: String])
        case methodNotAllowed([HTTPMethod])
        case notFound
    }

    private func resolve(_ method: HTTPMethod, _ path: String) -> Resolution {
        guard path.hasPrefix("/") else { return .notFound }
        let pathSegments = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        var best: [Route] = []
        for route in routes where Self.matches(route.segments, pathSegments) {
            if let current = best.first {
                switch Self.compareSpecificity(route.segments, current.segments) {
                case .more: best = [route]
                case .same: best.append(route)
                case .less: break
                }
            } else {
                best = [route]
            }
        }
        guard !best.isEmpty else { return .notFound }
        let chosen = best.first { $0.method == method }
            ?? (method == .head ? best.first { $0.method == .get } : nil)
        guard let chosen else {
            var allowed = Set(best.map(\.method))
            if allowed.contains(.get) { allowed.insert(.head) }
            return .methodNotAllowed(allowed.sorted())
        }
        var parameters: [String: String] = [:]
        for (segment, value) in zip(chosen.segments, pathSegments) {
            if case .parameter(let name) = segment { parameters[name] = String(value) }
        }
        return .found(chosen, parameters)
    }

    private static func matches(_ segments: [Segment], _ path: [Substring]) -> Bool {
        guard segments.count == path.count else { return false }
        return zip(segments, path).allSatisfy { segment, value in
            switch segment {
            case .literal(let literal): literal == value
            case .parameter: !value.isEmpty
            }
        }
    }

    private enum Specificity { case more, same, less }

    /// For two patterns matching the same path: the first position where one has a literal and the
    /// other a parameter decides.
    private static func compareSpecificity(_ lhs: [Segment], _ rhs: [Segment]) -> Specificity {
        for (left, right) in zip(lhs, rhs) where left.isParameter != right.isParameter {
            return left.isParameter ? .less : .more
        }
        return .same
    }

    private static func shape(_ segments: [Segment]) -> [Substring?] {
        segments.map { if case .literal(let text) = $0 { text } else { nil } }
    }
}
