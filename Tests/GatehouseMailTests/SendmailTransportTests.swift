import Foundation
import GatehouseMail
import Testing

/// A `/bin/sh` script in a temporary folder standing in for sendmail.
struct FakeSendmail {
    let folder = temporaryFolder()
    var script: URL { folder.appendingPathComponent("sendmail.sh") }
    var received: URL { folder.appendingPathComponent("received.eml") }
    var arguments: URL { folder.appendingPathComponent("arguments") }

    init(_ body: String) throws {
        try Data(body.utf8).write(to: script)
    }

    func transport(_ extra: [String] = ["-t", "-i"], timeout: Duration = .seconds(10)) -> SendmailTransport {
        SendmailTransport(command: ["/bin/sh", script.path] + extra, timeout: timeout)
    }

    func remove() { try? FileManager.default.removeItem(at: folder) }
}

@Suite struct SendmailTransportTests {
    let mail = try! signInMail().composed(date: monday, messageID: messageID)

    @Test func passesTheMessageOnStdinWithTheArguments() throws {
        let sendmail = try FakeSendmail("""
            printf '%s\\n' "$@" > "$(dirname "$0")/arguments"
            cat > "$(dirname "$0")/received.eml"
            """)
        defer { sendmail.remove() }

        try sendmail.transport().deliver(mail)

        #expect(try Data(contentsOf: sendmail.received) == mail.data)
        #expect(try String(contentsOf: sendmail.arguments, encoding: .utf8) == "-t\n-i\n")
    }

    @Test func findsAProgramNamedWithoutPathInPATH() throws {
        let sendmail = try FakeSendmail(#"cat > "$(dirname "$0")/received.eml""#)
        defer { sendmail.remove() }
        try SendmailTransport(command: ["sh", sendmail.script.path]).deliver(mail)
        #expect(try Data(contentsOf: sendmail.received) == mail.data)
    }

    @Test func nonZeroExitIsAFailureWithStderr() throws {
        let sendmail = try FakeSendmail("""
            cat > /dev/null
            echo "sendmail: cannot connect to mail.contoso.example: Connection refused" >&2
            echo "  queue file kept  " >&2
            exit 75
            """)
        defer { sendmail.remove() }
        #expect(throws: DeliveryError(
            "the mail command '/bin/sh \(sendmail.script.path) -t -i' exited with status 75: "
                + "sendmail: cannot connect to mail.contoso.example: Connection refused / queue file kept")
        ) {
            try sendmail.transport().deliver(mail)
        }
    }

    @Test func aCommandThatIgnoresABigMessageFailsCleanly() throws {
        let sendmail = try FakeSendmail("exit 1")
        defer { sendmail.remove() }
        let big = MailMessage(
            from: address("access@contoso.example"), to: [address("allan@contoso.example")],
            subject: "Big", text: String(repeating: "All work and no play.\n", count: 20_000))
        let composed = try big.composed(date: monday, messageID: messageID)
        #expect(composed.data.count > 400_000)
        #expect(throws: DeliveryError("the mail command '/bin/sh \(sendmail.script.path)' exited with status 1")) {
            try sendmail.transport([]).deliver(composed)
        }
    }

    @Test func killedBySignalIsAFailure() throws {
        let sendmail = try FakeSendmail("kill -9 $$")
        defer { sendmail.remove() }
        #expect(throws: DeliveryError("the mail command '/bin/sh \(sendmail.script.path)' was killed by signal 9")) {
            try sendmail.transport([]).deliver(mail)
        }
    }

    @Test func runningPastTheTimeoutEndsTheCommandAndItsChildren() throws {
        let sendmail = try FakeSendmail("echo 'waiting for the relay' >&2\nsleep 30\necho 'not reached' >&2")
        defer { sendmail.remove() }
        let started = ContinuousClock.now
        #expect(throws: DeliveryError(
            "the mail command '/bin/sh \(sendmail.script.path)' did not finish within 0.3 s: waiting for the relay")
        ) {
            try sendmail.transport([], timeout: .milliseconds(300)).deliver(mail)
        }
        // SIGTERM reached the group at once: no wait for the SIGKILL fallback two seconds later.
        #expect(ContinuousClock.now - started < .seconds(1.5))
    }

    @Test func theCommandStartsWithNoBlockedOrIgnoredSignals() throws {
        // Test threads (like the handler's workers) block most signals, and the server ignores SIGPIPE;
        // sendmail must inherit neither.
        signal(SIGPIPE, SIG_IGN)
        let sendmail = try FakeSendmail(#"grep -E '^Sig(Blk|Ign)' /proc/self/status > "$(dirname "$0")/signals""#)
        defer { sendmail.remove() }
        try sendmail.transport([]).deliver(mail)
        let lines = try String(contentsOf: sendmail.folder.appendingPathComponent("signals"), encoding: .utf8)
            .split(separator: "\n")
        #expect(lines.first == "SigBlk:\t0000000000000000")
        // Signals 1-31 at their default; glibc keeps its internal real-time signals (32, 33) to itself.
        let ignored = try #require(UInt64(lines.last?.split(separator: "\t").last ?? "", radix: 16))
        #expect(ignored & 0x7FFF_FFFF == 0)
    }

    @Test func aMissingProgramIsAFailureThatNamesTheOption() {
        #expect(throws: DeliveryError(
            "could not start the mail command '/nonexistent/sendmail -t': no program '/nonexistent/sendmail' (check --mail-command)")
        ) {
            try SendmailTransport(command: ["/nonexistent/sendmail", "-t"]).deliver(mail)
        }
        #expect(throws: DeliveryError("the mail command is empty")) {
            try SendmailTransport(command: []).deliver(mail)
        }
    }
}
