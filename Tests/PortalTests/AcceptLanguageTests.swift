import GatehouseModel
import Portal
import Testing

@Suite struct AcceptLanguageTests {
    @Test(arguments: [
        (nil, "en"),
        ("", "en"),
        ("fr", "fr"),
        ("FR", "fr"),
        ("fr-CA", "fr"),
        ("fr-CA,fr;q=0.9,en;q=0.8", "fr"),
        ("de-CH, de;q=0.9, en;q=0.8", "de-DE"),
        ("en;q=0.5, fr;q=0.9", "fr"),
        ("en;q=0.9, fr;q=0.9", "en"),
        ("es, it;q=0.8", "en"),
        ("es, pt-BR;q=0.7, fr;q=0.1", "fr"),
        ("*", "en"),
        ("es, *;q=0.5", "en"),
        ("fr;q=0, *", "en"),
        ("en;q=0, fr;q=0.2", "fr"),
        ("en;q=0, *", "fr"),
        ("zz-Latn-ZZ, de-de", "de-DE"),
        ("fr;q=abc, de", "de-DE"),
        ("fr;q=1.5, de;q=0.1", "de-DE"),
        ("fr;q=0.9999, de;q=0.1", "de-DE"),
        ("fr;level=1, de;q=0.1", "de-DE"),
        ("fr ; q = 0.8 , de ; q = 0.7", "fr"),
        ("123, fr-", "en"),
        (",,;,", "en"),
    ] as [(String?, String)])
    func picksTheBestTenantLanguage(header: String?, expected: String) {
        #expect(AcceptLanguage.best(header, available: ["en", "fr", "de-DE"], defaultLanguage: "en") == expected)
    }

    @Test func exactTagBeatsSiblingOfTheSamePrimary() {
        #expect(AcceptLanguage.best("pt-BR", available: ["pt-PT", "pt-BR"], defaultLanguage: "pt-PT") == "pt-BR")
        #expect(AcceptLanguage.best("pt-AO", available: ["en", "pt-BR", "pt"], defaultLanguage: "en") == "pt")
        #expect(AcceptLanguage.best("pt-AO", available: ["en", "pt-BR"], defaultLanguage: "en") == "pt-BR")
    }

    @Test func qualityValuesAreParsedInThousandths() {
        #expect(AcceptLanguage.preferences("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5")
            == [.init(tag: "fr-ch", quality: 1000), .init(tag: "fr", quality: 900), .init(tag: "en", quality: 800),
                .init(tag: "de", quality: 700), .init(tag: "*", quality: 500)])
        #expect(AcceptLanguage.preferences("en;q=1.000, fr;q=0.001, de;q=0") .map(\.quality) == [1000, 1, 0])
        #expect(AcceptLanguage.preferences(nil) == [])
    }

    @Test func absurdlyLongHeadersAreBounded() {
        let header = Array(repeating: "xx", count: 1000).joined(separator: ",") + ",fr"
        #expect(AcceptLanguage.preferences(header).count == 32)
        #expect(AcceptLanguage.best(header, available: ["en", "fr"], defaultLanguage: "en") == "en")
    }

    @Test func usesTheTenantsLanguages() {
        let tenant = Tenant(
            name: "Internal LAB", domains: ["contoso.example"], baseURL: "https://access.contoso.example",
            timeZone: "Europe/Paris", languages: ["fr", "en"], admins: [], externalUsers: ExternalUserSettings(),
            termsOfUse: "")
        #expect(AcceptLanguage.best("en-GB,en;q=0.9", for: tenant) == "en")
        #expect(AcceptLanguage.best("ja", for: tenant) == "fr")
        #expect(AcceptLanguage.best(nil, for: tenant) == "fr")
    }
}
