public import Foundation
public import GatehouseModel
public import GatehouseStore
internal import Governance

// MARK: - Formats

/// CSV as RFC 4180 writes it (CRLF line ends, fields quoted when they hold a comma, a quote, CR or
/// LF), made safe to open in a spreadsheet: a field that would start a formula gets a `'` first.
public enum CSV {
    /// Ends every record, the header included.
    public static let lineEnd = "\r\n"

    /// One field, neutralized and quoted as needed.
    public static func field(_ value: String) -> String {
        var text = value
        // Spreadsheets run a cell that starts with one of these as a formula (CSV injection).
        if let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) {
            text = "'" + text
        }
        // Scalars, not Characters: "\r\n" is one Character and would hide both.
        guard text.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" }) else {
            return text
        }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// One record with its line end; nil fields are empty.
    public static func record(_ fields: [String?]) -> String {
        fields.map { field($0 ?? "") }.joined(separator: ",") + lineEnd
    }
}

/// The audit export's two formats.
public enum AuditFormat: String, Sendable, Hashable, CaseIterable {
    /// One header line, then one record per entry.
    case csv
    /// One JSON object per line, keys as the CSV header names them, `null` for an absent value.
    case jsonl
}

/// Why a report cannot be made, worded for the person who asked for it.
public enum ReportError: Error, Sendable, Hashable, CustomStringConvertible {
    case unknownPackage(id: String)
    case unknownCatalog(id: String, known: [String])

    public var description: String {
        switch self {
        case .unknownPackage(let id):
            "there is no package '\(id)' in the site and no request for it in the database"
        case .unknownCatalog(let id, let known):
            "there is no catalog '\(id)' in the site" + (known.isEmpty ? "" : " (catalogs: \(known.joined(separator: ", ")))")
        }
    }
}

// MARK: - Reports

/// The reports of PRODUCT.md section 11 as bytes, for the command line and the admin pages alike.
/// Pure over a `StoreReader`: run a report inside one `Store.read` so it reads one snapshot.
/// ``writeAssignmentsCSV(packageIDs:db:to:)`` and ``AuditExport`` hand over one page of text at a
/// time, so an export of any size streams.
public struct Reports: Sendable {
    public let site: Site
    /// Rows read from the store at a time.
    public let pageSize: Int

    public init(site: Site, pageSize: Int = 500) {
        self.site = site
        self.pageSize = max(1, pageSize)
    }

    /// Instants as ISO 8601 in UTC with milliseconds, the store's precision: `2028-03-01T08:00:00.000Z`.
    public static func timestamp(_ instant: Date) -> String {
        instant.formatted(timestampStyle)
    }

    private static let timestampStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    // MARK: Assignments

    /// The header of the assignments CSV.
    public static let assignmentColumns = [
        "email", "package", "policy", "state", "starts_at", "ends_at", "ended_at", "end_reason", "request_id",
        "assignment_id",
    ]

    /// The assignments of one package as CSV: live ones first, then ended ones (see
    /// `StoreReader.assignmentPage`). A package the model no longer has is reported while the
    /// store has requests for it.
    public func assignmentsCSV(package: String, db: StoreReader) throws -> [UInt8] {
        try collect { try writeAssignmentsCSV(packageIDs: packageIDs(package: package, db: db), db: db, to: $0) }
    }

    /// The assignments of every package of a catalog as CSV, package by package in id order.
    public func assignmentsCSV(catalog: String, db: StoreReader) throws -> [UInt8] {
        try collect { try writeAssignmentsCSV(packageIDs: packageIDs(catalog: catalog), db: db, to: $0) }
    }

    /// `[package]` when the model or the store knows it; otherwise ``ReportError/unknownPackage(id:)``.
    public func packageIDs(package: String, db: StoreReader) throws -> [String] {
        guard try site.package(package) != nil || db.hasRequests(packageID: package) else {
            throw ReportError.unknownPackage(id: package)
        }
        return [package]
    }

    /// The ids of the catalog's packages in the model, sorted; ``ReportError/unknownCatalog(id:known:)`` if none such.
    public func packageIDs(catalog: String) throws -> [String] {
        guard site.catalog(catalog) != nil else {
            throw ReportError.unknownCatalog(id: catalog, known: site.catalogs.map(\.id))
        }
        return site.packages.filter { $0.catalog == catalog }.map(\.id).sorted()
    }

    /// Writes the header, then the assignments of each package in turn, one page per call of `sink`.
    public func writeAssignmentsCSV(packageIDs: [String], db: StoreReader, to sink: (String) throws -> Void) throws {
        try sink(CSV.record(Self.assignmentColumns))
        for packageID in packageIDs {
            var cursor: AssignmentCursor?
            repeat {
                let page = try db.assignmentPage(packageID: packageID, after: cursor, limit: pageSize)
                if !page.assignments.isEmpty {
                    try sink(page.assignments.map { a in
                        CSV.record([
                            a.email, a.packageID, a.policyID, a.state.rawValue, Self.timestamp(a.startsAt),
                            a.endsAt.map(Self.timestamp), a.endedAt.map(Self.timestamp), a.endReason, a.requestID, a.id,
                        ])
                    }.joined())
                }
                cursor = page.next
            } while cursor != nil
        }
    }

    // MARK: Audit

    /// The header of the audit CSV, and the keys of each JSON Lines object.
    public static var auditColumns: [String] { AuditExport.columns }

    /// The audit entries matching `filter`, oldest first, as CSV.
    public func auditCSV(filter: AuditFilter = AuditFilter(), db: StoreReader) throws -> [UInt8] {
        try collect { try AuditExport(pageSize: pageSize).write(.csv, filter: filter, db: db, to: $0) }
    }

    /// The audit entries matching `filter`, oldest first, as JSON Lines.
    public func auditJSONLines(filter: AuditFilter = AuditFilter(), db: StoreReader) throws -> [UInt8] {
        try collect { try AuditExport(pageSize: pageSize).write(.jsonl, filter: filter, db: db, to: $0) }
    }

    // MARK: Organizations

    /// The header of the organizations CSV.
    public static let organizationColumns = [
        "id", "name", "state", "domains", "internal_sponsors", "external_sponsors", "source", "proposed_at",
        "first_request_id", "first_requestor",
    ]

    /// Connected organizations as CSV: those declared in `site/organizations/` (source `site`), then
    /// those Gatehouse proposed on approval whose domain no declared one has (source `gatehouse`,
    /// named by their domain). A declared one that was proposed first keeps when and by whom.
    public func organizationsCSV(db: StoreReader) throws -> [UInt8] {
        let proposed = try db.proposedOrganizationReport()
        var declaredDomains: Set<String> = []
        var text = CSV.record(Self.organizationColumns)
        for org in site.organizations {
            let domains = org.domains.map { $0.lowercased() }
            declaredDomains.formUnion(domains)
            let origin = proposed.filter { domains.contains($0.organization.domain) }
                .min { $0.organization.createdAt < $1.organization.createdAt }
            text += CSV.record([
                org.id, org.name, org.state.rawValue, org.domains.joined(separator: " "),
                org.internalSponsors.joined(separator: " "), org.externalSponsors.joined(separator: " "), "site",
                origin.map { Self.timestamp($0.organization.createdAt) }, origin?.organization.firstRequestID,
                origin?.firstRequestor,
            ])
        }
        for row in proposed where !declaredDomains.contains(row.organization.domain) {
            let o = row.organization
            text += CSV.record([
                "", o.domain, Organization.State.proposed.rawValue, o.domain, "", "", "gatehouse", Self.timestamp(o.createdAt),
                o.firstRequestID, row.firstRequestor,
            ])
        }
        return Array(text.utf8)
    }

    // MARK: A person

    /// What `email` may request now (per package, the policies that include them) and what they hold
    /// (live assignments, with the package that grants each resource role).
    public func personReport(email: String, db: StoreReader) throws -> PersonReport {
        let email = email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let stored = try db.person(email: email)
        let requestor = Requestor(
            email: email, in: site, isGuest: stored?.isGovernedGuest ?? false, isBlocked: stored?.isBlocked ?? false)
        let eligibility = Eligibility(site: site)
        let held = try db.heldPackageIDs(of: email)
        let open = try db.requestedPackageIDs(of: email, in: Self.openStates)

        var canRequest: [PersonReport.Requestable] = []
        for package in site.packages {
            for policy in eligibility.requestPolicies(package, for: requestor) {
                let blocks = eligibility.blocks(
                    requesting: package, through: policy.id, by: requestor, holding: held, openRequests: open)
                canRequest.append(PersonReport.Requestable(
                    packageID: package.id, packageName: package.name, catalogID: package.catalog, hidden: package.hidden,
                    policyID: policy.id, policyName: policy.name, approvalStages: policy.approvalStages.count,
                    blockedBy: blocks.map(Self.label)))
            }
        }

        let roles = try db.roles(of: email)
        let holds = try db.activeAssignments(of: email).map { a in
            PersonReport.Holding(
                assignment: a, packageName: site.package(a.packageID)?.name ?? a.packageID,
                roles: roles.filter { $0.assignmentID == a.id }.map {
                    PersonReport.RoleRef(
                        resourceID: $0.resourceID, resourceName: resourceName($0.resourceID, packageID: a.packageID),
                        role: $0.role)
                })
        }
        var union: [PersonReport.ResourceRole] = []
        for r in roles {  // sorted by resource, role, package
            if let last = union.last, last.resourceID == r.resourceID, last.role == r.role {
                if !last.packageIDs.contains(r.packageID) { union[union.count - 1].packageIDs.append(r.packageID) }
            } else {
                union.append(PersonReport.ResourceRole(
                    resourceID: r.resourceID, resourceName: resourceName(r.resourceID, packageID: r.packageID), role: r.role,
                    packageIDs: [r.packageID]))
            }
        }

        return PersonReport(
            email: email, name: site.directory.person(email)?.name ?? stored?.displayName,
            isInternal: requestor.isInternal, organizationID: requestor.organization?.id,
            organizationName: requestor.organization?.name, hasSignedIn: stored != nil,
            governedGuestSince: stored?.governedGuestSince, blockedReason: stored?.blockedReason,
            canRequest: canRequest, holds: holds, roles: union)
    }

    /// The request states that block a new request for the same package (as the handler counts them).
    static let openStates: Set<RequestState> = [.submitted, .pendingApproval, .approved, .scheduled, .delivering]

    /// A block in the third person, for an administrator reading about someone else.
    static func label(_ block: RequestBlock) -> String {
        switch block {
        case .blocked: "account blocked"
        case .openRequest: "open request"
        case .alreadyAssigned: "already assigned"
        case .incompatiblePackage(_, let holding): "separation of duties: holds \(holding)"
        case .incompatibleGroup(_, let group): "separation of duties: member of \(group)"
        case .catalogDisabled: "catalog turned off"
        case .catalogClosedToExternalUsers(_, let catalog): "catalog \(catalog) is for members only"
        case .unknownPolicy: "unknown policy"
        case .policyClosed: "policy closed"
        case .notInScope: "not in the policy's scope"
        }
    }

    private func resourceName(_ resourceID: String, packageID: String) -> String? {
        let catalog = site.package(packageID).flatMap { site.catalog($0.catalog) }
        return (catalog?.resource(resourceID) ?? site.catalogs.lazy.compactMap { $0.resource(resourceID) }.first)?.name
    }

    // MARK: Helpers

    private func collect(_ write: ((String) throws -> Void) throws -> Void) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try write { bytes.append(contentsOf: $0.utf8) }
        return bytes
    }

    /// `object` as JSON with sorted keys and unescaped slashes, compact or indented.
    static func json(_ object: Any, pretty: Bool) throws -> String {
        var options: JSONSerialization.WritingOptions = [.sortedKeys, .withoutEscapingSlashes]
        if pretty { options.insert(.prettyPrinted) }
        return String(decoding: try JSONSerialization.data(withJSONObject: object, options: options), as: UTF8.self)
    }
}

// MARK: - The audit export

/// The audit log (PRODUCT.md section 11) as CSV or JSON Lines, streamed in pages of `pageSize`
/// entries. Needs no model: packages and people gone from it keep their history.
public struct AuditExport: Sendable {
    /// Entries read from the store at a time.
    public let pageSize: Int

    public init(pageSize: Int = 500) {
        self.pageSize = max(1, pageSize)
    }

    /// The CSV header, and the keys of each JSON Lines object.
    public static let columns = [
        "id", "at", "actor", "subject_kind", "subject_id", "action", "before", "after", "reason",
    ]

    /// Writes the entries matching `filter`, oldest first, in `format`, one page per call of `sink`
    /// (the CSV header first, even when nothing matches).
    public func write(_ format: AuditFormat, filter: AuditFilter, db: StoreReader, to sink: (String) throws -> Void)
        throws
    {
        if format == .csv { try sink(CSV.record(Self.columns)) }
        var after: Int64 = 0
        while true {
            let page = try db.auditEntries(matching: filter, afterID: after, limit: pageSize)
            guard let last = page.last else { return }
            switch format {
            case .csv:
                try sink(page.map { r in
                    let e = r.entry
                    return CSV.record([
                        String(r.id), Reports.timestamp(e.at), e.actor, e.subjectKind, e.subjectID, e.action, e.before,
                        e.after, e.reason,
                    ])
                }.joined())
            case .jsonl:
                try sink(try page.map { try Self.jsonLine($0) }.joined())
            }
            if page.count < pageSize { return }
            after = last.id
        }
    }

    /// One entry as a compact JSON object and a line feed (JSON escapes every line break inside a string).
    static func jsonLine(_ record: AuditRecord) throws -> String {
        let e = record.entry
        let object: [String: Any] = [
            "id": record.id, "at": Reports.timestamp(e.at), "actor": e.actor, "subject_kind": e.subjectKind,
            "subject_id": e.subjectID, "action": e.action, "before": e.before ?? NSNull(), "after": e.after ?? NSNull(),
            "reason": e.reason ?? NSNull(),
        ]
        return try Reports.json(object, pretty: false) + "\n"
    }
}

// MARK: - The person report

/// What one person may request and holds, for `gatehouse report person` and the admin pages.
public struct PersonReport: Sendable, Hashable {
    /// One policy a package may be requested through by the person.
    public struct Requestable: Sendable, Hashable {
        public var packageID: String
        public var packageName: String
        public var catalogID: String
        /// Requestable by its link only.
        public var hidden: Bool
        public var policyID: String
        public var policyName: String
        /// 0: delivered at once.
        public var approvalStages: Int
        /// What stops a request right now (already assigned, open request, separation of duties, blocked
        /// account); empty when the person may request it.
        public var blockedBy: [String]

        public var requiresApproval: Bool { approvalStages > 0 }
    }

    /// A resource role, named.
    public struct RoleRef: Sendable, Hashable {
        public var resourceID: String
        /// Nil when the model no longer has the resource.
        public var resourceName: String?
        public var role: String
    }

    /// A live assignment with the roles it grants now (none before a scheduled start).
    public struct Holding: Sendable, Hashable {
        public var assignment: AssignmentRecord
        public var packageName: String
        public var roles: [RoleRef]
    }

    /// A role the person holds, with every package that grants it: the role stays while any does.
    public struct ResourceRole: Sendable, Hashable {
        public var resourceID: String
        public var resourceName: String?
        public var role: String
        public var packageIDs: [String]
    }

    public var email: String
    /// The directory's name, or the one given at sign-in.
    public var name: String?
    public var isInternal: Bool
    /// The connected organization of an external person's domain.
    public var organizationID: String?
    public var organizationName: String?
    public var hasSignedIn: Bool
    public var governedGuestSince: Date?
    public var blockedReason: String?
    /// By package in model order.
    public var canRequest: [Requestable]
    /// Latest start first.
    public var holds: [Holding]
    /// By resource and role.
    public var roles: [ResourceRole]

    /// The report as one JSON object (snake_case keys, instants as ISO 8601 UTC), indented, with a final line feed.
    public func json() throws -> [UInt8] {
        let object: [String: Any] = [
            "email": email, "name": name ?? NSNull(), "internal": isInternal,
            "organization": organizationID ?? NSNull(), "organization_name": organizationName ?? NSNull(),
            "signed_in": hasSignedIn, "governed_guest_since": governedGuestSince.map(Reports.timestamp) ?? NSNull(),
            "blocked_reason": blockedReason ?? NSNull(),
            "can_request": canRequest.map { r -> [String: Any] in
                [
                    "package": r.packageID, "package_name": r.packageName, "catalog": r.catalogID, "hidden": r.hidden,
                    "policy": r.policyID, "policy_name": r.policyName, "approval_required": r.requiresApproval,
                    "approval_stages": r.approvalStages, "blocked_by": r.blockedBy,
                ]
            },
            "holds": holds.map { h -> [String: Any] in
                let a = h.assignment
                return [
                    "assignment": a.id, "package": a.packageID, "package_name": h.packageName, "policy": a.policyID,
                    "state": a.state.rawValue, "starts_at": Reports.timestamp(a.startsAt),
                    "ends_at": a.endsAt.map(Reports.timestamp) ?? NSNull(), "request": a.requestID,
                    "roles": h.roles.map { r -> [String: Any] in
                        ["resource": r.resourceID, "resource_name": r.resourceName ?? NSNull(), "role": r.role]
                    },
                ]
            },
            "roles": roles.map { r -> [String: Any] in
                [
                    "resource": r.resourceID, "resource_name": r.resourceName ?? NSNull(), "role": r.role,
                    "packages": r.packageIDs,
                ]
            },
        ]
        return Array((try Reports.json(object, pretty: true) + "\n").utf8)
    }

    /// The report as lines of text for a terminal.
    public var text: String {
        var who = [isInternal ? "internal" : "external"]
        if let name { who.insert(name, at: 0) }
        if let organizationID { who.append("of \(organizationName ?? organizationID) (\(organizationID))") }
        if !hasSignedIn { who.append("never signed in") }
        if let governedGuestSince { who.append("governed guest since \(Reports.timestamp(governedGuestSince))") }
        if let blockedReason { who.append("blocked" + (blockedReason.isEmpty ? "" : ": \(blockedReason)")) }
        var lines = ["\(email): " + who.joined(separator: ", ")]

        lines.append("Can request (\(canRequest.count)):")
        for r in canRequest {
            lines.append(
                "  \(r.packageID) “\(r.packageName)”\(r.hidden ? " (hidden)" : "") through \(r.policyID) “\(r.policyName)”: "
                    + (r.approvalStages == 0 ? "no approval" : "approval in \(r.approvalStages) stage\(r.approvalStages == 1 ? "" : "s")")
                    + (r.blockedBy.isEmpty ? "" : "; not now: " + r.blockedBy.joined(separator: ", ")))
        }
        if canRequest.isEmpty { lines.append("  nothing") }

        lines.append("Holds (\(holds.count)):")
        for h in holds {
            let a = h.assignment
            lines.append(
                "  \(a.packageID) “\(h.packageName)” through \(a.policyID): \(a.state.rawValue), from "
                    + Reports.timestamp(a.startsAt) + (a.endsAt.map { " until " + Reports.timestamp($0) } ?? ", no end")
                    + " (assignment \(a.id), request \(a.requestID))")
            if !h.roles.isEmpty {
                lines.append("    " + h.roles.map { "\($0.resourceID) \($0.role)" }.joined(separator: ", "))
            }
        }
        if holds.isEmpty { lines.append("  nothing") }

        lines.append("Resource roles (\(roles.count)):")
        for r in roles {
            lines.append("  \(r.resourceID) \(r.role) via " + r.packageIDs.joined(separator: ", "))
        }
        if roles.isEmpty { lines.append("  none") }
        return lines.joined(separator: "\n") + "\n"
    }
}
