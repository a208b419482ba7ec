/// Whether a Redis may evict history keys: with `maxmemory` set and any policy but
/// `noeviction`, Redis drops whole keys when memory runs short — a stream, its meta, a keyed
/// table's parts — whatever their TTL says. Each loss is caught (a missing meta starts a new
/// epoch, a missing stream fails recovery with `history_expired`), but clients then lose their
/// recovery; Redis must refuse writes instead (docs/redis.md, "Memory and eviction").
enum RedisEvictionCheck {
    /// The problem `INFO memory`'s answer shows, or nil when history keys are safe.
    static func problem(infoMemory: String) -> String? {
        var fields: [Substring: Substring] = [:]
        for line in infoMemory.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon]] = line[line.index(after: colon)...]
        }
        guard let limit = fields["maxmemory"].flatMap({ Int($0) }), limit > 0, let policy = fields["maxmemory_policy"],
            policy != "noeviction"
        else { return nil }
        return "maxmemory is \(limit) bytes with maxmemory-policy \(policy): Redis may evict history keys when full; set maxmemory-policy noeviction"
    }
}

extension RedisShards {
    /// The eviction problem of each server that has one, by its address. A server that does
    /// not answer `INFO memory` (renamed or forbidden) is not reported.
    package func evictionProblems() async -> [String] {
        var problems: [String] = []
        for (address, pool) in masterPools() {
            guard let reply = try? await pool.connection(forKey: "").send("INFO", "memory"), let text = reply.bytes,
                let problem = RedisEvictionCheck.problem(infoMemory: String(decoding: text, as: UTF8.self))
            else { continue }
            problems.append("\(address): \(problem)")
        }
        return problems
    }
}
