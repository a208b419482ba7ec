"""Client protocol features the rest of the suite reaches only through the raw JSON client, run
with centrifuge-python on both protocols (the `protocol` parameter: JSON and Protobuf): RPC,
connection refresh, subscription refresh, server-side subscriptions (token `channels` and the
server API's `subscribe` push), positioning."""

from __future__ import annotations

import asyncio
import time

from cent import PublishRequest, SubscribeRequest as APISubscribeRequest
from itsupport import connect_client, connection_token, make_jwt, subscribe, unique, SECRET

RPC = {"rpc": {"ping": {"enabled": True, "method": "ping"}}}


async def test_rpc_ping(server_factory, client_factory):
    srv = server_factory(RPC)
    client, ev = client_factory(srv)
    await connect_client(client, ev)
    result = await client.rpc("ping", {})
    assert result.data is None or result.data in (b"", {})


async def test_connection_refresh_with_get_token(server_factory, client_factory):
    """A token about to expire: the client asks for a new one and sends `refresh`; the
    connection stays up past the first token's expiry."""
    srv = server_factory({"client": {"expired_close_delay": "0s"}})
    calls = []

    async def get_token() -> str:
        calls.append(1)
        return connection_token("refresh-user", ttl=3600)

    client, ev = client_factory(srv, token=connection_token("refresh-user", ttl=3), get_token=get_token)
    await connect_client(client, ev)
    await asyncio.sleep(5)
    assert calls, "the client refreshed its token"
    assert not ev.of("on_disconnected"), ev.summary()


async def test_subscription_refresh(server_factory, client_factory):
    srv = server_factory({"channel": {"namespaces": [{"name": "priv", "history_size": 10, "history_ttl": "60s"}]},
                          "client": {"subscription_token": {"enabled": True, "hmac_secret_key": SECRET}}})
    channel = unique("priv:room")
    calls = []

    async def get_sub_token(_channel: str) -> str:
        calls.append(1)
        return make_jwt({"sub": "42", "channel": channel, "exp": int(time.time()) + (3 if len(calls) == 1 else 3600)})

    client, ev = client_factory(srv)
    await connect_client(client, ev)
    sub, sev, _ = await subscribe(client, channel, get_token=get_sub_token)
    await asyncio.sleep(5)
    assert len(calls) >= 2, "the subscription was refreshed"
    assert not sev.of("on_unsubscribed"), sev.summary()


async def test_server_side_subscriptions(server_factory, api_factory, client_factory):
    """Token `channels` are subscribed at connect; the API's `subscribe` adds one with a push;
    publications arrive on both."""
    srv = server_factory({})
    api = api_factory(srv)
    first, second = unique("chat:srv"), unique("chat:srv")
    client, ev = client_factory(srv, token=connection_token("srv-user", channels=[first]))
    await connect_client(client, ev)
    await ev.wait("on_subscribed", lambda c: c.channel == first)
    await api.subscribe(APISubscribeRequest(user="srv-user", channel=second))
    await ev.wait("on_subscribed", lambda c: c.channel == second)
    await api.publish(PublishRequest(channel=first, data={"n": 1}))
    await api.publish(PublishRequest(channel=second, data={"n": 2}))
    pubs = await ev.wait_count("on_publication", 2)
    assert sorted((p.channel, p.pub.data["n"]) for p in pubs) == sorted([(first, 1), (second, 2)])


async def test_positioned_subscription_gets_offsets(server_factory, api_factory, client_factory):
    srv = server_factory({"channel": {"namespaces": [{"name": "pos", "history_size": 10, "history_ttl": "60s",
                                                      "force_positioning": True, "allow_subscribe_for_client": True}]}})
    api = api_factory(srv)
    channel = unique("pos:x")
    client, ev = client_factory(srv)
    await connect_client(client, ev)
    _, sev, ctx = await subscribe(client, channel)
    assert ctx.stream_position is not None and ctx.stream_position.epoch
    for n in range(3):
        await api.publish(PublishRequest(channel=channel, data={"n": n}))
    pubs = await sev.wait_count("on_publication", 3)
    assert [p.pub.offset for p in pubs] == [1, 2, 3]
