import NIOCore
import NIOEmbedded
import StrataHub
import Testing

@testable import StrataTransport

/// What a writer gives the fan-out to prefetch (`DirectWriteMemory`): its own objects first,
/// then what its context and channel point to, which must include the next context toward the
/// socket, where a write goes first.
@Suite("Direct writes: the memory the fan-out prefetches")
struct DirectWriteMemoryTests {
    final class Marker: ChannelOutboundHandler, Sendable {
        typealias OutboundIn = ByteBuffer
    }

    @Test func theWritersObjectsComeFirstThenTheNextContext() throws {
        let channel = EmbeddedChannel()
        let towardSocket = Marker()
        let ours = Marker()
        try channel.pipeline.syncOperations.addHandler(towardSocket)
        try channel.pipeline.syncOperations.addHandler(ours)
        let context = try channel.pipeline.syncOperations.context(handler: ours)
        let next = try channel.pipeline.syncOperations.context(handler: towardSocket)
        let writer = Marker()

        let regions = DirectWriteMemory.regions(writer: writer, channel: channel, context: context)
        let addresses = regions.map(\.address)
        #expect(Array(addresses.prefix(DirectWriteRegions.objects)) == [
            Prefetch.address(of: writer), Prefetch.address(of: channel), Prefetch.address(of: context),
            Prefetch.address(of: channel.pipeline),
        ])
        #expect(addresses.dropFirst(DirectWriteRegions.objects).contains(Prefetch.address(of: next)))
        #expect(Set(addresses).count == addresses.count, "each region once")
        #expect(regions.count >= DirectWriteRegions.objects)
    }

    /// Without a context yet (a WebSocket writer before its first write), its slot is empty
    /// and the others keep their places.
    @Test func aMissingContextKeepsItsPlace() throws {
        let channel = EmbeddedChannel()
        let writer = Marker()
        let regions = DirectWriteMemory.regions(writer: writer, channel: channel, context: nil)
        #expect(regions[2].address == 0)
        #expect(regions[3].address == Prefetch.address(of: channel.pipeline))
    }
}
