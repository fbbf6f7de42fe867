import Foundation
import GatehouseMail
import Testing

@Suite struct ComposeTests {
    @Test func asciiMessageBytes() throws {
        let data = try signInMail().rfc5322(date: monday, messageID: messageID)
        #expect(text(data) == """
            Date: Mon, 07 Jul 2025 12:03:09 +0000\r
            From: Contoso Access <access@contoso.example>\r
            To: Allan Deyoung <allan@contoso.example>\r
            Subject: Your sign-in code\r
            Message-ID: <4f1c2e@access.contoso.example>\r
            Auto-Submitted: auto-generated\r
            MIME-Version: 1.0\r
            Content-Type: text/plain; charset=utf-8\r
            Content-Transfer-Encoding: quoted-printable\r
            \r
            Your code is 482913.\r
            It expires in 10 minutes.\r

            """)
    }

    @Test func utf8SubjectAndNamesAreEncodedWords() throws {
        let message = MailMessage(
            from: address("access@contoso.example", "Gatehouse – Contoso"),
            to: [address("adele@contoso.example", "Adèle Vance")],
            subject: "Accès accordé : Finance", text: "Bonjour Adèle,\n")
        let data = try message.rfc5322(date: monday, messageID: messageID)
        #expect(text(data) == """
            Date: Mon, 07 Jul 2025 12:03:09 +0000\r
            From: =?utf-8?B?R2F0ZWhvdXNlIOKAkyBDb250b3Nv?= <access@contoso.example>\r
            To: =?utf-8?B?QWTDqGxlIFZhbmNl?= <adele@contoso.example>\r
            Subject: =?utf-8?B?QWNjw6hzIGFjY29yZMOpIDogRmluYW5jZQ==?=\r
            Message-ID: <4f1c2e@access.contoso.example>\r
            Auto-Submitted: auto-generated\r
            MIME-Version: 1.0\r
            Content-Type: text/plain; charset=utf-8\r
            Content-Transfer-Encoding: quoted-printable\r
            \r
            Bonjour Ad=C3=A8le,\r

            """)
        #expect(data.allSatisfy { $0 < 0x80 })
    }

    @Test func longAsciiSubjectFoldsAtASpace() throws {
        let subject = "Reminder: your access to Finance reporting (quarterly close) ends in 14 days"
            + " unless you ask to extend it before then"
        let data = try signInMail(subject: subject).rfc5322(date: monday, messageID: messageID)
        #expect(text(data).contains("""
            \r
            Subject: Reminder: your access to Finance reporting (quarterly close) ends in\r
             14 days unless you ask to extend it before then\r
            Message-ID:
            """))
    }

    @Test func longUtf8SubjectSplitsIntoWholeCharacterEncodedWords() throws {
        let subject = "Rappel : votre accès à « Finance – rapports trimestriels » se termine dans 14 jours 🗓️"
        let data = try signInMail(subject: subject).rfc5322(date: monday, messageID: messageID)
        let lines = text(data).components(separatedBy: "\r\n")
        let start = try #require(lines.firstIndex { $0.hasPrefix("Subject: ") })
        let end = try #require(lines.firstIndex { $0.hasPrefix("Message-ID: ") })
        let subjectLines = Array(lines[start..<end])
        #expect(subjectLines.count == 3)
        #expect(subjectLines.allSatisfy { $0.utf8.count <= 78 })
        #expect(subjectLines.dropFirst().allSatisfy { $0.hasPrefix(" =?utf-8?B?") })
        // Each encoded-word decodes on its own to whole characters, and together to the subject.
        let words = subjectLines.map { $0.replacingOccurrences(of: "Subject:", with: "").trimmingCharacters(in: .whitespaces) }
        let decoded = try words.map { word in
            #expect(word.utf8.count <= 75)
            let base64 = word.dropFirst("=?utf-8?B?".count).dropLast(2)
            let bytes = try #require(Data(base64Encoded: String(base64)))
            return try #require(String(data: bytes, encoding: .utf8))
        }
        #expect(decoded.joined() == subject)
    }

    @Test func manyRecipientsFoldBetweenAddresses() throws {
        let people = ["Allan Deyoung", "Megan Bowen", "Lee Gu", "Adele Vance"].map { name in
            address(name.lowercased().replacingOccurrences(of: " ", with: ".") + "@contoso.example", name)
        }
        let data = try signInMail(to: people).rfc5322(date: monday, messageID: messageID)
        #expect(text(data).contains("""
            \r
            To: Allan Deyoung <allan.deyoung@contoso.example>,\r
             Megan Bowen <megan.bowen@contoso.example>, Lee Gu <lee.gu@contoso.example>,\r
             Adele Vance <adele.vance@contoso.example>\r
            Subject:
            """))
    }

    @Test func aMailboxFoldsBeforeItsAddressOnlyWhenItCannotFitOnOneLine() throws {
        let message = MailMessage(
            from: address("access@contoso.example", #"Gatehouse – Contoso "Access""#),
            to: [address("adele@contoso.example", "Adèle Vance"), address("lee@contoso.example", "Vance, Lee")],
            subject: "x", text: "")
        let data = try message.rfc5322(date: monday, messageID: messageID)
        #expect(text(data).contains("""
            \r
            From: =?utf-8?B?R2F0ZWhvdXNlIOKAkyBDb250b3NvICJBY2Nlc3Mi?=\r
             <access@contoso.example>\r
            To: =?utf-8?B?QWTDqGxlIFZhbmNl?= <adele@contoso.example>,\r
             "Vance, Lee" <lee@contoso.example>\r
            Subject: x\r

            """))
    }

    @Test func displayNamesWithSpecialsAreQuoted() throws {
        let to = [
            address("adele@contoso.example", #"Vance, Adele "AV""#),
            address("lee@contoso.example"),
            address("tricky@contoso.example", "=?utf-8?B?QUI=?="),
        ]
        let data = try signInMail(to: to).rfc5322(date: monday, messageID: messageID)
        #expect(text(data).contains("""
            \r
            To: "Vance, Adele \\"AV\\"" <adele@contoso.example>, lee@contoso.example,\r
             "=?utf-8?B?QUI=?=" <tricky@contoso.example>\r

            """))
    }

    @Test func subjectThatLooksEncodedIsEncoded() throws {
        let data = try signInMail(subject: "=?utf-8?B?QUI=?=").rfc5322(date: monday, messageID: messageID)
        #expect(text(data).contains("\r\nSubject: =?utf-8?B?PT91dGYtOD9CP1FVST0/PQ==?=\r\n"))
    }

    @Test(arguments: [
        ("Europe/Paris", "Date: Mon, 07 Jul 2025 14:03:09 +0200"),
        ("America/New_York", "Date: Mon, 07 Jul 2025 08:03:09 -0400"),
        ("Asia/Kolkata", "Date: Mon, 07 Jul 2025 17:33:09 +0530"),
        ("Pacific/Kiritimati", "Date: Tue, 08 Jul 2025 02:03:09 +1400"),
    ])
    func dateHeaderUsesTheInjectedDateAndZone(zone: String, expected: String) throws {
        let timeZone = try #require(TimeZone(identifier: zone))
        let data = try signInMail().rfc5322(date: monday, messageID: messageID, timeZone: timeZone)
        #expect(text(data).hasPrefix(expected + "\r\n"))
    }

    @Test func composedCarriesIdDateAndRecipients() throws {
        let to = [address("allan@contoso.example"), address("megan@contoso.example", "Megan Bowen")]
        let mail = try signInMail(to: to).composed(date: monday, messageID: messageID)
        #expect(mail.messageID == messageID)
        #expect(mail.date == monday)
        #expect(mail.recipients == ["allan@contoso.example", "megan@contoso.example"])
        #expect(mail.data == (try signInMail(to: to).rfc5322(date: monday, messageID: messageID)))
    }
}
