import Portal
import Testing

@Suite struct URLEncodedFormTests {
    @Test func plusIsASpaceButEncodedPlusIsAPlus() throws {
        let form = try URLEncodedForm(decoding: "justification=need+access&math=1%2B1%3D2&both=a+%2B+b")
        #expect(form["justification"] == "need access")
        #expect(form["math"] == "1+1=2")
        #expect(form["both"] == "a + b")
    }

    @Test func plusInANameIsASpaceToo() throws {
        let form = try URLEncodedForm(decoding: "first+name=Ada")
        #expect(form.fields == [.init(name: "first name", value: "Ada")])
    }

    @Test func repeatedKeysKeepEveryValueInOrder() throws {
        let form = try URLEncodedForm(decoding: "answer.teams=france&package=x&answer.teams=argentina&answer.teams=")
        #expect(form.values("answer.teams") == ["france", "argentina", ""])
        #expect(form["answer.teams"] == "france")
        #expect(form.names == ["answer.teams", "package"])
        #expect(form.values("missing") == [])
        #expect(form["missing"] == nil)
    }

    @Test func utf8IsDecoded() throws {
        let form = try URLEncodedForm(decoding: "text=%C3%89quipe+%E2%9C%93&raw=caf%c3%a9")
        #expect(form["text"] == "Équipe ✓")
        #expect(form["raw"] == "café")
    }

    @Test func emptyPairsAreSkippedAndBareNamesHaveEmptyValues() throws {
        let form = try URLEncodedForm(decoding: "&&a=1&&flag&b=&=orphan&")
        #expect(form.fields == [
            .init(name: "a", value: "1"), .init(name: "flag", value: ""), .init(name: "b", value: ""),
            .init(name: "", value: "orphan"),
        ])
        #expect(try URLEncodedForm(decoding: "").fields.isEmpty)
    }

    @Test func onlyTheFirstEqualsSplits() throws {
        let form = try URLEncodedForm(decoding: "expr=a=b=c")
        #expect(form["expr"] == "a=b=c")
    }

    @Test(arguments: [
        ("justification=100%", "%", "field “justification”"),
        ("justification=%4", "%4", "field “justification”"),
        ("a=1&code=%G1x", "%G1", "field “code”"),
        ("a=1&b=2&na%ZZme=x", "%ZZ", "the name of field 3"),
    ])
    func malformedEscapesAreTypedErrorsNamingTheField(body: String, escape: String, phrase: String) {
        #expect {
            try URLEncodedForm(decoding: body)
        } throws: { error in
            guard let error = error as? FormDecodingError, case .malformedEscape(let sent, _) = error else { return false }
            return sent == escape
                && error.description == "The form could not be read: \(phrase) contains “\(escape)”, which is not a valid percent escape (% and two hex digits)."
        }
    }

    @Test func invalidUTF8IsRefusedNotReplaced() {
        #expect(throws: FormDecodingError.invalidUTF8(in: .value(name: "answer.sport"))) {
            try URLEncodedForm(decoding: "package=x&answer.sport=%FF")
        }
        // An overlong encoding of "/" and a lone continuation byte.
        #expect(throws: FormDecodingError.invalidUTF8(in: .value(name: "p"))) {
            try URLEncodedForm(decoding: "p=%C0%AF")
        }
        #expect(throws: FormDecodingError.invalidUTF8(in: .name(position: 1))) {
            try URLEncodedForm(decoding: "%80=x")
        }
        #expect(FormDecodingError.invalidUTF8(in: .value(name: "answer.sport")).description
            == "The form could not be read: field “answer.sport” is not valid UTF-8 text.")
    }

    @Test func rawInvalidUTF8BytesInTheBodyAreRefused() {
        let body: [UInt8] = Array("name=".utf8) + [0xFF, 0xFE]
        #expect(throws: FormDecodingError.invalidUTF8(in: .value(name: "name"))) {
            try URLEncodedForm(decoding: body)
        }
    }

    @Test func hugeBodiesAreRefusedBeforeParsing() {
        let body = [UInt8](repeating: UInt8(ascii: "a"), count: 65_537)
        #expect(throws: FormDecodingError.tooLarge(bytes: 65_537, limit: 65_536)) {
            try URLEncodedForm(decoding: body)
        }
        #expect(FormDecodingError.tooLarge(bytes: 65_537, limit: 65_536).description
            == "The form is too large (65537 bytes); at most 65536 bytes are accepted.")
        #expect(FormDecodingError.tooLarge(bytes: 1, limit: 0).status.code == 413)
    }

    @Test func exactlyTheLimitIsAccepted() throws {
        let value = String(repeating: "a", count: 98)
        let form = try URLEncodedForm(decoding: "x=" + value, limits: .init(maxBytes: 100, maxFields: 1))
        #expect(form["x"] == value)
    }

    @Test func tooManyFieldsAreRefused() throws {
        let body = (1...201).map { "f\($0)=1" }.joined(separator: "&")
        #expect(throws: FormDecodingError.tooManyFields(limit: 200)) {
            try URLEncodedForm(decoding: body)
        }
        let limits = URLEncodedForm.Limits(maxBytes: 1000, maxFields: 3)
        #expect(try URLEncodedForm(decoding: "a=1&&b=2&c=3&", limits: limits).fields.count == 3)
        #expect(throws: FormDecodingError.tooManyFields(limit: 3)) {
            try URLEncodedForm(decoding: "a=1&b=2&c=3&d=4", limits: limits)
        }
    }

    @Test func errorsMapToStatuses() {
        #expect(FormDecodingError.invalidUTF8(in: .name(position: 1)).status == .badRequest)
        #expect(FormDecodingError.malformedEscape("%", in: .name(position: 1)).status == .badRequest)
        #expect(FormDecodingError.tooManyFields(limit: 1).status == .contentTooLarge)
        #expect(FormDecodingError.unsupportedContentType("text/plain").status == .unsupportedMediaType)
    }

    @Test func encodingIsWhatBrowsersSendAndRoundTrips() throws {
        var form = URLEncodedForm(["justification": "I need it: 100% & more", "answer.team": "Équipe+1"])
        form.append("return", "/access-packages/x/?a=b")
        #expect(form.encoded
            == "justification=I+need+it%3A+100%25+%26+more&answer.team=%C3%89quipe%2B1&return=%2Faccess-packages%2Fx%2F%3Fa%3Db")
        #expect(try URLEncodedForm(decoding: form.encoded) == form)
        #expect(URLEncodedForm.encode("a*b-c.d_e~f") == "a*b-c.d_e%7Ef")
    }
}
