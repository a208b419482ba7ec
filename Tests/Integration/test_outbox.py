"""The PostgreSQL outbox consumer (issue 17 item 6, docs/outbox.md): the application inserts
server API commands into a table in its own transaction; Strata applies and deletes them. A real
PostgreSQL (Debian's, started by the test on a free port, pg_support.py) with Centrifugo's table
layout; centrifuge-python receives what the rows publish, cent reads history. Faults: rows with
an unknown method, an invalid payload or an unknown namespace are skipped without blocking the
rows behind them; two nodes on Redis consume one table and apply every row exactly once, in
order per partition."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import urllib.request
import uuid

import pytest
from cent import HistoryRequest

from itsupport import connect_client, connection_token, new_client
from pg_support import Postgres


@pytest.fixture(scope="module")
def postgres(tmp_path_factory):
    pg = Postgres(tmp_path_factory.mktemp("pg")).start()
    yield pg
    pg.stop()


def table_name() -> str:
    return "outbox_" + uuid.uuid4().hex[:8]


def consumer_config(pg: Postgres, table: str, **postgresql) -> dict:
    return {
        "prometheus": {"enabled": True},
        "channel": {"namespaces": [{"name": "orders", "history_size": 1000, "history_ttl": "300s",
                                    "allow_subscribe_for_client": True, "allow_history_for_subscriber": True}]},
        "consumers": [{"name": "outbox", "enabled": True, "type": "postgresql",
                       "postgresql": {"dsn": pg.dsn, "outbox_table_name": table, "partition_poll_interval": "100ms", **postgresql}}],
    }


def insert(pg: Postgres, table: str, rows: list[tuple[str, object, int]]) -> None:
    """Rows of (method, payload, partition) in one transaction, as an application would."""
    values = ",".join(
        "({}, {}, {})".format(
            "'" + method.replace("'", "''") + "'",
            "'" + (payload if isinstance(payload, str) else json.dumps(payload)).replace("'", "''") + "'::jsonb",
            partition)
        for method, payload, partition in rows)
    pg.sql(f"BEGIN; INSERT INTO {table} (method, payload, partition) VALUES {values}; COMMIT;")


async def wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def test_rows_are_published_in_order_and_deleted(server_factory, api_factory, postgres, protocol):
    """A subscribed centrifuge-python client gets the rows' publications in insert order; the
    table empties; history holds them; the envelope form (no method, {"method","payload"}) and
    broadcast work too."""
    table = table_name()
    postgres.create_outbox(table)
    srv = server_factory(consumer_config(postgres, table))
    client, ev = new_client(srv.ws_url, token=connection_token("buyer"), protocol=protocol)
    try:
        await connect_client(client, ev)
        sub = client.new_subscription("orders:1", ev)
        await sub.subscribe()
        await ev.wait("on_subscribed", timeout=5)
        insert(postgres, table, [("publish", {"channel": "orders:1", "data": {"n": i}}, 0) for i in range(20)])
        insert(postgres, table, [
            ("", {"method": "publish", "payload": {"channel": "orders:1", "data": {"n": 20}}}, 0),
            ("broadcast", {"channels": ["orders:1", "orders:2"], "data": {"n": 21}}, 0),
        ])
        await ev.wait_count("on_publication", 22, timeout=10)
        assert [p.pub.data["n"] for p in ev.of("on_publication")] == list(range(22))
    finally:
        await asyncio.wait_for(client.disconnect(), 5)
    await wait_until(lambda: postgres.count(table) == 0)
    history = await api_factory(srv).history(HistoryRequest(channel="orders:2", limit=10))
    assert [p.data for p in history.publications] == [{"n": 21}]


async def test_bad_rows_are_skipped_without_blocking_the_rest(server_factory, api_factory, postgres):
    """An unknown method, a payload of the wrong shape, a missing channel, an unknown namespace
    and a method that only reads: each is logged, counted and deleted; the good rows around them
    are applied in order; nothing is retried."""
    table = table_name()
    postgres.create_outbox(table)
    srv = server_factory(consumer_config(postgres, table))
    insert(postgres, table, [
        ("publish", {"channel": "orders:bad", "data": {"n": 1}}, 0),
        ("publish_everything", {"channel": "orders:bad", "data": {}}, 0),
        ("publish", {"channel": 42, "data": {}}, 0),
        ("publish", '"not an object"', 0),
        ("publish", {"data": {"n": "no channel"}}, 0),
        ("publish", {"channel": "nowhere:1", "data": {}}, 0),
        ("history", {"channel": "orders:bad"}, 0),
        ("", {"nomethod": True}, 0),
        ("publish", {"channel": "orders:bad", "data": {"n": 2}}, 0),
    ])
    await wait_until(lambda: postgres.count(table) == 0)
    history = await api_factory(srv).history(HistoryRequest(channel="orders:bad", limit=10))
    assert [p.data for p in history.publications] == [{"n": 1}, {"n": 2}]
    metrics = urllib.request.urlopen(f"{srv.http_url}/metrics", timeout=5).read().decode()
    assert 'strata_consumers_skipped_total{consumer_name="outbox"} 7' in metrics, metrics
    assert 'centrifugo_consumers_messages_processed_total{consumer_name="outbox"} 9' in metrics
    assert 'centrifugo_consumers_errors_total{consumer_name="outbox"} 0' in metrics


async def test_a_notification_wakes_the_consumer_at_once(server_factory, api_factory, postgres):
    """With a 10 s poll interval, the NOTIFY of an insert trigger makes the row apply within a
    second."""
    table = table_name()
    postgres.create_outbox(table, notify_channel=table + "_wake")
    srv = server_factory(consumer_config(postgres, table, partition_poll_interval="10s",
                                         partition_notification_channel=table + "_wake"))
    await asyncio.sleep(0.5)  # the first poll and the LISTEN are done
    began = time.monotonic()
    insert(postgres, table, [("publish", {"channel": "orders:fast", "data": {"n": 1}}, 0)])
    await wait_until(lambda: postgres.count(table) == 0, timeout=5)
    assert time.monotonic() - began < 1.5
    history = await api_factory(srv).history(HistoryRequest(channel="orders:fast", limit=10))
    assert len(history.publications) == 1


async def test_two_nodes_apply_every_row_once_and_in_order(server_factory, api_factory, postgres, redis_server):
    """Two Strata nodes on one Redis consume one table of four partitions, 1200 rows inserted
    while they run: each channel's history (one per partition) holds its rows exactly once, in
    insert order, and both nodes did some of the work."""
    table = table_name()
    postgres.create_outbox(table)
    config = consumer_config(postgres, table, num_partitions=4, partition_select_limit=50)
    config["engine"] = {"type": "redis", "redis": {"address": redis_server.address, "prefix": table}}
    nodes = [server_factory(config), server_factory(config)]
    per_partition = 300
    for batch in range(6):
        insert(postgres, table, [("publish", {"channel": f"orders:p{p}", "data": {"n": batch * 50 + i}}, p)
                                 for i in range(50) for p in range(4)])
    await wait_until(lambda: postgres.count(table) == 0, timeout=60)
    for p in range(4):
        history = await api_factory(nodes[0]).history(HistoryRequest(channel=f"orders:p{p}", limit=1000))
        assert [pub.data["n"] for pub in history.publications] == list(range(per_partition)), p
    done = []
    for node in nodes:
        metrics = urllib.request.urlopen(f"{node.http_url}/metrics", timeout=5).read().decode()
        line = next(l for l in metrics.splitlines() if l.startswith("centrifugo_consumers_messages_processed_total"))
        done.append(int(float(line.split()[-1])))
    assert sum(done) == 1200, done


def test_consumers_strata_does_not_have_are_refused(strata_bin, tmp_path):
    for consumer, message in [
        ({"name": "k1", "enabled": True, "type": "kafka"}, "kafka consumers are not implemented"),
        ({"name": "p1", "enabled": True, "type": "postgresql", "postgresql": {"outbox_table_name": "t"}}, "no Postgres DSN provided"),
        ({"name": "p1", "enabled": True, "type": "postgresql", "postgresql": {"dsn": "postgres://x/y", "outbox_table_name": "t; DROP"}},
         "expected a table name"),
        ({"name": "x", "enabled": False, "type": "postgresql"}, "invalid consumer name"),
        ({"name": "p2", "enabled": False}, "unknown consumer type"),
    ]:
        (tmp_path / "config.json").write_text(json.dumps({"consumers": [consumer]}))
        check = subprocess.run([str(strata_bin), "checkconfig", "--config", "config.json"], capture_output=True, text=True,
                               timeout=30, cwd=tmp_path)
        assert check.returncode != 0 and message in check.stderr + check.stdout, (consumer, check.stderr + check.stdout)


async def test_rows_wait_while_redis_is_down_and_none_is_lost(server_factory, api_factory, postgres, redis_server):
    """Redis (the engine) stops: publishing fails with an internal error, so the row stays and is
    retried with backoff — the rows behind it wait, in order. Redis back: all applied, once."""
    table = table_name()
    postgres.create_outbox(table)
    config = consumer_config(postgres, table)
    config["engine"] = {"type": "redis", "redis": {"address": redis_server.address, "prefix": table}}
    srv = server_factory(config)
    redis_server.kill()
    insert(postgres, table, [("publish", {"channel": "orders:r", "data": {"n": i}}, 0) for i in range(5)])
    await asyncio.sleep(2)
    assert postgres.count(table) == 5
    redis_server.start()
    await wait_until(lambda: postgres.count(table) == 0, timeout=30)
    history = await api_factory(srv).history(HistoryRequest(channel="orders:r", limit=10))
    assert [p.data["n"] for p in history.publications] == [0, 1, 2, 3, 4]
    metrics = urllib.request.urlopen(f"{srv.http_url}/metrics", timeout=5).read().decode()
    errors = next(l for l in metrics.splitlines() if l.startswith("centrifugo_consumers_errors_total"))
    assert float(errors.split()[-1]) >= 1
