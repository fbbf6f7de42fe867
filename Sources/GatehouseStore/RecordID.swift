public import Foundation

/// Ids of requests and assignments: 32 lowercase hex digits, the first 12 the creation time in
/// milliseconds since 1970, the other 20 random (80 bits).
///
/// Ids made one after another sort together, so a new row lands at the right edge of every index
/// keyed by id (the primary keys, audit entries by subject, grants by assignment) instead of in a
/// random leaf of a large B-tree: with a million requests, each random leaf was one more 4 KiB
/// page written to the WAL, and again to the database at the checkpoint, for every submission.
/// The random part keeps ids unguessable enough for URLs; access is still checked on every page.
public enum RecordID {
    /// Random bytes the id needs.
    public static let randomByteCount = 10

    /// The id for a record created at `date`; `random` holds ``randomByteCount`` bytes.
    public static func make(at date: Date, random: [UInt8]) -> String {
        precondition(random.count >= randomByteCount, "RecordID needs \(randomByteCount) random bytes")
        let milliseconds = UInt64(max(0, (date.timeIntervalSince1970 * 1000).rounded(.down)))
        var bytes: [UInt8] = (0..<6).map { UInt8(truncatingIfNeeded: milliseconds >> (8 * (5 - $0))) }
        bytes += random.prefix(randomByteCount)
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The creation time an id (or any text starting with 12 lowercase hex digits) carries; nil
    /// when it does not start so.
    public static func time(of id: some StringProtocol) -> Date? {
        var milliseconds: UInt64 = 0
        var count = 0
        for byte in id.utf8.prefix(12) {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            default: return nil
            }
            milliseconds = milliseconds << 4 | UInt64(digit)
            count += 1
        }
        guard count == 12 else { return nil }
        return Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}
