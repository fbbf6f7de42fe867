import Foundation
import GatehouseModel
import Governance
import Testing

/// An instant from an ISO 8601 text with its offset, so each test states the wall-clock time it means.
private func instant(_ text: String) -> Date {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.date(from: text)!
}

private func day(_ text: String) -> CalendarDay { CalendarDay(text)! }

@Suite struct ScheduleTests {
    let paris = try! TenantCalendar(timeZoneIdentifier: "Europe/Paris")
    let newYork = try! TenantCalendar(timeZoneIdentifier: "America/New_York")

    @Test func afterDaysKeepsTheWallClockAcrossDaylightSavingTime() {
        // Paris moves to summer time on Sunday 26 March 2028: thirty days are one hour short.
        let schedule = AssignmentSchedule(expiration: .afterDays(30), approvedAt: instant("2028-03-20T10:00:00+01:00"), calendar: paris)
        #expect(schedule.start == instant("2028-03-20T10:00:00+01:00"))
        #expect(schedule.end == instant("2028-04-19T10:00:00+02:00"))
        #expect(schedule.end!.timeIntervalSince(schedule.start) == 30 * 86400 - 3600)

        let spring = AssignmentSchedule(expiration: .afterDays(1), approvedAt: instant("2028-03-25T12:00:00+01:00"), calendar: paris)
        #expect(spring.end!.timeIntervalSince(spring.start) == 23 * 3600)
        // And back to winter time on Sunday 29 October 2028: that day has 25 hours.
        let autumn = AssignmentSchedule(expiration: .afterDays(1), approvedAt: instant("2028-10-28T12:00:00+02:00"), calendar: paris)
        #expect(autumn.end == instant("2028-10-29T12:00:00+01:00"))
        #expect(autumn.end!.timeIntervalSince(autumn.start) == 25 * 3600)
    }

    @Test func afterHoursCountsElapsedHours() {
        let schedule = AssignmentSchedule(expiration: .afterHours(24), approvedAt: instant("2028-03-25T12:00:00+01:00"), calendar: paris)
        #expect(schedule.end == instant("2028-03-26T13:00:00+02:00"))
    }

    @Test func onDateEndsAtTheEndOfThatDayInTheTenantZone() {
        let approved = instant("2028-06-01T09:00:00Z")
        #expect(AssignmentSchedule(expiration: .onDate(day("2028-06-30")), approvedAt: approved, calendar: paris).end
            == instant("2028-06-30T22:00:00Z"))
        #expect(AssignmentSchedule(expiration: .onDate(day("2028-06-30")), approvedAt: approved, calendar: newYork).end
            == instant("2028-07-01T04:00:00Z"))
        // The end is exclusive: the last moment of 30 June is still inside, midnight is not.
        let schedule = AssignmentSchedule(expiration: .onDate(day("2028-06-30")), approvedAt: approved, calendar: paris)
        #expect(schedule.isActive(at: instant("2028-06-30T23:59:59+02:00")))
        #expect(!schedule.isActive(at: instant("2028-07-01T00:00:00+02:00")))
        #expect(!schedule.isActive(at: instant("2028-06-01T08:59:59Z")))
    }

    @Test func neverHasNoEnd() {
        let schedule = AssignmentSchedule(expiration: .never, approvedAt: instant("2028-06-01T09:00:00Z"), calendar: paris)
        #expect(schedule.end == nil)
        #expect(schedule.isActive(at: instant("2099-01-01T00:00:00Z")))
    }

    @Test func theClockStartsAtTheApprovedCustomStart() {
        let approved = instant("2028-03-01T09:00:00Z")
        let later = AssignmentSchedule(expiration: .afterDays(30), approvedAt: approved,
                                       requested: RequestedSchedule(start: day("2028-03-10")), calendar: paris)
        #expect(later.start == instant("2028-03-10T00:00:00+01:00"))
        #expect(later.end == instant("2028-04-09T00:00:00+02:00"))
        // Approved after the requested start day began: the clock starts at approval.
        let late = AssignmentSchedule(expiration: .afterDays(30), approvedAt: instant("2028-03-10T15:00:00+01:00"),
                                      requested: RequestedSchedule(start: day("2028-03-10")), calendar: paris)
        #expect(late.start == instant("2028-03-10T15:00:00+01:00"))
    }

    @Test func aCustomEndCapsThePolicysEnd() {
        let approved = instant("2028-03-01T09:00:00Z")
        let capped = AssignmentSchedule(expiration: .afterDays(30), approvedAt: approved,
                                        requested: RequestedSchedule(end: day("2028-03-15")), calendar: paris)
        #expect(capped.end == instant("2028-03-16T00:00:00+01:00"))
        // A custom end later than the policy permits does not lengthen it.
        let policyWins = AssignmentSchedule(expiration: .afterDays(3), approvedAt: approved,
                                            requested: RequestedSchedule(end: day("2028-03-15")), calendar: paris)
        #expect(policyWins.end == instant("2028-03-04T09:00:00Z"))
        // With a policy that never ends, the custom end is the end.
        let open = AssignmentSchedule(expiration: .never, approvedAt: approved,
                                      requested: RequestedSchedule(end: day("2028-03-15")), calendar: paris)
        #expect(open.end == instant("2028-03-16T00:00:00+01:00"))
        // Approved after the requested end passed: the assignment ends as it starts.
        let tooLate = AssignmentSchedule(expiration: .never, approvedAt: instant("2028-03-20T09:00:00Z"),
                                         requested: RequestedSchedule(end: day("2028-03-15")), calendar: paris)
        #expect(tooLate.end == tooLate.start)
    }

    @Test func leapDay() {
        let fromLeapDay = AssignmentSchedule(expiration: .afterDays(365), approvedAt: instant("2028-02-29T12:00:00+01:00"), calendar: paris)
        #expect(fromLeapDay.end == instant("2029-02-28T12:00:00+01:00"))
        let intoLeapDay = AssignmentSchedule(expiration: .afterDays(1), approvedAt: instant("2028-02-28T12:00:00+01:00"), calendar: paris)
        #expect(intoLeapDay.end == instant("2028-02-29T12:00:00+01:00"))
        #expect(paris.endOfDay(day("2028-02-29")) == instant("2028-03-01T00:00:00+01:00"))
        #expect(paris.endOfDay(day("2100-02-28")) == instant("2100-03-01T00:00:00+01:00"))
    }

    @Test func extensionsCountAgainFromApprovalButNeverPastThePolicysDate() {
        let current = AssignmentSchedule(start: instant("2028-03-01T10:00:00+01:00"), end: instant("2028-03-31T10:00:00+02:00"))
        let extended = current.extended(expiration: .afterDays(30), approvedAt: instant("2028-03-25T10:00:00+01:00"), calendar: paris)
        #expect(extended == AssignmentSchedule(start: current.start, end: instant("2028-04-24T10:00:00+02:00")))
        // An extension never shortens access, even when the person asked for an earlier end.
        let asked = current.extended(expiration: .afterDays(30), approvedAt: instant("2028-03-25T10:00:00+01:00"),
                                     requestedEnd: day("2028-03-28"), calendar: paris)
        #expect(asked.end == current.end)
        let askedLater = current.extended(expiration: .afterDays(30), approvedAt: instant("2028-03-25T10:00:00+01:00"),
                                          requestedEnd: day("2028-04-10"), calendar: paris)
        #expect(askedLater.end == instant("2028-04-11T00:00:00+02:00"))

        let dated = AssignmentSchedule(start: instant("2028-06-01T09:00:00Z"), end: instant("2028-06-20T09:00:00Z"))
        let toPolicyDate = dated.extended(expiration: .onDate(day("2028-06-30")), approvedAt: instant("2028-06-19T09:00:00Z"),
                                          requestedEnd: day("2028-12-31"), calendar: paris)
        #expect(toPolicyDate.end == instant("2028-07-01T00:00:00+02:00"))
    }

    @Test func displayInTheTenantZone() {
        let lateEvening = instant("2028-06-30T22:30:00Z")
        #expect(paris.longDate(lateEvening) == "1 July 2028")
        #expect(newYork.longDate(lateEvening) == "30 June 2028")
        #expect(paris.longDateAndTime(instant("2028-07-01T14:05:00+02:00")) == "1 July 2028, 14:05")
        // An exclusive end at midnight is shown as the last day with access.
        #expect(paris.longEnd(paris.endOfDay(day("2028-06-30"))) == "30 June 2028")
        #expect(paris.longEnd(instant("2028-07-01T14:05:00+02:00")) == "1 July 2028, 14:05")
        #expect(paris.day(of: lateEvening) == day("2028-07-01"))
    }

    @Test func daysThatSkipMidnightStartWhenTheyReallyStart() {
        // Chile moved to summer time at midnight on 8 September 2024: that day starts at 01:00.
        let santiago = try! TenantCalendar(timeZoneIdentifier: "America/Santiago")
        #expect(santiago.startOfDay(day("2024-09-08")) == instant("2024-09-08T01:00:00-03:00"))
        #expect(santiago.endOfDay(day("2024-09-07")) == instant("2024-09-08T01:00:00-03:00"))
    }

    @Test func anUnknownZoneIsNamed() {
        #expect(throws: UnknownTimeZone(identifier: "Europe/Pariss")) {
            try TenantCalendar(timeZoneIdentifier: "Europe/Pariss")
        }
        #expect(UnknownTimeZone(identifier: "Europe/Pariss").description
            == "unknown time zone 'Europe/Pariss': use an IANA name such as Europe/Paris or America/New_York")
    }
}

/// The day and wall-clock time of an instant come from the zone's offset table, not ICU: they must
/// agree with `Calendar` everywhere, around every transition, in zones that move by 30 minutes,
/// changed their standard offset, or dropped daylight saving time.
@Suite struct TenantCalendarOffsetTests {
    private struct Reference {
        let calendar: Calendar
        init(_ zone: String) {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: zone)!
            self.calendar = calendar
        }
        func day(_ instant: Date) -> CalendarDay {
            let parts = calendar.dateComponents([.year, .month, .day], from: instant)
            return CalendarDay(year: parts.year!, month: parts.month!, day: parts.day!)!
        }
        func time(_ instant: Date) -> String {
            let parts = calendar.dateComponents([.hour, .minute], from: instant)
            return "\(parts.hour!):\(parts.minute! < 10 ? "0" : "")\(parts.minute!)"
        }
    }

    @Test(arguments: [
        "Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "America/Sao_Paulo",
        "Europe/Moscow", "Asia/Pyongyang", "Pacific/Chatham", "Africa/Casablanca", "UTC",
    ])
    func dayAndTimeAgreeWithTheSystemCalendar(zone: String) throws {
        let calendar = try TenantCalendar(timeZoneIdentifier: zone)
        let reference = Reference(zone)
        var instants: [Date] = []
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<3000 { instants.append(Date(timeIntervalSince1970: Double.random(in: 0..<4_102_444_800, using: &generator))) }
        var transition = Date(timeIntervalSince1970: 0)
        while let next = TimeZone(identifier: zone)!.nextDaylightSavingTimeTransition(after: transition),
              next.timeIntervalSince1970 < 4_102_444_800 {
            instants += [-1, -0.001, 0, 0.5, 3599, 3600].map { next.addingTimeInterval($0) }
            transition = next
        }
        var wrong: [String] = []
        for instant in instants where wrong.count < 5 {
            let expected = "\(reference.day(instant).longDescription), \(reference.time(instant))"
            if calendar.longDateAndTime(instant) != expected || calendar.day(of: instant) != reference.day(instant) {
                wrong.append("\(instant.timeIntervalSince1970): \(calendar.longDateAndTime(instant)) != \(expected)")
            }
        }
        #expect(wrong.isEmpty, "\(wrong)")
    }
}
