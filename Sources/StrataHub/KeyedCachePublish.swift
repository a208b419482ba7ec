import StrataConfig
import StrataCore
import StrataHistory

/// What a publication to a keyed cache channel does to its table (docs/keyed-cache.md): the
/// namespace's `cache_key_tag` names the key, and the tag `cache_removed: "true"` makes the
/// publication a tombstone that removes it.
enum KeyedCachePublish {
    /// The tag that marks a removal.
    static let removedTag = "cache_removed"

    /// nil for a channel that keys nothing; 107 for a publication without its key.
    static func update(_ ns: ChannelOptions, tags: [String: String]) throws(StrataError) -> CacheKeyUpdate? {
        guard !ns.cacheKeyTag.isEmpty else { return nil }
        guard let key = tags[ns.cacheKeyTag], !key.isEmpty else { throw .missingCacheKey(tag: ns.cacheKeyTag) }
        return CacheKeyUpdate(key: key, removes: tags[removedTag] == "true", limit: ns.cacheKeyLimit)
    }
}

extension StrataError {
    /// 107 with the reason: every publication to a keyed channel names its key.
    static func missingCacheKey(tag: String) -> StrataError {
        StrataError(code: StrataError.badRequest.code, message: "bad request: the channel keys its cache by the tag \"\(tag)\"; the publication has none")
    }

    /// 106: a new key would take the channel's table past `cache_key_limit`.
    static func keyedCacheFull(limit: Int) -> StrataError {
        StrataError(code: StrataError.limitExceeded.code, message: "limit exceeded: the channel holds cache_key_limit (\(limit)) keys")
    }
}
