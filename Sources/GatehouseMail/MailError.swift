/// Why a message could not be composed; each case names the offending input so a person can fix it.
public enum MailError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A header input holds CR, LF or another control character: refused, so no header can be injected.
    case controlCharacter(field: String, value: String)
    /// Not a plain `local@domain` address (quoted local parts and non-ASCII addresses are not supported).
    case invalidAddress(String, reason: String)
    /// A message id must be `left@right` made of letters, digits and `.`, `_`, `+`, `=`, `-`.
    case invalidMessageID(String)
    /// A message needs at least one recipient.
    case noRecipients

    public var description: String {
        switch self {
        case .controlCharacter(let field, let value):
            "the \(field) \(value.debugDescription) contains a line break or control character, "
                + "which a mail header cannot hold"
        case .invalidAddress(let address, let reason):
            "\(address.debugDescription) is not a valid email address: \(reason)"
        case .invalidMessageID(let id):
            "\(id.debugDescription) is not a valid message id: expected something like "
                + "'4f1c2e@access.example.org' (letters, digits, '.', '_', '+', '=', '-', one '@', no angle brackets)"
        case .noRecipients:
            "the message has no recipient"
        }
    }
}

/// Refuses CR, LF and every other control character except tab (and DEL) in a header input.
func requireNoControlCharacters(_ value: String, field: String) throws(MailError) {
    for scalar in value.unicodeScalars where scalar != "\t" && (scalar.value < 0x20 || scalar.value == 0x7F) {
        throw .controlCharacter(field: field, value: value)
    }
}
