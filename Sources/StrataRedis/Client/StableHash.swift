/// FNV-1a, 64 bit: a hash that is the same in every process and on every run (Swift's `Hasher`
/// is seeded per process), for choosing a connection or a Redis shard by channel name.
enum StableHash {
    static func fnv1a64(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }

    /// Jump consistent hash (Lamping and Veach, 2014): a bucket in 0..<buckets such that adding a
    /// bucket moves only 1/buckets of the keys.
    static func jump(_ key: UInt64, buckets: Int) -> Int {
        var key = key
        var b: Int64 = -1
        var j: Int64 = 0
        while j < Int64(buckets) {
            b = j
            key = key &* 2_862_933_555_777_941_757 &+ 1
            j = Int64(Double(b + 1) * (Double(Int64(1) << 31) / Double((key >> 33) + 1)))
        }
        return Int(b)
    }
}
