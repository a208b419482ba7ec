"""Behaviours pinned against the real Centrifugo v6.9.1 (issue 23).

Each test states what Centrifugo answers to the same frames or requests; `docs/compatibility.md`
lists where Strata deliberately answers otherwise, and `scripts/differential.py` replays such
exchanges against both servers.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time

import pytest
from cent import ChannelsRequest, PresenceRequest, PublishRequest

from itsupport import API_KEY, RawClient, SubEvents, connect_client, connection_token, subscribe, unique


# --- Part A: authorization ------------------------------------------------------------------


async def test_refused_connect_leaves_nothing_logged_in(server, api):
    """A connect refused with 102 (its token's `subs` name an unknown namespace) leaves no user,
    subscription or presence behind: the channel set up before the failing one is left again,
    and later commands get no answer (Centrifugo stops reading; Strata closes with 3501)."""
    joined = unique("chat:a-first")
    token = connection_token("u-refused", subs={joined: {}, "nope:x": {}})
    async with RawClient(server.ws_url) as raw:
        rep = await raw.call("connect", {"token": token})
        assert rep == {"id": 1, "error": {"code": 102, "message": "unknown channel"}}
        later = unique("chat:later")
        await raw.send_commands(
            {"id": 2, "subscribe": {"channel": later}},
            {"id": 3, "presence_stats": {"channel": joined}},
        )
        code, reason = await raw.wait_closed(5)
        assert (code, reason) == (3501, "bad request")
        assert [m for m in raw.received if m.get("id") in (2, 3)] == []
    pres = await api.presence(PresenceRequest(channel=joined))
    assert pres.presence == {}
    chans = await api.channels(ChannelsRequest(pattern="chat:*"))
    assert joined not in chans.channels and later not in chans.channels


async def test_refresh_with_narrowed_grants_ends_the_connection_3010(server, api, client_factory):
    """A refresh token without the channel the connection token granted: Centrifugo closes with
    3010 and sends no refresh reply. centrifuge-python reconnects with the new token and no
    longer receives the channel (in `locked`, which clients may not subscribe to themselves:
    the reconnect lists it in `subs`, and only a grant could add it)."""
    granted = unique("locked:granted")
    narrowed = connection_token("u-narrow")
    calls: list[int] = []

    async def get_token() -> str:
        calls.append(1)
        return narrowed

    client, ev = client_factory(server, token=connection_token("u-narrow", ttl=2, channels=[granted]), get_token=get_token)
    await connect_client(client, ev)
    assert [c.channel for c in ev.of("on_subscribed")] == [granted], ev.summary()
    # The refresh at expiry ends the connection with 3010; the client reconnects without it.
    await ev.wait("on_connecting", lambda c: c.code == 3010, timeout=8)
    await ev.wait_count("on_connected", 2, timeout=8)
    assert calls, "the client refreshed through get_token"
    await api.publish(PublishRequest(channel=granted, data={"after": "narrowing"}))
    await asyncio.sleep(0.5)
    assert [c for c in ev.of("on_publication") if c.channel == granted] == [], ev.summary()
    assert len(ev.of("on_subscribed")) == 1, ev.summary()
    chans = await api.channels(ChannelsRequest(pattern=granted))
    assert chans.channels == {}


async def test_refresh_with_narrowed_grants_raw(server):
    """The same on the wire: no refresh reply, close 3010 `insufficient state`."""
    granted = unique("chat:granted")
    async with RawClient(server.ws_url) as raw:
        await raw.connect(connection_token("u-raw", channels=[granted]))
        await raw.send_commands({"id": 2, "refresh": {"token": connection_token("u-raw")}})
        code, reason = await raw.wait_closed(5)
        assert (code, reason) == (3010, "insufficient state")
        assert [m for m in raw.received if m.get("id") == 2] == []


async def test_refresh_with_the_same_grants_keeps_the_connection(server):
    granted = unique("chat:granted")
    async with RawClient(server.ws_url) as raw:
        await raw.connect(connection_token("u-same", channels=[granted]))
        rep = await raw.call("refresh", {"token": connection_token("u-same", subs={granted: {}})})
        assert rep["refresh"]["expires"] is True, rep
        assert await raw.stays_open(0.3)


# --- Part B: wire differences ---------------------------------------------------------------


def _post(server, path: str, body, key: bool = True) -> tuple[int, str, bytes]:
    """Raw HTTP POST to the API: (status, content type without parameters, body)."""
    import urllib.error
    import urllib.request

    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"X-API-Key": API_KEY} if key else {}
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    req = urllib.request.Request(server.http_url + path, data=data, method="POST", headers=headers)
    try:
        with opener.open(req, timeout=5) as resp:
            return resp.status, (resp.headers.get("Content-Type") or "").split(";")[0], resp.read()
    except urllib.error.HTTPError as e:
        return e.code, (e.headers.get("Content-Type") or "").split(";")[0], e.read()


async def _subscribed_raw(server, channel: str, **params) -> RawClient:
    raw = RawClient(server.ws_url)
    await raw.__aenter__()
    await raw.connect(connection_token("u-parity"))
    rep = await raw.call("subscribe", dict(channel=channel, **params))
    assert "subscribe" in rep, rep
    raw.subscribe_reply = rep["subscribe"]
    return raw


async def _next_pub(raw: RawClient, timeout: float = 5.0) -> dict:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        for push in raw.pushes:
            if "pub" in push:
                raw.pushes.remove(push)
                return push
        await raw.recv_messages(timeout=max(0.01, deadline - loop.time()))


async def test_b3_binary_payload_ends_json_subscribers_and_history_answers_500(server, client_factory, protocol):
    """b64data that is not JSON: Centrifugo closes JSON subscribers with 3506 instead of writing
    invalid JSON, and its JSON history API answers 500. A centrifuge-python subscriber sees the
    disconnect; the frame it would have choked on never arrives. A Protobuf subscriber receives
    the bytes as they were published."""
    channel = unique("chat:bin")
    client, ev = client_factory(server, user="u-bin")
    await connect_client(client, ev)
    _, sev, _ = await subscribe(client, channel)
    status, _, body = _post(server, "/api/publish", {"channel": channel, "b64data": base64.b64encode(b"not json").decode()})
    assert status == 200 and json.loads(body)["result"]["offset"] >= 1
    if protocol == "protobuf":
        pub = await sev.wait("on_publication", timeout=5)
        assert pub.pub.data == b"not json"
        assert not ev.of("on_disconnected")
        return
    ctx = await ev.wait("on_disconnected", timeout=5)
    assert (ctx.code, ctx.reason) == (3506, "inappropriate protocol")
    assert not sev.of("on_publication")
    assert _post(server, "/api/history", {"channel": channel, "limit": -1}) == (500, "text/plain", b"Internal Server Error\n")


async def test_b3_binary_payload_that_is_json_is_delivered(server):
    channel = unique("chat:binjson")
    raw = await _subscribed_raw(server, channel)
    try:
        _post(server, "/api/publish", {"channel": channel, "b64data": base64.b64encode(b'  {"a":1}  ').decode()})
        push = await _next_pub(raw)
        assert push["pub"]["data"] == {"a": 1}
    finally:
        await raw.__aexit__()


async def test_b4_subscriber_receives_its_own_join(server_factory, client_factory):
    srv = server_factory({"channel": {"namespaces": [
        {"name": "room", "allow_subscribe_for_client": True, "presence": True, "join_leave": True,
         "allow_presence_for_subscriber": True}]}})
    client, ev = client_factory(srv, user="u-join")
    await connect_client(client, ev)
    sev = SubEvents()
    sub = client.new_subscription(unique("room:x"), events=sev, join_leave=True)
    await sub.subscribe()
    await sev.wait("on_subscribed", timeout=5)
    join = await sev.wait("on_join", timeout=5)
    assert join.info.user == "u-join", sev.summary()
    assert [c.info.user for c in sev.of("on_join")] == ["u-join"]


@pytest.mark.parametrize(
    "method, body",
    [
        ("publish", {"channel": 5, "data": 1}), ("publish", {"channel": ["a"], "data": 1}),
        ("publish", {"channel": "chat:x", "data": 1, "skip_history": "yes"}),
        ("publish", {"channel": "chat:x", "data": 1, "tags": {"k": 1}}),
        ("broadcast", {"channels": "x", "data": 1}), ("history", {"channel": "chat:x", "limit": "5"}),
        ("channels", {"pattern": 5}), ("batch", {"commands": {}}),
    ],
)
def test_b5_wrong_json_types_are_http_400(server, method, body):
    assert _post(server, f"/api/{method}", body) == (400, "text/plain", b"Bad Request\n")


async def test_b6_offset_one_push_carries_the_epoch(server, api):
    channel = unique("chat:epoch")
    raw = await _subscribed_raw(server, channel)
    try:
        epoch = raw.subscribe_reply["epoch"]
        await api.publish(PublishRequest(channel=channel, data={"n": 1}))
        await api.publish(PublishRequest(channel=channel, data={"n": 2}))
        first, second = await _next_pub(raw), await _next_pub(raw)
        assert first["pub"].get("epoch") == epoch and first["pub"]["offset"] == 1, first
        assert "epoch" not in second["pub"], second
    finally:
        await raw.__aexit__()


async def test_b7_api_refresh_pushes_to_the_users_connections(server):
    async with RawClient(server.ws_url) as raw:
        await raw.connect(connection_token("u-refresh"))
        assert _post(server, "/api/refresh", {"user": "u-refresh", "expire_at": int(time.time()) + 120})[0] == 200
        msgs = await raw.recv_messages(5)
        assert msgs[0]["push"]["refresh"]["expires"] is True and 110 <= msgs[0]["push"]["refresh"]["ttl"] <= 120, msgs
        assert _post(server, "/api/refresh", {"user": "u-refresh", "info": {"n": 1}})[0] == 200
        assert await raw.recv_messages(5) == [{"push": {"refresh": {}}}]


def test_b8_legacy_single_endpoint(server):
    channel = unique("chat:legacy")
    status, ctype, body = _post(server, "/api", {"method": "publish", "params": {"channel": channel, "data": {"a": 1}}})
    assert (status, ctype) == (200, "application/json") and json.loads(body)["result"]["offset"] == 1
    assert _post(server, "/api", {"method": "nope"}) == (400, "text/plain", b"Bad Request\n")
    assert _post(server, "/api", {})[2] == b'{"error":{"code":107,"message":"bad request"}}'
    assert _post(server, "/api", {"method": "info"}, key=False)[0] == 401


async def test_b9_was_recovering_without_recovery(server):
    async with RawClient(server.ws_url) as raw:
        await raw.connect(connection_token("u-rec"))
        rep = await raw.call("subscribe", {"channel": unique("nohist:r"), "recover": True})
        assert rep["subscribe"] == {"was_recovering": True}


async def test_b10_null_data_is_published(server, api):
    channel = unique("chat:null")
    raw = await _subscribed_raw(server, channel)
    try:
        assert json.loads(_post(server, "/api/publish", {"channel": channel, "data": None})[2])["result"]["offset"] == 1
        assert (await _next_pub(raw))["pub"]["data"] is None
        rep = await raw.call("publish", {"channel": channel, "data": None})
        assert rep.get("publish") == {}, rep
        assert (await _next_pub(raw))["pub"]["data"] is None
        status, _, body = _post(server, "/api/broadcast", {"channels": [channel], "data": None})
        assert json.loads(body)["result"]["responses"][0]["result"]["offset"] == 3
    finally:
        await raw.__aexit__()


async def test_b11_binary_frame_with_json_commands(server):
    async with RawClient(server.ws_url) as raw:
        await raw.send_raw(json.dumps({"id": 1, "connect": {"token": connection_token("u-bin-frame")}}).encode(), text=False)
        rep = await raw.reply(1)
        assert "connect" in rep, rep
        await raw.send_raw(json.dumps({"id": 2, "subscribe": {"channel": unique("nohist:b")}}).encode(), text=False)
        assert (await raw.reply(2)).get("subscribe") == {}


async def test_b12_payload_bytes_reach_subscribers_verbatim(server):
    channel = unique("chat:bytes")
    raw = await _subscribed_raw(server, channel)
    try:
        body = b'{"channel":"' + channel.encode() + b'","data":{"z":1,  "a":\n[1.0, 2]}}'
        assert _post(server, "/api/publish", body)[0] == 200
        # The raw frame, not a parsed push; the subscriber's own join (chat: pushes joins) may
        # come in a frame of its own first.
        while True:
            frame = await asyncio.wait_for(raw.ws.recv(), 5)
            text = frame if isinstance(frame, str) else frame.decode()
            if '"pub"' in text:
                break
        assert '"data":{"z":1,  "a":[1.0, 2]}' in text, text
    finally:
        await raw.__aexit__()


def test_b13_batch_edges_and_null_body(server):
    assert _post(server, "/api/batch", {"commands": [{}]})[2] == b'{"replies":[{"error":{"code":104,"message":"not found"}}]}'
    assert _post(server, "/api/batch", {"commands": []})[2] == b"{}"
    assert _post(server, "/api/batch", {})[2] == b"{}"
    status, _, body = _post(server, "/api/info", b"null")
    assert status == 200 and json.loads(body)["result"]["nodes"]
