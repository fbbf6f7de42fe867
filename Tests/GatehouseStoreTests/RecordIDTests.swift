import Foundation
import Testing
@testable import GatehouseStore

@Suite struct RecordIDTests {
    @Test func thirtyTwoHexDigitsStartingWithTheMilliseconds() {
        let id = RecordID.make(at: Date(timeIntervalSince1970: 1_800_000_000.123), random: Array(repeating: 0xab, count: 10))
        #expect(id == String(1_800_000_000_123, radix: 16).leftPadded(to: 12) + String(repeating: "ab", count: 10))
        #expect(id.count == 32)
    }

    @Test func laterIdsSortAfterEarlierOnesWhateverTheirRandomPart() {
        var generator = SystemRandomNumberGenerator()
        let random = { (0..<10).map { _ in UInt8.random(in: 0...255, using: &generator) } }
        // 2 ms apart, so that no two instants fall in the same millisecond.
        let instants = (0..<1000).map { t0.addingTimeInterval(Double($0) * 0.002) }
        let ids = instants.map { RecordID.make(at: $0, random: random()) }
        let outOfOrder = zip(ids, ids.dropFirst()).filter { $0 >= $1 }
        #expect(outOfOrder.isEmpty, "\(outOfOrder.prefix(3))")
    }

    @Test func theRandomPartKeepsIdsOfTheSameMillisecondApart() {
        let a = RecordID.make(at: t0, random: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
        let b = RecordID.make(at: t0, random: [1, 2, 3, 4, 5, 6, 7, 8, 9, 11])
        #expect(a != b)
        #expect(a.prefix(12) == b.prefix(12))
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }

    @Test func anIdTellsWhenItWasMade() {
        let made = Date(timeIntervalSince1970: 1_800_000_000.123)
        let id = RecordID.make(at: made, random: Array(repeating: 0x5c, count: 10))
        #expect(RecordID.time(of: id) == made)
        #expect(RecordID.time(of: id.prefix(12)) == made)
        for text in ["", "token-1", "0190ABCDEF12aaaa", "0190abcdef1"] { #expect(RecordID.time(of: text) == nil, "\(text)") }
    }
}
