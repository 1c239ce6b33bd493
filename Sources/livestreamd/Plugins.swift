import CloudFrontCDN
import DynamoDBStorage
import FileArchive
import FileStorage
import HLSSplitter
import LivestreamCore
import LocalMedia
import MediaLiveMedia
import NoCDN
import S3Archive

/// Every plugin linked into this executable.
func makeRegistry() -> PluginRegistry {
    var registry = PluginRegistry()
    FileStoragePlugin.register(in: &registry)
    DynamoDBStoragePlugin.register(in: &registry)
    NoCDNPlugin.register(in: &registry)
    CloudFrontPlugin.register(in: &registry)
    LocalMediaPlugin.register(in: &registry)
    MediaLivePlugin.register(in: &registry)
    FileArchivePlugin.register(in: &registry)
    S3ArchivePlugin.register(in: &registry)
    HLSSplitterPlugin.register(in: &registry)
    return registry
}
