"""The two-node scenario on every multi-node engine setup (issue 19): publish through node A,
receive on node B, miss publications while disconnected, recover them on B — on one Redis, on two
sharded Redis servers, through Sentinel, on a Redis Cluster (three masters with a replica each),
and with NATS carrying delivery beside Redis history.
Each setup's servers are started by the test and stopped at its end."""

from __future__ import annotations

import asyncio

import pytest
from cent import HistoryRequest, PublishRequest

from conftest import NATSProcess, RedisClusterSetup, RedisProcess, SentinelSetup
from itsupport import connect_client, subscribe, unique

pytestmark = pytest.mark.json_only

SETUPS = ["standalone", "sharded", "sentinel", "cluster", "nats+redis"]


@pytest.fixture(params=SETUPS)
def multi_node_config(request, tmp_path_factory):
    """The engine section of one setup, with its servers running."""
    started: list = []

    def redis() -> RedisProcess:
        r = RedisProcess(tmp_path_factory.mktemp("redis")).start()
        started.append(r)
        return r

    setup = request.param
    if setup == "standalone":
        cfg = {"engine": {"type": "redis", "redis": {"address": redis().address, "prefix": "mx"}}}
    elif setup == "sharded":
        cfg = {"engine": {"type": "redis", "redis": {"address": [redis().address, redis().address], "prefix": "mx"}}}
    elif setup == "sentinel":
        s = SentinelSetup(tmp_path_factory.mktemp("sentinel")).start()
        started.append(s)
        cfg = {"engine": {"type": "redis", "redis": {"sentinel_address": [s.address], "sentinel_master_name": "mymaster", "prefix": "mx"}}}
    elif setup == "cluster":
        c = RedisClusterSetup(tmp_path_factory.mktemp("cluster"))
        started.append(c)
        c.start()
        cfg = {"engine": {"type": "redis", "redis": {"cluster_address": [c.seeds], "prefix": "mx"}}}
    else:
        nats = NATSProcess(tmp_path_factory.mktemp("nats")).start()
        started.append(nats)
        cfg = {"engine": {"type": "redis", "redis": {"address": redis().address, "prefix": "mx"}},
               "broker": {"enabled": True, "type": "nats", "nats": {"url": nats.url, "prefix": "mx"}}}
    yield cfg
    for server in reversed(started):
        if isinstance(server, (SentinelSetup, RedisClusterSetup)):
            server.stop()
        else:
            server.kill()


async def test_publish_on_a_receive_and_recover_on_b(multi_node_config, server_factory, api_factory, client_factory):
    node_a, node_b = server_factory(multi_node_config), server_factory(multi_node_config)
    api_a = api_factory(node_a)
    # Several channels, so that on two shards both servers carry some.
    channels = [unique(f"chat:mx{i}") for i in range(4)]
    clients = []
    for channel in channels:
        client, ev = client_factory(node_b)
        await connect_client(client, ev)
        _, sev, _ = await subscribe(client, channel)
        clients.append((client, sev))
    for channel in channels:
        await api_a.publish(PublishRequest(channel=channel, data={"n": 1}))
    for _, sev in clients:
        got = await sev.wait("on_publication")
        assert got.pub.offset == 1 and got.pub.data == {"n": 1}

    for client, _ in clients:
        await asyncio.wait_for(client.disconnect(), 5)
    for channel in channels:
        for n in (2, 3):
            await api_a.publish(PublishRequest(channel=channel, data={"n": n}))
    for (client, sev), channel in zip(clients, channels):
        await asyncio.wait_for(client.connect(), 5)
        again = await sev.wait_count("on_subscribed", 2, timeout=10)
        assert again[1].was_recovering and again[1].recovered, (channel, again[1])
        await sev.wait_count("on_publication", 3)
        assert sev.datas() == [{"n": 1}, {"n": 2}, {"n": 3}], channel
        history = await api_factory(node_b).history(HistoryRequest(channel=channel, limit=-1))
        assert [p.data["n"] for p in history.publications] == [1, 2, 3]
        await asyncio.wait_for(client.disconnect(), 5)
