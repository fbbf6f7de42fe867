public import Foundation

/// An email to compose: who, to whom, subject and a plain-text body. Date and id are fixed at composition.
public struct MailMessage: Sendable, Hashable {
    public var from: MailAddress
    public var to: [MailAddress]
    /// Any text without line breaks; non-ASCII is written as RFC 2047 encoded-words.
    public var subject: String
    /// Plain text; any line-break convention, written as CRLF in quoted-printable.
    public var text: String

    public init(from: MailAddress, to: [MailAddress], subject: String, text: String) {
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
    }

    /// The message as RFC 5322 bytes: CRLF lines, folded headers, UTF-8 text in quoted-printable.
    ///
    /// Quoted-printable rather than 8bit: it survives relays without 8BITMIME, keeps every line under
    /// 76 octets whatever the text, protects trailing spaces and leading dots, and leaves ASCII readable.
    /// `messageID` is `left@right` without angle brackets; `timeZone` only affects the `Date:` offset.
    public func rfc5322(date: Date, messageID: String, timeZone: TimeZone = .utc) throws(MailError) -> Data {
        try requireNoControlCharacters(subject, field: "subject")
        try requireNoControlCharacters(messageID, field: "Message-ID")
        guard MessageID.isValid(messageID) else { throw .invalidMessageID(messageID) }
        guard !to.isEmpty else { throw .noRecipients }
        let headers = [
            Header.line("Date", [RFC5322Date.format(date, in: timeZone)]),
            Header.line("From", groups: Header.mailboxes([from])),
            Header.line("To", groups: Header.mailboxes(to)),
            Header.line("Subject", Header.unstructured(subject)),
            Header.line("Message-ID", ["<" + messageID + ">"]),
            Header.line("Auto-Submitted", ["auto-generated"]),
            Header.line("MIME-Version", ["1.0"]),
            Header.line("Content-Type", ["text/plain;", "charset=utf-8"]),
            Header.line("Content-Transfer-Encoding", ["quoted-printable"]),
        ]
        var bytes = Data(headers.joined(separator: "\r\n").utf8)
        bytes.append(contentsOf: Array("\r\n\r\n".utf8))
        bytes.append(contentsOf: QuotedPrintable.encode(text))
        return bytes
    }

    /// The composed message with what a transport needs besides its bytes.
    public func composed(date: Date, messageID: String, timeZone: TimeZone = .utc) throws(MailError) -> ComposedMail {
        ComposedMail(
            messageID: messageID, date: date, recipients: to.map(\.address),
            data: try rfc5322(date: date, messageID: messageID, timeZone: timeZone))
    }
}

/// A message ready to deliver: what the outbox table stores and a `MailTransport` sends.
public struct ComposedMail: Sendable, Hashable {
    /// Without angle brackets; names the `.eml` file.
    public var messageID: String
    /// The `Date:` header's instant; orders the outbox folder.
    public var date: Date
    /// Envelope recipients (addr-specs), the same as the `To:` header.
    public var recipients: [String]
    /// The RFC 5322 bytes.
    public var data: Data

    public init(messageID: String, date: Date, recipients: [String], data: Data) {
        self.messageID = messageID
        self.date = date
        self.recipients = recipients
        self.data = data
    }
}

extension TimeZone {
    /// UTC, the default offset of a `Date:` header.
    public static let utc = TimeZone(secondsFromGMT: 0)!
}

/// Message ids restricted to characters that are also safe in a file name.
enum MessageID {
    static func isValid(_ id: String) -> Bool {
        guard id.unicodeScalars.allSatisfy(\.isASCII) else { return false }
        let parts = id.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, id.utf8.count <= 200 else { return false }
        return parts.allSatisfy { part in
            isDotAtom(part) && part.allSatisfy { $0.isLetter || $0.isNumber || "._+=-".contains($0) }
        }
    }
}

/// `Date:` values: `Mon, 07 Jul 2025 14:03:09 +0200`, independent of the machine's locale.
enum RFC5322Date {
    static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func format(_ date: Date, in timeZone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let whole = Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
        let c = calendar.dateComponents([.weekday, .day, .month, .year, .hour, .minute, .second], from: whole)
        let offset = timeZone.secondsFromGMT(for: whole) / 60
        let sign = offset < 0 ? "-" : "+"
        return "\(days[c.weekday! - 1]), \(two(c.day!)) \(months[c.month! - 1]) \(c.year!) "
            + "\(two(c.hour!)):\(two(c.minute!)):\(two(c.second!)) \(sign)\(two(abs(offset) / 60))\(two(abs(offset) % 60))"
    }

    static func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
