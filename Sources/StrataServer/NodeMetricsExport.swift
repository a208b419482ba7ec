import StrataConfig
import StrataCore
import StrataHistory
import StrataHub
import StrataLMDB
import StrataMetrics

/// What the metrics endpoint and `info` read from the running node besides the counters the
/// code increments: gauges set at each collection (clients, users, channels, subscriptions,
/// the build, outbound queues, the LMDB map), the info snapshot, and the summaries' windows.
package struct NodeMetricsExport: Sendable {
    package let registry: MetricsRegistry
    package let info: NodeInfoMetrics
    private let clock: any WallClock
    private let nodes: GaugeCell

    init(registry: MetricsRegistry, node: Node, store: any HistoryStore, config: StrataConfig, clock: any WallClock = SystemClock()) {
        self.registry = registry
        self.clock = clock
        let interval = config.node.infoMetricsAggregateIntervalMillis
        info = NodeInfoMetrics(registry: registry, intervalSeconds: Double(max(interval, 1000)) / 1000)
        let clients = registry.gauge("centrifugo_node_num_clients")
        let users = registry.gauge("centrifugo_node_num_users")
        let channels = registry.gauge("centrifugo_node_num_channels")
        let subscriptions = registry.gauge("centrifugo_node_num_subscriptions")
        nodes = registry.gauge("centrifugo_node_num_nodes")
        nodes.set(1.0)
        registry.gauge("centrifugo_node_build", [("version", Node.version)]).set(1.0)
        let queued = registry.gauge("strata_client_outbound_queue_bytes")
        let longest = registry.gauge("strata_client_outbound_queue_max_bytes")
        registry.addCollector {
            let stats = node.stats
            clients.set(Int64(stats.connections))
            users.set(Int64(stats.users))
            channels.set(Int64(stats.channels))
            subscriptions.set(Int64(stats.subscriptions))
            let queues = node.outboundQueues()
            queued.set(Int64(queues.bytes))
            longest.set(Int64(queues.longest))
        }
        if let lmdb = store as? LMDBHistoryStore {
            let mapSize = registry.gauge("strata_lmdb_map_size_bytes")
            let used = registry.gauge("strata_lmdb_map_used_bytes")
            registry.addCollector {
                guard let stats = try? lmdb.stats() else { return }
                mapSize.set(Int64(stats.mapSize))
                used.set(Int64(stats.usedBytes))
            }
        }
        info.refresh(nowMillis: clock.nowMillis())
    }

    /// `centrifugo_node_num_nodes`: the nodes the registry knows of.
    func nodeCount(_ n: Int) {
        nodes.set(Int64(n))
    }

    /// Every second: summaries rotate their windows when due, `info` takes its snapshot when due.
    func tick() {
        let now = clock.nowMillis()
        registry.tick(nowMillis: now)
        info.refresh(nowMillis: now)
    }
}
