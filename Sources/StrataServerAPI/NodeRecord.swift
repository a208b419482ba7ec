import StrataHub
import StrataMetrics
import StrataProtocol

/// A node as `info` shows it (Centrifugo's `NodeResult`, keys in its order): what the node
/// announces to the others and what `info` answers for itself.
package enum NodeRecord {
    package static func json(node: Node, infoMetrics: NodeInfoMetrics?) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("uid"); w.string(node.nodeID)
        w.key("name"); w.string(node.name)
        w.key("version"); w.string(Node.version)
        let stats = node.stats
        w.key("num_clients"); w.int(stats.connections)
        w.key("num_users"); w.int(stats.users)
        w.key("num_channels"); w.int(stats.channels)
        let uptime = node.uptimeSeconds
        if uptime > 0 { w.key("uptime"); w.int(uptime) }
        if let infoMetrics {
            w.key("metrics")
            w.beginObject()
            w.key("interval"); w.raw(Array(PrometheusExposition.format(infoMetrics.intervalSeconds).utf8))
            w.key("items")
            w.beginObject()
            for (key, value) in infoMetrics.items where value.isFinite {
                w.key(key); w.raw(Array(PrometheusExposition.format(value).utf8))
            }
            w.endObject()
            w.endObject()
        }
        w.key("num_subs"); w.int(stats.subscriptions)
        w.endObject()
        return w.bytes
    }
}
