/// How Redis Cluster places keys: 16384 hash slots, a key's slot the CRC16 of its hash tag (the
/// part between the first `{` and the next `}`, when not empty) or of the whole key, and each
/// slot served by one master (docs/redis.md, "Redis Cluster").
enum RedisClusterSlots {
    static let count = 16384

    /// The slot of `key`, as `CLUSTER KEYSLOT` gives it.
    static func slot(of key: String) -> Int {
        let bytes = Array(key.utf8)
        var part = bytes[...]
        if let open = bytes.firstIndex(of: UInt8(ascii: "{")),
            let close = bytes[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1
        {
            part = bytes[(open + 1)..<close]
        }
        return Int(crc16(part) % UInt16(count))
    }

    /// CRC-16/XMODEM (polynomial 0x1021, initial 0), the checksum Redis Cluster hashes with.
    static func crc16(_ bytes: ArraySlice<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc ^= UInt16(byte) << 8
            for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        }
        return crc
    }
}

/// Which master serves each slot, read from `CLUSTER SLOTS`.
struct RedisSlotMap: Sendable, Equatable {
    /// The masters, each once, in the order the reply named them.
    private(set) var masters: [RedisAddress] = []
    /// Per slot, an index into `masters`, or -1 for a slot no master serves.
    private var owners = [Int16](repeating: -1, count: RedisClusterSlots.count)

    init() {}

    /// The map from a `CLUSTER SLOTS` reply: `[[start, end, [host, port, id, …], replicas…], …]`.
    /// A host that is empty or `?` means the node the question went to (`asked`).
    init(clusterSlots reply: RESPValue, asked: RedisAddress) throws(RedisError) {
        guard let ranges = reply.elements else { throw RedisError(.unexpectedReply, "CLUSTER SLOTS answered \(reply)") }
        for range in ranges {
            guard let parts = range.elements, parts.count >= 3, let start = parts[0].int, let end = parts[1].int,
                (0...Int64(RedisClusterSlots.count - 1)).contains(start), (start...Int64(RedisClusterSlots.count - 1)).contains(end),
                let node = parts[2].elements, node.count >= 2, let port = node[1].int
            else { throw RedisError(.unexpectedReply, "CLUSTER SLOTS entry \(range)") }
            let host = node[0].string ?? ""
            set(Int(start)...Int(end), to: RedisAddress(host: host.isEmpty || host == "?" ? asked.host : host, port: Int(port)))
        }
    }

    /// The master serving `slot`, or nil when none does (the cluster is missing a part).
    func master(of slot: Int) -> RedisAddress? {
        let owner = Int(owners[slot])
        return owner < 0 ? nil : masters[owner]
    }

    /// Whether every slot has a master.
    var isComplete: Bool { !owners.contains(-1) }

    /// Records that `master` serves `slots` (a MOVED redirection names one slot).
    mutating func set(_ slots: ClosedRange<Int>, to master: RedisAddress) {
        let index: Int
        if let known = masters.firstIndex(of: master) {
            index = known
        } else {
            masters.append(master)
            index = masters.count - 1
        }
        for slot in slots { owners[slot] = Int16(index) }
    }
}

/// A cluster's answer that a command belongs elsewhere: `MOVED <slot> <host:port>` (the slot has
/// a new master for good) or `ASK <slot> <host:port>` (during a migration, this key is already
/// on the importing node: ask there once, after `ASKING`).
struct RedisRedirection: Sendable, Equatable {
    enum Kind: Sendable, Equatable { case moved, ask }
    let kind: Kind
    let slot: Int
    let target: RedisAddress

    /// The redirection an error reply carries, or nil for any other error. An empty host
    /// (`MOVED 3999 :6380`, a node that does not know its own address) means `asked`'s host.
    init?(errorMessage message: String, asked: RedisAddress) {
        let words = message.split(separator: " ")
        guard words.count == 3, let slot = Int(words[1]), (0..<RedisClusterSlots.count).contains(slot),
            let colon = words[2].lastIndex(of: ":"), let port = Int(words[2][words[2].index(after: colon)...])
        else { return nil }
        switch words[0] {
        case "MOVED": kind = .moved
        case "ASK": kind = .ask
        default: return nil
        }
        let host = String(words[2][..<colon])
        self.slot = slot
        self.target = RedisAddress(host: host.isEmpty ? asked.host : host, port: port)
    }
}
