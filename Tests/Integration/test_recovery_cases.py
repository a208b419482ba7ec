"""Recovery edge cases with centrifuge-python (issue: recovery), and a concurrency test: clients
resubscribing while publications stream in must each see a gapless, duplicate-free sequence."""

from __future__ import annotations

import asyncio
import random
import signal

import pytest

from cent import HistoryRemoveRequest, PublishRequest
from centrifuge import ClientState

from itsupport import connect_client, subscribe, unique

CASES = {
    "client": {"recovery_max_publication_limit": 300},
    "channel": {"namespaces": [
        {"name": "small", "history_size": 5, "history_ttl": "300s", "force_recovery": True, "allow_subscribe_for_client": True},
        {"name": "chat", "history_size": 1000, "history_ttl": "300s", "force_recovery": True, "allow_subscribe_for_client": True},
        {"name": "cache", "history_size": 1, "history_ttl": "300s", "force_recovery": True, "force_recovery_mode": "cache",
         "auto_cache_recover": True, "allow_subscribe_for_client": True},
    ]},
}


async def _subscribed_then_offline(server, api, client_factory, channel, n_before=1):
    client, ev = client_factory(server)
    await connect_client(client, ev)
    sub, sev, first = await subscribe(client, channel)
    for i in range(n_before):
        await api.publish(PublishRequest(channel=channel, data={"n": i}))
    await sev.wait_count("on_publication", n_before)
    await asyncio.wait_for(client.disconnect(), 5)
    return client, sev, first


async def test_gap_beyond_history_size_is_not_recovered(server_factory, api_factory, client_factory):
    srv = server_factory(CASES)
    api = api_factory(srv)
    channel = unique("small:beyond")
    client, sev, _ = await _subscribed_then_offline(srv, api, client_factory, channel)
    for i in range(10):
        await api.publish(PublishRequest(channel=channel, data={"n": 100 + i}))
    await asyncio.wait_for(client.connect(), 10)
    ctx = (await sev.wait_count("on_subscribed", 2, timeout=5))[1]
    assert ctx.was_recovering is True and ctx.recovered is False, ctx
    assert ctx.stream_position.offset == 11, ctx
    await api.publish(PublishRequest(channel=channel, data={"n": "live"}))
    await sev.wait_count("on_publication", 2, timeout=5)
    assert sev.offsets() == [1, 12], "nothing of the unrecoverable gap may be delivered"
    await client.disconnect()


async def test_after_history_remove_only_a_client_at_the_top_recovers(server_factory, api_factory, client_factory):
    srv = server_factory(CASES)
    api = api_factory(srv)
    channel = unique("chat:removed")
    behind, sev_behind, _ = await _subscribed_then_offline(srv, api, client_factory, channel)
    await api.publish(PublishRequest(channel=channel, data={"n": "missed"}))
    at_top, sev_top, _ = await _subscribed_then_offline(srv, api, client_factory, channel, n_before=1)
    await api.history_remove(HistoryRemoveRequest(channel=channel))
    await asyncio.wait_for(behind.connect(), 10)
    await asyncio.wait_for(at_top.connect(), 10)
    ctx_behind = (await sev_behind.wait_count("on_subscribed", 2, timeout=5))[1]
    ctx_top = (await sev_top.wait_count("on_subscribed", 2, timeout=5))[1]
    assert ctx_behind.recovered is False and ctx_behind.was_recovering is True, ctx_behind
    assert ctx_top.recovered is True, ctx_top
    # offsets and epoch survive history_remove
    assert ctx_top.stream_position.offset == 3 and ctx_top.stream_position.epoch == ctx_behind.stream_position.epoch
    await behind.disconnect()
    await at_top.disconnect()


async def test_new_epoch_after_memory_engine_restart_is_not_recovered(server_factory, api_factory, client_factory):
    srv = server_factory({**CASES, "engine": {"type": "memory"}})
    api = api_factory(srv)
    channel = unique("chat:epoch")
    client, ev = client_factory(srv, max_reconnect_delay=0.5)
    await connect_client(client, ev)
    sub, sev, first = await subscribe(client, channel)
    await api.publish(PublishRequest(channel=channel, data={"n": 1}))
    await sev.wait_count("on_publication", 1)
    port = srv.port
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait(5)
    srv.start(port=port)  # memory engine: every stream is gone, epochs are new
    api = api_factory(srv)
    ctx = await sev.wait("on_subscribed", lambda c: c.was_recovering, timeout=15)
    assert ctx.recovered is False, ctx
    assert ctx.stream_position.epoch != first.stream_position.epoch
    await client.disconnect()


async def test_cache_mode_delivers_only_the_latest_value(server_factory, api_factory, client_factory):
    srv = server_factory(CASES)
    api = api_factory(srv)
    channel = unique("cache:price")
    for v in (1, 2, 3):
        await api.publish(PublishRequest(channel=channel, data={"price": v}))
    client, ev = client_factory(srv)
    await connect_client(client, ev)
    sub, sev, ctx = await subscribe(client, channel)
    assert ctx.recovered is True and ctx.was_recovering is True, ctx
    await sev.wait_count("on_publication", 1, timeout=5)
    assert sev.datas() == [{"price": 3}] and sev.offsets() == [3]
    await api.publish(PublishRequest(channel=channel, data={"price": 4}))
    await sev.wait_count("on_publication", 2, timeout=5)
    assert sev.offsets() == [3, 4]
    await client.disconnect()


@pytest.mark.parametrize("engine", ["lmdb", "memory", "redis"])
async def test_cache_mode_resubscribe_gets_the_value_published_while_away(
        request, server_factory, api_factory, client_factory, engine):
    """Issue 19's defect: on Redis a node that lost its last subscriber hears of no publication,
    and a read it cached for that subscriber was served to the next one — the stale position
    and no publication. Publish 2, subscribe (recovery from an empty position: the latest),
    disconnect, publish 4 more, reconnect at once: the resubscribe must bring publication 6."""
    config = dict(CASES)
    if engine == "redis":
        redis = request.getfixturevalue("redis_server")
        config["engine"] = {"type": "redis", "redis": {"address": redis.address, "prefix": unique("cm")}}
    else:
        config["engine"] = {"type": engine}
    srv = server_factory(config)
    api = api_factory(srv)
    channel = unique("cache:quote")
    for v in (1, 2):
        await api.publish(PublishRequest(channel=channel, data={"v": v}))
    client, ev = client_factory(srv)
    await connect_client(client, ev)
    sub, sev, first = await subscribe(client, channel)
    await sev.wait_count("on_publication", 1, timeout=5)
    assert sev.offsets() == [2], sev.offsets()
    await asyncio.wait_for(client.disconnect(), 5)
    for v in (3, 4, 5, 6):
        await api.publish(PublishRequest(channel=channel, data={"v": v}))
    await asyncio.wait_for(client.connect(), 5)
    again = (await sev.wait_count("on_subscribed", 2, timeout=5))[1]
    assert again.recovered is True, again
    await sev.wait_count("on_publication", 2, timeout=5)
    assert sev.offsets() == [2, 6] and sev.datas()[-1] == {"v": 6}
    await asyncio.wait_for(client.disconnect(), 5)


async def test_clients_resubscribing_under_load_see_gapless_sequences(server_factory, api_factory, client_factory):
    """200 clients bounce (disconnect + reconnect with recovery) at random moments while 600
    publications arrive from 4 concurrent publishers; every client must end with offsets 1..600
    exactly once each."""
    srv = server_factory(CASES)
    channel = unique("chat:load")
    total, n_clients = 600, 200
    clients = []
    for _ in range(n_clients):
        client, ev = client_factory(srv, max_reconnect_delay=0.3)
        await connect_client(client, ev)
        _, sev, _ = await subscribe(client, channel)
        clients.append((client, sev))

    api = api_factory(srv, timeout=10)
    counter = iter(range(total))

    async def publisher():
        for i in counter:
            await api.publish(PublishRequest(channel=channel, data={"i": i}))
            await asyncio.sleep(0.002)

    async def bouncer(client):
        rnd = random.Random(id(client))
        for _ in range(3):
            await asyncio.sleep(rnd.uniform(0.05, 1.0))
            await client.disconnect()
            await asyncio.sleep(rnd.uniform(0.0, 0.2))
            await client.connect()

    await asyncio.gather(*(publisher() for _ in range(4)), *(bouncer(c) for c, _ in clients))
    for client, sev in clients:
        await sev.wait_count("on_publication", total, timeout=20)
    await asyncio.sleep(0.5)
    bad = []
    for client, sev in clients:
        if sev.offsets() != list(range(1, total + 1)):
            offs = sev.offsets()
            bad.append((len(offs), len(set(offs)), [o for o in range(1, total + 1) if o not in set(offs)][:5]))
        await client.disconnect()
    assert not bad, f"{len(bad)} clients saw gaps or duplicates (count, unique, first missing): {bad[:5]}"


async def test_cache_channel_survives_a_kill_minus_9_on_lmdb(server_factory, api_factory, client_factory):
    srv = server_factory(CASES)
    api = api_factory(srv)
    channel = unique("cache:persist")
    await api.publish(PublishRequest(channel=channel, data={"price": 41}))
    await api.publish(PublishRequest(channel=channel, data={"price": 42}))
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait(5)
    srv.start()
    client, ev = client_factory(srv)
    await connect_client(client, ev)
    sub, sev, ctx = await subscribe(client, channel)
    assert ctx.recovered is True, ctx
    await sev.wait_count("on_publication", 1, timeout=5)
    assert sev.datas() == [{"price": 42}] and sev.offsets() == [2]
    await client.disconnect()
