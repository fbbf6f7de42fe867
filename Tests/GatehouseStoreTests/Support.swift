import Foundation
@testable import GatehouseStore

/// A fresh folder under the system temporary folder, removed when released.
final class TemporaryFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("gatehouse-store-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// A database path inside a subfolder that does not exist yet (the store creates it).
    var databasePath: String { url.appendingPathComponent("var/gatehouse.sqlite").path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// A fixed instant and offsets from it: tests never read the clock.
let t0 = Date(timeIntervalSince1970: 1_800_000_000)
func at(minutes: Double) -> Date { t0.addingTimeInterval(minutes * 60) }

/// Runs `body` on `count` real threads that start together, and returns their results in order.
func onThreads<T: Sendable>(
    _ count: Int, prepare: @escaping @Sendable (Int) throws -> Void = { _ in },
    _ body: @escaping @Sendable (Int) throws -> T
) throws -> [T] {
    let results = Locked<[Int: Result<T, any Error>]>([:])
    let gate = Barrier(count)
    let done = DispatchGroup()
    for index in 0..<count {
        done.enter()
        let thread = Thread {
            let result = Result<T, any Error> {
                try prepare(index)
                gate.arriveAndWait()
                return try body(index)
            }
            results.update { $0[index] = result }
            done.leave()
        }
        thread.start()
    }
    done.wait()
    return try results.value.sorted { $0.key < $1.key }.map { try $0.value.get() }
}

final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value { lock.withLock { stored } }
    func update(_ change: (inout Value) -> Void) { lock.withLock { change(&stored) } }
}

/// Holds threads until `count` of them arrived, so that they contend for real.
final class Barrier: @unchecked Sendable {
    private let condition = NSCondition()
    private var waiting: Int
    init(_ count: Int) { waiting = count }
    func arriveAndWait() {
        condition.lock()
        waiting -= 1
        if waiting == 0 { condition.broadcast() }
        while waiting > 0 { condition.wait() }
        condition.unlock()
    }
}

/// A request with sensible defaults; tests override what they look at.
func sampleRequest(
    id: String, key: String? = nil, email: String = "allan@contoso.example", packageID: String = "internal",
    state: RequestState = .pendingApproval, createdAt: Date = t0
) -> RequestRecord {
    RequestRecord(
        id: id, idempotencyKey: key ?? "key-\(id)", kind: .add, actorKind: .user, requestorEmail: email,
        packageID: packageID, policyID: "members", policySnapshot: #"{"id":"members","stages":1}"#, language: "en",
        justification: "Project Falcon", answers: #"{"sport":["france"]}"#, state: state,
        currentStage: state == .pendingApproval ? 1 : nil, createdAt: createdAt)
}

struct Boom: Error, Equatable {}
