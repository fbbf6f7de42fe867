import Rendering

/// A redirect target proven to stay on this site: an absolute path, never a URL.
///
/// Used for every `Location` the handler writes and for the sign-in `return` parameter, which
/// anyone can put in a link: `https://evil.example`, `//evil.example`, `/\evil.example` (browsers
/// read `\` as `/`) and anything with control characters or spaces are refused.
public struct SafeRedirect: Sendable, Hashable, CustomStringConvertible {
    /// The path (with its query, if any) that goes into `Location`.
    public let path: String

    /// Longest target accepted; a real page path is far shorter.
    public static let maxLength = 2048

    /// The target when it is a same-site path, otherwise nil.
    public init?(_ target: String) {
        guard target.utf8.count <= Self.maxLength,
              target.utf8.first == UInt8(ascii: "/"),
              !target.hasPrefix("//"),
              target.utf8.allSatisfy({ (0x21...0x7E).contains($0) && $0 != UInt8(ascii: "\\") })
        else { return nil }
        path = target
    }

    /// The portal home, where an absent or refused target goes.
    public static let home = SafeRedirect(Paths.home)!

    /// `target` when safe, otherwise the home page: what sign-in does with its `return` field.
    public static func returnTarget(_ target: String?) -> SafeRedirect {
        target.flatMap(SafeRedirect.init) ?? .home
    }

    public var description: String { path }
}
