extension StreamController {
    /// `GET /streams/{id}/thumbnail?pipeline=N`: what pipeline `pipeline` (1 or 2) shows now,
    /// or where its backend publishes that picture.
    public func thumbnail(id: String, pipeline: Int) throws -> ThumbnailAnswer {
        let record = try get(id: id)
        if let url = record.pipelines?.first(where: { $0.pipeline == pipeline })?.thumbnailURL { return .published(url: url) }
        if record.started, let picture = try backends.media.thumbnail(of: record, pipeline: pipeline) { return .image(picture) }
        throw ServiceError(
            .notFound, code: "no_thumbnail",
            "stream \(id) has no picture of pipeline \(pipeline) now: it is not live, or its media backend makes none")
    }
}
