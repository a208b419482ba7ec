import NIOCore
import StrataHub

/// What a direct write touches first, for the fan-out to prefetch (`DirectWriter.hotMemory`,
/// `PrefetchSlots`): the writer, its channel, the pipeline context it writes from, the
/// pipeline, each whole; then what the context and the channel point to (NIO's socket,
/// pending writes, atomics, the next context toward the socket), found by `Prefetch.pointees`.
enum DirectWriteMemory {
    /// On the channel's event loop: the channel and the context are read.
    static func regions(writer: AnyObject, channel: any Channel, context: ChannelHandlerContext?, extra: [AnyObject] = []) -> [(address: UInt, bytes: UInt)] {
        func whole(_ object: AnyObject) -> (address: UInt, bytes: UInt) {
            (Prefetch.address(of: object), Prefetch.allocationSize(of: object))
        }
        var regions: [(address: UInt, bytes: UInt)] = [
            whole(writer), whole(channel), context.map(whole) ?? (address: 0, bytes: 0), whole(channel.pipeline),
        ]
        assert(regions.count == DirectWriteRegions.objects)
        var pointees: [UInt] = []
        // The context's first fields are its neighbours: the next one toward the socket is
        // where the write goes.
        if let context { pointees += Prefetch.pointees(of: context) }
        for object in extra { pointees.append(Prefetch.address(of: object)) }
        pointees += Prefetch.pointees(of: channel)
        var seen = Set(regions.map(\.address).filter { $0 != 0 })
        for address in pointees where seen.insert(address).inserted {
            regions.append((address, 64))
        }
        return regions
    }
}
