/// Every family Strata exports: Centrifugo v6's names, types, labels and buckets (so its Grafana
/// dashboards and the admin UI's status page read Strata unchanged), then Strata's own. Read off
/// Centrifugo v6.9.1's `/metrics`; docs/metrics.md lists them with what moves each one.
package enum MetricCatalogue {
    static let commandQuantiles = [0.5, 0.99, 0.999]
    /// Prometheus's default buckets (Go client's `DefBuckets`).
    static let defaultBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    static let clientCommandBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    static let broadcastBuckets = [
        0.000001, 0.000005, 0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ]
    static let pubSubLagBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10]

    /// Client command methods whose duration series exist from the start (Centrifugo's list).
    package static let clientCommandMethods = [
        "connect", "subscribe", "unsubscribe", "publish", "presence", "presence_stats", "history", "send", "rpc", "refresh",
        "sub_refresh", "unknown",
    ]

    static let ns = "channel_namespace"
    static let connectionLabels = ["transport", "accept_protocol", "client_name", "client_version"]
    static let transportLabels = ["transport", "frame_type", ns]

    package static let all: [MetricFamily] = centrifugo + strata

    static let centrifugo: [MetricFamily] = [
        // Node
        .init("centrifugo_node_num_clients", .gauge, help: "Number of clients connected."),
        .init("centrifugo_node_num_users", .gauge, help: "Number of unique users connected."),
        .init("centrifugo_node_num_subscriptions", .gauge, help: "Number of subscriptions."),
        .init("centrifugo_node_num_channels", .gauge, help: "Number of channels with one or more subscribers."),
        .init("centrifugo_node_num_nodes", .gauge, help: "Number of nodes in the cluster."),
        .init("centrifugo_node_build", .gauge, labels: ["version"], help: "Node build info."),
        .init("centrifugo_node_messages_sent_count", .counter, labels: ["type", ns], help: "Number of messages sent by node to broker."),
        .init(
            "centrifugo_node_messages_received_count", .counter, labels: ["type", ns], help: "Number of messages received from broker."),
        .init("centrifugo_node_action_count", .counter, labels: ["action", ns], help: "Number of various actions called."),
        .init(
            "centrifugo_node_broadcast_duration_seconds", .histogram(buckets: broadcastBuckets), labels: ["type", ns],
            help: "Broadcast duration in seconds."),
        .init(
            "centrifugo_node_pub_sub_lag_seconds", .histogram(buckets: pubSubLagBuckets), labels: [ns],
            help: "Pub sub lag in seconds."),
        .init(
            "centrifugo_node_tags_filter_dropped_publications", .counter, labels: [ns],
            help: "Number of publications dropped due to tags filtering."),
        .init(
            "centrifugo_node_client_connection_limit", .counter,
            help: "Number of refused requests due to node client connection limit."),
        // Client
        .init(
            "centrifugo_client_command_duration_seconds", .summary(quantiles: commandQuantiles), labels: ["method", ns],
            help: "Client command duration summary.", companionHistogram: "centrifugo_client_command_duration_seconds_histogram"),
        .init(
            "centrifugo_client_command_duration_seconds_histogram", .histogram(buckets: clientCommandBuckets), labels: ["method", ns],
            help: "Client command duration histogram."),
        .init(
            "centrifugo_client_num_reply_errors", .counter, labels: ["method", "code", ns], help: "Number of errors in replies sent to clients."),
        .init(
            "centrifugo_client_num_server_unsubscribes", .counter, labels: ["code", ns],
            help: "Number of server initiated unsubscribes."),
        .init("centrifugo_client_num_server_disconnects", .counter, labels: ["code"], help: "Number of server initiated disconnects."),
        .init(
            "centrifugo_client_recover", .counter, labels: ["recovered", ns, "has_recovered_publications"],
            help: "Count of recover operations with success/fail resolution."),
        .init(
            "centrifugo_client_ping_pong_duration_seconds", .histogram(buckets: clientCommandBuckets), labels: ["transport"],
            help: "Ping/Pong duration in seconds"),
        .init(
            "centrifugo_client_recovered_publications",
            .histogram(buckets: [0, 1, 2, 3, 5, 10, 20, 50, 100, 250, 500, 1000, 2000, 5000, 10000]), labels: [ns],
            help: "Number of publications recovered during subscription recovery."),
        .init(
            "centrifugo_client_connections_accepted", .counter, labels: connectionLabels,
            help: "Number of accepted client connections."),
        .init("centrifugo_client_connections_inflight", .gauge, labels: connectionLabels, help: "Number of inflight client connections."),
        .init(
            "centrifugo_client_subscriptions_inflight", .gauge, labels: ["client_name", ns], help: "Number of inflight client subscriptions."),
        // Transport
        .init("centrifugo_transport_messages_sent", .counter, labels: transportLabels, help: "Number of messages sent to client connections."),
        .init(
            "centrifugo_transport_messages_sent_size", .counter, labels: transportLabels,
            help: "Size in bytes of messages sent to client connections."),
        .init(
            "centrifugo_transport_messages_received", .counter, labels: transportLabels,
            help: "Number of messages received from client connections."),
        .init(
            "centrifugo_transport_messages_received_size", .counter, labels: transportLabels,
            help: "Size in bytes of messages received from client connections."),
        .init(
            "centrifugo_transport_outgoing_close_count", .counter, labels: ["transport", "code"],
            help: "Number of close frames sent to client connections."),
        // Broker
        .init(
            "centrifugo_broker_redis_pub_sub_dropped_messages", .counter, labels: ["broker_name", "channel_type"],
            help: "Number of dropped messages on application level in Redis PUB/SUB."),
        .init(
            "centrifugo_broker_publish_suppressed_count", .counter, labels: ["reason", ns],
            help: "Number of publications suppressed by the broker (idempotency key, version)."),
        // Server API
        .init(
            "centrifugo_api_command_duration_seconds", .summary(quantiles: commandQuantiles), labels: ["protocol", "method"],
            help: "Duration of API per command.", companionHistogram: "centrifugo_api_command_duration_seconds_histogram"),
        .init(
            "centrifugo_api_command_duration_seconds_histogram", .histogram(buckets: defaultBuckets), labels: ["protocol", "method"],
            help: "Histogram of duration of API per command."),
        .init("centrifugo_api_command_errors_total", .counter, labels: ["protocol", "method", "error"], help: "Total errors in API commands."),
        // Proxies to the application backend
        .init(
            "centrifugo_proxy_duration_seconds", .summary(quantiles: commandQuantiles), labels: ["protocol", "type", "name"],
            help: "DEPRECATED — use centrifugo_proxy_duration_seconds_histogram. Will be removed in Centrifugo v7. Duration of proxy call.",
            companionHistogram: "centrifugo_proxy_duration_seconds_histogram"),
        .init(
            "centrifugo_proxy_duration_seconds_histogram", .histogram(buckets: defaultBuckets), labels: ["protocol", "type", "name"],
            help: "Histogram of duration of proxy call."),
        .init("centrifugo_proxy_errors", .counter, labels: ["protocol", "type", "name"], help: "Proxy call error count."),
        .init(
            "centrifugo_proxy_inflight_requests", .gauge, labels: ["protocol", "type", "name"],
            help: "Number of inflight proxy requests."),
        // Asynchronous consumers
        .init(
            "centrifugo_consumers_messages_processed_total", .counter, labels: ["consumer_name"],
            help: "Total number of processed messages in consumer"),
        .init("centrifugo_consumers_errors_total", .counter, labels: ["consumer_name"], help: "Total number of errors in consumer"),
    ]

    static let strata: [MetricFamily] = [
        .init(
            "strata_consumers_skipped_total", .counter, labels: ["consumer_name"],
            help: "Consumed commands skipped for good (unknown method, invalid payload, an API error other than internal)."),
        .init("strata_history_appends_total", .counter, labels: ["store"], help: "Publications appended to history, by store."),
        .init("strata_history_reads_total", .counter, labels: ["store"], help: "History reads performed by the store (after coalescing)."),
        .init(
            "strata_lmdb_commit_batch_size", .histogram(buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]),
            help: "Operations per LMDB write transaction (group commit)."),
        .init("strata_lmdb_map_size_bytes", .gauge, help: "Size of the LMDB memory map."),
        .init("strata_lmdb_map_used_bytes", .gauge, help: "Bytes of the LMDB map in use (last page number × page size)."),
        .init("strata_history_sweeps_total", .counter, labels: ["store"], help: "Expiry sweep batches run."),
        .init(
            "strata_history_swept_records_total", .counter, labels: ["store"],
            help: "Expired publications, stream metas and idempotency keys removed by the sweeper."),
        .init(
            "strata_delta_bytes_saved_total", .counter, labels: ["transport"],
            help: "Bytes not sent because a subscriber got a fossil delta instead of the full publication."),
        .init(
            "strata_client_recovery_failures_total", .counter, labels: ["reason"],
            help: "Recoveries that failed (the subscriber got recovered: false), by why."),
        .init("strata_client_outbound_queue_bytes", .gauge, help: "Bytes waiting in every connection's outbound queue."),
        .init("strata_client_outbound_queue_max_bytes", .gauge, help: "The longest outbound queue of any connection, in bytes."),
        .init(
            "strata_node_connections_refused_total", .counter, labels: ["reason"],
            help: "Connections refused with HTTP 503 before the upgrade, by limit."),
        .init(
            "strata_tls_certificate_expiry_timestamp_seconds", .gauge, labels: ["host"],
            help: "When the certificate served for the host expires (unix seconds; http_server.tls_autocert)."),
        .init(
            "strata_acme_orders_total", .counter, labels: ["result"],
            help: "Certificates asked of the ACME CA, by result (issued, failed)."),
    ]

    /// Series Centrifugo exports at zero before any use.
    package static let preCreated: [String: [[(String, String)]]] = [
        "centrifugo_node_messages_sent_count": ["publication", "join", "leave", "control"].map { [("type", $0)] },
        "centrifugo_node_messages_received_count": ["publication", "join", "leave", "control"].map { [("type", $0)] },
        "centrifugo_client_command_duration_seconds": clientCommandMethods.map { [("method", $0)] },
        "centrifugo_broker_redis_pub_sub_dropped_messages": [[("channel_type", "control")], [("channel_type", "client")]],
        "centrifugo_node_num_clients": [[]], "centrifugo_node_num_users": [[]], "centrifugo_node_num_subscriptions": [[]],
        "centrifugo_node_num_channels": [[]], "centrifugo_node_num_nodes": [[]], "centrifugo_node_client_connection_limit": [[]],
    ]
}
