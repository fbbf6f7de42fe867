/// A mailbox: a validated `local@domain` address and an optional display name.
public struct MailAddress: Sendable, Hashable {
    /// The addr-spec, exactly as given (`allan@contoso.example`).
    public let address: String
    /// Shown by mail readers; quoted or RFC 2047-encoded when written, so it may hold any text.
    public let name: String?

    /// Validates `address` as a simple dot-atom addr-spec and refuses control characters in both parts.
    public init(_ address: String, name: String? = nil) throws(MailError) {
        try requireNoControlCharacters(address, field: "address")
        if let name { try requireNoControlCharacters(name, field: "display name") }
        if let reason = Self.problem(with: address) { throw .invalidAddress(address, reason: reason) }
        self.address = address
        self.name = name.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The domain part, for message ids and logs.
    public var domain: Substring { address[address.index(after: address.lastIndex(of: "@")!)...] }

    /// Why `address` is not a simple addr-spec, or nil when it is one.
    static func problem(with address: String) -> String? {
        guard address.unicodeScalars.allSatisfy(\.isASCII) else {
            return "only ASCII addresses are supported"
        }
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return "expected exactly one '@'" }
        let local = parts[0], domain = parts[1]
        guard !local.isEmpty else { return "the part before '@' is empty" }
        guard !domain.isEmpty else { return "the part after '@' is empty" }
        guard local.utf8.count <= 64 else { return "the part before '@' is longer than 64 characters" }
        guard address.utf8.count <= 254 else { return "it is longer than 254 characters" }
        if let bad = local.first(where: { !isAtext($0) && $0 != "." }) {
            return "the character \(String(bad).debugDescription) is not allowed before '@'"
        }
        if !isDotAtom(local) { return "a '.' cannot start or end the part before '@' or follow another '.'" }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        for label in labels {
            guard !label.isEmpty, label.utf8.count <= 63,
                label.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }),
                label.first != "-", label.last != "-"
            else { return "'\(domain)' is not a valid domain name" }
        }
        return nil
    }
}

/// RFC 5322 atext: the characters allowed unquoted in an atom.
func isAtext(_ character: Character) -> Bool {
    guard character.isASCII, let ascii = character.asciiValue else { return false }
    return character.isLetter || character.isNumber || "!#$%&'*+-/=?^_`{|}~".utf8.contains(ascii)
}

/// Non-empty, with no leading, trailing or doubled dot.
func isDotAtom(_ text: Substring) -> Bool {
    !text.isEmpty && text.first != "." && text.last != "." && !text.contains("..")
}
