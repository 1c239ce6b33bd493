import LivestreamCore
@testable import MediaLiveMedia
import Testing

struct ChannelTemplateTests {
    @Test func theShippedTemplateFillsInPerStream() throws {
        let template = try ChannelTemplate.shipped()
        let body = template.createChannelBody(
            name: "livestreamd-s", roleArn: "arn:role", inputId: "42", requestId: "r", segmentLength: 17,
            destinations: [["id": "mediapackage"], ["id": "archive"]], tags: ["k": "v"])
        let object = try #require(body.objectValue)
        #expect(object["inputSettings"] == nil, "moved into the input attachment")
        let attachment = try #require(object["inputAttachments"]?.arrayValue?.first?.objectValue)
        #expect(attachment["inputId"] == "42" && attachment["inputSettings"] != nil)
        #expect(object["roleArn"] == "arn:role" && object["name"] == "livestreamd-s" && object["tags"] == ["k": "v"])
        let groups = try #require(object["encoderSettings"]?.objectValue?["outputGroups"]?.arrayValue)
        let archives = groups.compactMap { $0.objectValue?["outputGroupSettings"]?.objectValue?["archiveGroupSettings"] }
        let archive = try #require(archives.first)
        #expect(archive.objectValue?["rolloverInterval"] == 17)
    }

    @Test(arguments: [
        (#"{"encoderSettings":{"outputGroups":[]},"roleArn":"x"}"#, "roleArn"),
        (#"[1]"#, "not a JSON object"),
        (#"{"encoderSettings":{}}"#, "outputGroups"),
        (#"{"encoderSettings":{"outputGroups":[{"outputGroupSettings":{"hlsGroupSettings":{"destination":{"destinationRefId":"mediapackage"}}}}]}}"#, "'archive'"),
        (#"{"encoderSettings":{"outputGroups":[{"outputGroupSettings":{"archiveGroupSettings":{"destination":{"destinationRefId":"archive"}}}}]}}"#, "'mediapackage'"),
    ])
    func badTemplatesStopStartUpWithAReason(json: String, reason: String) {
        #expect { try ChannelTemplate(json: Array(json.utf8), source: "t.json") } throws: { error in
            (error as? ConfigurationError)?.message.contains(reason) == true
        }
    }
}
