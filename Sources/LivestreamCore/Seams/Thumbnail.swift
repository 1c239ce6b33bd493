/// A picture of what one pipeline of a live stream shows now, as a media backend hands it out.
public struct Thumbnail: Sendable, Equatable {
    public var bytes: [UInt8]
    /// `image/jpeg` (MediaLive's thumbnails).
    public var contentType: String

    public init(bytes: [UInt8], contentType: String) {
        self.bytes = bytes
        self.contentType = contentType
    }
}

/// `GET /streams/{id}/thumbnail`: the picture, or where the backend publishes it.
public enum ThumbnailAnswer: Sendable, Equatable {
    /// A backend that hands pictures out (MediaLive's DescribeThumbnails).
    case image(Thumbnail)
    /// A backend that publishes them at `PipelineStatus.thumbnailURL` (the local pipeline's live folder).
    case published(url: String)
}
