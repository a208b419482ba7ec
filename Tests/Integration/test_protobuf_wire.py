"""The Protobuf client protocol on the wire (transports spec §3.1-§3.4, checklist 1-11): how the
protocol is chosen at the upgrade, the varint-delimited framing, the byte examples of the spec,
pings and pongs, and malformed frames. Raw WebSocket connections (the `websockets` package)
with hand-written bytes; replies are read with centrifuge-python's generated `client_pb2`.
The scenarios (pub/sub, recovery, history, ...) run over Protobuf through the `protocol`
parameter of the rest of the suite."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from centrifuge.protocol import client_pb2
from itsupport import connection_token, delimited, replies, unique, varint

ANON = {"client": {"allow_anonymous_connect_without_token": True}}
FAST_PING = {"client": {"allow_anonymous_connect_without_token": True, "ping_interval": "1s", "pong_timeout": "500ms"}}


def command(**fields) -> bytes:
    return client_pb2.Command(**fields).SerializeToString()


async def next_replies(ws, timeout: float = 5.0) -> list[client_pb2.Reply]:
    frame = await asyncio.wait_for(ws.recv(), timeout)
    assert isinstance(frame, bytes), f"expected a binary message, got {frame!r}"
    return replies(frame)


async def close_code(ws, timeout: float = 5.0) -> int:
    try:
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    except ConnectionClosed as e:
        return e.rcvd.code if e.rcvd else -1


@pytest.mark.parametrize("subprotocols, expected", [
    (["centrifuge-protobuf"], "centrifuge-protobuf"),
    (["x-unknown", "centrifuge-protobuf"], "centrifuge-protobuf"),
    (["centrifuge-json"], "centrifuge-json"),
])
async def test_subprotocol_is_negotiated(server_factory, subprotocols, expected):
    """Checklist 1: the first known subprotocol the client offers is selected; Protobuf then
    answers in binary messages."""
    srv = server_factory(ANON)
    async with ws_connect(srv.ws_url, subprotocols=subprotocols) as ws:
        assert ws.subprotocol == expected
        if expected == "centrifuge-protobuf":
            await ws.send(bytes.fromhex("04 08 01 22 00"))  # Command{id:1, connect:{}}
            (reply,) = await next_replies(ws)
            assert reply.id == 1 and reply.HasField("connect") and reply.connect.client


async def test_no_subprotocol_means_json_text(server_factory):
    """Checklist 2: nothing offered, no Sec-WebSocket-Protocol, JSON in text messages."""
    srv = server_factory(ANON)
    async with ws_connect(srv.ws_url) as ws:
        assert ws.subprotocol is None
        await ws.send('{"id":1,"connect":{}}')
        text = await asyncio.wait_for(ws.recv(), 5)
        assert isinstance(text, str) and text.startswith('{"id":1,"connect":{')


@pytest.mark.parametrize("query", ["?format=protobuf", "?a=1&cf_protocol=protobuf", "?format=prot%6Fbuf"])
async def test_query_selects_protobuf(server_factory, query):
    """Checklist 3 and 4: the query asks for Protobuf (percent-decoded as Go reads it) without a
    subprotocol; the spec's connect bytes get a varint-delimited connect reply."""
    srv = server_factory(ANON)
    async with ws_connect(srv.ws_url + query) as ws:
        assert ws.subprotocol is None
        await ws.send(bytes.fromhex("04 08 01 22 00"))
        frame = await asyncio.wait_for(ws.recv(), 5)
        assert isinstance(frame, bytes) and frame[1:3] == b"\x08\x01" and frame[3] == 0x2A  # id 1, field 5
        (reply,) = replies(frame)
        assert reply.connect.version and reply.connect.ping == 25 and reply.connect.pong


async def test_spec_connect_example_with_token(server):
    """The spec's worked example shape: Command{id:1, connect:{token}} as one varint-prefixed message."""
    token = connection_token("pb-user").encode()
    connect = b"\x0a" + varint(len(token)) + token
    cmd = b"\x08\x01\x22" + varint(len(connect)) + connect
    async with ws_connect(server.ws_url, subprotocols=["centrifuge-protobuf"]) as ws:
        await ws.send(delimited(cmd))
        (reply,) = await next_replies(ws)
        assert reply.id == 1 and reply.connect.client and reply.connect.expires and reply.connect.ttl > 0


async def test_two_commands_in_one_message_and_empty_results(server):
    """Checklist 5 and 6: two Commands in one message get two Replies in order; publish and
    unsubscribe answer with present empty results (`42 00`, `3a 00`)."""
    channel = unique("chat:pb")
    async with ws_connect(server.ws_url, subprotocols=["centrifuge-protobuf"]) as ws:
        await ws.send(delimited(command(id=1, connect=client_pb2.ConnectRequest(token=connection_token("pb")))))
        await next_replies(ws)
        await ws.send(delimited(
            command(id=2, subscribe=client_pb2.SubscribeRequest(channel=channel)),
            command(id=3, publish=client_pb2.PublishRequest(channel=channel, data=b'{"n":1}')),
            command(id=4, unsubscribe=client_pb2.UnsubscribeRequest(channel=channel)),
        ))
        got: list[client_pb2.Reply] = []
        raw = b""
        while len([r for r in got if r.id]) < 3:
            frame = await asyncio.wait_for(ws.recv(), 5)
            raw += frame
            got += replies(frame)
        ids = [r.id for r in got if r.id]
        assert ids == [2, 3, 4]
        assert b"\x08\x03\x42\x00" in raw and b"\x08\x04\x3a\x00" in raw
        pubs = [r.push.pub for r in got if r.push.HasField("pub")]
        assert [(p.data, p.offset) for p in pubs] == [(b'{"n":1}', 1)]


async def test_binary_payload_round_trips(server):
    """Protobuf carries any bytes: a client publishes non-JSON bytes into a channel whose
    namespace accepts any format, and a Protobuf subscriber gets them as they were."""
    channel = unique("chat:bytes")
    payload = bytes(range(256))
    async with ws_connect(server.ws_url, subprotocols=["centrifuge-protobuf"]) as ws:
        await ws.send(delimited(command(id=1, connect=client_pb2.ConnectRequest(token=connection_token("pb")))))
        await next_replies(ws)
        await ws.send(delimited(command(id=2, subscribe=client_pb2.SubscribeRequest(channel=channel))))
        await next_replies(ws)
        await ws.send(delimited(command(id=3, publish=client_pb2.PublishRequest(channel=channel, data=payload))))
        seen = []
        while not any(r.push.HasField("pub") for r in seen):
            seen += await next_replies(ws)
        (push,) = [r.push for r in seen if r.push.HasField("pub")]
        assert push.channel == channel and push.pub.data == payload


async def test_ping_is_00_and_pong_00_keeps_the_connection(server_factory):
    """Checklist 7: the server ping is a zero-length Reply (byte 00); answering 00 keeps the
    connection past ping + pong_timeout."""
    srv = server_factory(FAST_PING)
    async with ws_connect(srv.ws_url, subprotocols=["centrifuge-protobuf"]) as ws:
        await ws.send(bytes.fromhex("04 08 01 22 00"))
        await next_replies(ws)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 3.2
        pings = 0
        while loop.time() < deadline:
            frame = await asyncio.wait_for(ws.recv(), 3)
            if frame == b"\x00":
                pings += 1
                await ws.send(b"\x00")
        assert pings >= 2


async def test_no_pong_closes_with_3012(server_factory):
    """Checklist 8."""
    srv = server_factory(FAST_PING)
    async with ws_connect(srv.ws_url, subprotocols=["centrifuge-protobuf"]) as ws:
        await ws.send(bytes.fromhex("04 08 01 22 00"))
        await next_replies(ws)
        assert await close_code(ws) == 3012


@pytest.mark.parametrize("frame", [
    "05 08 01",          # length 5, two body bytes
    "80",                # a varint cut short
    "",                  # no command at all
    "04 08 01 22 00 03", # a good connect, then a length with nothing after it
    "02 ff ff",          # not a Command: a field with wire type 7
    "ff ff ff ff ff ff ff ff ff ff 01",  # a length no frame can hold
])
async def test_malformed_frames_close_with_3501(server_factory, frame):
    """Checklist 9 and 10, and more malformed frames: close 3501, the server keeps serving."""
    srv = server_factory(ANON)
    async with ws_connect(srv.ws_url, subprotocols=["centrifuge-protobuf"]) as ws:
        await ws.send(bytes.fromhex(frame))
        assert await close_code(ws) == 3501
    async with ws_connect(srv.ws_url, subprotocols=["centrifuge-protobuf"]) as ws:
        await ws.send(bytes.fromhex("04 08 01 22 00"))
        (reply,) = await next_replies(ws)
        assert reply.connect.client


async def test_unknown_fields_are_skipped(server_factory):
    """A connect carrying fields newer SDKs send (ConnectRequest 8/9, Command 20) still connects."""
    srv = server_factory(ANON)
    connect = bytes.fromhex("42 02 7b 7d 4a 00")  # field 8 bytes "{}", field 9 empty
    cmd = b"\x08\x01\x22" + varint(len(connect)) + connect + bytes.fromhex("a0 01 05")  # field 20 varint 5
    async with ws_connect(srv.ws_url, subprotocols=["centrifuge-protobuf"]) as ws:
        await ws.send(delimited(cmd))
        (reply,) = await next_replies(ws)
        assert reply.id == 1 and reply.connect.client


async def test_message_over_the_size_limit_closes_with_1009(server_factory):
    """Checklist 11."""
    srv = server_factory(ANON)
    async with ws_connect(srv.ws_url, subprotocols=["centrifuge-protobuf"], max_size=None) as ws:
        await ws.send(bytes(70_000))
        assert await close_code(ws) == 1009


async def test_a_malformed_frame_ends_only_its_connection(server, api):
    """Bad input on one connection leaves the others as they were: a subscriber keeps receiving
    while another connection is closed for a truncated frame."""
    from cent import PublishRequest
    channel = unique("chat:pbiso")
    async with ws_connect(server.ws_url, subprotocols=["centrifuge-protobuf"]) as good:
        await good.send(delimited(command(id=1, connect=client_pb2.ConnectRequest(token=connection_token("good")))))
        await next_replies(good)
        await good.send(delimited(command(id=2, subscribe=client_pb2.SubscribeRequest(channel=channel))))
        while not any(r.id == 2 for r in await next_replies(good)):
            pass
        async with ws_connect(server.ws_url, subprotocols=["centrifuge-protobuf"]) as bad:
            await bad.send(bytes.fromhex("05 08 01"))
            assert await close_code(bad) == 3501
        await api.publish(PublishRequest(channel=channel, data={"still": "here"}))
        seen = []
        while not any(r.push.HasField("pub") for r in seen):
            seen += await next_replies(good)
        (pub,) = [r.push.pub for r in seen if r.push.HasField("pub")]
        assert pub.data == b'{"still":"here"}' or json.loads(pub.data) == {"still": "here"}
