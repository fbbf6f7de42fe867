internal import Foundation

/// Header writing: atoms (unbreakable pieces) joined by single spaces, folded at those spaces.
enum Header {
    /// RFC 5322's recommended limit, excluding CRLF.
    static let lineLimit = 78
    /// The longest word written as plain text; longer ones switch to encoded-words, which can split.
    static let longestPlainWord = 64
    /// UTF-8 bytes per encoded-word: 42 bytes -> 56 base64 chars + 12 for `=?utf-8?B?…?=` = 68, so even
    /// `Subject: ` and a first encoded-word stay within 78 (RFC 2047 allows 75 per word).
    static let encodedWordBytes = 42

    /// `Name: atom atom…`, folded before an atom that would pass the limit; no trailing CRLF.
    static func line(_ name: String, _ atoms: [String]) -> String {
        line(name, groups: atoms.map { [$0] })
    }

    /// Like `line(_:_:)`, folding before a group (a mailbox) that does not fit, and inside it only
    /// when it does not fit on a line of its own either.
    static func line(_ name: String, groups: [[String]]) -> String {
        var text = name + ":"
        var length = text.utf8.count
        var previous: String?
        for group in groups {
            let whole = group.map(\.utf8.count).reduce(group.count, +)
            for (index, atom) in group.enumerated() {
                let needed = index == 0 ? whole : 1 + atom.utf8.count
                let canFold = previous.map { !$0.isEmpty } == true && !atom.isEmpty
                if canFold && length + needed > lineLimit {
                    text += "\r\n " + atom
                    length = 1 + atom.utf8.count
                } else {
                    text += " " + atom
                    length += 1 + atom.utf8.count
                }
                previous = atom
            }
        }
        return text
    }

    /// Unstructured text (Subject): plain words when printable ASCII, otherwise encoded-words.
    static func unstructured(_ text: String) -> [String] {
        if text.isEmpty { return [] }
        let words = text.split(separator: " ", omittingEmptySubsequences: false)
        let plain = text.unicodeScalars.allSatisfy { (0x20...0x7E).contains($0.value) }
            && !text.contains("=?")
            && words.first?.isEmpty == false && words.last?.isEmpty == false
            && words.allSatisfy { $0.utf8.count <= longestPlainWord }
        return plain ? words.map(String.init) : encodedWords(text)
    }

    /// A display name: bare atoms, else one quoted string, else encoded-words.
    static func phrase(_ name: String) -> [String] {
        let words = name.split(separator: " ", omittingEmptySubsequences: false)
        let printable = name.unicodeScalars.allSatisfy { (0x20...0x7E).contains($0.value) }
        guard printable else { return encodedWords(name) }
        if words.allSatisfy({ !$0.isEmpty && $0.utf8.count <= longestPlainWord && $0.allSatisfy(isAtext) })
            && !name.contains("=?")
        {
            return words.map(String.init)
        }
        let escaped = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return escaped.utf8.count + 2 <= longestPlainWord ? ["\"" + escaped + "\""] : encodedWords(name)
    }

    /// Comma-separated mailboxes, each a group: `name <address>`, or the bare address without a name.
    static func mailboxes(_ mailboxes: [MailAddress]) -> [[String]] {
        mailboxes.enumerated().map { index, mailbox in
            var parts = mailbox.name.map { phrase($0) + ["<" + mailbox.address + ">"] } ?? [mailbox.address]
            if index < mailboxes.count - 1 { parts[parts.count - 1] += "," }
            return parts
        }
    }

    /// RFC 2047 B encoded-words in UTF-8, split between Unicode scalars so each word decodes alone.
    static func encodedWords(_ text: String) -> [String] {
        var words: [String] = []
        var chunk: [UInt8] = []
        func flush() {
            if !chunk.isEmpty { words.append("=?utf-8?B?" + Data(chunk).base64EncodedString() + "?=") }
            chunk.removeAll()
        }
        for scalar in text.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if chunk.count + bytes.count > encodedWordBytes { flush() }
            chunk += bytes
        }
        flush()
        return words
    }
}
