import Foundation
import GRDB
import Testing
@testable import GatehouseStore

/// `StoreTime` must write exactly GRDB's text: stored times are compared as text in SQL.
@Suite struct StoreTimeTests {
    /// What GRDB binds for a `Date`: its shared `DateFormatter`, through ICU.
    private func grdbText(_ date: Date) -> String? { String.fromDatabaseValue(date.databaseValue) }

    private func fastText(_ date: Date) -> String? { String.fromDatabaseValue(date.stored.databaseValue) }

    /// 1970-01-01 00:00:00 UTC plus `seconds`.
    private func utc(_ seconds: Double) -> Date { Date(timeIntervalSince1970: seconds) }

    @Test func edgeInstantsHaveGRDBsText() {
        let cases: [(Date, String)] = [
            (utc(0), "1970-01-01 00:00:00.000"),
            (utc(1_709_164_800 + 45_296.789), "2024-02-29 12:34:56.789"),
            (utc(1_709_164_800 - 0.001), "2024-02-28 23:59:59.999"),
            (utc(951_868_800), "2000-03-01 00:00:00.000"),
            (utc(951_868_800 - 86_400), "2000-02-29 00:00:00.000"),
            (utc(946_684_800 - 0.001), "1999-12-31 23:59:59.999"),
            (utc(1_798_761_600 - 0.001), "2026-12-31 23:59:59.999"),
            (utc(4_107_542_400 - 86_400), "2100-02-28 00:00:00.000"),
            (utc(13_574_649_600 - 86_400), "2400-02-29 00:00:00.000"),
            (utc(2_147_483_648), "2038-01-19 03:14:08.000"),
            (utc(253_402_214_400 + 86_399.999), "9999-12-31 23:59:59.999"),
            // Foundation rounds to the nearest millisecond before ICU floors it: never a floor alone.
            (utc(946_684_800 - 0.0004), "2000-01-01 00:00:00.000"),
            (t0.addingTimeInterval(0.9996), "2027-01-15 08:00:01.000"),
        ]
        for (date, text) in cases {
            #expect(grdbText(date) == text)
            #expect(fastText(date) == text)
        }
    }

    @Test func halfMillisecondsRoundLikeGRDB() {
        let dates = [
            utc(0.0005), utc(0.0015), utc(86_399.9995), utc(1_709_164_800.0005),
            t0.addingTimeInterval(0.0005), t0.addingTimeInterval(0.000_499_9), t0.addingTimeInterval(0.0015),
            t0.addingTimeInterval(0.0025), t0.addingTimeInterval(0.9995),
        ]
        for date in dates {
            #expect(fastText(date) == grdbText(date), "\(date.timeIntervalSince1970)")
        }
    }

    /// Before 1970 and from year 10000 on, GRDB formats the date itself.
    @Test func datesOutsideTheFastRangeFallBackToGRDB() {
        let dates = [
            utc(-0.0004), utc(-1), utc(-3_155_760_000), utc(-12_219_292_800 - 864_000), utc(253_402_300_799.9996),
            utc(253_402_300_800),
        ]
        for date in dates {
            #expect(fastText(date) == grdbText(date), "\(date.timeIntervalSince1970)")
        }
    }

    @Test func randomInstantsFrom1970To2200HaveGRDBsText() {
        var random = SplitMix64(seed: 20_260_115)
        var mismatches: [String] = []
        for _ in 0..<200_000 {
            let second = Double(Int64.random(in: 0..<7_258_118_400, using: &random))  // up to 2200-01-01
            // Half of the fractions sit within a nanosecond of a half millisecond, where rounding decides.
            let fraction = random.next() % 2 == 0
                ? Double.random(in: 0..<1, using: &random)
                : (Double(Int.random(in: 0..<1000, using: &random)) + 0.5
                    + Double.random(in: -1e-6...1e-6, using: &random)) / 1000
            let date = utc(second + fraction)
            let fast = fastText(date)
            let grdb = grdbText(date)
            if fast != grdb, mismatches.count < 10 {
                mismatches.append("\(date.timeIntervalSince1970): \(fast ?? "nil") != \(grdb ?? "nil")")
            }
        }
        #expect(mismatches.isEmpty)
    }

    /// Reading must give GRDB's `Date` exactly: dates are compared and subtracted after reading.
    private func grdbDate(_ text: String) -> Date? { Date.fromDatabaseValue(text.databaseValue) }

    private func fastDate(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { StoreTime.date(fromStored: $0) }
    }

    @Test func storedTextReadsAsGRDBsDate() {
        var random = SplitMix64(seed: 20_261_123)
        var mismatches: [String] = []
        let edges: [Int64] = [0, 86_399_999, 951_868_800_000 - 1, 1_709_164_800_000, 253_402_300_799_999]
        let instants = edges + (0..<200_000).map { _ in Int64.random(in: 0..<253_402_300_800_000, using: &random) }
        for milliseconds in instants {
            let text = grdbText(Date(timeIntervalSince1970: Double(milliseconds) / 1000))!
            let fast = fastDate(text)
            if fast == nil || fast != grdbDate(text), mismatches.count < 10 {
                mismatches.append("\(text): \(fast.map { "\($0.timeIntervalSinceReferenceDate)" } ?? "nil") != \(grdbDate(text)!.timeIntervalSinceReferenceDate)")
            }
        }
        #expect(mismatches.isEmpty)
    }

    /// Other texts GRDB reads (other formats, impossible days, before 1970) are left to GRDB.
    @Test func otherTextsAreLeftToGRDB() {
        for text in ["2024-02-29 12:34:56", "2024-02-29T12:34:56.789", "2024-02-30 00:00:00.000", "2023-02-29 00:00:00.000",
                     "1969-12-31 23:59:59.999", "2024-13-01 00:00:00.000", "2024-02-29 24:00:00.000", "2024-02-29 12:34:56.7x9",
                     "2024-02-29", ""] {
            #expect(fastDate(text) == nil, "\(text)")
            #expect(StoreTime.date(text.databaseValue) == grdbDate(text), "\(text)")
        }
        #expect(fastDate("2024-02-29 00:00:00.000") != nil)
        #expect(StoreTime.date(DatabaseValue.null) == nil)
        #expect(StoreTime.date(1_700_000_000.5.databaseValue) == Date(timeIntervalSince1970: 1_700_000_000.5))
    }

    @Test func aRowWrittenWithStoreTimeIsFoundByAGRDBDateAndBack() throws {
        let folder = try TemporaryFolder()
        let due = t0.addingTimeInterval(0.0015)  // half a millisecond: both sides must round alike
        try Store(path: folder.databasePath).write { w in
            try w.insertRequest(sampleRequest(id: "fast"))
            try w.insertRequest(sampleRequest(id: "grdb"))
            try w.setNextCheck(requestID: "fast", at: due)
            try w.db.execute(sql: "UPDATE request SET next_check_at = ? WHERE id = 'grdb'", arguments: [due])
        }
        try Store(path: folder.databasePath).read { r in
            let texts = try String.fetchAll(r.db, sql: "SELECT next_check_at FROM request ORDER BY id")
            #expect(texts.count == 2 && texts[0] == texts[1])
            #expect(try String.fetchAll(
                r.db, sql: "SELECT id FROM request WHERE next_check_at = ? ORDER BY id", arguments: [due])
                == ["fast", "grdb"])
            #expect(try r.requestsDue(at: due, limit: 10) == ["fast", "grdb"])
            #expect(try r.requestsDue(at: due.addingTimeInterval(-0.001), limit: 10).isEmpty)
        }
    }
}

/// A seeded generator (SplitMix64), so a failure replays.
private struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
