internal import CCmark

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// CommonMark to HTML through libcmark, the only place in Gatehouse that sees cmark.
public enum Markdown {
    /// Renders `markdown` as an HTML fragment in cmark's safe mode: raw HTML becomes a comment and
    /// `javascript:`, `vbscript:`, `file:` and non-image `data:` links become empty. Quotes and
    /// dashes are typographic (smart punctuation). Never pass `CMARK_OPT_UNSAFE` here: descriptions
    /// are written by catalog managers and read by everyone.
    public static func html(_ markdown: String) -> String {
        if markdown.isEmpty { return "" }
        let options = CMARK_OPT_DEFAULT | CMARK_OPT_SMART
        var source = markdown
        let rendered: UnsafeMutablePointer<CChar>? = source.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                cmark_markdown_to_html(chars.baseAddress, chars.count, options)
            }
        }
        guard let rendered else { return "" }
        defer { free(rendered) }
        return String(cString: rendered)
    }

    /// The plain text of the first paragraph or heading, on one line and cut at a word boundary
    /// to at most `maxLength` characters (plus "…"): the one-line summary of listings.
    public static func summary(_ markdown: String, maxLength: Int = 160) -> String {
        var source = markdown
        guard let document = source.withUTF8({ bytes in
            bytes.withMemoryRebound(to: CChar.self) { cmark_parse_document($0.baseAddress, $0.count, CMARK_OPT_DEFAULT) }
        }) else { return "" }
        defer { cmark_node_free(document) }
        guard let iterator = cmark_iter_new(document) else { return "" }
        defer { cmark_iter_free(iterator) }

        var text = ""
        var block: OpaquePointer?
        while case let event = cmark_iter_next(iterator), event != CMARK_EVENT_DONE {
            guard let node = cmark_iter_get_node(iterator) else { continue }
            let type = cmark_node_get_type(node)
            if block == nil {
                if event == CMARK_EVENT_ENTER, type == CMARK_NODE_PARAGRAPH || type == CMARK_NODE_HEADING { block = node }
                continue
            }
            if event == CMARK_EVENT_EXIT, node == block { break }
            switch type {
            case CMARK_NODE_TEXT, CMARK_NODE_CODE:
                if let literal = cmark_node_get_literal(node) { text += String(cString: literal) }
            case CMARK_NODE_SOFTBREAK, CMARK_NODE_LINEBREAK:
                text += " "
            default:
                break
            }
        }
        // "Everything you need on day one:" introduces what follows; the summary stops there.
        if text.hasSuffix(":") { text = String(text.dropLast()) + "…" }
        return truncate(text, to: maxLength)
    }

    static func truncate(_ text: String, to maxLength: Int) -> String {
        guard text.count > maxLength else { return text }
        var cut = text.prefix(maxLength)
        if let space = cut.lastIndex(of: " ") { cut = cut[..<space] }
        while let last = cut.last, last == " " || last == "," || last == ";" || last == ":" { cut = cut.dropLast() }
        return cut + "…"
    }
}
