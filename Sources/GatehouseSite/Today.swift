public import Foundation
public import GatehouseModel
import Yams

extension SiteLoader {
    /// The date `now` falls on in the tenant's time zone (tenant.yaml `timeZone`), or in UTC when the
    /// file or the zone cannot be read (the loader then reports why). For front ends; the loader itself
    /// only takes the resulting day.
    public static func today(for files: SiteFiles, at now: Date) -> CalendarDay {
        var zone = TimeZone(identifier: "UTC")!
        if let bytes = files.files["tenant.yaml"], let text = Documents.utf8Text(bytes),
           let root = try? Yams.compose(yaml: text), let name = root["timeZone"]?.string,
           let declared = TimeZone(identifier: name) {
            zone = declared
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.year, .month, .day], from: now)
        return CalendarDay(year: parts.year ?? 1970, month: parts.month ?? 1, day: parts.day ?? 1)!
    }
}

extension Diagnostic {
    /// `site/packages/x.md:14:7: error: …` with the site folder as given on the command line;
    /// `site: error: …` for problems with the folder itself (an empty file name).
    public func description(inSiteFolder folder: String) -> String {
        var prefix = folder
        while prefix.count > 1, prefix.hasSuffix("/") { prefix.removeLast() }
        if location.file.isEmpty { return "\(prefix): \(severity.rawValue): \(message)" }
        let path = prefix == "." ? location.file : "\(prefix)/\(location.file)"
        return "\(path):\(location.line):\(location.column): \(severity.rawValue): \(message)"
    }
}
