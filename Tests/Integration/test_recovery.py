"""Stream recovery (namespace chat has force_recovery) with centrifuge-python and on the wire."""

from __future__ import annotations

import asyncio

import cent
from cent import HistoryRequest, PublishRequest
from centrifuge import ClientState, SubscriptionState

from itsupport import RawClient, connect_client, connection_token, subscribe, unique


async def test_reconnect_recovers_missed_publications(server, api, client_factory):
    client, ev = client_factory(server)
    await connect_client(client, ev)
    channel = unique("chat:recover")
    sub, sev, first = await subscribe(client, channel)
    assert first.recoverable is True and first.was_recovering is False and first.recovered is False, first
    epoch = first.stream_position.epoch

    for i in range(1, 4):
        await api.publish(PublishRequest(channel=channel, data={"n": i}))
    await sev.wait_count("on_publication", 3)
    assert sev.offsets() == [1, 2, 3]

    await asyncio.wait_for(client.disconnect(), 5)
    assert client.state == ClientState.DISCONNECTED
    assert sub.state == SubscriptionState.SUBSCRIBING  # kept for resubscribe on the next connect

    for i in range(4, 9):
        await api.publish(PublishRequest(channel=channel, data={"n": i}))

    await asyncio.wait_for(client.connect(), 10)
    assert client.state == ClientState.CONNECTED
    again = await sev.wait_count("on_subscribed", 2, timeout=5)
    ctx = again[1]
    assert ctx.was_recovering is True, ctx
    assert ctx.recovered is True, ctx
    # a successful recovery echoes the position the client asked from, not the top
    assert ctx.stream_position.offset == 3 and ctx.stream_position.epoch == epoch, ctx

    await sev.wait_count("on_publication", 8, timeout=5)
    await asyncio.sleep(0.3)  # no duplicates trickling in afterwards
    assert sev.offsets() == list(range(1, 9)), sev.offsets()
    assert sev.datas() == [{"n": i} for i in range(1, 9)]

    # and live delivery continues from there
    await api.publish(PublishRequest(channel=channel, data={"n": 9}))
    await sev.wait_count("on_publication", 9)
    assert sev.offsets() == list(range(1, 10))


async def test_resubscribe_at_top_recovers_nothing(server, api, client_factory):
    client, ev = client_factory(server)
    await connect_client(client, ev)
    channel = unique("chat:recover-top")
    _, sev, _ = await subscribe(client, channel)
    await api.publish(PublishRequest(channel=channel, data={"n": 1}))
    await sev.wait("on_publication")

    await asyncio.wait_for(client.disconnect(), 5)
    await asyncio.wait_for(client.connect(), 10)
    ctx = (await sev.wait_count("on_subscribed", 2))[1]
    assert ctx.was_recovering is True and ctx.recovered is True, ctx
    assert ctx.stream_position.offset == 1, ctx
    await asyncio.sleep(0.3)
    assert sev.offsets() == [1]


async def test_recovery_on_the_wire(server, api):
    channel = unique("chat:wire")
    for i in range(1, 6):
        await api.publish(PublishRequest(channel=channel, data={"n": i}))
    top = await api.history(HistoryRequest(channel=channel))
    epoch = top.epoch
    assert top.offset == 5 and epoch

    async with RawClient(server.ws_url) as raw:
        await raw.connect(connection_token("42"))

        # 1) from offset 2 in the right epoch: publications 3..5, offset echoes the request
        rep = await raw.call("subscribe", {"channel": channel, "recover": True, "offset": 2, "epoch": epoch})
        res = rep["subscribe"]
        assert res.get("recovered") is True and res.get("was_recovering") is True, res
        assert res.get("recoverable") is True and res.get("positioned") is True, res
        assert [p["offset"] for p in res.get("publications", [])] == [3, 4, 5], res
        assert [p["data"] for p in res["publications"]] == [{"n": 3}, {"n": 4}, {"n": 5}]
        assert res.get("offset") == 2 and res.get("epoch") == epoch, res
        assert (await raw.call("unsubscribe", {"channel": channel})).get("unsubscribe") == {}

        # 2) wrong epoch: not recovered, no publications, positioned at the current top
        rep = await raw.call("subscribe", {"channel": channel, "recover": True, "offset": 2, "epoch": "bogus"})
        res = rep["subscribe"]
        assert not res.get("recovered") and res.get("was_recovering") is True, res
        assert not res.get("publications"), res
        assert res.get("offset") == 5 and res.get("epoch") == epoch, res
        assert (await raw.call("unsubscribe", {"channel": channel})).get("unsubscribe") == {}

        # 3) already at the top: recovered with nothing to deliver
        rep = await raw.call("subscribe", {"channel": channel, "recover": True, "offset": 5, "epoch": epoch})
        res = rep["subscribe"]
        assert res.get("recovered") is True and not res.get("publications"), res
        assert res.get("offset") == 5, res

        # live publications then continue at offset 6, after the subscribe reply
        await api.publish(PublishRequest(channel=channel, data={"n": 6}))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5
        # (the namespace pushes joins, the subscriber's own ones included, as Centrifugo does)
        def pubs() -> list:
            return [p for p in raw.pushes if "pub" in p]

        while not pubs() and loop.time() < deadline:
            try:
                await raw.recv_messages(timeout=deadline - loop.time())
            except asyncio.TimeoutError:
                break
        assert pubs(), "no publication push"
        push = pubs()[0]
        assert push.get("channel") == channel and push["pub"]["offset"] == 6, push
        assert push["pub"]["data"] == {"n": 6}


async def test_history_api_matches_recovered_stream(server, api, client_factory):
    """Client-side publications land in the same stream the API reads (with ClientInfo)."""
    client, ev = client_factory(server)
    await connect_client(client, ev)
    channel = unique("chat:mixed")
    sub, sev, _ = await subscribe(client, channel)
    await api.publish(PublishRequest(channel=channel, data={"from": "api"}))
    await sub.publish({"from": "client"})
    await sev.wait_count("on_publication", 2)
    hist = await api.history(HistoryRequest(channel=channel, limit=-1))
    assert [p.offset for p in hist.publications] == [1, 2]
    assert hist.publications[0].info is None
    assert hist.publications[1].info is not None and hist.publications[1].info.user == "42"
    assert hist.publications[1].info.client == client.client_id
    hist2 = await api.history(HistoryRequest(channel=channel, limit=1, since=cent.StreamPosition(offset=1, epoch=hist.epoch)))
    assert [p.data for p in hist2.publications] == [{"from": "client"}]
