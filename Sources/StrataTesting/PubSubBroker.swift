import StrataBroker
import StrataCore
import StrataHistory

/// A `LocalBroker` that delivers as Redis PUB/SUB does: the node hears of a channel's
/// publications, joins and leaves only while it is subscribed to the channel (a `LocalBroker`
/// hands it every one). Tests of what a node remembers about a channel between two of its
/// subscriptions use it: on Redis, nothing tells the node the channel moved on meanwhile.
package final class PubSubBroker: Broker {
    private let inner: LocalBroker
    private let relay = Relay()

    package init(_ store: any HistoryStore) {
        inner = LocalBroker(store: store)
    }

    /// Passes on events of the channels the node is subscribed to.
    private final class Relay: BrokerEventHandler {
        struct State {
            weak var target: (any BrokerEventHandler)?
            var subscribed: Set<String> = []
        }
        let state = Locked(State())

        private func target(_ channel: String) -> (any BrokerEventHandler)? {
            state.withLock { $0.subscribed.contains(channel) ? $0.target : nil }
        }

        func handlePublication(channel: String, result: AppendResult) { target(channel)?.handlePublication(channel: channel, result: result) }
        func handleJoin(channel: String, info: ClientInfo) { target(channel)?.handleJoin(channel: channel, info: info) }
        func handleLeave(channel: String, info: ClientInfo) { target(channel)?.handleLeave(channel: channel, info: info) }
        func handleDeliveryGap(channels: [String]) { state.withLock { $0.target }?.handleDeliveryGap(channels: channels) }
    }

    package func start(handler: any BrokerEventHandler) async throws {
        relay.state.withLock { $0.target = handler }
        try await inner.start(handler: relay)
    }
    package func publish(channel: String, publication: Publication, options: AppendOptions) async throws -> AppendResult {
        try await inner.publish(channel: channel, publication: publication, options: options)
    }
    package func publishJoin(channel: String, info: ClientInfo) async throws { try await inner.publishJoin(channel: channel, info: info) }
    package func publishLeave(channel: String, info: ClientInfo) async throws { try await inner.publishLeave(channel: channel, info: info) }
    package func subscribe(channel: String) async throws { relay.state.withLock { _ = $0.subscribed.insert(channel) } }
    package func unsubscribe(channel: String) async throws { relay.state.withLock { _ = $0.subscribed.remove(channel) } }
    package func history(channel: String, filter: HistoryFilter, metaTTLSeconds: Int64) async throws -> HistoryResult {
        try await inner.history(channel: channel, filter: filter, metaTTLSeconds: metaTTLSeconds)
    }
    package func removeHistory(channel: String) async throws { try await inner.removeHistory(channel: channel) }
    package func keyedCache(channel: String, since: UInt64?, metaTTLSeconds: Int64) async throws -> KeyedCacheRead {
        try await inner.keyedCache(channel: channel, since: since, metaTTLSeconds: metaTTLSeconds)
    }
}
