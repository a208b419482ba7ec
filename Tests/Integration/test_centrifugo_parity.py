"""Behaviours pinned against the real Centrifugo v6.9.1 (issue 23).

Each test states what Centrifugo answers to the same frames or requests; `docs/compatibility.md`
lists where Strata deliberately answers otherwise, and `scripts/differential.py` replays such
exchanges against both servers.
"""

from __future__ import annotations

import asyncio

from cent import ChannelsRequest, PresenceRequest, PublishRequest

from itsupport import RawClient, connect_client, connection_token, unique


# --- Part A: authorization ------------------------------------------------------------------


async def test_refused_connect_leaves_nothing_logged_in(server, api):
    """A connect refused with 102 (its token's `subs` name an unknown namespace) leaves no user,
    subscription or presence behind: the channel set up before the failing one is left again,
    and later commands get no answer (Centrifugo stops reading; Strata closes with 3501)."""
    joined = unique("chat:a-first")
    token = connection_token("u-refused", subs={joined: {}, "nope:x": {}})
    async with RawClient(server.ws_url) as raw:
        rep = await raw.call("connect", {"token": token})
        assert rep == {"id": 1, "error": {"code": 102, "message": "unknown channel"}}
        later = unique("chat:later")
        await raw.send_commands(
            {"id": 2, "subscribe": {"channel": later}},
            {"id": 3, "presence_stats": {"channel": joined}},
        )
        code, reason = await raw.wait_closed(5)
        assert (code, reason) == (3501, "bad request")
        assert [m for m in raw.received if m.get("id") in (2, 3)] == []
    pres = await api.presence(PresenceRequest(channel=joined))
    assert pres.presence == {}
    chans = await api.channels(ChannelsRequest(pattern="chat:*"))
    assert joined not in chans.channels and later not in chans.channels


async def test_refresh_with_narrowed_grants_ends_the_connection_3010(server, api, client_factory):
    """A refresh token without the channel the connection token granted: Centrifugo closes with
    3010 and sends no refresh reply. centrifuge-python reconnects with the new token and no
    longer receives the channel (in `locked`, which clients may not subscribe to themselves:
    the reconnect lists it in `subs`, and only a grant could add it)."""
    granted = unique("locked:granted")
    narrowed = connection_token("u-narrow")
    calls: list[int] = []

    async def get_token() -> str:
        calls.append(1)
        return narrowed

    client, ev = client_factory(server, token=connection_token("u-narrow", ttl=2, channels=[granted]), get_token=get_token)
    await connect_client(client, ev)
    assert [c.channel for c in ev.of("on_subscribed")] == [granted], ev.summary()
    # The refresh at expiry ends the connection with 3010; the client reconnects without it.
    await ev.wait("on_connecting", lambda c: c.code == 3010, timeout=8)
    await ev.wait_count("on_connected", 2, timeout=8)
    assert calls, "the client refreshed through get_token"
    await api.publish(PublishRequest(channel=granted, data={"after": "narrowing"}))
    await asyncio.sleep(0.5)
    assert [c for c in ev.of("on_publication") if c.channel == granted] == [], ev.summary()
    assert len(ev.of("on_subscribed")) == 1, ev.summary()
    chans = await api.channels(ChannelsRequest(pattern=granted))
    assert chans.channels == {}


async def test_refresh_with_narrowed_grants_raw(server):
    """The same on the wire: no refresh reply, close 3010 `insufficient state`."""
    granted = unique("chat:granted")
    async with RawClient(server.ws_url) as raw:
        await raw.connect(connection_token("u-raw", channels=[granted]))
        await raw.send_commands({"id": 2, "refresh": {"token": connection_token("u-raw")}})
        code, reason = await raw.wait_closed(5)
        assert (code, reason) == (3010, "insufficient state")
        assert [m for m in raw.received if m.get("id") == 2] == []


async def test_refresh_with_the_same_grants_keeps_the_connection(server):
    granted = unique("chat:granted")
    async with RawClient(server.ws_url) as raw:
        await raw.connect(connection_token("u-same", channels=[granted]))
        rep = await raw.call("refresh", {"token": connection_token("u-same", subs={granted: {}})})
        assert rep["refresh"]["expires"] is True, rep
        assert await raw.stays_open(0.3)
