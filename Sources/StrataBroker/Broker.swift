import StrataCore
import StrataHistory

/// What a broker reports back to its node: publications, joins and leaves for local subscribers.
package protocol BrokerEventHandler: AnyObject, Sendable {
    func handlePublication(channel: String, result: AppendResult)
    func handleJoin(channel: String, info: ClientInfo)
    func handleLeave(channel: String, info: ClientInfo)
    /// Publications of these channels may have been lost on the way to this node (a broker
    /// connection dropped and came back): positioned subscribers must recover from history.
    func handleDeliveryGap(channels: [String])
}

/// Moves publications between nodes and keeps them in history.
///
/// Contract (centrifuge's `Broker`): history append and delivery are atomic per channel, so every
/// node sees a channel's publications in offset order. A node subscribes to a channel while it has
/// local subscribers, strictly before it reads history for them (what makes recovery lossless):
/// `subscribe` returns only once publications of the channel reach the handler.
/// The node serialises `subscribe` and `unsubscribe` of one channel (`ChannelLocks`).
package protocol Broker: Sendable {
    func start(handler: any BrokerEventHandler) async throws
    func publish(channel: String, publication: Publication, options: AppendOptions) async throws -> AppendResult
    func publishJoin(channel: String, info: ClientInfo) async throws
    func publishLeave(channel: String, info: ClientInfo) async throws
    func subscribe(channel: String) async throws
    func unsubscribe(channel: String) async throws
    func history(channel: String, filter: HistoryFilter, metaTTLSeconds: Int64) async throws -> HistoryResult
    func removeHistory(channel: String) async throws
    /// The channel's keyed cache table (StrataHistory/KeyedCache.swift).
    func keyedCache(channel: String, since: UInt64?, metaTTLSeconds: Int64) async throws -> KeyedCacheRead
}

/// The single-node broker: history in a local `HistoryStore` (memory or LMDB), delivery in process.
package final class LocalBroker: Broker {
    private let store: any HistoryStore
    private let handler = Locked<WeakHandler>(WeakHandler())

    struct WeakHandler {
        weak var value: (any BrokerEventHandler)?
    }

    package init(store: any HistoryStore) {
        self.store = store
    }

    package func start(handler: any BrokerEventHandler) async throws {
        self.handler.withLock { $0.value = handler }
    }

    private var current: (any BrokerEventHandler)? { handler.withLock { $0.value } }

    package func publish(channel: String, publication: Publication, options: AppendOptions) async throws -> AppendResult {
        let handler = current
        return try await store.append(channel: channel, publication: publication, options: options) { result in
            handler?.handlePublication(channel: channel, result: result)
        }
    }

    package func publishJoin(channel: String, info: ClientInfo) async throws {
        current?.handleJoin(channel: channel, info: info)
    }

    package func publishLeave(channel: String, info: ClientInfo) async throws {
        current?.handleLeave(channel: channel, info: info)
    }

    package func subscribe(channel: String) async throws {}
    package func unsubscribe(channel: String) async throws {}

    package func history(channel: String, filter: HistoryFilter, metaTTLSeconds: Int64) async throws -> HistoryResult {
        try await store.history(channel: channel, filter: filter, metaTTLSeconds: metaTTLSeconds)
    }

    package func removeHistory(channel: String) async throws {
        try await store.removeHistory(channel: channel)
    }

    package func keyedCache(channel: String, since: UInt64?, metaTTLSeconds: Int64) async throws -> KeyedCacheRead {
        try await store.keyedCache(channel: channel, since: since, metaTTLSeconds: metaTTLSeconds)
    }
}

/// A broker's refusal that clients must see as it is (an error code of the protocol), not as an
/// internal error: a channel name the broker's transport cannot carry, history a broker does
/// not keep.
package struct BrokerRefusal: Error, Sendable {
    package let error: StrataError

    package init(_ error: StrataError) {
        self.error = error
    }
}
