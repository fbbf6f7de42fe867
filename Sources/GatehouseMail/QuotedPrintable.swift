/// RFC 2045 quoted-printable for text bodies: CRLF hard breaks, `=` soft breaks, lines of at most 76.
enum QuotedPrintable {
    static let lineLimit = 76

    /// Encodes `text` as UTF-8; every line ending becomes CRLF and the result always ends with one.
    static func encode(_ text: String) -> [UInt8] {
        var output: [UInt8] = []
        for line in lines(of: Array(text.utf8)) {
            encodeLine(line, into: &output)
            output += [13, 10]
        }
        return output
    }

    /// Splits at CRLF, CR or LF; a final line break does not add an empty line.
    static func lines(of bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = 0, index = 0
        while index < bytes.count {
            if bytes[index] == 13 || bytes[index] == 10 {
                lines.append(bytes[start..<index])
                index += bytes[index] == 13 && index + 1 < bytes.count && bytes[index + 1] == 10 ? 2 : 1
                start = index
            } else {
                index += 1
            }
        }
        if start < bytes.count || lines.isEmpty { lines.append(bytes[start...]) }
        return lines
    }

    static func encodeLine(_ line: ArraySlice<UInt8>, into output: inout [UInt8]) {
        var physical: [UInt8] = []
        for index in line.indices {
            let byte = line[index]
            let isLast = index == line.index(before: line.endIndex)
            var token = token(for: byte, isLast: isLast)
            if physical.count + token.count > (isLast ? lineLimit : lineLimit - 1) {
                output += physical + Array("=\r\n".utf8)
                physical.removeAll()
            }
            // A physical line starting with "." or "From " is altered by SMTP and mbox; escape it.
            if physical.isEmpty && token == [byte]
                && (byte == UInt8(ascii: ".") || (byte == UInt8(ascii: "F") && line[index...].starts(with: "From ".utf8)))
            {
                token = escaped(byte)
            }
            physical += token
        }
        output += physical
    }

    static func token(for byte: UInt8, isLast: Bool) -> [UInt8] {
        switch byte {
        case 33...60, 62...126: [byte]
        case 32, 9: isLast ? escaped(byte) : [byte]
        default: escaped(byte)
        }
    }

    static func escaped(_ byte: UInt8) -> [UInt8] {
        let hex = Array("0123456789ABCDEF".utf8)
        return [UInt8(ascii: "="), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
    }
}
