public import GatehouseModel
internal import Foundation
#if canImport(Glibc)
internal import Glibc
#endif

/// The command connectors a site's resources declare (`connector:`), checked on disk: each must be
/// an executable file, a relative path being in the site folder, as `gatehouse sweep` runs it.
///
/// The model itself can be read from anywhere; this is the one check that looks at the machine,
/// so that a typo or a missing `chmod +x` shows up in `gatehouse check`, at the resource's line,
/// instead of as deliveries that fail one after another.
public enum ConnectorFiles {
    /// One diagnostic per resource whose connector cannot run. A relative path that is not there
    /// is an error (it belongs to the site); an absolute one only a warning, since the machine
    /// checking the site need not be the one that delivers.
    public static func problems(in site: Site, siteFolder: String) -> [Diagnostic] {
        let folder = URL(fileURLWithPath: siteFolder).standardizedFileURL.path
        var found: [Diagnostic] = []
        for catalog in site.catalogs {
            for resource in catalog.resources {
                guard let path = resource.connector else { continue }
                let absolute = path.hasPrefix("/")
                let file = absolute ? path : folder + "/" + path
                guard let problem = problem(with: file) else { continue }
                let place = absolute ? "'\(path)'" : "'\(path)' (in \(folder))"
                found.append(Diagnostic(
                    absolute ? .warning : .error, at: resource.source["connector"],
                    "the connector of resource '\(resource.id)', \(place), \(problem)"))
            }
        }
        return found
    }

    /// What keeps `file` from running as a connector, or nil when it can.
    static func problem(with file: String) -> String? {
        var info = stat()
        guard stat(file, &info) == 0 else { return "does not exist: check the path" }
        guard info.st_mode & S_IFMT == S_IFREG else { return "is not a file: name the executable itself" }
        guard access(file, X_OK) == 0 else { return "is not executable: run chmod +x on it" }
        return nil
    }
}
