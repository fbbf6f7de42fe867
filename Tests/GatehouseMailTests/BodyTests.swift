import Foundation
import GatehouseMail
import Testing

/// The quoted-printable body of a message whose text is `body`.
func encodedBody(_ body: String) throws -> String {
    let message = MailMessage(
        from: address("access@contoso.example"), to: [address("allan@contoso.example")], subject: "x", text: body)
    let composed = text(try message.rfc5322(date: monday, messageID: messageID))
    return String(composed[composed.range(of: "\r\n\r\n")!.upperBound...])
}

@Suite struct BodyTests {
    @Test func nonAsciiAndEqualsSignsAreEscaped() throws {
        #expect(try encodedBody("Café = 5 €") == "Caf=C3=A9 =3D 5 =E2=82=AC\r\n")
    }

    @Test func trailingWhitespaceIsProtected() throws {
        #expect(try encodedBody("Hello \nTab\t\nmid space") == "Hello=20\r\nTab=09\r\nmid space\r\n")
    }

    @Test func everyLineBreakBecomesCRLFAndTheBodyEndsWithOne() throws {
        #expect(try encodedBody("a\r\nb\rc\nd") == "a\r\nb\r\nc\r\nd\r\n")
        #expect(try encodedBody("a\n\nb\n") == "a\r\n\r\nb\r\n")
        #expect(try encodedBody("") == "\r\n")
    }

    @Test func longLinesGetSoftBreaksWithinSeventySixOctets() throws {
        #expect(try encodedBody(String(repeating: "a", count: 76)) == String(repeating: "a", count: 76) + "\r\n")
        #expect(try encodedBody(String(repeating: "a", count: 100))
            == String(repeating: "a", count: 75) + "=\r\n" + String(repeating: "a", count: 25) + "\r\n")
        // An escape is never split: 74 letters, then "é" needs 6 octets.
        #expect(try encodedBody(String(repeating: "b", count: 74) + "é")
            == String(repeating: "b", count: 74) + "=\r\n=C3=A9\r\n")
    }

    @Test func leadingDotAndFromAreEscaped() throws {
        #expect(try encodedBody(".\nFrom here\nFromage\n.. x") == "=2E\r\n=46rom here\r\nFromage\r\n=2E. x\r\n")
    }

    @Test func aDotStartingASoftBrokenLineIsEscaped() throws {
        #expect(try encodedBody(String(repeating: "c", count: 75) + ".end")
            == String(repeating: "c", count: 75) + "=\r\n=2Eend\r\n")
    }
}
