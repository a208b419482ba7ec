"""The event proxies beyond connect (issue 17 item 1): subscribe, publish, refresh, sub_refresh
and named proxies, with emulated headers, connection meta and the proxy metrics. The backend is
a real aiohttp app on loopback (proxy_backend.py); centrifuge-python subscribes and publishes
through it (JSON and Protobuf), cent reads history, and a raw WebSocket shows the exact replies,
pushes and close codes. Faults: a backend that errors, answers 500 or garbage, or is too slow."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request

import pytest
from cent import HistoryRequest, PresenceRequest
from centrifuge import ReplyError

from itsupport import RawClient, connect_client, connection_token, make_jwt, new_client
from proxy_backend import Backend, backend, result  # noqa: F401 (backend is a fixture)


def chat_config(backend: Backend, **namespace) -> dict:
    """Namespace `chat` with history, presence and its proxies on the default objects; `billing`
    with a named subscribe proxy."""
    return {
        "client": {"expired_sub_close_delay": "100ms"},
        "channel": {
            "proxy": {
                "subscribe": {"endpoint": backend.url_for("subscribe"), "timeout": "500ms", "include_connection_meta": True},
                "publish": {"endpoint": backend.url_for("publish"), "timeout": "500ms"},
                "sub_refresh": {"endpoint": backend.url_for("sub_refresh"), "timeout": "500ms"},
            },
            "namespaces": [
                {"name": "chat", "history_size": 10, "history_ttl": "300s", "presence": True,
                 "allow_presence_for_subscriber": True, "allow_recovery": True, "allow_history_for_subscriber": True,
                 "subscribe_proxy_enabled": True, "publish_proxy_enabled": True, **namespace},
                {"name": "billing", "subscribe_proxy_enabled": True, "subscribe_proxy_name": "billing-api"},
            ],
        },
        "proxies": [{"name": "billing-api", "endpoint": backend.url_for("billing_subscribe"), "timeout": "500ms"}],
    }


def by_channel(answers: dict, default=lambda req: (200, "{}")):
    return lambda req: answers.get(req["channel"], default)(req)


async def test_the_backend_decides_subscriptions(server_factory, api_factory, backend, protocol):
    """centrifuge-python subscribes: the backend gets Centrifugo's request (user, channel, the
    subscription's data, the token's meta), and its info, data and presence override take
    effect; a subscription it refuses is the client's error; the named proxy answers billing."""
    backend.answers["subscribe"] = by_channel({
        "chat:ok": lambda req: result(info={"role": "mod"}, data={"welcome": req["data"]}, override={"presence": {"value": True}}),
        "chat:no": lambda req: (200, json.dumps({"error": {"code": 403, "message": "permission denied"}})),
    })
    backend.answers["billing_subscribe"] = lambda req: result(data={"from": "billing"})
    srv = server_factory(chat_config(backend))
    client, ev = new_client(srv.ws_url, token=connection_token("alice", meta={"tenant": "t1"}), protocol=protocol)
    try:
        await connect_client(client, ev)
        sub = client.new_subscription("chat:ok", ev, data={"hello": 1})
        await sub.subscribe()
        subscribed = await ev.wait("on_subscribed", timeout=5)
        assert subscribed.data == {"welcome": {"hello": 1}}
        presence = await api_factory(srv).presence(PresenceRequest(channel="chat:ok"))
        [info] = presence.presence.values()
        assert info.user == "alice" and info.chan_info == {"role": "mod"}
        billing = client.new_subscription("billing:1", ev)
        await billing.subscribe()
        assert (await ev.wait("on_subscribed", lambda c: c.channel == "billing:1", timeout=5)).data == {"from": "billing"}
    finally:
        await asyncio.wait_for(client.disconnect(), 5)
    request = backend.bodies("subscribe")[0]
    assert list(request) == ["client", "transport", "protocol", "encoding", "user", "channel", "meta", "data"]
    assert request["user"] == "alice" and request["channel"] == "chat:ok" and request["protocol"] == protocol
    assert request["meta"] == {"tenant": "t1"} and request["data"] == {"hello": 1}
    assert "meta" not in backend.bodies("billing_subscribe")[0]  # that proxy does not include it


async def test_subscribe_refusals_and_faults_reach_only_that_subscription(server_factory, backend):
    """Raw replies: the backend's error, a 500, garbage and a slow backend are errors for that
    subscribe (100 temporary for the faults); its disconnect closes the connection; an expiry in
    the past is 110; a private channel without a token is 103 without asking the backend."""
    backend.answers["subscribe"] = by_channel({
        "chat:error": lambda req: (200, json.dumps({"error": {"code": 1001, "message": "no", "temporary": True}})),
        "chat:500": lambda req: (500, "{}"),
        "chat:garbage": lambda req: (200, "<html>"),
        "chat:past": lambda req: result(expire_at=int(time.time()) - 10),
        "chat:slow": lambda req: result(),
        "chat:kick": lambda req: (200, json.dumps({"disconnect": {"code": 4501, "reason": "banned"}})),
    })
    backend.delays["subscribe"] = 0.0
    srv = server_factory(chat_config(backend))
    async with RawClient(srv.ws_url) as raw:
        await raw.connect(connection_token("bob"))
        expected = {"chat:error": {"code": 1001, "message": "no", "temporary": True},
                    "chat:500": {"code": 100, "message": "internal server error", "temporary": True},
                    "chat:garbage": {"code": 100, "message": "internal server error", "temporary": True},
                    "chat:past": {"code": 110, "message": "expired"},
                    "$chat:private": {"code": 103, "message": "permission denied"}}
        for channel, error in expected.items():
            reply = await raw.call("subscribe", {"channel": channel})
            assert reply.get("error") == error, (channel, reply)
        backend.delays["subscribe"] = 2.0
        began = time.monotonic()
        reply = await raw.call("subscribe", {"channel": "chat:slow"})
        assert reply["error"]["code"] == 100 and time.monotonic() - began < 1.5
        # The connection is fine: a subscribe the backend allows works.
        backend.delays["subscribe"] = 0.0
        assert "subscribe" in await raw.call("subscribe", {"channel": "chat:fine"})
        await raw.send_commands({"id": raw.next_id(), "subscribe": {"channel": "chat:kick"}})
        assert await raw.wait_closed() == (4501, "banned")
    assert "$chat:private" not in [b["channel"] for b in backend.bodies("subscribe")]


async def test_only_forced_options_apply_on_the_proxy_path(server_factory, backend):
    """As in Centrifugo, the client's `recoverable` and `positioned` flags are not honoured for a
    subscription the backend decided (allow_recovery is on); the backend's override can force it."""
    backend.answers["subscribe"] = by_channel({"chat:forced": lambda req: result(override={"force_recovery": {"value": True}})})
    srv = server_factory(chat_config(backend))
    async with RawClient(srv.ws_url) as raw:
        await raw.connect(connection_token("bob"))
        plain = await raw.call("subscribe", {"channel": "chat:asks", "recoverable": True, "positioned": True})
        assert "recoverable" not in plain["subscribe"] and "positioned" not in plain["subscribe"], plain
        forced = await raw.call("subscribe", {"channel": "chat:forced"})
        assert forced["subscribe"].get("recoverable") is True and forced["subscribe"].get("positioned") is True


async def test_the_backend_vets_and_rewrites_publications(server_factory, api_factory, backend, protocol):
    """centrifuge-python publishes into a namespace where clients may not publish on their own:
    the backend passes one as it is, replaces another's data and tags it, keeps a third out of
    history, and refuses a fourth with its own error; a subscriber gets exactly what was published."""

    def publish(req):
        text = req["data"]["text"]
        if text == "replace":
            return result(data={"text": "replaced"}, tags={"by": "backend"})
        if text == "ephemeral":
            return result(skip_history=True)
        if text == "refuse":
            return 200, json.dumps({"error": {"code": 1002, "message": "moderated"}})
        return 200, "{}"

    backend.answers["publish"] = publish
    srv = server_factory(chat_config(backend))
    client, ev = new_client(srv.ws_url, token=connection_token("carol"), protocol=protocol)
    try:
        await connect_client(client, ev)
        sub = client.new_subscription("chat:room", ev)
        await sub.subscribe()
        await ev.wait("on_subscribed", timeout=5)
        for text in ["as is", "replace", "ephemeral"]:
            await asyncio.wait_for(sub.publish({"text": text}), 5)
        with pytest.raises(ReplyError) as refused:
            await asyncio.wait_for(sub.publish({"text": "refuse"}), 5)
        assert refused.value.code == 1002 and refused.value.message == "moderated"
        await ev.wait_count("on_publication", 3, timeout=5)
        pubs = ev.of("on_publication")
        assert [p.pub.data for p in pubs] == [{"text": "as is"}, {"text": "replaced"}, {"text": "ephemeral"}]
        assert pubs[1].pub.tags == {"by": "backend"} and pubs[0].pub.info.user == "carol"
    finally:
        await asyncio.wait_for(client.disconnect(), 5)
    history = await api_factory(srv).history(HistoryRequest(channel="chat:room", limit=10))
    assert [p.data for p in history.publications] == [{"text": "as is"}, {"text": "replaced"}]
    request = backend.bodies("publish")[0]
    assert list(request) == ["client", "transport", "protocol", "encoding", "user", "channel", "data"]
    assert request["user"] == "carol" and request["data"] == {"text": "as is"}


async def test_a_publish_backend_that_fails_refuses_only_that_publication(server_factory, backend):
    backend.answers["publish"] = lambda req: (503, "") if req["data"].get("fail") else (200, "{}")
    srv = server_factory(chat_config(backend))
    async with RawClient(srv.ws_url) as raw:
        await raw.connect(connection_token("dave"))
        failed = await raw.call("publish", {"channel": "chat:x", "data": {"fail": True}})
        assert failed["error"] == {"code": 100, "message": "internal server error", "temporary": True}
        assert "publish" in await raw.call("publish", {"channel": "chat:x", "data": {"fail": False}})


async def test_subscriptions_are_refreshed_by_the_backend(server_factory, backend):
    """A subscription the backend made expire in a second: the reply does not tell the client
    (the server refreshes it); the sub_refresh proxy extends it once, then says it expired and
    the client gets the unsubscribe push 2501, the connection staying open."""
    backend.answers["subscribe"] = lambda req: result(expire_at=int(time.time()) + 1)
    answers = iter([lambda: result(expire_at=int(time.time()) + 2, info={"round": 2}), lambda: result(expired=True)])
    backend.answers["sub_refresh"] = lambda req: next(answers)()
    srv = server_factory(chat_config(backend, sub_refresh_proxy_enabled=True))
    async with RawClient(srv.ws_url) as raw:
        await raw.connect(connection_token("erin"))
        reply = await raw.call("subscribe", {"channel": "chat:lease"})
        assert "expires" not in reply["subscribe"] and "ttl" not in reply["subscribe"], reply
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 8
        while not raw.pushes and loop.time() < deadline:
            await raw.stays_open(0.2)
        assert raw.pushes[-1] == {"channel": "chat:lease", "unsubscribe": {"code": 2501, "reason": "subscription expired"}}
        assert await raw.stays_open(0.3)
    calls = backend.bodies("sub_refresh")
    assert len(calls) == 2 and calls[0]["channel"] == "chat:lease" and calls[0]["user"] == "erin"
    assert list(calls[0]) == ["client", "transport", "protocol", "encoding", "user", "channel"]


def refresh_config(backend: Backend) -> dict:
    return {"prometheus": {"enabled": True}, "client": {"proxy": {
        "connect": {"enabled": True, "endpoint": backend.url, "emulated_headers": ["Authorization"]},
        "refresh": {"enabled": True, "endpoint": backend.url_for("refresh"), "timeout": "500ms",
                    "include_connection_meta": True},
    }}}


async def test_connections_are_refreshed_by_the_backend(server_factory, backend):
    """The connect proxy gives a two-second connection and meta (it saw the emulated
    Authorization header, not the unlisted one); the connect reply has no expiry for the client;
    the refresh proxy gets user and meta, extends once with new meta, then answers expired: 3005."""
    backend.answer = lambda req: result(user="frank", expire_at=int(time.time()) + 2, meta={"plan": "free"})
    answers = iter([lambda: result(expire_at=int(time.time()) + 3, meta={"plan": "pro"}), lambda: result(expired=True)])
    backend.answers["refresh"] = lambda req: next(answers)()
    srv = server_factory(refresh_config(backend))
    async with RawClient(srv.ws_url) as raw:
        connected = await raw.connect("", headers={"Authorization": "Bearer abc", "X-Unlisted": "no"})
        assert "expires" not in connected and "ttl" not in connected, connected
        # The client may not refresh: the server does.
        began = time.monotonic()
        assert await raw.wait_closed(timeout=10) == (3005, "connection expired")
        assert time.monotonic() - began > 2.5
    _, headers = backend.requests[0]
    assert headers["Authorization"] == "Bearer abc" and "X-Unlisted" not in headers
    calls = backend.bodies("refresh")
    assert [c["meta"] for c in calls] == [{"plan": "free"}, {"plan": "pro"}]
    assert list(calls[0]) == ["client", "transport", "protocol", "encoding", "user", "meta"] and calls[0]["user"] == "frank"


async def test_a_failing_refresh_backend_does_not_end_connections(server_factory, backend):
    """A refresh proxy answering 500 keeps the connection (tried again in a minute); a client's
    own refresh command is refused with 3501 while the server refreshes."""
    backend.answer = lambda req: result(user="gina", expire_at=int(time.time()) + 1)
    backend.answers["refresh"] = lambda req: (500, "")
    srv = server_factory(refresh_config(backend))
    async with RawClient(srv.ws_url) as raw:
        await raw.connect("")
        assert await raw.stays_open(2.5)
        assert len(backend.bodies("refresh")) == 1
        await raw.send_commands({"id": raw.next_id(), "refresh": {"token": connection_token("gina")}})
        assert await raw.wait_closed() == (3501, "bad request")
    metrics = urllib.request.urlopen(f"{srv.http_url}/metrics", timeout=5).read().decode()
    assert 'centrifugo_proxy_errors{name="default",protocol="http",type="refresh"} 1' in metrics, metrics
    assert 'centrifugo_proxy_duration_seconds_count{name="default",protocol="http",type="connect"} 1' in metrics
    assert 'centrifugo_proxy_inflight_requests{name="default",protocol="http",type="refresh"} 0' in metrics
