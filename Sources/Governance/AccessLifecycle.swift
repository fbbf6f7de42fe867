public import Foundation

/// When an assignment needs the sweep (PRODUCT.md section 5): at its end, and, when the holder may
/// extend it, 14 days and 1 day before the end to remind them. Pure; instants are passed in.
public struct AccessLifecycle: Sendable {
    /// Days before the end at which the holder is reminded to extend, earliest first.
    public static let reminderDays = [14, 1]

    public let calendar: TenantCalendar

    public init(calendar: TenantCalendar) { self.calendar = calendar }

    /// The reminder instants before `end` (same wall-clock time, tenant days), earliest first, skipping
    /// those not after `start` (a 7-day assignment gets only the 1-day reminder).
    public func reminders(start: Date, end: Date) -> [Date] {
        Self.reminderDays.map { calendar.adding(days: -$0, to: end) }.filter { $0 > start }
    }

    /// The next instant the sweep must look at an assignment: the first reminder not yet sent (when
    /// reminders apply), else its end; nil when it never ends.
    public func nextCheck(start: Date, end: Date?, remindersSent: Int, remindersApply: Bool) -> Date? {
        guard let end else { return nil }
        guard remindersApply else { return end }
        let pending = reminders(start: start, end: end).dropFirst(remindersSent)
        return pending.first.map { min($0, end) } ?? end
    }

    /// What is due at `now`.
    public enum Due: Sendable, Hashable {
        /// The end has come: the assignment expires.
        case end
        /// Send one reminder (the latest due, so a sweep that was down sends one, not a burst), then
        /// count `remindersSent` as sent.
        case reminder(daysLeft: Int, remindersSent: Int)
        case nothing
    }

    /// What the sweep does for an assignment at `now`.
    public func due(at now: Date, start: Date, end: Date?, remindersSent: Int, remindersApply: Bool) -> Due {
        guard let end else { return .nothing }
        if now >= end { return .end }
        guard remindersApply else { return .nothing }
        let instants = reminders(start: start, end: end)
        let sent = instants.count(where: { $0 <= now })
        guard sent > remindersSent else { return .nothing }
        let days = Array(Self.reminderDays.suffix(instants.count))[sent - 1]
        return .reminder(daysLeft: days, remindersSent: sent)
    }
}
