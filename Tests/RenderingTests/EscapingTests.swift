import Foundation
import GatehouseModel
import Rendering
import SiteGenerator
import Testing

/// Every model string goes through Mustache's HTML escaping; only cmark output is inserted raw.
struct EscapingTests {
    static let hostileName = "<script>alert(1)</script>"
    static let hostileQuestion = "Say \"hi\" <b>now</b> & 'then'"

    let output: SiteOutput

    init() throws {
        var files = Fixture.files
        let policy = """
              - id: members
                name: "Policy <i>x</i>"
                requestors: {scope: allMembers}
                justification: optional
                approval: none
                questions:
                  - id: q1
                    type: shortText
                    required: true
                    text: {default: '\(Self.hostileQuestion.replacingOccurrences(of: "'", with: "''"))', fr: "Dites \\"<salut>\\""}
                    regex: "[a-z]+\\">"
                  - id: q2
                    type: multipleChoice
                    text: {default: "Pick"}
                    choices:
                      - {value: "a\\"b", text: {default: "<em>A</em>"}}
                lifecycle:
                  expiration: never
            """
        files["packages/hostile.md"] = Fixture.package(
            name: Self.hostileName, policy: policy,
            description: "Hello <script>alert(2)</script> [x](javascript:alert(3))")
        files["catalogs/main.yaml"] = Fixture.catalog("Main").replacingOccurrences(
            of: "description: The Main catalog.", with: "description: \"Tools & <toys>\"")
        output = try Fixture.render(files)
    }

    @Test func packageNameIsEscapedEverywhere() throws {
        let pages = [
            "access-packages/index.html", "access-packages/hostile/index.html",
            "access-packages/hostile/request-members.html", "access-packages/hostile/request-members.fr.html",
        ]
        for path in pages {
            let html = try #require(output.text(path))
            #expect(!html.contains(Self.hostileName), "\(path)")
            #expect(!html.contains("<script"), "\(path)")
            #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "\(path)")
        }
        let home = try #require(output.text("access-packages/index.html"))
        #expect(home.contains("<p class=\"catalog-description\">Tools &amp; &lt;toys&gt;</p>"))
    }

    @Test func questionTextAndAttributesAreEscaped() throws {
        let form = try #require(output.text("access-packages/hostile/request-members.html"))
        #expect(form.contains("<label for=\"q-q1\">Say &quot;hi&quot; &lt;b&gt;now&lt;/b&gt; &amp; &#39;then&#39; <span class=\"required\">(required)</span></label>"))
        #expect(form.contains("pattern=\"[a-z]+&quot;&gt;\""), "a quote in a regex cannot end the attribute")
        #expect(form.contains("value=\"a&quot;b\""))
        #expect(form.contains("<label for=\"q-q2-1\">&lt;em&gt;A&lt;/em&gt;</label>"))
        #expect(form.contains("“Policy &lt;i&gt;x&lt;/i&gt;”"))
        let french = try #require(output.text("access-packages/hostile/request-members.fr.html"))
        #expect(french.contains("<label for=\"q-q1\">Dites &quot;&lt;salut&gt;&quot; <span class=\"required\">(obligatoire)</span></label>"))
    }

    @Test func descriptionGoesThroughSafeMarkdown() throws {
        let page = try #require(output.text("access-packages/hostile/index.html"))
        #expect(page.contains("<p>Hello <!-- raw HTML omitted -->alert(2)<!-- raw HTML omitted --> <a href=\"\">x</a></p>"))
        #expect(!page.contains("javascript:"))
    }
}
