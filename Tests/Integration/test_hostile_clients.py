"""Hostile clients (issue 21, campaign 4; docs/reliability.md): sockets that never finish a request
are closed, and the server keeps serving real clients meanwhile."""

from __future__ import annotations

import asyncio
import json
import socket
import time

from itsupport import RawClient, assert_server_serves, connection_token


async def test_connections_that_never_send_a_whole_request_are_closed(server_factory):
    """Nothing, half a request head, or a head dribbled a byte a second: each is closed 10 s
    after the accept, as Centrifugo closes them (before, they stayed open for ever)."""
    srv = server_factory({})
    silent = socket.create_connection(("127.0.0.1", srv.port))
    partial = socket.create_connection(("127.0.0.1", srv.port))
    partial.sendall(b"GET /connection/websocket HTTP/1.1\r\nHost: x\r\n")
    dribble = socket.create_connection(("127.0.0.1", srv.port))
    head = b"GET /health HTTP/1.1\r\nHost: " + b"x" * 40 + b"\r\n\r\n"
    socks = {"silent": silent, "partial": partial, "dribble": dribble}
    for s in socks.values():
        s.setblocking(False)
    start = time.monotonic()
    closed: dict[str, float] = {}
    sent = 0
    await assert_server_serves(srv.ws_url, srv.api_url)  # real clients are served meanwhile
    while len(closed) < 3 and time.monotonic() - start < 20:
        if sent < len(head) and "dribble" not in closed:
            try:
                dribble.send(head[sent:sent + 1])
                sent += 1
            except OSError:
                pass
        for name, s in socks.items():
            if name in closed:
                continue
            try:
                if s.recv(100) == b"":
                    closed[name] = time.monotonic() - start
            except BlockingIOError:
                pass
            except OSError:
                closed[name] = time.monotonic() - start
        await asyncio.sleep(1)
    assert set(closed) == {"silent", "partial", "dribble"}, closed
    assert all(9 <= t <= 13 for t in closed.values()), closed
    for s in socks.values():
        s.close()


async def test_a_client_subscribing_to_thousands_of_channels_stops_at_the_channel_limit(server_factory):
    """2,000 subscribes in frames of 500 (under the 64 KiB message limit): the first `client.channel_limit` (128, Centrifugo's default)
    succeed, every other gets 106 `limit exceeded`, and the connection and server stay well."""
    srv = server_factory({})
    async with RawClient(srv.ws_url) as raw:
        await raw.connect(connection_token("many"))
        commands = [{"id": 10 + i, "subscribe": {"channel": f"chat:many-{i}"}} for i in range(2000)]
        for i in range(0, 2000, 500):
            await raw.send_raw("\n".join(json.dumps(c) for c in commands[i:i + 500]))
        replies: dict[int, dict] = {}
        while len(replies) < 2000:
            for m in await raw.recv_messages(timeout=20):
                if m.get("id", 0) >= 10:
                    replies[m["id"]] = m
        replies = [replies[10 + i] for i in range(2000)]
    ok = [r for r in replies if "subscribe" in r]
    refused = [r for r in replies if r.get("error", {}).get("code") == 106]
    assert (len(ok), len(refused)) == (128, 1872), (len(ok), len(refused), replies[128])
    await assert_server_serves(srv.ws_url, srv.api_url)


async def test_node_connection_limit_answers_503_before_the_upgrade(server_factory):
    """`client.connection_limit` reached: a new WebSocket gets HTTP 503 at the upgrade (as
    Centrifugo answers), so clients retry later — not 3504 after connect, which tells a client
    never to reconnect; once a connection is gone, a new one gets in."""
    from websockets.asyncio.client import connect as ws_connect
    from websockets.exceptions import InvalidStatus

    srv = server_factory({"client": {"connection_limit": 2}})
    first, second = RawClient(srv.ws_url), RawClient(srv.ws_url)
    async with first, second:
        await first.connect(connection_token("a"))
        await second.connect(connection_token("b"))
        try:
            await ws_connect(srv.ws_url, open_timeout=5, proxy=None)
            raise AssertionError("a third connection was upgraded")
        except InvalidStatus as e:
            assert e.response.status_code == 503
        await first.ws.close()
        await asyncio.sleep(0.3)
        async with RawClient(srv.ws_url) as third:
            await third.connect(connection_token("c"))


def upgrade_status(port: int, source: str = "127.0.0.1", path: str = "/connection/websocket") -> int:
    """The status a WebSocket upgrade request from `source` (any address of 127/8 reaches the
    server on 127.0.0.1) is answered with; the socket is closed right after."""
    with socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0)) as s:
        s.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n" not in head:
            chunk = s.recv(1024)
            if not chunk:
                break
            head += chunk
        return int(head.split(b" ", 2)[1])


async def test_a_connection_flood_from_one_address_does_not_lock_out_others(server_factory):
    """`client.connection_rate_limit_per_ip` (Strata's own): an address past its connections
    per second gets HTTP 503 (clients retry) on every connection endpoint, while real clients from
    another address connect and are served; the flooding address gets in again a second later."""
    srv = server_factory({"client": {"connection_rate_limit_per_ip": 5}, "http_stream": {"enabled": True}})
    flood = [upgrade_status(srv.port, source="127.0.0.2") for _ in range(40)]
    assert flood[:5] == [101] * 5, flood
    assert flood.count(503) >= 30, flood  # a few may refill while the flood runs (5 a second)
    # The HTTP stream is refused the same way, before it starts.
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5, source_address=("127.0.0.2", 0)) as s:
        s.sendall(b"POST /connection/http_stream HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
        assert s.recv(100).startswith(b"HTTP/1.1 503"), "http_stream was not refused"
    # Another address: centrifuge-python connects, subscribes and receives (assert_server_serves).
    await assert_server_serves(srv.ws_url, srv.api_url)
    await asyncio.sleep(1.1)
    assert upgrade_status(srv.port, source="127.0.0.2") == 101


async def test_node_connection_rate_limit_answers_503_then_refills(server_factory):
    """`client.connection_rate_limit` (Centrifugo's key): at most that many new connections a
    second to the node, whatever their address; 503 beyond it, and tokens come back with time."""
    srv = server_factory({"client": {"connection_rate_limit": 4}})
    statuses = [upgrade_status(srv.port, source=f"127.0.0.{2 + i % 3}") for i in range(12)]
    assert statuses[:4] == [101] * 4, statuses
    assert statuses.count(503) >= 6, statuses
    await asyncio.sleep(1.1)
    assert [upgrade_status(srv.port) for _ in range(2)] == [101, 101]
