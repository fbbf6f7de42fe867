import Foundation
import GatehouseModel
import GatehouseSite
import Rendering
import SiteGenerator
import Testing

/// Whole-site fixture tests: a site as files in, assertions on the output files.
struct SiteOutputTests {
    let output: SiteOutput

    init() throws { output = try Fixture.render() }

    func page(_ path: String) throws -> String {
        try #require(output.text(Paths.outputFile(for: path)), "no page at \(path)")
    }

    /// A request form variant; `en` is the fixture's default language.
    func form(_ package: String, _ policy: String, _ language: String) throws -> String {
        let file = Paths.requestFormFile(package: package, policy: policy, language: language == "en" ? nil : language)
        return try #require(output.text(file), "no form at \(file)")
    }

    @Test func producesEveryPageAndNothingElse() {
        let form = "access-packages/clerk-tools/request-clerks"
        let open = "access-packages/open/request-members"
        let secret = "access-packages/secret/request-members"
        #expect(output.paths == [
            "404.html",
            "access-packages/clerk-tools/index.html",
            form + ".fr.html", form + ".html",
            "access-packages/index.html",
            "access-packages/legacy/index.html",
            "access-packages/open/index.html",
            open + ".fr.html", open + ".html",
            "access-packages/secret/index.html",
            secret + ".fr.html", secret + ".html",
            "assets/gatehouse.css",
            "sign-in/index.html",
            "static/logo.svg",
        ])
    }

    @Test func everyPageIsACompleteAccessibleDocument() throws {
        for path in output.paths where path.hasSuffix(".html") {
            let html = try #require(output.text(path))
            #expect(html.hasPrefix("<!doctype html>\n<html lang=\""), "\(path)")
            #expect(html.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"), "\(path)")
            #expect(html.contains("<link rel=\"stylesheet\" href=\"/assets/gatehouse.css?v="), "\(path)")
            #expect(html.contains("<a class=\"brand\" href=\"/access-packages/\">Fixture Corp</a>"), "\(path)")
            #expect(!html.contains("<script"), "\(path)")
            #expect(!html.contains("style="), "\(path): no inline styles (the CSP forbids them)")
            // Every control has a label pointing at it.
            for id in ids(ofControlsIn: html) {
                #expect(html.contains("<label for=\"\(id)\">"), "\(path): control #\(id) has no label")
            }
        }
    }

    @Test func homeListsVisiblePackagesByCatalog() throws {
        let home = try page(Paths.home)
        #expect(home.contains("<h2>Main</h2>\n<p class=\"catalog-description\">The Main catalog.</p>"))
        #expect(home.contains("<li><a href=\"/access-packages/clerk-tools/\">Clerk tools</a><p>A package for tests.</p></li>\n"
            + "<li><a href=\"/access-packages/open/\">Open package</a><p>A package for tests.</p></li>"))
        #expect(!home.contains("Secret package"), "hidden packages are not listed")
        #expect(!home.contains("Legacy package"), "packages of disabled catalogs are not listed")
        #expect(!home.contains("<h2>Old</h2>"))
        #expect(home.contains("value=\"https://access.fixture.example/access-packages/\""))
    }

    @Test func hiddenPackageHasItsPageAndForms() throws {
        let secret = try page(Paths.package("secret"))
        #expect(secret.contains("<h1>Secret package</h1>"))
        #expect(secret.contains("This access package is not listed in the portal"))
        #expect(secret.contains("href=\"/access-packages/secret/request/members/\""))
    }

    @Test func disabledCatalogPackageCannotBeRequested() throws {
        let legacy = try page(Paths.package("legacy"))
        #expect(legacy.contains("<p class=\"notice\">This access package cannot be requested now: its catalog “Old” is turned off.</p>"))
        #expect(!legacy.contains("Request access"))
        #expect(output.files["access-packages/legacy/request-members.html"] == nil)
    }

    @Test func packagePageExplainsThePolicy() throws {
        let clerk = try page(Paths.package("clerk-tools"))
        #expect(clerk.contains("<div class=\"description\">\n<p>A package for <strong>tests</strong>.</p>\n\n</div>"))
        #expect(clerk.contains("<tr><td>Main team</td><td>Group</td><td>Member</td></tr>"))
        #expect(clerk.contains("<dd>Bob Boss and members of Clerks team</dd>"))
        #expect(clerk.contains("<li>The requestor’s manager (fallback: Ada Admin)</li>"))
        #expect(clerk.contains("<p>The requestor’s manager decides within 10 days; otherwise the request expires.</p>"))
        #expect(clerk.contains("<p>If nobody decides, the request is forwarded to the requestor’s second-level manager (fallback: Ada Admin) after 6 days.</p>"))
        #expect(clerk.contains("<li>Members of Administrators</li>"))
        #expect(clerk.contains("<p>One member of Administrators decides within 7 days and gives a reason; otherwise the request expires.</p>"))
        #expect(clerk.contains("<dd>Until 30 June 2028. You may ask for a specific start and end date within this limit.</dd>"))
        #expect(clerk.contains("<dd>Can be extended before it ends, with approval.</dd>"))
        let open = try page(Paths.package("open"))
        #expect(open.contains("No approval needed: access is granted as soon as you submit the request."))
        #expect(open.contains("<dd>365 days from approval.</dd>"))
        #expect(open.contains("<dd>Members of the directory</dd>"))
    }

    @Test func shareableLinksAreAbsoluteAndReadOnly() throws {
        let open = try page(Paths.package("open"))
        #expect(open.contains("<label for=\"package-link\">Link to this access package</label>\n"
            + "<input id=\"package-link\" type=\"text\" readonly value=\"https://access.fixture.example/access-packages/open/\">"))
        #expect(open.contains("<label for=\"home-link\">Link to all access packages</label>\n"
            + "<input id=\"home-link\" type=\"text\" readonly value=\"https://access.fixture.example/access-packages/\">"))
    }

    @Test func formHasTheRightControlPerQuestion() throws {
        let form = try form("clerk-tools", "clerks", "en")
        #expect(form.contains("<html lang=\"en\">"))
        #expect(form.contains("<form method=\"post\" action=\"/requests\" class=\"request-form\">"))
        #expect(form.contains("<input type=\"hidden\" name=\"package\" value=\"clerk-tools\">\n"
            + "<input type=\"hidden\" name=\"policy\" value=\"clerks\">\n<input type=\"hidden\" name=\"language\" value=\"en\">"))
        // Justification required: attribute and a visible mark.
        #expect(form.contains("<label for=\"justification\">Business justification <span class=\"required\">(required)</span></label>"))
        #expect(form.contains("<textarea id=\"justification\" name=\"justification\" rows=\"4\" maxlength=\"4000\" aria-describedby=\"justification-hint\" required></textarea>"))
        // shortText: pattern, maxlength, required.
        #expect(form.contains("<label for=\"q-code\">Cost center <span class=\"required\">(required)</span></label>"))
        #expect(form.contains("<input type=\"text\" id=\"q-code\" name=\"answer.code\" maxlength=\"4\" pattern=\"[0-9]{4}\" "
            + "title=\"The answer must match the expected format.\" aria-describedby=\"q-code-hint\" required>"))
        // longText: textarea with maxlength, optional.
        #expect(form.contains("<textarea id=\"q-notes\" name=\"answer.notes\" rows=\"4\" maxlength=\"500\" aria-describedby=\"q-notes-hint\"></textarea>"))
        #expect(form.contains("<label for=\"q-notes\">Notes</label>"))
        // Single choice: radios in a fieldset, required.
        #expect(form.contains("<legend>Favourite colour <span class=\"required\">(required)</span></legend>"))
        #expect(form.contains("<input type=\"radio\" id=\"q-colour-1\" name=\"answer.colour\" value=\"red\" required> <label for=\"q-colour-1\">Red</label>"))
        // Multiple choice: checkboxes, never `required` (that would force every box).
        #expect(form.contains("<input type=\"checkbox\" id=\"q-days-2\" name=\"answer.days\" value=\"tue\"> <label for=\"q-days-2\">Tuesday</label>"))
        // Questions in model order.
        let order = ["q-code", "q-notes", "q-colour-1", "q-days-1"].map { form.range(of: "id=\"\($0)\"")!.lowerBound }
        #expect(order == order.sorted())
        // Custom schedule within the policy's end date.
        #expect(form.contains("<input type=\"date\" id=\"start\" name=\"start\" max=\"2028-06-30\" aria-describedby=\"schedule-hint\">"))
        #expect(form.contains("It ends on 30 June 2028 at the latest."))
        #expect(form.contains("<button type=\"submit\">Submit request</button>"))
    }

    @Test func justificationAbsentWhenNotAsked() throws {
        var files = Fixture.files
        files["packages/open.md"] = Fixture.package(name: "Open package", policy: Fixture.members.replacingOccurrences(of: "justification: optional", with: "justification: none"))
        let none = try #require(try Fixture.render(files).text("access-packages/open/request-members.html"))
        #expect(!none.contains("justification"))
        let optional = try form("open", "members", "en")
        #expect(optional.contains("<label for=\"justification\">Business justification</label>"))
        #expect(optional.contains("aria-describedby=\"justification-hint\"></textarea>"), "optional: no required attribute")
    }

    @Test func frenchVariantIsTranslatedWithFallbacks() throws {
        let form = try form("clerk-tools", "clerks", "fr")
        #expect(form.contains("<html lang=\"fr\">"))
        #expect(form.contains("<h1>Demander l’accès à Clerk tools</h1>"))
        #expect(form.contains("<label for=\"q-code\">Centre de coûts <span class=\"required\">(obligatoire)</span></label>"))
        #expect(form.contains("<label for=\"q-colour-1\">Rouge</label>"))
        #expect(form.contains("<label for=\"q-colour-2\">Blue</label>"), "untranslated choices fall back to the default text")
        #expect(form.contains("<legend>Which days?</legend>"))
        #expect(form.contains("Il se termine au plus tard le 30 juin 2028."))
        #expect(form.contains("<input type=\"hidden\" name=\"language\" value=\"fr\">"))
        #expect(form.contains("<button type=\"submit\">Envoyer la demande</button>"))
    }

    @Test func languageSwitcherLinksTheVariants() throws {
        let form = try form("open", "members", "fr")
        #expect(form.contains("<nav class=\"languages\" aria-label=\"Langue\">"))
        #expect(form.contains("<li><a href=\"/access-packages/open/request/members/en/\" hreflang=\"en\" lang=\"en\">English</a></li>"))
        #expect(form.contains("<li><a href=\"/access-packages/open/request/members/fr/\" hreflang=\"fr\" lang=\"fr\" aria-current=\"page\">Français</a></li>"))
        #expect(form.contains("<link rel=\"alternate\" hreflang=\"fr\" href=\"/access-packages/open/request/members/fr/\">"))
    }

    @Test func theDefaultLanguageFormIsWrittenOnce() throws {
        // nginx serves `…/request/clerks/` and `…/request/clerks/en/` from the same file.
        #expect(try form("clerk-tools", "clerks", "en").contains("<html lang=\"en\">"))
        #expect(output.files["access-packages/clerk-tools/request-clerks.en.html"] == nil)
        #expect(try form("clerk-tools", "clerks", "fr").contains("<html lang=\"fr\">"))
    }

    @Test func signInAndNotFoundPages() throws {
        let signIn = try page(Paths.signIn)
        #expect(signIn.contains("<form method=\"post\" action=\"/sign-in/code\" class=\"sign-in\">"))
        #expect(signIn.contains("<input type=\"hidden\" name=\"return\" value=\"\">"))
        #expect(signIn.contains("<input type=\"email\" id=\"email\" name=\"email\" autocomplete=\"email\" spellcheck=\"false\" required>"))
        #expect(signIn.contains("one-time code"))
        let notFound = try page(Paths.notFound)
        #expect(notFound.contains("<h1>Page not found</h1>"))
        #expect(notFound.contains("<a href=\"/access-packages/\">See all access packages</a>"))
    }

    @Test func stylesheetURLChangesWithItsContent() throws {
        let css = try #require(output.files["assets/gatehouse.css"])
        #expect(css == Repository.theme.assets["gatehouse.css"])
        var theme = Repository.theme
        theme.assets["gatehouse.css"] = Array("body{}".utf8)
        let site = try Fixture.site()
        let before = try PortalRenderer(site: site, theme: Repository.theme).stylesheetURL
        let after = try PortalRenderer(site: site, theme: theme).stylesheetURL
        #expect(before.hasPrefix("/assets/gatehouse.css?v="))
        #expect(before.count == "/assets/gatehouse.css?v=".count + 12)
        #expect(before != after)
        #expect(try page(Paths.home).contains("href=\"\(before)\""))
    }

    @Test func staticFilesAreCopiedAsTheyAre() {
        #expect(output.text("static/logo.svg") == "<svg xmlns=\"http://www.w3.org/2000/svg\"/>")
    }

    @Test func modelErrorsStopTheRenderWithEveryDiagnostic() {
        var files = Fixture.files
        files["packages/open.md"] = Fixture.package(name: "Open package", catalog: "nowhere")
        #expect {
            _ = try Fixture.render(files)
        } throws: { error in
            guard case BuildError.invalidModel(let diagnostics) = error else { return false }
            return diagnostics.contains { $0.location.file == "packages/open.md" && $0.severity == .error }
        }
    }

    /// The `id` of every input, textarea and select that is not hidden.
    private func ids(ofControlsIn html: String) -> [String] {
        var ids: [String] = []
        for tag in ["<input ", "<textarea ", "<select "] {
            for piece in html.components(separatedBy: tag).dropFirst() {
                let element = String(piece.prefix { $0 != ">" })
                if element.contains("type=\"hidden\"") { continue }
                guard let start = element.range(of: "id=\"") else {
                    Issue.record("a control without an id: \(tag)\(element)>")
                    continue
                }
                ids.append(String(element[start.upperBound...].prefix { $0 != "\"" }))
            }
        }
        return ids
    }
}
