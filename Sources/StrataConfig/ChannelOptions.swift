/// Options of one channel namespace (or of channels without a namespace), Centrifugo key names.
package struct ChannelOptions: Equatable, Sendable {
    package var name = ""
    package var historySize = 0
    package var historyTTLSeconds: Int64 = 0
    /// 0 = fall back to `channel.history_meta_ttl`.
    package var historyMetaTTLSeconds: Int64 = 0
    package var forcePositioning = false
    package var allowPositioning = false
    package var forceRecovery = false
    package var allowRecovery = false
    package var forceRecoveryMode: RecoveryMode = .stream
    package var autoCacheRecover = false
    /// Keyed cache channels (Strata's own, docs/keyed-cache.md): the publication tag whose value
    /// is the key; "" = the channel caches one value, as in Centrifugo.
    package var cacheKeyTag = ""
    /// The most keys (and tombstones) one channel's table holds.
    package var cacheKeyLimit = 10_000
    package var allowedDeltaTypes: [String] = []
    package var deltaPublish = false
    package var presence = false
    package var joinLeave = false
    package var forcePushJoinLeave = false
    package var allowSubscribeForClient = false
    package var allowSubscribeForAnonymous = false
    package var allowPublishForClient = false
    package var allowPublishForSubscriber = false
    package var allowPublishForAnonymous = false
    package var allowHistoryForClient = false
    package var allowHistoryForSubscriber = false
    package var allowHistoryForAnonymous = false
    package var allowPresenceForClient = false
    package var allowPresenceForSubscriber = false
    package var allowPresenceForAnonymous = false
    package var allowUserLimitedChannels = false
    package var allowTagsFilter = false
    package var channelRegex = ""
    /// The proxy (a `StrataConfig.proxies` name) that decides client subscribes, client
    /// publishes, and refreshes expiring subscriptions; nil where the namespace does not enable it.
    package var subscribeProxy: String?
    package var publishProxy: String?
    package var subRefreshProxy: String?
    package var publicationDataFormat: DataFormat = .any

    package init() {}

    package enum RecoveryMode: String, Sendable {
        case stream
        case cache
    }

    /// `publication_data_format`: "" accepts any non-empty JSON payload.
    package enum DataFormat: String, Sendable {
        case any = ""
        case json
        case jsonObject = "json_object"
        case binary

        /// Whether a publication's payload passes `publication_data_format`; a failure is error
        /// 107, for client publishes and the server API alike. `isJSON`: the payload is one JSON
        /// value (always for the API's `data` and a JSON client's; checked for `b64data`, which
        /// Centrifugo v6.9.1 decodes first and then validates, and for a Protobuf client's bytes).
        package func accepts(_ data: [UInt8], isJSON: Bool) -> Bool {
            switch self {
            case .any: !data.isEmpty
            case .json: !data.isEmpty && isJSON
            case .jsonObject: isJSON && data.first { !Self.isJSONWhitespace($0) } == UInt8(ascii: "{")
            case .binary: true
            }
        }

        private static func isJSONWhitespace(_ byte: UInt8) -> Bool {
            byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
        }
    }

    /// A channel keeps a stream only when both size and TTL are set.
    package var keepsHistory: Bool { historySize > 0 && historyTTLSeconds > 0 }
}
