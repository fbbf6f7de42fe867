/// Hands a composed message to something that delivers it: an outbox folder or a sendmail command.
public protocol MailTransport: Sendable {
    /// Delivers `mail` or throws why not; called again for the same message after a failure.
    func deliver(_ mail: ComposedMail) throws(DeliveryError)
    /// Delivers several messages, each succeeding or failing on its own, results in order.
    func deliver(_ mails: [ComposedMail]) -> [Result<Void, DeliveryError>]
}

extension MailTransport {
    /// One `deliver(_:)` per message.
    public func deliver(_ mails: [ComposedMail]) -> [Result<Void, DeliveryError>] {
        mails.map { mail in Result { () throws(DeliveryError) in try deliver(mail) } }
    }
}

/// Why a delivery failed, as one line fit for the outbox table and the log.
public struct DeliveryError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
