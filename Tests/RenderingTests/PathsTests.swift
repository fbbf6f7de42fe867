import Rendering
import Testing

struct PathsTests {
    @Test func pagePaths() {
        #expect(Paths.home == "/access-packages/")
        #expect(Paths.package("finance-reports") == "/access-packages/finance-reports/")
        #expect(Paths.requestForm(package: "p", policy: "team") == "/access-packages/p/request/team/")
        #expect(Paths.requestForm(package: "p", policy: "team", language: "fr") == "/access-packages/p/request/team/fr/")
        #expect(Paths.signIn == "/sign-in/")
        #expect(Paths.stylesheet == "/assets/gatehouse.css")
        #expect(Paths.staticFile("img/logo.svg") == "/static/img/logo.svg")
    }

    @Test func handlerEndpointsAreListedOnce() {
        #expect(Paths.handlerPaths == ["/requests", "/sign-in/code", "/sign-in/verify", "/sign-out", "/my/requests/", "/my/access/", "/approvals/"])
        #expect(Set(Paths.handlerPaths).count == Paths.handlerPaths.count)
    }

    @Test func absoluteURLsJoinTheBaseURL() {
        #expect(Paths.absolute(Paths.home, baseURL: "https://access.contoso.example") == "https://access.contoso.example/access-packages/")
        #expect(Paths.absolute(Paths.package("x"), baseURL: "http://127.0.0.1:8080//") == "http://127.0.0.1:8080/access-packages/x/")
    }

    @Test func segmentsArePercentEncodedSoIDsCannotAddSegments() {
        #expect(Paths.segment("a b/c?d#e") == "a%20b%2Fc%3Fd%23e")
        #expect(Paths.segment("..") == "%2E%2E")
        #expect(Paths.segment("été") == "%C3%A9t%C3%A9")
        #expect(Paths.package("../x") == "/access-packages/..%2Fx/")
    }

    @Test func requestFormsLiveBesideTheirPackagePage() {
        #expect(Paths.requestFormFile(package: "p", policy: "team", language: nil) == "access-packages/p/request-team.html")
        #expect(Paths.requestFormFile(package: "p", policy: "team", language: "pt-BR") == "access-packages/p/request-team.pt-BR.html")
    }

    @Test func outputFilesMirrorHowNginxMapsPaths() {
        #expect(Paths.outputFile(for: "/access-packages/") == "access-packages/index.html")
        #expect(Paths.outputFile(for: "/access-packages/p/request/t/fr/") == "access-packages/p/request/t/fr/index.html")
        #expect(Paths.outputFile(for: "/404.html") == "404.html")
        #expect(Paths.outputFile(for: Paths.staticFile("a b.png")) == "static/a b.png")
    }

    @Test func formFieldNames() {
        #expect([FormField.package, FormField.policy, FormField.language, FormField.justification, FormField.start,
                 FormField.end, FormField.returnTo] == ["package", "policy", "language", "justification", "start", "end", "return"])
        #expect(FormField.answer("cost-center") == "answer.cost-center")
    }
}
