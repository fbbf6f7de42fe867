import Foundation
import Testing
import GatehouseStore

@Suite struct PeopleTests {
    @Test func signInCreatesThenUpdatesThePersonKeyedByLowercasedEmail() throws {
        let store = try Store(path: TemporaryFolder().databasePath)
        let first = try store.write {
            try $0.upsertPersonOnSignIn(email: " Don@Outlook.Example ", displayName: nil, isExternal: true, at: t0)
        }
        #expect(first.email == "don@outlook.example")
        #expect(first.displayName == "don@outlook.example")
        #expect(first.firstSignInAt == t0 && first.lastSignInAt == t0)
        #expect(!first.isGovernedGuest && !first.isBlocked && first.termsAcceptedAt == nil)

        let second = try store.write { w throws in
            try w.recordTermsAccepted(email: "don@outlook.example", version: "2026-01", at: at(minutes: 1))
            try w.markGovernedGuest(email: "DON@outlook.example", since: at(minutes: 2))
            try w.markGovernedGuest(email: "don@outlook.example", since: at(minutes: 3))
            try w.upsertPersonOnSignIn(email: "don@outlook.example", displayName: "Don Hall", isExternal: true, at: at(minutes: 60))
            return try w.upsertPersonOnSignIn(email: "don@outlook.example", displayName: nil, isExternal: true, at: at(minutes: 90))
        }
        #expect(second.displayName == "Don Hall")
        #expect(second.firstSignInAt == t0)
        #expect(second.lastSignInAt == at(minutes: 90))
        #expect(second.termsAcceptedAt == at(minutes: 1) && second.termsVersion == "2026-01")
        #expect(second.governedGuestSince == at(minutes: 2))
    }

    @Test func blockingKeepsTheReasonAndEndsSessionsWhenAsked() throws {
        let store = try Store(path: TemporaryFolder().databasePath)
        try store.write { w throws in
            try w.upsertPersonOnSignIn(email: "alex@azureblog.example", displayName: "Alex", isExternal: true, at: t0)
            try w.createSession(idHash: "s1", email: "alex@azureblog.example", at: t0, expiresAt: at(minutes: 600))
            try w.createSession(idHash: "s2", email: "alex@azureblog.example", at: t0, expiresAt: at(minutes: 600))
            try w.setBlocked(email: "alex@azureblog.example", reason: "Your last access package ended.")
            #expect(try w.endSessions(email: "alex@azureblog.example", at: at(minutes: 1)) == 2)
        }
        try store.read { r throws in
            #expect(try r.person(email: "alex@azureblog.example")?.blockedReason == "Your last access package ended.")
            #expect(try r.session(idHash: "s1", now: at(minutes: 2), idleTimeout: 3600) == .ended)
        }
        try store.write { try $0.setBlocked(email: "alex@azureblog.example", reason: nil) }
        #expect(try store.read { try $0.person(email: "alex@azureblog.example")?.isBlocked } == false)
        #expect(throws: StoreError.personNotFound(email: "ghost@contoso.example")) {
            try store.write { try $0.setBlocked(email: "Ghost@contoso.example", reason: "x") }
        }
    }
}

@Suite struct SessionTests {
    let store: Store
    let folder: TemporaryFolder
    let idle: TimeInterval = 30 * 60

    init() throws {
        folder = try TemporaryFolder()
        store = try Store(path: folder.databasePath)
        try store.write { w throws in
            try w.upsertPersonOnSignIn(email: "allan@contoso.example", displayName: "Allan", isExternal: false, at: t0)
            try w.createSession(idHash: "hash-1", email: "Allan@contoso.example", at: t0, expiresAt: at(minutes: 8 * 60))
        }
    }

    func lookup(_ minutes: Double, hash: String = "hash-1") throws -> SessionLookup {
        try store.read { try $0.session(idHash: hash, now: at(minutes: minutes), idleTimeout: idle) }
    }

    @Test func idleTimeoutCountsFromTheLastActivity() throws {
        guard case .valid(let session) = try lookup(29) else { Issue.record("expected a valid session"); return }
        #expect(session.email == "allan@contoso.example" && session.lastSeenAt == t0 && session.expiresAt == at(minutes: 480))
        #expect(try lookup(30) == .idleExpired)
        try store.write { try $0.touchSession(idHash: "hash-1", at: at(minutes: 29)) }
        guard case .valid = try lookup(58) else { Issue.record("touch should restart the idle timeout"); return }
        #expect(try lookup(59) == .idleExpired)
        // A late, out-of-order touch never moves last activity backwards.
        try store.write { try $0.touchSession(idHash: "hash-1", at: at(minutes: 10)) }
        guard case .valid = try lookup(58) else { Issue.record("an older touch moved last activity back"); return }
    }

    @Test func absoluteExpiryEndsAnActiveSession() throws {
        for minute in stride(from: 29.0, through: 479, by: 29) {
            try store.write { try $0.touchSession(idHash: "hash-1", at: at(minutes: minute)) }
        }
        guard case .valid = try lookup(479.9) else { Issue.record("expected valid just before the end"); return }
        #expect(try lookup(480) == .absoluteExpired)
    }

    @Test func signOutEndsTheSessionForGood() throws {
        try store.write { try $0.endSession(idHash: "hash-1", at: at(minutes: 5)) }
        try store.write { try $0.touchSession(idHash: "hash-1", at: at(minutes: 6)) }
        #expect(try lookup(7) == .ended)
        #expect(try lookup(7, hash: "never-issued") == .unknown)
        try store.write { try $0.endSession(idHash: "never-issued", at: at(minutes: 7)) }
    }
}

@Suite struct SignInCodeTests {
    let store: Store
    let folder: TemporaryFolder

    init() throws {
        folder = try TemporaryFolder()
        store = try Store(path: folder.databasePath)
    }

    func send(_ hash: String, at minutes: Double, to email: String = "don@outlook.example") throws {
        try store.write {
            try $0.createSignInCode(
                email: email, codeHash: hash, clientAddress: "192.0.2.7", at: at(minutes: minutes),
                expiresAt: at(minutes: minutes + 10))
        }
    }

    func check(_ hash: String, at minutes: Double, email: String = "don@outlook.example") throws -> CodeCheck {
        try store.write {
            try $0.verifySignInCode(email: email, codeHash: hash, now: at(minutes: minutes), maxWrongAttempts: 5)
        }
    }

    @Test func fiveWrongAttemptsLockTheCodeEvenAgainstTheRightOne() throws {
        try send("right", at: 0)
        let answers = try (1...5).map { try check("wrong-\($0)", at: 1) }
        #expect(answers == [.wrong(attemptsLeft: 4), .wrong(attemptsLeft: 3), .wrong(attemptsLeft: 2), .wrong(attemptsLeft: 1), .wrong(attemptsLeft: 0)])
        #expect(try check("right", at: 2) == .tooManyAttempts)
    }

    @Test func aRightCodeIsAcceptedOnceAndANewCodeSupersedesTheOld() throws {
        try send("first", at: 0)
        try send("second", at: 1)
        #expect(try check("first", at: 2) == .wrong(attemptsLeft: 4))
        #expect(try check("second", at: 2, email: "DON@outlook.example") == .accepted)
        #expect(try check("second", at: 3) == .noCode)
    }

    @Test func codesExpireAfterTheirTimeAndBelongToOneAddress() throws {
        try send("right", at: 0)
        #expect(try check("right", at: 1, email: "alex@azureblog.example") == .noCode)
        #expect(try check("right", at: 10) == .expired)
        try send("again", at: 20)
        #expect(try check("again", at: 29.9) == .accepted)
    }

    @Test func codeRequestsAreCountedPerAddressAndPerClientSince() throws {
        try store.write { w throws in
            try w.recordCodeRequest(email: "don@outlook.example", clientAddress: "192.0.2.7", at: at(minutes: 0))
            try w.recordCodeRequest(email: "Don@outlook.example", clientAddress: "192.0.2.8", at: at(minutes: 5))
            try w.recordCodeRequest(email: "alex@azureblog.example", clientAddress: "192.0.2.7", at: at(minutes: 9))
            try w.recordCodeRequest(email: "don@outlook.example", clientAddress: "192.0.2.7", at: at(minutes: 10))
        }
        try store.read { r throws in
            #expect(try r.codeRequestCount(email: "don@outlook.example", since: at(minutes: 0)) == 3)
            #expect(try r.codeRequestCount(email: "don@outlook.example", since: at(minutes: 5)) == 2)
            #expect(try r.codeRequestCount(clientAddress: "192.0.2.7", since: at(minutes: 1)) == 2)
            #expect(try r.codeRequestCount(clientAddress: "192.0.2.9", since: at(minutes: 0)) == 0)
        }
        #expect(try store.write { try $0.pruneCodeRequests(before: at(minutes: 9)) } == 2)
        #expect(try store.read { try $0.codeRequestCount(email: "don@outlook.example", since: t0) } == 1)
    }
}
