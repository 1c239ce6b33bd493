import LivestreamCore
import Testing

struct StreamRecordTests {
    static let id = "0123456789abcdef0123456789abcdef"

    @Test func pipelinesAreRenderedButNeverStored() throws {
        var record = StreamRecord(id: Self.id, name: "n", lastUpdate: "1732500000")
        record.pipelines = [PipelineStatus(pipeline: 1, publishing: true, input: InputFigures(bitsPerSecond: 5, frameRate: 25, width: 2, height: 1), liveURL: "u")]
        guard case .object(let stored) = record.apiObject else { Issue.record("not an object"); return }
        #expect(stored["pipelines"] == nil)
        let rendered = try JSONValue.parse(record.apiJSON)
        #expect(rendered.objectValue?["pipelines"] == .array([[
            "pipeline": 1, "publishing": true, "publishing_since": .null, "on_air": .null,
            "input": ["bits_per_second": 5, "frame_rate": 25.0, "width": 2, "height": 1], "live_url": "u", "alerts": [], "encoder_state": .null, "thumbnail_url": .null,
        ]]))
        // A client cannot set it.
        let read = try StreamRecord(apiObject: ["id": .string(Self.id), "pipelines": "mine"], version: 1)
        #expect(read.extra["pipelines"] == nil && read.pipelines == nil)
    }

    @Test func apiObjectHasContractFieldsAndTypes() {
        var record = StreamRecord(id: Self.id, name: "n", lastUpdate: "1732500000")
        record.extra = ["custom": ["x": 1]]
        record.archivesPath = ["s": "file:///a/"]
        guard case .object(let object) = record.apiObject else { Issue.record("not an object"); return }
        // problems and pipelines are shown on reads, never stored.
        for field in StreamRecord.contractFields where !["state", "problems", "pipelines"].contains(field) {
            #expect(object[field] != nil, "missing \(field)")
        }
        #expect(object["segment_length"] == .int(300))
        #expect(object["last_update"] == .string("1732500000"))
        #expect(object["last_started"] == .null)
        #expect(object["current_session_id"] == .null)
        #expect(object["started"] == .bool(false))
        #expect(object["ssm_paths"] == .array([]))
        #expect(object["rtmp_ivs"] == "" && object["ivs_viewer_endpoint"] == "" && object["ecs_asg_count"] == 0)
        #expect(object["key_rotation_interval"] == 60 && object["startover_window_seconds"] == 43200)
        #expect(object["custom"] == ["x": 1])
        #expect(object["archives_path"] == ["s": "file:///a/"])
    }

    @Test func roundTripsThroughTheAPIObject() throws {
        var record = StreamRecord(id: Self.id, name: "n", description: "d", segmentLength: 4, lastUpdate: "5")
        record.lastStarted = "6"
        record.currentSessionId = "s"
        record.ssmPaths = ["/a", "/b"]
        record.extra = ["k": [true, nil]]
        let decoded = try StreamRecord(apiObject: record.apiObject.objectValue!, version: 3, mediaState: ["m": 1])
        var expected = record
        expected.version = 3
        expected.mediaState = ["m": 1]
        #expect(decoded == expected)
    }

    @Test func readsOldItemsLeniently() throws {
        // As the old deployment's boto3 code left them: floats for numbers, numeric timestamps, no optional fields.
        let old: [String: JSONValue] = ["id": .string(Self.id), "name": "old", "segment_length": 300.0, "last_update": 1732500000, "started": true]
        let record = try StreamRecord(apiObject: old, version: 0)
        #expect(record.segmentLength == 300 && record.lastUpdate == "1732500000" && record.started && record.description == "")
    }

    @Test func coercesOddStoredTypesAndNamesWhatItCannotRead() throws {
        let odd: [String: JSONValue] = [
            "id": "phantom", "started": "false", "cloudfront_associated": 1, "segment_length": " 120", "name": 42,
            "key_rotation_interval": "soon", "archives_path": ["s": "file:///a/", "t": 5], "ssm_paths": "none", "archive": ["segments": "x"],
        ]
        let record = try StreamRecord(apiObject: odd, version: 1)
        #expect(record.id == "phantom" && !record.started && record.cloudfrontAssociated && record.segmentLength == 120 && record.name == "42")
        #expect(record.keyRotationInterval == 60 && record.archivesPath == ["s": "file:///a/"] && record.ssmPaths == [])
        #expect(record.problems.map { $0.prefix { $0 != ":" } } == ["archives_path.t", "ssm_paths", "key_rotation_interval", "archive.segments"])
        let rendered = try JSONValue.parse(record.apiJSON)
        #expect(rendered.objectValue?["problems"]?.arrayValue?.count == 4)
        #expect(record.apiObject.objectValue?["problems"] == nil, "problems are shown, never stored")
        #expect(try StreamRecord(apiObject: ["id": "x", "segment_length": 0], version: 1).segmentLength == 300)
        #expect(throws: RecordDecodingError.self) { try StreamRecord(apiObject: ["name": "no id"], version: 1) }
        #expect(throws: RecordDecodingError.self) { try StreamRecord(apiObject: ["id": 7], version: 1) }
    }

    @Test func storableIdsAreAnythingSafeAsAKeyOrFileName() {
        for id in ["0123456789abcdef0123456789abcdef", "phantom stream", "NOT-AN-ID", "é", String(repeating: "𝄞", count: 60)] {
            #expect(Identifier.isStorableStreamId(id), "\(id)")
        }
        for id in ["", ".cleanups", "a/b", "100%", "a\\b", "a\u{7}b", "a\u{8E}b", "livestreamd_cleanups", String(repeating: "x", count: 61)] {
            #expect(!Identifier.isStorableStreamId(id), "\(id)")
        }
    }
}

struct StreamRecordRenderTests {
    @Test func directRenderingEqualsTheGenericSerializer() throws {
        var record = StreamRecord(id: StreamRecordTests.id, name: "n \"q\" é\n", lastUpdate: "1")
        #expect(record.apiJSON == record.apiObject.serialized())
        record.extra = ["zz": [1, nil], "a": "first", "rtmp1x": true, "Upper": 2.5]
        record.archivesPath = ["b": "file:///b/", "a": "file:///a/"]
        record.ssmPaths = ["/x", "/y"]
        record.currentSessionId = "s"
        record.lastStopped = "9"
        #expect(record.apiJSON == record.apiObject.serialized())
        #expect(StreamRecord.apiJSON([record, record]) == JSONValue.array([record.apiObject, record.apiObject]).serialized())
        #expect(StreamRecord.apiJSON([]) == Array("[]".utf8))
    }

    @Test func sessionTimesAreStoredButNeverShown() throws {
        var record = StreamRecord(id: StreamRecordTests.id, name: "n", lastUpdate: "1")
        #expect(record.storedObject == record.apiObject, "nothing more to store")
        record.sessionTimes = ["a": SessionTimes(started: "10", stopped: "20"), "b": SessionTimes(started: "30")]
        let stored = try #require(record.storedObject.objectValue)
        #expect(stored["livestreamd_sessions"] == ["a": ["started": "10", "stopped": "20"], "b": ["started": "30"]])
        #expect(!String(decoding: record.apiJSON, as: UTF8.self).contains("livestreamd_sessions"))
        let read = try StreamRecord(apiObject: stored, version: 1)
        #expect(read.sessionTimes == record.sessionTimes && read.extra.isEmpty)
        // A client cannot set them: the name is reserved.
        #expect(try UpdateStreamInput(json: ["livestreamd_sessions": ["x": ["started": "1"]]]).extra.isEmpty)
    }
}
