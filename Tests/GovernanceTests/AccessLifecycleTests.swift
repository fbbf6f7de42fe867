import Foundation
import Governance
import Testing

private func instant(_ text: String) -> Date {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.date(from: text)!
}

private let paris = try! TenantCalendar(timeZoneIdentifier: "Europe/Paris")
private let timing = AccessLifecycle(calendar: paris)

/// 1 March 2028, 09:00 in Paris (winter time).
private let start = instant("2028-03-01T09:00:00+01:00")
/// 5 April 2028, 09:00 in Paris: summer time since 26 March, so the 14-day reminder is before the change.
private let end = instant("2028-04-05T09:00:00+02:00")
private let remind14 = instant("2028-03-22T09:00:00+01:00")
private let remind1 = instant("2028-04-04T09:00:00+02:00")

private let hour: TimeInterval = 3600
private let dayLength: TimeInterval = 86400

@Suite struct AccessLifecycleTests {
    // MARK: Reminder instants

    @Test func remindersAreFourteenDaysAndOneDayBeforeTheEndAtTheSameWallClockTime() {
        #expect(AccessLifecycle.reminderDays == [14, 1])
        #expect(timing.reminders(start: start, end: end) == [remind14, remind1])
        // Across the spring change the 14 days last one hour less than 14 × 24 hours.
        #expect(end.timeIntervalSince(remind14) == 14 * dayLength - hour)
        #expect(end.timeIntervalSince(remind1) == dayLength)
    }

    @Test func acrossTheAutumnChangeTheFourteenDaysLastOneHourMore() {
        // Winter time comes back on Sunday 29 October 2028.
        let autumnEnd = instant("2028-11-05T09:00:00+01:00")
        let reminders = timing.reminders(start: start, end: autumnEnd)
        #expect(reminders == [instant("2028-10-22T09:00:00+02:00"), instant("2028-11-04T09:00:00+01:00")])
        #expect(autumnEnd.timeIntervalSince(reminders[0]) == 14 * dayLength + hour)
    }

    @Test func theOneDayReminderOnTheDayOfTheChangeKeepsTheWallClockTime() {
        // End on Monday 27 March 2028 at 09:00; the day before is the short Sunday.
        let mondayEnd = instant("2028-03-27T09:00:00+02:00")
        let reminders = timing.reminders(start: start, end: mondayEnd)
        #expect(reminders.last == instant("2028-03-26T09:00:00+02:00"))
        #expect(mondayEnd.timeIntervalSince(reminders.last!) == dayLength)
        #expect(reminders.first == instant("2028-03-13T09:00:00+01:00"))
    }

    @Test func remindersNotAfterTheStartAreSkipped() {
        // A 7-day assignment gets only the 1-day reminder.
        let weekStart = paris.adding(days: -7, to: end)
        #expect(timing.reminders(start: weekStart, end: end) == [remind1])
        // Starting exactly at the 14-day instant: that reminder is not after the start.
        #expect(timing.reminders(start: remind14, end: end) == [remind1])
        // One second earlier it is.
        #expect(timing.reminders(start: remind14.addingTimeInterval(-1), end: end) == [remind14, remind1])
        // A 24-hour assignment (no DST change): the 1-day reminder would be its start.
        let dayStart = end.addingTimeInterval(-24 * hour)
        #expect(timing.reminders(start: dayStart, end: end).isEmpty)
        // A 2-hour assignment: nothing.
        #expect(timing.reminders(start: end.addingTimeInterval(-2 * hour), end: end).isEmpty)
    }

    // MARK: Next check

    @Test func nextCheckIsTheFirstReminderNotSentThenTheEnd() {
        #expect(timing.nextCheck(start: start, end: end, remindersSent: 0, remindersApply: true) == remind14)
        #expect(timing.nextCheck(start: start, end: end, remindersSent: 1, remindersApply: true) == remind1)
        #expect(timing.nextCheck(start: start, end: end, remindersSent: 2, remindersApply: true) == end)
        #expect(timing.nextCheck(start: start, end: end, remindersSent: 5, remindersApply: true) == end)
    }

    @Test func withoutRemindersTheNextCheckIsTheEnd() {
        #expect(timing.nextCheck(start: start, end: end, remindersSent: 0, remindersApply: false) == end)
        // A short assignment whose reminders are all skipped.
        let short = end.addingTimeInterval(-2 * hour)
        #expect(timing.nextCheck(start: short, end: end, remindersSent: 0, remindersApply: true) == end)
        // A 7-day one: the 1-day reminder, then the end.
        let week = paris.adding(days: -7, to: end)
        #expect(timing.nextCheck(start: week, end: end, remindersSent: 0, remindersApply: true) == remind1)
        #expect(timing.nextCheck(start: week, end: end, remindersSent: 1, remindersApply: true) == end)
    }

    @Test func accessWithoutAnEndIsNeverChecked() {
        #expect(timing.nextCheck(start: start, end: nil, remindersSent: 0, remindersApply: true) == nil)
        #expect(timing.nextCheck(start: start, end: nil, remindersSent: 0, remindersApply: false) == nil)
        let farFuture = instant("2099-01-01T00:00:00Z")
        #expect(timing.due(at: farFuture, start: start, end: nil, remindersSent: 0, remindersApply: true) == .nothing)
    }

    // MARK: What is due

    private func due(_ now: Date, sent: Int = 0, apply: Bool = true, from begin: Date = start) -> AccessLifecycle.Due {
        timing.due(at: now, start: begin, end: end, remindersSent: sent, remindersApply: apply)
    }

    @Test func theEndIsDueAtTheEndNotOneSecondBefore() {
        #expect(due(end.addingTimeInterval(-1), sent: 2) == .nothing)
        #expect(due(end, sent: 2) == .end)
        #expect(due(end.addingTimeInterval(1), sent: 2) == .end)
        #expect(due(end.addingTimeInterval(-1), apply: false) == .nothing)
        #expect(due(end, apply: false) == .end)
        // The end wins over reminders never sent: no reminder for access that has already ended.
        #expect(due(end, sent: 0) == .end)
        #expect(due(end.addingTimeInterval(30 * dayLength), sent: 0) == .end)
    }

    @Test func eachReminderIsDueAtItsInstantOnce() {
        #expect(due(remind14.addingTimeInterval(-1)) == .nothing)
        #expect(due(remind14) == .reminder(daysLeft: 14, remindersSent: 1))
        #expect(due(remind14, sent: 1) == .nothing)
        #expect(due(remind1.addingTimeInterval(-1), sent: 1) == .nothing)
        #expect(due(remind1, sent: 1) == .reminder(daysLeft: 1, remindersSent: 2))
        #expect(due(remind1, sent: 2) == .nothing)
    }

    @Test func noRemindersWhenTheyDoNotApply() {
        #expect(due(remind14, apply: false) == .nothing)
        #expect(due(remind1, apply: false) == .nothing)
    }

    @Test func aSweepAfterAGapSendsOnlyTheLatestReminder() {
        // Down from before the 14-day reminder until after the 1-day one: one reminder, both counted.
        #expect(due(remind1.addingTimeInterval(hour)) == .reminder(daysLeft: 1, remindersSent: 2))
        // After it, nothing more before the end.
        #expect(due(remind1.addingTimeInterval(2 * hour), sent: 2) == .nothing)
    }

    @Test func aShortAssignmentCountsOnlyTheRemindersItHas() {
        let week = paris.adding(days: -7, to: end)
        #expect(due(remind14, from: week) == .nothing)
        #expect(due(remind1.addingTimeInterval(-1), from: week) == .nothing)
        #expect(due(remind1, from: week) == .reminder(daysLeft: 1, remindersSent: 1))
        #expect(due(remind1, sent: 1, from: week) == .nothing)
        #expect(timing.nextCheck(start: week, end: end, remindersSent: 1, remindersApply: true) == end)
    }
}
