public import Foundation
public import GatehouseStore
public import Governance
internal import Rendering

/// What every email about a request names: the package, the requestor and the request's page.
public struct NoticeRequest: Sendable, Hashable {
    public var requestID: String
    public var packageName: String
    public var policyName: String
    public var requestorName: String
    public var requestorEmail: String
    /// The connected organization's name for an external requestor, if one matched.
    public var organizationName: String?
    public var justification: String
    public var submittedAt: Date
    /// How many approval stages the policy has (0: none).
    public var stageCount: Int
    /// For an extension request: the end of the access it would extend (nil: a new request).
    public var extending: Date?

    public init(
        requestID: String, packageName: String, policyName: String, requestorName: String, requestorEmail: String,
        organizationName: String? = nil, justification: String = "", submittedAt: Date, stageCount: Int,
        extending: Date? = nil
    ) {
        self.requestID = requestID
        self.packageName = packageName
        self.policyName = policyName
        self.requestorName = requestorName
        self.requestorEmail = requestorEmail
        self.organizationName = organizationName
        self.justification = justification
        self.submittedAt = submittedAt
        self.stageCount = stageCount
        self.extending = extending
    }

    /// "Alex Wilber (alex@azureblog.example, Azureblog)".
    var requestorLine: String {
        var parts = [requestorEmail]
        if let organizationName { parts.append(organizationName) }
        return requestorName == requestorEmail ? parts.joined(separator: ", ")
            : "\(requestorName) (\(parts.joined(separator: ", ")))"
    }
}

/// The text of every email Gatehouse sends about requests (PRODUCT.md section 9): each names the
/// package and the requestor, writes dates in the tenant's time zone and links under the base URL.
/// Pure: the caller queues the result in the transaction of the change it reports.
public struct Notices: Sendable {
    public let baseURL: String
    public let calendar: TenantCalendar

    public init(baseURL: String, calendar: TenantCalendar) {
        self.baseURL = baseURL
        self.calendar = calendar
    }

    private func link(_ path: String) -> String { Paths.absolute(path, baseURL: baseURL) }

    private func stageWords(_ stage: Int, of count: Int) -> String {
        count > 1 ? " (stage \(stage) of \(count))" : ""
    }

    /// "asks for access to P" or, for an extension, "asks to extend their access to P".
    private func asks(_ r: NoticeRequest) -> String {
        r.extending == nil ? "asks for access to \(r.packageName)" : "asks to extend their access to \(r.packageName)"
    }

    private func summary(_ r: NoticeRequest) -> String {
        var lines = [
            "Access package: \(r.packageName)",
            "Requested by: \(r.requestorLine)",
            "Submitted: \(calendar.longDateAndTime(r.submittedAt))",
        ]
        if let end = r.extending { lines.append("Request: extension of access that now ends on \(calendar.longDateAndTime(end))") }
        if !r.justification.isEmpty { lines.append("Business justification: \(r.justification)") }
        return lines.joined(separator: "\n")
    }

    // MARK: To approvers

    /// A stage starts and waits for this approver.
    public func actionRequired(to approver: String, _ r: NoticeRequest, stage: Int, deadline: Date) -> OutgoingMail {
        OutgoingMail(
            recipient: approver,
            subject: "Action required: \(r.requestorName) \(r.extending == nil ? "requests" : "asks to extend") \(r.packageName)",
            body: """
                \(r.requestorName) \(asks(r)) and waits for your decision\(stageWords(stage, of: r.stageCount)).

                \(summary(r))
                Decide by: \(calendar.longDateAndTime(deadline))

                Approve or deny at \(link(Paths.approval(r.requestID)))

                If nobody decides by then, the request expires.

                """,
            kind: "approvalRequired")
    }

    /// The stage still waits; sent before the deadline.
    public func reminder(to approver: String, _ r: NoticeRequest, stage: Int, deadline: Date) -> OutgoingMail {
        OutgoingMail(
            recipient: approver,
            subject: "Reminder: \(r.requestorName)'s request for \(r.packageName) expires on \(calendar.longDate(deadline))",
            body: """
                \(r.requestorName)'s request for \(r.packageName) still waits for a decision\(stageWords(stage, of: r.stageCount)).

                \(summary(r))
                Decide by: \(calendar.longDateAndTime(deadline))

                Approve or deny at \(link(Paths.approval(r.requestID)))

                """,
            kind: "approvalReminder")
    }

    /// The stage was escalated to this alternate approver.
    public func forwarded(to approver: String, _ r: NoticeRequest, stage: Int, deadline: Date) -> OutgoingMail {
        OutgoingMail(
            recipient: approver,
            subject: "Forwarded to you: \(r.requestorName) \(r.extending == nil ? "requests" : "asks to extend") \(r.packageName)",
            body: """
                \(r.requestorName)'s request for \(r.packageName) was not decided in time by its approvers and is forwarded to you\(stageWords(stage, of: r.stageCount)). The first approvers can still decide too.

                \(summary(r))
                Decide by: \(calendar.longDateAndTime(deadline))

                Approve or deny at \(link(Paths.approval(r.requestID)))

                """,
            kind: "approvalForwarded")
    }

    /// Another approver of the same stage decided; nothing is left to do.
    public func decidedBySomeoneElse(
        to approver: String, _ r: NoticeRequest, decision: DecisionKind, by decider: String, at: Date, reason: String
    ) -> OutgoingMail {
        let verb = decision == .approve ? "approved" : "denied"
        return OutgoingMail(
            recipient: approver,
            subject: "\(r.requestorName)'s request for \(r.packageName) was \(verb) by \(decider)",
            body: """
                \(decider) \(verb) \(r.requestorName)'s request for \(r.packageName) on \(calendar.longDateAndTime(at)). No action is needed from you.
                \(reason.isEmpty ? "" : "\nReason: \(reason)\n")
                See the request at \(link(Paths.approval(r.requestID)))

                """,
            kind: "approvalDecidedByOther")
    }

    /// The request expired (no decision in time) or was canceled while waiting for this approver.
    public func closedWhileWaiting(to approver: String, _ r: NoticeRequest, expired: Bool, at: Date) -> OutgoingMail {
        let what = expired ? "expired: nobody decided it in time" : "was canceled by \(r.requestorName)"
        return OutgoingMail(
            recipient: approver,
            subject: "\(r.requestorName)'s request for \(r.packageName) \(expired ? "expired" : "was canceled")",
            body: """
                \(r.requestorName)'s request for \(r.packageName) \(what) (\(calendar.longDateAndTime(at))). No action is needed from you.

                See the request at \(link(Paths.approval(r.requestID)))

                """,
            kind: expired ? "approvalExpired" : "approvalCanceled")
    }

    /// An extension this approver was asked to decide was canceled: the access it would extend ended.
    public func extensionCanceled(toApprover approver: String, _ r: NoticeRequest, at: Date) -> OutgoingMail {
        OutgoingMail(
            recipient: approver,
            subject: "\(r.requestorName)'s request to extend \(r.packageName) was canceled",
            body: """
                \(r.requestorName)'s access to \(r.packageName) ended (\(calendar.longDateAndTime(at))), so the request to extend it was canceled. No action is needed from you.

                See the request at \(link(Paths.approval(r.requestID)))

                """,
            kind: "approvalCanceled")
    }

    // MARK: To the requestor

    /// The request was recorded and waits for approval.
    public func received(_ r: NoticeRequest) -> OutgoingMail {
        OutgoingMail(
            recipient: r.requestorEmail, subject: "Request received: \(r.packageName)",
            body: """
                We received your request for \(r.packageName) (\(r.policyName)) on \(calendar.longDateAndTime(r.submittedAt)).

                It now waits for approval; you will get an email when it is decided.

                Follow it or cancel it at \(link(Paths.myRequest(r.requestID)))

                """,
            kind: "requestSubmitted")
    }

    /// A stage of a multi-stage approval was approved; the next one starts.
    public func stageApproved(_ r: NoticeRequest, stage: Int, by decider: String) -> OutgoingMail {
        OutgoingMail(
            recipient: r.requestorEmail,
            subject: "Your request for \(r.packageName): stage \(stage) of \(r.stageCount) approved",
            body: """
                \(decider) approved stage \(stage) of \(r.stageCount) of your request for \(r.packageName). It now waits for stage \(stage + 1).

                Follow it at \(link(Paths.myRequest(r.requestID)))

                """,
            kind: "requestStageApproved")
    }

    /// The request was denied.
    public func denied(_ r: NoticeRequest, by decider: String, at: Date, reason: String) -> OutgoingMail {
        OutgoingMail(
            recipient: r.requestorEmail, subject: "Your request for \(r.packageName) was denied",
            body: """
                \(decider) denied your request for \(r.packageName) on \(calendar.longDateAndTime(at)).
                \(reason.isEmpty ? "" : "\nReason: \(reason)\n")
                See the request, and ask again if things have changed, at \(link(Paths.myRequest(r.requestID)))

                """,
            kind: "requestDenied")
    }

    /// The request expired because nobody decided in time.
    public func expired(_ r: NoticeRequest, at: Date) -> OutgoingMail {
        OutgoingMail(
            recipient: r.requestorEmail, subject: "Your request for \(r.packageName) expired",
            body: """
                Your request for \(r.packageName) expired on \(calendar.longDateAndTime(at)): its approvers did not decide in time. Nothing was granted.

                You can submit it again from \(link(Paths.myRequest(r.requestID)))

                """,
            kind: "requestExpired")
    }

    /// Access is delivered ("You now have access"), with the assignment's real end.
    public func delivered(to email: String, packageName: String, end: Date?) -> OutgoingMail {
        OutgoingMail(
            recipient: email, subject: "You now have access to \(packageName)",
            body: "You now have access to \(packageName) \(untilWords(end)).\n\nSee everything you have at \(link(Paths.myAccess))\n",
            kind: "accessDelivered")
    }

    /// Approved with a start in the future.
    public func scheduled(to email: String, packageName: String, start: Date, end: Date?) -> OutgoingMail {
        OutgoingMail(
            recipient: email, subject: "Your access to \(packageName) starts on \(calendar.longDate(start))",
            body: "Your request for \(packageName) is approved. Your access starts on \(calendar.longDateAndTime(start)) and lasts \(untilWords(end)).\n\n\(link(Paths.myAccess))\n",
            kind: "requestScheduled")
    }

    /// "your last day is 30 June 2028" for an end at midnight, else "it stops on 1 July 2028, 14:05".
    private func endSentence(_ end: Date) -> String {
        calendar.startOfDay(calendar.day(of: end)) == end
            ? "your last day is \(calendar.longEnd(end))" : "it stops on \(calendar.longDateAndTime(end))"
    }

    private func untilWords(_ end: Date?) -> String {
        end.map { "until \(calendar.longEnd($0))" } ?? "with no end date"
    }

    // MARK: Lifecycle

    /// The holder's access ends soon; `extendLink` only when they may extend it.
    public func extensionReminder(
        to email: String, packageName: String, end: Date, daysLeft: Int, assignmentID: String, canExtend: Bool
    ) -> OutgoingMail {
        let when = daysLeft == 1 ? "tomorrow" : "in \(daysLeft) days"
        let action = canExtend
            ? "If you still need it, extend it before then at \(link(Paths.extendAccess(assignmentID)))"
            : "See what you have at \(link(Paths.myAccess))"
        return OutgoingMail(
            recipient: email, subject: "Your access to \(packageName) ends \(when)",
            body: """
                Your access to \(packageName) ends \(when): \(endSentence(end)).

                \(action)

                """,
            kind: "extensionReminder")
    }

    /// Access ended. `requestAgain` is the package link, given only when the person may request it
    /// again; otherwise the email invites nothing they could not do.
    public func accessEnded(
        to email: String, packageName: String, endedAt: Date, why: String, requestAgain: String?
    ) -> OutgoingMail {
        let next = requestAgain.map { "If you need it again, you can request it at \(link($0))" }
            ?? "Nothing else is needed from you."
        return OutgoingMail(
            recipient: email, subject: "Your access to \(packageName) has ended",
            body: """
                Your access to \(packageName) ended on \(calendar.longDateAndTime(endedAt)): \(why).

                \(next)

                """,
            kind: "accessEnded")
    }
}
