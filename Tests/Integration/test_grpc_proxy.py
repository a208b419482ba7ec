"""gRPC proxies (`endpoint` grpc://host:port or host:port; Centrifugo's proxy.proto): the same
events as the HTTP proxies (connect, refresh, subscribe, publish, rpc, sub_refresh) answered by
a real grpcio server on loopback (grpc_proxy_backend.py), which records every request message
and its metadata. centrifuge-python connects, subscribes, publishes and calls RPCs through it
(JSON and Protobuf), cent publishes and reads history, and a raw WebSocket shows the exact
replies, pushes and close codes. Beyond the HTTP proxies: payloads travel as bytes (a Protobuf
client's non-JSON bytes reach the backend as they are), metadata layers (static, emulated,
forwarded headers, credentials), gzip, and the gRPC-specific config refusals."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import time
import urllib.request

import grpc
import pytest
from cent import HistoryRequest, PresenceRequest, PublishRequest
from centrifuge import ReplyError
from websockets.asyncio.client import connect as ws_connect

from conftest import free_port
from grpc_proxy_backend import Abort, GRPCBackend, grpc_backend  # noqa: F401 (grpc_backend is a fixture)
from itsupport import RawClient, connect_client, connection_token, new_client


def js(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def section(b: GRPCBackend, **extra) -> dict:
    return {"endpoint": b.endpoint, "timeout": "1s", **extra}


def grpc_config(b: GRPCBackend, connect: dict | None = None, rpc: dict | None = None, **channel_proxy) -> dict:
    """Every event proxied to `b`: the connect proxy (no token), namespace `room` with the
    subscribe/publish/sub_refresh proxies, RPC without a namespace; `news` takes the connect
    proxy's server-side channels."""
    return {
        "prometheus": {"enabled": True},
        "client": {"expired_sub_close_delay": "100ms", "proxy": {"connect": {"enabled": True, **section(b, **(connect or {}))}}},
        "channel": {
            "proxy": {event: section(b, **channel_proxy.get(event, {})) for event in ("subscribe", "publish", "sub_refresh")},
            "namespaces": [
                {"name": "room", "history_size": 10, "history_ttl": "300s", "presence": True,
                 "allow_presence_for_subscriber": True, "allow_history_for_subscriber": True,
                 "subscribe_proxy_enabled": True, "publish_proxy_enabled": True, "sub_refresh_proxy_enabled": True},
                {"name": "news", "presence": True, "history_size": 10, "history_ttl": "300s"},
            ],
        },
        "rpc": {"proxy": section(b, **(rpc or {})), "without_namespace": {"proxy_enabled": True}},
    }


class HeaderRawClient(RawClient):
    """RawClient whose WebSocket upgrade carries `headers`."""

    def __init__(self, url: str, headers: dict) -> None:
        super().__init__(url)
        self.headers = headers

    async def __aenter__(self) -> "HeaderRawClient":
        self.ws = await ws_connect(self.url, additional_headers=self.headers, open_timeout=5, close_timeout=2,
                                   ping_interval=None, max_size=None, proxy=None)
        return self


async def raw_connect(srv, token: str = "", **params) -> tuple[dict | None, tuple]:
    """One connect over a bare WebSocket: (the reply, or None) and (close code, reason) if closed."""
    async with ws_connect(srv.ws_url, proxy=None, open_timeout=5) as ws:
        await ws.send(json.dumps({"id": 1, "connect": {"token": token, "name": "raw", **params}}))
        try:
            return json.loads((await asyncio.wait_for(ws.recv(), 5)).split("\n")[0]), ()
        except Exception:
            return None, (ws.close_code, ws.close_reason)


def metrics(srv) -> str:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return opener.open(f"{srv.http_url}/metrics", timeout=5).read().decode()


INTERNAL = {"code": 100, "message": "internal server error", "temporary": True}


# ---------------------------------------------------------------------------------------------
# connect
# ---------------------------------------------------------------------------------------------


async def test_the_grpc_backend_decides_the_connection(server_factory, api_factory, grpc_backend, protocol):
    """centrifuge-python connects without a token: the backend gets Centrifugo's ConnectRequest
    (data as bytes) and answers the user, info, data, a channel and a sub with its own data; the
    client gets the data and both server-side subscriptions, presence shows the info, and a
    publication through cent arrives."""
    pb2 = grpc_backend.pb2
    grpc_backend.answers["connect"] = lambda req: pb2.ConnectResponse(result=pb2.ConnectResult(
        user="56", info=js({"name": "Alex"}), data=js({"welcome": True}), channels=["news:sport"],
        subs={"news:extra": pb2.SubscribeOptions(data=js({"sub": 1}))}))
    srv = server_factory(grpc_config(grpc_backend))
    client, ev = new_client(srv.ws_url, protocol=protocol, data={"from": "client"}, name="py", version="1.2")
    api = api_factory(srv)
    try:
        await connect_client(client, ev)
        connected = ev.of("on_connected")[0]
        assert connected.data == {"welcome": True}
        await ev.wait_count("on_subscribed", 2, timeout=5)
        subscribed = {c.channel: c.data for c in ev.of("on_subscribed")}
        assert subscribed == {"news:sport": None, "news:extra": {"sub": 1}}, subscribed
        presence = await api.presence(PresenceRequest(channel="news:sport"))
        [info] = presence.presence.values()
        assert info.user == "56" and info.conn_info == {"name": "Alex"}
        await api.publish(PublishRequest(channel="news:sport", data={"goal": 1}))
        pub = await ev.wait("on_publication", timeout=5)
        assert pub.channel == "news:sport" and pub.pub.data == {"goal": 1}
    finally:
        await asyncio.wait_for(client.disconnect(), 5)
    [call] = grpc_backend.calls["connect"]
    request = call.request
    assert request.client == connected.client
    assert (request.transport, request.protocol, request.encoding) == ("websocket", protocol, "json")
    assert (request.name, request.version) == ("py", "1.2")
    assert json.loads(request.data) == {"from": "client"} and request.b64data == ""
    assert 0 < call.time_remaining <= 1.0  # the proxy's timeout is the call's deadline


async def test_the_connect_request_and_its_metadata(server_factory, grpc_backend):
    """A raw connect with data, subs and emulated headers over an upgrade with headers: the
    ConnectRequest has exactly Centrifugo's fields (channels from subs); the metadata layers
    static < emulated < the upgrade's headers (lower-cased keys), unlisted headers stay out, the
    credentials pair is added; an RPC on that connection carries the same metadata. The
    answer's b64data wins over its data."""
    pb2 = grpc_backend.pb2
    grpc_backend.answers["connect"] = lambda req: pb2.ConnectResponse(result=pb2.ConnectResult(
        user="u1", data=js({"plain": 1}), b64data=base64.b64encode(js({"b64": 2})).decode()))
    grpc_backend.answers["rpc"] = lambda req: pb2.RPCResponse(result=pb2.RPCResult(data=js({"ok": True})))
    metadata_options = {
        "http_headers": ["X-Custom", "X-Both"],
        "emulated_headers": ["X-Emu", "X-Emu-Static", "X-Both"],
        "grpc": {"static_metadata": {"X-Static": "s", "X-Both": "static", "X-Emu-Static": "static"},
                 "credentials_key": "x-api-key", "credentials_value": "k"},
    }
    srv = server_factory(grpc_config(grpc_backend, connect=metadata_options, rpc=metadata_options))
    upgrade = {"X-Custom": "c", "X-Both": "transport", "X-Other": "no"}
    emulated = {"X-Emu": "e", "X-Emu-Static": "emulated", "X-Both": "emulated", "X-Unlisted": "no"}
    async with HeaderRawClient(srv.ws_url, upgrade) as raw:
        cmd_id = raw.next_id()
        await raw.ws.send('{"id":%d,"connect":{"name":"raw","version":"0.9","data":{"a": "<&>"},'
                          '"subs":{"news:b":{},"news:a":{}},"headers":%s}}' % (cmd_id, json.dumps(emulated)))
        connected = (await raw.reply(cmd_id))["connect"]
        assert connected["data"] == {"b64": 2}, connected
        rpc = await raw.call("rpc", {"method": "m", "data": {"x": 1}})
        assert rpc["rpc"]["data"] == {"ok": True}, rpc
    [call] = grpc_backend.calls["connect"]
    forwarded = {"x-static": "s", "x-emu": "e", "x-emu-static": "emulated", "x-both": "transport", "x-custom": "c",
                 "x-api-key": "k"}
    for c in (call, grpc_backend.calls["rpc"][0]):
        md = {k: v for k, v in c.metadata if k != "user-agent"}
        assert md == forwarded, c.metadata
        assert all(len(c.md_all(k)) == 1 for k in forwarded), c.metadata
    request = pb2.ConnectRequest()
    request.CopyFrom(call.request)
    assert sorted(request.channels) == ["news:a", "news:b"]  # Centrifugo's order is its map's
    del request.channels[:]
    assert json.loads(request.data) == {"a": "<&>"}  # the exact bytes: test_json_payloads_reach_the_backend_as_written
    request.ClearField("data")
    assert request == pb2.ConnectRequest(client=connected["client"], transport="websocket", protocol="json", encoding="json",
                                         name="raw", version="0.9"), call.request


async def test_json_payloads_reach_the_backend_as_written(server_factory, grpc_backend):
    """gRPC carries payloads as bytes, so Centrifugo passes a JSON client's `data` on as the
    client wrote it — whitespace kept, and `null` as the bytes `null` — in connect, subscribe,
    rpc and publish alike (an HTTP proxy re-encodes them inside its JSON body instead)."""
    grpc_backend.answers["rpc"] = lambda req: grpc_backend.pb2.RPCResponse()
    srv = server_factory(grpc_config(grpc_backend))
    spaced = '{"k" :\t[1, 2]}'
    commands = ['"connect":{"data":%s}', '"subscribe":{"channel":"room:1","data":%s}', '"rpc":{"method":"m","data":%s}',
                '"publish":{"channel":"room:1","data":%s}']
    for payload in (spaced, "null"):
        async with RawClient(srv.ws_url) as raw:
            for command in commands:
                cmd_id = raw.next_id()
                await raw.ws.send('{"id":%d,%s}' % (cmd_id, command % payload))
                reply = await raw.reply(cmd_id)
                assert "error" not in reply, (command, reply)
    got = {event: [r.data for r in grpc_backend.requests(event)] for event in ("connect", "subscribe", "rpc", "publish")}
    assert got == {event: [spaced.encode(), b"null"] for event in got}, got


@pytest.mark.parametrize("answer, expected", [
    ("disconnect", ("closed", 4501, "unauthorized")),
    ("error", ("error", {"code": 1000, "message": "custom error"})),
    ("expired", ("error", {"code": 110, "message": "expired"})),
    ("empty", ("closed", 3501, "bad request")),
    ("UNAVAILABLE", ("error", INTERNAL)),
    ("INTERNAL", ("error", INTERNAL)),
    ("PERMISSION_DENIED", ("error", INTERNAL)),
])
async def test_the_backends_connect_answer_reaches_the_client(server_factory, grpc_backend, answer, expected):
    """Its disconnect closes the connection with its code, its error is the connect's error, an
    expiry in the past is 110, no result (anonymous not allowed) is 3501; any non-OK status is
    error 100, temporary — as an HTTP backend's failure."""
    pb2 = grpc_backend.pb2
    answers = {
        "disconnect": lambda req: pb2.ConnectResponse(disconnect=pb2.Disconnect(code=4501, reason="unauthorized")),
        "error": lambda req: pb2.ConnectResponse(error=pb2.Error(code=1000, message="custom error")),
        "expired": lambda req: pb2.ConnectResponse(result=pb2.ConnectResult(user="56", expire_at=1000)),
        "empty": lambda req: pb2.ConnectResponse(),
    }

    def abort(req):
        raise Abort(getattr(grpc.StatusCode, answer), "backend says no")

    grpc_backend.answers["connect"] = answers.get(answer, abort)
    srv = server_factory(grpc_config(grpc_backend))
    reply, closed = await raw_connect(srv)
    if expected[0] == "closed":
        assert closed == expected[1:], (reply, closed)
    else:
        assert reply is not None and reply.get("error") == expected[1], (reply, closed)
    assert len(grpc_backend.calls["connect"]) == 1


async def test_a_backend_down_or_slow_fails_the_connect_and_counts_in_metrics(server_factory, grpc_backend):
    """The backend sleeping past the 300 ms timeout: error 100 after about the timeout, while a
    client with a token connects at once meanwhile. Then the backend stopped: error 100 at once.
    /metrics counts the calls and errors with protocol="grpc"."""
    grpc_backend.delays["connect"] = 2.0
    srv = server_factory(grpc_config(grpc_backend, connect={"timeout": "300ms"}))
    began = time.monotonic()
    slow = asyncio.create_task(raw_connect(srv))
    await asyncio.sleep(0.05)
    reply, _ = await raw_connect(srv, token=connection_token("fast"))
    assert reply["connect"]["client"] and time.monotonic() - began < 0.3
    slow_reply, _ = await slow
    assert slow_reply["error"] == INTERNAL, slow_reply
    assert 0.25 < time.monotonic() - began < 1.5
    await grpc_backend.stop()
    began = time.monotonic()
    reply, _ = await raw_connect(srv)
    assert reply["error"] == INTERNAL and time.monotonic() - began < 1.0, reply
    text = metrics(srv)
    assert 'centrifugo_proxy_duration_seconds_count{name="default",protocol="grpc",type="connect"} 2' in text, text
    assert 'centrifugo_proxy_errors{name="default",protocol="grpc",type="connect"} 2' in text
    assert 'centrifugo_proxy_inflight_requests{name="default",protocol="grpc",type="connect"} 0' in text
    assert 'centrifugo_proxy_duration_seconds_count{name="default",protocol="http"' not in text


# ---------------------------------------------------------------------------------------------
# subscribe, publish, rpc
# ---------------------------------------------------------------------------------------------


async def test_subscriptions_and_publications_go_through_the_backend(server_factory, api_factory, grpc_backend, protocol):
    """Subscribe: the backend sees user, channel, data (bytes) and the token's meta, and its info
    and data take effect; publish: one passes as is, one has its data replaced and tagged, one
    skips history, one is refused with the backend's error; the subscriber and history see
    exactly that."""
    pb2 = grpc_backend.pb2

    def subscribe(req):
        return pb2.SubscribeResponse(result=pb2.SubscribeResult(info=js({"role": "mod"}), data=js({"welcome": json.loads(req.data)})))

    def publish(req):
        text = json.loads(req.data)["text"]
        if text == "replace":
            return pb2.PublishResponse(result=pb2.PublishResult(data=js({"text": "replaced"}), b64data="ignored", tags={"by": "backend"}))
        if text == "ephemeral":
            return pb2.PublishResponse(result=pb2.PublishResult(skip_history=True))
        if text == "refuse":
            return pb2.PublishResponse(error=pb2.Error(code=1002, message="moderated"))
        return pb2.PublishResponse()

    grpc_backend.answers["subscribe"] = subscribe
    grpc_backend.answers["publish"] = publish
    srv = server_factory(grpc_config(grpc_backend, subscribe={"include_connection_meta": True}))
    api = api_factory(srv)
    client, ev = new_client(srv.ws_url, token=connection_token("carol", meta={"tenant": "t1"}), protocol=protocol)
    try:
        await connect_client(client, ev)
        sub = client.new_subscription("room:1", ev, data={"hello": 1})
        await sub.subscribe()
        assert (await ev.wait("on_subscribed", timeout=5)).data == {"welcome": {"hello": 1}}
        presence = await api.presence(PresenceRequest(channel="room:1"))
        [info] = presence.presence.values()
        assert info.user == "carol" and info.chan_info == {"role": "mod"}
        for text in ["as is", "replace", "ephemeral"]:
            await asyncio.wait_for(sub.publish({"text": text}), 5)
        with pytest.raises(ReplyError) as refusal:
            await asyncio.wait_for(sub.publish({"text": "refuse"}), 5)
        assert refusal.value.code == 1002 and refusal.value.message == "moderated"
        await ev.wait_count("on_publication", 3, timeout=5)
        pubs = ev.of("on_publication")
        assert [p.pub.data for p in pubs] == [{"text": "as is"}, {"text": "replaced"}, {"text": "ephemeral"}]
        assert pubs[1].pub.tags == {"by": "backend"} and pubs[0].pub.info.user == "carol"
    finally:
        await asyncio.wait_for(client.disconnect(), 5)
    history = await api.history(HistoryRequest(channel="room:1", limit=10))
    assert [p.data for p in history.publications] == [{"text": "as is"}, {"text": "replaced"}]
    sub_request = grpc_backend.requests("subscribe")[0]
    assert (sub_request.user, sub_request.channel, sub_request.protocol, sub_request.encoding) == ("carol", "room:1", protocol, "json")
    assert json.loads(sub_request.meta) == {"tenant": "t1"} and json.loads(sub_request.data) == {"hello": 1}
    pub_request = grpc_backend.requests("publish")[0]
    assert (pub_request.user, pub_request.channel, json.loads(pub_request.data)) == ("carol", "room:1", {"text": "as is"})
    assert pub_request.meta == b""  # include_connection_meta is off for publish


async def test_subscribe_and_publish_failures_reach_only_that_command(server_factory, grpc_backend):
    """Raw replies: a failing status or a slow backend is error 100 temporary for that
    subscribe or publish, the backend's error is that command's error, and its disconnect
    closes the connection with its code."""
    pb2 = grpc_backend.pb2

    def subscribe(req):
        if req.channel == "room:unavailable":
            raise Abort(grpc.StatusCode.UNAVAILABLE, "down")
        if req.channel == "room:error":
            return pb2.SubscribeResponse(error=pb2.Error(code=1001, message="no", temporary=True))
        if req.channel == "room:kick":
            return pb2.SubscribeResponse(disconnect=pb2.Disconnect(code=4501, reason="banned"))
        return pb2.SubscribeResponse()

    def publish(req):
        if json.loads(req.data).get("fail"):
            raise Abort(grpc.StatusCode.INTERNAL, "boom")
        return pb2.PublishResponse()

    grpc_backend.answers["subscribe"] = subscribe
    grpc_backend.answers["publish"] = publish
    srv = server_factory(grpc_config(grpc_backend, subscribe={"timeout": "300ms"}))
    async with RawClient(srv.ws_url) as raw:
        await raw.connect(connection_token("bob"))
        assert (await raw.call("subscribe", {"channel": "room:unavailable"})).get("error") == INTERNAL
        assert (await raw.call("subscribe", {"channel": "room:error"})).get("error") == {"code": 1001, "message": "no", "temporary": True}
        grpc_backend.delays["subscribe"] = 1.0
        began = time.monotonic()
        assert (await raw.call("subscribe", {"channel": "room:slow"})).get("error") == INTERNAL
        assert time.monotonic() - began < 0.9
        grpc_backend.delays["subscribe"] = 0.0
        assert "subscribe" in await raw.call("subscribe", {"channel": "room:fine"})
        assert (await raw.call("publish", {"channel": "room:fine", "data": {"fail": True}})).get("error") == INTERNAL
        assert "publish" in await raw.call("publish", {"channel": "room:fine", "data": {"fail": False}})
        await raw.send_commands({"id": raw.next_id(), "subscribe": {"channel": "room:kick"}})
        assert await raw.wait_closed() == (4501, "banned")


async def test_rpc_is_answered_by_the_backend(server_factory, grpc_backend, protocol):
    """centrifuge-python's rpc() (the endpoint given as a bare host:port): the backend gets the
    user, method and data, and its data comes back; its error is the RPC's error; a failing
    status is 100."""
    pb2 = grpc_backend.pb2

    def rpc(req):
        if req.method == "fail":
            return pb2.RPCResponse(error=pb2.Error(code=1001, message="no funds"))
        if req.method == "boom":
            raise Abort(grpc.StatusCode.INTERNAL, "boom")
        return pb2.RPCResponse(result=pb2.RPCResult(data=js({"echo": json.loads(req.data), "user": req.user})))

    grpc_backend.answers["rpc"] = rpc
    srv = server_factory(grpc_config(grpc_backend, rpc={"endpoint": grpc_backend.address}))
    client, ev = new_client(srv.ws_url, token=connection_token("alice"), protocol=protocol)
    try:
        await connect_client(client, ev)
        result = await asyncio.wait_for(client.rpc("price", {"item": 7}), 5)
        assert result.data == {"echo": {"item": 7}, "user": "alice"}
        for method, code in [("fail", 1001), ("boom", 100)]:
            with pytest.raises(ReplyError) as failure:
                await asyncio.wait_for(client.rpc(method, {}), 5)
            assert failure.value.code == code, (method, failure.value)
    finally:
        await asyncio.wait_for(client.disconnect(), 5)
    first = grpc_backend.requests("rpc")[0]
    assert (first.method, first.user, first.transport, first.protocol, first.encoding) == ("price", "alice", "websocket", protocol, "json")
    assert [r.method for r in grpc_backend.requests("rpc")] == ["price", "fail", "boom"]


@pytest.mark.parametrize("binary_encoding", [False, True])
async def test_binary_payloads_reach_the_backend_as_bytes(server_factory, grpc_backend, binary_encoding):
    """A Protobuf client's non-JSON bytes in an RPC and a publication reach the gRPC backend as
    those exact bytes (encoding "json": gRPC carries bytes, unlike HTTP's JSON body); with
    binary_encoding as base64 in b64data, encoding "binary". The backend's binary RPC answer and
    the publication reach the client as bytes."""
    pb2 = grpc_backend.pb2
    answer = b"\xfe\x00\x01"
    rpc_result = pb2.RPCResult(b64data=base64.b64encode(answer).decode()) if binary_encoding else pb2.RPCResult(data=answer)
    grpc_backend.answers["rpc"] = lambda req: pb2.RPCResponse(result=rpc_result)
    options = {"binary_encoding": binary_encoding}
    srv = server_factory(grpc_config(grpc_backend, rpc=options, publish=options))
    client, ev = new_client(srv.ws_url, token=connection_token("bin"), use_protobuf=True)
    try:
        await connect_client(client, ev)
        result = await asyncio.wait_for(client.rpc("bytes", b"\x00\xff\x01"), 5)
        assert result.data == answer
        sub = client.new_subscription("room:bin", ev)
        await sub.subscribe()
        await ev.wait("on_subscribed", timeout=5)
        await asyncio.wait_for(sub.publish(b"\x80\x00"), 5)
        assert (await ev.wait("on_publication", timeout=5)).pub.data == b"\x80\x00"
    finally:
        await asyncio.wait_for(client.disconnect(), 5)
    [rpc] = grpc_backend.requests("rpc")
    [pub] = grpc_backend.requests("publish")
    for request, sent in [(rpc, b"\x00\xff\x01"), (pub, b"\x80\x00")]:
        assert request.protocol == "protobuf"
        if binary_encoding:
            assert (request.encoding, request.data, request.b64data) == ("binary", b"", base64.b64encode(sent).decode())
        else:
            assert (request.encoding, request.data, request.b64data) == ("json", sent, "")


async def test_gzip_compressed_calls_work(server_factory, grpc_backend):
    """grpc.compression: the grpcio backend takes the gzip-compressed requests; connect and an
    RPC with a large payload work."""
    pb2 = grpc_backend.pb2
    grpc_backend.answers["rpc"] = lambda req: pb2.RPCResponse(result=pb2.RPCResult(data=req.data))
    options = {"grpc": {"compression": True}}
    srv = server_factory(grpc_config(grpc_backend, connect=options, rpc=options))
    async with RawClient(srv.ws_url) as raw:
        await raw.connect("")
        big = {"text": "x" * 50_000}
        assert (await raw.call("rpc", {"method": "echo", "data": big}))["rpc"]["data"] == big
    assert len(grpc_backend.calls["connect"]) == 1 and len(grpc_backend.calls["rpc"]) == 1


# ---------------------------------------------------------------------------------------------
# refresh, sub_refresh
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("final", ["expired", "error", "failure"])
async def test_connections_are_refreshed_by_the_backend(server_factory, grpc_backend, final):
    """The connect proxy gives a connection expiring in about a second with meta; the refresh
    proxy gets user and meta (include_connection_meta), extends it once with new meta, then
    answers expired — or an `error`, which also means expired: 3005. A failing status keeps the
    connection (tried again later)."""
    pb2 = grpc_backend.pb2
    grpc_backend.answers["connect"] = lambda req: pb2.ConnectResponse(result=pb2.ConnectResult(
        user="frank", expire_at=int(time.time()) + 1, meta=js({"plan": "free"})))
    finals = {"expired": lambda: pb2.RefreshResponse(result=pb2.RefreshResult(expired=True)),
              "error": lambda: pb2.RefreshResponse(error=pb2.Error(code=1000, message="nope"))}

    def refresh(req):
        if final == "failure":
            raise Abort(grpc.StatusCode.UNAVAILABLE, "down")
        if len(grpc_backend.calls["refresh"]) == 1:
            return pb2.RefreshResponse(result=pb2.RefreshResult(expire_at=int(time.time()) + 1, meta=js({"plan": "pro"})))
        return finals[final]()

    grpc_backend.answers["refresh"] = refresh
    config = grpc_config(grpc_backend)
    config["client"]["proxy"]["refresh"] = {"enabled": True, **section(grpc_backend, include_connection_meta=True)}
    srv = server_factory(config)
    async with RawClient(srv.ws_url) as raw:
        connected = await raw.connect("")
        assert "expires" not in connected and "ttl" not in connected, connected
        if final == "failure":
            assert await raw.stays_open(2.5)
            assert len(grpc_backend.calls["refresh"]) == 1
            return
        assert await raw.wait_closed(timeout=8) == (3005, "connection expired")
    calls = grpc_backend.requests("refresh")
    assert [json.loads(c.meta) for c in calls] == [{"plan": "free"}, {"plan": "pro"}]
    assert (calls[0].user, calls[0].client, calls[0].transport, calls[0].encoding) == ("frank", connected["client"], "websocket", "json")


@pytest.mark.parametrize("final", ["expired", "disconnect"])
async def test_subscriptions_are_refreshed_by_the_backend(server_factory, grpc_backend, final):
    """A subscription the backend made expire in about a second: sub_refresh extends it once,
    then answers expired — or a `disconnect`, which for a refresh also means expired: the client
    gets the unsubscribe push 2501 and the connection stays open."""
    pb2 = grpc_backend.pb2
    grpc_backend.answers["subscribe"] = lambda req: pb2.SubscribeResponse(result=pb2.SubscribeResult(expire_at=int(time.time()) + 1))
    finals = {"expired": lambda: pb2.SubRefreshResponse(result=pb2.SubRefreshResult(expired=True)),
              "disconnect": lambda: pb2.SubRefreshResponse(disconnect=pb2.Disconnect(code=4999, reason="gone"))}

    def sub_refresh(req):
        if len(grpc_backend.calls["sub_refresh"]) == 1:
            return pb2.SubRefreshResponse(result=pb2.SubRefreshResult(expire_at=int(time.time()) + 1, info=js({"round": 2})))
        return finals[final]()

    grpc_backend.answers["sub_refresh"] = sub_refresh
    srv = server_factory(grpc_config(grpc_backend))
    async with RawClient(srv.ws_url) as raw:
        await raw.connect(connection_token("erin"))
        reply = await raw.call("subscribe", {"channel": "room:lease"})
        assert "expires" not in reply["subscribe"], reply
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 8
        while not raw.pushes and loop.time() < deadline:
            assert await raw.stays_open(0.2)
        assert raw.pushes[-1] == {"channel": "room:lease", "unsubscribe": {"code": 2501, "reason": "subscription expired"}}
        assert await raw.stays_open(0.3)
    calls = grpc_backend.requests("sub_refresh")
    assert len(calls) == 2 and (calls[0].channel, calls[0].user, calls[0].transport) == ("room:lease", "erin", "websocket")


# ---------------------------------------------------------------------------------------------
# config
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("where, proxy, message", [
    ("connect", {"endpoint": "grpc://nohostport"}, "client.proxy.connect.endpoint"),
    ("connect", {"endpoint": "backend:notaport"}, "client.proxy.connect.endpoint"),
    ("rpc", {"endpoint": "grpc://:9000"}, "rpc.proxy.endpoint"),
    ("connect", {"grpc": {"tls": {"enabled": True}}}, "client.proxy.connect.grpc.tls.enabled"),
])
def test_unusable_grpc_proxy_configs_are_refused(strata_bin, tmp_path, where, proxy, message):
    """checkconfig and serve both refuse, naming the key."""
    section_ = {"endpoint": "grpc://127.0.0.1:9000", **proxy}
    if where == "connect":
        config = {"client": {"proxy": {"connect": {"enabled": True, **section_}}}}
    else:
        config = {"rpc": {"proxy": section_, "without_namespace": {"proxy_enabled": True}}}
    (tmp_path / "config.json").write_text(json.dumps(config))
    check = subprocess.run([str(strata_bin), "checkconfig", "--config", "config.json"], capture_output=True, text=True,
                           timeout=30, cwd=tmp_path)
    assert check.returncode != 0 and message in check.stderr + check.stdout, check.stderr + check.stdout
    serve = subprocess.run([str(strata_bin), "--config", "config.json", "--http_server.port", str(free_port())],
                           capture_output=True, text=True, timeout=20, cwd=tmp_path)
    assert serve.returncode != 0 and message in serve.stderr + serve.stdout, serve.stderr + serve.stdout
