import GatehouseModel
import GatehouseSite
import Testing

/// Malformed files, front matter, unknown keys, wrong types and misplaced files.
@Suite struct SyntaxTests {
    @Test func malformedYAMLIsReportedWhereLibyamlFindsIt() {
        let tenant = """
            name: Test Lab
            domains: [contoso.example
            baseURL: https://access.contoso.example

            """
        #expect(problems(["tenant.yaml": tenant]) == [
            "tenant.yaml:3:8: error: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence that starts at line 2, column 10)",
        ])
    }

    @Test func malformedYAMLInFrontMatterHasTheLineOfTheMarkdownFile() {
        #expect(problems(package: """
            name: P
            catalog: general
              hidden: true
            policies: []
            """) == [
            "packages/p.md:4:9: error: invalid YAML: mapping values are not allowed in this context; check the indentation, and quote values that contain ': '",
        ])
    }

    @Test func aKeyWrittenTwiceIsAnError() {
        #expect(problems(package: """
            name: P
            catalog: general
            name: Q
            policies: []
            """) == [
            "packages/p.md:2:1: error: key 'name' is written more than once in the same mapping; keep only one",
        ])
    }

    @Test func aPackageWithoutFrontMatter() {
        #expect(problems(["packages/p.md": "name: P\ncatalog: general\n"]) == [
            "packages/p.md:1:1: error: couldn't find front matter in `packages/p.md`; did you forget to add `---` at the top?",
        ])
    }

    @Test func frontMatterThatIsNotClosed() {
        #expect(problems(["packages/p.md": "---\nname: P\ncatalog: general\n\nSome text.\n"]) == [
            "packages/p.md:1:1: error: the front matter of `packages/p.md` is not closed; add a `---` line after the YAML, before the description",
        ])
    }

    @Test func aFileThatIsNotUTF8() {
        var files = Fixture.site()
        files.files["catalogs/general.yaml"] = Array("name: General\nresources: []\ndescription: caf".utf8) + [0xE9, 0x0A]
        #expect(load(files).diagnostics.map(\.description) == [
            "catalogs/general.yaml:3:17: error: this file is not valid UTF-8 text; save it as UTF-8",
        ])
    }

    @Test func anUnknownKeyGetsTheClosestKnownOne() {
        // The misspelled key is not also reported as a missing 'approval'.
        #expect(problems(policy: """
            id: p
            name: P
            requestors: {scope: allMembers}
            approvel: none
            """) == [
            "packages/p.md:9:5: error: unknown key 'approvel' in policy (did you mean 'approval'?)",
        ])
    }

    @Test func anUnknownKeyWithNothingCloseListsTheKnownKeys() {
        var catalog = Fixture.files["catalogs/external.yaml"]!
        catalog += "colour: red\n"
        #expect(problems(["catalogs/external.yaml": catalog]) == [
            "catalogs/external.yaml:4:1: error: unknown key 'colour' in catalog (known keys: name, description, enabled, externalUsers, resources, roles)",
        ])
    }

    @Test func aMissingKeyIsReportedAtTheMapping() {
        #expect(problems(["tenant.yaml": """
            name: Test Lab
            domains: [contoso.example]
            baseURL: https://access.contoso.example
            languages: [en, fr]

            """]) == [
            "tenant.yaml:1:1: error: missing key 'timeZone' in tenant.yaml",
        ])
    }

    @Test func aValueOfTheWrongType() {
        #expect(problems(["catalogs/external.yaml": """
            name: External
            roles:
              owners: {person: megan@contoso.example}

            """]) == [
            "catalogs/external.yaml:3:11: error: expected a list of emails for 'owners', found a mapping",
        ])
        #expect(problems(package: """
            name: P
            catalog: general
            hidden: yes
            policies: [{id: p, name: P, requestors: {scope: allMembers}, approval: none}]
            """) == [
            "packages/p.md:4:9: error: expected true or false for 'hidden', found 'yes'",
        ])
        #expect(problems(policy: """
            id: p
            name: P
            requestors: {scope: allMembers}
            approval:
              stages:
                - approvers: [{person: adele@contoso.example}]
                  timeoutDays: ten
            """) == [
            "packages/p.md:12:24: error: expected a whole number for 'timeoutDays', found 'ten'",
        ])
    }

    @Test func aFileWithTheWrongExtensionIsNotSilentlyIgnored() {
        #expect(problems(["packages/extra.yaml": "name: Extra\n", "catalogs/Shared Tools.yml": "name: Shared\n"]) == [
            "catalogs/Shared Tools.yml:1:1: error: catalogs/Shared Tools.yml is not read: catalogs are files named catalogs/<id>.yaml; rename it to catalogs/shared-tools.yaml",
            "packages/extra.yaml:1:1: error: packages/extra.yaml is not read: packages are files named packages/<id>.md; rename it to packages/extra.md",
        ])
    }

    @Test func aPackageIdMustBeUsableInAURL() {
        let wiki = Fixture.edit("packages/wiki.md", "name: Wiki readers", "name: Wiki editors")
        #expect(problems(["packages/Wiki_Editors.md": wiki]) == [
            "packages/Wiki_Editors.md:1:1: error: package id 'Wiki_Editors' (the file name) is not valid: ids may only contain lowercase letters, digits and hyphens, and start with a letter or digit; rename the file to packages/wiki-editors.md",
        ])
    }

    @Test func missingRequiredFiles() {
        #expect(problems(["tenant.yaml": nil, "tenant.yml": "name: x\n"]) == [
            "tenant.yaml:1:1: error: missing tenant.yaml: every site needs one, with name, domains, baseURL, timeZone and languages (did you mean 'tenant.yml'?)",
        ])
        #expect(problems(["people.yaml": nil]) == [
            "people.yaml:1:1: error: missing people.yaml: every site needs one, listing the tenant's people and groups",
        ])
    }

    @Test func anEmptyFileIsAnEmptyMapping() {
        #expect(problems(["catalogs/external.yaml": ""]) == [
            "catalogs/external.yaml:1:1: error: missing key 'name' in catalog",
        ])
    }

    @Test func subFoldersOfModelFoldersAreReported() {
        #expect(problems(["packages/old/p.md": "---\n---\n"]) == [
            "packages/old/p.md:1:1: error: sub-folders of packages/ are not read; move the files into packages/ itself",
        ])
    }
}
