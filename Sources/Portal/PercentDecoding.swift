/// Percent-decoding shared by forms, query strings and request paths: bytes in, validated UTF-8 out.
enum PercentDecoding {
    enum Failure: Error, Equatable {
        /// A `%` not followed by two hex digits; the text from the `%` (at most three characters).
        case malformedEscape(String)
        /// The decoded bytes are not UTF-8.
        case invalidUTF8
    }

    /// Decodes `bytes`; `plusIsSpace` turns `+` into a space first (forms), leaving `%2B` a plus.
    static func decode(_ bytes: some Collection<UInt8>, plusIsSpace: Bool) -> Result<String, Failure> {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                let first = bytes.index(after: index)
                let second = first == bytes.endIndex ? first : bytes.index(after: first)
                guard second != bytes.endIndex, let high = hexValue(bytes[first]), let low = hexValue(bytes[second]) else {
                    let end = second == bytes.endIndex ? second : bytes.index(after: second)
                    return .failure(.malformedEscape(String(decoding: bytes[index..<end], as: UTF8.self)))
                }
                out.append(high << 4 | low)
                index = bytes.index(after: second)
            } else {
                out.append(plusIsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                index = bytes.index(after: index)
            }
        }
        guard let text = validUTF8(out) else { return .failure(.invalidUTF8) }
        return .success(text)
    }

    /// The string for `bytes`, or nil when they are not well-formed UTF-8 (no silent U+FFFD).
    static func validUTF8(_ bytes: some Collection<UInt8>) -> String? {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid: continue
            case .emptyInput: return String(decoding: bytes, as: UTF8.self)
            case .error: return nil
            }
        }
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - 48
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - 55
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - 87
        default: nil
        }
    }
}
