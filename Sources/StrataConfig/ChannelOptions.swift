/// Options of one channel namespace (or of channels without a namespace), Centrifugo key names.
public struct ChannelOptions: Equatable, Sendable {
    public var name = ""
    public var historySize = 0
    public var historyTTLSeconds: Int64 = 0
    /// 0 = fall back to `channel.history_meta_ttl`.
    public var historyMetaTTLSeconds: Int64 = 0
    public var forcePositioning = false
    public var allowPositioning = false
    public var forceRecovery = false
    public var allowRecovery = false
    public var forceRecoveryMode: RecoveryMode = .stream
    public var autoCacheRecover = false
    public var allowedDeltaTypes: [String] = []
    public var deltaPublish = false
    public var presence = false
    public var joinLeave = false
    public var forcePushJoinLeave = false
    public var allowSubscribeForClient = false
    public var allowSubscribeForAnonymous = false
    public var allowPublishForClient = false
    public var allowPublishForSubscriber = false
    public var allowPublishForAnonymous = false
    public var allowHistoryForClient = false
    public var allowHistoryForSubscriber = false
    public var allowHistoryForAnonymous = false
    public var allowPresenceForClient = false
    public var allowPresenceForSubscriber = false
    public var allowPresenceForAnonymous = false
    public var allowUserLimitedChannels = false
    public var allowTagsFilter = false
    public var channelRegex = ""
    public var publicationDataFormat: DataFormat = .any

    public init() {}

    public enum RecoveryMode: String, Sendable {
        case stream
        case cache
    }

    /// `publication_data_format`: "" accepts any non-empty JSON payload.
    public enum DataFormat: String, Sendable {
        case any = ""
        case json
        case jsonObject = "json_object"
        case binary
    }

    /// A channel keeps a stream only when both size and TTL are set.
    public var keepsHistory: Bool { historySize > 0 && historyTTLSeconds > 0 }
}
