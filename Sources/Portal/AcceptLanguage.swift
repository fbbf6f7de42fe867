public import GatehouseModel

/// Picks the page language from `Accept-Language` among the tenant's languages.
///
/// Preferences are taken by descending q-value (ties in header order). For each, an exact tag
/// wins, then its primary subtag (`fr-CA` finds `fr`, then any `fr-*`); `*` takes the default.
/// A language the header rules out with `q=0` is never picked; nothing usable gives the default.
public enum AcceptLanguage {
    /// One parsed preference: a lower-cased tag (or `*`) and its weight in thousandths (0...1000).
    public struct Preference: Sendable, Hashable {
        public var tag: String
        public var quality: Int

        public init(tag: String, quality: Int) {
            self.tag = tag
            self.quality = quality
        }
    }

    /// More preferences than this are ignored; real browsers send fewer than ten.
    public static let maxPreferences = 32

    /// Parses a header into preferences in header order, skipping malformed entries.
    public static func preferences(_ header: String?) -> [Preference] {
        guard let header else { return [] }
        var result: [Preference] = []
        for entry in header.split(separator: ",").prefix(maxPreferences) {
            let parts = entry.split(separator: ";").map { $0.trimmingCharacters(in: " \t") }
            guard let tag = parts.first?.lowercased(), isTag(tag) else { continue }
            var quality = 1000
            var valid = true
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: " \t") }
                guard pair.count == 2, pair[0].lowercased() == "q", let q = parseQuality(pair[1]) else {
                    valid = false
                    break
                }
                quality = q
            }
            if valid { result.append(Preference(tag: tag, quality: quality)) }
        }
        return result
    }

    /// The best of `available` (returned as spelled there) for `header`; `defaultLanguage` otherwise.
    public static func best(_ header: String?, available: [String], defaultLanguage: String) -> String {
        let preferences = preferences(header)
        let excluded = Set(preferences.filter { $0.quality == 0 }.map(\.tag))
        let candidates = available.filter { !excluded.contains($0.lowercased()) }
        let ordered = preferences.enumerated()
            .filter { $0.element.quality > 0 }
            .sorted { $0.element.quality != $1.element.quality ? $0.element.quality > $1.element.quality : $0.offset < $1.offset }
            .map(\.element.tag)
        for tag in ordered {
            if tag == "*" {
                return candidates.contains(defaultLanguage) || candidates.isEmpty ? defaultLanguage : candidates[0]
            }
            if let exact = candidates.first(where: { $0.lowercased() == tag }) { return exact }
            let primary = primarySubtag(tag)
            if let same = candidates.first(where: { $0.lowercased() == primary }) { return same }
            if let sibling = candidates.first(where: { primarySubtag($0.lowercased()) == primary }) { return sibling }
        }
        return defaultLanguage
    }

    /// The best of the tenant's languages for `header`, its default language otherwise.
    public static func best(_ header: String?, for tenant: Tenant) -> String {
        best(header, available: tenant.languages, defaultLanguage: tenant.defaultLanguage)
    }

    private static func primarySubtag(_ tag: String) -> String {
        String(tag[..<(tag.firstIndex(of: "-") ?? tag.endIndex)])
    }

    /// `*` or BCP 47-shaped: 1-8 letters, then `-`-separated 1-8 alphanumerics.
    private static func isTag(_ tag: String) -> Bool {
        if tag == "*" { return true }
        let subtags = tag.split(separator: "-", omittingEmptySubsequences: false)
        guard let first = subtags.first, (1...8).contains(first.count),
              first.allSatisfy({ $0.isASCII && $0.isLetter }) else { return false }
        return subtags.dropFirst().allSatisfy { subtag in
            (1...8).contains(subtag.count) && subtag.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
        }
    }

    /// RFC 9110 `qvalue`: `0`, `1`, or up to three decimals (`0.8`, `1.000`), in thousandths.
    private static func parseQuality(_ text: String) -> Int? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, whole == "0" || whole == "1" else { return nil }
        var thousandths = whole == "1" ? 1000 : 0
        if parts.count == 2 {
            let fraction = parts[1]
            guard fraction.count <= 3, fraction.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            let digits = Int(fraction.padding(toLength: 3)) ?? 0
            guard whole == "0" || digits == 0 else { return nil }
            thousandths += digits
        }
        return thousandths
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var text = self
        while let first = text.first, set.contains(first) { text.removeFirst() }
        while let last = text.last, set.contains(last) { text.removeLast() }
        return String(text)
    }

    fileprivate func padding(toLength length: Int) -> String {
        String(self) + String(repeating: "0", count: Swift.max(0, length - count))
    }
}
