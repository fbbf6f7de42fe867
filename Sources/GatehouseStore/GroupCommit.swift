internal import Foundation
internal import GRDB
#if canImport(Glibc)
import Glibc
#endif

/// Group commit on a dedicated writer thread: writers queue their bodies; the thread runs
/// everything queued in one IMMEDIATE transaction, each body in its own savepoint, commits once,
/// then wakes the writers.
///
/// With `synchronous=FULL` every commit waits for the disk, and every commit writes each page it
/// changed to the WAL, so the index and table tails that all submissions touch were written once
/// per submission. Sharing the commit shares both. Nothing is acknowledged early: a writer
/// returns only after the commit that holds its changes, and a body that throws is rolled back to
/// its savepoint without disturbing the others in the batch.
///
/// The thread is started by the thread that opens the store, so it keeps that thread's
/// scheduling priority: the handler lowers its worker threads' priority (see `FastCGIServer`),
/// and the one thread that every post waits for is not queued behind page rendering.
final class GroupCommit: @unchecked Sendable {
    typealias Statistics = CommitStatistics

    private let state: State
    /// At most this many writers share one commit, so that one batch cannot hold the lock long.
    let maxBatch: Int

    /// Called around each writer's wait for its commit (see ``Store/init(path:aroundCommitWait:)``).
    private let aroundWait: (@Sendable (() -> Void) -> Void)?

    init(writer: any DatabaseWriter, maxBatch: Int = 64, aroundWait: (@Sendable (() -> Void) -> Void)? = nil) {
        self.maxBatch = max(1, maxBatch)
        self.aroundWait = aroundWait
        state = State()
        let state = self.state
        let limit = self.maxBatch
        let thread = Thread {
            state.serve(writer: writer, maxBatch: limit)
        }
        thread.name = "gatehouse-store-writer"
        thread.stackSize = 1 << 20
        thread.start()
    }

    deinit {
        state.stop()
    }

    var statistics: Statistics { state.condition.withLock { state.counters } }

    /// Writers queued and not yet taken into a batch.
    var waiting: Int { state.condition.withLock { state.queue.count } }

    /// Runs `body` in a transaction shared with the writers queued beside it; returns (or
    /// throws) once that transaction has committed (or failed).
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        if state.isWriterThread {
            fatalError("Store.write is not reentrant: a write body called Store.write")
        }
        return try withoutActuallyEscaping(body) { body in
            var result: T?
            let job = Job { db in result = try body(db) }
            state.condition.withLock {
                state.queue.append(job)
                state.condition.signal()
            }
            if let aroundWait { aroundWait { job.done.wait() } } else { job.done.wait() }
            if let error = job.error { throw error }
            return result!
        }
    }

    /// The queue and the writer thread's loop; shared by the store and the thread.
    private final class State: @unchecked Sendable {
        let condition = NSCondition()
        var queue: [Job] = []
        var stopping = false
        var counters = Statistics()
        private var writerThread: pthread_t?

        var isWriterThread: Bool {
            guard let writerThread = condition.withLock({ self.writerThread }) else { return false }
            return pthread_equal(writerThread, pthread_self()) != 0
        }

        func stop() {
            condition.withLock {
                stopping = true
                condition.signal()
            }
        }

        func serve(writer: any DatabaseWriter, maxBatch: Int) {
            condition.withLock { writerThread = pthread_self() }
            while true {
                let batch: [Job] = condition.withLock {
                    while queue.isEmpty && !stopping { condition.wait() }
                    let taken = Array(queue.prefix(maxBatch))
                    queue.removeFirst(taken.count)
                    return taken
                }
                if batch.isEmpty { return }  // stopping, and nothing left to write
                let started = ContinuousClock.now
                let cpuStarted = GroupCommit.threadCPUTime()
                let bodiesEnded = GroupCommit.execute(batch, on: writer)
                let ended = ContinuousClock.now
                let cpu = GroupCommit.threadCPUTime() - cpuStarted
                condition.withLock {
                    counters.commits += 1
                    counters.writes += batch.count
                    counters.largestBatch = max(counters.largestBatch, batch.count)
                    counters.busy += ended - started
                    counters.committing += ended - (bodiesEnded ?? ended)
                    counters.cpu += cpu
                }
                for job in batch { job.done.signal() }
            }
        }
    }

    /// The CPU time the calling thread has used.
    static func threadCPUTime() -> Duration {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return .seconds(spec.tv_sec) + .nanoseconds(spec.tv_nsec)
    }

    /// One IMMEDIATE transaction for the batch; a lone writer runs without a savepoint. Returns
    /// when the last body ended (what follows is the commit), nil when the transaction failed.
    private static func execute(_ batch: [Job], on writer: any DatabaseWriter) -> ContinuousClock.Instant? {
        var bodiesEnded: ContinuousClock.Instant?
        defer {
            // The bodies are the callers' non-escaping closures: release them before waking anyone.
            for job in batch { job.body = nil }
        }
        do {
            try writer.writeWithoutTransaction { db in
                try db.inTransaction(.immediate) {
                    defer { bodiesEnded = ContinuousClock.now }
                    if batch.count == 1 {
                        try batch[0].body?(db)
                        return .commit
                    }
                    for job in batch {
                        do {
                            try db.inSavepoint {
                                try job.body?(db)
                                return .commit
                            }
                        } catch {
                            job.error = error
                            // Some errors (disk full, I/O) make SQLite roll the whole transaction
                            // back: the writers before this one lost their changes too.
                            if !db.isInsideTransaction { throw error }
                        }
                    }
                    return .commit
                }
            }
        } catch {
            // The transaction itself failed (BEGIN, COMMIT, or a lone writer's body): nothing of
            // the batch is kept, and every writer that had not failed on its own learns why.
            for job in batch where job.error == nil { job.error = error }
            return nil
        }
        return bodiesEnded
    }

    private final class Job {
        var body: ((Database) throws -> Void)?
        let done = DispatchSemaphore(value: 0)
        var error: (any Error)?

        init(_ body: @escaping (Database) throws -> Void) {
            self.body = body
        }
    }
}

/// How the store's writes were grouped into commits since it was opened.
public struct CommitStatistics: Sendable, Equatable {
    /// Transactions committed (or failed).
    public var commits = 0
    /// `Store.write` calls they carried.
    public var writes = 0
    public var largestBatch = 0
    /// Time spent running batches, commits included.
    public var busy: Duration = .zero
    /// Of `busy`, the time from the end of a batch's last body to the end of its commit (writing
    /// the WAL, waiting for the disk, and any automatic checkpoint).
    public var committing: Duration = .zero
    /// The writer thread's CPU time while running batches.
    public var cpu: Duration = .zero
}
