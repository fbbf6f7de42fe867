/// What a request form rendered by the handler shows beyond the static one: the person's input,
/// messages next to fields, messages about the request as a whole, and the idempotency token.
///
/// The static generator renders with `RequestFormState.empty`, which changes nothing in its output.
public struct RequestFormState: Sendable, Hashable {
    /// Posted values by field name (`justification`, `answer.<id>`, `start`, `end`), shown back as typed.
    public var input: [String: [String]]
    /// The message to show next to each field, by field name.
    public var errors: [String: String]
    /// Messages about the request as a whole (rules that stop it), shown above the form.
    public var problems: [String]
    /// The value of the hidden `submission` field; nil leaves the field out (the static form).
    public var submissionToken: String?
    /// The value of the hidden `draft` field: the kept form this one was filled from.
    public var draftToken: String?
    /// Information about the form as a whole (not a problem), shown above it.
    public var notices: [String]
    /// The signed-in person's name, for the navigation (nil: it offers to sign in).
    public var signedInAs: String?

    /// A form state; every part is optional.
    public init(
        input: [String: [String]] = [:], errors: [String: String] = [:], problems: [String] = [],
        submissionToken: String? = nil, draftToken: String? = nil, notices: [String] = []
    ) {
        self.input = input
        self.errors = errors
        self.problems = problems
        self.submissionToken = submissionToken
        self.draftToken = draftToken
        self.notices = notices
    }

    /// The static form: nothing typed, nothing wrong, no token.
    public static let empty = RequestFormState()

    /// The first value typed into `field`, or nil when none.
    func value(_ field: String) -> String? {
        input[field]?.first.flatMap { $0.isEmpty ? nil : $0 }
    }
}
