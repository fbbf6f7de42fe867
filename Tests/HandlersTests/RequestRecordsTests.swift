import Foundation
import Governance
@testable import Handlers
import Testing

/// The answers column is written without JSONSerialization; stored rows must not change.
@Suite struct RequestRecordsTests {
    private func foundation(_ answers: [GivenAnswer]) -> String {
        let object = answers.map { ["questionID": $0.questionID, "question": $0.question, "values": $0.values, "shown": $0.shown] }
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    @Test func answersAreWrittenAsJSONSerializationWritesThem() {
        let controls = (0..<0x20).map { String(UnicodeScalar(UInt8($0))) }.joined()
        let texts = [
            "", "plain", "Which team won the 2022 final?", "Quelle équipe a gagné la finale 2022 ?", "a/b\\c\"d",
            controls, "tab\tnew\nline\r\u{8}\u{C}", "\u{7F} DEL and \u{2028}\u{2029} separators", "emoji 👩🏽‍💻 and 中文",
            "</script><script>alert(1)</script>", "ends with backslash \\",
        ]
        var answers: [GivenAnswer] = []
        for (index, text) in texts.enumerated() {
            answers.append(GivenAnswer(questionID: "q\(index)", question: text, values: [text, "v"], shown: index % 2 == 0 ? [] : [text]))
        }
        #expect(RequestRecords.answersJSON(answers) == foundation(answers))
        #expect(RequestRecords.answersJSON([]) == foundation([]))
        // And it reads back as it was given.
        #expect(RequestRecords.answers(fromJSON: RequestRecords.answersJSON(answers)) == answers)
    }
}
