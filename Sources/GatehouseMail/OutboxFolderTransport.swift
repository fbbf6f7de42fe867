public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Delivers each message as `<UTC timestamp>-<message id>.eml` in a folder (`var/mail/` by default).
///
/// The file is written to a hidden temporary name, flushed to disk and renamed, so a reader never sees
/// half a message; delivering the same message again replaces its file with identical bytes.
public struct OutboxFolderTransport: MailTransport {
    public let folder: URL

    /// `folder` is created on first delivery, with intermediate folders.
    public init(folder: URL) { self.folder = folder }

    /// Where `mail` lands, e.g. `var/mail/20250707T120309.042Z-4f1c2e@access.example.org.eml`.
    public func fileURL(for mail: ComposedMail) -> URL {
        folder.appendingPathComponent(Self.fileName(for: mail))
    }

    /// Names sort by the message's date, to the millisecond, then by id.
    public static func fileName(for mail: ComposedMail) -> String {
        let milliseconds = Int64((mail.date.timeIntervalSince1970 * 1000).rounded())
        let (seconds, millis) = floorDivide(milliseconds, 1000)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .utc
        let c = calendar.dateComponents(
            [.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: TimeInterval(seconds)))
        let stamp = String(format: "%04d%02d%02dT%02d%02d%02d.%03dZ",
            c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!, Int(millis))
        return "\(stamp)-\(mail.messageID).eml"
    }

    public func deliver(_ mail: ComposedMail) throws(DeliveryError) {
        try deliver([mail])[0].get()
    }

    /// Writes each message (flushed to disk), then flushes the folder once, so a batch costs one
    /// directory sync rather than one per message.
    public func deliver(_ mails: [ComposedMail]) -> [Result<Void, DeliveryError>] {
        guard !mails.isEmpty else { return [] }
        do throws(DeliveryError) {
            try Self.makeFolder(folder.path)
        } catch {
            return mails.map { _ in .failure(error) }
        }
        let results = mails.map { mail in Result { () throws(DeliveryError) in try place(mail) } }
        // Persist the renames themselves, so a message marked sent survives a crash.
        let directory = open(folder.path, O_RDONLY)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
        return results
    }

    private func place(_ mail: ComposedMail) throws(DeliveryError) {
        let target = fileURL(for: mail)
        let temporary = folder.appendingPathComponent("." + target.lastPathComponent + ".tmp")
        try Self.writeFile(mail.data, to: temporary.path, describedAs: target.path)
        guard rename(temporary.path, target.path) == 0 else {
            let reason = Self.systemError()
            unlink(temporary.path)
            throw DeliveryError("could not move the message into \(target.path): \(reason)")
        }
    }

    /// Creates (mode 0644 whatever the umask), writes everything, fsyncs and closes.
    static func writeFile(_ data: Data, to path: String, describedAs name: String) throws(DeliveryError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DeliveryError("could not write \(name): \(systemError())") }
        var failure: String?
        let bytes = [UInt8](data)
        var offset = 0
        while offset < bytes.count && failure == nil {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno != EINTR { failure = systemError() }
            } else {
                offset += written
            }
        }
        if failure == nil && fchmod(fd, 0o644) != 0 { failure = systemError() }
        if failure == nil && fsync(fd) != 0 { failure = systemError() }
        if close(fd) != 0 && failure == nil { failure = systemError() }
        if let failure {
            unlink(path)
            throw DeliveryError("could not write \(name): \(failure)")
        }
    }

    static func systemError() -> String { String(cString: strerror(errno)) }

    /// `mkdir -p` with mode 0755, failing with the system's reason (Foundation's are vaguer).
    static func makeFolder(_ path: String) throws(DeliveryError) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw DeliveryError("could not create the mail folder \(path): \(systemError())")
            }
        }
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw DeliveryError("could not create the mail folder \(path): a file of that name is in the way")
        }
    }
}

func floorDivide(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
    let remainder = ((value % divisor) + divisor) % divisor
    return ((value - remainder) / divisor, remainder)
}
