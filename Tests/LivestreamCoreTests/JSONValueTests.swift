import LivestreamCore
import Testing

struct JSONValueTests {
    @Test func parsesEveryType() throws {
        let value = try JSONValue.parse(#"{"a":[1,-2.5,"x",true,false,null,{"b":{}}],"c":"\u00e9\ud83d\ude00\n"}"#)
        #expect(value == ["a": [1, -2.5, "x", true, false, nil, ["b": [:]]], "c": "é😀\n"])
    }

    @Test func keepsIntegersApartFromFractions() throws {
        #expect(try JSONValue.parse("300") == .int(300))
        #expect(try JSONValue.parse("300.0") == .double(300))
        #expect(try JSONValue.parse("3e2") == .double(300))
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "01", "1.", "-", "\"\u{01}\"", "tru", "[1] x", "\"\\ud800\"", "{\"a\":1,\"a\":2}", "nul",
    ])
    func rejectsMalformedDocuments(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    @Test func limitsNesting() throws {
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(deep) }
        #expect(try JSONValue.parse(String(repeating: "[", count: 64) + String(repeating: "]", count: 64)) != .null)
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONParseError.self) { try JSONValue.parse([0x22, 0xFF, 0x22]) }
    }

    @Test func serializesSortedAndEscaped() throws {
        let value: JSONValue = ["b": "q\"\\\n\u{01}", "a": [1, 2.5, nil, true]]
        #expect(value.jsonString == #"{"a":[1,2.5,null,true],"b":"q\"\\\n\u0001"}"#)
        #expect(try JSONValue.parse(value.serialized()) == value)
    }
}
