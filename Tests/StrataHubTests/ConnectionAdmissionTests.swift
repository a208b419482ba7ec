import Logging
import StrataConfig
import StrataCore
import Testing

@testable import StrataHub

/// `client.connection_rate_limit_per_ip`, `client.connection_rate_limit` and
/// `client.connection_limit`, asked before a connection opens.
@Suite("Connection admission")
struct ConnectionAdmissionTests {
    let flooder = PeerAddress(ipv4: (10, 0, 0, 1))
    let other = PeerAddress(ipv4: (10, 0, 0, 2))

    /// An admission as the config file's keys set it up.
    func admission(limit: Int = 0, perSecond: Int = 0, perIP: Int = 0, clock: ManualClock) throws -> ConnectionAdmission {
        let json = #"{"client":{"connection_limit":\#(limit),"connection_rate_limit":\#(perSecond),"connection_rate_limit_per_ip":\#(perIP)}}"#
        let config = try ConfigLoader.decode(try ConfigFormats.parse(json, format: .json))
        return ConnectionAdmission(config: config.client, clock: clock, logger: Logger(label: "test"))
    }

    @Test func everythingIsAdmittedWithoutLimits() throws {
        let a = try admission(clock: ManualClock())
        for _ in 0..<1000 { #expect(a.admit(from: flooder, connections: 1_000_000) == nil) }
    }

    /// One address flooding spends its own tokens only: another address still gets in.
    @Test func perAddressLimitKeepsOneFlooderFromLockingOthersOut() throws {
        let clock = ManualClock()
        let a = try admission(perIP: 5, clock: clock)
        let flood = (0..<50).map { _ in a.admit(from: flooder, connections: 0) }
        #expect(flood.filter { $0 == nil }.count == 5)
        #expect(flood.dropFirst(5).allSatisfy { $0 == .rateLimitPerIP })
        for _ in 0..<5 { #expect(a.admit(from: other, connections: 0) == nil) }
        #expect(a.admit(from: other, connections: 0) == .rateLimitPerIP)
        // A connection with no IP address (a Unix socket) is not counted per address.
        #expect(a.admit(from: nil, connections: 0) == nil)
        // Five a second: one more every 200 ms.
        clock.advance(millis: 199)
        #expect(a.admit(from: flooder, connections: 0) == .rateLimitPerIP)
        clock.advance(millis: 1)
        #expect(a.admit(from: flooder, connections: 0) == nil)
    }

    @Test func nodeRateLimitIsABucketOfOneSecond() throws {
        let clock = ManualClock()
        let a = try admission(perSecond: 3, clock: clock)
        let burst = [flooder, other, flooder, other].map { a.admit(from: $0, connections: 0) }
        #expect(burst == [nil, nil, nil, .rateLimit])
        clock.advance(seconds: 1)
        let next = (0..<4).map { _ in a.admit(from: other, connections: 0) }
        #expect(next == [nil, nil, nil, .rateLimit])
    }

    @Test func connectionLimitCountsHeldConnections() throws {
        let a = try admission(limit: 2, clock: ManualClock())
        #expect(a.admit(from: flooder, connections: 1) == nil)
        #expect(a.admit(from: flooder, connections: 2) == .connectionLimit)
    }

    /// Addresses whose bucket has refilled are forgotten, so the table holds only the last
    /// second's addresses however many have come and gone.
    @Test func refilledAddressesAreForgotten() throws {
        let clock = ManualClock()
        let a = try admission(perIP: 2, clock: clock)
        for i in 0..<1000 {
            _ = a.admit(from: PeerAddress(ipv4: (10, 1, UInt8(i / 256), UInt8(i % 256))), connections: 0)
        }
        #expect(a.trackedAddresses == 1000)
        clock.advance(seconds: 1)
        _ = a.admit(from: flooder, connections: 0)
        #expect(a.trackedAddresses == 1)
    }
}
