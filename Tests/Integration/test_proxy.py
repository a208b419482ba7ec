"""The connect proxy (`client.proxy.connect`, issue 17 item 1): clients without a token are
authenticated by the application backend — a real aiohttp app on loopback, as a Django or Rails
backend would be — which answers with the user, its info and data, and server-side channels; or
with an error, a disconnect, a bad answer, a slow one or none. centrifuge-python connects through
it; a raw WebSocket shows the wire replies and sends the cookies a browser would."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from cent import PublishRequest
from websockets.asyncio.client import connect as ws_connect

from itsupport import connect_client, connection_token, new_client
from proxy_backend import Backend, backend  # noqa: F401 (backend is a fixture)


def proxy_config(backend: Backend, **proxy) -> dict:
    section = {"enabled": True, "endpoint": backend.url, "timeout": "1s", "http_headers": ["Cookie", "X-Real-Ip"],
               "http": {"static_headers": {"X-Static": "s", "X-Real-Ip": "static"}}, **proxy}
    return {"client": {"proxy": {"connect": section}},
            "channel": {"namespaces": [{"name": "news", "allow_subscribe_for_client": False}]}}


async def raw_connect(srv, headers: dict | None = None, data: dict | None = None, token: str = "") -> tuple[dict | None, tuple]:
    """One connect over a bare WebSocket: (the reply, or None) and (close code, reason) if closed."""
    async with ws_connect(srv.ws_url, additional_headers=headers or {}, proxy=None, open_timeout=5) as ws:
        command = {"id": 1, "connect": {"token": token, "name": "raw", **({"data": data} if data is not None else {})}}
        await ws.send(json.dumps(command))
        try:
            return json.loads((await asyncio.wait_for(ws.recv(), 5)).split("\n")[0]), ()
        except Exception:
            return None, (ws.close_code, ws.close_reason)


async def test_the_backend_decides_user_info_data_and_channels(server_factory, api_factory, backend, protocol):
    """centrifuge-python connects without a token: the backend gets Centrifugo's request and
    answers the user, info, data and a server-side channel; the client is connected as that
    user, gets the data, and receives what the API publishes into the channel."""
    backend.answer = lambda req: (200, json.dumps({"result": {
        "user": "56", "info": {"name": "Alex"}, "data": {"welcome": True}, "channels": ["news:sport"]}}))
    srv = server_factory(proxy_config(backend))
    client, ev = new_client(srv.ws_url, protocol=protocol, data={"from": "client"})
    try:
        await connect_client(client, ev)
        connected = ev.of("on_connected")[0]
        assert connected.data == {"welcome": True}
        await ev.wait("on_subscribed", timeout=5)  # the server-side subscription
        await api_factory(srv).publish(PublishRequest(channel="news:sport", data={"goal": 1}))  # cent
        pub = await ev.wait("on_publication", timeout=5)
        assert pub.channel == "news:sport"
    finally:
        await asyncio.wait_for(client.disconnect(), 5)
    request, _ = backend.requests[0]
    assert request["client"] == connected.client
    assert request["transport"] == "websocket" and request["protocol"] == protocol and request["encoding"] == "json"
    assert request["data"] == {"from": "client"}


async def test_the_request_carries_centrifugos_fields_and_the_forwarded_headers(server_factory, backend):
    srv = server_factory(proxy_config(backend))
    reply, _ = await raw_connect(srv, headers={"Cookie": "session=abc", "X-Real-Ip": "10.0.0.7", "X-Other": "no"}, data={"a": "<&>"})
    assert reply["connect"]["client"]
    request, headers = backend.requests[0]
    assert list(request) == ["client", "transport", "protocol", "encoding", "data", "name"]
    assert request["name"] == "raw" and request["data"] == {"a": "<&>"}
    assert headers["Cookie"] == "session=abc"
    assert headers["X-Real-Ip"] == "10.0.0.7"  # the connection's value over the static one
    assert headers["X-Static"] == "s" and "X-Other" not in headers
    assert headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("answer, expected", [
    ({"disconnect": {"code": 4501, "reason": "unauthorized"}}, ("closed", 4501, "unauthorized")),
    ({"error": {"code": 1000, "message": "custom error"}}, ("error", 1000, "custom error")),
    ({"result": {"user": "56", "expire_at": 1000}}, ("error", 110, "expired")),
    ({"result": {"user": 56}}, ("error", 100, "internal server error")),
    ({}, ("closed", 3501, "bad request")),
])
async def test_the_backends_answer_reaches_the_client(server_factory, backend, answer, expected):
    """Its disconnect closes the connection with its code; its error is the connect's error; an
    expiry in the past is 110; an ill-typed answer is 100; no result without anonymous
    connections allowed is 3501."""
    backend.answer = lambda req: (200, json.dumps(answer))
    srv = server_factory(proxy_config(backend))
    reply, closed = await raw_connect(srv)
    if expected[0] == "closed":
        assert closed == expected[1:], (reply, closed)
    else:
        assert reply["error"]["code"] == expected[1] and reply["error"]["message"] == expected[2], reply
    if expected[1] == 100:
        assert reply["error"].get("temporary") is True


async def test_failures_are_temporary_errors_and_statuses_can_be_transformed(server_factory, backend):
    """A 500, an answer that is not JSON and a stopped backend are error 100, temporary (the SDK
    retries); a 404 named in status_to_code_transforms closes the connection as configured."""
    srv = server_factory(proxy_config(backend, http={"status_to_code_transforms": [
        {"status_code": 404, "to_disconnect": {"code": 4504, "reason": "not found"}}]}))
    for status, text in [(500, "{}"), (200, "<html>")]:
        backend.answer = lambda req, status=status, text=text: (status, text)
        reply, _ = await raw_connect(srv)
        assert reply["error"] == {"code": 100, "message": "internal server error", "temporary": True}, reply
    backend.answer = lambda req: (404, "")
    _, closed = await raw_connect(srv)
    assert closed == (4504, "not found")
    await backend.stop()
    reply, _ = await raw_connect(srv)
    assert reply["error"]["code"] == 100


async def test_a_slow_backend_times_out_without_holding_other_connections(server_factory, backend):
    """The backend sleeps past the 300 ms timeout: that connect gets 100 after about the
    timeout, while a client with a token (no proxy call) connects at once meanwhile."""
    backend.delay = 2.0
    srv = server_factory(proxy_config(backend, timeout="300ms"))
    began = time.monotonic()
    slow = asyncio.create_task(raw_connect(srv))
    await asyncio.sleep(0.05)
    reply, _ = await raw_connect(srv, token=connection_token("fast"))
    assert reply["connect"]["client"] and time.monotonic() - began < 0.3
    slow_reply, _ = await slow
    assert slow_reply["error"]["code"] == 100
    assert 0.25 < time.monotonic() - began < 1.5
    assert len(backend.requests) == 1  # the token's connect never reached the backend


@pytest.mark.parametrize("proxy, message", [
    ({"endpoint": ""}, "client.proxy.connect.endpoint: endpoint not set"),
    ({"endpoint": "grpc://backend"}, "client.proxy.connect.endpoint: a gRPC endpoint is grpc://host:port or host:port"),
    ({"http": {"tls": {"enabled": True}}}, "client.proxy.connect.http.tls.enabled"),
    ({"http": {"status_to_code_transforms": [{"status_code": 404}]}}, "exactly one of to_error.code and to_disconnect.code"),
])
def test_unusable_proxy_configs_are_refused(strata_bin, tmp_path, proxy, message):
    section = {"enabled": True, "endpoint": "http://127.0.0.1:1/connect", **proxy}
    (tmp_path / "config.json").write_text(json.dumps({"client": {"proxy": {"connect": section}}}))
    import subprocess
    check = subprocess.run([str(strata_bin), "checkconfig", "--config", "config.json"], capture_output=True, text=True,
                           timeout=30, cwd=tmp_path)
    assert check.returncode != 0 and message in check.stderr + check.stdout, check.stderr + check.stdout


async def test_rpc_into_a_proxied_namespace_is_answered_by_the_backend(server_factory, backend, protocol):
    """centrifuge-python's rpc(): a method of a proxied namespace reaches the backend with the
    user, method and data, and gets its data back; its error comes back as the RPC's error; a
    method of a namespace not proxied is 108, of an unknown one 104."""
    seen = []

    def answer(req):
        seen.append(req)
        if req.get("method") == "billing:fail":
            return 200, json.dumps({"error": {"code": 1001, "message": "no funds"}})
        return 200, json.dumps({"result": {"data": {"echo": req.get("data"), "user": req["user"]}}})

    backend.answer = answer
    config = {"client": {"token": {"hmac_secret_key": "secret"}},
              # The test backend answers every POST on one path; the method tells RPCs apart.
              "rpc": {"proxy": {"endpoint": backend.url},
                      "namespaces": [{"name": "billing", "proxy_enabled": True}, {"name": "local", "proxy_enabled": False}]}}
    srv = server_factory(config)
    client, ev = new_client(srv.ws_url, token=connection_token("alice"), protocol=protocol)
    try:
        await connect_client(client, ev)
        result = await asyncio.wait_for(client.rpc("billing:price", {"item": 7}), 5)
        assert result.data == {"echo": {"item": 7}, "user": "alice"}
        from centrifuge import ReplyError
        for method, code in [("billing:fail", 1001), ("local:x", 108), ("nowhere:x", 104)]:
            with pytest.raises(ReplyError) as failure:
                await asyncio.wait_for(client.rpc(method, {}), 5)
            assert failure.value.code == code, (method, failure.value)
    finally:
        await asyncio.wait_for(client.disconnect(), 5)
    assert seen[0]["method"] == "billing:price" and seen[0]["user"] == "alice" and seen[0]["transport"] == "websocket"
    assert [r["method"] for r in seen] == ["billing:price", "billing:fail"]
