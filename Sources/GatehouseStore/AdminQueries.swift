internal import Foundation
internal import GRDB

// The reads of the admin pages: a catalog's live assignments and open requests, package by package.
extension StoreReader {
    /// The live assignments (any state but `expired`) of one package, latest start first, at most `limit`.
    public func liveAssignments(packageID: String, limit: Int) throws -> [AssignmentRecord] {
        try Row.fetchAll(
            db.cachedStatement(sql: """
                SELECT * FROM assignment WHERE package_id = ? AND state != 'expired'
                ORDER BY starts_at DESC, id LIMIT ?
                """),
            arguments: [packageID, limit]
        ).map(AssignmentRecord.init(row:))
    }

    /// The requests of one package that wait for a decision (`submitted` or `pendingApproval`),
    /// oldest first, at most `limit`. The state test is written as the partial index
    /// `request_waiting_by_package` writes it: SQLite uses that index only for the same expression.
    public func pendingRequests(packageID: String, limit: Int) throws -> [RequestRecord] {
        try Row.fetchAll(
            db.cachedStatement(sql: """
                SELECT * FROM request WHERE package_id = ? AND (state = 'submitted' OR state = 'pendingApproval')
                ORDER BY created_at, id LIMIT ?
                """),
            arguments: [packageID, limit]
        ).map(RequestRecord.init(row:))
    }
}
