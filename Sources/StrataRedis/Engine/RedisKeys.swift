/// Redis key and PUB/SUB channel names, Centrifugo's layout under a prefix
/// (docs/protocol/history.md §4; `storage/README.md` for the values Strata stores in them).
struct RedisKeys: Sendable {
    let prefix: String

    /// Stream of publications: entry ID `<offset>-0`, one field `d` with the publication record.
    func stream(_ channel: String) -> String { prefix + ".stream." + channel }
    /// Stream meta hash: e epoch, s top, v / ve version; ex / mx expiry times (ms) under a test clock.
    func meta(_ channel: String) -> String { prefix + ".stream.meta." + channel }
    /// Keyed cache table (Lua/keyed.lua): key → 'v' or 'r' (tombstone) + publication record.
    func keyedValues(_ channel: String) -> String { prefix + ".keyed.values." + channel }
    /// Keyed cache table: every key by its entry's offset.
    func keyedOrder(_ channel: String) -> String { prefix + ".keyed.order." + channel }
    /// Keyed cache table: removed keys by their tombstone's offset.
    func keyedTombstones(_ channel: String) -> String { prefix + ".keyed.tombstones." + channel }
    /// The three keys of a channel's keyed table, in the scripts' order.
    func keyed(_ channel: String) -> [String] { [keyedValues(channel), keyedOrder(channel), keyedTombstones(channel)] }
    /// Idempotent publish result: s offset, e epoch; x expiry time (ms) under a test clock.
    func result(_ channel: String, _ idempotencyKey: String) -> String { prefix + ".result." + channel + "." + idempotencyKey }
    /// Where nodes publish the channel's messages to each other.
    func pubSub(_ channel: String) -> String { prefix + ".client." + channel }
    /// Presence: client id → info record.
    func presenceData(_ channel: String) -> String { prefix + ".presence.data." + channel }
    /// Presence: client id → expiry time (s).
    func presenceExpire(_ channel: String) -> String { prefix + ".presence.expire." + channel }

    /// The channel a PUB/SUB name belongs to, or nil for a name outside this prefix.
    func channel(fromPubSub name: String) -> String? {
        let head = prefix + ".client."
        guard name.hasPrefix(head) else { return nil }
        return String(name.dropFirst(head.count))
    }
}
