// swift-tools-version: 6.0
import PackageDescription

let settings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Gatehouse",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "gatehouse", targets: ["gatehouse"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.0.0"),
    ],
    targets: [
        // C libraries, each seen by exactly one Swift module.
        .systemLibrary(name: "CCmark", pkgConfig: "libcmark", providers: [.apt(["libcmark-dev"])]),
        .systemLibrary(name: "CFastCGI", pkgConfig: "fcgi", providers: [.apt(["libfcgi-dev"])]),

        // Values: tenant, people, organizations, catalogs, packages, policies. No IO.
        .target(name: "GatehouseModel", swiftSettings: settings),
        // site/ files -> model, with file:line:column diagnostics.
        .target(
            name: "GatehouseSite",
            dependencies: ["GatehouseModel", .product(name: "Yams", package: "Yams")],
            swiftSettings: settings
        ),
        // Markdown -> HTML through libcmark in safe mode.
        .target(name: "GatehouseMarkdown", dependencies: ["CCmark"], swiftSettings: settings),
        // Templates, view models and URLs shared by the generator and the handler.
        .target(
            name: "Rendering",
            dependencies: [
                "GatehouseModel", "GatehouseMarkdown",
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            swiftSettings: settings
        ),
        // load -> validate -> render -> write (atomic, incremental).
        .target(
            name: "SiteGenerator",
            dependencies: ["GatehouseModel", "GatehouseSite", "Rendering"],
            swiftSettings: settings
        ),
        // Eligibility, requests, approvals, assignments: pure rules, no IO.
        .target(name: "Governance", dependencies: ["GatehouseModel"], swiftSettings: settings),
        // SQLite through GRDB: migrations, transactions, outbox, audit.
        .target(
            name: "GatehouseStore",
            dependencies: ["GatehouseModel", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: settings
        ),
        // Requests through their life on the store: approvals, delivery, the sweep, and their mail.
        .target(
            name: "Workflow",
            dependencies: ["GatehouseModel", "Governance", "GatehouseStore", "Rendering"],
            swiftSettings: settings
        ),
        // Email messages (RFC 5322) and their delivery: .eml folder or a sendmail command.
        .target(name: "GatehouseMail", swiftSettings: settings),
        // The handler's HTTP side, pure: request context, form decoding, cookies, routing, origin check.
        .target(
            name: "Portal",
            dependencies: ["GatehouseModel", "Governance", "Rendering"],
            swiftSettings: settings
        ),
        // The handler's pages and actions: sign-in, requests, history. Request in, response out.
        .target(
            name: "Handlers",
            dependencies: [
                "GatehouseModel", "Governance", "GatehouseStore", "GatehouseMail", "GatehouseMarkdown", "Portal", "Rendering",
                "Workflow", .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: settings
        ),
        // libfcgi accept loop.
        .target(name: "FastCGIServer", dependencies: ["CFastCGI"], swiftSettings: settings),
        // The command line, thin.
        .executableTarget(
            name: "gatehouse",
            dependencies: [
                "GatehouseModel", "GatehouseSite", "SiteGenerator", "Handlers", "FastCGIServer",
                "GatehouseStore", "GatehouseMail", "Rendering", "Portal", "Workflow", "Governance",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: settings
        ),

        .testTarget(name: "GatehouseSiteTests", dependencies: ["GatehouseSite", "GatehouseModel"], swiftSettings: settings),
        .testTarget(
            name: "RenderingTests",
            dependencies: ["Rendering", "GatehouseMarkdown", "GatehouseModel", "GatehouseSite", "SiteGenerator"],
            exclude: ["Snapshots"],
            swiftSettings: settings
        ),
        .testTarget(name: "GovernanceTests", dependencies: ["Governance", "GatehouseModel"], swiftSettings: settings),
        .testTarget(
            name: "GatehouseStoreTests",
            dependencies: ["GatehouseStore", "GatehouseModel", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: settings
        ),
        .testTarget(
            name: "WorkflowTests",
            dependencies: ["Workflow", "Governance", "GatehouseModel", "GatehouseStore", "GatehouseSite"],
            swiftSettings: settings
        ),
        .testTarget(name: "GatehouseMailTests", dependencies: ["GatehouseMail"], swiftSettings: settings),
        .testTarget(name: "PortalTests", dependencies: ["Portal", "GatehouseModel", "Governance", "Rendering"], swiftSettings: settings),
        .testTarget(
            name: "HandlersTests",
            dependencies: ["Handlers", "GatehouseModel", "GatehouseSite", "GatehouseStore", "GatehouseMail", "Portal", "Rendering"],
            swiftSettings: settings
        ),
        .testTarget(name: "FastCGIServerTests", dependencies: ["FastCGIServer"], swiftSettings: settings),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "GatehouseSite", "SiteGenerator", "GatehouseModel", "Rendering", "Handlers", "FastCGIServer",
                "GatehouseStore", "GatehouseMail", "Portal", "Workflow", "Governance",
            ],
            swiftSettings: settings
        ),
    ]
)
