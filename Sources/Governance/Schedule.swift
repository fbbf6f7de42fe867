public import Foundation
public import GatehouseModel

/// The tenant's time zone named in `tenant.yaml` is not one this system knows.
public struct UnknownTimeZone: Error, Sendable, Hashable, CustomStringConvertible {
    public var identifier: String

    public init(identifier: String) { self.identifier = identifier }

    public var description: String {
        "unknown time zone '\(identifier)': use an IANA name such as Europe/Paris or America/New_York"
    }
}

/// Days and instants in the tenant's time zone: the one place that turns a `CalendarDay` into a `Date` and back.
public struct TenantCalendar: Sendable {
    public let timeZone: TimeZone
    private let calendar: Calendar
    /// The zone's UTC offsets from 1970 to 2100, for the day and time of an instant without ICU.
    private let offsets: UTCOffsets

    /// Throws when `timeZoneIdentifier` (an IANA name) is unknown.
    public init(timeZoneIdentifier: String) throws(UnknownTimeZone) {
        guard let zone = TimeZone(identifier: timeZoneIdentifier) else {
            throw UnknownTimeZone(identifier: timeZoneIdentifier)
        }
        timeZone = zone
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        self.calendar = calendar
        offsets = UTCOffsets(zone: zone)
    }

    /// The first instant of `day` (midnight, or the first existing time where a DST change skips midnight).
    public func startOfDay(_ day: CalendarDay) -> Date {
        // Noon always exists; from there the calendar finds the day's real start.
        let noon = calendar.date(from: DateComponents(year: day.year, month: day.month, day: day.day, hour: 12))!
        return calendar.startOfDay(for: noon)
    }

    /// The exclusive end of `day`: the start of the next day. Access "until the end of 30 June" stops at this instant.
    public func endOfDay(_ day: CalendarDay) -> Date {
        startOfDay(day.adding(days: 1))
    }

    /// The tenant-zone day `instant` falls on.
    ///
    /// From the zone's offset table when the instant is in it: `Calendar` goes through ICU behind
    /// a process-wide lock, and a history page names two days a row.
    public func day(of instant: Date) -> CalendarDay {
        if let local = offsets.localSeconds(instant) {
            return CalendarDay(dayNumber: Int((local / 86400).rounded(.down)))
        }
        let parts = calendar.dateComponents([.year, .month, .day], from: instant)
        return CalendarDay(year: parts.year!, month: parts.month!, day: parts.day!)!
    }

    /// `days` calendar days later at the same wall-clock time, so a day across a DST change lasts 23 or 25 hours.
    public func adding(days: Int, to instant: Date) -> Date {
        calendar.date(byAdding: .day, value: days, to: instant)!
    }

    /// "30 June 2028": the tenant-zone day of `instant`, as pages and mail write it.
    public func longDate(_ instant: Date) -> String {
        day(of: instant).longDescription
    }

    /// "30 June 2028, 14:05": the tenant-zone day and 24-hour time of `instant`.
    public func longDateAndTime(_ instant: Date) -> String {
        let hour: Int, minute: Int
        if let local = offsets.localSeconds(instant) {
            let secondOfDay = Int(local - (local / 86400).rounded(.down) * 86400)
            (hour, minute) = (secondOfDay / 3600, secondOfDay / 60 % 60)
        } else {
            let parts = calendar.dateComponents([.hour, .minute], from: instant)
            (hour, minute) = (parts.hour!, parts.minute!)
        }
        return "\(longDate(instant)), \(hour):\(minute < 10 ? "0" : "")\(minute)"
    }

    /// How to write an exclusive end: "30 June 2028" (the last day with access) when it falls at the start of a
    /// day, otherwise the day and time access stops ("1 July 2028, 14:05").
    public func longEnd(_ end: Date) -> String {
        let day = day(of: end)
        guard startOfDay(day) == end else { return longDateAndTime(end) }
        return day.adding(days: -1).longDescription
    }
}

/// A time zone's UTC offset at every instant from 1970 to 2100, read once from the system's
/// time zone data (its transitions, daylight saving or not) and then looked up without ICU.
private final class UTCOffsets: Sendable {
    /// Seconds since 1970 at which `offsets[i]` starts applying; the first is 0.
    private let starts: [Double]
    private let offsets: [Double]
    /// The table ends here (2100-01-01); later instants are left to `Calendar`.
    private static let end: Double = 4_102_444_800

    init(zone: TimeZone) {
        var starts: [Double] = [0]
        var offsets: [Double] = [Double(zone.secondsFromGMT(for: Date(timeIntervalSince1970: 0)))]
        var instant = Date(timeIntervalSince1970: 0)
        while let next = zone.nextDaylightSavingTimeTransition(after: instant), next.timeIntervalSince1970 < Self.end {
            starts.append(next.timeIntervalSince1970)
            offsets.append(Double(zone.secondsFromGMT(for: next)))
            instant = next
        }
        self.starts = starts
        self.offsets = offsets
    }

    /// `instant` as seconds since 1970 on the zone's wall clock; nil outside the table.
    func localSeconds(_ instant: Date) -> Double? {
        let seconds = instant.timeIntervalSince1970
        guard seconds >= 0, seconds < Self.end else { return nil }
        var low = 0
        var high = starts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if starts[middle] <= seconds { low = middle } else { high = middle - 1 }
        }
        return seconds + offsets[low]
    }
}

/// When an assignment starts and ends. `end` is exclusive (access stops at that instant) and nil for no end.
public struct AssignmentSchedule: Sendable, Hashable {
    public var start: Date
    /// Never earlier than `start`.
    public var end: Date?

    public init(start: Date, end: Date?) {
        self.start = start
        self.end = end.map { max($0, start) }
    }

    /// The schedule of a newly approved assignment. The clock starts at approval, or at the start of the
    /// approved custom start day when that is later; the requested end day, if any, caps the policy's end.
    public init(expiration: Expiration, approvedAt: Date, requested: RequestedSchedule? = nil, calendar: TenantCalendar) {
        let start = requested?.start.map { max(approvedAt, calendar.startOfDay($0)) } ?? approvedAt
        let end = Self.end(of: expiration, from: start, calendar: calendar)
        self.init(start: start, end: Self.cap(end, at: requested?.end.map(calendar.endOfDay)))
    }

    /// Where `expiration` ends access that starts at `start`: the end of the onDate day (exclusive),
    /// N calendar days later at the same wall-clock time, N hours later, or nil for never.
    public static func end(of expiration: Expiration, from start: Date, calendar: TenantCalendar) -> Date? {
        switch expiration {
        case .onDate(let day): calendar.endOfDay(day)
        case .afterDays(let days): calendar.adding(days: days, to: start)
        case .afterHours(let hours): start.addingTimeInterval(TimeInterval(hours) * 3600)
        case .never: nil
        }
    }

    /// This schedule after an extension approved at `approvedAt`: the policy's duration counted again from
    /// that instant, capped by the requested end day; it never ends before the current end, nor past an onDate policy's day.
    public func extended(
        expiration: Expiration, approvedAt: Date, requestedEnd: CalendarDay? = nil, calendar: TenantCalendar
    ) -> AssignmentSchedule {
        let fresh = Self.cap(Self.end(of: expiration, from: approvedAt, calendar: calendar),
                             at: requestedEnd.map(calendar.endOfDay))
        var end: Date? = switch (fresh, self.end) {
        case (nil, _), (_, nil): fresh
        case (let fresh?, let current?): max(fresh, current)
        }
        if case .onDate(let day) = expiration { end = Self.cap(end, at: calendar.endOfDay(day)) }
        return AssignmentSchedule(start: start, end: end)
    }

    /// Whether access is in force at `instant`: started, and not yet at its exclusive end.
    public func isActive(at instant: Date) -> Bool {
        start <= instant && end.map { instant < $0 } ?? true
    }

    private static func cap(_ end: Date?, at limit: Date?) -> Date? {
        guard let limit else { return end }
        return end.map { min($0, limit) } ?? limit
    }
}
