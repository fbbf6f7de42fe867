import Foundation
import GatehouseMail
import Testing

@Suite struct HeaderSafetyTests {
    @Test func lineBreakInSubjectIsRefused() {
        let message = signInMail(subject: "Hello\r\nBcc: eve@evil.example")
        #expect(throws: MailError.controlCharacter(field: "subject", value: "Hello\r\nBcc: eve@evil.example")) {
            try message.rfc5322(date: monday, messageID: messageID)
        }
        let error = MailError.controlCharacter(field: "subject", value: "Hello\r\nBcc: eve@evil.example")
        #expect(error.description == #"the subject "Hello\r\nBcc: eve@evil.example" contains a line break or control character, which a mail header cannot hold"#)
    }

    @Test(arguments: ["Hi\nBcc: eve@evil.example", "Hi\rBcc: eve@evil.example", "Hi\u{0}there", "Hi\u{1B}[31m"])
    func anyControlCharacterInSubjectIsRefused(subject: String) {
        #expect(throws: MailError.controlCharacter(field: "subject", value: subject)) {
            try signInMail(subject: subject).rfc5322(date: monday, messageID: messageID)
        }
    }

    @Test func lineBreakInDisplayNameIsRefused() {
        #expect(throws: MailError.controlCharacter(field: "display name", value: "Allan\r\nBcc: eve@evil.example")) {
            try MailAddress("allan@contoso.example", name: "Allan\r\nBcc: eve@evil.example")
        }
    }

    @Test func lineBreakInAddressIsRefused() {
        let injected = "allan@contoso.example\r\nBcc: eve@evil.example"
        #expect(throws: MailError.controlCharacter(field: "address", value: injected)) {
            try MailAddress(injected)
        }
    }

    @Test func lineBreakInMessageIDIsRefused() {
        #expect(throws: MailError.controlCharacter(field: "Message-ID", value: "x@y\r\nBcc: eve@evil.example")) {
            try signInMail().rfc5322(date: monday, messageID: "x@y\r\nBcc: eve@evil.example")
        }
    }

    @Test(arguments: ["<x@contoso.example>", "x", "a/b@contoso.example", "x@y@z", ".x@y", "x@", "été@y"])
    func malformedMessageIDsAreRefused(id: String) {
        #expect(throws: MailError.invalidMessageID(id)) {
            try signInMail().rfc5322(date: monday, messageID: id)
        }
    }

    @Test func messageIDErrorSaysWhatIsExpected() {
        #expect(MailError.invalidMessageID("<x@y>").description == #""<x@y>" is not a valid message id: expected something like '4f1c2e@access.example.org' (letters, digits, '.', '_', '+', '=', '-', one '@', no angle brackets)"#)
    }

    @Test func aMessageNeedsARecipient() {
        #expect(throws: MailError.noRecipients) {
            try signInMail(to: []).rfc5322(date: monday, messageID: messageID)
        }
    }

    @Test(arguments: [
        ("allan", "expected exactly one '@'"),
        ("allan@x@contoso.example", "expected exactly one '@'"),
        ("@contoso.example", "the part before '@' is empty"),
        ("allan@", "the part after '@' is empty"),
        ("al lan@contoso.example", #"the character " " is not allowed before '@'"#),
        ("\"allan\"@contoso.example", #"the character "\"" is not allowed before '@'"#),
        (".allan@contoso.example", "a '.' cannot start or end the part before '@' or follow another '.'"),
        ("al..lan@contoso.example", "a '.' cannot start or end the part before '@' or follow another '.'"),
        ("allan@contoso..example", "'contoso..example' is not a valid domain name"),
        ("allan@-contoso.example", "'-contoso.example' is not a valid domain name"),
        ("allan@contoso_example.com", "'contoso_example.com' is not a valid domain name"),
        ("adèle@contoso.example", "only ASCII addresses are supported"),
        (String(repeating: "a", count: 65) + "@contoso.example", "the part before '@' is longer than 64 characters"),
    ])
    func invalidAddressesSayWhy(input: String, reason: String) {
        #expect(throws: MailError.invalidAddress(input, reason: reason)) { try MailAddress(input) }
    }

    @Test func invalidAddressMessageQuotesTheInput() {
        #expect(MailError.invalidAddress("allan", reason: "expected exactly one '@'").description
            == #""allan" is not a valid email address: expected exactly one '@'"#)
    }

    @Test(arguments: ["o'brien+tag@mail.contoso.example", "root@localhost", "a.b-c_d@x1.example", "X@Y.EXAMPLE"])
    func plainAddressesAreAccepted(input: String) throws {
        let mailbox = try MailAddress(input, name: "")
        #expect(mailbox.address == input)
        #expect(mailbox.name == nil)
    }
}
