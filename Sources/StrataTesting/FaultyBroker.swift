import StrataBroker
import StrataCore
import StrataHistory

/// A `LocalBroker` over a store with parts that fail, as a store or Redis that is down: tests
/// of what the node answers (and keeps) when publishing or reading history fails.
package final class FaultyBroker: Broker {
    package struct Down: Error {}

    private let inner: LocalBroker
    private let failPublish: Bool
    private let failHistory: Bool

    package init(_ store: any HistoryStore, failPublish: Bool = false, failHistory: Bool = false) {
        inner = LocalBroker(store: store)
        self.failPublish = failPublish
        self.failHistory = failHistory
    }

    package func start(handler: any BrokerEventHandler) async throws { try await inner.start(handler: handler) }
    package func publish(channel: String, publication: Publication, options: AppendOptions) async throws -> AppendResult {
        if failPublish { throw Down() }
        return try await inner.publish(channel: channel, publication: publication, options: options)
    }
    package func publishJoin(channel: String, info: ClientInfo) async throws { try await inner.publishJoin(channel: channel, info: info) }
    package func publishLeave(channel: String, info: ClientInfo) async throws { try await inner.publishLeave(channel: channel, info: info) }
    package func subscribe(channel: String) async throws { try await inner.subscribe(channel: channel) }
    package func unsubscribe(channel: String) async throws { try await inner.unsubscribe(channel: channel) }
    package func history(channel: String, filter: HistoryFilter, metaTTLSeconds: Int64) async throws -> HistoryResult {
        if failHistory { throw Down() }
        return try await inner.history(channel: channel, filter: filter, metaTTLSeconds: metaTTLSeconds)
    }
    package func removeHistory(channel: String) async throws { try await inner.removeHistory(channel: channel) }
    package func keyedCache(channel: String, since: UInt64?, metaTTLSeconds: Int64) async throws -> KeyedCacheRead {
        try await inner.keyedCache(channel: channel, since: since, metaTTLSeconds: metaTTLSeconds)
    }
}
