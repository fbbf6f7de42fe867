import Foundation
import GatehouseModel
import GatehouseStore
import Governance
import Testing
import Workflow

private let internalPackage = "internal-access-package"
private let sam = "sam@mail.example"
private let kim = "kim@mail.example"
/// A cancel reason a spreadsheet would run as a formula, with a comma, quotes and a line break.
private let hostileReason = "=HYPERLINK(\"http://evil.example\",\"click\")\r\nsecond line"

private extension Bench {
    /// Gives `email` a package whose policy needs no approval, as the handler does: the `add` request,
    /// its `submitted` audit entry and the delivery, in one transaction.
    @discardableResult
    func deliverNow(
        _ packageID: String, policy: Policy? = nil, to email: String, assignment id: String, at now: Date
    ) throws -> AssignmentRecord {
        let policy = try #require(policy ?? site.package(packageID)?.policies.first)
        return try store.write { db in
            let person = try db.upsertPersonOnSignIn(
                email: email, displayName: nil, isExternal: !site.tenant.isInternal(email: email), at: now)
            let requestor = Requestor(email: person.email, in: site, isGuest: person.isGovernedGuest)
            let record = RequestRecord(
                id: "add-\(id)", idempotencyKey: "key-add-\(id)", kind: .add, actorKind: .user,
                requestorEmail: person.email, packageID: packageID, policyID: policy.id,
                policySnapshot: PolicySnapshot.encode(policy, requestor: requestor), language: "en",
                justification: "Needed", answers: "[]", state: .submitted, createdAt: now)
            try db.insertRequest(record)
            try db.appendAudit(AuditEntry(
                at: now, actor: person.email, subjectKind: "request", subjectID: record.id, action: "submitted",
                after: "submitted"))
            return try approvals.delivery.deliver(
                record, policy: policy, from: .submitted, actor: "system", reason: "the policy needs no approval",
                assignmentID: id, db: db, now: now)
        }
    }

    var reports: Reports { Reports(site: site) }

    func text(_ make: (StoreReader) throws -> [UInt8]) throws -> String {
        String(decoding: try store.read(make), as: UTF8.self)
    }
}

/// A tenant's first week, through the real flows:
/// - t0: Allan gets the internal package (no approval);
/// - day 1: Adele approves Alex (Azureblog) for the external package;
/// - day 2: she approves Sam, a contractor from the unknown domain mail.example (proposed organization);
/// - day 3: she approves Alex for the contractor package too (same resource role as the external package);
/// - day 4: Lee gets the internal package; day 5: Megan removes it;
/// - day 6: Allan asks for the finance reports (pending); Kim asks for the contractor package;
/// - day 7: Kim cancels with a reason a spreadsheet would run.
private func firstWeek() throws -> Bench {
    let bench = try Bench()
    try bench.deliverNow(internalPackage, to: allan, assignment: "a-allan", at: t0)
    try bench.submit(externalPackage, by: alex, name: "Alex Wilber", id: "r-alex", at: t0)
    _ = try bench.decide("r-alex", by: adele, .approve, "Writes the API chapter", at: day(1))
    try bench.submit(contractorPackage, by: sam, name: "Sam Contractor", id: "r-sam", at: t0)
    _ = try bench.decide("r-sam", by: adele, .approve, "Signed contract", at: day(2))
    try bench.submit(contractorPackage, by: alex, id: "r-alex2", at: day(1))
    _ = try bench.decide("r-alex2", by: adele, .approve, "Also a contractor", at: day(3))
    let leeAccess = try bench.deliverNow(internalPackage, to: lee, assignment: "a-lee", at: day(4))
    try bench.store.write { db in
        try bench.approvals.lifecycle.end(
            leeAccess, kind: .admin, actor: megan, reason: "Moved to another team, see HR-42", db: db, now: day(5))
    }
    try bench.submit(financePackage, by: allan, id: "r-fin", justification: "Quarterly close", at: day(6))
    try bench.submit(contractorPackage, by: kim, id: "r-kim", at: day(6))
    #expect(try bench.cancel("r-kim", by: kim, reason: hostileReason, at: day(7)) == .canceled)
    return bench
}

private func ts(_ instant: Date) -> String { Reports.timestamp(instant) }

/// RFC 4180 records of `text`, read scalar by scalar. Fails the test on text a conforming reader
/// would not take: a record without its CRLF, a bare CR or LF outside quotes, a stray quote.
private func parseCSV(_ text: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> [[String]] {
    let s = Array(text.unicodeScalars)
    var records: [[String]] = [], record: [String] = [], field = String.UnicodeScalarView()
    var quoted = false, fieldStart = true, i = 0
    while i < s.count {
        let c = s[i]
        if quoted {
            if c == "\"" {
                if i + 1 < s.count, s[i + 1] == "\"" {
                    field.append("\"")
                    i += 1
                } else {
                    quoted = false
                }
            } else {
                field.append(c)
            }
        } else if c == "\"" {
            if !fieldStart { Issue.record("a quote inside an unquoted field at scalar \(i)", sourceLocation: sourceLocation) }
            quoted = true
        } else if c == "," {
            record.append(String(field))
            field = String.UnicodeScalarView()
            fieldStart = true
            i += 1
            continue
        } else if c == "\r", i + 1 < s.count, s[i + 1] == "\n" {
            record.append(String(field))
            records.append(record)
            record = []
            field = String.UnicodeScalarView()
            fieldStart = true
            i += 2
            continue
        } else if c == "\r" || c == "\n" {
            Issue.record("a bare line break outside quotes at scalar \(i)", sourceLocation: sourceLocation)
            field.append(c)
        } else {
            field.append(c)
        }
        fieldStart = false
        i += 1
    }
    #expect(!quoted && field.isEmpty && record.isEmpty, "the text must end with a complete record and its CRLF",
            sourceLocation: sourceLocation)
    return records
}

/// The records of a CSV report as dictionaries by header name, checking every record's width.
private func table(_ text: String, columns: [String], sourceLocation: Testing.SourceLocation = #_sourceLocation) -> [[String: String]] {
    let records = parseCSV(text, sourceLocation: sourceLocation)
    #expect(records.first == columns, sourceLocation: sourceLocation)
    return records.dropFirst().map { record in
        #expect(record.count == columns.count, "\(record)", sourceLocation: sourceLocation)
        return Dictionary(uniqueKeysWithValues: zip(columns, record))
    }
}

/// Every report suite, nested so that `--filter ReportsTests` runs them all.
enum ReportsTests {}

// MARK: - CSV

extension ReportsTests {
    @Suite struct CSVTests {
        @Test(arguments: [
            ("plain text", "plain text"),
            ("", ""),
            ("a=b+c-d@e", "a=b+c-d@e"),  // only the first character can start a formula
            ("Moved, see HR-42", "\"Moved, see HR-42\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            ("two\nlines", "\"two\nlines\""),
            ("two\rlines", "\"two\rlines\""),
            ("two\r\nlines", "\"two\r\nlines\""),  // one Character, two scalars: still quoted
            ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
            ("+33 1 23", "'+33 1 23"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tindented", "'\tindented"),
            ("\rcarriage", "\"'\rcarriage\""),
            ("\r\nwindows", "\"'\r\nwindows\""),
            ("=1,2", "\"'=1,2\""),
            ("=\"x\"", "\"'=\"\"x\"\"\""),
        ])
        func field(_ value: String, _ written: String) {
            #expect(CSV.field(value) == written)
        }

        @Test func recordJoinsWithCommasAndEndsWithCRLF() {
            #expect(CSV.record(["a", nil, "b,c", "=d"]) == "a,,\"b,c\",'=d\r\n")
            #expect(parseCSV(CSV.record(["a", nil, "b,c\r\nd", "say \"x\""])) == [["a", "", "b,c\r\nd", "say \"x\""]])
        }
    }
}

// MARK: - Assignments

extension ReportsTests {
    @Suite struct AssignmentReportTests {
        @Test func aPackageListsLiveAssignmentsThenEndedOnesWithTheirDatesAndRequests() throws {
            let bench = try firstWeek()
            let text = try bench.text { try bench.reports.assignmentsCSV(package: internalPackage, db: $0) }
            let rows = table(text, columns: Reports.assignmentColumns)
            #expect(rows == [
                [
                    "email": allan, "package": internalPackage, "policy": "members", "state": "delivered",
                    "starts_at": "2028-03-01T08:00:00.000Z", "ends_at": "2029-03-01T08:00:00.000Z", "ended_at": "",
                    "end_reason": "", "request_id": "add-a-allan", "assignment_id": "a-allan",
                ],
                [
                    "email": lee, "package": internalPackage, "policy": "members", "state": "expired",
                    "starts_at": ts(day(4)), "ends_at": ts(paris.adding(days: 365, to: day(4))), "ended_at": ts(day(5)),
                    "end_reason": "Moved to another team, see HR-42", "request_id": "add-a-lee", "assignment_id": "a-lee",
                ],
            ])
            #expect(ts(day(5)) == "2028-03-06T08:00:00.000Z")
            #expect(text.hasPrefix("email,package,policy,state,starts_at,ends_at,ended_at,end_reason,request_id,assignment_id\r\n"))
            #expect(text.contains(",\"Moved to another team, see HR-42\","))
        }

        @Test func aCatalogListsEachOfItsPackagesInIdOrder() throws {
            let bench = try firstWeek()
            let rows = table(
                try bench.text { try bench.reports.assignmentsCSV(catalog: "external", db: $0) }, columns: Reports.assignmentColumns)
            let alexFirst = try #require(try bench.assignments(of: alex).first { $0.packageID == externalPackage })
            #expect(rows.map { [$0["package"]!, $0["email"]!, $0["policy"]!, $0["state"]!] } == [
                [externalPackage, alex, "azureblog", "delivered"],
                [contractorPackage, sam, "contractors", "delivered"],  // approved on day 2
                [contractorPackage, alex, "contractors", "delivered"],  // approved on day 3
            ])
            #expect(rows[0]["request_id"] == "r-alex")
            #expect(rows[0]["assignment_id"] == alexFirst.id)
            #expect(rows[0]["starts_at"] == ts(day(1)))  // the clock starts at approval
            #expect(rows[0]["ends_at"] == ts(paris.adding(days: 180, to: day(1))))
            #expect(rows[1]["ends_at"] == "2028-06-30T22:00:00.000Z")  // end of 30 June 2028 in Paris

            // The general catalog: the internal package's two; the finance request is still pending.
            let general = table(
                try bench.text { try bench.reports.assignmentsCSV(catalog: "general", db: $0) }, columns: Reports.assignmentColumns)
            #expect(general.map { $0["email"]! } == [allan, lee])
        }

        @Test func unknownCatalogsAndPackagesAreRefusedWithTheirName() throws {
            let bench = try firstWeek()
            #expect(throws: ReportError.unknownCatalog(id: "finance", known: ["external", "general"])) {
                try bench.store.read { try bench.reports.assignmentsCSV(catalog: "finance", db: $0) }
            }
            #expect(throws: ReportError.unknownPackage(id: "finance")) {
                try bench.store.read { try bench.reports.assignmentsCSV(package: "finance", db: $0) }
            }
            #expect(ReportError.unknownCatalog(id: "finance", known: ["external", "general"]).description
                == "there is no catalog 'finance' in the site (catalogs: external, general)")
        }

        @Test func aPackageGoneFromTheModelIsReportedWhileTheStoreHasItsRequests() throws {
            let bench = try Bench()
            let policy = try #require(bench.site.package(internalPackage)?.policies.first)
            try bench.deliverNow("retired-package", policy: policy, to: nestor, assignment: "a-old", at: t0)
            let rows = table(
                try bench.text { try bench.reports.assignmentsCSV(package: "retired-package", db: $0) },
                columns: Reports.assignmentColumns)
            #expect(rows.map { $0["email"] } == [nestor])
            #expect(rows.first?["assignment_id"] == "a-old")
        }

        @Test func pagesOfOneRowGiveTheSameBytesAsOnePage() throws {
            let bench = try firstWeek()
            let packages = try Reports(site: bench.site).packageIDs(catalog: "external") + [internalPackage]
            func chunks(pageSize: Int) throws -> [String] {
                var chunks: [String] = []
                try bench.store.read { db in
                    try Reports(site: bench.site, pageSize: pageSize).writeAssignmentsCSV(packageIDs: packages, db: db) {
                        chunks.append($0)
                    }
                }
                return chunks
            }
            let whole = try chunks(pageSize: 500)
            let paged = try chunks(pageSize: 1)
            #expect(whole.count == 4)  // the header, then one page per package
            #expect(paged.count == 6)  // the header, then one page per assignment
            #expect(paged.joined() == whole.joined())
            #expect(table(paged.joined(), columns: Reports.assignmentColumns).count == 5)
        }

        @Test func theStoreCursorWalksFromLiveStatesToEndedOnes() throws {
            let bench = try Bench()
            for (n, email) in [allan, lee, nestor, hallam].enumerated() {
                try bench.deliverNow(internalPackage, to: email, assignment: "a\(n)", at: day(n))
            }
            // The first two end: the live ones (made later) come first.
            try bench.store.write { db in
                for id in ["a0", "a1"] { try db.endAssignment(id: id, reason: "test", at: day(5)) }
            }
            var seen: [String] = []
            var cursor: AssignmentCursor?
            var pages = 0
            repeat {
                let page = try bench.store.read { try $0.assignmentPage(packageID: internalPackage, after: cursor, limit: 3) }
                seen += page.assignments.map(\.id)
                cursor = page.next
                pages += 1
            } while cursor != nil
            #expect(seen == ["a2", "a3", "a0", "a1"])
            #expect(pages == 2)
            #expect(try bench.store.read { try $0.assignmentPage(packageID: "nothing") }.assignments.isEmpty)
        }
    }
}

// MARK: - A person

extension ReportsTests {
    @Suite struct PersonReportTests {
        @Test func anInternalPersonCanRequestWhatTheirGroupsAllowAndSeesWhyNotNow() throws {
            let bench = try firstWeek()
            let report = try bench.store.read { try bench.reports.personReport(email: "Allan@Contoso.example", db: $0) }
            #expect(report.email == allan)
            #expect(report.name == "Allan Deyoung")
            #expect(report.isInternal)
            #expect(report.hasSignedIn)
            // External packages' policies are for external people: not offered.
            #expect(report.canRequest.map(\.packageID) == [financePackage, internalPackage])
            let finance = try #require(report.canRequest.first)
            #expect(finance.hidden)
            #expect(finance.policyID == "finance-team")
            #expect(finance.requiresApproval && finance.approvalStages == 2)
            #expect(finance.blockedBy == ["open request"])
            let members = try #require(report.canRequest.last)
            #expect(members.policyID == "members" && members.policyName == "Lab members")
            #expect(!members.requiresApproval)
            #expect(members.blockedBy == ["already assigned"])

            #expect(report.holds.map(\.assignment.id) == ["a-allan"])
            #expect(report.holds.first?.roles.map { "\($0.resourceID) \($0.role)" } == ["lab-portal Reader", "lab-wiki Read"])
            #expect(report.roles.map { "\($0.resourceID) \($0.role) \($0.packageIDs)" } == [
                "lab-portal Reader [\"internal-access-package\"]", "lab-wiki Read [\"internal-access-package\"]",
            ])
            #expect(report.roles.first?.resourceName == "Lab Portal")
        }

        @Test func aPartnerHoldingOneRoleThroughTwoPackagesSeesBoth() throws {
            let bench = try firstWeek()
            let report = try bench.store.read { try bench.reports.personReport(email: alex, db: $0) }
            #expect(!report.isInternal)
            #expect(report.organizationID == "azureblog" && report.organizationName == "Azureblog")
            #expect(report.governedGuestSince == day(1))
            #expect(report.name == "Alex Wilber")
            #expect(report.canRequest.map { "\($0.packageID)/\($0.policyID)" } == [
                "\(externalPackage)/azureblog", "\(contractorPackage)/contractors",
            ])
            #expect(report.canRequest.allSatisfy { $0.blockedBy == ["already assigned"] })
            // Latest start first.
            #expect(report.holds.map(\.assignment.packageID) == [contractorPackage, externalPackage])
            #expect(report.holds.map(\.assignment.startsAt) == [day(3), day(1)])
            #expect(report.roles.count == 1)
            let role = try #require(report.roles.first)
            #expect(role.resourceID == "external-collaboration" && role.role == "Member")
            #expect(role.resourceName == "External_Collaboration")
            #expect(role.packageIDs == [externalPackage, contractorPackage])  // by id
        }

        @Test func someoneWhoNeverSignedInSeesWhatTheyCouldRequest() throws {
            let bench = try firstWeek()
            let report = try bench.store.read { try bench.reports.personReport(email: nestor, db: $0) }
            #expect(!report.hasSignedIn)
            #expect(report.name == "Nestor Wilke")
            #expect(report.canRequest.map(\.packageID) == [internalPackage])  // not in the finance group
            #expect(report.canRequest.first?.blockedBy == [])
            #expect(report.holds.isEmpty && report.roles.isEmpty)
            #expect(report.text == """
                nestor@contoso.example: Nestor Wilke, internal, never signed in
                Can request (1):
                  internal-access-package “Internal_AccessPackage” through members “Lab members”: no approval
                Holds (0):
                  nothing
                Resource roles (0):
                  none

                """)
        }

        @Test func theJSONFormParsesBackWithEveryPart() throws {
            let bench = try firstWeek()
            let report = try bench.store.read { try bench.reports.personReport(email: alex, db: $0) }
            let object = try #require(try JSONSerialization.jsonObject(with: Data(try report.json())) as? [String: Any])
            #expect(object["email"] as? String == alex)
            #expect(object["internal"] as? Bool == false)
            #expect(object["organization"] as? String == "azureblog")
            #expect(object["governed_guest_since"] as? String == ts(day(1)))
            #expect(object["blocked_reason"] is NSNull)
            let canRequest = try #require(object["can_request"] as? [[String: Any]])
            #expect(canRequest.map { $0["package"] as? String } == [externalPackage, contractorPackage])
            #expect(canRequest.first?["approval_required"] as? Bool == true)
            #expect(canRequest.first?["blocked_by"] as? [String] == ["already assigned"])
            let holds = try #require(object["holds"] as? [[String: Any]])
            #expect(holds.map { $0["request"] as? String } == ["r-alex2", "r-alex"])
            #expect(holds.first?["starts_at"] as? String == ts(day(3)))
            let roles = try #require((holds.first?["roles"] as? [[String: Any]])?.first)
            #expect(roles["resource"] as? String == "external-collaboration")
            let union = try #require((object["roles"] as? [[String: Any]])?.first)
            #expect(union["packages"] as? [String] == [externalPackage, contractorPackage])

            let text = report.text
            #expect(text.hasPrefix("alex@azureblog.example: Alex Wilber, external, of Azureblog (azureblog), governed guest since \(ts(day(1)))\n"))
            #expect(text.contains("  external-collaboration Member via external-access-package, external-contractor\n"))
            #expect(text.contains("; not now: already assigned\n"))
        }
    }
}

// MARK: - Organizations

extension ReportsTests {
    @Suite struct OrganizationReportTests {
        @Test func declaredOrganizationsThenTheOnesProposedOnApproval() throws {
            let bench = try firstWeek()
            let rows = table(try bench.text { try bench.reports.organizationsCSV(db: $0) }, columns: Reports.organizationColumns)
            #expect(rows == [
                [
                    "id": "azureblog", "name": "Azureblog", "state": "configured", "domains": "azureblog.example",
                    "internal_sponsors": adele, "external_sponsors": "", "source": "site", "proposed_at": "",
                    "first_request_id": "", "first_requestor": "",
                ],
                // Sam's approval proposed mail.example; Kim (same domain) canceled and proposed nothing more.
                [
                    "id": "", "name": "mail.example", "state": "proposed", "domains": "mail.example",
                    "internal_sponsors": "", "external_sponsors": "", "source": "gatehouse", "proposed_at": ts(day(2)),
                    "first_request_id": "r-sam", "first_requestor": sam,
                ],
            ])
        }

        @Test func aProposedDomainDeclaredSinceKeepsItsOrigin() throws {
            let bench = try firstWeek()
            var site = bench.site
            site.organizations.append(Organization(
                id: "mail", name: "Mail Inc.", domains: ["Mail.example"], externalSponsors: [sam], state: .proposed))
            let rows = table(
                try bench.text { try Reports(site: site).organizationsCSV(db: $0) }, columns: Reports.organizationColumns)
            #expect(rows.count == 2)
            #expect(rows.last == [
                "id": "mail", "name": "Mail Inc.", "state": "proposed", "domains": "Mail.example", "internal_sponsors": "",
                "external_sponsors": sam, "source": "site", "proposed_at": ts(day(2)), "first_request_id": "r-sam",
                "first_requestor": sam,
            ])
        }
    }
}

// MARK: - Audit

extension ReportsTests {
    @Suite struct AuditExportTests {
        private func csv(_ bench: Bench, _ filter: AuditFilter = AuditFilter(), pageSize: Int = 500) throws -> [[String: String]] {
            table(
                try bench.text { try Reports(site: bench.site, pageSize: pageSize).auditCSV(filter: filter, db: $0) },
                columns: Reports.auditColumns)
        }

        /// The entries the filter should keep, decided from the whole log and the store's rows.
        private func expected(_ bench: Bench, _ keep: (AuditRecord, StoreReader) throws -> Bool) throws -> [String] {
            try bench.store.read { db in
                try db.auditEntries(afterID: 0, limit: 100_000).filter { try keep($0, db) }.map { String($0.id) }
            }
        }

        private func package(of record: AuditRecord, db: StoreReader) throws -> String? {
            switch record.entry.subjectKind {
            case "request": try db.request(id: record.entry.subjectID)?.packageID
            case "assignment": try db.assignment(id: record.entry.subjectID)?.packageID
            default: nil
            }
        }

        @Test func everyEntryInOrderWithItsFields() throws {
            let bench = try firstWeek()
            let rows = try csv(bench)
            let all = try bench.store.read { try $0.auditEntries(afterID: 0, limit: 100_000) }
            #expect(rows.count == all.count)
            #expect(rows.map { $0["id"]! } == all.map { String($0.id) })
            let ended = try #require(rows.first { $0["action"] == "ended" })
            #expect(ended == [
                "id": ended["id"]!, "at": ts(day(5)), "actor": megan, "subject_kind": "assignment", "subject_id": "a-lee",
                "action": "ended", "before": "delivered", "after": "expired", "reason": "Moved to another team, see HR-42",
            ])
            // The hostile reason comes back neutralized, whole, line break included.
            let canceled = try #require(rows.first { $0["action"] == "canceled" })
            #expect(canceled["reason"] == "'" + hostileReason)
            #expect(canceled["subject_id"] == "r-kim")
            // Pages of two give the same export.
            #expect(try csv(bench, pageSize: 2) == rows)
        }

        @Test func byPackageKeepsEntriesAboutItsRequestsAndAssignments() throws {
            let bench = try firstWeek()
            let rows = try csv(bench, AuditFilter(packageID: contractorPackage))
            #expect(rows.map { $0["id"]! } == (try expected(bench) { try package(of: $0, db: $1) == contractorPackage }))
            #expect(Set(rows.map { $0["subject_id"]! }) == ["r-sam", "r-alex2", "r-kim"])

            // An assignment's own entries count too: Lee's removal, on the assignment and its request.
            let internalRows = try csv(bench, AuditFilter(packageID: internalPackage))
            #expect(internalRows.contains { $0["subject_kind"] == "assignment" && $0["subject_id"] == "a-lee" && $0["action"] == "ended" })
            #expect(internalRows.contains { $0["action"] == "removed" })
            #expect(internalRows.map { $0["id"]! } == (try expected(bench) { try package(of: $0, db: $1) == internalPackage }))
            #expect(try csv(bench, AuditFilter(packageID: "nothing")).isEmpty)
        }

        @Test func byPersonKeepsWhatTheyDidAndWhatWasDoneAboutThem() throws {
            let bench = try firstWeek()
            // Lee: their submission (actor), the removal Megan did (their assignment, their remove request).
            let removal = try #require(try bench.store.read { try $0.requests(of: lee) }.first { $0.kind == .remove })
            let leeRows = try csv(bench, AuditFilter(person: "LEE@contoso.example"))
            #expect(leeRows.map { "\($0["actor"]!) \($0["action"]!) \($0["subject_id"]!)" }.filter { !$0.hasPrefix("system") } == [
                "\(lee) submitted add-a-lee", "\(megan) ended a-lee", "\(megan) removed \(removal.id)",
            ])
            #expect(leeRows.allSatisfy { $0["subject_id"] != "add-a-allan" })

            // Alex: their requests' entries and the person entry that made them a governed guest.
            let alexRows = try csv(bench, AuditFilter(person: alex))
            #expect(alexRows.contains { $0["subject_kind"] == "person" && $0["action"] == "governedGuest" })
            #expect(Set(alexRows.map { $0["subject_id"]! }) == ["r-alex", "r-alex2", alex] as Set)
            let alexIDs = try expected(bench) { record, db in
                let e = record.entry
                let requestor = e.subjectKind == "request" ? try db.request(id: e.subjectID)?.requestorEmail : nil
                let holder = e.subjectKind == "assignment" ? try db.assignment(id: e.subjectID)?.email : nil
                return e.actor == alex || (e.subjectKind == "person" && e.subjectID == alex) || requestor == alex || holder == alex
            }
            #expect(alexRows.map { $0["id"]! } == alexIDs)

            // Adele: the approver, as actor only.
            let adeleRows = try csv(bench, AuditFilter(person: adele))
            #expect(adeleRows.map { "\($0["action"]!) \($0["subject_id"]!)" } == ["approved r-alex", "approved r-sam", "approved r-alex2"])
        }

        @Test func byTimeKeepsFromSinceUpToButNotIncludingUntil() throws {
            let bench = try firstWeek()
            let rows = try csv(bench, AuditFilter(since: day(2), until: day(3)))
            #expect(!rows.isEmpty)
            #expect(rows.allSatisfy { $0["at"] == ts(day(2)) })
            #expect(Set(rows.map { $0["action"]! }).isSuperset(of: ["approved", "delivered", "governedGuest", "proposed"]))
            #expect(rows.map { $0["id"]! } == (try expected(bench) { r, _ in r.entry.at >= day(2) && r.entry.at < day(3) }))
            #expect(try csv(bench, AuditFilter(since: day(8))).isEmpty)

            // Filters combine: Sam's entries on day 2 only.
            let combined = try csv(bench, AuditFilter(since: day(2), packageID: contractorPackage, person: sam))
            #expect(Set(combined.map { $0["subject_id"]! }) == ["r-sam"])
            #expect(combined.allSatisfy { $0["at"] == ts(day(2)) })
        }

        @Test func jsonLinesParseBackOneObjectPerEntry() throws {
            let bench = try firstWeek()
            let text = try bench.text { try Reports(site: bench.site, pageSize: 3).auditJSONLines(db: $0) }
            #expect(text.hasSuffix("\n"))
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            let all = try bench.store.read { try $0.auditEntries(afterID: 0, limit: 100_000) }
            #expect(lines.count == all.count)
            let objects = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
            #expect(objects.allSatisfy { Set($0.keys) == Set(Reports.auditColumns) })
            #expect(objects.map { ($0["id"] as? NSNumber)?.int64Value } == all.map { Optional($0.id) })
            let canceled = try #require(objects.first { $0["action"] as? String == "canceled" })
            #expect(canceled["reason"] as? String == hostileReason)  // JSON keeps the text as it is
            #expect(canceled["actor"] as? String == kim)
            #expect(canceled["at"] as? String == ts(day(7)))
            let stageStarted = try #require(objects.first { $0["action"] as? String == "stageStarted" })
            #expect(stageStarted["after"] as? String == "pendingApproval stage 1")
            let submitted = try #require(objects.first { $0["action"] as? String == "submitted" })
            #expect(submitted["before"] is NSNull)

            // The same filter as the CSV keeps the same entries.
            let filtered = try bench.text { try bench.reports.auditJSONLines(filter: AuditFilter(person: sam), db: $0) }
            let csvIDs = try csv(bench, AuditFilter(person: sam)).map { $0["id"]! }
            #expect(filtered.split(separator: "\n").map {
                String((try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["id"] as? Int ?? -1)
            } == csvIDs)
        }
    }
}
