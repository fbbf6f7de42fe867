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
