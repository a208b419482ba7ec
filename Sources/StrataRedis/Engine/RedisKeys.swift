/// Redis key and PUB/SUB channel names, Centrifugo's layout under a prefix
/// (docs/protocol/history.md §4; `storage/README.md` for the values Strata stores in them).
///
/// In a Redis Cluster (`hashTagged`) the channel part is written `{channel}`, as Centrifugo does:
/// Redis hashes only what is inside the braces, so a channel's keys share a slot and one script
/// can touch them all; its PUB/SUB name carries the tag too (Centrifugo's, so both servers can
/// share a cluster).
struct RedisKeys: Sendable {
    let prefix: String
    let hashTagged: Bool

    init(prefix: String, hashTagged: Bool = false) {
        self.prefix = prefix
        self.hashTagged = hashTagged
    }

    /// The channel as it appears in its keys.
    private func tagged(_ channel: String) -> String { hashTagged ? "{" + channel + "}" : channel }

    /// Stream of publications: entry ID `<offset>-0`, one field `d` with the publication record.
    func stream(_ channel: String) -> String { prefix + ".stream." + tagged(channel) }
    /// Stream meta hash: e epoch, s top, v / ve version; ex / mx expiry times (ms) under a test clock.
    func meta(_ channel: String) -> String { prefix + ".stream.meta." + tagged(channel) }
    /// Keyed cache table (Lua/keyed.lua): key → 'v' or 'r' (tombstone) + publication record.
    func keyedValues(_ channel: String) -> String { prefix + ".keyed.values." + tagged(channel) }
    /// Keyed cache table: every key by its entry's offset.
    func keyedOrder(_ channel: String) -> String { prefix + ".keyed.order." + tagged(channel) }
    /// Keyed cache table: removed keys by their tombstone's offset.
    func keyedTombstones(_ channel: String) -> String { prefix + ".keyed.tombstones." + tagged(channel) }
    /// The three keys of a channel's keyed table, in the scripts' order.
    func keyed(_ channel: String) -> [String] { [keyedValues(channel), keyedOrder(channel), keyedTombstones(channel)] }
    /// Idempotent publish result: s offset, e epoch; x expiry time (ms) under a test clock.
    func result(_ channel: String, _ idempotencyKey: String) -> String { prefix + ".result." + tagged(channel) + "." + idempotencyKey }
    /// Where nodes publish the channel's messages to each other.
    func pubSub(_ channel: String) -> String { prefix + ".client." + tagged(channel) }
    /// Presence: client id → info record.
    func presenceData(_ channel: String) -> String { prefix + ".presence.data." + tagged(channel) }
    /// Presence: client id → expiry time (s).
    func presenceExpire(_ channel: String) -> String { prefix + ".presence.expire." + tagged(channel) }

    /// The node registry (`RedisNodeRegistry`, Strata's own): node id → record, and node ids by
    /// expiry time. One tag keeps both in one slot of a cluster.
    var nodes: String { prefix + (hashTagged ? ".{nodes}" : ".nodes") }
    var nodesExpiry: String { nodes + ".expire" }

    /// The channel a PUB/SUB name belongs to, or nil for a name outside this prefix.
    func channel(fromPubSub name: String) -> String? {
        let head = prefix + ".client."
        guard name.hasPrefix(head) else { return nil }
        let rest = name.dropFirst(head.count)
        guard hashTagged else { return String(rest) }
        guard rest.count >= 2, rest.first == "{", rest.last == "}" else { return nil }
        return String(rest.dropFirst().dropLast())
    }
}
