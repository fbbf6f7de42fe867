public import GatehouseModel

/// The portal's own words (labels, buttons, hints) in one language.
///
/// Model text (names, questions, choices) comes translated from the model; this table covers what
/// the templates say around it. Languages without an entry fall back to English.
public struct UIStrings: Sendable, Hashable {
    public var language: String
    private var table: [String: String]

    public init(language: String) {
        self.language = language
        let english = UIStrings.tables["en"]!
        table = english.merging(UIStrings.tables[language] ?? [:]) { _, translated in translated }
    }

    public subscript(key: String) -> String { table[key] ?? key }

    /// `template` with `{name}` placeholders filled in.
    public func format(_ key: String, _ values: [String: String]) -> String {
        var text = ""
        var rest = Substring(self[key])
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            text += rest[..<open]
            let name = String(rest[rest.index(after: open)..<close])
            text += values[name] ?? String(rest[open...close])
            rest = rest[rest.index(after: close)...]
        }
        return text + rest
    }

    /// Every string, for the template context (`{{ui.submit}}`).
    var all: [String: String] { table }

    /// `17 September 2027` in English, `17 septembre 2027` in French.
    public func longDate(_ day: CalendarDay) -> String {
        guard language == "fr" else { return day.longDescription }
        let months = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
                      "octobre", "novembre", "décembre"]
        return "\(day.day == 1 ? "1er" : String(day.day)) \(months[day.month - 1]) \(day.year)"
    }

    /// The name of a language in that language, for the language switcher.
    public static func languageName(_ code: String) -> String {
        let names = ["en": "English", "fr": "Français", "de": "Deutsch", "es": "Español", "it": "Italiano",
                     "nl": "Nederlands", "pt": "Português", "pl": "Polski", "sv": "Svenska", "da": "Dansk",
                     "fi": "Suomi", "nb": "Norsk bokmål", "ja": "日本語", "zh": "中文", "ko": "한국어"]
        return names[code.lowercased()] ?? names[String(code.lowercased().prefix(2))] ?? code
    }

    static let tables: [String: [String: String]] = [
        "en": [
            "skipToContent": "Skip to content",
            "navLabel": "Main",
            "navHome": "Access packages",
            "navMyRequests": "My requests",
            "navMyAccess": "My access",
            "navApprovals": "Approvals",
            "navSignIn": "Sign in",
            "navSignOut": "Sign out",
            "navSignedInAs": "Signed in as",
            "requestTitle": "Request access to {package}",
            "policyIntro": "You are requesting through the policy “{policy}”.",
            "backToPackage": "Back to the access package",
            "languageLabel": "Language",
            "required": "required",
            "optional": "optional",
            "requiredNote": "Fields marked “required” must be filled in.",
            "errorSummary": "Your request was not sent. Correct these fields:",
            "justification": "Business justification",
            "justificationHelp": "Why do you need this access? Approvers read this.",
            "questions": "Questions",
            "maxLength": "At most {count} characters.",
            "formatHint": "The answer must match the expected format.",
            "selectAll": "Select all that apply.",
            "selectAtLeastOne": "Select at least one.",
            "schedule": "When do you need access?",
            "start": "Start date",
            "end": "End date",
            "scheduleDays": "You may choose when access starts and ends. It lasts at most {count} days from its start.",
            "scheduleHours": "You may choose when access starts and ends. It lasts at most {count} hours from its start.",
            "scheduleDate": "You may choose when access starts and ends. It ends on {date} at the latest.",
            "scheduleNever": "You may choose when access starts and ends. Leave the end date empty for no end date.",
            "scheduleEmpty": "Leave both dates empty to start as soon as your request is approved.",
            "submit": "Submit request",
            "signInNote": "You will be asked to sign in with your email address if you have not yet.",
        ],
        "fr": [
            "skipToContent": "Aller au contenu",
            "navLabel": "Principal",
            "navHome": "Packages d’accès",
            "navMyRequests": "Mes demandes",
            "navMyAccess": "Mes accès",
            "navApprovals": "Approbations",
            "navSignIn": "Se connecter",
            "navSignOut": "Se déconnecter",
            "navSignedInAs": "Connecté en tant que",
            "requestTitle": "Demander l’accès à {package}",
            "policyIntro": "Vous faites votre demande selon la stratégie « {policy} ».",
            "backToPackage": "Retour au package d’accès",
            "languageLabel": "Langue",
            "required": "obligatoire",
            "optional": "facultatif",
            "requiredNote": "Les champs marqués « obligatoire » doivent être remplis.",
            "errorSummary": "Votre demande n’a pas été envoyée. Corrigez ces champs :",
            "justification": "Justification métier",
            "justificationHelp": "Pourquoi avez-vous besoin de cet accès ? Les approbateurs lisent ce texte.",
            "questions": "Questions",
            "maxLength": "{count} caractères au maximum.",
            "formatHint": "La réponse doit respecter le format attendu.",
            "selectAll": "Sélectionnez toutes les réponses qui conviennent.",
            "selectAtLeastOne": "Sélectionnez au moins une réponse.",
            "schedule": "Quand avez-vous besoin de l’accès ?",
            "start": "Date de début",
            "end": "Date de fin",
            "scheduleDays": "Vous pouvez choisir quand l’accès commence et se termine. Il dure au plus {count} jours à partir de son début.",
            "scheduleHours": "Vous pouvez choisir quand l’accès commence et se termine. Il dure au plus {count} heures à partir de son début.",
            "scheduleDate": "Vous pouvez choisir quand l’accès commence et se termine. Il se termine au plus tard le {date}.",
            "scheduleNever": "Vous pouvez choisir quand l’accès commence et se termine. Laissez la date de fin vide pour un accès sans fin.",
            "scheduleEmpty": "Laissez les deux dates vides pour commencer dès que votre demande est approuvée.",
            "submit": "Envoyer la demande",
            "signInNote": "Si vous n’êtes pas encore connecté, votre adresse e-mail vous sera demandée.",
        ],
    ]
}
