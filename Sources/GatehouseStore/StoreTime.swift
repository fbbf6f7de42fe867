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

    /// The stored text (what ``databaseValue`` holds).
    var text: String {
        guard let milliseconds = Self.milliseconds(date) else { return String.fromDatabaseValue(date.databaseValue) ?? "" }
        return Self.text(milliseconds)
    }

    static func fromDatabaseValue(_ dbValue: DatabaseValue) -> StoreTime? {
        date(dbValue).map(StoreTime.init)
    }

    /// The date GRDB decodes from `dbValue`, bit for bit, without its `Calendar`: text in the
    /// store's own format between 1970 and 9999 is read with integer arithmetic, anything else
    /// goes to GRDB. (GRDB hands the parsed fields to Foundation's `Calendar.date(from:)`, an ICU
    /// calendar behind a lock: a tenth of a history page's CPU time, three dates per row.)
    static func date(_ dbValue: DatabaseValue) -> Date? {
        if case .string(var text) = dbValue.storage,
           let fast = text.withUTF8({ Self.date(fromStored: $0) }) {
            return fast
        }
        return Date.fromDatabaseValue(dbValue)
    }

    /// `YYYY-MM-DD HH:MM:SS.SSS` from 1970 to 9999, computed as swift-foundation's Gregorian
    /// `date(from:)` does for UTC (Julian day at noon, back 12 hours, plus the seconds of the day
    /// summed hour, minute, second, nanosecond in doubles), so the result is the same `Date`.
    /// Nil for any other text.
    static func date(fromStored text: UnsafeBufferPointer<UInt8>) -> Date? {
        guard text.count == 23, text[4] == UInt8(ascii: "-"), text[7] == UInt8(ascii: "-"), text[10] == UInt8(ascii: " "),
              text[13] == UInt8(ascii: ":"), text[16] == UInt8(ascii: ":"), text[19] == UInt8(ascii: ".")
        else { return nil }
        func number(_ start: Int, _ count: Int) -> Int? {
            var value = 0
            for index in start..<(start + count) {
                let digit = Int(text[index]) - 0x30
                guard (0...9).contains(digit) else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
              let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2),
              let millisecond = number(20, 3),
              (1970...9999).contains(year), (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
              hour < 24, minute < 60, second < 60
        else { return nil }
        let julianDay = days(fromCivilYear: year, month: month, day: day) + 2_440_588
        var secondsInDay = 0.0
        secondsInDay += Double(hour) * 3600.0
        secondsInDay += Double(minute) * 60.0
        secondsInDay += Double(second)
        secondsInDay += Double(millisecond * 1_000_000) / 1_000_000_000
        return Date(timeIntervalSinceReferenceDate: ((Double(julianDay) - 2_451_910.5) * 86400 - 43200) + secondsInDay)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    private static func days(fromCivilYear year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = y / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * ((month + 9) % 12) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
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

extension Row {
    /// The non-NULL date in column `index`, decoded as GRDB would (see ``StoreTime/date(_:)``).
    func date(_ index: Int) -> Date {
        guard let date = StoreTime.date(self[index] as DatabaseValue) else {
            fatalError("column \(index) does not hold a date: \(self[index] as DatabaseValue)")
        }
        return date
    }

    /// The date in column `index`, nil for NULL.
    func optionalDate(_ index: Int) -> Date? {
        let value: DatabaseValue = self[index]
        return value.isNull ? nil : date(index)
    }

    /// The non-NULL date in column `name`.
    func date(_ name: String) -> Date {
        guard let date = StoreTime.date(self[name] as DatabaseValue? ?? .null) else {
            fatalError("column \(name) does not hold a date")
        }
        return date
    }

    /// The date in column `name`, nil for NULL.
    func optionalDate(_ name: String) -> Date? {
        let value: DatabaseValue = self[name] ?? .null
        return value.isNull ? nil : StoreTime.date(value)
    }
}
