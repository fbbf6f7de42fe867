import GatehouseModel
import Governance
import Testing

/// A small tenant in code: one internal catalog, one open to external users, a disabled one.
func makeSite() -> Site {
    let tenant = Tenant(
        name: "Internal LAB", domains: ["contoso.example"], baseURL: "https://access.contoso.example",
        timeZone: "Europe/Paris", languages: ["en"], admins: ["megan@contoso.example"],
        externalUsers: ExternalUserSettings(), termsOfUse: "")
    let directory = Directory(
        people: [
            Person(email: "allan@contoso.example", name: "Allan Deyoung", groups: ["finance"]),
            Person(email: "megan@contoso.example", name: "Megan Bowen", groups: ["lab-admins"]),
            Person(email: "lee@contoso.example", name: "Lee Gu"),
        ],
        groups: [Group(id: "finance", name: "Finance team"), Group(id: "lab-admins", name: "LAB administrators")])
    let orgs = [
        Organization(id: "azureblog", name: "Azureblog", domains: ["azureblog.example"]),
        Organization(id: "fabrikam", name: "Fabrikam", domains: ["fabrikam.example"], state: .proposed),
    ]
    let catalogs = [
        Catalog(id: "general", name: "General", externalUsers: false),
        Catalog(id: "external", name: "External"),
        Catalog(id: "closed", name: "Closed", enabled: false),
    ]
    let packages = [
        AccessPackage(id: "internal", name: "Internal", catalog: "general", policies: [
            Policy(id: "finance", name: "Finance", requestors: .specificPeople(people: [], groups: ["finance"])),
            Policy(id: "members", name: "Members", requestors: .allMembers),
            Policy(id: "everyone", name: "Everyone", requestors: .allUsers),
        ]),
        AccessPackage(id: "partner", name: "Partner", catalog: "external", policies: [
            Policy(id: "azureblog", name: "Azureblog", requestors: .specificOrganizations(["azureblog"])),
            Policy(id: "configured", name: "Configured", requestors: .allConfiguredOrganizations),
            Policy(id: "guests", name: "Guests", requestors: .allUsers),
        ]),
        AccessPackage(id: "contractor", name: "Contractor", catalog: "external", policies: [
            Policy(id: "anyone", name: "Anyone", requestors: .anyone),
            Policy(id: "admins", name: "Admins", requestors: .adminOnly),
        ]),
        AccessPackage(id: "secret", name: "Secret", catalog: "general", hidden: true,
                      incompatible: Incompatibility(packages: ["internal"], groups: ["lab-admins"]),
                      policies: [Policy(id: "members", name: "Members", requestors: .allMembers)]),
        AccessPackage(id: "off", name: "Off", catalog: "general", policies: [
            Policy(id: "members", name: "Members", requestors: .allMembers, enabled: false),
        ]),
        AccessPackage(id: "closed", name: "Closed", catalog: "closed", policies: [
            Policy(id: "members", name: "Members", requestors: .allMembers),
        ]),
    ]
    return Site(tenant: tenant, directory: directory, organizations: orgs, catalogs: catalogs, packages: packages)
}

@Suite struct EligibilityTests {
    let site = makeSite()
    var eligibility: Eligibility { Eligibility(site: site) }

    @Test func resolvesRequestorsFromTheModel() {
        let allan = Requestor(email: "Allan@Contoso.example", in: site)
        #expect(allan.isInternal && allan.groups == ["finance"] && allan.organization == nil)
        let alex = Requestor(email: "alex@azureblog.example", in: site, isGuest: true)
        #expect(!alex.isInternal && alex.isGuest && alex.organization?.id == "azureblog")
        let don = Requestor(email: "don@gmail.example", in: site)
        #expect(!don.isInternal && don.organization == nil)
    }

    @Test(arguments: [
        // (email, guest, scope, included)
        ("allan@contoso.example", false, RequestorScope.specificPeople(people: [], groups: ["finance"]), true),
        ("lee@contoso.example", false, .specificPeople(people: ["LEE@contoso.example"], groups: []), true),
        ("lee@contoso.example", false, .specificPeople(people: [], groups: ["finance"]), false),
        ("lee@contoso.example", false, .allMembers, true),
        ("alex@azureblog.example", true, .allMembers, false),
        ("alex@azureblog.example", true, .allUsers, true),
        ("alex@azureblog.example", false, .allUsers, false),
        ("alex@azureblog.example", false, .specificOrganizations(["azureblog"]), true),
        ("sam@fabrikam.example", false, .specificOrganizations(["fabrikam"]), true),
        ("sam@fabrikam.example", false, .allConfiguredOrganizations, false),
        ("alex@azureblog.example", false, .allConfiguredOrganizations, true),
        ("don@gmail.example", false, .anyone, true),
        ("lee@contoso.example", false, .anyone, false),
        ("megan@contoso.example", false, .adminOnly, false),
    ])
    func scopes(email: String, guest: Bool, scope: RequestorScope, included: Bool) {
        let requestor = Requestor(email: email, in: site, isGuest: guest)
        #expect(eligibility.scope(scope, includes: requestor) == included)
    }

    @Test func theMostSpecificPolicyWins() {
        let internalPackage = site.package("internal")!
        #expect(eligibility.requestPolicies(internalPackage, for: Requestor(email: "allan@contoso.example", in: site)).map(\.id) == ["finance"])
        #expect(eligibility.requestPolicies(internalPackage, for: Requestor(email: "lee@contoso.example", in: site)).map(\.id) == ["members"])
        let partner = site.package("partner")!
        #expect(eligibility.requestPolicies(partner, for: Requestor(email: "alex@azureblog.example", in: site, isGuest: true)).map(\.id) == ["azureblog"])
    }

    @Test func theHomeListsOnlyWhatThePersonCanRequest() {
        let lee = Requestor(email: "lee@contoso.example", in: site)
        // Not the hidden one, not the one whose policy is off, not the disabled catalog's;
        // Partner through its allUsers policy, which members are part of.
        #expect(eligibility.listedPackages(for: lee).map(\.id) == ["internal", "partner"])
        let don = Requestor(email: "don@gmail.example", in: site)
        #expect(eligibility.listedPackages(for: don).map(\.id) == ["contractor"])
        // A hidden package is still requestable by its link.
        #expect(eligibility.requestPolicies(site.package("secret")!, for: lee).map(\.id) == ["members"])
    }

    @Test func blocksSayWhichRuleAndWhatToDo() {
        let lee = Requestor(email: "lee@contoso.example", in: site)
        let internalPackage = site.package("internal")!
        #expect(eligibility.blocks(requesting: internalPackage, through: "members", by: lee, holding: [], openRequests: []).isEmpty)
        #expect(eligibility.blocks(requesting: internalPackage, through: "finance", by: lee, holding: [], openRequests: [])
            .map(\.description) == ["The request option “Finance” is for members of Finance team, and you are not one of them. Use “Members” instead."])
        #expect(eligibility.blocks(requesting: internalPackage, through: "members", by: lee, holding: ["internal"], openRequests: ["internal"])
            .map(\.description) == [
                "You already have an open request for Internal. Wait for its decision or cancel it from your request history.",
                "You already have Internal. Extend it from My access instead of requesting it again.",
            ])
        let don = Requestor(email: "don@gmail.example", in: site)
        #expect(eligibility.blocks(requesting: internalPackage, through: "members", by: don, holding: [], openRequests: [])
            == [.catalogClosedToExternalUsers(package: "Internal", catalog: "General")])
        #expect(eligibility.blocks(requesting: site.package("contractor")!, through: "admins", by: don, holding: [], openRequests: [])
            == [.policyClosed(package: "Contractor", policy: "Admins")])
        #expect(eligibility.blocks(requesting: site.package("closed")!, through: "members", by: lee, holding: [], openRequests: [])
            == [.catalogDisabled(package: "Closed")])
        let blocked = Requestor(email: "lee@contoso.example", in: site, isBlocked: true)
        #expect(eligibility.blocks(requesting: internalPackage, through: "members", by: blocked, holding: [], openRequests: []) == [.blocked])
    }

    @Test func separationOfDutiesIsOneDirectional() {
        let megan = Requestor(email: "megan@contoso.example", in: site)
        let secret = site.package("secret")!
        #expect(eligibility.blocks(requesting: secret, through: "members", by: megan, holding: ["internal"], openRequests: []) == [
            .incompatiblePackage(package: "Secret", holding: "Internal"),
            .incompatibleGroup(package: "Secret", group: "LAB administrators"),
        ])
        // Holding Secret does not block Internal: only Secret declares the incompatibility.
        let lee = Requestor(email: "lee@contoso.example", in: site)
        #expect(eligibility.blocks(requesting: site.package("internal")!, through: "members", by: lee, holding: ["secret"], openRequests: []).isEmpty)
    }
}
