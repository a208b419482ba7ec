"""Issue 20, items 1 and 4: what Centrifugo v6 does with a stream's publications, checked on every
engine (memory, LMDB, Redis) with real clients (centrifuge-python on both protocols, raw JSON where
the wire itself is the point, plain HTTP for the API fields cent does not have).

- A binary payload (`b64data` that is not JSON) reaches a JSON client on no path: live, its own
  `history` call and recovery each end the connection with 3506 instead of writing a frame the
  client cannot read; a Protobuf client receives the bytes on every path.
- The publication with offset 1 carries the stream's epoch (to subscribers without delta, as
  Centrifugo does).
- After a recovery that returned nothing, the first publication to a delta subscriber is full.
- A publication whose `version` is not newer than the stream's is dropped without an offset.
"""

from __future__ import annotations

import asyncio
import base64
import json

import pytest
from centrifuge import DeltaType

from itsupport import RawClient, api_call, connect_client, connection_token, subscribe, unique


STREAM = {
    "history_size": 100, "history_ttl": "300s", "force_recovery": True, "allow_subscribe_for_client": True,
    "allow_history_for_subscriber": True,
}


@pytest.fixture
def engine_server(engine_factory):
    """A server on each engine with a stream namespace `st` and a delta namespace `dl`."""
    return engine_factory({"channel": {"namespaces": [
        {"name": "st", **STREAM},
        {"name": "dl", **STREAM, "allowed_delta_types": ["fossil"], "delta_publish": True},
    ]}})


def publish_binary(server, channel: str, data: bytes) -> int:
    return api_call(server, "publish", {"channel": channel, "b64data": base64.b64encode(data).decode()})["result"]["offset"]


async def test_binary_payload_reaches_json_clients_on_no_path(engine_server, client_factory, protocol):
    """Live, the subscriber's own history call, and recovery: a JSON client is closed with 3506
    `inappropriate protocol` each time, before any frame it could not parse; Protobuf gets the bytes."""
    srv = engine_server
    binary = b"\x00\xffnot json"

    # Live.
    live = unique("st:live")
    client, ev = client_factory(srv, user="u-live")
    await connect_client(client, ev)
    _, sev, _ = await subscribe(client, live)
    publish_binary(srv, live, binary)
    if protocol == "json":
        ctx = await ev.wait("on_disconnected", timeout=5)
        assert (ctx.code, ctx.reason) == (3506, "inappropriate protocol")
        assert not sev.of("on_publication")
    else:
        pub = await sev.wait("on_publication", timeout=5)
        assert pub.pub.data == binary

    # The subscriber's own history call.
    hist = unique("st:hist")
    publish_binary(srv, hist, binary)
    client, ev = client_factory(srv, user="u-hist")
    await connect_client(client, ev)
    sub, sev, _ = await subscribe(client, hist)
    if protocol == "json":
        with pytest.raises(Exception):
            await sub.history(limit=10, timeout=5)
        ctx = await ev.wait("on_disconnected", timeout=5)
        assert (ctx.code, ctx.reason) == (3506, "inappropriate protocol")
    else:
        result = await sub.history(limit=10, timeout=5)
        assert [p.data for p in result.publications] == [binary]

    # Recovery: subscribed, away while a binary publication arrives, back.
    rec = unique("st:rec")
    api_call(srv, "publish", {"channel": rec, "data": {"n": 1}})
    client, ev = client_factory(srv, user="u-rec")
    await connect_client(client, ev)
    _, sev, first = await subscribe(client, rec)
    assert first.recoverable, first
    await asyncio.wait_for(client.disconnect(), 5)
    publish_binary(srv, rec, binary)
    await asyncio.wait_for(client.connect(), 10)
    if protocol == "json":
        # The first disconnect is the client's own; the second is the server's.
        ctx = (await ev.wait_count("on_disconnected", 2, timeout=5))[1]
        assert (ctx.code, ctx.reason) == (3506, "inappropriate protocol"), ev.summary()
        assert not sev.of("on_publication")
    else:
        again = (await sev.wait_count("on_subscribed", 2, timeout=5))[1]
        assert again.was_recovering and again.recovered, again
        pub = await sev.wait("on_publication", timeout=5)
        assert (pub.pub.offset, pub.pub.data) == (2, binary)


async def test_offset_one_carries_the_epoch_and_a_delta_follows_only_a_base_the_client_holds(engine_server):
    """Raw JSON. The first publication (offset 1) carries the stream's epoch to a plain
    subscriber; a `delta: fossil` subscriber gets it in full without the epoch (Centrifugo v6.9.1
    does the same, checked side by side), then deltas onto the previous one. After a reconnect
    whose recovery returned nothing, the next publication is full (the client holds no base in
    the new subscription), and deltas resume after it."""
    srv = engine_server
    channel = unique("dl:x")
    base = {"text": "the same long text " * 8}

    def pub(n: int) -> dict:
        return api_call(srv, "publish", {"channel": channel, "data": {**base, "n": n}, "delta": True})["result"]

    async def pushes_of(raw: RawClient, count: int) -> list[dict]:
        pushes: list[dict] = []
        while len(pushes) < count:
            pushes += [m["push"]["pub"] for m in await raw.recv_messages() if "pub" in m.get("push", {})]
        return pushes

    async with RawClient(srv.ws_url) as raw, RawClient(srv.ws_url) as plain:
        await raw.connect(connection_token("u-delta"))
        await plain.connect(connection_token("u-plain"))
        reply = await raw.call("subscribe", {"channel": channel, "delta": "fossil", "recover": True})
        assert reply["subscribe"].get("delta") is True, reply
        await plain.call("subscribe", {"channel": channel, "recover": True})
        first = pub(1)
        pub(2)
        plain_pushes = await pushes_of(plain, 2)
        assert plain_pushes[0]["offset"] == 1 and plain_pushes[0]["epoch"] == first["epoch"], plain_pushes[0]
        assert "epoch" not in plain_pushes[1], plain_pushes[1]
        pushes = await pushes_of(raw, 2)
        assert pushes[0]["offset"] == 1 and not pushes[0].get("delta") and "epoch" not in pushes[0], pushes[0]
        assert pushes[1]["offset"] == 2 and pushes[1].get("delta") is True, pushes[1]

    async with RawClient(srv.ws_url) as raw:
        await raw.connect(connection_token("u-delta"))
        reply = await raw.call("subscribe", {"channel": channel, "delta": "fossil", "recover": True,
                                             "offset": 2, "epoch": first["epoch"]})
        assert reply["subscribe"]["recovered"] is True and not reply["subscribe"].get("publications"), reply
        pub(3)
        pub(4)
        pushes = await pushes_of(raw, 2)
        assert pushes[0]["offset"] == 3 and not pushes[0].get("delta"), pushes[0]
        assert json.loads(pushes[0]["data"])["n"] == 3
        assert pushes[1]["offset"] == 4 and pushes[1].get("delta") is True, pushes[1]


async def test_a_delta_subscriber_decodes_every_publication_across_a_reconnect(engine_server, client_factory):
    """centrifuge-python with delta on: before and after a reconnect that recovers nothing, every
    publication decodes to what was published (a delta onto a base it does not hold would not),
    and the first after the reconnect came in full."""
    srv = engine_server
    channel = unique("dl:py")
    client, ev = client_factory(srv, user="u-py")
    await connect_client(client, ev)
    _, sev, _ = await subscribe(client, channel, delta=DeltaType.FOSSIL)
    data = [{"text": "the same long text " * 8, "n": n} for n in range(1, 7)]
    for d in data[:3]:
        api_call(srv, "publish", {"channel": channel, "data": d, "delta": True})
    await sev.wait_count("on_publication", 3, timeout=5)
    await asyncio.wait_for(client.disconnect(), 5)
    await asyncio.wait_for(client.connect(), 10)
    again = (await sev.wait_count("on_subscribed", 2, timeout=5))[1]
    assert again.recovered, again
    for d in data[3:]:
        api_call(srv, "publish", {"channel": channel, "data": d, "delta": True})
    await sev.wait_count("on_publication", 6, timeout=5)
    assert sev.offsets() == [1, 2, 3, 4, 5, 6]
    assert sev.datas() == data
    assert [c.pub.delta for c in sev.of("on_publication")] == [False, True, True, False, True, True]


async def test_out_of_order_versions_are_dropped_without_an_offset(engine_server, client_factory, protocol):
    """`version` (cent has no field for it: plain HTTP): a version not newer than the stream's is
    dropped, answered with the stream's current position, and takes no offset; a new
    `version_epoch` starts versions afresh; version 0 is not checked. Diffed against Centrifugo
    v6.9.1: the same answers."""
    srv = engine_server
    channel = unique("st:ver")
    client, ev = client_factory(srv, user="u-ver")
    await connect_client(client, ev)
    _, sev, _ = await subscribe(client, channel)
    answers = [api_call(srv, "publish", {"channel": channel, "data": {"v": v}, **extra})["result"]["offset"]
               for v, extra in [(2, {"version": 2}), (1, {"version": 1}), ("2b", {"version": 2}), (3, {"version": 3}),
                                ("e1", {"version": 1, "version_epoch": "x"}), ("e0", {"version": 0})]]
    assert answers == [1, 1, 1, 2, 3, 4]
    await sev.wait_count("on_publication", 4, timeout=5)
    await asyncio.sleep(0.2)
    assert sev.offsets() == [1, 2, 3, 4]
    assert sev.datas() == [{"v": 2}, {"v": 3}, {"v": "e1"}, {"v": "e0"}]
    history = api_call(srv, "history", {"channel": channel, "limit": -1})["result"]
    assert [p["data"] for p in history["publications"]] == [{"v": 2}, {"v": 3}, {"v": "e1"}, {"v": "e0"}]
