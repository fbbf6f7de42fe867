import Foundation
import GatehouseMail
import GatehouseModel
import GatehouseStore
import Handlers
import Portal
import Rendering
import Synchronization
import Testing

@Suite struct SessionTests {
    @Test func withoutACookieProtectedPagesRedirectToSignIn() throws {
        let h = try Harness()
        let response = h.get(Paths.myRequests)
        #expect(response.status == .seeOther)
        #expect(response.header("Location") == "/sign-in/?return=/my/requests/")
        #expect(h.get(Paths.auth).status.code == 401)
    }

    @Test func theSignInPageKeepsASafeReturnPath() throws {
        let h = try Harness()
        let page = h.get(Paths.signIn, query: "return=%2Faccess-packages%2Fexternal-contractor%2F")
        #expect(page.status == .ok)
        #expect(page.bodyText.contains(#"name="return" value="/access-packages/external-contractor/""#))
        let evil = h.get(Paths.signIn, query: "return=https%3A%2F%2Fevil.example%2F")
        #expect(evil.bodyText.contains(#"name="return" value="""#))
        #expect(!evil.bodyText.contains("evil.example"))
    }

    @Test func aSignedInPersonIsSentOnFromTheSignInPage() throws {
        let h = try Harness()
        let (_, cookie) = try h.signIn("allan@contoso.example")
        let plain = h.get(Paths.signIn, cookie: cookie)
        #expect(plain.status == .seeOther)
        #expect(plain.header("Location") == Paths.myHome)
        let back = h.get(Paths.signIn, query: "return=%2Faccess-packages%2Ffinance-reports%2F", cookie: cookie)
        #expect(back.header("Location") == "/access-packages/finance-reports/")
        let evil = h.get(Paths.signIn, query: "return=https%3A%2F%2Fevil.example%2F", cookie: cookie)
        #expect(evil.header("Location") == Paths.myHome)
        // Nobody signed in, or an unknown cookie: the form.
        #expect(h.get(Paths.signIn, cookie: "gatehouse_session=unknown").status == .ok)
    }

    @Test func handlerPagesNameTheSignedInPersonInTheNavigation() throws {
        let h = try Harness()
        let (_, cookie) = try h.signIn("allan@contoso.example")
        for path in [Paths.myRequests, Paths.myAccess, Paths.myHome, Paths.approvals] {
            let page = h.get(path, cookie: cookie)
            #expect(page.status == .ok, "\(path)")
            #expect(page.bodyText.contains(
                #"<li class="nav-person"><form method="post" action="/sign-out"><span><span class="visually-hidden">Signed in as </span>Allan Deyoung</span> <button type="submit">Sign out</button></form></li>"#),
                "\(path)")
            #expect(!page.bodyText.contains(#"href="/sign-in/""#), "\(path)")
        }
        // Without a session the pages that still render (messages) offer to sign in.
        let ended = h.get(Paths.myRequests, cookie: "gatehouse_session=unknown")
        #expect(ended.bodyText.contains(#"<li><a href="/sign-in/">Sign in</a></li>"#))
        #expect(!ended.bodyText.contains("nav-person"))
    }

    @Test func nginxsSignInFirstComesBackToThePageWithItsWholeQuery() throws {
        let h = try Harness()
        let params = [
            "REQUEST_METHOD": "POST", "DOCUMENT_URI": "/admin/catalogs/general/",
            App.signInFirstParam: "/admin/catalogs/general/?policy=a&x=%2F+1",
        ]
        let response = h.app.respond(params: params, body: Array("anything".utf8))
        #expect(response.status == .seeOther)
        #expect(response.header("Location") == "/sign-in/?return=/admin/catalogs/general/%3Fpolicy%3Da%26x%3D%252F%2B1")
        let page = h.get(Paths.signIn, query: "return=/admin/catalogs/general/%3Fpolicy%3Da%26x%3D%252F%2B1")
        #expect(page.bodyText.contains(#"name="return" value="/admin/catalogs/general/?policy=a&amp;x=%2F+1""#))
        // An odd page is carried as text; the sign-in page keeps only a same-site path.
        let odd = h.app.respond(params: [App.signInFirstParam: "//evil.example/"], body: [])
        #expect(odd.header("Location") == "/sign-in/?return=//evil.example/")
        let oddPage = h.get(Paths.signIn, query: "return=//evil.example/")
        #expect(!oddPage.bodyText.contains("evil.example"))
    }

    @Test func signInReturnsToTheSafePathOnly() throws {
        let h = try Harness()
        let (kept, _) = try h.signIn("allan@contoso.example", returnTo: "/access-packages/finance-reports/")
        #expect(kept.header("Location") == "/access-packages/finance-reports/")
        for unsafe in ["https://evil.example/", "//evil.example/x", "/\\evil.example", ""] {
            let (refused, _) = try h.signIn("lee@contoso.example", returnTo: unsafe)
            #expect(refused.header("Location") == "/access-packages/", "return '\(unsafe)'")
        }
    }

    @Test func authAnswersForNginx() throws {
        let h = try Harness()
        let (_, cookie) = try h.signIn("allan@contoso.example")
        let ok = h.get(Paths.auth, cookie: cookie)
        #expect(ok.status.code == 204)
        #expect(ok.header("X-Gatehouse-User") == "allan@contoso.example")
        #expect(ok.body.isEmpty)
        #expect(h.get(Paths.auth, cookie: "gatehouse_session=" + String(repeating: "0", count: 64)).status.code == 401)
    }

    @Test func signOutEndsTheSessionAndDeletesTheCookie() throws {
        let h = try Harness()
        let (_, cookie) = try h.signIn("allan@contoso.example")
        let out = h.post(Paths.signOut, [:], cookie: cookie)
        #expect(out.status == .seeOther)
        #expect(out.header("Location") == "/access-packages/")
        #expect(out.header("Set-Cookie") == "gatehouse_session=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax")
        #expect(h.get(Paths.auth, cookie: cookie).status.code == 401)
        let again = h.get(Paths.myRequests, cookie: cookie)
        #expect(again.status == .ok)
        #expect(again.bodyText.contains("Your session ended; sign in again to continue."))
        let actions = try h.store.read { try $0.auditEntries(subjectKind: "person", subjectID: "allan@contoso.example") }
            .map(\.entry.action)
        #expect(actions == ["signInCodeSent", "signedIn", "signedOut"])
    }

    @Test func anIdleSessionEndsAndTheReturnPathIsKept() throws {
        let h = try Harness()
        let (_, cookie) = try h.signIn("allan@contoso.example")
        h.clock.advance(by: 7 * 3600)
        #expect(h.get(Paths.myRequests, cookie: cookie).status == .ok, "activity restarts the idle timeout")
        h.clock.advance(by: 7 * 3600)
        #expect(h.get(Paths.myRequests, cookie: cookie).status == .ok)
        h.clock.advance(by: 8 * 3600)
        let ended = h.get(Paths.myRequests, cookie: cookie)
        #expect(ended.status == .ok)
        #expect(ended.bodyText.contains("Your session ended; sign in again to continue."))
        #expect(ended.bodyText.contains(#"name="return" value="/my/requests/""#))
        #expect(ended.header("Set-Cookie")?.hasPrefix("gatehouse_session=; Path=/; Max-Age=0") == true)
    }

    /// Activity is recorded at most every five minutes: a session used four minutes after its last
    /// recorded activity ends eight idle hours after that record (a few minutes early, never late);
    /// used six minutes after, the record moves.
    @Test func activityIsRecordedAtMostEveryFiveMinutes() throws {
        let h = try Harness()
        let (_, cookie) = try h.signIn("allan@contoso.example")
        h.clock.advance(by: 4 * 60)
        #expect(h.get(Paths.myRequests, cookie: cookie).status == .ok)
        h.clock.advance(by: 8 * 3600 - 4 * 60)
        #expect(h.get(Paths.myRequests, cookie: cookie).bodyText.contains("Your session ended"))

        let (_, second) = try h.signIn("allan@contoso.example")
        h.clock.advance(by: 6 * 60)
        #expect(h.get(Paths.myRequests, cookie: second).status == .ok)
        h.clock.advance(by: 8 * 3600 - 60)
        let page = h.get(Paths.myRequests, cookie: second)
        #expect(!page.bodyText.contains("Your session ended") && page.bodyText.contains("My requests"))
    }

    @Test func aSessionEndsAfterSevenDaysWhateverTheActivity() throws {
        let h = try Harness()
        let (_, cookie) = try h.signIn("allan@contoso.example")
        for _ in 1...23 {
            h.clock.advance(by: 7 * 3600)
            #expect(h.get(Paths.auth, cookie: cookie).status.code == 204)
        }
        h.clock.advance(by: 7 * 3600)  // 168 h = 7 days
        #expect(h.get(Paths.auth, cookie: cookie).status.code == 401)
        #expect(h.get(Paths.myRequests, cookie: cookie).bodyText.contains("Your session ended; sign in again to continue."))
    }

    @Test func theTermsAreRenderedInCmarksSafeMode() throws {
        var site = Repository.site
        site.tenant.termsOfUse = """
            Read <script>alert(1)</script> this, and [do not click](javascript:alert(2)).

            <img src=x onerror=alert(3)>
            """
        let h = try Harness(site: site)
        let (_, cookie) = try h.signIn("guest@fabrikam.example")
        let page = h.get(Paths.signInTerms, cookie: cookie).bodyText
        #expect(page.contains("<!-- raw HTML omitted -->"))
        #expect(!page.contains("<script>alert(1)"))
        #expect(!page.contains("onerror"))
        #expect(!page.contains("javascript:"))
        #expect(page.contains(#"<a href="">do not click</a>"#))
    }

    @Test func theTermsFormAsksAgainForAMissingOrUnusableName() throws {
        let h = try Harness()
        let (_, cookie) = try h.signIn("guest@fabrikam.example")
        let cases: [(typed: String?, message: String)] = [
            (nil, "Enter your name, as the people who approve your requests should see it."),
            ("   ", "Enter your name, as the people who approve your requests should see it."),
            ("Gia\r\nBcc: x@evil.example", "Your name cannot contain line breaks or tabs: type it on one line."),
            (String(repeating: "é", count: 101), "Your name is 101 characters long; shorten it to 100 or fewer."),
        ]
        for (typed, message) in cases {
            let response = if let typed {
                h.post(Paths.signInTerms, ["return": "/my/requests/", "name": typed], cookie: cookie)
            } else {
                h.post(Paths.signInTerms, ["return": "/my/requests/"], cookie: cookie)
            }
            #expect(response.status.code == 422, "\(String(describing: typed))")
            #expect(response.bodyText.contains(message), "\(String(describing: typed))")
            #expect(response.bodyText.contains(#"aria-invalid="true""#))
            // What was typed stays in the field (escaped), and the return path in the form.
            if let typed, !typed.contains("\r") { #expect(response.bodyText.contains(#"value="\#(typed)""#)) }
            #expect(response.bodyText.contains(#"value="/my/requests/""#))
        }
        // Nothing was recorded: the terms still wait.
        let person = try #require(try h.store.read { try $0.person(email: "guest@fabrikam.example") })
        #expect(person.termsAcceptedAt == nil)
        #expect(person.displayName == "guest@fabrikam.example")
        #expect(h.get(Paths.myRequests, cookie: cookie).header("Location") == "/sign-in/terms?return=/my/requests/")
        // A name with markup is kept as text and shown escaped.
        let accepted = h.post(Paths.signInTerms, ["return": "/my/requests/", "name": "<b>Gia</b> & Co"], cookie: cookie)
        #expect(accepted.status == .seeOther)
        let page = h.get(Paths.myRequests, cookie: cookie).bodyText
        #expect(page.contains("&lt;b&gt;Gia&lt;/b&gt; &amp; Co"))
        #expect(!page.contains("<b>Gia</b>"))
    }

    @Test func anExternalPersonAcceptsTheTermsAtFirstSignIn() throws {
        let h = try Harness()
        let (verified, cookie) = try h.signIn("guest@fabrikam.example")
        #expect(verified.header("Location") == "/sign-in/terms?return=/my/requests/")
        let person = try #require(try h.store.read { try $0.person(email: "guest@fabrikam.example") })
        #expect(person.isExternal)
        #expect(person.displayName == "guest@fabrikam.example")

        // Until accepted, protected pages lead to the terms and nginx gets 401.
        #expect(h.get(Paths.myRequests, cookie: cookie).header("Location") == "/sign-in/terms?return=/my/requests/")
        #expect(h.get(Paths.auth, cookie: cookie).status.code == 401)

        let terms = h.get(Paths.signInTerms, query: "return=/my/requests/", cookie: cookie)
        #expect(terms.status == .ok)
        // The terms are Markdown, shown as HTML.
        #expect(terms.bodyText.contains("<h2>Terms of use for guests of Internal LAB</h2>"))
        #expect(terms.bodyText.contains("<li>Internal LAB may review and remove your access at any time;</li>"))
        #expect(terms.bodyText.contains(#"<a href="mailto:lab-team@contoso.example">the LAB team</a>"#))
        #expect(!terms.bodyText.contains("## "))
        #expect(terms.bodyText.contains("I accept the terms of use"))

        #expect(terms.bodyText.contains("Your name"))

        let accepted = h.post(Paths.signInTerms, ["return": "/my/requests/", "name": "  Gia   Tran "], cookie: cookie)
        #expect(accepted.status == .seeOther)
        #expect(accepted.header("Location") == "/my/requests/")
        let after = try #require(try h.store.read { try $0.person(email: "guest@fabrikam.example") })
        #expect(after.termsAcceptedAt == h.clock.now)
        #expect(after.displayName == "Gia Tran")
        let history = h.get(Paths.myRequests, cookie: cookie)
        #expect(history.status == .ok)
        #expect(history.bodyText.contains("Gia Tran"))
        let audit = try h.store.read { try $0.auditEntries(subjectKind: "person", subjectID: "guest@fabrikam.example") }
        #expect(audit.map(\.entry.action) == ["signInCodeSent", "signedIn", "termsAccepted", "nameChanged"])
        #expect(audit.last?.entry.before == "guest@fabrikam.example")
        #expect(audit.last?.entry.after == "Gia Tran")

        // The next sign-in goes straight back.
        let (second, _) = try h.signIn("guest@fabrikam.example")
        #expect(second.header("Location") == "/my/requests/")
    }

    @Test func theRequestListShowsThePersonsRequests() throws {
        let h = try Harness()
        let (_, cookie) = try h.signIn("allan@contoso.example")
        let now = h.clock.now
        try h.store.write { db in
            _ = try db.insertRequest(RequestRecord(
                id: "r1", idempotencyKey: "k1", kind: .add, actorKind: .user, requestorEmail: "allan@contoso.example",
                packageID: "external-contractor", policyID: "contractors", policySnapshot: "{}", language: "en",
                justification: "", answers: "{}", requestedStart: nil, requestedEnd: nil, state: .pendingApproval,
                currentStage: 1, escalated: false, createdAt: now, updatedAt: now))
        }
        let page = h.get(Paths.myRequests, cookie: cookie)
        #expect(page.bodyText.contains(#"<td><a href="/my/requests/r1/">External contractor</a></td><td>Pending approval</td>"#))
        #expect(!page.bodyText.contains("You have not requested any access yet."))
    }

    @Test func theOutboxIsDeliveredAsEmlFiles() throws {
        let h = try Harness()
        _ = h.post(Paths.signInCode, ["email": "allan@contoso.example"])
        let code = try h.lastCode(for: "allan@contoso.example")
        let mailFolder = h.folder.appendingPathComponent("mail")
        let queue = StoreMailQueue(store: h.store, from: try MailAddress("noreply@contoso.example", name: "Internal LAB"))
        let pump = MailPump(
            sender: MailSender(queue: queue, transport: OutboxFolderTransport(folder: mailFolder)), clock: { [clock = h.clock] in clock.now })
        pump.deliverOnce()
        let files = try FileManager.default.contentsOfDirectory(atPath: mailFolder.path).filter { $0.hasSuffix(".eml") }
        #expect(files.count == 1)
        let text = try String(contentsOf: mailFolder.appendingPathComponent(files[0]), encoding: .utf8)
        #expect(text.contains("To: allan@contoso.example"))
        #expect(text.contains("Subject: Your sign-in code for Internal LAB"))
        #expect(text.contains(code))
        #expect(try h.store.read { try $0.dueMail(now: h.clock.now) }.isEmpty)
    }
}

/// A harness with 250 notifications queued, and a pump delivering them as .eml files to `mail`.
private func backlog(busy: (@Sendable () -> Bool)? = nil) throws -> (h: Harness, pump: MailPump, mailFolder: URL) {
    let h = try Harness()
    try queueNotes(250, in: h)
    let mailFolder = h.folder.appendingPathComponent("mail")
    let queue = StoreMailQueue(store: h.store, from: try MailAddress("noreply@contoso.example"))
    let pump = MailPump(
        sender: MailSender(queue: queue, transport: OutboxFolderTransport(folder: mailFolder)),
        clock: { [clock = h.clock] in clock.now }, busy: busy)
    return (h, pump, mailFolder)
}

@Suite struct MailPumpTests {
    @Test func oneWakeDeliversABacklogLargerThanABatchWithOneCommitPerPass() throws {
        let (h, pump, mailFolder) = try backlog()
        let before = h.store.commitStatistics.commits
        pump.deliverOnce()
        let files = try FileManager.default.contentsOfDirectory(atPath: mailFolder.path).filter { $0.hasSuffix(".eml") }
        #expect(files.count == 250)
        #expect(try h.store.read { try $0.dueMail(now: h.clock.now) }.isEmpty)
        // The outbox hands out 100 per pass: three passes, each recording its deliveries in one commit.
        #expect(h.store.commitStatistics.commits - before == 3)
    }
}

@Suite struct MailPacingTests {
    @Test func whileTheWriterIsBusyAWakeTakesOneBatchAndTheRestWaits() throws {
        let busy = Mutex(true)
        let (h, pump, mailFolder) = try backlog(busy: { busy.withLock { $0 } })
        func delivered() throws -> Int {
            try FileManager.default.contentsOfDirectory(atPath: mailFolder.path).count { $0.hasSuffix(".eml") }
        }
        pump.deliverOnce()
        #expect(try delivered() == 100)
        pump.deliverOnce()
        #expect(try delivered() == 200, "a batch per wake: the mail still moves")
        busy.withLock { $0 = false }
        pump.deliverOnce()
        #expect(try delivered() == 250)
        #expect(try h.store.read { try $0.dueMail(now: h.clock.now) }.isEmpty)
    }

    @Test func theWriterIsBusyWhenMoreThanHalfOfTheTimeSinceTheLastLookWasSpentWriting() {
        let busy = Mutex(Duration.zero)
        let elapsed = Mutex(Duration.zero)
        let load = WriterLoad(busy: { busy.withLock { $0 } }, elapsed: { elapsed.withLock { $0 } })
        elapsed.withLock { $0 = .seconds(2) }
        busy.withLock { $0 = .milliseconds(900) }
        #expect(!load.isHigh(), "45% of two seconds")
        elapsed.withLock { $0 = .seconds(4) }
        busy.withLock { $0 = .milliseconds(2_900) }
        #expect(load.isHigh(), "100% of the last two seconds")
        #expect(!load.isHigh(), "no time passed since the last look")
        elapsed.withLock { $0 = .seconds(6) }
        #expect(!load.isHigh(), "idle for two seconds")
    }
}

@Suite struct MailOrderTests {
    @Test func aSignInCodeGoesOutBeforeABacklogOfNotifications() throws {
        let h = try Harness()
        try queueNotes(150, in: h)
        h.clock.advance(by: 1)
        _ = h.post(Paths.signInCode, ["email": "allan@contoso.example"])
        let mailFolder = h.folder.appendingPathComponent("mail")
        let queue = StoreMailQueue(store: h.store, from: try MailAddress("noreply@contoso.example"))
        let sender = MailSender(queue: queue, transport: OutboxFolderTransport(folder: mailFolder))
        // One pass takes 100 messages: the code, queued last, is among them.
        let sent = try sender.deliverDue(now: h.clock.now)
        #expect(sent.count == 100)
        let texts = try FileManager.default.contentsOfDirectory(atPath: mailFolder.path).filter { $0.hasSuffix(".eml") }
            .map { try String(contentsOf: mailFolder.appendingPathComponent($0), encoding: .utf8) }
        #expect(texts.contains { $0.contains("To: allan@contoso.example") && $0.contains("Subject: Your sign-in code") })
        #expect(try h.store.read { try $0.dueMail(now: h.clock.now) }.count == 51)
    }
}

@Suite struct MailSelectionTests {
    /// `gatehouse serve` runs a sender for sign-in codes and another, at the lowest priority, for
    /// everything else: between them every message goes out once.
    @Test func theCodeSenderAndTheNotificationSenderShareTheOutboxWithoutOverlap() throws {
        let h = try Harness()
        try queueNotes(3, in: h)
        _ = h.post(Paths.signInCode, ["email": "allan@contoso.example"])
        let folder = h.folder.appendingPathComponent("mail")
        func sender(_ selection: StoreMailQueue.Selection) throws -> MailSender {
            MailSender(
                queue: StoreMailQueue(store: h.store, from: try MailAddress("noreply@contoso.example"), selection: selection),
                transport: OutboxFolderTransport(folder: folder))
        }
        let codes = try sender(.signInCodes).deliverDue(now: h.clock.now)
        #expect(codes.count == 1)
        let texts = { try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".eml") }
            .map { try String(contentsOf: folder.appendingPathComponent($0), encoding: .utf8) } }
        #expect(try texts().count == 1 && texts()[0].contains("Subject: Your sign-in code"))
        #expect(try sender(.signInCodes).deliverDue(now: h.clock.now).isEmpty)
        let notes = try sender(.notifications).deliverDue(now: h.clock.now)
        #expect(notes.count == 3)
        #expect(try texts().filter { $0.contains("Subject: Note ") }.count == 3)
        #expect(try sender(.notifications).deliverDue(now: h.clock.now).isEmpty)
        #expect(try h.store.read { try $0.dueMail(now: h.clock.now) }.isEmpty)
    }
}

/// Queues `count` notification mails due now: a backlog for the mail sender.
func queueNotes(_ count: Int, in h: Harness) throws {
    try h.store.write { db in
        for index in 0..<count {
            try db.enqueueMail(
                OutgoingMail(recipient: "p\(index)@contoso.example", subject: "Note \(index)", body: "Hello", kind: "requestSubmitted"),
                at: h.clock.now)
        }
    }
}
