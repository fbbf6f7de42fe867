@testable import FastCGIServer
import Foundation
import Synchronization
import Testing

@Suite struct RunPermitsTests {
    /// Runs `body(index)` on `count` threads at once and waits for all of them.
    private func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for index in 0..<count {
            group.enter()
            Thread {
                body(index)
                group.leave()
            }.start()
        }
        group.wait()
    }

    @Test func neverMoreThanCountRunAtOnce() {
        let permits = RunPermits(count: 2)
        let running = Mutex((now: 0, most: 0))
        onThreads(8) { _ in
            permits.withPermit {
                running.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
                usleep(20_000)
                running.withLock { $0.now -= 1 }
            }
        }
        #expect(running.withLock { $0.most } == 2)
        #expect(permits.free == 2)
    }

    @Test func aHolderWaitingWithoutItsPermitLetsAnotherRun() {
        let permits = RunPermits(count: 1)
        let other = DispatchSemaphore(value: 0)
        let ran = Mutex(false)
        permits.withPermit {
            Thread {
                permits.withPermit { ran.withLock { $0 = true } }
                other.signal()
            }.start()
            // Holding the only permit, the other thread could never run; suspended, it can.
            permits.suspending { _ = other.wait(timeout: .now() + 5) }
        }
        #expect(ran.withLock { $0 })
        #expect(permits.free == 1)
    }

    @Test func threadsWithoutAPermitJustWait() {
        let permits = RunPermits(count: 1)
        var called = false
        permits.suspending { called = true }
        #expect(called && permits.free == 1)
    }

    @Test func waitersGetTheirTurnInArrivalOrder() {
        let permits = RunPermits(count: 1)
        let order = Mutex<[Int]>([])
        let release = DispatchSemaphore(value: 0)
        let started = DispatchGroup()
        let done = DispatchGroup()
        done.enter()
        Thread {
            permits.withPermit { release.wait() }
            done.leave()
        }.start()
        while permits.free != 0 { usleep(1000) }
        for index in 0..<4 {
            started.enter()
            done.enter()
            Thread {
                started.leave()
                permits.withPermit { order.withLock { $0.append(index) } }
                done.leave()
            }.start()
            started.wait()
            usleep(20_000)  // the thread is now queued behind the ones before it
        }
        release.signal()
        done.wait()
        #expect(order.withLock { $0 } == [0, 1, 2, 3])
    }
}
