"""Keyed cache channels (issue 20, item 5; docs/keyed-cache.md), on every engine (memory, LMDB,
Redis) with real clients: centrifuge-python on both protocols subscribes, cent publishes.

A namespace with `cache_key_tag: "symbol"` keeps the latest publication of every symbol:
- a fresh subscriber gets every live key's latest value, in offset order, `recovered: true`;
- a subscriber that reconnects gets what changed since its position: new values and tombstones
  (publications tagged `cache_removed: "true"`), however far the stream itself was trimmed;
- a new key past `cache_key_limit` is refused with 106 once no tombstone is left to drop, and a
  resubscribe from before a dropped tombstone is not recovered (`keyed_changes_forgotten`);
- a publication without the key tag is refused with 107;
- the server API's `history` with `compacted: true` reads the table;
- on LMDB the table survives a restart.
"""

from __future__ import annotations

import asyncio
import subprocess

import pytest
from centrifuge import DeltaType
from cent import PublishRequest

from itsupport import RawClient, api_call, connect_client, connection_token, subscribe, unique


# history_size 2: the stream keeps two publications, the table every key.
PRICES = {"name": "prices", "history_size": 2, "history_ttl": "300s", "force_recovery": True,
          "force_recovery_mode": "cache", "auto_cache_recover": True, "allow_subscribe_for_client": True,
          "cache_key_tag": "symbol"}
SMALL = {**PRICES, "name": "small", "cache_key_limit": 3}


@pytest.fixture
def engine_server(engine_factory):
    return engine_factory({"channel": {"namespaces": [PRICES, SMALL]}})


async def set_price(api, channel: str, symbol: str, price: int) -> int:
    reply = await api.publish(PublishRequest(channel=channel, data={"symbol": symbol, "price": price}, tags={"symbol": symbol}))
    return reply.offset


async def remove(api, channel: str, symbol: str) -> int:
    reply = await api.publish(PublishRequest(channel=channel, data={"symbol": symbol, "removed": True},
                                             tags={"symbol": symbol, "cache_removed": "true"}))
    return reply.offset


def received(sev) -> list[tuple[int, str, object]]:
    """(offset, symbol, price or "removed") of each publication the subscription got."""
    out = []
    for ctx in sev.of("on_publication"):
        data = ctx.pub.data
        out.append((ctx.pub.offset, data["symbol"], "removed" if data.get("removed") else data["price"]))
    return out


async def test_fresh_subscriber_gets_every_key_then_changes_on_reconnect(engine_server, api_factory, client_factory):
    srv = engine_server
    api = api_factory(srv)
    channel = unique("prices:board")
    await set_price(api, channel, "AAPL", 1)     # 1
    await set_price(api, channel, "MSFT", 1)     # 2
    await set_price(api, channel, "AAPL", 2)     # 3
    await set_price(api, channel, "GOOG", 1)     # 4
    await remove(api, channel, "MSFT")           # 5

    client, ev = client_factory(srv)
    await connect_client(client, ev)
    _, sev, ctx = await subscribe(client, channel)
    assert ctx.recovered, sev.summary()
    await sev.wait_count("on_publication", 2)
    # The stream holds only offsets 4 and 5; the table has AAPL and GOOG (MSFT was removed).
    assert received(sev) == [(3, "AAPL", 2), (4, "GOOG", 1)], sev.summary()

    # Live, as any channel.
    await set_price(api, channel, "TSLA", 1)     # 6
    await sev.wait_count("on_publication", 3)

    # Away for a while: values change, a key goes, another comes, far past history_size.
    await client.disconnect()
    await set_price(api, channel, "AAPL", 3)     # 7
    await remove(api, channel, "GOOG")           # 8
    await set_price(api, channel, "NVDA", 1)     # 9
    await set_price(api, channel, "AAPL", 4)     # 10
    await connect_client(client, ev)
    ctx = (await sev.wait_count("on_subscribed", 2, timeout=5))[1]
    await sev.wait_count("on_publication", 6)
    await asyncio.sleep(0.3)
    assert ctx.recovered, sev.summary()
    assert received(sev)[3:] == [(8, "GOOG", "removed"), (9, "NVDA", 1), (10, "AAPL", 4)], sev.summary()

    # Live again after the recovery, with no gap and no duplicate.
    await set_price(api, channel, "MSFT", 5)     # 11
    await sev.wait_count("on_publication", 7)
    await asyncio.sleep(0.2)
    assert received(sev)[-1] == (11, "MSFT", 5)
    assert [o for o, _, _ in received(sev)] == [3, 4, 6, 8, 9, 10, 11], sev.summary()


async def test_key_limit_tombstones_and_missing_key(engine_server, api_factory, client_factory, strata_bin):
    srv = engine_server
    channel = unique("small:seats")
    for n, seat in enumerate(["a1", "a2", "a3"]):
        assert api_call(srv, "publish", {"channel": channel, "data": {"symbol": seat, "price": n}, "tags": {"symbol": seat}}).get("result")

    # A subscriber positioned now, before the tombstone that will be dropped.
    client, ev = client_factory(srv)
    await connect_client(client, ev)
    _, sev, _ = await subscribe(client, channel)
    await sev.wait_count("on_publication", 3)
    await client.disconnect()

    # A fourth key: the table is full of live keys.
    full = api_call(srv, "publish", {"channel": channel, "data": {"symbol": "a4", "price": 4}, "tags": {"symbol": "a4"}})
    assert full["error"]["code"] == 106, full
    # An existing key still updates; a removal frees room at the next new key.
    assert api_call(srv, "publish", {"channel": channel, "data": {"symbol": "a1", "price": 9}, "tags": {"symbol": "a1"}})["result"]["offset"] == 4
    assert api_call(srv, "publish", {"channel": channel, "data": {"symbol": "a2", "removed": True},
                                     "tags": {"symbol": "a2", "cache_removed": "true"}})["result"]["offset"] == 5
    assert api_call(srv, "publish", {"channel": channel, "data": {"symbol": "a4", "price": 4}, "tags": {"symbol": "a4"}})["result"]["offset"] == 6
    # No key tag at all: 107, nothing appended.
    missing = api_call(srv, "publish", {"channel": channel, "data": {"price": 1}})
    assert missing["error"]["code"] == 107, missing
    assert "symbol" in missing["error"]["message"]

    # The client was at offset 3; the tombstone at 5 was dropped to make room: its table cannot
    # be brought up to date with changes.
    await connect_client(client, ev)
    ctx = (await sev.wait_count("on_subscribed", 2, timeout=5))[1]
    assert ctx.was_recovering and not ctx.recovered, sev.summary()

    # The compacted view through the API: the live keys, then the changes after offset 3.
    view = api_call(srv, "history", {"channel": channel, "compacted": True, "limit": -1})["result"]
    assert [(p["offset"], p["tags"]["symbol"]) for p in view["publications"]] == [(3, "a3"), (4, "a1"), (6, "a4")]
    changes = api_call(srv, "history", {"channel": channel, "compacted": True, "limit": -1,
                                        "since": {"offset": 4, "epoch": view["epoch"]}})["result"]
    assert [p["offset"] for p in changes["publications"]] == [6]
    assert view["offset"] == 6
    # The reason, as a raw JSON client reads it (SDKs skip the key).
    async with RawClient(srv.ws_url) as raw:
        await raw.connect(connection_token("u-raw"))
        reply = await raw.call("subscribe", {"channel": channel, "recover": True, "offset": 3, "epoch": view["epoch"]})
        assert reply["subscribe"]["recovery_failure"] == "keyed_changes_forgotten", reply
        assert not reply["subscribe"].get("recovered"), reply
    if srv.engine == "lmdb":
        # `strata history why` answers the same offline, from the same table.
        def why(offset: int) -> subprocess.CompletedProcess:
            return subprocess.run([str(strata_bin), "history", "why", channel, "--offset", str(offset), "--epoch", view["epoch"],
                                   "--config", str(srv.config_path)], cwd=srv.workdir, capture_output=True, text=True, timeout=30)
        forgotten = why(3)
        assert forgotten.returncode == 1 and "keyed_changes_forgotten" in forgotten.stdout, forgotten
        assert "keyed cache, floor 5" in forgotten.stdout, forgotten
        fine = why(5)
        assert fine.returncode == 0 and "recovered: 1 publication(s)" in fine.stdout, fine
    # The stream itself is another read: history_size 2.
    stream = api_call(srv, "history", {"channel": channel, "limit": -1})["result"]
    assert [p["offset"] for p in stream["publications"]] == [5, 6]


async def test_compacted_history_pages_and_tombstones(engine_server):
    srv = engine_server
    channel = unique("prices:page")
    for n in range(6):
        api_call(srv, "publish", {"channel": channel, "data": {"symbol": f"s{n}", "price": n}, "tags": {"symbol": f"s{n}"}})
    api_call(srv, "publish", {"channel": channel, "data": {"symbol": "s2", "removed": True},
                              "tags": {"symbol": "s2", "cache_removed": "true"}})
    page = api_call(srv, "history", {"channel": channel, "compacted": True, "limit": 2})["result"]
    assert [p["offset"] for p in page["publications"]] == [1, 2]
    epoch = page["epoch"]
    rest = api_call(srv, "history", {"channel": channel, "compacted": True, "limit": -1, "since": {"offset": 2, "epoch": epoch}})["result"]
    # After offset 2: s3..s5 and the tombstone of s2 (offset 7), with its tags.
    assert [(p["offset"], p["tags"].get("cache_removed")) for p in rest["publications"]] == [(4, None), (5, None), (6, None), (7, "true")]
    newest = api_call(srv, "history", {"channel": channel, "compacted": True, "limit": 1, "reverse": True})["result"]
    assert [p["offset"] for p in newest["publications"]] == [6]
    wrong = api_call(srv, "history", {"channel": channel, "compacted": True, "limit": -1, "since": {"offset": 2, "epoch": "other"}})
    assert wrong["error"]["code"] == 112
    plain = api_call(srv, "history", {"channel": unique("other"), "compacted": True, "limit": -1})
    assert plain["error"]["code"] in (102, 108), plain


async def test_table_survives_a_restart_on_lmdb(server_factory, api_factory, client_factory):
    srv = server_factory({"channel": {"namespaces": [PRICES]}})
    api = api_factory(srv)
    channel = unique("prices:durable")
    for n, symbol in enumerate(["AAPL", "MSFT", "GOOG", "AAPL"]):
        await set_price(api, channel, symbol, n)
    srv.stop()
    srv.start()
    client, ev = client_factory(srv)
    await connect_client(client, ev)
    _, sev, ctx = await subscribe(client, channel)
    assert ctx.recovered
    await sev.wait_count("on_publication", 3)
    assert received(sev) == [(2, "MSFT", 1), (3, "GOOG", 2), (4, "AAPL", 3)], sev.summary()


async def test_delta_subscriber_reads_the_table_and_follows_live(server_factory, api_factory, client_factory):
    """With fossil deltas the table arrives as a delta chain and live publications follow as
    deltas against the stream's previous one: what the client decodes is what was published,
    also when the table's newest entry is not the stream's top (a tombstone a fresh client skips)."""
    srv = server_factory({"channel": {"namespaces": [{**PRICES, "allowed_delta_types": ["fossil"], "delta_publish": True}]}})
    api = api_factory(srv)
    channel = unique("prices:delta")
    await set_price(api, channel, "AAPL", 1)     # 1
    await set_price(api, channel, "MSFT", 1)     # 2
    await remove(api, channel, "MSFT")           # 3: the top, not in a fresh table
    client, ev = client_factory(srv)
    await connect_client(client, ev)
    _, sev, ctx = await subscribe(client, channel, delta=DeltaType.FOSSIL)
    assert ctx.recovered
    await sev.wait_count("on_publication", 1)
    await set_price(api, channel, "AAPL", 2)     # 4: its delta base (3) is one the client never got
    await set_price(api, channel, "AAPL", 3)     # 5
    await sev.wait_count("on_publication", 3)
    await asyncio.sleep(0.2)
    assert received(sev) == [(1, "AAPL", 1), (4, "AAPL", 2), (5, "AAPL", 3)], sev.summary()


async def test_two_redis_nodes_share_the_table(server_factory, redis_server, api_factory, client_factory):
    """On Redis the table is shared: keys published through node A are the table a client gets
    from node B, and live publications through A reach it on B; coming back on A, it gets the
    changes it missed."""
    config = {"channel": {"namespaces": [PRICES]},
              "engine": {"type": "redis", "redis": {"address": redis_server.address, "prefix": unique("kc2")}}}
    node_a, node_b = server_factory(config), server_factory(config)
    api = api_factory(node_a)
    channel = unique("prices:shared")
    await set_price(api, channel, "AAPL", 1)
    await set_price(api, channel, "MSFT", 1)
    client, ev = client_factory(node_b)
    await connect_client(client, ev)
    _, sev, ctx = await subscribe(client, channel)
    assert ctx.recovered
    await sev.wait_count("on_publication", 2)
    await set_price(api, channel, "AAPL", 2)        # 3, live from A to B
    await sev.wait_count("on_publication", 3)
    await client.disconnect()
    await remove(api, channel, "MSFT")              # 4
    await set_price(api, channel, "GOOG", 1)        # 5
    # Its position (3) taken to node A: a raw JSON client resubscribes from it there.
    async with RawClient(node_a.ws_url) as raw:
        await raw.connect(connection_token("u-raw"))
        reply = (await raw.call("subscribe", {"channel": channel, "recover": True, "offset": 3,
                                              "epoch": ctx.stream_position.epoch}))["subscribe"]
    assert reply.get("recovered"), reply
    got = [(p["offset"], p["tags"]["symbol"], p["tags"].get("cache_removed")) for p in reply["publications"]]
    assert got == [(4, "MSFT", "true"), (5, "GOOG", None)], reply
