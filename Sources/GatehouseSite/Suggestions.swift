/// " (did you mean 'x'?)" for the known name closest to `name`, or "" when none is close enough.
///
/// Close means a Levenshtein distance of at most 2, or at most a third of the name's length, compared
/// without case, so `Member` is suggested for `member`; names of three letters or fewer (language
/// codes) allow one edit, since two would turn `de` into any other code. Ties go to the first candidate in sorted order so
/// messages do not depend on dictionary order.
func didYouMean(_ name: String, among candidates: some Sequence<String>) -> String {
    guard let best = closest(to: name, among: candidates) else { return "" }
    return " (did you mean '\(best)'?)"
}

/// Like `didYouMean`, for emails: within the same domain the local parts are compared (so `lee@` is not
/// "close" to `adele@` just because the domain is long); across domains only a small typo counts.
func didYouMeanEmail(_ email: String, among candidates: some Sequence<String>) -> String {
    guard let at = email.lastIndex(of: "@") else { return didYouMean(email, among: candidates) }
    let local = String(email[..<at])
    let domain = email[at...].lowercased()
    var locals: [String: String] = [:]
    var all: [String] = []
    for candidate in candidates {
        all.append(candidate)
        if let candidateAt = candidate.lastIndex(of: "@"), candidate[candidateAt...].lowercased() == domain {
            locals[String(candidate[..<candidateAt])] = candidate
        }
    }
    if let best = closest(to: local, among: locals.keys), let candidate = locals[best] { return " (did you mean '\(candidate)'?)" }
    if let best = closest(to: email, among: all, limit: 2) { return " (did you mean '\(best)'?)" }
    return ""
}

func closest(to name: String, among candidates: some Sequence<String>, limit fixedLimit: Int? = nil) -> String? {
    let target = Array(name.lowercased().unicodeScalars)
    let limit = fixedLimit ?? (target.count <= 3 ? 1 : max(2, target.count / 3))
    var best: (name: String, distance: Int)?
    for candidate in Set(candidates).sorted() where candidate != name {
        let other = Array(candidate.lowercased().unicodeScalars)
        guard abs(other.count - target.count) <= limit else { continue }
        let distance = levenshtein(target, other)
        if distance <= limit, distance < (best?.distance ?? .max) { best = (candidate, distance) }
    }
    return best?.name
}

func levenshtein<T: Equatable>(_ a: [T], _ b: [T]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
            current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}

/// `a, b and c` for messages.
func listed(_ items: [String], quoted: Bool = false) -> String {
    let shown = quoted ? items.map { "'\($0)'" } : items
    switch shown.count {
    case 0: return "none"
    case 1: return shown[0]
    default: return shown.dropLast().joined(separator: ", ") + " and " + shown.last!
    }
}
