import Foundation
import GatehouseMail
import Testing

@Suite struct OutboxFolderTransportTests {
    let mail = try! signInMail().composed(date: monday.addingTimeInterval(0.042), messageID: messageID)

    @Test func fileNameSortsByDateToTheMillisecond() {
        #expect(OutboxFolderTransport.fileName(for: mail) == "20250707T120309.042Z-4f1c2e@access.contoso.example.eml")
        var early = mail
        early.date = Date(timeIntervalSince1970: 0)
        #expect(OutboxFolderTransport.fileName(for: early) == "19700101T000000.000Z-4f1c2e@access.contoso.example.eml")
    }

    @Test func writesTheMessageIntoACreatedFolder() throws {
        let root = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("var/mail")
        let transport = OutboxFolderTransport(folder: folder)

        try transport.deliver(mail)

        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(names == ["20250707T120309.042Z-4f1c2e@access.contoso.example.eml"])
        let file = folder.appendingPathComponent(names[0])
        #expect(transport.fileURL(for: mail) == file)
        #expect(try Data(contentsOf: file) == mail.data)
        let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o644)
    }

    @Test func deliveringAgainReplacesTheFileWhole() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let transport = OutboxFolderTransport(folder: folder)
        // A leftover from a crash mid-write and a previous copy of the same message.
        let target = transport.fileURL(for: mail)
        try Data("half a mess".utf8).write(to: folder.appendingPathComponent("." + target.lastPathComponent + ".tmp"))
        try Data("an older, longer copy of the same message".utf8).write(to: target)

        try transport.deliver(mail)
        try transport.deliver(mail)

        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == [target.lastPathComponent])
        #expect(try Data(contentsOf: target) == mail.data)
    }

    @Test func twoMessagesListInDateOrder() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let transport = OutboxFolderTransport(folder: folder)
        let later = try signInMail().composed(date: monday.addingTimeInterval(61), messageID: "0aaa@access.contoso.example")
        try transport.deliver(later)
        try transport.deliver(mail)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == [
            "20250707T120309.042Z-4f1c2e@access.contoso.example.eml",
            "20250707T120410.000Z-0aaa@access.contoso.example.eml",
        ])
    }

    @Test func aFileInPlaceOfTheFolderIsADeliveryError() throws {
        let root = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let blocker = root.appendingPathComponent("mail")
        try Data().write(to: blocker)
        #expect(throws: DeliveryError("could not create the mail folder \(blocker.path): a file of that name is in the way")) {
            try OutboxFolderTransport(folder: blocker).deliver(mail)
        }
        let below = blocker.appendingPathComponent("outbox")
        #expect(throws: DeliveryError("could not create the mail folder \(below.path): Not a directory")) {
            try OutboxFolderTransport(folder: below).deliver(mail)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path) == ["mail"])
    }
}
