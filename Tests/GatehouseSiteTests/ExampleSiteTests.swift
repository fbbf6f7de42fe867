import Foundation
import GatehouseModel
import GatehouseSite
import Testing

@Suite struct ExampleSiteTests {
    static let siteFolder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("site").path

    @Test func theFixtureIsValid() {
        let result = load(Fixture.site())
        #expect(result.diagnostics.map(\.description) == [])
        #expect(result.site?.packages.map(\.id) == ["wiki"])
    }

    @Test func theExampleSiteLoadsWithoutProblems() throws {
        let files = try SiteFiles.read(directory: Self.siteFolder)
        let result = SiteLoader(today: today).load(files)
        #expect(result.diagnostics.map(\.description) == [])
        let site = try #require(result.site)

        #expect(site.tenant.name == "Internal LAB")
        #expect(site.tenant.languages == ["en", "fr"])
        #expect(site.tenant.externalUsers == ExternalUserSettings(blockSignIn: true, removeAfterDays: 30))
        #expect(site.tenant.termsOfUse.hasPrefix("## Terms of use for guests of Internal LAB\n"))
        #expect(site.directory.people.count == 6)
        #expect(site.directory.person("adele@contoso.example")?.manager == "nestor@contoso.example")
        #expect(site.directory.members(of: "approvers").map(\.email) == ["adele@contoso.example", "hallam@contoso.example"])
        #expect(site.organizations.map(\.id) == ["azureblog"])
        #expect(site.organizations[0].internalSponsors == ["adele@contoso.example"])
        #expect(site.catalogs.map(\.id) == ["external", "general"])
        #expect(site.catalog("general")?.externalUsers == false)
        #expect(site.catalog("general")?.resource("lab-wiki")?.kind == .site)
        #expect(site.catalog("external")?.roles.packageManagers == ["adele@contoso.example"])
        #expect(site.packages.map(\.id) == ["external-access-package", "external-contractor", "finance-reports", "internal-access-package"])
    }

    @Test func theExampleSitesPackagesAreComplete() throws {
        let site = try #require(SiteLoader(today: today).load(try SiteFiles.read(directory: Self.siteFolder)).site)

        let contractor = try #require(site.package("external-contractor"))
        #expect(contractor.name == "External contractor")
        #expect(contractor.description.hasPrefix("For contractors joining a lab project"))
        let contractors = try #require(contractor.policy("contractors"))
        #expect(contractors.requestors == .anyone)
        #expect(contractors.justification == .required)
        #expect(contractors.lifecycle.expiration == .onDate(CalendarDay(year: 2028, month: 6, day: 30)!))
        let final = try #require(contractors.questions.first)
        #expect(final.kind == .multipleChoice)
        #expect(final.required)
        #expect(final.text.text(in: "fr") == "Quelle équipe a gagné la finale 2022 ?")
        #expect(final.choices.map(\.value) == ["argentina", "france"])
        #expect(final.choices[0].text.text(in: "fr") == "Argentine")
        #expect(final.choices[0].text.text(in: "de") == "Argentina")
        #expect(contractors.questions[1].maxLength == 100)

        let finance = try #require(site.package("finance-reports")?.policy("finance-team"))
        #expect(site.package("finance-reports")?.hidden == true)
        #expect(site.package("finance-reports")?.incompatible.groups == ["lab-admins"])
        #expect(finance.requestors == .specificPeople(people: [], groups: ["finance"]))
        #expect(finance.approvalStages.count == 2)
        let first = finance.approvalStages[0]
        #expect(first.approvers.map(\.kind) == [.manager])
        #expect(first.fallback.map(\.kind) == [.person("megan@contoso.example")])
        #expect(first.timeoutDays == 10)
        #expect(first.escalation?.afterDays == 6)
        #expect(first.escalation?.approvers.map(\.kind) == [.secondLevelManager])
        #expect(finance.approvalStages[1].approvers.map(\.kind) == [.group("approvers")])
        #expect(finance.approvalStages[1].justificationRequired)
        #expect(finance.questions.map(\.id) == ["cost-center", "reports", "purpose"])
        #expect(finance.questions[0].pattern == "[0-9]{4}")
        #expect(finance.questions[1].allowsMultiple)
        #expect(finance.lifecycle.customSchedule)
        #expect(finance.lifecycle.extensionAllowed && finance.lifecycle.extensionRequiresApproval)

        let members = try #require(site.package("internal-access-package")?.policy("members"))
        #expect(members.approvalStages.isEmpty)
        #expect(members.lifecycle.expiration == .afterDays(365))
        let review = try #require(members.lifecycle.review)
        #expect(review.frequency == .monthly)
        #expect(review.durationDays == 14)
        guard case .specific(let reviewers) = review.reviewers else {
            Issue.record("expected specific reviewers, got \(review.reviewers)")
            return
        }
        #expect(reviewers.map(\.kind) == [.person("adele@contoso.example")])
        #expect(review.whenNoResponse == .acceptRecommendation)
    }

    @Test func positionsPointIntoTheMarkdownFile() throws {
        let site = try #require(SiteLoader(today: today).load(try SiteFiles.read(directory: Self.siteFolder)).site)
        let finance = try #require(site.package("finance-reports"))
        // Front matter line 1 is line 2 of the file.
        #expect(finance.source["name"] == SourceLocation(file: "packages/finance-reports.md", line: 2, column: 7))
        let stage = finance.policies[0].approvalStages[0]
        #expect(stage.escalation?.source["afterDays"] == SourceLocation(file: "packages/finance-reports.md", line: 20, column: 35))
        #expect(stage.source["timeoutDays"] == SourceLocation(file: "packages/finance-reports.md", line: 18, column: 24))
        #expect(site.tenant.source["baseURL"] == SourceLocation(file: "tenant.yaml", line: 5, column: 10))
    }
}
