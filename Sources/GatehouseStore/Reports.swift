public import Foundation
internal import GRDB

// The reads behind the reports and the audit export (PRODUCT.md section 11). Every list is read in
// pages along an index, so an export of millions of rows never holds more than one page: run the
// pages of one export inside one `Store.read` for a consistent snapshot.

// MARK: - Assignments

/// Where a page of ``StoreReader/assignmentPage(packageID:after:limit:)`` stopped; opaque.
public struct AssignmentCursor: Sendable, Hashable {
    let state: AssignmentState
    let rowID: Int64
}

/// One page of a package's assignments, and where the next one starts (nil: there is no more).
public struct AssignmentPage: Sendable, Hashable {
    public var assignments: [AssignmentRecord]
    public var next: AssignmentCursor?
}

extension StoreReader {
    /// The assignments of `packageID`, live ones first: by state in the order of
    /// `AssignmentState.allCases` (delivering … expired), then in the order they were made.
    /// Each page is a range of the `(package_id, state)` index; pass `next` back for the following page.
    public func assignmentPage(packageID: String, after cursor: AssignmentCursor? = nil, limit: Int = 500) throws
        -> AssignmentPage
    {
        let states = AssignmentState.allCases
        var stateIndex = cursor.flatMap { states.firstIndex(of: $0.state) } ?? 0
        var rowID = cursor?.rowID ?? 0
        var page: [AssignmentRecord] = []
        var last: AssignmentCursor?
        let statement = try db.cachedStatement(sql: """
            SELECT rowid AS report_rowid, * FROM assignment
            WHERE package_id = ? AND state = ? AND rowid > ?
            ORDER BY rowid LIMIT ?
            """)
        while page.count < limit, stateIndex < states.count {
            let rows = try Row.fetchAll(
                statement, arguments: [packageID, states[stateIndex].rawValue, rowID, limit - page.count])
            for row in rows {
                page.append(try AssignmentRecord(row: row))
                last = AssignmentCursor(state: states[stateIndex], rowID: row["report_rowid"])
            }
            if page.count < limit {
                stateIndex += 1
                rowID = 0
            }
        }
        return AssignmentPage(assignments: page, next: page.count == limit ? last : nil)
    }

    /// Whether any request, of any kind or state, names `packageID` (a package the model may no longer have).
    /// Requests have no index by package (see `Schema.v9`): an assignment or a waiting request
    /// answers at once, otherwise every request is read, which the rare question can afford.
    public func hasRequests(packageID: String) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(sql: """
                SELECT EXISTS (SELECT 1 FROM assignment WHERE package_id = ?1)
                    OR EXISTS (SELECT 1 FROM request WHERE package_id = ?1 AND (state = 'submitted' OR state = 'pendingApproval'))
                    OR EXISTS (SELECT 1 FROM request WHERE package_id = ?1)
                """),
            arguments: [packageID]) ?? false
    }
}

// MARK: - Audit

/// Which audit entries an export keeps; every filter given must match.
public struct AuditFilter: Sendable, Hashable {
    /// Entries at or after this instant.
    public var since: Date?
    /// Entries strictly before this instant.
    public var until: Date?
    /// Entries about a request or an assignment of this package.
    public var packageID: String?
    /// Entries by this person (actor), about them (person subject), about a request they made, or
    /// about an assignment they hold.
    public var person: String?

    public init(since: Date? = nil, until: Date? = nil, packageID: String? = nil, person: String? = nil) {
        self.since = since
        self.until = until
        self.packageID = packageID
        self.person = person
    }
}

extension StoreReader {
    /// The entries matching `filter` after entry `afterID` (0: from the start), in log order, at most
    /// `limit`: pass the last id back for the next page. Walks the log by id, looking up each
    /// entry's request or assignment by its key, so a page costs the entries it passes over.
    public func auditEntries(matching filter: AuditFilter, afterID: Int64 = 0, limit: Int = 1000) throws
        -> [AuditRecord]
    {
        try Row.fetchAll(
            db.cachedStatement(sql: """
                SELECT a.* FROM audit a
                WHERE a.id > :after
                    AND (:since IS NULL OR a.at >= :since)
                    AND (:until IS NULL OR a.at < :until)
                    AND (:package IS NULL
                        OR (a.subject_kind = 'request' AND EXISTS (
                            SELECT 1 FROM request r WHERE r.id = a.subject_id AND r.package_id = :package))
                        OR (a.subject_kind = 'assignment' AND EXISTS (
                            SELECT 1 FROM assignment s WHERE s.id = a.subject_id AND s.package_id = :package)))
                    AND (:person IS NULL
                        OR a.actor = :person
                        OR (a.subject_kind = 'person' AND a.subject_id = :person)
                        OR (a.subject_kind = 'request' AND EXISTS (
                            SELECT 1 FROM request r WHERE r.id = a.subject_id AND r.requestor_email = :person))
                        OR (a.subject_kind = 'assignment' AND EXISTS (
                            SELECT 1 FROM assignment s WHERE s.id = a.subject_id AND s.email = :person)))
                ORDER BY a.id LIMIT :limit
                """),
            arguments: [
                "after": afterID, "since": filter.since?.stored, "until": filter.until?.stored,
                "package": filter.packageID, "person": filter.person.map(normalized), "limit": limit,
            ]
        ).map(AuditRecord.init(row:))
    }
}

// MARK: - Proposed organizations

/// A proposed organization with the person whose approved request proposed it.
public struct ProposedOrganizationReportRow: Sendable, Hashable {
    public var organization: ProposedOrganizationRecord
    /// The requestor of the first approved request from the domain; nil if that request is gone.
    public var firstRequestor: String?
}

extension StoreReader {
    /// The organizations Gatehouse proposed, by domain, with who brought each in. One row per domain
    /// that an external person from outside every connected organization was approved from: few rows.
    public func proposedOrganizationReport() throws -> [ProposedOrganizationReportRow] {
        try Row.fetchAll(
            db.cachedStatement(sql: """
                SELECT p.domain, p.first_request_id, p.created_at, r.requestor_email
                FROM proposed_organization p LEFT JOIN request r ON r.id = p.first_request_id
                ORDER BY p.domain
                """)
        ).map {
            ProposedOrganizationReportRow(
                organization: ProposedOrganizationRecord(
                    domain: $0["domain"], firstRequestID: $0["first_request_id"], createdAt: $0["created_at"]),
                firstRequestor: $0["requestor_email"])
        }
    }
}
