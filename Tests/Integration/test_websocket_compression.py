"""WebSocket permessage-deflate (transports spec §3.6, checklist 17-20): negotiation, messages
compressed above `compression_min_size` with RSV1 set, inflated client messages bounded; read off a
raw socket so the compressed bytes on the wire are what is measured. Then the bandwidth of the
football-match simulation with delta and deflate against full JSON without either."""

from __future__ import annotations

import asyncio
import json
import os
import struct
import zlib
from typing import Optional

import pytest
from websockets.asyncio.client import connect as ws_connect

from cent import PublishRequest
from itsupport import connection_token, unique
from test_delta import DELTA, match_states

ACCEPT = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"


class RawWebSocket:
    """A WebSocket client on a plain socket: it sees every frame's RSV1 bit and wire size."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, headers: dict) -> None:
        self.reader, self.writer, self.headers = reader, writer, headers
        self.wire_bytes = 0

    @classmethod
    async def open(cls, port: int, extensions: Optional[str]) -> "RawWebSocket":
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        lines = ["GET /connection/websocket HTTP/1.1", "Host: x", "Connection: Upgrade", "Upgrade: websocket",
                 "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="]
        if extensions:
            lines.append(f"Sec-WebSocket-Extensions: {extensions}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)).decode()
        assert " 101 " in head.split("\r\n")[0], head
        headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head.split("\r\n")[1:] if h)}
        return cls(reader, writer, headers)

    def send(self, payload: bytes, compressed: bool = False, opcode: int = 1) -> None:
        mask = os.urandom(4)
        first = 0x80 | opcode | (0x40 if compressed else 0)
        n = len(payload)
        header = bytes([first]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n) if n < 65536
                                   else bytes([0x80 | 127]) + struct.pack(">Q", n))
        self.writer.write(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    async def recv(self, timeout: float = 5.0) -> tuple[bool, int, bytes]:
        """(RSV1, opcode, payload as received) of the next frame."""
        b0, b1 = await asyncio.wait_for(self.reader.readexactly(2), timeout)
        n = b1 & 0x7F
        extra = 0
        if n == 126:
            n = struct.unpack(">H", await self.reader.readexactly(2))[0]
            extra = 2
        elif n == 127:
            n = struct.unpack(">Q", await self.reader.readexactly(8))[0]
            extra = 8
        payload = await self.reader.readexactly(n)
        self.wire_bytes += 2 + extra + n
        return bool(b0 & 0x40), b0 & 0x0F, payload

    async def recv_text(self, timeout: float = 5.0) -> tuple[bool, str]:
        rsv1, opcode, payload = await self.recv(timeout)
        if rsv1:  # no context takeover: each message inflates on its own
            payload = zlib.decompressobj(-15).decompress(payload + b"\x00\x00\xff\xff")
        return rsv1, payload.decode()

    def close(self) -> None:
        self.writer.close()


COMPRESSED = {"websocket": {"compression": True, "compression_min_size": 128}}


@pytest.mark.parametrize("offer, enabled, accepted", [
    ("permessage-deflate; client_max_window_bits", True, True),  # checklist 17
    ("permessage-deflate", True, True),
    ("x-webkit-deflate-frame", True, False),
    ("permessage-deflate; client_max_window_bits", False, False),  # checklist 19
])
async def test_negotiation(server_factory, offer, enabled, accepted):
    srv = server_factory({"websocket": {"compression": enabled}})
    ws = await RawWebSocket.open(srv.port, offer)
    try:
        assert ws.headers.get("sec-websocket-extensions") == (ACCEPT if accepted else None)
    finally:
        ws.close()


async def test_small_replies_plain_large_ones_compressed(server_factory, api_factory):
    """Checklist 18: with compression_min_size 128, a 20-byte reply has RSV1 clear and a
    2000-byte publication RSV1 set; both decode."""
    srv = server_factory(COMPRESSED)
    api = api_factory(srv)
    channel = unique("chat:z")
    ws = await RawWebSocket.open(srv.port, "permessage-deflate")
    try:
        ws.send(json.dumps({"id": 1, "connect": {"token": connection_token("z")}}).encode())
        rsv1, text = await ws.recv_text()
        assert json.loads(text)["id"] == 1  # a connect reply is ~150 bytes: compressed
        ws.send(json.dumps({"id": 2, "unsubscribe": {"channel": channel}}).encode())
        rsv1, text = await ws.recv_text()
        assert text == '{"id":2,"unsubscribe":{}}' and not rsv1
        ws.send(json.dumps({"id": 3, "subscribe": {"channel": channel}}).encode())
        while '"id":3' not in (await ws.recv_text())[1]:
            pass
        big = {"text": "word " * 400}
        await api.publish(PublishRequest(channel=channel, data=big))
        while True:
            rsv1, text = await ws.recv_text()
            if '"pub"' in text:
                break
        assert rsv1 and json.loads(text)["push"]["pub"]["data"] == big
    finally:
        ws.close()


async def test_compressed_client_messages_are_inflated(server_factory):
    srv = server_factory(COMPRESSED)
    ws = await RawWebSocket.open(srv.port, "permessage-deflate")
    try:
        c = zlib.compressobj(1, zlib.DEFLATED, -15)
        data = c.compress(json.dumps({"id": 1, "connect": {"token": connection_token("in")}}).encode()) + c.flush(zlib.Z_SYNC_FLUSH)
        ws.send(data[:-4], compressed=True)
        _, text = await ws.recv_text()
        assert json.loads(text)["connect"]["client"]
    finally:
        ws.close()


async def test_inflating_past_the_limit_closes_with_1009(server_factory):
    """Checklist 20: 10 × message_size_limit by default."""
    srv = server_factory({"websocket": {"compression": True, "message_size_limit": 1000}})
    ws = await RawWebSocket.open(srv.port, "permessage-deflate")
    try:
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        data = c.compress(b" " * 20_000) + c.flush(zlib.Z_SYNC_FLUSH)
        assert len(data) < 1000
        ws.send(data[:-4], compressed=True)
        while True:
            _, opcode, payload = await ws.recv()
            if opcode == 8:
                break
        assert struct.unpack(">H", payload[:2])[0] == 1009 and payload[2:] == b"message too big after decompression"
    finally:
        ws.close()


async def test_rsv1_without_negotiation_is_a_protocol_error(server_factory):
    srv = server_factory(COMPRESSED)
    ws = await RawWebSocket.open(srv.port, None)
    try:
        ws.send(b"{}", compressed=True)
        _, opcode, payload = await ws.recv()
        assert opcode == 8 and struct.unpack(">H", payload[:2])[0] == 1002
    finally:
        ws.close()


async def test_real_client_negotiates_and_works(server_factory, api_factory, client_factory):
    """centrifuge-python's websockets connection offers permessage-deflate: with compression on
    it connects, subscribes and receives as before."""
    srv = server_factory(COMPRESSED)
    api = api_factory(srv)
    async with ws_connect(srv.ws_url) as ws:
        assert ws.response.headers.get("Sec-WebSocket-Extensions") == ACCEPT
    from itsupport import connect_client, subscribe
    client, ev = client_factory(srv)
    await connect_client(client, ev)
    channel = unique("chat:zc")
    _, sev, _ = await subscribe(client, channel)
    await api.publish(PublishRequest(channel=channel, data={"t": "x" * 1000}))
    ctx = await sev.wait("on_publication")
    assert ctx.pub.data == {"t": "x" * 1000}


async def _match_wire_bytes(srv, api, delta: bool, deflate: bool, states) -> int:
    channel = unique("match:z")
    ws = await RawWebSocket.open(srv.port, "permessage-deflate" if deflate else None)
    try:
        ws.send(json.dumps({"id": 1, "connect": {"token": connection_token("42")}}).encode())
        await ws.recv_text()
        sub = {"channel": channel, **({"delta": "fossil"} if delta else {})}
        ws.send(json.dumps({"id": 2, "subscribe": sub}).encode())
        while '"id":2' not in (await ws.recv_text())[1]:
            pass
        ws.wire_bytes = 0
        for s in states:
            await api.publish(PublishRequest(channel=channel, data=s))
        seen = 0
        while seen < len(states):
            _, text = await ws.recv_text()
            seen += text.count('"pub"')
        return ws.wire_bytes
    finally:
        ws.close()


async def test_football_match_bytes_with_delta_and_deflate(server_factory, api_factory):
    """Issue 16: delta + deflate ≤ 13 % of full JSON without either, on the wire (frame headers
    included)."""
    srv = server_factory({**DELTA, "websocket": {"compression": True}})
    api = api_factory(srv)
    states = match_states()
    full = await _match_wire_bytes(srv, api, False, False, states)
    deflated = await _match_wire_bytes(srv, api, False, True, states)
    delta = await _match_wire_bytes(srv, api, True, False, states)
    both = await _match_wire_bytes(srv, api, True, True, states)
    print(f"football match, 30 states on the wire: full {full} B, deflate {deflated} B ({deflated / full:.1%}), "
          f"delta {delta} B ({delta / full:.1%}), delta+deflate {both} B ({both / full:.1%})")
    assert both / full <= 0.13, (both, full)


async def test_uni_websocket_compression(server_factory):
    """`uni_websocket.compression*` as for the bidirectional endpoint: negotiated, and a large
    push arrives compressed."""
    srv = server_factory({"client": {"allow_anonymous_connect_without_token": True},
                          "uni_websocket": {"enabled": True, "compression": True}})
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
    writer.write(("GET /connection/uni_websocket?cf_connect=%7B%7D HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
                  "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n").encode())
    head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)).decode()
    assert " 101 " in head and ACCEPT in head
    ws = RawWebSocket(reader, writer, {})
    try:
        rsv1, text = await ws.recv_text()
        assert rsv1 and json.loads(text)["connect"]["session"]
    finally:
        ws.close()
