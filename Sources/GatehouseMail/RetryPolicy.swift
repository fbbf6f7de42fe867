public import Foundation

/// When to try a failed delivery again: a pure schedule from the number of failed attempts.
public struct RetryPolicy: Sendable, Equatable {
    /// The wait after the 1st, 2nd, … failure; the last one repeats until `maxAttempts`.
    public var delays: [Duration]
    /// Attempts in all, the first included; after that many failures the message is given up.
    public var maxAttempts: Int

    public init(delays: [Duration], maxAttempts: Int) {
        self.delays = delays
        self.maxAttempts = maxAttempts
    }

    /// 1, 5, 15, 60 minutes, then every 4 hours: ten attempts over about 21 hours.
    public static let standard = RetryPolicy(
        delays: [.seconds(60), .seconds(5 * 60), .seconds(15 * 60), .seconds(60 * 60), .seconds(4 * 60 * 60)],
        maxAttempts: 10)

    /// The wait after failed attempt number `attempt` (1-based), or nil to give up.
    public func delay(afterFailedAttempt attempt: Int) -> Duration? {
        guard attempt < maxAttempts, let last = delays.last else { return nil }
        return attempt <= delays.count ? delays[max(attempt, 1) - 1] : last
    }

    /// When to try again after attempt number `attempt` failed at `failedAt`, or nil to give up.
    public func nextAttempt(afterFailedAttempt attempt: Int, failedAt: Date) -> Date? {
        delay(afterFailedAttempt: attempt).map { delay in
            let (seconds, attoseconds) = delay.components
            return failedAt.addingTimeInterval(TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18)
        }
    }
}
