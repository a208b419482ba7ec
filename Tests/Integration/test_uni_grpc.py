"""The one-way gRPC transport `uni_grpc` (transports spec §5.5, checklist 67-69): a real gRPC client —
grpcio's asyncio API calling `centrifugal.centrifugo.unistream.CentrifugoUniStream/Consume` with raw
bytes, the Push messages decoded with stubs generated from docs/protocol/proto/unistream.proto by
grpcio-tools in the test session — against Strata's uni_grpc port. The connect push, then bare
pushes (publications with JSON and binary data, join/leave, server-side subscribe/unsubscribe/
refresh), refused connects and server disconnects as disconnect pushes followed by status OK,
recovery through `ConnectRequest.subs`, the fixed 25 s ping, a client that goes away, requests that
are not ConnectRequests, SIGTERM, metrics, config refusals and the command-line flags. The bytes
and statuses expected here are those Centrifugo v6.9.1 sends for the same exchange."""

from __future__ import annotations

import asyncio
import base64
import json
import signal
import socket
import subprocess
import time
from typing import Any, Callable, Optional, Union

import grpc
import pytest
from cent import Disconnect, DisconnectRequest, PresenceRequest, PublishRequest

from conftest import _attach, build_config, free_port, StrataServer
from itsupport import api_call, connection_token, http_request, make_jwt, proto_modules, unique

CONSUME = "/centrifugal.centrifugo.unistream.CentrifugoUniStream/Consume"


@pytest.fixture(scope="session")
def uni_pb():
    """unistream_pb2, generated from the committed unistream.proto."""
    return proto_modules("unistream", grpc=False)[0]


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError(f"nothing listens on uni_grpc port {port}")
            time.sleep(0.05)


def uni_config(port: int, extra: Optional[dict] = None) -> dict:
    cfg = {"uni_grpc": {"enabled": True, "port": port}}
    for key, value in (extra or {}).items():
        cfg[key] = {**cfg.get(key, {}), **value} if isinstance(value, dict) else value
    return cfg


@pytest.fixture
def uni_factory(server_factory):
    """Factory: a dedicated server with uni_grpc on a free port (`srv.uni_port`), `extra` merged in."""
    def make(extra: Optional[dict] = None) -> StrataServer:
        port = free_port()
        srv = server_factory(uni_config(port, extra))
        srv.uni_port = port
        wait_port(port)
        return srv
    return make


@pytest.fixture(scope="module")
def _uni_slot():
    slot: dict = {"server": None}
    yield slot
    if slot["server"] is not None:
        slot["server"].stop()


@pytest.fixture
def uni(request, _uni_slot, server_starter) -> StrataServer:
    """A default-config server with uni_grpc on, shared by this module's tests (unique channels and
    users); restarted if a test killed it."""
    srv = _uni_slot["server"]
    if srv is None or not srv.alive():
        if srv is not None:
            srv.stop()
        port = free_port()
        srv = server_starter(uni_config(port), name="uni_grpc_shared")
        srv.uni_port = port
        wait_port(port)
        _uni_slot["server"] = srv
    _attach(request, srv)
    yield srv
    if not srv.alive():
        pytest.fail(f"strata exited during this test with status {srv.proc.poll()}\n{srv.logs()}", pytrace=False)


class End:
    """How a Consume call ended: its gRPC status."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        self.code, self.details = code, details

    def __repr__(self) -> str:
        return f"End({self.code.name}, {self.details!r})"


class UniStream:
    """One Consume call with raw bytes both ways; every message (bytes) and then the end (End) go to
    a queue, so waiting with a timeout never cancels the call."""

    def __init__(self, srv: StrataServer, pb: Any, request: Union[bytes, Any]) -> None:
        self.pb = pb
        raw = request if isinstance(request, bytes) else request.SerializeToString()
        self.channel = grpc.aio.insecure_channel(f"127.0.0.1:{srv.uni_port}")
        self.call = self.channel.unary_stream(CONSUME)(raw)
        self.queue: asyncio.Queue = asyncio.Queue()
        self.task = asyncio.ensure_future(self._pump())

    async def _pump(self) -> None:
        try:
            async for message in self.call:
                await self.queue.put(message)
            await self.queue.put(End(await self.call.code(), await self.call.details()))
        except grpc.aio.AioRpcError as e:
            await self.queue.put(End(e.code(), e.details()))
        except asyncio.CancelledError:
            await self.queue.put(End(grpc.StatusCode.CANCELLED, "cancelled by the test"))

    async def __aenter__(self) -> "UniStream":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def close(self) -> None:
        self.call.cancel()
        try:
            await asyncio.wait_for(self.task, 3)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            pass
        await self.channel.close()

    async def next(self, timeout: float = 5.0) -> Union[bytes, End]:
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"nothing from the uni_grpc stream within {timeout}s") from None

    async def raw(self, timeout: float = 5.0) -> bytes:
        item = await self.next(timeout)
        assert isinstance(item, bytes), f"expected a Push, the call ended: {item}"
        return item

    async def push(self, timeout: float = 5.0) -> Any:
        return self.pb.Push.FromString(await self.raw(timeout))

    async def until(self, pred: Callable[[Any], bool], timeout: float = 5.0) -> Any:
        """The first Push matching `pred` (earlier ones, e.g. the stream's own join, are skipped)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seen = []
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"no matching Push within {timeout}s; got {seen}")
            push = await self.push(remaining)
            if pred(push):
                return push
            seen.append(push)

    async def end(self, timeout: float = 5.0) -> End:
        item = await self.next(timeout)
        assert isinstance(item, End), f"expected the call to end, got another message: {item!r}"
        return item

    async def silent_for(self, seconds: float) -> list:
        """Everything that arrives within `seconds` (a test expecting silence asserts it is [])."""
        got = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (remaining := deadline - loop.time()) > 0:
            try:
                got.append(await asyncio.wait_for(self.queue.get(), remaining))
            except asyncio.TimeoutError:
                break
        return got


def consume(srv: StrataServer, pb: Any, request: Union[bytes, Any, None] = None) -> UniStream:
    return UniStream(srv, pb, pb.ConnectRequest() if request is None else request)


async def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        await asyncio.sleep(0.05)


def presence_users(srv: StrataServer, channel: str) -> list[str]:
    reply = api_call(srv, "presence", {"channel": channel})
    return sorted(info["user"] for info in reply["result"].get("presence", {}).values())


# ---------------------------------------------------------------------------------------------
# The stream
# ---------------------------------------------------------------------------------------------


async def test_connect_push_then_bare_publication_pushes(uni, uni_pb, api_factory):
    """Checklist 67: the first message is Push{connect} — client, version, the token's channel and a
    `subs` entry the user may subscribe to, expires/ttl of the token, `ping: 25`, a session, no pong
    and no node; then bare Push{channel, pub} messages: JSON data as its bytes (with tags and
    offset), `b64data` as the raw binary bytes. Every message is a plain Push (no Reply `id`) with
    nothing beyond the unistream schema."""
    pb = uni_pb
    api = api_factory(uni)
    own, asked = unique("chat:ugrpc"), unique("nohist:ugrpc")
    request = pb.ConnectRequest(token=connection_token("ug1", channels=[own]), subs={asked: pb.SubscribeRequest()})
    async with consume(uni, pb, request) as stream:
        raw = await stream.raw()
        first = pb.Push.FromString(raw)
        assert first.HasField("connect") and not first.channel
        connect = first.connect
        assert connect.client and connect.session and connect.client != connect.session and connect.version
        assert connect.ping == 25 and not connect.pong and not connect.node
        assert connect.expires and 3590 <= connect.ttl <= 3600
        assert set(connect.subs) == {own, asked}
        assert connect.subs[own].recoverable and connect.subs[own].positioned and connect.subs[own].epoch
        assert not connect.subs[asked].recoverable
        assert raw[0] == 0x52  # field 10 (connect) first: no Reply wrapper, no `id`

        result = await api.publish(PublishRequest(channel=own, data={"n": 1}, tags={"k": "v"}))
        push_raw = None
        while True:
            push_raw = await stream.raw()
            push = pb.Push.FromString(push_raw)
            if push.HasField("pub"):
                break
            assert push.HasField("join") and push.join.info.user == "ug1"  # its own join (force_push_join_leave)
        assert push.channel == own and json.loads(push.pub.data) == {"n": 1}
        assert push.pub.offset == result.offset == 1 and dict(push.pub.tags) == {"k": "v"}
        assert not push.pub.HasField("info")
        assert push_raw.startswith(b"\x12" + bytes([len(own)]) + own.encode() + b"\x22")  # channel 2, pub 4

        binary = b"\x00\xff\x80binary\n"
        reply = api_call(uni, "publish", {"channel": asked, "b64data": base64.b64encode(binary).decode()})
        assert "error" not in reply, reply
        push = await stream.until(lambda p: p.HasField("pub"))
        assert push.channel == asked and push.pub.data == binary and push.pub.offset == 0


async def test_ping_is_25_seconds_whatever_client_ping_interval_says(uni_factory, uni_pb):
    """Transports spec §5.5: the transport uses the library's ping defaults, so the connect push says
    `ping: 25` and no empty Push arrives after client.ping_interval (1 s here); Centrifugo v6.9.1
    sends nothing in those 2.5 s either."""
    srv = uni_factory({"client": {"ping_interval": "1s", "pong_timeout": "500ms", "allow_anonymous_connect_without_token": True}})
    async with consume(srv, uni_pb) as stream:
        push = await stream.push()
        assert push.connect.ping == 25 and not push.connect.pong
        assert await stream.silent_for(2.5) == []


@pytest.mark.parametrize("token, code, reason", [
    ("not-a-jwt", 3500, "invalid token"),
    ("", 3501, "bad request"),
    ("expired", 3005, "connection expired"),
    ("other-secret", 3500, "invalid token"),
    ("spec-example", 3500, "invalid token"),  # the request bytes of transports spec §5.5: token "abc"
])
async def test_refused_connect_is_a_disconnect_push_then_status_ok(uni, uni_pb, token, code, reason):
    """A refused connect is one Push{disconnect{code, reason}} — the same codes as the other one-way
    transports (test_unidirectional.py) — and then the call ends with status OK (Centrifugo v6.9.1
    sends these exact bytes)."""
    pb = uni_pb
    if token == "expired":
        request: Any = pb.ConnectRequest(token=make_jwt({"sub": "old", "exp": int(time.time()) - 60}))
    elif token == "other-secret":
        request = pb.ConnectRequest(token=connection_token("x", secret="not-the-secret"))
    elif token == "spec-example":
        request = bytes.fromhex("0a03616263 1a0f0a0463686174 12071801320145 3805".replace(" ", ""))
        assert pb.ConnectRequest.FromString(request).subs["chat"].offset == 5
    else:
        request = pb.ConnectRequest(token=token)
    async with consume(uni, pb, request) as stream:
        raw = await stream.raw()
        assert raw == pb.Push(disconnect=pb.Disconnect(code=code, reason=reason)).SerializeToString()
        end = await stream.end()
        assert end.code == grpc.StatusCode.OK, end


async def test_connect_code_to_unidirectional_disconnect_applies(uni_factory, uni_pb):
    """client.connect_code_to_unidirectional_disconnect turns error 109 (token expired) into the
    configured disconnect on uni_grpc as on the other one-way transports."""
    srv = uni_factory({"client": {"connect_code_to_unidirectional_disconnect": {
        "enabled": True, "transforms": [{"code": 109, "to": {"code": 4109, "reason": "renew"}}]}}})
    request = uni_pb.ConnectRequest(token=make_jwt({"sub": "old", "exp": int(time.time()) - 60}))
    async with consume(srv, uni_pb, request) as stream:
        push = await stream.push()
        assert (push.disconnect.code, push.disconnect.reason) == (4109, "renew")
        assert (await stream.end()).code == grpc.StatusCode.OK


async def test_server_api_disconnect_is_a_push_then_status_ok(uni, uni_pb, api_factory):
    """Checklist 69."""
    api = api_factory(uni)
    user = unique("gone")
    async with consume(uni, uni_pb, uni_pb.ConnectRequest(token=connection_token(user))) as stream:
        assert (await stream.push()).HasField("connect")
        await api.disconnect(DisconnectRequest(user=user, disconnect=Disconnect(code=4001, reason="bye")))
        raw = await stream.raw()
        assert raw == uni_pb.Push(disconnect=uni_pb.Disconnect(code=4001, reason="bye")).SerializeToString()
        assert (await stream.end()).code == grpc.StatusCode.OK


async def test_server_side_subscribe_unsubscribe_and_refresh_pushes(uni, uni_pb):
    """Server API subscribe/unsubscribe/refresh reach a uni_grpc connection as Push{subscribe},
    Push{unsubscribe{2000, "server unsubscribe"}} and Push{refresh{expires, ttl}}."""
    pb = uni_pb
    user, first, second = unique("srvsub"), unique("chat:srv"), unique("chat:srv2")
    async with consume(uni, pb, pb.ConnectRequest(token=connection_token(user, channels=[first]))) as stream:
        assert first in (await stream.push()).connect.subs
        assert "error" not in api_call(uni, "unsubscribe", {"user": user, "channel": first})
        push = await stream.until(lambda p: p.HasField("unsubscribe"))
        assert push.channel == first and (push.unsubscribe.code, push.unsubscribe.reason) == (2000, "server unsubscribe")
        assert "error" not in api_call(uni, "subscribe", {"user": user, "channel": second})
        push = await stream.until(lambda p: p.HasField("subscribe"))
        assert push.channel == second and push.subscribe.recoverable and push.subscribe.positioned and push.subscribe.epoch
        assert "error" not in api_call(uni, "refresh", {"user": user, "expire_at": int(time.time()) + 600})
        push = await stream.until(lambda p: p.HasField("refresh"))
        assert push.refresh.expires and 590 <= push.refresh.ttl <= 600 and not push.channel


async def test_join_and_leave_pushes(uni, uni_pb, api_factory):
    """With join_leave and force_push_join_leave (the `chat` namespace) a uni_grpc connection gets
    Push{channel, join{info}} when another connection comes and Push{channel, leave{info}} when it
    is disconnected."""
    pb = uni_pb
    api = api_factory(uni)
    channel, other = unique("chat:jl"), unique("joiner")
    async with consume(uni, pb, pb.ConnectRequest(token=connection_token("watcher", channels=[channel]))) as watcher:
        await watcher.push()
        await watcher.until(lambda p: p.HasField("join") and p.join.info.user == "watcher")
        async with consume(uni, pb, pb.ConnectRequest(token=connection_token(other, channels=[channel]))) as joiner:
            connect = (await joiner.push()).connect
            join = await watcher.until(lambda p: p.HasField("join"))
            assert join.channel == channel and join.join.info.user == other and join.join.info.client == connect.client
            await api.disconnect(DisconnectRequest(user=other))
            leave = await watcher.until(lambda p: p.HasField("leave"))
            assert leave.channel == channel and leave.leave.info.user == other and leave.leave.info.client == connect.client


async def test_a_client_that_cancels_goes_away_at_once(uni, uni_pb, api_factory):
    """The client cancelling Consume (RST_STREAM) ends its connection right away — nothing else
    has to be written to it first: the channel's presence becomes empty and the other subscriber
    gets the leave push. Centrifugo v6.9.1 does both within milliseconds (its handler returns when
    the stream's context is done); the deadline here is 3 s, far below the 25 s ping."""
    pb = uni_pb
    api = api_factory(uni)
    channel, user = unique("chat:cancel"), unique("canceller")
    async with consume(uni, pb, pb.ConnectRequest(token=connection_token("stayer", channels=[channel]))) as stayer:
        await stayer.push()
        going = consume(uni, pb, pb.ConnectRequest(token=connection_token(user, channels=[channel])))
        await going.push()
        await wait_for(lambda: presence_users(uni, channel) == sorted(["stayer", user]), 3, "both present")
        await going.close()
        await wait_for(lambda: presence_users(uni, channel) == ["stayer"], 3, "the cancelled connection's presence gone")
        leave = await stayer.until(lambda p: p.HasField("leave"), timeout=3)
        assert leave.leave.info.user == user
        presence = await api.presence(PresenceRequest(channel=channel))
        assert [p.user for p in presence.presence.values()] == ["stayer"]


async def test_recovery_through_connect_subs(uni, uni_pb, api_factory):
    """Checklist 55 on uni_grpc: `subs` with recover/epoch/offset brings the missed publications in
    the connect push's SubscribeResult (`recovered`, `was_recovering`; `offset` is the position the
    client gave, as Centrifugo v6.9.1 sends it); a wrong epoch says was_recovering without recovered."""
    pb = uni_pb
    api = api_factory(uni)
    channel = unique("chat:unigrec")
    first = await api.publish(PublishRequest(channel=channel, data={"n": 1}))
    await api.publish(PublishRequest(channel=channel, data={"n": 2}))
    await api.publish(PublishRequest(channel=channel, data={"n": 3}))
    token = connection_token("rec", channels=[channel])
    request = pb.ConnectRequest(token=token, subs={channel: pb.SubscribeRequest(recover=True, epoch=first.epoch, offset=first.offset)})
    async with consume(uni, pb, request) as stream:
        sub = (await stream.push()).connect.subs[channel]
        assert sub.recovered and sub.was_recovering and sub.recoverable and sub.positioned
        assert sub.epoch == first.epoch and sub.offset == 1
        assert [(p.offset, json.loads(p.data)) for p in sub.publications] == [(2, {"n": 2}), (3, {"n": 3})]
    request = pb.ConnectRequest(token=token, subs={channel: pb.SubscribeRequest(recover=True, epoch="not-the-epoch", offset=1)})
    async with consume(uni, pb, request) as stream:
        sub = (await stream.push()).connect.subs[channel]
        assert sub.was_recovering and not sub.recovered and not sub.publications and sub.offset == 3


# ---------------------------------------------------------------------------------------------
# Bad requests
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("request_bytes", [b"\xff\xff\xff\xff", b"\x0a\x05ab"], ids=["garbage", "truncated"])
async def test_a_request_that_is_not_a_connect_request(uni, uni_pb, request_bytes):
    """Bytes that do not decode as a ConnectRequest end the call with Centrifugo's status: grpc-go's
    INTERNAL `grpc: failed to unmarshal the received message: …` (nothing is pushed); the server
    goes on serving."""
    async with consume(uni, uni_pb, request_bytes) as stream:
        end = await stream.next()
        assert isinstance(end, End), f"a Push for a request that is not a ConnectRequest: {end!r}"
        assert end.code == grpc.StatusCode.INTERNAL, end
        assert end.details.startswith("grpc: failed to unmarshal the received message"), end
    async with consume(uni, uni_pb, uni_pb.ConnectRequest(token=connection_token("after-garbage"))) as stream:
        assert (await stream.push()).HasField("connect")


async def test_a_request_above_max_receive_message_size(uni_factory, uni_pb):
    """uni_grpc.max_receive_message_size bounds the ConnectRequest: above it the call ends with
    RESOURCE_EXHAUSTED (grpc-go's `grpc: received message larger than max (N vs. 1000)` in
    Centrifugo v6.9.1); a request under it connects."""
    srv = uni_factory({"uni_grpc": {"max_receive_message_size": 1000}})
    big = uni_pb.ConnectRequest(token=connection_token("big"), data=b"x" * 2000)
    async with consume(srv, uni_pb, big) as stream:
        end = await stream.next()
        assert isinstance(end, End) and end.code == grpc.StatusCode.RESOURCE_EXHAUSTED, end
        assert f"({big.ByteSize()} vs. 1000)" in end.details, end
    async with consume(srv, uni_pb, uni_pb.ConnectRequest(token=connection_token("small"), data=b"{}")) as stream:
        assert (await stream.push()).HasField("connect")


# ---------------------------------------------------------------------------------------------
# Shutdown, metrics, configuration
# ---------------------------------------------------------------------------------------------


async def test_sigterm_sends_the_shutdown_disconnect_then_status_ok(uni_factory, uni_pb):
    srv = uni_factory()
    async with consume(srv, uni_pb, uni_pb.ConnectRequest(token=connection_token("shut"))) as stream:
        assert (await stream.push()).HasField("connect")
        srv.expected_exit = True
        srv.proc.send_signal(signal.SIGTERM)
        raw = await stream.raw(10)
        assert raw == uni_pb.Push(disconnect=uni_pb.Disconnect(code=3001, reason="shutdown")).SerializeToString()
        assert (await stream.end(10)).code == grpc.StatusCode.OK
    assert await asyncio.to_thread(srv.proc.wait, 10) == 0


async def test_metrics_carry_the_uni_grpc_transport(uni_factory, uni_pb, api_factory):
    """After one connection and one publication, the series with transport="uni_grpc" are those
    Centrifugo v6.9.1 shows: connections accepted/inflight and messages sent as `push_connect` and
    `push_publication` (nothing counted as received: a one-way connect request is not a command)."""
    srv = uni_factory({"prometheus": {"enabled": True}})
    api = api_factory(srv)
    channel = unique("nohist:metrics")
    async with consume(srv, uni_pb, uni_pb.ConnectRequest(token=connection_token("m", channels=[channel]))) as stream:
        await stream.push()
        await api.publish(PublishRequest(channel=channel, data={"n": 1}))
        await stream.until(lambda p: p.HasField("pub"))
        status, body = http_request(f"{srv.http_url}/metrics", method="GET")
        assert status == 200
    series = {}
    for line in body.decode().splitlines():
        if 'transport="uni_grpc"' in line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            series[name] = float(value)
    counts = {k: v for k, v in series.items() if "_size{" not in k}
    conn_labels = 'accept_protocol="",client_name="unnamed",client_version="unversioned",transport="uni_grpc"'
    assert counts == {
        f"centrifugo_client_connections_accepted{{{conn_labels}}}": 1,
        f"centrifugo_client_connections_inflight{{{conn_labels}}}": 1,
        'centrifugo_transport_messages_sent{channel_namespace="",frame_type="push_connect",transport="uni_grpc"}': 1,
        'centrifugo_transport_messages_sent{channel_namespace="",frame_type="push_publication",transport="uni_grpc"}': 1,
    }
    sizes = {k for k in series if "_size{" in k}
    assert sizes == {k.replace("messages_sent{", "messages_sent_size{") for k in counts if "messages_sent{" in k}


@pytest.mark.parametrize("config, message", [
    ({"uni_grpc": {"enabled": True, "port": 12001, "tls": {"enabled": True}}}, "uni_grpc.tls.enabled"),
    ({"uni_grpc": {"enabled": True, "port": 8000}}, "uni_grpc.port"),
    ({"grpc_api": {"enabled": True, "port": 12000}, "uni_grpc": {"enabled": True, "port": 12000}}, "uni_grpc.port"),
], ids=["tls", "http-port", "grpc-api-port"])
def test_uni_grpc_configs_that_cannot_work_are_refused(strata_bin, tmp_path, config, message):
    """checkconfig and a start both refuse, naming the key; the same port with uni_grpc off is fine
    (Strata refuses `tls.enabled` even with uni_grpc off, as it does for grpc_api: not checked here)."""
    (tmp_path / "config.json").write_text(json.dumps({"http_server": {"port": 8000}, **config}))
    check = subprocess.run([str(strata_bin), "checkconfig", "--config", "config.json"], capture_output=True, text=True,
                           timeout=30, cwd=tmp_path)
    assert check.returncode != 0 and message in check.stderr + check.stdout, check.stderr + check.stdout
    start = subprocess.run([str(strata_bin), "--config", "config.json"], capture_output=True, text=True, timeout=15,
                           cwd=tmp_path, stdin=subprocess.DEVNULL)
    assert start.returncode != 0 and message in start.stderr + start.stdout, start.stderr + start.stdout
    if "tls" in config["uni_grpc"]:
        return
    config["uni_grpc"]["enabled"] = False
    (tmp_path / "config.json").write_text(json.dumps({"http_server": {"port": 8000}, **config}))
    check = subprocess.run([str(strata_bin), "checkconfig", "--config", "config.json"], capture_output=True, text=True,
                           timeout=30, cwd=tmp_path)
    assert check.returncode == 0, check.stderr + check.stdout


async def test_command_line_flags_switch_uni_grpc_on(strata_bin, tmp_path, uni_pb):
    """Centrifugo's `--uni_grpc.enabled --uni_grpc.port P` (config spec §12)."""
    srv = StrataServer(strata_bin, build_config({"client": {"allow_anonymous_connect_without_token": True}}), tmp_path)
    srv.uni_port = free_port()
    srv.extra_args = ["--uni_grpc.enabled", "--uni_grpc.port", str(srv.uni_port)]
    srv.start()
    try:
        wait_port(srv.uni_port)
        async with consume(srv, uni_pb) as stream:
            push = await stream.push()
            assert push.connect.session and push.connect.ping == 25
    finally:
        srv.stop()
