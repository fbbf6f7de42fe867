internal import Foundation

/// Where session ids and sign-in codes come from: the system's CSPRNG in production, a fixed
/// sequence in tests.
public struct RandomSource: Sendable {
    private let fill: @Sendable (Int) -> [UInt8]

    /// A source returning `count` bytes per call.
    public init(bytes: @escaping @Sendable (Int) -> [UInt8]) {
        fill = bytes
    }

    /// `SystemRandomNumberGenerator`: getrandom(2) on Linux, arc4random on Darwin.
    /// Eight bytes per draw: a draw is a system call.
    public static let system = RandomSource { count in
        var generator = SystemRandomNumberGenerator()
        var out: [UInt8] = []
        out.reserveCapacity(count + 8)
        while out.count < count {
            withUnsafeBytes(of: generator.next() as UInt64) { out.append(contentsOf: $0) }
        }
        return Array(out.prefix(count))
    }

    /// A repeatable sequence (SplitMix64) for tests; never for production.
    public static func seeded(_ seed: UInt64) -> RandomSource {
        let state = SeedState(seed)
        return RandomSource { count in state.next(count) }
    }

    /// `count` random bytes.
    public func bytes(_ count: Int) -> [UInt8] {
        fill(count)
    }

    /// 256 random bits as 64 lowercase hex digits: a session id that fits any cookie.
    func sessionID() -> String {
        bytes(32).map { String(format: "%02x", $0) }.joined()
    }

    /// A uniformly random six-digit code (`004217`), by rejection sampling.
    func signInCode() -> String {
        while true {
            let b = bytes(4)
            let value = b.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            // 4_294_000_000 is the largest multiple of 1_000_000 below 2^32.
            if value < 4_294_000_000 {
                let code = String(value % 1_000_000)
                return String(repeating: "0", count: 6 - code.count) + code
            }
        }
    }
}

private final class SeedState: @unchecked Sendable {
    private var state: UInt64
    private let lock = NSLock()

    init(_ seed: UInt64) { state = seed }

    func next(_ count: Int) -> [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        var out: [UInt8] = []
        while out.count < count {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            withUnsafeBytes(of: z) { out.append(contentsOf: $0) }
        }
        return Array(out.prefix(count))
    }
}
