"""Connection authentication with the real centrifuge-python client (and a raw socket where the
client library hides the wire details).

What centrifuge-python 0.7.0 surfaces (read from centrifuge/client.py):
* close frame 3500..3999 / 4500..4999 -> on_disconnected(code=<close code>, reason=<close reason>),
  state DISCONNECTED, no reconnect;
* connect reply error 109 -> the client itself marks it temporary, emits
  on_error(code=13 CONNECT_ERROR, error=ReplyError(109, ...)), and reconnects; the retry either
  calls get_token (if configured) or, without get_token, emits on_error(code=12
  BAD_CONFIGURATION) and ends with on_disconnected(code=1, reason="unauthorized") - a
  client-side code, not a server one.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from centrifuge import ClientState, ReplyError

from itsupport import RawClient, connection_token, connect_client, make_jwt

# centrifuge-python's own (client-side) codes, centrifuge/codes.py
PY_ERROR_BAD_CONFIGURATION = 12
PY_ERROR_CONNECT_ERROR = 13
PY_DISCONNECTED_UNAUTHORIZED = 1


async def test_token_connect_reaches_connected(server, client_factory):
    client, ev = client_factory(server, user="42")
    await connect_client(client, ev)
    ctx = ev.of("on_connected")[0]
    # ConnectResult.client is a server-generated UUID; version is always sent.
    assert ctx.client == client.client_id
    uuid.UUID(ctx.client)
    assert ctx.version, "ConnectResult.version must be set"
    assert not ev.of("on_disconnected")
    assert not ev.of("on_error"), ev.summary()


async def test_connect_result_fields_on_the_wire(server):
    async with RawClient(server.ws_url) as raw:
        res = await raw.connect(connection_token("42", ttl=3600))
    uuid.UUID(res["client"])
    assert res.get("version")
    assert res.get("ping") == 25, res  # default client.ping_interval
    assert res.get("pong") is True, res
    # token has exp => client-side refresh: expires + ttl (seconds until exp)
    assert res.get("expires") is True, res
    assert 3500 <= res.get("ttl", 0) <= 3600, res
    # emulated-transport-only fields are absent on WebSocket
    assert "session" not in res and "node" not in res, res


async def test_token_without_exp_has_no_expiry(server):
    async with RawClient(server.ws_url) as raw:
        res = await raw.connect(connection_token("42", ttl=None))
    assert "expires" not in res and "ttl" not in res, res


def _tampered_token() -> str:
    """A valid token whose payload was swapped for another one (signature no longer matches)."""
    header, _, signature = connection_token("42").split(".")
    other_payload = make_jwt({"sub": "1"}).split(".")[1]
    return f"{header}.{other_payload}.{signature}"


def _bad_tokens() -> dict:
    return {
        "wrong-secret": connection_token("42", secret="not-the-secret"),
        "tampered-payload": _tampered_token(),
        "alg-none": make_jwt({"sub": "42"}, alg="none"),
        "garbage": "this-is-not-a-jwt",
    }


@pytest.mark.parametrize("kind", list(_bad_tokens().keys()))
async def test_invalid_token_disconnects_3500_without_reconnect(server, client_factory, kind):
    client, ev = client_factory(server, token=_bad_tokens()[kind])
    await asyncio.wait_for(client.connect(), 10)
    ctx = await ev.wait("on_disconnected", timeout=5)
    assert (ctx.code, ctx.reason) == (3500, "invalid token"), ev.summary()
    assert client.state == ClientState.DISCONNECTED
    assert not ev.of("on_connected")
    # terminal code: the client must not try again
    await asyncio.sleep(0.5)
    assert client.state == ClientState.DISCONNECTED
    assert len(ev.of("on_disconnected")) == 1 and not ev.of("on_connected"), ev.summary()


async def test_expired_token_without_get_token_ends_unauthorized(server, client_factory):
    client, ev = client_factory(server, token=connection_token("42", ttl=-60))
    await asyncio.wait_for(client.connect(), 10)

    # 1) the server answers the connect with error 109 "token expired" (not a close frame);
    #    python reports it and treats it as temporary...
    err = await ev.wait("on_error", lambda c: isinstance(c.error, ReplyError), timeout=5)
    assert err.code == PY_ERROR_CONNECT_ERROR, ev.summary()
    assert (err.error.code, err.error.message) == (109, "token expired"), err
    assert err.error.temporary is True  # forced by the client for 109
    # 2) ...reconnects, finds no get_token to refresh with, and stops as unauthorized.
    ctx = await ev.wait("on_disconnected", timeout=5)
    assert (ctx.code, ctx.reason) == (PY_DISCONNECTED_UNAUTHORIZED, "unauthorized"), ev.summary()
    assert any(e.code == PY_ERROR_BAD_CONFIGURATION for e in ev.of("on_error")), ev.summary()
    assert client.state == ClientState.DISCONNECTED
    assert not ev.of("on_connected")


async def test_expired_token_triggers_get_token_refresh(server, client_factory):
    calls = []

    async def get_token() -> str:
        calls.append(1)
        return connection_token("42", ttl=3600)

    client, ev = client_factory(server, token=connection_token("42", ttl=-60), get_token=get_token)
    await asyncio.wait_for(client.connect(), 10)
    await ev.wait("on_connected", timeout=5)
    assert client.state == ClientState.CONNECTED
    assert len(calls) == 1, "get_token must be called exactly once after error 109"
    first_err = ev.of("on_error")[0]
    assert isinstance(first_err.error, ReplyError) and first_err.error.code == 109, ev.summary()
    assert not ev.of("on_disconnected")


async def test_expired_token_raw_error_109_then_connection_unusable(server):
    async with RawClient(server.ws_url) as raw:
        rep = await raw.call("connect", {"token": connection_token("42", ttl=-60)})
        assert rep.get("error", {}).get("code") == 109, rep
        assert rep["error"].get("message") == "token expired", rep
        assert "connect" not in rep
        # the connection is not closed by the error reply itself...
        assert await raw.stays_open(0.3)
        # ...but any further command is a protocol violation (3501)
        await raw.send_commands({"id": raw.next_id(), "subscribe": {"channel": "chat:x"}})
        code, reason = await raw.wait_closed(5)
        assert (code, reason) == (3501, "bad request")


async def test_anonymous_without_token_rejected_3501(server, client_factory):
    client, ev = client_factory(server, token="")
    await asyncio.wait_for(client.connect(), 10)
    ctx = await ev.wait("on_disconnected", timeout=5)
    assert (ctx.code, ctx.reason) == (3501, "bad request"), ev.summary()
    assert client.state == ClientState.DISCONNECTED
    assert not ev.of("on_connected")


async def test_anonymous_without_token_allowed_when_configured(server_factory, client_factory):
    srv = server_factory({"client": {"allow_anonymous_connect_without_token": True}})
    client, ev = client_factory(srv, token="")
    await connect_client(client, ev)
    assert client.state == ClientState.CONNECTED


async def _upgrade_status(port: int, path: str, origin: str | None) -> tuple[int, dict[str, str], bytes]:
    """A raw WebSocket upgrade request; the response's status, headers and body (if any)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [
        f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: Upgrade", "Upgrade: websocket",
        "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    ]
    if origin is not None:
        lines.append(f"Origin: {origin}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    status_line, *header_lines = head.decode().split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines if h)}
    body = b""
    if "content-length" in headers:
        body = await asyncio.wait_for(reader.readexactly(int(headers["content-length"])), 5)
    writer.close()
    return int(status_line.split()[1]), headers, body


@pytest.mark.parametrize(
    "origin, path, status",
    [
        ("https://app.example.com", "/connection/websocket", 101),
        ("https://evil.example.net", "/connection/websocket", 403),
        (None, "/connection/websocket", 101),
        ("https://app.example.com", "/connection/elsewhere", 404),
    ],
)
async def test_websocket_origin_refused_with_403(server_factory, origin, path, status):
    """Centrifugo's upgrader answers a refused Origin with 403, its reason phrase as a plain-text
    body and `Sec-WebSocket-Version: 13` (transports spec §3.1); an allowed one upgrades; another
    path gets Go's 404 (all three diffed against Centrifugo v6.9.1's answers)."""
    srv = server_factory({"client": {"allowed_origins": ["https://*.example.com"]}})
    got, headers, body = await _upgrade_status(srv.port, path, origin)
    assert got == status
    if status == 403:
        assert body == b"Forbidden"
        assert headers.get("sec-websocket-version") == "13"
    if status == 404:  # Go's mux answer for a path Centrifugo does not serve
        assert body == b"404 page not found\n"
        assert "sec-websocket-version" not in headers


@pytest.mark.parametrize("claims", [
    {"channel": "$priv:other"},                # a token for another channel
    {"sub": "someone-else"},                   # for another user
    {"client": "another-client-id"},           # bound to another connection
])
async def test_subscription_token_for_another_channel_user_or_client_disconnects_3500(server_factory, claims):
    srv = server_factory({"channel": {"namespaces": [{"name": "priv"}]}})
    body = {"sub": "42", "channel": "$priv:mine", "exp": int(time.time()) + 60}
    body.update(claims)
    async with RawClient(srv.ws_url) as raw:
        await raw.connect(connection_token("42"))
        await raw.send_commands({"id": 2, "subscribe": {"channel": "$priv:mine", "token": make_jwt(body)}})
        assert await raw.wait_closed() == (3500, "invalid token")
