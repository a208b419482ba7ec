"""Presence, presence stats (server API and client) and join/leave pushes."""

from __future__ import annotations

import asyncio

import pytest

from cent import PresenceRequest, PresenceStatsRequest

from centrifuge import ReplyError

from itsupport import connect_client, subscribe, unique


async def _eventually(check, timeout: float = 3.0):
    """Retry an async check until it passes (presence removal may lag a leave by a moment)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            return await check()
        except AssertionError:
            if loop.time() >= deadline:
                raise
            await asyncio.sleep(0.05)


async def test_presence_stats_and_join_leave(server, api, client_factory):
    channel = unique("chat:presence")
    a, aev = client_factory(server, user="42")
    b, bev = client_factory(server, user="43")
    c, cev = client_factory(server, user="42")  # second connection of user 42
    for cl, ev in ((a, aev), (b, bev), (c, cev)):
        await connect_client(cl, ev)

    a_sub, a_sev, _ = await subscribe(a, channel)
    b_sub, _, _ = await subscribe(b, channel)
    c_sub, _, _ = await subscribe(c, channel)

    # A (force_push_join_leave) sees B and C join, with their ClientInfo
    join_b = await a_sev.wait("on_join", lambda j: j.info.client == b.client_id)
    assert join_b.info.user == "43"
    join_c = await a_sev.wait("on_join", lambda j: j.info.client == c.client_id)
    assert join_c.info.user == "42"

    expected = {a.client_id: "42", b.client_id: "43", c.client_id: "42"}

    # server API
    pres = await api.presence(PresenceRequest(channel=channel))
    assert {k: v.user for k, v in pres.presence.items()} == expected
    assert all(v.client == k for k, v in pres.presence.items())
    stats = await api.presence_stats(PresenceStatsRequest(channel=channel))
    assert (stats.num_clients, stats.num_users) == (3, 2)

    # client side (allow_presence_for_subscriber)
    cpres = await a_sub.presence()
    assert {k: v.user for k, v in cpres.clients.items()} == expected
    assert all(v.client == k for k, v in cpres.clients.items())
    cstats = await a_sub.presence_stats()
    assert (cstats.num_clients, cstats.num_users) == (3, 2)

    # B leaves: A gets a leave push and presence shrinks
    await b_sub.unsubscribe()
    leave = await a_sev.wait("on_leave", lambda lv: lv.info.client == b.client_id)
    assert leave.info.user == "43"

    async def shrunk():
        p = await api.presence(PresenceRequest(channel=channel))
        assert {k: v.user for k, v in p.presence.items()} == {a.client_id: "42", c.client_id: "42"}
        s = await api.presence_stats(PresenceStatsRequest(channel=channel))
        assert (s.num_clients, s.num_users) == (2, 1)

    await _eventually(shrunk)

    # C disconnects entirely: also a leave
    await c.disconnect()
    await a_sev.wait("on_leave", lambda lv: lv.info.client == c.client_id)

    async def only_a():
        s = await a_sub.presence_stats()
        assert (s.num_clients, s.num_users) == (1, 1)

    await _eventually(only_a)


async def test_presence_of_empty_channel(server, api):
    channel = unique("chat:nobody")
    pres = await api.presence(PresenceRequest(channel=channel))
    assert pres.presence == {}
    stats = await api.presence_stats(PresenceStatsRequest(channel=channel))
    assert (stats.num_clients, stats.num_users) == (0, 0)


async def test_client_presence_requires_subscription(server, client_factory):
    client, ev = client_factory(server)
    await connect_client(client, ev)
    with pytest.raises(ReplyError) as exc:
        await client.presence(unique("chat:notmine"))
    assert exc.value.code == 103, exc.value
