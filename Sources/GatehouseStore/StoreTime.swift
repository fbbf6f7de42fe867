internal import Foundation
internal import GRDB

/// A `Date` bound to SQL as the same text GRDB writes for it (`YYYY-MM-DD HH:MM:SS.SSS`, UTC),
/// made with integer arithmetic.
///
/// GRDB formats every `Date` argument with one shared `DateFormatter`, through ICU and a lock:
/// about 15% of the store's writer thread under load. The text must stay byte-identical to
/// GRDB's, because times are compared as text in SQL against values GRDB wrote earlier.
struct StoreTime: DatabaseValueConvertible {
    let date: Date

    init(_ date: Date) { self.date = date }

    var databaseValue: DatabaseValue {
        guard let milliseconds = Self.milliseconds(date) else { return date.databaseValue }
        return Self.text(milliseconds).databaseValue
    }

    static func fromDatabaseValue(_ dbValue: DatabaseValue) -> StoreTime? {
        Date.fromDatabaseValue(dbValue).map(StoreTime.init)
    }

    /// Milliseconds since 1970 as Foundation hands them to ICU, which floors them: CoreFoundation
    /// passes `(timeIntervalSinceReferenceDate + 978307200) * 1000 + 0.5`, so the text rounds to
    /// the nearest millisecond (half up), carrying into the second, day and year.
    ///
    /// Nil outside 1970 ..< 10000, where the text would need a sign, a fifth year digit or ICU's
    /// Julian calendar: GRDB formats those few itself.
    private static func milliseconds(_ date: Date) -> Int64? {
        let icu = (date.timeIntervalSinceReferenceDate + 978_307_200) * 1000.0 + 0.5
        guard icu >= 0, icu < year10000 else { return nil }
        return Int64(icu)
    }

    /// 10000-01-01 00:00:00 UTC, in milliseconds since 1970.
    private static let year10000: Double = 253_402_300_800_000

    /// `YYYY-MM-DD HH:MM:SS.SSS` for a non-negative count of milliseconds since 1970 before year 10000.
    private static func text(_ milliseconds: Int64) -> String {
        let (days, millisecondOfDay) = milliseconds.quotientAndRemainder(dividingBy: 86_400_000)
        let (year, month, day) = civil(fromDays: Int(days))
        let ms = Int(millisecondOfDay)
        return String(unsafeUninitializedCapacity: 23) { buffer in
            func put(_ value: Int, digits: Int, at end: Int) {
                var value = value
                for index in stride(from: end - 1, through: end - digits, by: -1) {
                    buffer[index] = UInt8(truncatingIfNeeded: 0x30 + value % 10)
                    value /= 10
                }
            }
            put(year, digits: 4, at: 4)
            buffer[4] = UInt8(ascii: "-")
            put(month, digits: 2, at: 7)
            buffer[7] = UInt8(ascii: "-")
            put(day, digits: 2, at: 10)
            buffer[10] = UInt8(ascii: " ")
            put(ms / 3_600_000, digits: 2, at: 13)
            buffer[13] = UInt8(ascii: ":")
            put(ms / 60_000 % 60, digits: 2, at: 16)
            buffer[16] = UInt8(ascii: ":")
            put(ms / 1000 % 60, digits: 2, at: 19)
            buffer[19] = UInt8(ascii: ".")
            put(ms % 1000, digits: 3, at: 23)
            return 23
        }
    }

    /// The proleptic Gregorian date of a non-negative day count since 1970-01-01 (Howard Hinnant's
    /// `civil_from_days`, with eras of 400 years counted from 0000-03-01).
    private static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = z / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153  // 0 is March
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }
}

extension Date {
    /// This instant as a SQL argument, without GRDB's `DateFormatter`: see ``StoreTime``.
    var stored: StoreTime { StoreTime(self) }
}
