"""The emulated bidirectional transports over real sockets (transports spec §4, checklist 21-45):
HTTP-streaming and SSE streams read with aiohttp, client commands sent as `POST /emulation`, the
server API through cent. What centrifuge-js does on these transports, done by hand."""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from typing import Any, AsyncIterator, Optional

import aiohttp
import pytest

from cent import PublishRequest, DisconnectRequest, Disconnect
from centrifuge.protocol import client_pb2
from itsupport import connection_token, delimited, replies, unique

STREAMS = {"http_stream": {"enabled": True}, "sse": {"enabled": True}}
ANON = {**STREAMS, "client": {"allow_anonymous_connect_without_token": True}}
FAST_PING = {**STREAMS, "client": {"allow_anonymous_connect_without_token": True, "ping_interval": "1s", "pong_timeout": "500ms"}}


class Stream:
    """One open HTTP-streaming or SSE response: `next()` gives its messages one by one."""

    def __init__(self, session: aiohttp.ClientSession, response: aiohttp.ClientResponse, sse: bool) -> None:
        self.session = session
        self.response = response
        self.sse = sse
        self.buffer = b""
        self.raw = b""
        self.opened = False

    async def next(self, timeout: float = 5.0) -> Optional[dict]:
        """The next JSON message; None when the stream ended. An SSE body must open with `\\r\\n`."""
        sep = b"\n\n" if self.sse else b"\n"
        while True:
            if self.sse and not self.opened and len(self.buffer) >= 2:
                assert self.buffer.startswith(b"\r\n"), self.buffer[:20]
                self.buffer = self.buffer[2:]
                self.opened = True
            if (self.opened or not self.sse) and sep in self.buffer:
                break
            chunk = await asyncio.wait_for(self.response.content.readany(), timeout)
            if not chunk:
                return None
            self.raw += chunk
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(sep)
        if self.sse:  # an event's data line (one-way SSE events may have an `id:` line too)
            (data,) = [part for part in line.split(b"\n") if part.startswith(b"data: ")]
            line = data[len(b"data: "):]
        return json.loads(line)

    async def until(self, pred, timeout: float = 5.0) -> dict:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            msg = await self.next(max(0.01, deadline - loop.time()))
            assert msg is not None, "stream ended"
            if pred(msg):
                return msg

    async def close(self) -> None:
        self.response.close()
        await self.session.close()


async def open_stream(srv, kind: str, frame: str, headers: Optional[dict] = None) -> Stream:
    session = aiohttp.ClientSession()
    if kind == "sse":
        url = f"{srv.http_url}/connection/sse?" + urllib.parse.urlencode({"cf_connect": frame})
        response = await session.get(url, headers=headers or {})
    else:
        response = await session.post(f"{srv.http_url}/connection/http_stream", data=frame.encode(),
                                      headers={"Content-Type": "application/json", **(headers or {})})
    return Stream(session, response, sse=(kind == "sse"))


async def emulate(srv, node: str, session: str, *commands: dict, content_type: str = "application/json") -> int:
    body = json.dumps({"node": node, "session": session, "data": "\n".join(json.dumps(c) for c in commands)})
    async with aiohttp.ClientSession() as s:
        async with s.post(f"{srv.http_url}/emulation", data=body, headers={"Content-Type": content_type}) as r:
            assert await r.read() == b""
            return r.status


async def plain(srv, method: str, path: str, body: bytes = b"", headers: Optional[dict] = None) -> tuple[int, Any, bytes]:
    async with aiohttp.ClientSession() as s:
        async with s.request(method, f"{srv.http_url}{path}", data=body, headers=headers or {}) as r:
            return r.status, r.headers, await r.read()


@pytest.mark.parametrize("kind", ["http_stream", "sse"])
async def test_connect_subscribe_publish_through_emulation(server_factory, api_factory, kind):
    """Checklist 23, 31, 36, 43: the connect reply carries session and node; a subscribe sent
    via /emulation is answered 204 after it took effect, its reply and a publication arrive on
    the stream."""
    srv = server_factory(STREAMS)
    api = api_factory(srv)
    channel = unique("chat:emu")
    stream = await open_stream(srv, kind, json.dumps({"id": 1, "connect": {"token": connection_token("emu")}}))
    try:
        assert stream.response.status == 200
        if kind == "sse":
            assert stream.response.headers["Content-Type"] == "text/event-stream; charset=utf-8"
        for header, value in [("Cache-Control", "private, no-cache, no-store, must-revalidate, max-age=0"),
                              ("Pragma", "no-cache"), ("Expire", "0"), ("X-Accel-Buffering", "no")]:
            assert stream.response.headers[header] == value  # checklist 24
        connect = (await stream.next())["connect"]
        assert connect["session"] and connect["node"] and connect["ping"] == 25 and connect["pong"] is True
        assert await emulate(srv, connect["node"], connect["session"], {"id": 2, "subscribe": {"channel": channel}}) == 204
        await api.publish(PublishRequest(channel=channel, data={"via": kind}))  # right after the 204
        reply = await stream.until(lambda m: m.get("id") == 2)
        assert reply["subscribe"]["recoverable"] is True
        push = await stream.until(lambda m: "pub" in m.get("push", {}))
        epoch = reply["subscribe"]["epoch"]  # the live push of offset 1 carries the epoch
        assert push == {"push": {"channel": channel, "pub": {"data": {"via": kind}, "offset": 1, "epoch": epoch}}}
        if kind == "sse":  # checklist 32: data lines only
            assert b"event:" not in stream.raw and b"id:" not in stream.raw and stream.raw.startswith(b"\r\n")
        else:  # checklist 25: every message ends with a newline
            assert stream.raw.endswith(b"\n")
    finally:
        await stream.close()


async def test_connect_and_subscribe_in_the_first_body(server_factory):
    """Checklist 29: several commands in the stream's first request."""
    srv = server_factory(STREAMS)
    channel = unique("chat:two")
    frame = json.dumps({"id": 1, "connect": {"token": connection_token("two")}}) + "\n" + json.dumps({"id": 2, "subscribe": {"channel": channel}})
    stream = await open_stream(srv, "http_stream", frame)
    try:
        assert "connect" in await stream.next()
        assert (await stream.until(lambda m: m.get("id") == 2))["subscribe"] is not None
    finally:
        await stream.close()


@pytest.mark.parametrize("kind", ["http_stream", "sse"])
async def test_first_command_not_connect_gets_3501_push_and_the_stream_ends(server_factory, kind):
    """Checklist 28 and 35."""
    srv = server_factory(ANON)
    frame = json.dumps({"token": "x"}) if kind == "sse" else json.dumps({"id": 1, "subscribe": {"channel": "x"}})
    stream = await open_stream(srv, kind, frame)
    try:
        assert await stream.next() == {"push": {"disconnect": {"code": 3501, "reason": "bad request"}}}
        assert await stream.next() is None
    finally:
        await stream.close()


@pytest.mark.parametrize("kind", ["http_stream", "sse"])
async def test_pongs_through_emulation_keep_the_stream_and_silence_ends_it(server_factory, kind):
    """Checklist 37: pings `{}` on the stream, answered by `{}` via /emulation; without answers
    the stream gets a 3012 disconnect push."""
    srv = server_factory(FAST_PING)
    stream = await open_stream(srv, kind, json.dumps({"id": 1, "connect": {}}))
    try:
        connect = (await stream.next())["connect"]
        for _ in range(3):
            assert await stream.next(3) == {}
            assert await emulate(srv, connect["node"], connect["session"], {}) == 204
        assert await stream.until(lambda m: "push" in m, timeout=4) == {"push": {"disconnect": {"code": 3012, "reason": "no pong"}}}
        assert await stream.next() is None
    finally:
        await stream.close()


async def test_server_disconnect_is_pushed_then_the_stream_ends(server_factory, api_factory):
    """Checklist 44."""
    srv = server_factory(STREAMS)
    api = api_factory(srv)
    stream = await open_stream(srv, "sse", json.dumps({"id": 1, "connect": {"token": connection_token("bye")}}))
    try:
        await stream.next()
        await api.disconnect(DisconnectRequest(user="bye", disconnect=Disconnect(code=4000, reason="go away")))
        assert await stream.next() == {"push": {"disconnect": {"code": 4000, "reason": "go away"}}}
        assert await stream.next() is None
    finally:
        await stream.close()


async def test_protobuf_http_stream_and_emulation(server_factory):
    """Checklist 26 and 42: `application/octet-stream` makes the stream Protobuf
    (varint-delimited Replies) and the emulation body a Protobuf EmulationRequest."""
    srv = server_factory(STREAMS)
    channel = unique("chat:pbemu")
    async with aiohttp.ClientSession() as s:
        connect = client_pb2.Command(id=1, connect=client_pb2.ConnectRequest(token=connection_token("pb-emu"))).SerializeToString()
        async with s.post(f"{srv.http_url}/connection/http_stream", data=delimited(connect),
                          headers={"Content-Type": "application/octet-stream"}) as r:
            assert r.status == 200
            (reply,) = replies(await asyncio.wait_for(r.content.readany(), 5))  # one write per batch
            assert reply.id == 1 and reply.connect.session and reply.connect.node
            sub = client_pb2.Command(id=2, subscribe=client_pb2.SubscribeRequest(channel=channel)).SerializeToString()
            req = client_pb2.EmulationRequest(node=reply.connect.node, session=reply.connect.session,
                                              data=delimited(sub)).SerializeToString()
            status, _, _ = await plain(srv, "POST", "/emulation", req, {"Content-Type": "application/octet-stream"})
            assert status == 204
            got = replies(await asyncio.wait_for(r.content.readany(), 5))
            assert got[0].id == 2 and got[0].HasField("subscribe")


@pytest.mark.parametrize("method, path, body, status", [
    ("OPTIONS", "/connection/http_stream", b"", 204),  # checklist 21
    ("GET", "/connection/http_stream", b"", 405),  # checklist 22
    ("POST", "/connection/http_stream", b"x" * 70000, 413),  # checklist 27
    ("GET", "/connection/sse", b"", 400),  # checklist 30
    ("OPTIONS", "/connection/sse", b"", 405),  # checklist 34
    ("GET", "/emulation", b"", 405),  # checklist 40
    ("OPTIONS", "/emulation", b"", 204),
    ("POST", "/emulation", b"not json", 400),  # checklist 39
    ("POST", "/emulation", json.dumps({"node": "elsewhere", "session": "s", "data": "{}"}).encode(), 404),  # checklist 38
    ("POST", "/emulation", json.dumps({"node": "n", "session": "s", "data": "x" * 70000}).encode(), 413),  # checklist 41
    ("GET", "/connection/sse/", b"", 404),  # checklist 80: exact paths only
], ids=lambda v: v.replace("/", "_")[:24] if isinstance(v, str) else None)
async def test_plain_answers(server_factory, method, path, body, status):
    srv = server_factory(STREAMS)
    got, headers, content = await plain(srv, method, path, body, {"Content-Type": "application/json"})
    assert got == status
    if status == 204 and method == "OPTIONS":
        assert headers["Access-Control-Allow-Methods"] == "POST, OPTIONS" and headers["Access-Control-Max-Age"] == "300"


async def test_unknown_session_on_this_node_is_204(server_factory):
    srv = server_factory(STREAMS)
    stream = await open_stream(srv, "http_stream", json.dumps({"id": 1, "connect": {"token": connection_token("n")}}))
    try:
        node = (await stream.next())["connect"]["node"]
        assert await emulate(srv, node, "no-such-session", {"id": 2, "subscribe": {"channel": "x"}}) == 204
    finally:
        await stream.close()


async def test_emulation_is_off_without_a_stream_transport(server):
    """Checklist 45."""
    status, _, _ = await plain(server, "POST", "/emulation", b"{}")
    assert status == 404


@pytest.mark.parametrize("origin, allowed", [("https://a.example", True), ("https://evil.example", False)])
async def test_cors_for_allowed_origins_only_and_the_request_is_served(server_factory, origin, allowed):
    """Checklist 77 and 78: an allowed origin is echoed with credentials; a refused one gets no
    CORS headers but is still served (Centrifugo v6.9.1 answers the same, checked by hand)."""
    srv = server_factory({**ANON, "client": {"allow_anonymous_connect_without_token": True, "allowed_origins": ["https://a.example"]}})
    stream = await open_stream(srv, "http_stream", json.dumps({"id": 1, "connect": {}}), headers={"Origin": origin})
    try:
        assert stream.response.status == 200
        assert ("Access-Control-Allow-Origin" in stream.response.headers) == allowed
        if allowed:
            assert stream.response.headers["Access-Control-Allow-Origin"] == origin
            assert stream.response.headers["Access-Control-Allow-Credentials"] == "true"
        assert "connect" in await stream.next()
    finally:
        await stream.close()


async def test_many_streams_and_commands_do_not_disturb_each_other(server_factory, api_factory):
    """Twenty SSE clients on one channel, each subscribed via /emulation, all get the publication;
    a malformed frame on one of them ends only that one (3501)."""
    srv = server_factory(STREAMS)
    api = api_factory(srv)
    channel = unique("chat:many")
    streams = [await open_stream(srv, "sse", json.dumps({"id": 1, "connect": {"token": connection_token(f"m{i}")}})) for i in range(20)]
    try:
        connects = [(await s.next())["connect"] for s in streams]
        await asyncio.gather(*(emulate(srv, c["node"], c["session"], {"id": 2, "subscribe": {"channel": channel}}) for c in connects))
        async with aiohttp.ClientSession() as s:
            bad = json.dumps({"node": connects[0]["node"], "session": connects[0]["session"], "data": "not json"})
            async with s.post(f"{srv.http_url}/emulation", data=bad) as r:
                assert r.status == 204
        assert await streams[0].until(lambda m: "disconnect" in m.get("push", {})) == {"push": {"disconnect": {"code": 3501, "reason": "bad request"}}}
        await api.publish(PublishRequest(channel=channel, data={"n": 1}))
        for s in streams[1:]:
            push = await s.until(lambda m: "pub" in m.get("push", {}))
            assert push["push"]["pub"]["data"] == {"n": 1}
    finally:
        for s in streams:
            await s.close()


async def test_pipelined_emulation_requests_run_in_order(server_factory):
    """Two `/emulation` requests written back to back on one keep-alive connection: both are
    answered 204, in order, and their commands reach the session in that order."""
    srv = server_factory(STREAMS)
    stream = await open_stream(srv, "http_stream", json.dumps({"id": 1, "connect": {"token": connection_token("pipe")}}))
    try:
        connect = (await stream.next())["connect"]
        requests = b""
        for i, ch in ((2, unique("chat:p1")), (3, unique("chat:p2"))):
            body = json.dumps({"node": connect["node"], "session": connect["session"],
                               "data": json.dumps({"id": i, "subscribe": {"channel": ch}})}).encode()
            requests += (f"POST /emulation HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
        writer.write(requests)
        await writer.drain()
        answers = []
        while len(answers) < 2:
            head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)).decode()
            answers.append(head.split("\r\n")[0])
        writer.close()
        assert answers == ["HTTP/1.1 204 No Content", "HTTP/1.1 204 No Content"]
        ids = []
        while len(ids) < 2:
            m = await stream.next()
            if m.get("id"):
                ids.append(m["id"])
        assert ids == [2, 3]
    finally:
        await stream.close()
