import AWSClient
import Foundation
import LivestreamCore
@testable import MediaLiveMedia
import Synchronization
import Testing

struct ChannelThumbnailsTests {
    static let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0xFF, 0xD9]
    static let answer = #"{"thumbnailDetails":[{"pipelineId":"1","thumbnails":[{"body":"\#(Data(jpeg).base64EncodedString())","contentType":"image/jpeg","thumbnailType":"CURRENT_ACTIVE","timeStamp":"2026-12-07T10:00:00"}]}]}"#

    /// A clock the test moves.
    final class Clock: Sendable {
        let seconds = Mutex<Int64>(1_000)
        func advance(_ by: Int64) { seconds.withLock { $0 += by } }
    }

    @Test func aPictureIsAskedOfTheRightPipelineAndKeptFiveSeconds() throws {
        let transport = ScriptedTransport { method, path in
            method == "GET" && path == "/prod/channels/c1/thumbnails" ? json(200, Self.answer) : json(404, "{}")
        }
        let clock = Clock()
        let thumbnails = ChannelThumbnails(services: services(transport), now: { clock.seconds.withLock { $0 } })

        #expect(try thumbnails.picture(channel: "c1", pipeline: 2) == Thumbnail(bytes: Self.jpeg, contentType: "image/jpeg"))
        clock.advance(4)
        #expect(try thumbnails.picture(channel: "c1", pipeline: 2) != nil)
        #expect(transport.calls.withLock { $0.count } == 1, "asked once in 5 s")
        _ = try thumbnails.picture(channel: "c1", pipeline: 1)
        clock.advance(1)
        _ = try thumbnails.picture(channel: "c1", pipeline: 2)
        #expect(transport.calls.withLock { $0.count } == 3, "each pipeline kept on its own; asked again after 5 s")
    }

    /// Records each request's URL; answers with a picture.
    final class URLRecorder: HTTPTransport {
        let urls = Mutex<[String]>([])
        func send(_ request: HTTPRequest) throws -> HTTPResponse {
            urls.withLock { $0.append(request.url) }
            return json(200, ChannelThumbnailsTests.answer)
        }
    }

    @Test func theQueryNamesMediaLivesPipelineAndTheOnlyType() throws {
        let recorder = URLRecorder()
        let thumbnails = ChannelThumbnails(services: services(recorder), now: { 0 })
        _ = try thumbnails.picture(channel: "c9", pipeline: 1)
        _ = try thumbnails.picture(channel: "c9", pipeline: 2)
        #expect(recorder.urls.withLock { $0 } == [
            "http://aws.test/prod/channels/c9/thumbnails?pipelineId=0&thumbnailType=CURRENT_ACTIVE",
            "http://aws.test/prod/channels/c9/thumbnails?pipelineId=1&thumbnailType=CURRENT_ACTIVE",
        ])
    }

    @Test func noPictureWhenTheChannelMakesNoneOrIsNotRunning() throws {
        let transport = ScriptedTransport { _, path in
            switch path {
            case "/prod/channels/old/thumbnails": json(200, #"{"thumbnailDetails":[]}"#)
            case "/prod/channels/idle/thumbnails":
                HTTPResponse(status: 400, headers: ["x-amzn-errortype": "BadRequestException"], body: Array(#"{"message":"Channel is not running"}"#.utf8))
            default: json(404, #"{"message":"gone"}"#)
            }
        }
        let thumbnails = ChannelThumbnails(services: services(transport), now: { 0 })
        #expect(try thumbnails.picture(channel: "old", pipeline: 1) == nil)
        #expect(try thumbnails.picture(channel: "idle", pipeline: 1) == nil)
        #expect(try thumbnails.picture(channel: "deleted", pipeline: 1) == nil)
        _ = try thumbnails.picture(channel: "idle", pipeline: 1)
        #expect(transport.calls.withLock { $0.count } == 3, "no picture is an answer kept too")
    }

    @Test func aFailingServiceIsAnErrorNotAMissingPicture() {
        let transport = ScriptedTransport { _, _ in
            HTTPResponse(status: 403, headers: ["x-amzn-errortype": "ForbiddenException"], body: Array(#"{"message":"not allowed"}"#.utf8))
        }
        let thumbnails = ChannelThumbnails(services: services(transport), now: { 0 })
        #expect(throws: ServiceError.self) { try thumbnails.picture(channel: "c1", pipeline: 1) }
    }

    @Test func onlyAnImageTypeGoesOutAndBadBodiesAreSkipped() throws {
        let png = try JSONValue.parse(Array(#"{"thumbnailDetails":[{"thumbnails":[{"body":"%%%"},{"body":"iVBORw==","contentType":"image/png"}]}]}"#.utf8))
        #expect(ChannelThumbnails.picture(in: png) == Thumbnail(bytes: [0x89, 0x50, 0x4E, 0x47], contentType: "image/png"))
        let odd = try JSONValue.parse(Array(#"{"thumbnailDetails":[{"thumbnails":[{"body":"iVBORw==","contentType":"text/html\r\nX: 1"}]}]}"#.utf8))
        #expect(ChannelThumbnails.picture(in: odd)?.contentType == "image/jpeg")
        #expect(ChannelThumbnails.picture(in: [:]) == nil)
    }
}
