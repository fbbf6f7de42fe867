import GatehouseMarkdown
import Testing

/// cmark in safe mode: descriptions are written by package managers and read by everyone.
struct MarkdownTests {
    @Test func rendersCommonMark() {
        #expect(Markdown.html("Some **bold** and [a link](https://example.org/a?b=1&c=2).") ==
            "<p>Some <strong>bold</strong> and <a href=\"https://example.org/a?b=1&amp;c=2\">a link</a>.</p>\n")
    }

    @Test func dropsRawHTMLBlocksAndInlineTags() {
        let html = Markdown.html("Hello\n\n<script>alert(1)</script>\n\nand <b onclick=\"x()\">inline</b> text")
        #expect(!html.contains("<script"))
        #expect(!html.contains("alert(1)</script>"))
        #expect(!html.contains("onclick"))
        #expect(html == "<p>Hello</p>\n<!-- raw HTML omitted -->\n<p>and <!-- raw HTML omitted -->inline<!-- raw HTML omitted --> text</p>\n")
    }

    @Test func neutralizesDangerousLinkSchemes() {
        let html = Markdown.html("[click](javascript:alert(1)) [vb](vbscript:msgbox) [file](file:///etc/passwd) [data](data:text/html;base64,PHNjcmlwdD4=)")
        #expect(html == "<p><a href=\"\">click</a> <a href=\"\">vb</a> <a href=\"\">file</a> <a href=\"\">data</a></p>\n")
        #expect(!html.contains("javascript:"))
    }

    @Test func dropsImageEventHandlers() {
        let html = Markdown.html("<img src=x onerror=alert(1)>\n\n![ok](https://example.org/a.png)")
        #expect(!html.contains("onerror"))
        #expect(html.contains("<img src=\"https://example.org/a.png\" alt=\"ok\" />"))
    }

    @Test func escapesTextAndUsesTypographicQuotes() {
        #expect(Markdown.html("1 < 2 & \"quoted\" -- it's") == "<p>1 &lt; 2 &amp; “quoted” – it’s</p>\n")
    }

    @Test func emptyInputGivesEmptyOutput() {
        #expect(Markdown.html("") == "")
    }

    @Test func summaryIsThePlainTextOfTheFirstParagraph() {
        #expect(Markdown.summary("Edit rights on the **Lab wiki** and `code`\nfor [finance](https://x.example).\n\nSecond paragraph.")
            == "Edit rights on the Lab wiki and code for finance.")
        #expect(Markdown.summary("## Title first\n\nBody") == "Title first")
        #expect(Markdown.summary("") == "")
        #expect(Markdown.summary("What you get:\n\n- a\n- b") == "What you get…")
    }

    @Test func summaryIsCutAtAWordBoundary() {
        let long = String(repeating: "word ", count: 50)
        let summary = Markdown.summary(long, maxLength: 22)
        #expect(summary == "word word word word…")
    }
}
