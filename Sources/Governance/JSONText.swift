/// JSON string literals written directly, escaped exactly as Foundation's `JSONSerialization`
/// escapes them (without escaped slashes): the stored answers must read the same as before, and
/// going through `JSONSerialization` was a sixth of a submission's time.
public enum JSONText {
    /// `string` as a JSON string literal, quotes included.
    public static func quoted(_ string: String) -> String {
        var out = ""
        append(string, to: &out)
        return out
    }

    /// Appends `string` as a JSON string literal to `out`.
    public static func append(_ string: String, to out: inout String) {
        out += "\""
        guard string.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
            out += string
            out += "\""
            return
        }
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\u{8}": out += "\\b"
            case "\u{C}": out += "\\f"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{0}"..."\u{F}": out += "\\u000" + String(scalar.value, radix: 16)
            case "\u{10}"..."\u{1F}": out += "\\u00" + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
