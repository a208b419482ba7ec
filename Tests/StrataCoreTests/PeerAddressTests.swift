import StrataCore
import Testing

/// What a per-address connection limit counts by.
@Suite("Peer address")
struct PeerAddressTests {
    @Test func ipv4IsCountedWhole() {
        let a = PeerAddress(ipv4: (127, 0, 0, 1))
        #expect(a == PeerAddress(ipv4: (127, 0, 0, 1)))
        #expect(a != PeerAddress(ipv4: (127, 0, 0, 2)))
        #expect(a.description == "127.0.0.1")
    }

    @Test func ipv6IsCountedByItsSlash64() throws {
        let one = try #require(PeerAddress(ipv6: [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2] + [UInt8](repeating: 7, count: 8)))
        let sameLine = try #require(PeerAddress(ipv6: [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2] + [UInt8](repeating: 9, count: 8)))
        let otherLine = try #require(PeerAddress(ipv6: [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 3] + [UInt8](repeating: 7, count: 8)))
        #expect(one == sameLine)
        #expect(one != otherLine)
        #expect(one.description == "2001:db8:1:2::/64")
    }

    @Test func ipv4MappedIPv6IsTheIPv4Address() throws {
        let mapped = try #require(PeerAddress(ipv6: [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF, 10, 0, 0, 5]))
        #expect(mapped == PeerAddress(ipv4: (10, 0, 0, 5)))
        // An address whose first 64 bits are zero is not the IPv4 space without the ffff marker.
        let other = try #require(PeerAddress(ipv6: [UInt8](repeating: 0, count: 12) + [10, 0, 0, 5]))
        #expect(other != PeerAddress(ipv4: (10, 0, 0, 5)))
        #expect(PeerAddress(ipv6: [1, 2, 3]) == nil)
    }
}
