"""The one-way transports over real sockets (transports spec §5, checklist 46-66): uni_http_stream
and uni_sse read with aiohttp, uni_websocket with `websockets`; and Strata's own addition, a plain
EventSource that reconnects with `Last-Event-ID` and recovers what it missed (docs/transports.md)."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import urllib.parse
from typing import Any, Optional

import aiohttp
import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from cent import DisconnectRequest, Disconnect, PublishRequest
from itsupport import connection_token, make_jwt, unique
from test_http_streaming import Stream, plain

UNI = {"uni_http_stream": {"enabled": True}, "uni_sse": {"enabled": True}, "uni_websocket": {"enabled": True}}
ANON = {**UNI, "client": {"allow_anonymous_connect_without_token": True}}
FAST_PING = {**UNI, "client": {"allow_anonymous_connect_without_token": True, "ping_interval": "1s", "pong_timeout": "500ms"}}


async def open_uni(srv, kind: str, request: Optional[dict] = None, headers: Optional[dict] = None) -> Stream:
    session = aiohttp.ClientSession()
    if kind == "uni_sse":
        query = "" if request is None else "?" + urllib.parse.urlencode({"cf_connect": json.dumps(request)})
        response = await session.get(f"{srv.http_url}/connection/uni_sse{query}", headers=headers or {})
    else:
        response = await session.post(f"{srv.http_url}/connection/uni_http_stream", data=json.dumps(request or {}).encode(),
                                      headers=headers or {})
    return Stream(session, response, sse=(kind == "uni_sse"))


def uni_sse_events(raw: bytes) -> list[tuple[Optional[str], dict]]:
    """(id, data) of every event in a uni_sse body."""
    out = []
    for block in raw.lstrip(b"\r\n").split(b"\n\n"):
        if not block:
            continue
        event_id, data = None, None
        for line in block.split(b"\n"):
            if line.startswith(b"id: "):
                event_id = line[4:].decode()
            elif line.startswith(b"data: "):
                data = json.loads(line[6:])
        out.append((event_id, data))
    return out


class UniSSE:
    """A uni_sse stream whose events (with their ids) are read one by one, as an EventSource does."""

    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        self.buffer = b""
        self.opened = False

    async def next(self, timeout: float = 5.0) -> Optional[tuple[Optional[str], dict]]:
        while True:
            if not self.opened and len(self.buffer) >= 2:
                assert self.buffer.startswith(b"\r\n")
                self.buffer = self.buffer[2:]
                self.opened = True
            if self.opened and b"\n\n" in self.buffer:
                block, _, self.buffer = self.buffer.partition(b"\n\n")
                return uni_sse_events(block)[0]
            chunk = await asyncio.wait_for(self.stream.response.content.readany(), timeout)
            if not chunk:
                return None
            self.buffer += chunk


@pytest.mark.parametrize("kind", ["uni_http_stream", "uni_sse"])
async def test_connect_push_then_bare_publications(server_factory, api_factory, kind):
    """Checklist 46, 49, 56, 57: the connect push first (session, ping, no pong/node/id, keys in
    Centrifugo's order), then bare `{"channel":…,"pub":…}` pushes of the token's channels."""
    srv = server_factory(UNI)
    api = api_factory(srv)
    channel = unique("chat:uni")
    stream = await open_uni(srv, kind, {"token": connection_token("uni", channels=[channel])})
    try:
        assert stream.response.status == 200
        text_connect = None
        first = await stream.next()
        connect = first["connect"]
        assert connect["session"] and connect["ping"] == 25
        assert "pong" not in connect and "node" not in connect and "id" not in first
        keys = list(connect.keys())
        order = ["client", "version", "data", "subs", "expires", "ttl", "ping", "pong", "session", "node", "time"]
        assert keys == [k for k in order if k in keys]
        assert channel in connect["subs"]
        await api.publish(PublishRequest(channel=channel, data={"n": 1}))
        push = await stream.until(lambda m: "pub" in m)
        assert push["channel"] == channel and push["pub"]["data"] == {"n": 1} and "push" not in push
    finally:
        await stream.close()


async def test_uni_sse_without_cf_connect_is_an_empty_request(server_factory):
    """Checklist 57."""
    srv = server_factory(ANON)
    stream = await open_uni(srv, "uni_sse", None)
    try:
        assert stream.response.status == 200
        assert "connect" in await stream.next()
    finally:
        await stream.close()


@pytest.mark.parametrize("method, path, body, status", [
    ("POST", "/connection/uni_http_stream", b"", 400),  # checklist 47
    ("POST", "/connection/uni_http_stream", b"not json", 400),
    ("POST", "/connection/uni_http_stream", b"{" + b" " * 70000 + b"}", 413),
    ("OPTIONS", "/connection/uni_http_stream", b"", 204),  # checklist 48
    ("GET", "/connection/uni_http_stream", b"", 405),
    ("GET", "/connection/uni_sse?cf_connect=not-json", b"", 400),  # checklist 58
    ("POST", "/connection/uni_sse", b"", 400),
    ("OPTIONS", "/connection/uni_sse", b"", 405),
], ids=lambda v: v.replace("/", "_").replace("?", "_")[:30] if isinstance(v, str) else None)
async def test_plain_answers(server_factory, method, path, body, status):
    srv = server_factory(ANON)
    got, _, content = await plain(srv, method, path, body)
    assert got == status


async def test_uni_websocket_bad_cf_connect_is_400_before_the_upgrade(server_factory):
    """Checklist 61: Go's `http.Error` answer, `invalid connect request`."""
    srv = server_factory(ANON)
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
    writer.write(("GET /connection/uni_websocket?cf_connect=not-json HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
                  "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n").encode())
    await writer.drain()
    head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)).decode()
    assert head.startswith("HTTP/1.1 400 ")
    length = int([h for h in head.split("\r\n") if h.lower().startswith("content-length")][0].split(":")[1])
    assert await reader.readexactly(length) == b"invalid connect request\n"
    writer.close()


@pytest.mark.parametrize("token, expected", [
    ("", {"code": 3501, "reason": "bad request"}),  # checklist 52
    ("not-a-jwt", {"code": 3500, "reason": "invalid token"}),  # checklist 53
    ("expired", {"code": 3005, "reason": "connection expired"}),  # checklist 51
])
async def test_refused_connects_are_disconnect_pushes(server_factory, token, expected):
    srv = server_factory(UNI)
    if token == "expired":
        token = make_jwt({"sub": "old", "exp": int(time.time()) - 60})
    stream = await open_uni(srv, "uni_http_stream", {"token": token} if token else {})
    try:
        assert await stream.next() == {"disconnect": expected}
        assert await stream.next() is None
    finally:
        await stream.close()


async def test_pings_without_pongs_keep_the_stream(server_factory):
    """Checklist 50: `{}` every ping interval, the client never sends anything."""
    srv = server_factory(FAST_PING)
    stream = await open_uni(srv, "uni_http_stream", {})
    try:
        assert "connect" in await stream.next()
        for _ in range(3):
            assert await stream.next(3) == {}
    finally:
        await stream.close()


async def test_recovery_through_connect_subs(server_factory, api_factory):
    """Checklist 55: `subs` with a position recovers what was missed, in the connect push."""
    srv = server_factory(UNI)
    api = api_factory(srv)
    channel = unique("chat:unirec")
    first = await api.publish(PublishRequest(channel=channel, data={"n": 1}))
    await api.publish(PublishRequest(channel=channel, data={"n": 2}))
    await api.publish(PublishRequest(channel=channel, data={"n": 3}))
    stream = await open_uni(srv, "uni_http_stream", {
        "token": connection_token("rec", channels=[channel]),
        "subs": {channel: {"recover": True, "offset": first.offset, "epoch": first.epoch}}})
    try:
        sub = (await stream.next())["connect"]["subs"][channel]
        assert sub["recovered"] is True and [p["data"]["n"] for p in sub["publications"]] == [2, 3]
    finally:
        await stream.close()


async def test_server_disconnect_ends_a_uni_stream(server_factory, api_factory):
    srv = server_factory(UNI)
    api = api_factory(srv)
    stream = await open_uni(srv, "uni_sse", {"token": connection_token("gone")})
    try:
        await stream.next()
        await api.disconnect(DisconnectRequest(user="gone", disconnect=Disconnect(code=4001, reason="bye")))
        assert await stream.next() == {"disconnect": {"code": 4001, "reason": "bye"}}
        assert await stream.next() is None
    finally:
        await stream.close()


# ---------------------------------------------------------------------------------------------
# One-way SSE that recovers: event ids and Last-Event-ID.
# ---------------------------------------------------------------------------------------------


async def test_eventsource_reconnect_with_last_event_id_recovers_the_gap(server_factory, api_factory):
    """Every publication event has an id (offset, epoch, channel); a reconnect that sends only
    `Last-Event-ID` gets the connect push with `recovered: true` and then the missed publications
    as events with ids, in order, no loss and no duplicate, then live ones."""
    srv = server_factory(UNI)
    api = api_factory(srv)
    channel = unique("chat:lei")
    token = connection_token("es", channels=[channel])
    first = UniSSE(await open_uni(srv, "uni_sse", {"token": token}))
    try:
        assert "connect" in (await first.next())[1]
        await api.publish(PublishRequest(channel=channel, data={"n": 1}))
        await api.publish(PublishRequest(channel=channel, data={"n": 2}))
        ids = []
        while len(ids) < 2:
            event_id, data = await first.next()
            if data.get("pub"):
                assert event_id is not None
                ids.append(event_id)
    finally:
        await first.stream.close()
    last_id = ids[-1]
    offset, epoch, encoded = last_id.split(":", 2)
    assert offset == "2" and urllib.parse.unquote(encoded) == channel and epoch
    for n in (3, 4, 5):  # published while the client is away
        await api.publish(PublishRequest(channel=channel, data={"n": n}))
    again = UniSSE(await open_uni(srv, "uni_sse", {"token": token}, headers={"Last-Event-ID": last_id}))
    try:
        _, connect = await again.next()
        sub = connect["connect"]["subs"][channel]
        assert sub["recovered"] is True and "publications" not in sub
        got = []
        while len(got) < 3:
            event_id, data = await again.next()
            if "pub" in data:
                got.append((event_id, data["pub"]["data"]["n"]))
        assert [n for _, n in got] == [3, 4, 5]
        assert [e.split(":")[0] for e, _ in got] == ["3", "4", "5"]
        await api.publish(PublishRequest(channel=channel, data={"n": 6}))
        while True:
            event_id, data = await again.next()
            if "pub" in data:
                assert data["pub"]["data"]["n"] == 6 and event_id.startswith("6:")
                break
    finally:
        await again.stream.close()


async def test_last_event_id_of_a_lost_epoch_says_not_recovered(server_factory, api_factory):
    srv = server_factory(UNI)
    api = api_factory(srv)
    channel = unique("chat:leiold")
    await api.publish(PublishRequest(channel=channel, data={"n": 1}))
    stream = UniSSE(await open_uni(srv, "uni_sse", {"token": connection_token("es2", channels=[channel])},
                                   headers={"Last-Event-ID": f"1:other-epoch:{urllib.parse.quote(channel, safe='')}"}))
    try:
        _, connect = await stream.next()
        sub = connect["connect"]["subs"][channel]
        assert sub.get("was_recovering") is True and not sub.get("recovered")
    finally:
        await stream.stream.close()


# ---------------------------------------------------------------------------------------------
# uni_websocket
# ---------------------------------------------------------------------------------------------


def uni_ws_url(srv, query: str = "") -> str:
    return f"ws://127.0.0.1:{srv.port}/connection/uni_websocket{query}"


async def test_uni_websocket_first_message_is_the_connect_request(server_factory, api_factory):
    """Checklist 59, 66: `{}` as the first message gets the connect push as a text message; no
    subprotocol; later messages are not read."""
    srv = server_factory({**ANON, "channel": {"without_namespace": {"allow_subscribe_for_anonymous": True, "allow_subscribe_for_client": True}}})
    api = api_factory(srv)
    channel = unique("uniws")
    async with ws_connect(uni_ws_url(srv), subprotocols=["centrifuge-json"]) as ws:
        assert ws.subprotocol is None
        await ws.send(json.dumps({"subs": {channel: {}}}))
        connect = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert connect["connect"]["session"] and channel in connect["connect"]["subs"]
        await ws.send("anything: not read")
        await api.publish(PublishRequest(channel=channel, data={"x": 1}))
        msg = await asyncio.wait_for(ws.recv(), 5)
        while "pub" not in json.loads(msg):
            msg = await asyncio.wait_for(ws.recv(), 5)
        assert isinstance(msg, str) and json.loads(msg)["channel"] == channel and json.loads(msg)["pub"]["data"] == {"x": 1}


async def test_uni_websocket_connect_in_the_url(server_factory):
    """Checklist 60."""
    srv = server_factory(ANON)
    async with ws_connect(uni_ws_url(srv, "?" + urllib.parse.urlencode({"cf_connect": "{}"}))) as ws:
        assert "connect" in json.loads(await asyncio.wait_for(ws.recv(), 5))


async def test_uni_websocket_bad_first_message_closes_3501(server_factory):
    """Checklist 62: a close frame 3501 and nothing before it (no disconnect push: diffed against
    Centrifugo v6.9.1, which has no connection yet to push on)."""
    srv = server_factory(ANON)
    async with ws_connect(uni_ws_url(srv)) as ws:
        await ws.send("not json")
        received = []
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                received.append(await asyncio.wait_for(ws.recv(), 5))
        assert closed.value.rcvd.code == 3501 and closed.value.rcvd.reason == "bad request"
        assert received == []


async def test_uni_websocket_pings_and_disconnect(server_factory, api_factory):
    """Checklist 63, 64: ping frames and `{}` pings; a server disconnect is a push and then a
    close frame with the same code and reason."""
    srv = server_factory({**FAST_PING, "client": {**FAST_PING["client"], "token": {"hmac_secret_key": "secret"}}})
    api = api_factory(srv)
    async with ws_connect(uni_ws_url(srv), ping_interval=None) as ws:
        await ws.send(json.dumps({"token": connection_token("uws")}))
        assert "connect" in json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert json.loads(await asyncio.wait_for(ws.recv(), 3)) == {}
        await api.disconnect(DisconnectRequest(user="uws", disconnect=Disconnect(code=4002, reason="later")))
        msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
        while msg == {}:
            msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert msg == {"disconnect": {"code": 4002, "reason": "later"}}
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4002, "later")


async def test_uni_websocket_drops_a_client_that_does_not_answer_ping_frames(server_factory):
    """Checklist 63: a client that never answers ping frames is dropped after ping + pong timeout."""
    srv = server_factory(FAST_PING)
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
    writer.write(("GET /connection/uni_websocket?cf_connect=%7B%7D HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
                  "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n").encode())
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert b" 101 " in head
    saw_ping = False
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    try:
        while loop.time() < deadline:
            data = await asyncio.wait_for(reader.read(4096), deadline - loop.time())
            if not data:
                break  # the server closed the socket
            saw_ping = saw_ping or b"\x89\x00" in data
    except asyncio.TimeoutError:
        pytest.fail("the connection stayed open without pongs")
    finally:
        writer.close()
    assert saw_ping and loop.time() < deadline


async def test_uni_websocket_join_push_messages(server_factory, api_factory):
    """Checklist 65: with join_push_messages, a batch may arrive as one message of `⏎`-joined pushes."""
    srv = server_factory({**ANON, "uni_websocket": {"enabled": True, "join_push_messages": True},
                          "channel": {"without_namespace": {"allow_subscribe_for_anonymous": True, "allow_subscribe_for_client": True}}})
    api = api_factory(srv)
    channel = unique("joined")
    async with ws_connect(uni_ws_url(srv)) as ws:
        await ws.send(json.dumps({"subs": {channel: {}}}))
        await asyncio.wait_for(ws.recv(), 5)
        await asyncio.gather(*(api.publish(PublishRequest(channel=channel, data={"n": i})) for i in range(20)))
        seen, lines = 0, 0
        while seen < 20:
            msg = await asyncio.wait_for(ws.recv(), 5)
            parts = msg.split("\n")
            lines = max(lines, len(parts))
            seen += sum(1 for p in parts if "pub" in json.loads(p))
        assert seen == 20


# ---------------------------------------------------------------------------------------------
# Refused one-way connects: client.connect_code_to_unidirectional_disconnect and
# uni_*.connect_code_to_http_response
# ---------------------------------------------------------------------------------------------


def expired_token() -> str:
    return make_jwt({"sub": "old", "exp": int(time.time()) - 60})


@pytest.mark.parametrize("kind", ["uni_http_stream", "uni_sse"])
@pytest.mark.parametrize("token, status, body", [
    ("not-a-jwt", 401, "invalid token"),  # checklist 54: a disconnect code, empty body => the reason
    ("expired", 403, "renew your token"),  # an error code (109) with its own body
    ("", 500, "Internal Server Error"),  # 3501 matches nothing
])
async def test_connect_code_to_http_response(server_factory, kind, token, status, body):
    transforms = {"enabled": True, "transforms": [
        {"code": 3500, "to": {"status_code": 401}}, {"code": 109, "to": {"status_code": 403, "body": "renew your token"}}]}
    srv = server_factory({**UNI, kind: {"enabled": True, "connect_code_to_http_response": transforms}})
    if token == "expired":
        token = expired_token()
    request = {"token": token} if token else {}
    if kind == "uni_sse":
        path = "/connection/uni_sse?" + urllib.parse.urlencode({"cf_connect": json.dumps(request)})
        got, headers, content = await plain(srv, "GET", path)
    else:
        got, headers, content = await plain(srv, "POST", "/connection/uni_http_stream", json.dumps(request).encode())
    assert (got, content.decode()) == (status, body)


async def test_connect_code_to_http_response_still_streams_a_good_connect(server_factory, api_factory):
    srv = server_factory({**UNI, "uni_sse": {"enabled": True, "connect_code_to_http_response": {
        "enabled": True, "transforms": [{"code": 3500, "to": {"status_code": 401}}]}}})
    api = api_factory(srv)
    channel = unique("chat:late-head")
    stream = await open_uni(srv, "uni_sse", {"token": connection_token("ok", channels=[channel])})
    try:
        assert stream.response.status == 200
        assert "connect" in await stream.next()
        await api.publish(PublishRequest(channel=channel, data={"n": 1}))
        assert (await stream.until(lambda m: "pub" in m))["pub"]["data"] == {"n": 1}
    finally:
        await stream.close()


async def test_connect_code_to_unidirectional_disconnect(server_factory):
    srv = server_factory({**UNI, "client": {"connect_code_to_unidirectional_disconnect": {
        "enabled": True, "transforms": [{"code": 109, "to": {"code": 4109, "reason": "token expired, renew"}}]}}})
    stream = await open_uni(srv, "uni_http_stream", {"token": expired_token()})
    try:
        assert await stream.next() == {"disconnect": {"code": 4109, "reason": "token expired, renew"}}
    finally:
        await stream.close()


async def test_command_line_flags_switch_transports_on(strata_bin, tmp_path):
    """Centrifugo's `--uni_sse.enabled`, `--http_stream.enabled`, … flags (config.md §12)."""
    from conftest import StrataServer, build_config
    srv = StrataServer(strata_bin, build_config({"client": {"allow_anonymous_connect_without_token": True}}), tmp_path)
    srv.extra_args = ["--uni_sse.enabled", "--http_stream.enabled", "--sse.enabled", "--uni_http_stream.enabled",
                      "--uni_websocket.enabled"]
    srv.start()
    try:
        status, _, _ = await plain(srv, "OPTIONS", "/connection/http_stream")
        assert status == 204
        status, _, _ = await plain(srv, "POST", "/connection/uni_http_stream", b"")
        assert status == 400  # served: an empty connect request is refused
        stream = await open_uni(srv, "uni_sse", {})
        try:
            assert "connect" in await stream.next()
        finally:
            await stream.close()
        async with ws_connect(uni_ws_url(srv, "?cf_connect=%7B%7D")) as ws:
            assert "connect" in json.loads(await asyncio.wait_for(ws.recv(), 5))
    finally:
        srv.stop()


@pytest.mark.parametrize("kind", ["uni_http_stream", "uni_sse", "http_stream", "sse"])
async def test_a_closed_stream_leaves_no_session(server_factory, api_factory, kind):
    """A client that goes away ends its session: the node counts no client afterwards (a stream's
    end once left one-way sessions behind, found by their memory not coming back)."""
    from cent import InfoRequest
    from test_http_streaming import open_stream
    srv = server_factory({**ANON, "http_stream": {"enabled": True}, "sse": {"enabled": True}})
    api = api_factory(srv)
    if kind.startswith("uni_"):
        streams = [await open_uni(srv, kind, {}) for _ in range(5)]
    else:
        streams = [await open_stream(srv, kind, json.dumps({"id": 1, "connect": {}})) for _ in range(5)]
    for s in streams:
        assert "connect" in json.dumps(await s.next())
    assert (await api.info(InfoRequest())).nodes[0].num_clients == 5
    for s in streams:
        await s.close()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while (await api.info(InfoRequest())).nodes[0].num_clients and loop.time() < deadline:
        await asyncio.sleep(0.05)
    assert (await api.info(InfoRequest())).nodes[0].num_clients == 0


async def stop_reading_after_connect(srv, kind: str, channel: str):
    """A client of `kind` subscribed to `channel` (through its token) that reads its connect and
    then nothing; returns a coroutine function that reads everything left: (bytes of
    publications, the close code or None)."""
    token = connection_token("stall", channels=[channel])
    if kind == "uni_sse":
        request = urllib.parse.quote(json.dumps({"token": token}))
        sock = socket.create_connection(("127.0.0.1", srv.port))
        sock.sendall(f"GET /connection/uni_sse?cf_connect={request} HTTP/1.1\r\nHost: x\r\n\r\n".encode())

        async def rest() -> tuple[int, Optional[int]]:
            sock.settimeout(10)
            total = 0
            try:
                while chunk := sock.recv(1 << 16):
                    total += len(chunk)
            finally:
                sock.close()
            return total, None
        return rest
    # A WebSocket client library reads ahead only a few frames: then the socket fills.
    ws = await ws_connect(f"ws://127.0.0.1:{srv.port}/connection/websocket", max_size=None, max_queue=1, ping_interval=None)
    await ws.send(json.dumps({"id": 1, "connect": {"token": token}}))
    assert "connect" in json.loads(await asyncio.wait_for(ws.recv(), 5))

    async def rest() -> tuple[int, Optional[int]]:
        total = 0
        try:
            while True:
                total += len(await asyncio.wait_for(ws.recv(), 10))
        except ConnectionClosed as closed:
            return total, closed.rcvd.code if closed.rcvd else None
    return rest


@pytest.mark.parametrize("kind", ["uni_sse", "websocket"])
async def test_a_reader_that_stops_reading_is_disconnected_not_buffered(server_factory, api_factory, kind):
    """A connection whose client stops reading, while paced publications fan out (each one
    quiet, so written at once while the socket takes data: docs/architecture.md): once the
    socket is full, messages wait in the bounded queue (`client.queue_max_size`, here 1 MiB),
    which overflows, and the connection ends (WebSocket: close 3008). Without the writer hearing
    of the full socket, every message went into NIO's buffer, without end, and the connection
    never ended. A reader that keeps up gets every publication meanwhile."""
    # No write timeout within the test: the overflow, not the stall's clock, ends the connection.
    srv = server_factory({**UNI, "client": {"allow_anonymous_connect_without_token": True, "queue_max_size": 1048576},
                          "websocket": {"write_timeout": "60s"}})
    api = api_factory(srv)
    channel = unique("chat:stall")
    rest = await stop_reading_after_connect(srv, kind, channel)
    reader = UniSSE(await open_uni(srv, "uni_sse", {"token": connection_token("reader", channels=[channel])}))
    try:
        await reader.next()  # the connect push
        payload = "a" * 32_000
        count = 300  # 9.6 MB: more than the sockets' buffers, NIO's and the queue hold together

        async def read_all() -> list[int]:
            received = []
            while len(received) < count:
                event = await reader.next(10)
                assert event is not None, f"the reader's stream ended after {len(received)}"
                if "pub" in event[1]:
                    received.append(event[1]["pub"]["data"]["n"])
            return received

        reading = asyncio.create_task(read_all())
        for n in range(count):
            await api.publish(PublishRequest(channel=channel, data={"n": n, "text": payload}))
            await asyncio.sleep(0.004)  # apart by more than the lane's busy gap: quiet fan-outs
        assert await reading == list(range(count))

        total, close_code = await rest()
        # What was on its way when the queue overflowed, and not the rest.
        assert total < count * len(payload) * 3 // 4, f"read {total} bytes: the stalled connection was buffered"
        if kind == "websocket":
            assert close_code == 3008
    finally:
        await reader.stream.close()
