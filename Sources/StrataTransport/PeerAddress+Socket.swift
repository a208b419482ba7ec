import NIOCore
import StrataCore

extension PeerAddress {
    /// The address a per-address limit counts a connection by; nil for a connection without
    /// an IP address (a Unix socket) or an unknown one.
    ///
    /// The bytes come from the socket address structures by offset (the address sits at byte 4
    /// of `sockaddr_in` and byte 8 of `sockaddr_in6`, on Linux and the BSDs alike) rather than
    /// by member: the members belong to NIO's C shim module, which is not ours to import.
    init?(_ address: SocketAddress?) {
        switch address {
        case .v4(let v4):
            let bytes = withUnsafeBytes(of: v4.address) { Array($0[4..<8]) }
            self.init(ipv4: (bytes[0], bytes[1], bytes[2], bytes[3]))
        case .v6(let v6):
            self.init(ipv6: withUnsafeBytes(of: v6.address) { Array($0[8..<24]) })
        default:
            return nil
        }
    }
}
