import Logging
import NIOCore
import StrataCore
import NIOPosix
import Synchronization

/// A fixed number of `RedisConnection`s used in turn, each connected lazily and reconnected
/// (with backoff and jitter) after it is lost.
///
/// Every connection pipelines already, so the pool is not about waiting for a free connection:
/// it spreads the parsing and socket work over the event loops, and spreads channels (commands
/// by key) over several connections. Slots are dealt to the group's event loops in turn, so a
/// caller running on an event loop can use a connection of its own loop
/// (`connectionOnCallerLoop`) and get its reply without a thread switch. Other commands go
/// round-robin; a batch from `pipeline` stays on one connection and keeps its order.
package final class RedisConnectionPool: Sendable {
    package let configuration: RedisConfiguration
    private let slots: [RedisPoolSlot]
    /// Each event loop's first slot. Slots are dealt to the loops in turn, so loop `i` of the
    /// group has slot `i` (loops beyond the pool's size have none).
    private let firstSlotByLoop: [(loop: any EventLoop, slot: Int)]
    private let turn = Atomic<Int>(0)

    package init(
        configuration: RedisConfiguration = RedisConfiguration(), size: Int = 4, backoff: RedisBackoff = RedisBackoff(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "strata.redis")
    ) {
        self.configuration = configuration
        let loops = Array(eventLoopGroup.makeIterator())
        let size = max(1, size)
        let recovery = RedisPoolRecovery()
        self.slots = (0..<size).map { index in
            RedisPoolSlot(
                configuration: configuration, backoff: backoff, eventLoopGroup: loops.isEmpty ? eventLoopGroup : loops[index % loops.count],
                recovery: recovery, logger: logger)
        }
        self.firstSlotByLoop = loops.prefix(size).enumerated().map { position, loop in (loop, position) }
    }

    package var size: Int { slots.count }

    /// Closes every open connection; each slot connects again on its next use.
    package func dropConnections() async {
        for slot in slots { await slot.drop() }
    }

    package func send(_ command: RESPCommand) async throws(RedisError) -> RESPValue {
        try await nextSlot().connection().send(command)
    }

    package func send(_ name: String, _ arguments: any RESPArgument...) async throws(RedisError) -> RESPValue {
        try await send(RESPCommand(name, arguments: arguments))
    }

    /// The batch goes to one connection with one flush; see `RedisConnection.pipeline`.
    package func pipeline(_ commands: [RESPCommand]) async throws(RedisError) -> [RESPValue] {
        try await nextSlot().connection().pipeline(commands)
    }

    /// The connection that always carries commands about `key` (while it lives): commands on one
    /// connection run in the order they were sent, which per-channel ordering relies on.
    package func connection(forKey key: String) async throws(RedisError) -> RedisConnection {
        try await slots[Int(StableHash.fnv1a64(key) % UInt64(slots.count))].connection()
    }

    /// The first connection on the event loop the caller runs on (any connection when it runs on
    /// none): for commands whose completion order with others does not matter.
    ///
    /// Always the same one per loop: the commands a loop makes in one turn (the publishes of
    /// several requests read in one wake-up) then leave in one write, and Redis reads them in one
    /// read and answers in one write. Dealt in turn over the loop's connections, one turn's batch
    /// cost a write, a read and a reply write per connection: at 8 publishes in flight that was
    /// 90 µs of CPU per publish (server and Redis) against 72 µs on one connection
    /// (docs/benchmarks-log.md §6).
    package func connectionOnCallerLoop() async throws(RedisError) -> RedisConnection {
        for (loop, slot) in firstSlotByLoop where loop.inEventLoop {
            return try await slots[slot].connection()
        }
        return try await nextSlot().connection()
    }

    /// Connects every slot now rather than on first use; throws the first failure.
    package func connectAll() async throws(RedisError) {
        for slot in slots { _ = try await slot.connection() }
    }

    /// Closes every connection; later commands fail with `.connectionClosed`.
    package func close() async {
        for slot in slots { await slot.close() }
    }

    private func nextSlot() -> RedisPoolSlot {
        let turn = turn.wrappingAdd(1, ordering: .relaxed).oldValue
        return slots[Int(turn.magnitude % UInt(slots.count))]
    }
}
