"""Issue 18, items 1 and 2: Prometheus metrics under Centrifugo's names (so its Grafana dashboards
and admin UI read Strata unchanged), Strata's own metrics, and `info`'s per-node `metrics`.

The reference is the real Centrifugo v6.9.1 driven by the same client actions
(docs/metrics.md says how the list below was read off it): every family it showed is shown by
Strata with the same type, and the counters move as the actions say.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request

import pytest
from cent import PublishRequest
from centrifuge import DeltaType

from itsupport import API_KEY, connect_client, subscribe, unique
from test_delta import DELTA, match_states

# `# TYPE` lines of Centrifugo v6.9.1's /metrics after one client connected, subscribed, was
# refused a subscription, published, read history, and the API published, failed a publish and
# answered info (Go runtime and process families left out, as Strata has no Go runtime).
CENTRIFUGO_FAMILIES = {
    "centrifugo_api_command_duration_seconds": "summary",
    "centrifugo_api_command_duration_seconds_histogram": "histogram",
    "centrifugo_api_command_errors_total": "counter",
    "centrifugo_broker_redis_pub_sub_dropped_messages": "counter",
    "centrifugo_client_command_duration_seconds": "summary",
    "centrifugo_client_command_duration_seconds_histogram": "histogram",
    "centrifugo_client_connections_accepted": "counter",
    "centrifugo_client_connections_inflight": "gauge",
    "centrifugo_client_num_reply_errors": "counter",
    "centrifugo_client_subscriptions_inflight": "gauge",
    "centrifugo_node_action_count": "counter",
    "centrifugo_node_broadcast_duration_seconds": "histogram",
    "centrifugo_node_build": "gauge",
    "centrifugo_node_client_connection_limit": "counter",
    "centrifugo_node_messages_received_count": "counter",
    "centrifugo_node_messages_sent_count": "counter",
    "centrifugo_node_num_channels": "gauge",
    "centrifugo_node_num_clients": "gauge",
    "centrifugo_node_num_nodes": "gauge",
    "centrifugo_node_num_subscriptions": "gauge",
    "centrifugo_node_num_users": "gauge",
    "centrifugo_node_pub_sub_lag_seconds": "histogram",
    "centrifugo_transport_messages_received": "counter",
    "centrifugo_transport_messages_received_size": "counter",
    "centrifugo_transport_messages_sent": "counter",
    "centrifugo_transport_messages_sent_size": "counter",
}

CONFIG = {"prometheus": {"enabled": True}, "node": {"info_metrics_aggregate_interval": "1s"}}


def scrape(srv) -> tuple[dict[str, str], dict[str, float]]:
    """(family → type, series line without value → value) of one /metrics read."""
    with urllib.request.urlopen(f"{srv.http_url}/metrics", timeout=5) as resp:
        assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = resp.read().decode()
    types, values = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            types[name] = kind
        elif line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            values[key] = float(value)
    return types, values


def value(values: dict[str, float], name: str, **labels: str) -> float:
    """The sum of `name`'s series whose labels include these (0 when none)."""
    total = 0.0
    for key, v in values.items():
        series, _, rest = key.partition("{")
        if series != name:
            continue
        if all(f'{k}="{val}"' in rest for k, val in labels.items()):
            total += v
    return total


def api_call(srv, method: str, body: dict) -> dict:
    req = urllib.request.Request(f"{srv.api_url}/{method}", data=json.dumps(body).encode(),
                                 headers={"X-API-Key": API_KEY, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.loads(resp.read())


async def test_centrifugo_names_move_under_real_clients(engine_factory, api_factory, client_factory, engine):
    """centrifuge-python and cent do what the reference run did; Strata shows every family
    Centrifugo showed, typed the same, and each counter moved by what was done. On every engine."""
    srv = engine_factory(CONFIG)
    api = api_factory(srv)
    channel = unique("chat:m")
    client, ev = client_factory(srv, user="u-metrics")
    await connect_client(client, ev)
    sub, sev, _ = await subscribe(client, channel)
    with pytest.raises(Exception):
        await subscribe(client, unique("locked:x"), timeout=2)  # 103 permission denied
    for n in range(3):
        await api.publish(PublishRequest(channel=channel, data={"n": n}))
    await sub.publish({"n": 3})
    await sub.history(limit=10)
    await sev.wait_count("on_publication", 4, timeout=5)
    assert api_call(srv, "publish", {"channel": "", "data": {}})["error"]["code"] == 107
    api_call(srv, "info", {})

    types, values = scrape(srv)
    missing = {f: t for f, t in CENTRIFUGO_FAMILIES.items() if types.get(f) != t}
    assert not missing, f"families missing or typed otherwise: {missing}"
    assert value(values, "centrifugo_node_num_clients") == 1
    assert value(values, "centrifugo_node_num_users") == 1
    assert value(values, "centrifugo_node_num_subscriptions") == 1
    assert value(values, "centrifugo_node_messages_sent_count", type="publication") == 4
    assert value(values, "centrifugo_node_messages_received_count", type="publication") == 4
    assert value(values, "centrifugo_transport_messages_sent", frame_type="push_publication", transport="websocket") == 4
    assert value(values, "centrifugo_transport_messages_sent_size", frame_type="push_publication") > 4 * 20
    assert value(values, "centrifugo_transport_messages_received", frame_type="subscribe") == 2
    assert value(values, "centrifugo_transport_messages_sent", frame_type="connect") == 1
    assert value(values, "centrifugo_client_num_reply_errors", method="subscribe", code="103") == 1
    assert value(values, "centrifugo_client_command_duration_seconds_count", method="connect") == 1
    assert value(values, "centrifugo_client_command_duration_seconds_count", method="publish") == 1
    assert value(values, "centrifugo_client_command_duration_seconds_histogram_count", method="history") == 1
    assert value(values, "centrifugo_api_command_duration_seconds_count", method="publish", protocol="http") == 4
    assert value(values, "centrifugo_api_command_errors_total", method="publish", error="107") == 1
    assert value(values, "centrifugo_client_connections_inflight", transport="websocket") == 1
    assert value(values, "centrifugo_client_subscriptions_inflight") == 1
    assert value(values, "centrifugo_node_action_count", action="add_client") == 1
    assert value(values, "centrifugo_node_broadcast_duration_seconds_count", type="publication") == 4
    assert value(values, "strata_history_appends_total", store=engine) == 4
    assert value(values, "strata_history_reads_total", store=engine) >= 1
    if engine == "lmdb":
        assert value(values, "strata_lmdb_map_size_bytes") > 0
        assert 0 < value(values, "strata_lmdb_map_used_bytes") <= value(values, "strata_lmdb_map_size_bytes")
        assert value(values, "strata_lmdb_commit_batch_size_count") >= 4

    await asyncio.wait_for(client.disconnect(), 5)
    for _ in range(50):
        _, values = scrape(srv)
        if value(values, "centrifugo_client_connections_inflight") == 0 and value(values, "centrifugo_node_num_clients") == 0:
            break
        await asyncio.sleep(0.1)
    assert value(values, "centrifugo_client_connections_inflight") == 0
    assert value(values, "centrifugo_client_subscriptions_inflight") == 0
    assert value(values, "centrifugo_node_num_clients") == 0
    assert value(values, "centrifugo_node_action_count", action="remove_client") == 1


async def test_info_reports_metrics_items_the_admin_ui_reads(server_factory, client_factory):
    """`info` carries each node's `metrics`: `interval` (node.info_metrics_aggregate_interval)
    and the flattened items Centrifugo's admin status page reads; counters are the increase over
    the last interval, gauges their value."""
    srv = server_factory(CONFIG)
    client, ev = client_factory(srv, user="u-info")
    await connect_client(client, ev)
    await subscribe(client, unique("chat:i"))
    api_call(srv, "publish", {"channel": unique("chat:i"), "data": {}})
    await asyncio.sleep(2.2)  # a snapshot after the actions
    node = api_call(srv, "info", {})["result"]["nodes"][0]
    metrics = node["metrics"]
    assert metrics["interval"] == 1
    items = metrics["items"]
    assert items["centrifugo.node.num_clients"] == 1
    conn_keys = [k for k in items if k.startswith("centrifugo.client.connections_inflight.")]
    assert conn_keys and all(k.endswith(".transport.websocket") for k in conn_keys), conn_keys
    assert "centrifugo.client.command_duration_seconds.count.method.connect" in items
    assert "centrifugo.node.messages_sent_count.type.publication" in items
    assert not any("histogram" in k or "channel_namespace" in k for k in items)
    assert list(node).index("metrics") < list(node).index("num_subs")  # Centrifugo's key order
    # Increases per interval: nothing happened in the last one.
    await asyncio.sleep(1.2)
    items = api_call(srv, "info", {})["result"]["nodes"][0]["metrics"]["items"]
    assert items["centrifugo.client.command_duration_seconds.count.method.connect"] == 0
    assert items["centrifugo.node.num_clients"] == 1


async def test_delta_bytes_saved_are_counted(server_factory, api_factory, client_factory):
    """Strata's own `strata_delta_bytes_saved_total`: what fossil deltas kept off the wire."""
    srv = server_factory({**DELTA, **CONFIG})
    api = api_factory(srv)
    channel = unique("match:m")
    client, ev = client_factory(srv)
    await connect_client(client, ev)
    _, sev, _ = await subscribe(client, channel, delta=DeltaType.FOSSIL)
    states = match_states()
    for s in states:
        await api.publish(PublishRequest(channel=channel, data=s))
    await sev.wait_count("on_publication", len(states), timeout=10)
    _, values = scrape(srv)
    # The payloads as cent sends them (json.dumps: spaces, \u escapes); deltas are a few % of them.
    full = sum(len(json.dumps(s).encode()) for s in states[1:])
    saved = value(values, "strata_delta_bytes_saved_total", transport="websocket")
    assert full * 0.7 < saved < full, (saved, full)


def test_metrics_off_serves_no_endpoint_and_no_info_metrics(server_factory):
    """`STRATA_METRICS=off` (for measuring what metrics cost) leaves swift-metrics on its no-op
    backend: no /metrics and no `metrics` in info."""
    srv = server_factory(CONFIG, env={"STRATA_METRICS": "off"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"{srv.http_url}/metrics", timeout=5)
    assert e.value.code == 404
    assert "metrics" not in api_call(srv, "info", {})["result"]["nodes"][0]


def test_grafana_dashboard_queries_documented_families():
    """config/grafana/strata-dashboard.json queries only families docs/metrics.md documents
    (which the tests above scrape), and is a dashboard Grafana can import."""
    from pathlib import Path
    import re
    root = Path(__file__).resolve().parents[2]
    dash = json.loads((root / "config/grafana/strata-dashboard.json").read_text())
    doc = (root / "docs/metrics.md").read_text()
    exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    assert dash["uid"] and len(exprs) >= 10
    names = {re.sub(r"_(bucket|sum|count)$", "", n) for e in exprs for n in re.findall(r"\b(?:centrifugo|strata)_[a-z_]+", e)}
    documented = set(re.findall(r"`((?:centrifugo|strata)_[a-z_]+)`", doc))
    undocumented = names - documented
    assert not undocumented, undocumented


async def test_recovered_publications_histogram_is_opt_in(server_factory, api_factory, client_factory):
    """`prometheus.recovered_publications_histogram: true` adds Centrifugo's histogram of how
    many publications each successful recovery sent; without it the family is absent."""
    srv = server_factory({**CONFIG, "prometheus": {"enabled": True, "recovered_publications_histogram": True}})
    api = api_factory(srv)
    channel = unique("chat:rec")
    client, ev = client_factory(srv, user="u-rec")
    await connect_client(client, ev)
    _, sev, _ = await subscribe(client, channel)
    await asyncio.wait_for(client.disconnect(), 5)
    for n in range(3):
        await api.publish(PublishRequest(channel=channel, data={"n": n}))
    await asyncio.wait_for(client.connect(), 10)
    again = (await sev.wait_count("on_subscribed", 2, timeout=5))[1]
    assert again.recovered
    types, values = scrape(srv)
    assert types.get("centrifugo_client_recovered_publications") == "histogram"
    assert value(values, "centrifugo_client_recovered_publications_count") == 1
    assert value(values, "centrifugo_client_recovered_publications_sum") == 3
    assert value(values, "centrifugo_client_recovered_publications_bucket", le="2") == 0
    assert value(values, "centrifugo_client_recovered_publications_bucket", le="3") == 1
    assert value(values, "centrifugo_client_recover", recovered="yes", has_recovered_publications="yes") == 1

    plain = server_factory(CONFIG)
    types, _ = scrape(plain)
    assert "centrifugo_client_recovered_publications" not in types


async def test_ping_pong_durations_are_observed(server_factory, client_factory):
    """centrifuge-python answers the server's pings; each round trip lands in
    `centrifugo_client_ping_pong_duration_seconds{transport="websocket"}`."""
    srv = server_factory({**CONFIG, "client": {"ping_interval": "1s", "pong_timeout": "800ms"}})
    client, ev = client_factory(srv, user="u-ping")
    await connect_client(client, ev)
    for _ in range(50):
        _, values = scrape(srv)
        if value(values, "centrifugo_client_ping_pong_duration_seconds_count", transport="websocket") >= 2:
            break
        await asyncio.sleep(0.1)
    assert value(values, "centrifugo_client_ping_pong_duration_seconds_count", transport="websocket") >= 2
    total = value(values, "centrifugo_client_ping_pong_duration_seconds_sum", transport="websocket")
    assert 0 < total < 1.0, total  # loopback round trips
    assert value(values, "centrifugo_transport_messages_sent", frame_type="server_ping") >= 2
    assert value(values, "centrifugo_transport_messages_received", frame_type="client_pong") >= 2


async def test_the_sweeper_reports_what_it_removed(engine_factory, api_factory, engine):
    """`strata_history_sweeps_total` and `strata_history_swept_records_total` move when expired
    history is removed (memory and LMDB; Redis expires keys by its own TTLs, no sweeper runs)."""
    if engine == "redis":
        pytest.skip("Redis expires history by key TTLs: Strata runs no sweeper there")
    srv = engine_factory({**CONFIG, "channel": {"namespaces": [
        {"name": "brief", "history_size": 10, "history_ttl": "1s", "history_meta_ttl": "2s"}]}})
    api = api_factory(srv)
    for n in range(5):
        await api.publish(PublishRequest(channel=unique("brief:s"), data={"n": n}))
    for _ in range(60):
        _, values = scrape(srv)
        if value(values, "strata_history_swept_records_total", store=engine) >= 5:
            break
        await asyncio.sleep(0.1)
    assert value(values, "strata_history_swept_records_total", store=engine) >= 5
    assert value(values, "strata_history_sweeps_total", store=engine) >= 1


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "HEAD"])
def test_health_and_metrics_answer_any_method(server_factory, method):
    """As Centrifugo's: `/health` is 200 `{}` and `/metrics` the exposition, whatever the method
    (load balancers and scrapers probe with HEAD or POST too)."""
    srv = server_factory(CONFIG)
    for path, body in (("/health", b"{}"), ("/metrics", None)):
        req = urllib.request.Request(f"{srv.http_url}{path}", method=method, data=b"" if method in ("POST", "PUT") else None)
        with urllib.request.urlopen(req, timeout=5) as resp:
            assert resp.status == 200
            got = resp.read()
            if method != "HEAD" and body is not None:
                assert got == body and resp.headers["Content-Type"] == "application/json"
