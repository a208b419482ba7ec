import CoreMetrics
import Testing

@testable import StrataMetrics

@Suite struct MetricsRegistryTests {
    func text(_ r: MetricsRegistry) -> String { String(decoding: PrometheusExposition.render(r), as: UTF8.self) }

    @Test func preCreatedSeriesAppearAtZeroWithCentrifugoLabels() {
        let out = text(MetricsRegistry())
        #expect(out.contains("# TYPE centrifugo_node_messages_sent_count counter\n"))
        #expect(out.contains("centrifugo_node_messages_sent_count{channel_namespace=\"\",type=\"publication\"} 0\n"))
        #expect(out.contains("centrifugo_client_command_duration_seconds{channel_namespace=\"\",method=\"connect\",quantile=\"0.99\"} NaN\n"))
        #expect(out.contains("centrifugo_client_command_duration_seconds_histogram_bucket{channel_namespace=\"\",method=\"connect\",le=\"0.0001\"} 0\n"))
        #expect(out.contains("centrifugo_node_num_clients 0\n"))
        // A family with no series yet is not printed (Go's vectors without children).
        #expect(!out.contains("centrifugo_client_num_reply_errors"))
    }

    @Test func countersGaugesAndHistogramsThroughSwiftMetrics() {
        let r = MetricsRegistry()
        let f = StrataMetricsFactory(registry: r)
        let c = Counter(label: "centrifugo_client_num_reply_errors", dimensions: [("method", "subscribe"), ("code", "103")], factory: f)
        c.increment()
        c.increment(by: 2)
        let g = Meter(label: "centrifugo_client_connections_inflight", dimensions: [("transport", "websocket")], factory: f)
        g.increment()
        g.increment()
        g.decrement()
        let h = Timer(label: "centrifugo_node_broadcast_duration_seconds", dimensions: [("type", "publication")], factory: f)
        h.recordNanoseconds(3_000)  // 3 µs: in the 5e-06 bucket
        let out = text(r)
        #expect(out.contains("centrifugo_client_num_reply_errors{channel_namespace=\"\",code=\"103\",method=\"subscribe\"} 3\n"))
        #expect(
            out.contains(
                "centrifugo_client_connections_inflight{accept_protocol=\"\",client_name=\"\",client_version=\"\",transport=\"websocket\"} 1\n"))
        #expect(out.contains("centrifugo_node_broadcast_duration_seconds_bucket{channel_namespace=\"\",type=\"publication\",le=\"1e-06\"} 0\n"))
        #expect(out.contains("centrifugo_node_broadcast_duration_seconds_bucket{channel_namespace=\"\",type=\"publication\",le=\"5e-06\"} 1\n"))
        #expect(out.contains("centrifugo_node_broadcast_duration_seconds_bucket{channel_namespace=\"\",type=\"publication\",le=\"+Inf\"} 1\n"))
        #expect(out.contains("centrifugo_node_broadcast_duration_seconds_count{channel_namespace=\"\",type=\"publication\"} 1\n"))
    }

    @Test func summaryQuantilesSumCountAndCompanionHistogram() {
        let r = MetricsRegistry()
        let t = Timer(label: "centrifugo_client_command_duration_seconds", dimensions: [("method", "publish")], factory: StrataMetricsFactory(registry: r))
        // 1..1000 µs: p50 ≈ 500 µs, p99 ≈ 990 µs, each within the buckets' 1/32.
        for us in 1...1000 { t.recordNanoseconds(Int64(us) * 1000) }
        let s = r.summary("centrifugo_client_command_duration_seconds", [("method", "publish")])
        #expect(s.observations == 1000)
        #expect(abs(s.sumSeconds - 0.5005) < 1e-9)
        let p50 = s.quantile(0.5) ?? 0
        let p99 = s.quantile(0.99) ?? 0
        #expect(abs(p50 - 0.0005) / 0.0005 < 1.0 / 32)
        #expect(abs(p99 - 0.00099) / 0.00099 < 1.0 / 32)
        let out = text(r)
        #expect(out.contains("centrifugo_client_command_duration_seconds_count{channel_namespace=\"\",method=\"publish\"} 1000\n"))
        #expect(out.contains("centrifugo_client_command_duration_seconds_histogram_count{channel_namespace=\"\",method=\"publish\"} 1000\n"))
        #expect(out.contains("centrifugo_client_command_duration_seconds_histogram_bucket{channel_namespace=\"\",method=\"publish\",le=\"0.0005\"} 500\n"))
    }

    @Test func summaryWindowsForgetOldObservationsButNotTotals() {
        let s = SummaryCell(quantiles: [0.5], companion: nil)
        s.observe(nanoseconds: 1_000_000)
        #expect(s.quantile(0.5) != nil)
        for _ in 0..<SummaryCell.windowCount { s.rotate() }
        #expect(s.quantile(0.5) == nil)
        #expect(s.observations == 1)
    }

    @Test func bucketsCoverEveryValueInOrder() {
        var last = -1
        var v: UInt64 = 0
        while v < (1 << 46) {
            let b = SummaryCell.bucket(v)
            #expect(b >= last && b < SummaryCell.bucketCount)
            last = b
            if v >= 32 { #expect(abs(SummaryCell.representative(b) - Double(v)) / Double(v) <= 1.0 / 32 || b == SummaryCell.bucketCount - 1) }
            v = v < 64 ? v + 1 : v + v / 7
        }
    }

    @Test func infoItemsFlattenLikeCentrifugoAndCountersReportIncreases() {
        let r = MetricsRegistry()
        let f = StrataMetricsFactory(registry: r)
        let sent = Counter(label: "centrifugo_node_messages_sent_count", dimensions: [("type", "publication")], factory: f)
        sent.increment(by: 3)
        Timer(label: "centrifugo_client_command_duration_seconds", dimensions: [("method", "connect")], factory: f).recordNanoseconds(2_000_000)
        Meter(
            label: "centrifugo_client_connections_inflight",
            dimensions: [("transport", "websocket"), ("client_name", "unnamed"), ("client_version", "unversioned")], factory: f
        ).increment()
        let info = NodeInfoMetrics(registry: r, intervalSeconds: 60)
        info.snapshot(nowMillis: 1)
        var items = Dictionary(uniqueKeysWithValues: info.items)
        #expect(items["centrifugo.node.messages_sent_count.type.publication"] == 3)
        #expect(items["centrifugo.client.command_duration_seconds.count.method.connect"] == 1)
        #expect(items["centrifugo.client.command_duration_seconds.quantile.99.method.connect"] != nil)
        #expect(items["centrifugo.client.connections_inflight.client_name.unnamed.client_version.unversioned.transport.websocket"] == 1)
        #expect(items.keys.allSatisfy { !$0.contains("histogram") })
        sent.increment()
        info.snapshot(nowMillis: 60_001)
        items = Dictionary(uniqueKeysWithValues: info.items)
        #expect(items["centrifugo.node.messages_sent_count.type.publication"] == 1)
        #expect(items["centrifugo.client.command_duration_seconds.count.method.connect"] == 0)
        #expect(items["centrifugo.client.connections_inflight.client_name.unnamed.client_version.unversioned.transport.websocket"] == 1)
    }

    @Test func undeclaredNamesBecomeTheirOwnFamilies() {
        let r = MetricsRegistry(families: [])
        Counter(label: "strata_test_total", dimensions: [("a", "x\"y")], factory: StrataMetricsFactory(registry: r)).increment()
        let out = text(r)
        #expect(out.contains("# TYPE strata_test_total counter\nstrata_test_total{a=\"x\\\"y\"} 1\n"))
    }

    @Test func numbersPrintAsPrometheusReadsThem() {
        #expect(PrometheusExposition.format(3) == "3")
        #expect(PrometheusExposition.format(0.000028788) == "2.8788e-05")
        #expect(PrometheusExposition.format(.nan) == "NaN")
        #expect(NodeInfoMetrics.quantileName(0.5) == "50")
        #expect(NodeInfoMetrics.quantileName(0.999) == "999")
        #expect(NodeInfoMetrics.baseKey("centrifugo_node_messages_sent_count") == "centrifugo.node.messages_sent_count")
    }
}
