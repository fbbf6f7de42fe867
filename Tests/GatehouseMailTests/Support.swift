import Foundation
import GatehouseMail
import Testing

/// Monday 7 July 2025, 12:03:09 UTC: every test's "now".
let monday = Date(timeIntervalSince1970: 1_751_889_789)

let messageID = "4f1c2e@access.contoso.example"

func address(_ address: String, _ name: String? = nil) -> MailAddress {
    try! MailAddress(address, name: name)
}

/// The sign-in code mail used across the tests.
func signInMail(subject: String = "Your sign-in code", to: [MailAddress]? = nil) -> MailMessage {
    MailMessage(
        from: address("access@contoso.example", "Contoso Access"),
        to: to ?? [address("allan@contoso.example", "Allan Deyoung")],
        subject: subject, text: "Your code is 482913.\nIt expires in 10 minutes.\n")
}

/// The composed bytes as text (they are ASCII by construction).
func text(_ data: Data) -> String { String(decoding: data, as: UTF8.self) }

/// A fresh folder under the system temporary folder, removed by the caller's `defer`.
func temporaryFolder() -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("gatehouse-mail-tests-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// An outbox in memory, behaving as the store's table will: due by next attempt, sent and given-up rows kept.
final class MemoryMailQueue: MailQueue, @unchecked Sendable {
    struct Row: Equatable {
        var queued: QueuedMail
        var nextAttempt: Date?
        var sentAt: Date?
        var lastError: String?
    }

    private let lock = NSLock()
    private var storage: [Int64: Row] = [:]

    init(_ rows: [(QueuedMail, nextAttempt: Date)]) {
        for (queued, next) in rows { storage[queued.id] = Row(queued: queued, nextAttempt: next) }
    }

    var rows: [Int64: Row] { lock.withLock { storage } }

    func due(now: Date) throws -> [QueuedMail] {
        lock.withLock {
            storage.values.filter { $0.sentAt == nil && $0.nextAttempt.map { $0 <= now } == true }
                .map(\.queued).sorted { $0.id < $1.id }
        }
    }

    func markSent(id: Int64, at: Date) throws {
        lock.withLock {
            storage[id]!.sentAt = at
            storage[id]!.nextAttempt = nil
        }
    }

    func markFailed(id: Int64, error: String, nextAttempt: Date?) throws {
        lock.withLock {
            storage[id]!.queued.attempts += 1
            storage[id]!.lastError = error
            storage[id]!.nextAttempt = nextAttempt
        }
    }
}
