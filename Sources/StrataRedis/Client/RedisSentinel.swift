import Logging
import NIOCore
import NIOPosix
import Synchronization

/// One shard's Redis Sentinels (`engine.redis.sentinel_address`): where its master is, asked
/// anew for every connection, and a watch on `+switch-master` so a failover moves every
/// connection to the new master at once.
///
/// Connections to the master are `RedisConfiguration`s whose `locate` is `locateMaster` and
/// which require `ROLE` to say master: an old master back as a replica is refused at connect.
/// Connections already open to it when the master changes are dropped by the shard
/// (`RedisShards`), as Sentinel itself does not close them: writes there would fail with
/// READONLY and PUB/SUB there would hear nothing — the silent kind of failure.
package final class RedisSentinel: Sendable {
    package let masterName: String
    private let sentinels: [RedisAddress]
    /// The template of a Sentinel connection: its credentials, TLS and timeouts.
    private let sentinelConfiguration: RedisConfiguration
    private let logger: Logger
    private struct State {
        /// The Sentinel to ask first: the last one that answered.
        var preferred = 0
        /// The Sentinel the watch connects to next (it moves on after each attempt).
        var watchCursor = 0
        var master: RedisAddress?
        var watch: RedisSubscriber?
        var consumer: Task<Void, Never>?
    }

    private let state = Mutex(State())

    package init(sentinels: [RedisAddress], masterName: String, configuration: RedisConfiguration, logger: Logger) {
        precondition(!sentinels.isEmpty, "at least one Sentinel")
        self.sentinels = sentinels
        self.masterName = masterName
        self.sentinelConfiguration = configuration
        self.logger = logger
    }

    /// The master's address, from the first Sentinel that knows it (the last one that answered
    /// first). Throws when none does, with each one's reason.
    package func locateMaster() async throws(RedisError) -> RedisAddress {
        let first = state.withLock { $0.preferred }
        var reasons: [String] = []
        for step in 0..<sentinels.count {
            let index = (first + step) % sentinels.count
            let sentinel = sentinels[index]
            do throws(RedisError) {
                let master = try await ask(sentinel)
                state.withLock {
                    $0.preferred = index
                    $0.master = master
                }
                return master
            } catch {
                reasons.append("\(sentinel): \(error.message)")
            }
        }
        throw RedisError(.connectFailed, "no Sentinel named the master \"\(masterName)\": \(reasons.joined(separator: "; "))")
    }

    /// The master as last located (nil before the first).
    package var knownMaster: RedisAddress? { state.withLock { $0.master } }

    private func ask(_ sentinel: RedisAddress) async throws(RedisError) -> RedisAddress {
        var configuration = sentinelConfiguration
        configuration.host = sentinel.host
        configuration.port = sentinel.port
        configuration.probeInterval = .zero
        let connection = try await RedisConnection.connect(configuration, logger: logger)
        let answer: Result<RESPValue, RedisError>
        do throws(RedisError) {
            answer = .success(try await connection.send("SENTINEL", "get-master-addr-by-name", masterName))
        } catch {
            answer = .failure(error)
        }
        await connection.close()
        let reply = try answer.get()
        guard let parts = reply.elements, parts.count == 2, let host = parts[0].string, let portText = parts[1].string,
            let port = Int(portText)
        else {
            throw RedisError(.unexpectedReply, reply == .null ? "does not monitor \"\(masterName)\"" : "answered \(reply)")
        }
        return RedisAddress(host: host, port: port)
    }

    /// The Sentinel the watch tries next: each attempt moves on, so a dead one is skipped.
    private func nextSentinel() -> RedisAddress {
        state.withLock { s in
            defer { s.watchCursor += 1 }
            return sentinels[s.watchCursor % sentinels.count]
        }
    }

    /// Subscribes to `+switch-master` on a Sentinel and calls `onSwitch` with the new master
    /// whenever this shard's changes. Messages missed while the watch reconnects are made up
    /// for by asking for the master again once it is back.
    package func watch(onSwitch: @escaping @Sendable (RedisAddress) -> Void) async throws(RedisError) {
        var configuration = sentinelConfiguration
        configuration.locate = { [weak self] () throws(RedisError) -> RedisAddress in
            guard let self else { throw RedisError(.connectionClosed, "sentinel closed") }
            return self.nextSentinel()
        }
        let subscriber = try await RedisSubscriber.connect(configuration, logger: logger)
        try await subscriber.subscribe("+switch-master")
        let consumer = Task { [weak self] in
            for await event in subscriber.events {
                guard let self else { return }
                switch event {
                case .message(let message):
                    // "<name> <old ip> <old port> <new ip> <new port>"
                    let parts = String(decoding: message.payload, as: UTF8.self).split(separator: " ")
                    guard parts.count == 5, parts[0] == self.masterName, let port = Int(parts[4]) else { continue }
                    self.switched(to: RedisAddress(host: String(parts[3]), port: port), onSwitch: onSwitch)
                case .resubscribed:
                    if let master = try? await self.locateMaster() { self.switched(to: master, onSwitch: onSwitch) }
                case .disconnected:
                    self.logger.warning("redis sentinel watch lost, reconnecting", metadata: ["master": "\(self.masterName)"])
                }
            }
        }
        state.withLock {
            $0.watch = subscriber
            $0.consumer = consumer
        }
    }

    /// Records the master and reports it when it is not the one known.
    private func switched(to master: RedisAddress, onSwitch: @Sendable (RedisAddress) -> Void) {
        let previous = state.withLock { s -> RedisAddress? in
            defer { s.master = master }
            return s.master
        }
        guard previous != master else { return }
        logger.warning(
            "redis master switched", metadata: ["master": "\(masterName)", "from": "\(previous.map { "\($0)" } ?? "-")", "to": "\(master)"])
        onSwitch(master)
    }

    package func close() async {
        let (watch, consumer) = state.withLock { s in
            defer {
                s.watch = nil
                s.consumer = nil
            }
            return (s.watch, s.consumer)
        }
        await watch?.close()
        await consumer?.value
    }
}
