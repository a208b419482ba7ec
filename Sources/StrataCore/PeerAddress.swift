/// What a per-address limit counts a client by: an IPv4 address whole, an IPv6 address by its
/// /64 prefix. One home or mobile line is given a whole IPv6 /64, so counting single IPv6
/// addresses would let one client appear as 2^64 different ones.
///
/// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, how a dual-stack socket sees IPv4 clients)
/// counts as the IPv4 address.
package struct PeerAddress: Hashable, Sendable, CustomStringConvertible {
    private let bits: UInt64
    private let isIPv6: Bool

    private init(bits: UInt64, isIPv6: Bool) {
        self.bits = bits
        self.isIPv6 = isIPv6
    }

    package init(ipv4 bytes: (UInt8, UInt8, UInt8, UInt8)) {
        self.init(bits: UInt64(bytes.0) << 24 | UInt64(bytes.1) << 16 | UInt64(bytes.2) << 8 | UInt64(bytes.3), isIPv6: false)
    }

    /// From the 16 bytes of an IPv6 address; nil for another count.
    package init?(ipv6 bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        let b = Array(bytes)
        if b[0..<10].allSatisfy({ $0 == 0 }), b[10] == 0xFF, b[11] == 0xFF {
            self.init(ipv4: (b[12], b[13], b[14], b[15]))
            return
        }
        self.init(bits: b[0..<8].reduce(0) { $0 << 8 | UInt64($1) }, isIPv6: true)
    }

    package var description: String {
        if !isIPv6 {
            return [24, 16, 8, 0].map { String(bits >> UInt64($0) & 0xFF) }.joined(separator: ".")
        }
        let groups = [48, 32, 16, 0].map { String(bits >> UInt64($0) & 0xFFFF, radix: 16) }
        return groups.joined(separator: ":") + "::/64"
    }
}
