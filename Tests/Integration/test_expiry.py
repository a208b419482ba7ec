"""Subscription expiry (docs/protocol/client-protocol.md §8, end) over a raw WebSocket.

A subscription whose token `exp` passes is ended unless a `sub_refresh` with a fresh token
arrives by exp + client.expired_sub_close_delay: a client-side subscription gets an
`unsubscribe` push with code 2501 "subscription expired" (the connection stays). The checks run
whether or not server pings are enabled. With pings disabled the connection's own expiry
(3005 after exp + client.expired_close_delay) is enforced as well.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from itsupport import API_KEY, RawClient, connection_token, http_request, make_jwt, unique

SUB_GRACE = {"client": {"expired_sub_close_delay": "1s"}}
NO_PINGS = {"client": {"expired_sub_close_delay": "1s", "ping_interval": "-1"}}


def sub_token(channel: str, exp: int, user: str = "42") -> str:
    return make_jwt({"sub": user, "channel": channel, "exp": exp})


async def wait_push(raw: RawClient, pred, timeout: float) -> tuple[dict, float]:
    """Read until a push matching `pred` arrives; return it and its arrival time (time.time())."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    seen = len(raw.pushes)
    while True:
        for push in raw.pushes[seen:]:
            if pred(push):
                return push, time.time()
        seen = len(raw.pushes)
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise AssertionError(f"no matching push within {timeout}s; received {raw.received[-10:]}")
        try:
            await raw.recv_messages(timeout=remaining)
        except asyncio.TimeoutError:
            continue


def is_unsubscribe(channel: str):
    return lambda p: p.get("channel") == channel and "unsubscribe" in p


async def publish(server, channel: str, data: dict) -> None:
    body = json.dumps({"channel": channel, "data": data}).encode()
    status, answer = await asyncio.to_thread(
        http_request, f"{server.api_url}/publish", "POST", body, {"X-API-Key": API_KEY, "Content-Type": "application/json"}
    )
    assert status == 200 and b'"error"' not in answer, (status, answer)


@pytest.mark.parametrize("overrides", [SUB_GRACE, NO_PINGS], ids=["pings", "no-pings"])
async def test_unrefreshed_subscription_gets_unsubscribe_2501(server_factory, overrides):
    server = server_factory(overrides)
    channel = unique("$chat:exp")
    async with RawClient(server.ws_url) as raw:
        await raw.connect(connection_token("42"))
        exp = int(time.time()) + 2
        rep = await raw.call("subscribe", {"channel": channel, "token": sub_token(channel, exp)})
        result = rep.get("subscribe")
        assert result is not None, rep
        assert result.get("expires") is True and result.get("ttl") in (1, 2), result

        push, arrived = await wait_push(raw, is_unsubscribe(channel), timeout=6)
        assert push["unsubscribe"] == {"code": 2501, "reason": "subscription expired"}, push
        # Not before exp + expired_sub_close_delay (1 s); the server checks about once a second.
        assert arrived >= exp + 1 - 0.2, (arrived, exp)

        # The connection stays; the subscription is gone: publications no longer arrive and
        # sub_refresh is refused (103), but subscribing again with a new token works.
        await publish(server, channel, {"after": "expiry"})
        rep = await raw.call("sub_refresh", {"channel": channel, "token": sub_token(channel, int(time.time()) + 60)})
        assert rep.get("error", {}).get("code") == 103, rep
        assert not any("pub" in p for p in raw.pushes if p.get("channel") == channel), raw.pushes
        rep = await raw.call("subscribe", {"channel": channel, "token": sub_token(channel, int(time.time()) + 60)})
        assert "subscribe" in rep, rep
        await publish(server, channel, {"again": True})
        push, _ = await wait_push(raw, lambda p: p.get("channel") == channel and "pub" in p, timeout=5)
        assert push["pub"]["data"] == {"again": True}, push
        assert await raw.stays_open(0.3)


async def test_sub_refresh_in_time_keeps_the_subscription(server_factory):
    server = server_factory(SUB_GRACE)
    channel = unique("$chat:refresh")
    async with RawClient(server.ws_url) as raw:
        await raw.connect(connection_token("42"))
        exp = int(time.time()) + 2
        rep = await raw.call("subscribe", {"channel": channel, "token": sub_token(channel, exp)})
        assert rep.get("subscribe", {}).get("expires") is True, rep

        await asyncio.sleep(1)
        rep = await raw.call("sub_refresh", {"channel": channel, "token": sub_token(channel, int(time.time()) + 60)})
        refreshed = rep.get("sub_refresh")
        assert refreshed is not None, rep
        assert refreshed.get("expires") is True and 58 <= refreshed.get("ttl", 0) <= 60, refreshed

        # Stay well past the first token's exp + grace: no unsubscribe push, still subscribed.
        hold = exp + 1 + 2.5 - time.time()
        assert await raw.stays_open(hold), raw.received
        assert not any("unsubscribe" in p for p in raw.pushes), raw.pushes
        await publish(server, channel, {"still": "subscribed"})
        push, _ = await wait_push(raw, lambda p: p.get("channel") == channel and "pub" in p, timeout=5)
        assert push["pub"]["data"] == {"still": "subscribed"}, push


async def test_subscription_without_expiry_is_left_alone(server_factory):
    server = server_factory(SUB_GRACE)
    channel = unique("$chat:forever")
    async with RawClient(server.ws_url) as raw:
        await raw.connect(connection_token("42"))
        rep = await raw.call("subscribe", {"channel": channel, "token": make_jwt({"sub": "42", "channel": channel})})
        result = rep.get("subscribe")
        assert result is not None and "expires" not in result and "ttl" not in result, rep
        assert await raw.stays_open(2.5)
        assert not any("unsubscribe" in p for p in raw.pushes), raw.pushes


async def test_connection_expiry_is_enforced_without_pings(server_factory):
    server = server_factory({"client": {"ping_interval": "-1", "expired_close_delay": "1s"}})
    async with RawClient(server.ws_url) as raw:
        res = await raw.connect(connection_token("42", ttl=2))
        assert res.get("expires") is True and "ping" not in res, res
        started = time.time()
        code, reason = await raw.wait_closed(timeout=7)
    assert (code, reason) == (3005, "connection expired"), (code, reason, raw.received)
    assert time.time() - started >= 1.5, "closed before exp + expired_close_delay"
