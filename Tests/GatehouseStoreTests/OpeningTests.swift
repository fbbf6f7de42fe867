import Foundation
import Testing
@testable import GatehouseStore

@Suite struct OpeningTests {
    @Test func freshStoreIsDurableWALWithForeignKeysAndABusyTimeout() throws {
        let folder = try TemporaryFolder()
        let store = try Store(path: folder.databasePath)
        let expected = StoreSettings(journalMode: "wal", synchronous: 2, foreignKeys: true, busyTimeoutMilliseconds: 5000)
        #expect(try store.settings() == expected)
        // GRDB gives reader connections 10 s, for the rare WAL recovery that blocks readers.
        var reader = expected
        reader.busyTimeoutMilliseconds = 10_000
        #expect(try store.readerSettings() == reader)
        #expect(FileManager.default.fileExists(atPath: folder.databasePath))
    }

    @Test func reopenedStoreKeepsSettingsDataAndRunsMigrationsOnce() throws {
        let folder = try TemporaryFolder()
        do {
            let store = try Store(path: folder.databasePath)
            #expect(try store.appliedMigrations() == ["v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10"])
            try store.write { try $0.upsertPersonOnSignIn(email: "Alex@Azureblog.example", displayName: "Alex", isExternal: true, at: t0) }
        }
        let reopened = try Store(path: folder.databasePath)
        #expect(try reopened.appliedMigrations() == ["v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10"])
        #expect(try reopened.settings().journalMode == "wal")
        #expect(try reopened.settings().synchronous == 2)
        #expect(try reopened.readerSettings().synchronous == 2)
        let alex = try reopened.read { try $0.person(email: "alex@azureblog.example") }
        #expect(alex?.displayName == "Alex")
        #expect(alex?.firstSignInAt == t0)
    }

    @Test func concurrentFirstOpensOfANewFileAllSucceed() throws {
        let folder = try TemporaryFolder()
        let path = folder.databasePath
        let migrations = try onThreads(6) { _ in try Store(path: path).appliedMigrations() }
        #expect(migrations == Array(repeating: ["v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10"], count: 6))
    }

    @Test func unusableFolderIsReportedWithThePath() throws {
        let folder = try TemporaryFolder()
        let blocker = folder.url.appendingPathComponent("not-a-folder")
        try Data("x".utf8).write(to: blocker)
        let path = blocker.appendingPathComponent("gatehouse.sqlite").path
        #expect {
            _ = try Store(path: path)
        } throws: { error in
            guard case StoreError.cannotOpen(let reported, let reason) = error else { return false }
            return reported == path && reason.hasPrefix("cannot create the folder \(blocker.path): ")
                && "\(error)".hasPrefix("cannot open the database at \(path): cannot create the folder")
        }
    }

    @Test func aFileThatIsNotADatabaseIsReportedAsSuch() throws {
        let folder = try TemporaryFolder()
        let path = folder.url.appendingPathComponent("notes.sqlite").path
        try Data(String(repeating: "not a database ", count: 100).utf8).write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try Store(path: path)
        } throws: { error in
            "\(error)" == "cannot open the database at \(path): file is not a database (SQLite code 26)"
        }
    }

    @Test func inMemoryStoreIsMigrated() throws {
        let store = try Store.inMemory()
        #expect(try store.appliedMigrations() == ["v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10"])
        try store.write { try $0.appendAudit(AuditEntry(at: t0, actor: "system", subjectKind: "tenant", subjectID: "lab", action: "started")) }
        #expect(try store.read { try $0.auditEntries() }.count == 1)
    }
}

@Suite struct TransactionTests {
    @Test func aThrowingTransactionLeavesNothingBehind() throws {
        let folder = try TemporaryFolder()
        let store = try Store(path: folder.databasePath)
        #expect(throws: Boom.self) {
            try store.write { w throws in
                try w.upsertPersonOnSignIn(email: "allan@contoso.example", displayName: "Allan", isExternal: false, at: t0)
                try w.insertRequest(sampleRequest(id: "r1"))
                try w.enqueueMail(OutgoingMail(recipient: "adele@contoso.example", subject: "Approve", body: "…", kind: "approvalNeeded"), at: t0)
                try w.appendAudit(AuditEntry(at: t0, actor: "allan@contoso.example", subjectKind: "request", subjectID: "r1", action: "submitted"))
                throw Boom()
            }
        }
        try store.read { r throws in
            #expect(try r.person(email: "allan@contoso.example") == nil)
            #expect(try r.request(id: "r1") == nil)
            #expect(try r.dueMail(now: at(minutes: 60)).isEmpty)
            #expect(try r.auditEntries().isEmpty)
        }
    }

    @Test func aRefusedStatementRollsBackEarlierChangesOfTheTransaction() throws {
        let store = try Store(path: TemporaryFolder().databasePath)
        #expect {
            try store.write { w throws in
                try w.insertRequest(sampleRequest(id: "r1"))
                // No person 'nobody@…' signed in: the session's foreign key refuses it.
                try w.createSession(idHash: "h", email: "nobody@contoso.example", at: t0, expiresAt: at(minutes: 60))
            }
        } throws: { error in
            "\(error)" == "the database refused the change: FOREIGN KEY constraint failed (SQLite code 787)"
        }
        #expect(try store.read { try $0.request(id: "r1") } == nil)
    }
}

@Suite struct AuditTests {
    @Test func auditEntriesCannotBeChangedOrDeleted() throws {
        let folder = try TemporaryFolder()
        let store = try Store(path: folder.databasePath)
        let entry = AuditEntry(
            at: t0, actor: "adele@contoso.example", subjectKind: "request", subjectID: "r1", action: "approved",
            before: "pendingApproval", after: "approved", reason: "Known partner")
        let id = try store.write { try $0.appendAudit(entry) }

        #expect {
            try store.write { try $0.executeForTesting("UPDATE audit SET actor = 'mallory@contoso.example'") }
        } throws: { error in
            "\(error)" == "the database refused the change: the audit log is append-only: an entry cannot be changed (SQLite code 1811)"
        }
        #expect {
            try store.write { try $0.executeForTesting("DELETE FROM audit") }
        } throws: { error in
            "\(error)" == "the database refused the change: the audit log is append-only: an entry cannot be deleted (SQLite code 1811)"
        }
        let kept = try store.read { try $0.auditEntries(subjectKind: "request", subjectID: "r1") }
        #expect(kept.map(\.id) == [id])
        #expect(kept.map(\.entry) == [entry])
    }

    @Test func auditReadsInOrderAndInPages() throws {
        let store = try Store(path: TemporaryFolder().databasePath)
        try store.write { w throws in
            for n in 1...5 {
                try w.appendAudit(AuditEntry(at: at(minutes: Double(n)), actor: "system", subjectKind: "request", subjectID: n % 2 == 0 ? "even" : "odd", action: "step\(n)"))
            }
        }
        try store.read { r throws in
            #expect(try r.auditEntries(subjectKind: "request", subjectID: "even").map(\.entry.action) == ["step2", "step4"])
            let first = try r.auditEntries(afterID: 0, limit: 2)
            #expect(first.map(\.entry.action) == ["step1", "step2"])
            #expect(try r.auditEntries(afterID: first.last!.id, limit: 10).map(\.entry.action) == ["step3", "step4", "step5"])
        }
    }
}
