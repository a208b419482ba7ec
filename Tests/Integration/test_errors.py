"""Error paths through the real clients.

centrifuge-python 0.7.0 surfaces a non-temporary subscribe error as the subscription's
on_unsubscribed(code=<server error code>, reason=<server message>) - there is no on_error for it -
and the subscription ends UNSUBSCRIBED (no retry). Command errors (publish/history/presence) raise
centrifuge.ReplyError(code, message, temporary). cent 5.2 maps HTTP 401 to CentUnauthorizedError,
any other non-200 status to CentTransportError and an `error` object in a 200 body to
CentApiResponseError(code, message).
"""

from __future__ import annotations

import asyncio
import json

import pytest
import requests

from cent import (
    AsyncClient,
    CentApiResponseError,
    CentUnauthorizedError,
    Client as CentSyncClient,
    HistoryRequest,
    PresenceRequest,
    PresenceStatsRequest,
    PublishRequest,
)
from centrifuge import ClientState, ReplyError, SubscriptionState

from itsupport import API_KEY, RawClient, SubEvents, connect_client, connection_token, http_request, subscribe, unique


# --- client protocol -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "channel, code, message",
    [
        ("nope:x", 102, "unknown channel"),
        ("locked:x", 103, "permission denied"),
    ],
)
async def test_subscribe_error_moves_subscription_to_unsubscribed(server, client_factory, channel, code, message):
    client, ev = client_factory(server)
    await connect_client(client, ev)
    sev = SubEvents()
    sub = client.new_subscription(channel, events=sev)
    await sub.subscribe()
    ctx = await sev.wait("on_unsubscribed", timeout=5)
    assert (ctx.code, ctx.reason) == (code, message), sev.summary()
    assert sub.state == SubscriptionState.UNSUBSCRIBED
    assert not sev.of("on_subscribed")
    # an error reply does not hurt the connection
    assert client.state == ClientState.CONNECTED
    _, ok_sev, _ = await subscribe(client, unique("chat:after-error"))
    assert ok_sev.of("on_subscribed")


async def test_client_publish_without_permission_is_103(server, client_factory):
    client, ev = client_factory(server)
    await connect_client(client, ev)

    # namespace nohist allows subscribing but no publishing at all
    _, _, _ = await subscribe(client, "nohist:" + unique("x"))
    with pytest.raises(ReplyError) as exc:
        await client.publish("nohist:" + unique("y"), {"a": 1})
    assert (exc.value.code, exc.value.message) == (103, "permission denied")

    # namespace chat allows publishing for subscribers only
    with pytest.raises(ReplyError) as exc:
        await client.publish(unique("chat:not-subscribed"), {"a": 1})
    assert exc.value.code == 103, exc.value

    # unknown namespace
    with pytest.raises(ReplyError) as exc:
        await client.publish("nope:x", {"a": 1})
    assert exc.value.code == 102, exc.value

    assert client.state == ClientState.CONNECTED


async def test_client_history_and_presence_not_available(server, client_factory):
    client, ev = client_factory(server)
    await connect_client(client, ev)
    channel = "nohist:" + unique("z")
    sub, _, _ = await subscribe(client, channel)
    # nohist has neither history nor presence; the checks come before permissions
    with pytest.raises(ReplyError) as exc:
        await sub.history(limit=10)
    assert exc.value.code == 108, exc.value
    with pytest.raises(ReplyError) as exc:
        await sub.presence()
    assert exc.value.code == 108, exc.value


async def test_raw_subscribe_twice_is_105(server):
    async with RawClient(server.ws_url) as raw:
        await raw.connect(connection_token("42"))
        channel = unique("chat:twice")
        first = await raw.call("subscribe", {"channel": channel})
        assert "subscribe" in first, first
        second = await raw.call("subscribe", {"channel": channel})
        assert second.get("error", {}).get("code") == 105, second
        assert second["error"].get("message") == "already subscribed", second


# --- server API ------------------------------------------------------------------------------


async def test_api_wrong_key_is_unauthorized(server, api_factory):
    bad = api_factory(server, key="wrong-key")
    with pytest.raises(CentUnauthorizedError):
        await bad.publish(PublishRequest(channel="chat:x", data={"a": 1}))

    session = requests.Session()
    session.trust_env = False
    try:
        sync_bad = CentSyncClient(server.api_url, "wrong-key", timeout=5.0, session=session)
        with pytest.raises(CentUnauthorizedError):
            await asyncio.to_thread(sync_bad.publish, PublishRequest(channel="chat:x", data={"a": 1}))
    finally:
        session.close()


async def test_api_auth_variants_over_plain_http(server):
    body = json.dumps({"channel": unique("chat:auth"), "data": {"a": 1}}).encode()
    url = f"{server.api_url}/publish"
    cases = {
        "no key": ({}, 401),
        "wrong X-API-Key": ({"X-API-Key": "nope"}, 401),
        "right X-API-Key": ({"X-API-Key": API_KEY}, 200),
        "Authorization apikey": ({"Authorization": f"apikey {API_KEY}"}, 200),
    }
    for name, (headers, want) in cases.items():
        status, _ = await asyncio.to_thread(http_request, url, "POST", body, headers)
        assert status == want, f"{name}: got HTTP {status}, want {want}"
    status, _ = await asyncio.to_thread(http_request, f"{url}?api_key={API_KEY}", "POST", body, {})
    assert status == 200, "api_key query parameter"


async def test_api_method_routing(server):
    # only POST; unknown method paths are 404 from the router
    status, _ = await asyncio.to_thread(http_request, f"{server.api_url}/publish", "GET", None, {"X-API-Key": API_KEY})
    assert status == 405
    status, _ = await asyncio.to_thread(
        http_request, f"{server.api_url}/no_such_method", "POST", b"{}", {"X-API-Key": API_KEY}
    )
    assert status == 404


async def test_api_publish_unknown_namespace_is_102(server, api):
    with pytest.raises(CentApiResponseError) as exc:
        await api.publish(PublishRequest(channel="nope:x", data={"a": 1}))
    assert exc.value.code == 102, exc.value
    assert exc.value.message == "unknown channel"


async def test_api_publish_empty_channel_is_107(server, api):
    with pytest.raises(CentApiResponseError) as exc:
        await api.publish(PublishRequest(channel="", data={"a": 1}))
    assert exc.value.code == 107, exc.value


async def test_api_history_presence_not_available_is_108(server, api):
    channel = "nohist:" + unique("x")
    with pytest.raises(CentApiResponseError) as exc:
        await api.history(HistoryRequest(channel=channel, limit=10))
    assert (exc.value.code, exc.value.message) == (108, "not available")
    with pytest.raises(CentApiResponseError) as exc:
        await api.presence(PresenceRequest(channel=channel))
    assert exc.value.code == 108, exc.value
    with pytest.raises(CentApiResponseError) as exc:
        await api.presence_stats(PresenceStatsRequest(channel=channel))
    assert exc.value.code == 108, exc.value


async def test_api_publish_without_history_has_no_offset(server, api, client_factory):
    client, ev = client_factory(server)
    await connect_client(client, ev)
    channel = "nohist:" + unique("live")
    _, sev, ctx = await subscribe(client, channel)
    assert ctx.recoverable is False and ctx.positioned is False and ctx.stream_position is None, ctx
    res = await api.publish(PublishRequest(channel=channel, data={"x": 1}))
    assert res.offset == 0 and res.epoch == "", res
    pub = (await sev.wait("on_publication")).pub
    assert pub.data == {"x": 1} and pub.offset == 0
