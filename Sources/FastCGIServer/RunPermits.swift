import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// At most `count` requests use the CPU at once; the others wait their turn, first come first served.
///
/// A server needs many worker threads so that posts waiting for the store's shared commit can
/// pile up into one commit, but when they all compute at once on two cores every page takes as
/// long as the slowest (the kernel shares the CPUs among them) and the tail latency grows. A
/// worker holds a permit while it computes an answer and gives it back while it only waits
/// (``suspending(_:)``, around a commit), so waiting costs nothing and computing is queued.
public final class RunPermits: @unchecked Sendable {
    private let lock = NSLock()
    private var available: Int
    /// Threads waiting for a permit, in arrival order; each is woken with the permit handed over.
    private var waiting: [DispatchSemaphore] = []
    public let count: Int

    public init(count: Int) {
        self.count = max(1, count)
        available = self.count
    }

    /// Runs `body` holding a permit.
    public func withPermit<T>(_ body: () throws -> T) rethrows -> T {
        acquire()
        let mark = Self.mark
        let outer = mark.pointee
        mark.pointee = ObjectIdentifier(self)
        defer {
            mark.pointee = outer
            release()
        }
        return try body()
    }

    /// Runs `body` (a wait that uses no CPU) without the calling thread's permit, if it holds one
    /// of these, and takes a permit again afterwards. Other threads just run `body`.
    public func suspending(_ body: () -> Void) {
        guard Self.mark.pointee == ObjectIdentifier(self) else { return body() }
        release()
        body()
        acquire()
    }

    /// Permits free right now (for tests and logs).
    public var free: Int { lock.withLock { available } }

    private func acquire() {
        lock.lock()
        if available > 0 && waiting.isEmpty {
            available -= 1
            lock.unlock()
            return
        }
        let turn = DispatchSemaphore(value: 0)
        waiting.append(turn)
        lock.unlock()
        turn.wait()  // release() handed its permit to us
    }

    private func release() {
        lock.lock()
        if waiting.isEmpty {
            available += 1
            lock.unlock()
        } else {
            let next = waiting.removeFirst()
            lock.unlock()
            next.signal()
        }
    }

    /// The permits the calling thread holds one of, if any (a thread-local value).
    private static var mark: UnsafeMutablePointer<ObjectIdentifier?> {
        if let existing = pthread_getspecific(key) { return existing.assumingMemoryBound(to: ObjectIdentifier?.self) }
        let fresh = UnsafeMutablePointer<ObjectIdentifier?>.allocate(capacity: 1)
        fresh.initialize(to: nil)
        pthread_setspecific(key, fresh)
        return fresh
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { pointer in pointer?.deallocate() }
        return key
    }()
}
