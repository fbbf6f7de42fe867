import Foundation
import GatehouseModel
import GatehouseSite
import Testing

/// tenant.yaml, people.yaml, organizations and catalogs.
@Suite struct TenantTests {
    @Test func baseURLMustBeAnAbsoluteHTTPURL() {
        #expect(problems(["tenant.yaml": Fixture.edit("tenant.yaml", "https://access.contoso.example", "access.contoso.example")]) == [
            "tenant.yaml:3:10: error: baseURL 'access.contoso.example' must be an absolute http:// or https:// URL without query or fragment, like https://access.contoso.example",
        ])
        #expect(problems(["tenant.yaml": Fixture.edit("tenant.yaml", "https://access.contoso.example", "ftp://access.contoso.example")]) == [
            "tenant.yaml:3:10: error: baseURL 'ftp://access.contoso.example' must be an absolute http:// or https:// URL without query or fragment, like https://access.contoso.example",
        ])
    }

    @Test func baseURLLosesItsTrailingSlash() {
        let site = load(Fixture.site(["tenant.yaml": Fixture.edit("tenant.yaml", "contoso.example\n", "contoso.example/\n")])).site
        #expect(site?.tenant.baseURL == "https://access.contoso.example")
    }

    @Test func languagesMustNotBeEmpty() {
        #expect(problems(["tenant.yaml": Fixture.edit("tenant.yaml", "languages: [en, fr]", "languages: []")]) == [
            "tenant.yaml:5:12: error: no languages: list at least one language code, e.g. languages: [en]; the first is the default",
        ])
    }

    @Test func languageCodesAreChecked() {
        #expect(problems(["tenant.yaml": Fixture.edit("tenant.yaml", "languages: [en, fr]", "languages: [en, French, en]")]) == [
            "tenant.yaml:5:17: error: 'French' is not a language code (like en, fr or pt-BR)",
            "tenant.yaml:5:25: error: language 'en' is listed twice",
        ])
    }

    @Test func timeZoneMustBeKnown() {
        #expect(problems(["tenant.yaml": Fixture.edit("tenant.yaml", "Europe/Paris", "Paris")]) == [
            "tenant.yaml:4:11: error: unknown time zone 'Paris'; use an IANA name like Europe/Paris",
        ])
    }

    @Test func domainsMustNotBeEmpty() {
        // Without the tenant's domains nobody can be checked as internal, so nothing else is reported.
        #expect(problems(["tenant.yaml": Fixture.edit("tenant.yaml", "domains: [contoso.example]", "domains: []")]) == [
            "tenant.yaml:2:10: error: no domains: list the email domains of the tenant's own people, e.g. domains: [contoso.example]",
        ])
    }

    @Test func adminsMustBePeople() {
        #expect(problems(["tenant.yaml": Fixture.edit("tenant.yaml", "admins: [megan@", "admins: [megann@")]) == [
            "tenant.yaml:6:10: error: tenant admin 'megann@contoso.example' is not in people.yaml (did you mean 'megan@contoso.example'?)",
        ])
    }

    @Test func externalUserSettings() {
        let tenant = Fixture.files["tenant.yaml"]! + "externalUsers: {blockSignIn: true, removeAfterDays: -1}\n"
        #expect(problems(["tenant.yaml": tenant]) == [
            "tenant.yaml:7:53: error: expected 0 (remove at once), a number of days, or never for 'removeAfterDays', found '-1'",
        ])
        let never = Fixture.files["tenant.yaml"]! + "externalUsers: {blockSignIn: true, removeAfterDays: never}\n"
        #expect(load(Fixture.site(["tenant.yaml": never])).site?.tenant.externalUsers == ExternalUserSettings(blockSignIn: true, removeAfterDays: nil))
    }
}

@Suite struct PeopleTests {
    @Test func internalPeopleMustHaveTheTenantsDomain() {
        let people = Fixture.edit("people.yaml", "groups:\n  - {id: admins", "  - {email: alex@fabrikam.example, name: Alex}\ngroups:\n  - {id: admins")
        #expect(problems(["people.yaml": people]) == [
            "people.yaml:9:13: error: 'alex@fabrikam.example' is not in the tenant's domains (contoso.example): people.yaml lists internal people only; external users appear when they first sign in",
        ])
    }

    @Test func aPersonIsListedOnce() {
        let people = Fixture.edit("people.yaml", "groups:\n  - {id: admins", "  - {email: Megan@contoso.example, name: Megan}\ngroups:\n  - {id: admins")
        #expect(problems(["people.yaml": people]) == [
            "people.yaml:9:13: error: person 'Megan@contoso.example' is already listed (line 2); each person appears once",
        ])
    }

    @Test func groupIdsAreUnique() {
        let people = Fixture.files["people.yaml"]! + "  - {id: admins, name: Admins again}\n"
        #expect(problems(["people.yaml": people]) == [
            "people.yaml:12:10: error: group 'admins' is already declared (line 10); group ids must be unique",
        ])
    }

    @Test func managersAndGroupsMustExist() {
        let people = Fixture.edit("people.yaml", "manager: megan@", "manager: megn@")
            .replacingOccurrences(of: "groups: [approvers]", with: "groups: [aprovers]")
        #expect(problems(["people.yaml": people]) == [
            "people.yaml:7:14: error: manager 'megn@contoso.example' is not in people.yaml (did you mean 'megan@contoso.example'?)",
            "people.yaml:8:14: error: group 'aprovers' is not declared under groups in people.yaml (did you mean 'approvers'?)",
        ])
    }

    @Test func managersDoNotLoop() {
        let people = Fixture.edit("people.yaml", "    groups: [admins]\n", "    manager: adele@contoso.example\n    groups: [admins]\n")
        #expect(problems(["people.yaml": people]) == [
            "people.yaml:4:14: error: managers form a loop: megan@contoso.example → adele@contoso.example → megan@contoso.example; someone in it must report to someone else",
        ])
        let own = Fixture.edit("people.yaml", "manager: megan@", "manager: adele@")
        #expect(problems(["people.yaml": own]) == [
            "people.yaml:7:14: error: adele@contoso.example is their own manager; remove 'manager' or name someone else",
        ])
    }

    @Test func emailsMustBeEmails() {
        // Adele's entry is not read, so the organization that names her reports it too.
        #expect(problems(["people.yaml": Fixture.edit("people.yaml", "email: adele@contoso.example", "email: adele")]) == [
            "organizations/azureblog.yaml:3:20: error: internal sponsor 'adele@contoso.example' is not in people.yaml",
            "people.yaml:5:12: error: 'adele' is not an email address",
        ])
    }
}

@Suite struct OrganizationTests {
    @Test func twoOrganizationsCannotShareANameOrADomain() {
        #expect(problems(["organizations/azureblog-2.yaml": "name: Azureblog\ndomains: [azureblog.example]\n"]) == [
            "organizations/azureblog.yaml:1:7: error: organization name 'Azureblog' is already used by organizations/azureblog-2.yaml; give each organization a distinct name",
            "organizations/azureblog.yaml:2:11: error: domain 'azureblog.example' already belongs to organization 'azureblog-2'; a domain belongs to one organization",
        ])
        #expect(problems(["organizations/azureblog-2.yaml": "name: azureblog\ndomains: [azureblog2.example]\n"]) == [
            "organizations/azureblog.yaml:1:7: error: organization name 'Azureblog' is already used by organizations/azureblog-2.yaml; give each organization a distinct name",
        ])
    }

    @Test func sponsors() {
        let organization = """
            name: Azureblog
            domains: [azureblog.example]
            internalSponsors: [adel@contoso.example]
            externalSponsors: [adele@contoso.example, don@gmail.example]

            """
        #expect(problems(["organizations/azureblog.yaml": organization]) == [
            "organizations/azureblog.yaml:3:20: error: internal sponsor 'adel@contoso.example' is not in people.yaml (did you mean 'adele@contoso.example'?)",
            "organizations/azureblog.yaml:4:20: error: external sponsor 'adele@contoso.example' is one of the tenant's own people; list them under internalSponsors",
            "organizations/azureblog.yaml:4:43: error: external sponsor 'don@gmail.example' is not from this organization's domains (azureblog.example)",
        ])
    }

    @Test func anOrganizationCannotClaimTheTenantsDomain() {
        #expect(problems(["organizations/azureblog.yaml": "name: Azureblog\ndomains: [Contoso.example]\n"]) == [
            "organizations/azureblog.yaml:2:11: error: domain 'Contoso.example' is one of the tenant's own domains; connected organizations are for external users",
        ])
    }

    @Test func stateIsConfiguredOrProposed() {
        #expect(problems(["organizations/azureblog.yaml": "name: Azureblog\ndomains: [azureblog.example]\nstate: configure\n"]) == [
            "organizations/azureblog.yaml:3:8: error: unknown organization state 'configure' (did you mean 'configured'?)",
        ])
    }
}

@Suite struct CatalogTests {
    @Test func resourceIdsAreUniqueInACatalog() {
        let catalog = Fixture.edit("catalogs/general.yaml", "roles:\n", "  - {id: wiki, type: site, name: Old wiki}\nroles:\n")
        #expect(problems(["catalogs/general.yaml": catalog]) == [
            "catalogs/general.yaml:6:10: error: resource 'wiki' is already declared in this catalog (line 4); resource ids must be unique",
        ])
    }

    @Test func aResourceBelongsToOneCatalog() {
        let catalog = Fixture.files["catalogs/external.yaml"]! + "  - {id: wiki, type: site, name: Wiki}\n"
        #expect(problems(["catalogs/external.yaml": catalog]) == [
            "catalogs/general.yaml:4:10: error: resource 'wiki' is already declared in catalog 'external' (catalogs/external.yaml:4:10); a resource belongs to one catalog",
        ])
    }

    @Test func catalogRolesNamePeople() {
        let catalog = Fixture.files["catalogs/general.yaml"]! + "  readers: [lee@contoso.example, megan@contoso.example, megan@contoso.example]\n"
        #expect(problems(["catalogs/general.yaml": catalog]) == [
            "catalogs/general.yaml:8:13: error: catalog reader 'lee@contoso.example' is not in people.yaml",
            "catalogs/general.yaml:8:57: error: catalog reader 'megan@contoso.example' is already listed (line 8)",
        ])
    }

    @Test func resourceTypesAndRoles() {
        let catalog = """
            name: External
            resources:
              - {id: team, type: grup, name: Team}
              - {id: crew, type: group, name: Crew, roles: [Member, Admin]}
              - {id: app, type: application, name: App, roles: []}

            """
        #expect(problems(["catalogs/external.yaml": catalog]) == [
            "catalogs/external.yaml:3:22: error: unknown resource type 'grup' (did you mean 'group'?)",
            "catalogs/external.yaml:4:57: error: a group has the roles Member and Owner, not 'Admin'",
            "catalogs/external.yaml:5:52: error: no roles: list the resource's roles, or remove 'roles' to use the defaults of its type",
        ])
    }

    @Test func resourcesWithoutRolesGetTheDefaultsOfTheirType() throws {
        let site = try #require(load(Fixture.site()).site)
        #expect(site.catalog("general")?.resource("wiki")?.roles == ["Read", "Edit", "Full control"])
        #expect(site.catalog("external")?.resource("team")?.roles == ["Member", "Owner"])
        #expect(site.catalog("external")?.externalUsers == true)
        #expect(site.catalog("external")?.enabled == true)
    }

    @Test func idsFromFileNamesAndInFiles() {
        let catalog = Fixture.files["catalogs/external.yaml"]! + "  - {id: Big Team, type: group, name: Big}\n"
        #expect(problems(["catalogs/external.yaml": catalog]) == [
            "catalogs/external.yaml:4:10: error: resource id 'Big Team' is not valid: ids may only contain lowercase letters, digits and hyphens, and start with a letter or digit (for example 'big-team')",
        ])
    }
}
