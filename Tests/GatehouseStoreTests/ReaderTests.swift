import Foundation
import Testing
@testable import GatehouseStore

@Suite struct ReaderTests {
    private func audit(_ n: Int) -> AuditEntry {
        AuditEntry(at: t0, actor: "system", subjectKind: "test", subjectID: "\(n)", action: "wrote")
    }

    @Test func readsOnManyThreadsSeeEveryEarlierCommitAndReuseConnections() throws {
        let folder = try TemporaryFolder()
        let store = try Store(path: folder.databasePath)
        let seen = try onThreads(8) { thread in
            var counts: [Int] = []
            for round in 0..<25 {
                try store.write { try $0.appendAudit(audit(thread * 100 + round)) }
                counts.append(try store.read { try $0.auditEntries(subjectKind: "test", subjectID: "\(thread * 100 + round)") }.count)
            }
            return counts
        }
        // Each thread reads its own row right after its write returned.
        #expect(seen == Array(repeating: Array(repeating: 1, count: 25), count: 8))
        #expect(try store.read { try $0.auditEntries() }.count == 200)
        // At most one connection per thread that read at the same time, all back and idle.
        let open = try #require(store.readers).count
        #expect((1...8).contains(open))
    }

    @Test func aReadIsOneSnapshotWhileOthersCommit() throws {
        let folder = try TemporaryFolder()
        let store = try Store(path: folder.databasePath)
        try store.write { try $0.appendAudit(audit(0)) }
        let counts = try store.read { reader -> [Int] in
            let before = try reader.auditEntries().count
            // Another thread commits while this read transaction is open.
            let done = DispatchSemaphore(value: 0)
            Thread {
                _ = try? store.write { try $0.appendAudit(audit(1)) }
                done.signal()
            }.start()
            done.wait()
            return [before, try reader.auditEntries().count]
        }
        #expect(counts == [1, 1])
        #expect(try store.read { try $0.auditEntries() }.count == 2)
    }

    @Test func aReadCannotWrite() throws {
        let folder = try TemporaryFolder()
        let store = try Store(path: folder.databasePath)
        #expect {
            try store.read { reader in try reader.executeForTesting("DELETE FROM person") }
        } throws: { error in
            "\(error)".contains("readonly")
        }
    }
}
