import AWSClient
import Foundation
import LivestreamCore
import Synchronization

/// The thumbnails MediaLive makes of a running channel's input (the channel's
/// `thumbnailConfiguration`, on in the shipped template), read with DescribeThumbnails.
///
/// An answer is kept `keptSeconds` per channel and pipeline: consoles polling many streams cost
/// MediaLive at most one call per channel and pipeline in that time.
final class ChannelThumbnails: Sendable {
    static let keptSeconds: Int64 = 5

    private let services: MediaServices
    private let now: @Sendable () -> Int64
    private let kept = Mutex<[String: (at: Int64, picture: Thumbnail?)]>([:])

    init(services: MediaServices, now: @escaping @Sendable () -> Int64) {
        self.services = services
        self.now = now
    }

    /// Pipeline 1 or 2 of the channel; nil when MediaLive has no picture (the channel is not running,
    /// or makes none: the old deployment's channels).
    func picture(channel: String, pipeline: Int) throws -> Thumbnail? {
        let key = "\(channel)/\(pipeline - 1)"
        let now = now()
        if let known = kept.withLock({ $0[key] }), now - known.at < Self.keptSeconds { return known.picture }
        let picture: Thumbnail?
        do {
            let answer = try services.rest(
                services.medialive, "GET", "/prod/channels/\(channel)/thumbnails", query: "pipelineId=\(pipeline - 1)&thumbnailType=CURRENT_ACTIVE")
            picture = Self.picture(in: answer)
        } catch let error as AWSError where [400, 404, 409].contains(error.status) {
            // A channel that is not running is a BadRequest; a deleted one is not found.
            picture = nil
        } catch {
            throw MediaServices.failure(error, doing: "DescribeThumbnails")
        }
        kept.withLock { kept in
            kept = kept.filter { now - $0.value.at < Self.keptSeconds }
            kept[key] = (now, picture)
        }
        return picture
    }

    /// The first picture of a DescribeThumbnails answer (`thumbnailDetails[].thumbnails[].body`, base64).
    static func picture(in answer: JSONValue) -> Thumbnail? {
        for detail in answer.objectValue?["thumbnailDetails"]?.arrayValue ?? [] {
            for thumbnail in detail.objectValue?["thumbnails"]?.arrayValue ?? [] {
                guard let body = thumbnail.objectValue?["body"]?.stringValue, let data = Data(base64Encoded: body), !data.isEmpty else { continue }
                // Only an image type goes out as the answer's Content-Type.
                let type = thumbnail.objectValue?["contentType"]?.stringValue == "image/png" ? "image/png" : "image/jpeg"
                return Thumbnail(bytes: Array(data), contentType: type)
            }
        }
        return nil
    }
}
