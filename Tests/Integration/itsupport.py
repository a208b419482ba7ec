"""Helpers shared by the Strata end-to-end tests (no pytest fixtures here; see conftest.py).

Everything talks to a real `strata` process over loopback, using the pinned real clients
(centrifuge-python for the client protocol, cent for the server API) and, for protocol abuse,
a raw `websockets` connection.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Optional

import websockets
from websockets.asyncio.client import connect as ws_connect

from centrifuge import (
    Client,
    ClientEventHandler,
    ClientState,
    SubscriptionEventHandler,
)

SECRET = "secret"
API_KEY = "api-key"

# ---------------------------------------------------------------------------------------------
# JWT (HS256/384/512) - a tiny encoder, enough for tests.
# ---------------------------------------------------------------------------------------------

_HS = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def make_jwt(claims: dict, secret: str = SECRET, alg: str = "HS256", header: Optional[dict] = None) -> str:
    """Encode `claims` as a compact JWS. alg "none" gives an unsigned token (must be rejected)."""
    hdr = {"alg": alg, "typ": "JWT"}
    if header:
        hdr.update(header)
    signing_input = (
        _b64url(json.dumps(hdr, separators=(",", ":")).encode())
        + "."
        + _b64url(json.dumps(claims, separators=(",", ":")).encode())
    )
    if alg == "none":
        return signing_input + "."
    sig = hmac.new(secret.encode(), signing_input.encode("ascii"), _HS[alg]).digest()
    return signing_input + "." + _b64url(sig)


def connection_token(sub: str = "42", ttl: Optional[int] = 3600, secret: str = SECRET, **claims: Any) -> str:
    """Connection token for user `sub`, expiring `ttl` seconds from now (None: no exp claim).
    A negative ttl gives an already expired token."""
    now = int(time.time())
    body: dict = {"sub": sub, "iat": now}
    if ttl is not None:
        body["exp"] = now + ttl
    body.update(claims)
    return make_jwt(body, secret=secret)


def unique(prefix: str) -> str:
    """A channel name nobody else in the run uses, e.g. unique("chat:room") -> "chat:room-1a2b3c4d5e"."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# ---------------------------------------------------------------------------------------------
# Event recording for centrifuge-python handlers.
# ---------------------------------------------------------------------------------------------


class EventLog:
    """Records (event name, context) pairs and lets a test wait for them with a timeout."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def record(self, name: str, ctx: Any) -> None:
        self.events.append((name, decode_context(ctx)))

    def of(self, name: str) -> list:
        return [c for n, c in self.events if n == name]

    def names(self) -> list[str]:
        return [n for n, _ in self.events]

    def summary(self) -> str:
        return ", ".join(f"{n}({_short(c)})" for n, c in self.events[-30:])

    async def wait_count(
        self,
        name: str,
        count: int,
        pred: Callable[[Any], bool] = lambda c: True,
        timeout: float = 5.0,
    ) -> list:
        """Wait until at least `count` `name` events matching `pred` were recorded; return them."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            matches = [c for c in self.of(name) if pred(c)]
            if len(matches) >= count:
                return matches
            if loop.time() >= deadline:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {count} x {name} "
                    f"(got {len(matches)}); events so far: {self.summary()}"
                )
            await asyncio.sleep(0.01)

    async def wait(self, name: str, pred: Callable[[Any], bool] = lambda c: True, timeout: float = 5.0) -> Any:
        """Wait for the first `name` event matching `pred`; return its context."""
        return (await self.wait_count(name, 1, pred, timeout))[0]


def _short(ctx: Any) -> str:
    text = repr(ctx)
    return text if len(text) < 160 else text[:157] + "..."


class ClientEvents(ClientEventHandler, EventLog):
    """ClientEventHandler recording every client-level event. Handlers never raise: in
    centrifuge-python 0.7 an exception escaping a handler disconnects the client."""

    def __init__(self) -> None:
        EventLog.__init__(self)

    async def on_connecting(self, ctx):
        self.record("on_connecting", ctx)

    async def on_connected(self, ctx):
        self.record("on_connected", ctx)

    async def on_disconnected(self, ctx):
        self.record("on_disconnected", ctx)

    async def on_error(self, ctx):
        self.record("on_error", ctx)

    async def on_subscribed(self, ctx):
        self.record("on_subscribed", ctx)

    async def on_subscribing(self, ctx):
        self.record("on_subscribing", ctx)

    async def on_unsubscribed(self, ctx):
        self.record("on_unsubscribed", ctx)

    async def on_publication(self, ctx):
        self.record("on_publication", ctx)

    async def on_join(self, ctx):
        self.record("on_join", ctx)

    async def on_leave(self, ctx):
        self.record("on_leave", ctx)


class SubEvents(SubscriptionEventHandler, EventLog):
    """SubscriptionEventHandler recording every subscription-level event."""

    def __init__(self) -> None:
        EventLog.__init__(self)

    async def on_subscribing(self, ctx):
        self.record("on_subscribing", ctx)

    async def on_subscribed(self, ctx):
        self.record("on_subscribed", ctx)

    async def on_unsubscribed(self, ctx):
        self.record("on_unsubscribed", ctx)

    async def on_publication(self, ctx):
        self.record("on_publication", ctx)

    async def on_join(self, ctx):
        self.record("on_join", ctx)

    async def on_leave(self, ctx):
        self.record("on_leave", ctx)

    async def on_error(self, ctx):
        self.record("on_error", ctx)

    def offsets(self) -> list[int]:
        return [c.pub.offset for c in self.of("on_publication")]

    def datas(self) -> list:
        return [c.pub.data for c in self.of("on_publication")]


# ---------------------------------------------------------------------------------------------
# The two client protocols. The suite's scenarios run over JSON and over Protobuf (conftest's
# `protocol` parameter): with Protobuf, payloads travel as bytes, so the test client encodes the
# JSON values tests publish and the recorded events, history and RPC results give them back as
# JSON values; the wire stays Protobuf.
# ---------------------------------------------------------------------------------------------

PROTOCOLS = ("json", "protobuf")


def json_payload(data: Any) -> Any:
    """A Protobuf payload (bytes) as the JSON value it holds; other bytes and values as they are."""
    if isinstance(data, (bytes, bytearray)) and data:
        try:
            return json.loads(data)
        except ValueError:
            return data
    return data


def _decode_pub(pub: Any) -> None:
    if pub is not None and isinstance(getattr(pub, "data", None), (bytes, bytearray)):
        pub.data = json_payload(pub.data)


def decode_context(ctx: Any) -> Any:
    """Event contexts of a Protobuf client with JSON payloads decoded in place."""
    _decode_pub(getattr(ctx, "pub", None))
    for p in getattr(ctx, "publications", None) or []:
        _decode_pub(p)
    if isinstance(getattr(ctx, "data", None), (bytes, bytearray)):
        ctx.data = json_payload(ctx.data)
    return ctx


class ProtobufJSONClient(Client):
    """centrifuge-python on the Protobuf protocol, taking and giving JSON payloads as tests do."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, use_protobuf=True, **kwargs)

    def _encode_data(self, data: Any):
        if not isinstance(data, bytes):
            data = json.dumps(data, separators=(",", ":")).encode()
        return super()._encode_data(data)

    async def history(self, *args: Any, **kwargs: Any):
        result = await super().history(*args, **kwargs)
        for p in result.publications:
            _decode_pub(p)
        return result

    async def rpc(self, *args: Any, **kwargs: Any):
        result = await super().rpc(*args, **kwargs)
        result.data = json_payload(result.data)
        return result


def new_client(
    ws_url: str, token: str = "", events: Optional[ClientEvents] = None, protocol: str = "json", **kwargs: Any
) -> tuple[Client, ClientEvents]:
    """A centrifuge-python Client with test-friendly settings (short reconnect backoff, no proxy),
    speaking `protocol` ("json" or "protobuf")."""
    ev = events or ClientEvents()
    opts: dict = dict(
        events=ev,
        token=token,
        timeout=5.0,
        min_reconnect_delay=0.1,
        max_reconnect_delay=1.0,
        proxy=None,
    )
    opts.update(kwargs)
    if protocol == "protobuf":
        return ProtobufJSONClient(ws_url, **opts), ev
    return Client(ws_url, **opts), ev


async def connect_client(client: Client, events: ClientEvents, timeout: float = 10.0) -> None:
    """connect() and assert the client reached the connected state."""
    await asyncio.wait_for(client.connect(), timeout)
    await events.wait("on_connected", timeout=timeout)
    assert client.state == ClientState.CONNECTED, events.summary()


async def subscribe(client: Client, channel: str, timeout: float = 5.0, **kwargs: Any):
    """Create a subscription, subscribe and wait for on_subscribed. Returns (sub, events, ctx)."""
    sev = SubEvents()
    sub = client.new_subscription(channel, events=sev, **kwargs)
    await asyncio.wait_for(sub.subscribe(), timeout)
    ctx = await sev.wait("on_subscribed", timeout=timeout)
    return sub, sev, ctx


async def assert_server_serves(ws_url: str, api_url: str) -> None:
    """A brand-new, well-behaved client can still connect, subscribe and receive a publication
    sent through the server API. Used after abusing the server with bad clients."""
    from cent import AsyncClient, PublishRequest

    client, ev = new_client(ws_url, token=connection_token("healthcheck"))
    api = AsyncClient(api_url, API_KEY, timeout=5.0)
    try:
        await connect_client(client, ev)
        channel = unique("chat:alive")
        _, sev, _ = await subscribe(client, channel)
        await api.publish(PublishRequest(channel=channel, data={"alive": True}))
        ctx = await sev.wait("on_publication", timeout=5.0)
        assert ctx.pub.data == {"alive": True}
    finally:
        await api.close()
        await asyncio.wait_for(client.disconnect(), 5.0)


# ---------------------------------------------------------------------------------------------
# Raw WebSocket speaking the JSON client protocol by hand.
# ---------------------------------------------------------------------------------------------


class RawClient:
    """A bare WebSocket connection for sending arbitrary frames and observing exactly what the
    server answers (replies, pushes, pings, the close frame)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.ws: Any = None
        self._next_id = 0
        self.pushes: list[dict] = []
        self.pings = 0
        self.received: list[dict] = []  # every decoded message, in order

    async def __aenter__(self) -> "RawClient":
        self.ws = await ws_connect(
            self.url,
            open_timeout=5,
            close_timeout=2,
            ping_interval=None,  # no transport-level keepalive noise
            max_size=None,
            proxy=None,
        )
        return self

    async def __aexit__(self, *exc: Any) -> None:
        try:
            await asyncio.wait_for(self.ws.close(), 3)
        except Exception:
            pass

    def next_id(self) -> int:
        self._next_id += 1
        return self._next_id

    async def send_commands(self, *commands: dict) -> None:
        await self.ws.send("\n".join(json.dumps(c, separators=(",", ":")) for c in commands))

    async def send_raw(self, data: Any, text: Optional[bool] = None) -> None:
        await self.ws.send(data, text=text)

    def _decode(self, frame: Any) -> list[dict]:
        if isinstance(frame, bytes):
            frame = frame.decode("utf-8")
        out = []
        for line in frame.split("\n"):
            if line.strip():
                out.append(json.loads(line))
        return out

    async def recv_messages(self, timeout: float = 5.0) -> list[dict]:
        """Read one frame and return its messages (pings and pushes are also recorded)."""
        frame = await asyncio.wait_for(self.ws.recv(), timeout)
        msgs = self._decode(frame)
        for m in msgs:
            self.received.append(m)
            if m.get("id", 0) == 0:
                if "push" in m:
                    self.pushes.append(m["push"])
                elif not m:
                    self.pings += 1
        return msgs

    async def reply(self, cmd_id: int, timeout: float = 5.0) -> dict:
        """Read until the reply with `cmd_id` arrives; return it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"no reply to command {cmd_id} within {timeout}s; got {self.received[-10:]}")
            try:
                msgs = await self.recv_messages(remaining)
            except websockets.ConnectionClosed as e:
                raise AssertionError(
                    f"connection closed ({self.ws.close_code} {self.ws.close_reason!r}) while waiting for reply {cmd_id}"
                ) from e
            for m in msgs:
                if m.get("id") == cmd_id:
                    return m

    async def call(self, method: str, params: dict, timeout: float = 5.0) -> dict:
        """Send one command and return its reply."""
        cmd_id = self.next_id()
        await self.send_commands({"id": cmd_id, method: params})
        return await self.reply(cmd_id, timeout)

    async def connect(self, token: str, timeout: float = 5.0, **extra: Any) -> dict:
        """Send a connect command; assert success; return the ConnectResult."""
        params = {"token": token, "name": "raw-test"}
        params.update(extra)
        rep = await self.call("connect", params, timeout)
        assert "error" not in rep, f"connect failed: {rep}"
        assert "connect" in rep, rep
        return rep["connect"]

    async def wait_closed(self, timeout: float = 5.0) -> tuple[int, str]:
        """Read (and record) everything until the server closes; return (close code, reason).
        Code 1006 means the TCP connection dropped without a close frame."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"server did not close the connection within {timeout}s; last messages: {self.received[-10:]}"
                )
            try:
                await self.recv_messages(remaining)
            except websockets.ConnectionClosed:
                return self.ws.close_code, self.ws.close_reason or ""
            except asyncio.TimeoutError:
                continue

    async def stays_open(self, seconds: float) -> bool:
        """True if the connection is still open after `seconds` (messages are recorded)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return True
            try:
                await self.recv_messages(remaining)
            except asyncio.TimeoutError:
                return True
            except websockets.ConnectionClosed:
                return False


# ---------------------------------------------------------------------------------------------
# Plain HTTP (for server API cases cent cannot express).
# ---------------------------------------------------------------------------------------------


def http_request(url: str, method: str = "POST", body: Optional[bytes] = None, headers: Optional[dict] = None) -> tuple[int, bytes]:
    """Blocking HTTP request on loopback without any proxy; returns (status, body)."""
    import urllib.error
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with opener.open(req, timeout=5) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def api_call(server: Any, method: str, body: dict) -> dict:
    """One server API call as plain JSON over HTTP (for fields and errors cent does not expose);
    asserts HTTP 200 and returns the decoded body, `error` included when the call failed."""
    status, raw = http_request(f"{server.api_url}/{method}", body=json.dumps(body).encode(),
                               headers={"X-API-Key": API_KEY, "Content-Type": "application/json"})
    assert status == 200, (status, raw)
    return json.loads(raw)


# ---------------------------------------------------------------------------------------------
# Protobuf framing (transports spec §2.1): varint-delimited messages.
# ---------------------------------------------------------------------------------------------


def varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def delimited(*messages: bytes) -> bytes:
    return b"".join(varint(len(m)) + m for m in messages)


def replies(frame: bytes) -> list[Any]:
    """The Reply messages of one binary WebSocket message."""
    out, i = [], 0
    while i < len(frame):
        length, shift = 0, 0
        while True:
            b = frame[i]
            i += 1
            length |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        from centrifuge.protocol import client_pb2
        r = client_pb2.Reply()
        r.ParseFromString(frame[i:i + length])
        out.append(r)
        i += length
    return out


def openssl(*args: str, cwd) -> None:
    """Debian's `openssl` with these arguments in `cwd` (the TLS and ACME tests make their
    certificates with it); fails the test on a non-zero exit."""
    import subprocess
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


PROTO_DIR = Path(__file__).resolve().parents[2] / "docs" / "protocol" / "proto"
_proto_modules: dict[str, tuple] = {}


def proto_modules(name: str, grpc: bool = True) -> tuple:
    """`<name>_pb2` (and with `grpc` `<name>_pb2_grpc`), generated once per process by grpcio-tools
    from the committed docs/protocol/proto/<name>.proto into a temporary directory."""
    if name not in _proto_modules:
        import atexit
        import importlib
        import shutil
        import subprocess
        import sys
        import tempfile

        out = tempfile.mkdtemp(prefix=f"strata-{name}-stubs-")
        atexit.register(shutil.rmtree, out, True)
        outputs = [f"--python_out={out}"] + ([f"--grpc_python_out={out}"] if grpc else [])
        subprocess.run([sys.executable, "-m", "grpc_tools.protoc", f"-I{PROTO_DIR}", *outputs, str(PROTO_DIR / f"{name}.proto")],
                       check=True, capture_output=True)
        sys.path.insert(0, out)
        modules = [importlib.import_module(f"{name}_pb2")] + ([importlib.import_module(f"{name}_pb2_grpc")] if grpc else [])
        _proto_modules[name] = tuple(modules)
    return _proto_modules[name]
