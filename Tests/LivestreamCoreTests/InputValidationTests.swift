import LivestreamCore
import Testing

struct InputValidationTests {
    func message<T>(_ make: () throws -> T) -> String? {
        do {
            _ = try make()
            return nil
        } catch let error as ServiceError {
            #expect(error.kind == .badRequest)
            return error.message
        } catch {
            return "\(error)"
        }
    }

    @Test func createRules() throws {
        #expect(message { try CreateStreamInput(json: nil) } == "a JSON object body is required")
        #expect(message { try CreateStreamInput(json: []) } == "the body must be a JSON object, not array")
        #expect(message { try CreateStreamInput(json: [:]) } == "name is required")
        #expect(message { try CreateStreamInput(json: ["name": 5]) } == "name must be a string, not integer")
        #expect(message { try CreateStreamInput(json: ["name": "a\u{7}b"]) } == "name must not contain control characters")
        #expect(message { try CreateStreamInput(json: ["name": .string(String(repeating: "x", count: 257))]) } == "name is longer than 256 characters")
        // 200 grapheme clusters, 400 code points: JSON Schema's maxLength counts code points.
        #expect(message { try CreateStreamInput(json: ["name": .string(String(repeating: "e\u{301}", count: 200))]) } == "name is longer than 256 characters")
        #expect(message { try CreateStreamInput(json: ["name": "n", "segment_length": "3oo"]) } == "segment_length must be a whole number in 1...86400")
        #expect(message { try CreateStreamInput(json: ["name": "n", "segment_length": 0]) } == "segment_length must be a whole number in 1...86400")
        #expect(message { try CreateStreamInput(json: ["name": "n", "segment_length": 4.5]) } == "segment_length must be a whole number in 1...86400")
        #expect(message { try CreateStreamInput(json: ["name": "n", "segment_length": "1e3"]) } == "segment_length must be a whole number in 1...86400")
        #expect(message { try CreateStreamInput(json: ["name": "n", "segment_length": true]) } == "segment_length must be an integer, not boolean")
        // What the old deployment's int() accepted: numeric strings, whole-number floats, an empty name.
        #expect(try CreateStreamInput(json: ["name": "n", "segment_length": "120"]).segmentLength == 120)
        #expect(try CreateStreamInput(json: ["name": "n", "segment_length": " 60 "]).segmentLength == 60)
        #expect(try CreateStreamInput(json: ["name": "n", "segment_length": 10.0]).segmentLength == 10)
        #expect(try CreateStreamInput(json: ["name": ""]).name == "")
        #expect(message { try CreateStreamInput(json: ["name": "n", "description": false]) } == "description must be a string, not boolean")
        let many = JSONValue.object(Dictionary(uniqueKeysWithValues: (0..<65).map { ("k\($0)", JSONValue.int(1)) }).merging(["name": "n"]) { a, _ in a })
        #expect(message { try CreateStreamInput(json: many) } == "at most 64 extra fields are kept")
        let ok = try CreateStreamInput(json: ["name": "n", "description": "line\nbreak", "segment_length": nil])
        #expect(ok.segmentLength == 300 && ok.description == "line\nbreak")
    }

    @Test func startRules() throws {
        #expect(try StartStreamInput(json: nil) == StartStreamInput())
        #expect(message { try StartStreamInput(json: ["path": ""]) } == "path must not be empty")
        #expect(message { try StartStreamInput(json: ["path": "a\u{0}"]) } == "path must not contain control characters")
        #expect(message { try StartStreamInput(json: ["startover_window_seconds": -1]) } == "startover_window_seconds must be a whole number in 0...1209600")
        #expect(message { try StartStreamInput(json: ["key_rotation_interval": "6O"]) } == "key_rotation_interval must be a whole number in 0...31536000")
        #expect(try StartStreamInput(json: ["key_rotation_interval": "60", "startover_window_seconds": 600.0])
            == StartStreamInput(startoverWindowSeconds: 600, keyRotationInterval: 60))
    }

    @Test func splitRules() throws {
        let session: JSONValue = "0123456789abcdef0123456789abcdef"
        func split(_ list: JSONValue, modifier: JSONValue? = nil) throws -> SplitInput {
            var body: [String: JSONValue] = ["session_id": session, "timestamp_list": list]
            if let modifier { body["name_modifier"] = modifier }
            return try SplitInput(json: .object(body))
        }
        #expect(message { try SplitInput(json: ["timestamp_list": []]) } == "session_id is required: a 32-character lowercase hex id")
        #expect(message { try SplitInput(json: ["session_id": "../x", "timestamp_list": []]) } == "session_id must be a 32-character lowercase hex id")
        #expect(try split([]).ranges == [], "the old deployment answered an empty list with no playlists")
        #expect(message { try split("0-10") } == "timestamp_list is required: an array of {\"start\", \"end\"} objects")
        #expect(message { try split(.array(Array(repeating: ["start": 0, "end": 1], count: 1001))) } == "timestamp_list has more than 1000 ranges")
        #expect(try split([["start": 5, "end": 3]]).ranges == [TimeRange(start: 5, end: 5)], "an empty range, as the old deployment took it")
        #expect(message { try split([["start": -1, "end": 5]]) } == "timestamp_list[0].start must not be negative")
        #expect(message { try split([["start": 0, "end": "ten"]]) } == "timestamp_list[0].end must be a number of seconds")
        #expect(message { try split([["start": 0, "end": true]]) } == "timestamp_list[0].end must be a number of seconds")
        #expect(message { try split([["start": 0]]) } == "timestamp_list[0].end is required")
        #expect(message { try split([1]) } == "timestamp_list[0] must be an object with start and end")
        let refused = "name_modifier must be a string of at most 50 characters without control characters, '/' or '\\'"
        #expect(message { try split([["start": 0, "end": 1]], modifier: "a/b") } == refused)
        #expect(message { try split([["start": 0, "end": 1]], modifier: "a\\b") } == refused)
        #expect(message { try split([["start": 0, "end": 1]], modifier: "a\tb") } == refused)
        #expect(message { try split([["start": 0, "end": 1]], modifier: .string(String(repeating: "a", count: 51))) } == refused)
        #expect(message { try split([["start": 0, "end": 1]], modifier: 7) } == refused)
        // As the old deployment took them: dots, spaces, empty.
        for kept in ["clip.v1", "my clip", "", ".."] { #expect(try split([["start": 0, "end": 1]], modifier: .string(kept)).nameModifier == kept) }
        let ok = try split([["start": "1.5", "end": 3]], modifier: "clip_1-a")
        #expect(ok.ranges == [TimeRange(start: 1.5, end: 3)] && ok.nameModifier == "clip_1-a")
    }
}
