"""Server ping / client pong with client.ping_interval = 1s and client.pong_timeout = 500ms.

Pings are empty JSON objects `{}` sent by the server; the client answers each with an empty
command `{}`. No pong within pong_timeout => close 3012 "no pong" (a reconnectable code).

pong_timeout must be strictly less than ping_interval: Centrifugo refuses to start otherwise
(log.Fatal "ping_interval must be greater than pong_timeout"), and so does strata, so 1s/1s is
not a valid configuration.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from cent import PublishRequest
from centrifuge import ClientState

from itsupport import RawClient, connect_client, connection_token, subscribe, unique

FAST_PING = {"client": {"ping_interval": "1s", "pong_timeout": "500ms"}}


@pytest.fixture
def ping_server(server_factory):
    return server_factory(FAST_PING)


async def test_silent_raw_client_is_closed_with_3012(ping_server):
    async with RawClient(ping_server.ws_url) as raw:
        res = await raw.connect(connection_token("42"))
        assert res.get("ping") == 1 and res.get("pong") is True, res
        started = time.monotonic()
        code, reason = await raw.wait_closed(timeout=8)  # first ping < 1 s, + 0.5 s pong timeout
        elapsed = time.monotonic() - started
    assert (code, reason) == (3012, "no pong"), (code, reason, raw.received)
    assert raw.pings >= 1, f"expected at least one {{}} ping before the close, got {raw.received}"
    # first ping at >= interval/2 = 0.5 s, then 0.5 s without pong
    assert elapsed >= 0.8, f"closed too early ({elapsed:.2f}s) to be a pong timeout"


async def test_raw_client_answering_pings_stays_connected(ping_server):
    async with RawClient(ping_server.ws_url) as raw:
        await raw.connect(connection_token("42"))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 3.5
        while loop.time() < deadline:
            try:
                msgs = await raw.recv_messages(timeout=deadline - loop.time())
            except asyncio.TimeoutError:
                break
            for m in msgs:
                if m == {}:
                    await raw.send_raw("{}")  # exactly one pong per ping
        assert raw.pings >= 2, f"with a 1 s interval at least 2 pings arrive in 3.5 s, got {raw.pings}"
        # still usable
        rep = await raw.call("subscribe", {"channel": unique("chat:pinged")})
        assert "subscribe" in rep, rep


async def test_centrifuge_python_stays_connected(ping_server, client_factory, api_factory):
    client, ev = client_factory(ping_server)
    await connect_client(client, ev)
    assert client._ping_interval == 1  # private, but the only way to see ConnectResult.ping
    channel = unique("chat:ping")
    _, sev, _ = await subscribe(client, channel)

    await asyncio.sleep(3.5)

    assert client.state == ClientState.CONNECTED, ev.summary()
    assert len(ev.of("on_connected")) == 1, ev.summary()
    assert not ev.of("on_disconnected"), ev.summary()
    # on_connecting is emitted once by connect() itself; a reconnect would add another
    assert len(ev.of("on_connecting")) == 1, ev.summary()

    api = api_factory(ping_server)
    await api.publish(PublishRequest(channel=channel, data={"still": "here"}))
    ctx = await sev.wait("on_publication")
    assert ctx.pub.data == {"still": "here"} and ctx.pub.offset == 1
