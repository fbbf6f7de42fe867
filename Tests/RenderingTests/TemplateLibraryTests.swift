import Rendering
import Testing

struct TemplateLibraryTests {
    @Test func unknownTemplateIsAnErrorNotNil() throws {
        let library = try TemplateLibrary(Theme(templates: ["a": "A {{x}}"], assets: [:]))
        #expect(try library.render("a", ["x": "<b>"]) == "A &lt;b&gt;")
        #expect(throws: TemplateError.missingTemplate(name: "nope", referencedBy: nil)) {
            try library.render("nope", [:])
        }
    }

    /// Fast values render exactly as the plain strings and dictionaries they stand for: escaped,
    /// in sections and inverted sections, nested names, names looked up further out.
    @Test func fastValuesRenderAsThePlainOnes() throws {
        let layout = "{{%CONTENT_TYPE: HTML}}<title>{{title}}</title>{{$content}}{{/content}}<a href=\"{{nav.home}}\">{{ui.home}}</a>"
        let page = """
            {{<layout}}{{$content}}{{#name}}[{{name}}]{{/name}}{{^name}}nobody{{/name}}{{#empty}}<{{empty}}>{{/empty}}\
            {{#rows}}<{{x}}:{{title}}>{{/rows}}{{#flag}}on{{/flag}}{{^missing}}-{{/missing}}{{/content}}{{/layout}}
            """
        let library = try TemplateLibrary(Theme(templates: ["layout": layout, "page": page], assets: [:]))
        let plain: [String: Any] = [
            "title": "A & <B>", "name": "Zoë \"Q\" O'Neil", "empty": "", "flag": true,
            "nav": ["home": "/a?b=1&c=2"], "ui": ["home": "Home <"],
            "rows": [TemplateValues.row(["x": "1 < 2"]), TemplateValues.row(["x": "'"])],
        ]
        let expected = try library.render("page", plain)
        #expect(expected.contains("[Zoë &quot;Q&quot; O&#39;Neil]") && expected.contains("<1 &lt; 2:A &amp; &lt;B&gt;>"))
        #expect(try library.render("page", TemplateValues.fast(plain)) == expected)
    }

    @Test func missingPartialIsFoundWhenLoading() {
        #expect(throws: TemplateError.missingTemplate(name: "layout", referencedBy: "page")) {
            try TemplateLibrary(Theme(templates: ["page": "{{<layout}}{{$content}}x{{/content}}{{/layout}}"], assets: [:]))
        }
    }

    @Test func syntaxErrorsNameTheFileAndPosition() {
        #expect(throws: TemplateError.syntax(file: "page.mustache", line: 2, column: 11, message: "this closing tag does not match the open section")) {
            try TemplateLibrary(Theme(templates: ["page": "ok\n{{#a}}x{{/b}}"], assets: [:]))
        }
    }

    @Test func errorMessagesSayWhatToDo() {
        #expect(TemplateError.missingTemplate(name: "layout", referencedBy: "page").description
            == "page.mustache: error: refers to template 'layout', but there is no layout.mustache")
        #expect(TemplateError.missingDirectory("tpl").description == "tpl: error: templates folder not found; pass the folder that holds layout.mustache with --templates")
    }

    @Test func themeLoadsTemplatesAndAssetsFromTheRepository() {
        let theme = Repository.theme
        for name in Theme.requiredTemplates { #expect(theme.templates[name] != nil, "\(name).mustache") }
        #expect(theme.assets["gatehouse.css"] != nil)
        #expect(theme.templates["assets/gatehouse"] == nil)
    }

    @Test func rendererNeedsTheStylesheet() throws {
        var theme = Repository.theme
        theme.assets = [:]
        #expect(throws: TemplateError.missingAsset("gatehouse.css")) {
            try PortalRenderer(site: try Fixture.site(), theme: theme)
        }
    }
}
