import Foundation
import Synchronization
import Testing
@testable import GatehouseStore

/// Concurrent writes share a commit; each still commits or fails on its own.
@Suite struct GroupCommitTests {
    /// Holds the store's running transaction open until released, so that other writers queue.
    final class Holder: @unchecked Sendable {
        let entered = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let finished = DispatchGroup()
        var error: (any Error)?

        func start(_ store: Store, id: String) {
            finished.enter()
            Thread {
                do {
                    try store.write { db in
                        _ = try db.insertRequest(sampleRequest(id: id))
                        self.entered.signal()
                        self.release.wait()
                    }
                } catch {
                    self.error = error
                }
                self.finished.leave()
            }.start()
            entered.wait()
        }
    }

    /// Starts `count` writers on threads and returns once all of them queue behind the holder.
    func queueWriters(
        _ store: Store, _ count: Int, outcomes: Locked<[Int: Result<String, any Error>]>, group: DispatchGroup,
        body: @escaping @Sendable (Int, StoreWriter) throws -> String
    ) throws {
        for index in 0..<count {
            group.enter()
            Thread {
                let result = Result { try store.write { db in try body(index, db) } }
                outcomes.update { $0[index] = result }
                group.leave()
            }.start()
        }
        // A synchronization wait, not a timing assertion: the writers only need to reach the queue.
        let deadline = Date().addingTimeInterval(30)
        while store.commits.waiting < count {
            try #require(Date() < deadline, "writers did not queue: \(store.commits.waiting) of \(count)")
            usleep(1_000)
        }
    }

    /// Holds a transaction open on a new store file, queues `count` writers running `body` behind
    /// it, releases it, and returns the store, its folder and each writer's outcome.
    func writersBehindAHeldTransaction(
        _ count: Int, body: @escaping @Sendable (Int, StoreWriter) throws -> String
    ) throws -> (store: Store, folder: TemporaryFolder, outcomes: [Int: Result<String, any Error>]) {
        let folder = try TemporaryFolder()
        let store = try Store(path: folder.databasePath)
        let holder = Holder()
        holder.start(store, id: "held")
        let outcomes = Locked<[Int: Result<String, any Error>]>([:])
        let group = DispatchGroup()
        try queueWriters(store, count, outcomes: outcomes, group: group, body: body)
        holder.release.signal()
        holder.finished.wait()
        group.wait()
        #expect(holder.error == nil)
        return (store, folder, outcomes.value)
    }

    @Test func writersArrivingDuringATransactionShareTheNextCommit() throws {
        let (store, folder, outcomes) = try writersBehindAHeldTransaction(8) { index, db in
            _ = try db.insertRequest(sampleRequest(id: "r\(index)"))
            return "value \(index)"
        }
        // Each caller gets its own body's value.
        #expect(try (0..<8).map { try outcomes[$0]!.get() } == (0..<8).map { "value \($0)" })
        let statistics = store.commits.statistics
        #expect(statistics.writes == 9)
        #expect(statistics.commits == 2)
        #expect(statistics.largestBatch == 8)
        // The commit is part of the busy time, and the writer thread's CPU time is counted.
        #expect(statistics.committing > .zero && statistics.committing <= statistics.busy)
        #expect(statistics.cpu > .zero)
        // Committed for real: another connection to the file sees every row.
        let other = try Store(path: folder.databasePath)
        let found = try other.read { db in try (["held"] + (0..<8).map { "r\($0)" }).compactMap { try db.request(id: $0)?.id } }
        #expect(found.count == 9)
    }

    @Test func aWriterThatThrowsInABatchLosesOnlyItsOwnChanges() throws {
        let (store, folder, outcomes) = try writersBehindAHeldTransaction(3) { index, db in
            _ = try db.insertRequest(sampleRequest(id: "r\(index)"))
            if index == 1 { throw Boom() }
            return "ok"
        }

        #expect(try outcomes[0]?.get() == "ok")
        #expect(try outcomes[2]?.get() == "ok")
        #expect(throws: Boom.self) { try outcomes[1]?.get() }
        #expect(store.commits.statistics.largestBatch == 3)
        let ids = try store.read { db in try ["held", "r0", "r1", "r2"].map { try db.request(id: $0)?.id } }
        #expect(ids == ["held", "r0", nil, "r2"])
        withExtendedLifetime(folder) {}  // the file lives in it
    }

    @Test func aLoneWriterThatThrowsLeavesNothingAndLaterWritersCarryOn() throws {
        let folder = try TemporaryFolder()
        let store = try Store(path: folder.databasePath)
        #expect(throws: Boom.self) {
            try store.write { db in
                _ = try db.insertRequest(sampleRequest(id: "lost"))
                throw Boom()
            }
        }
        try store.write { db in _ = try db.insertRequest(sampleRequest(id: "kept")) }
        #expect(try store.read { try $0.request(id: "lost") } == nil)
        #expect(try store.read { try $0.request(id: "kept") }?.id == "kept")
    }

    @Test func manyConcurrentWritersAllCommitInFewerTransactions() throws {
        let folder = try TemporaryFolder()
        let store = try Store(path: folder.databasePath)
        let values = try onThreads(24) { index in
            try store.write { db -> Int in
                _ = try db.insertRequest(sampleRequest(id: "c\(index)"))
                return index
            }
        }
        #expect(values == Array(0..<24))
        let other = try Store(path: folder.databasePath)
        let count = try other.read { db in try (0..<24).compactMap { try db.request(id: "c\($0)") }.count }
        #expect(count == 24)
        let statistics = store.commits.statistics
        #expect(statistics.writes == 24)
    }
}

@Suite struct CommitWaitTests {
    /// `gatehouse serve` gives back a request's CPU turn while it waits for its commit.
    @Test func everyWriteWaitsForItsCommitInsideTheHook() throws {
        let folder = try TemporaryFolder()
        let calls = Mutex(0)
        let store = try Store(path: folder.databasePath, aroundCommitWait: { wait in
            calls.withLock { $0 += 1 }
            wait()
        })
        for index in 0..<3 {
            try store.write { try $0.appendAudit(AuditEntry(at: t0, actor: "system", subjectKind: "test", subjectID: "\(index)", action: "wrote")) }
        }
        #expect(calls.withLock { $0 } == 3)
        #expect(try store.read { try $0.auditEntries() }.count == 3)
    }
}
