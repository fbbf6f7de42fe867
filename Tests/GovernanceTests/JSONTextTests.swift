import Foundation
import Governance
import Testing

@Suite struct JSONTextTests {
    /// Every control character, quotes, backslashes, slashes and text beyond ASCII come out as
    /// JSONSerialization writes them, and read back as they were.
    @Test func stringsAreQuotedAsJSONSerializationQuotesThem() throws {
        let controls = (0..<0x20).map { String(UnicodeScalar(UInt8($0))) }.joined()
        for text in ["", "plain", controls, "a/b\\c\"d", "Zoë 👩🏽‍💻 中文 \u{2028}", "\u{7F}"] {
            let expected = String(
                decoding: try JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes]), as: UTF8.self)
            #expect("[" + JSONText.quoted(text) + "]" == expected, "\(text.debugDescription)")
            let back = try JSONSerialization.jsonObject(with: Data(("[" + JSONText.quoted(text) + "]").utf8)) as? [String]
            #expect(back == [text])
        }
    }
}
