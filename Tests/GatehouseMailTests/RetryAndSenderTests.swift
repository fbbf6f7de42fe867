import Foundation
import GatehouseMail
import Testing

@Suite struct RetryPolicyTests {
    @Test func standardScheduleThenGiveUp() {
        let minutes = (1...11).map { RetryPolicy.standard.delay(afterFailedAttempt: $0).map { $0 / .seconds(60) } }
        #expect(minutes == [1, 5, 15, 60, 240, 240, 240, 240, 240, nil, nil])
    }

    @Test func nextAttemptIsTheFailureTimePlusTheDelay() {
        let policy = RetryPolicy.standard
        #expect(policy.nextAttempt(afterFailedAttempt: 1, failedAt: monday) == monday.addingTimeInterval(60))
        #expect(policy.nextAttempt(afterFailedAttempt: 3, failedAt: monday) == monday.addingTimeInterval(900))
        #expect(policy.nextAttempt(afterFailedAttempt: 9, failedAt: monday) == monday.addingTimeInterval(14_400))
        #expect(policy.nextAttempt(afterFailedAttempt: 10, failedAt: monday) == nil)
    }

    @Test func customPolicies() {
        let quick = RetryPolicy(delays: [.milliseconds(500), .seconds(2)], maxAttempts: 3)
        #expect(quick.nextAttempt(afterFailedAttempt: 1, failedAt: monday) == monday.addingTimeInterval(0.5))
        #expect(quick.delay(afterFailedAttempt: 2) == .seconds(2))
        #expect(quick.delay(afterFailedAttempt: 3) == nil)
        #expect(RetryPolicy(delays: [], maxAttempts: 5).delay(afterFailedAttempt: 1) == nil)
        #expect(RetryPolicy(delays: [.seconds(60)], maxAttempts: 1).delay(afterFailedAttempt: 1) == nil)
    }
}

/// Fails for one recipient, delivers (records) the rest: a relay that rejects one mailbox.
final class RecordingTransport: MailTransport, @unchecked Sendable {
    private let lock = NSLock()
    private var sent: [String] = []
    var delivered: [String] { lock.withLock { sent } }

    func deliver(_ mail: ComposedMail) throws(DeliveryError) {
        if mail.recipients.contains("bounce@contoso.example") {
            throw DeliveryError("the mail command '/usr/sbin/sendmail -t -i' exited with status 67: user unknown")
        }
        lock.withLock { sent.append(mail.messageID) }
    }
}

@Suite struct MailSenderTests {
    func queued(_ id: Int64, to recipient: String, attempts: Int = 0) -> QueuedMail {
        let mail = try! signInMail(to: [address(recipient)]).composed(date: monday, messageID: "m\(id)@access.contoso.example")
        return QueuedMail(id: id, mail: mail, attempts: attempts)
    }

    @Test func marksSentAndFailedWithTheNextAttemptFromNow() throws {
        let now = monday.addingTimeInterval(3600)
        let queue = MemoryMailQueue([
            (queued(1, to: "allan@contoso.example"), nextAttempt: monday),
            (queued(2, to: "bounce@contoso.example", attempts: 2), nextAttempt: now),
            (queued(3, to: "megan@contoso.example"), nextAttempt: now.addingTimeInterval(1)),
        ])
        let transport = RecordingTransport()
        let outcomes = try MailSender(queue: queue, transport: transport).deliverDue(now: now)

        let error = "the mail command '/usr/sbin/sendmail -t -i' exited with status 67: user unknown"
        #expect(outcomes == [.sent(id: 1), .willRetry(id: 2, error: error, at: now.addingTimeInterval(900))])
        #expect(transport.delivered == ["m1@access.contoso.example"])
        let rows = queue.rows
        #expect(rows[1]?.sentAt == now)
        #expect(rows[2]?.queued.attempts == 3)
        #expect(rows[2]?.lastError == error)
        #expect(rows[2]?.nextAttempt == now.addingTimeInterval(900))
        #expect(rows[3]?.sentAt == nil)
        #expect(rows[3]?.queued.attempts == 0)
    }

    @Test func givesUpAfterTheLastAttempt() throws {
        let queue = MemoryMailQueue([(queued(7, to: "bounce@contoso.example", attempts: 9), nextAttempt: monday)])
        let sender = MailSender(queue: queue, transport: RecordingTransport())

        let outcomes = try sender.deliverDue(now: monday)

        #expect(outcomes == [.gaveUp(id: 7, error: "the mail command '/usr/sbin/sendmail -t -i' exited with status 67: user unknown")])
        #expect(queue.rows[7]?.nextAttempt == nil)
        #expect(queue.rows[7]?.queued.attempts == 10)
        #expect(try sender.deliverDue(now: monday.addingTimeInterval(86_400 * 30)) == [])
    }

    @Test func retriesFollowTheScheduleUntilDelivered() throws {
        let queue = MemoryMailQueue([(queued(1, to: "bounce@contoso.example"), nextAttempt: monday)])
        let sender = MailSender(queue: queue, transport: RecordingTransport())
        var now = monday
        var waits: [TimeInterval] = []
        for _ in 1...3 {
            guard case .willRetry(_, _, let next) = try sender.deliverDue(now: now).first else {
                Issue.record("expected a retry")
                return
            }
            #expect(try sender.deliverDue(now: next.addingTimeInterval(-1)) == [])
            waits.append(next.timeIntervalSince(now))
            now = next
        }
        #expect(waits == [60, 300, 900])
    }

    @Test func deliversIntoTheOutboxFolderEndToEnd() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let queue = MemoryMailQueue([(queued(1, to: "allan@contoso.example"), nextAttempt: monday)])
        let sender = MailSender(queue: queue, transport: OutboxFolderTransport(folder: folder))

        #expect(try sender.deliverDue(now: monday) == [.sent(id: 1)])

        let file = folder.appendingPathComponent("20250707T120309.000Z-m1@access.contoso.example.eml")
        #expect(try String(contentsOf: file, encoding: .utf8).contains("\r\nSubject: Your sign-in code\r\n"))
        #expect(queue.rows[1]?.sentAt == monday)
        #expect(try sender.deliverDue(now: monday) == [])
    }

    @Test func aQueueErrorStopsThePass() {
        struct Broken: MailQueue {
            struct Locked: Error {}
            func due(now: Date) throws -> [QueuedMail] { throw Locked() }
            func markSent(id: Int64, at: Date) throws {}
            func markFailed(id: Int64, error: String, nextAttempt: Date?) throws {}
        }
        #expect(throws: Broken.Locked.self) {
            try MailSender(queue: Broken(), transport: RecordingTransport()).deliverDue(now: monday)
        }
    }
}
