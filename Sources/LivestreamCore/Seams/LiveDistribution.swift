/// The live CDN distribution (seam `cdn`).
///
/// Puts a stream's playback origin on or off the shared distribution. Both calls are
/// idempotent: associating twice leaves one origin, dissociating a stream that is not
/// on the distribution succeeds.
public protocol LiveDistribution: Sendable {
    /// `viewer_endpoint` as served through the CDN (equal to it with no CDN).
    func cdnViewerEndpoint(for viewerEndpoint: String) -> String

    /// Adds the stream's origin and cache behaviour to the distribution.
    func associate(_ record: StreamRecord) throws

    /// Removes the stream's origin and cache behaviour from the distribution.
    func dissociate(_ record: StreamRecord) throws
}
