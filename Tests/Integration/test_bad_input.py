"""Protocol abuse over a raw WebSocket (the `websockets` library centrifuge-python itself uses).

Every test ends by checking that a fresh, well-behaved centrifuge-python client can still
connect, subscribe and receive a publication on the same server.

Invalid UTF-8: for a *text* frame the test accepts close code 3501 or 1007. RFC 6455 §8.1 says an
endpoint that finds invalid UTF-8 in a text message must fail the connection (1007 "invalid
frame payload data" is the matching status), while Centrifugo itself (gorilla/websocket does not
validate UTF-8) hands the bytes to its JSON decoder, which fails => 3501 "bad request". Both are
correct behaviour for a Centrifugo-compatible server, and clients do not depend on the
difference. For a *binary* frame RFC 6455 has no UTF-8 rule, so only the protocol-level 3501
(the payload is not a JSON command) is accepted.
"""

from __future__ import annotations

import pytest

from centrifuge import SubscriptionState

from itsupport import RawClient, SubEvents, assert_server_serves, connect_client, connection_token, unique


async def _closed_with(raw: RawClient, expected, timeout: float = 5.0) -> tuple[int, str]:
    code, reason = await raw.wait_closed(timeout)
    allowed = expected if isinstance(expected, (set, tuple, list)) else {expected}
    assert code in allowed, f"close code {code} ({reason!r}), expected one of {sorted(allowed)}"
    if code == 3501:
        assert reason == "bad request", reason
    return code, reason


async def test_malformed_json_before_connect(server):
    async with RawClient(server.ws_url) as raw:
        await raw.send_raw('{"id":1,"connect":{"token":')
        await _closed_with(raw, 3501)
    await assert_server_serves(server.ws_url, server.api_url)


async def test_malformed_json_after_connect(server):
    async with RawClient(server.ws_url) as raw:
        await raw.connect(connection_token("42"))
        await raw.send_raw("{this is not json}")
        await _closed_with(raw, 3501)
    await assert_server_serves(server.ws_url, server.api_url)


async def test_unknown_command_object(server):
    async with RawClient(server.ws_url) as raw:
        await raw.send_raw('{"id":1,"foo":{}}')
        await _closed_with(raw, 3501)
    await assert_server_serves(server.ws_url, server.api_url)


async def test_unknown_command_object_after_connect(server):
    async with RawClient(server.ws_url) as raw:
        await raw.connect(connection_token("42"))
        await raw.send_commands({"id": raw.next_id(), "foo": {}})
        await _closed_with(raw, 3501)
    await assert_server_serves(server.ws_url, server.api_url)


async def test_command_before_connect(server):
    async with RawClient(server.ws_url) as raw:
        await raw.send_commands({"id": 1, "subscribe": {"channel": unique("chat:early")}})
        await _closed_with(raw, 3501)
    await assert_server_serves(server.ws_url, server.api_url)


async def test_empty_frame(server):
    async with RawClient(server.ws_url) as raw:
        await raw.connect(connection_token("42"))
        await raw.send_raw("")
        await _closed_with(raw, 3501)
    await assert_server_serves(server.ws_url, server.api_url)


async def test_second_connect_on_same_connection(server):
    async with RawClient(server.ws_url) as raw:
        await raw.connect(connection_token("42"))
        await raw.send_commands({"id": raw.next_id(), "connect": {"token": connection_token("42")}})
        await _closed_with(raw, 3501)
    await assert_server_serves(server.ws_url, server.api_url)


async def test_unsolicited_pong(server):
    """A pong ({} command) when no ping is outstanding (default ping interval is 25 s)."""
    async with RawClient(server.ws_url) as raw:
        await raw.connect(connection_token("42"))
        await raw.send_raw("{}")
        await _closed_with(raw, 3501)
    await assert_server_serves(server.ws_url, server.api_url)


async def test_invalid_utf8_text_frame(server):
    async with RawClient(server.ws_url) as raw:
        await raw.connect(connection_token("42"))
        await raw.send_raw(b"\xff\xfe\xfd\xc3\x28", text=True)
        await _closed_with(raw, {3501, 1007})
    await assert_server_serves(server.ws_url, server.api_url)


async def test_invalid_utf8_binary_frame(server):
    async with RawClient(server.ws_url) as raw:
        await raw.connect(connection_token("42"))
        await raw.send_raw(b"\xff\xfe\xfd\xc3\x28", text=False)
        await _closed_with(raw, 3501)
    await assert_server_serves(server.ws_url, server.api_url)


async def test_frame_over_message_size_limit_closes_1009(server_factory):
    srv = server_factory({"websocket": {"message_size_limit": 1024}})
    async with RawClient(srv.ws_url) as raw:
        await raw.connect(connection_token("42"))
        channel = unique("chat:big")
        rep = await raw.call("subscribe", {"channel": channel})
        assert "subscribe" in rep, rep
        # just under the limit is fine
        small = {"id": raw.next_id(), "publish": {"channel": channel, "data": {"pad": "x" * 850}}}
        await raw.send_commands(small)
        rep = await raw.reply(small["id"])
        assert rep.get("publish") == {}, rep
        # over the limit: transport-level close 1009 "message too big"
        big = {"id": raw.next_id(), "publish": {"channel": channel, "data": {"pad": "x" * 2000}}}
        await raw.send_commands(big)
        code, _ = await raw.wait_closed(5)
        assert code == 1009, code
    await assert_server_serves(srv.ws_url, srv.api_url)


@pytest.mark.parametrize(
    "channel",
    [
        pytest.param("chat:" + "a" * 295, id="300-chars"),
        pytest.param("a" * 300, id="300-chars-no-namespace"),
        pytest.param("chat:caf\u00e9", id="non-ascii"),
    ],
)
async def test_bad_channel_name_is_107_and_connection_survives(server, channel):
    async with RawClient(server.ws_url) as raw:
        await raw.connect(connection_token("42"))
        rep = await raw.call("subscribe", {"channel": channel})
        assert rep.get("error", {}).get("code") == 107, rep
        assert rep["error"].get("message") == "bad request", rep
        # an error reply is not a disconnect: the same connection keeps working
        ok = await raw.call("subscribe", {"channel": unique("chat:fine")})
        assert "subscribe" in ok, ok
    await assert_server_serves(server.ws_url, server.api_url)


async def test_oversized_channel_name_via_client(server, client_factory):
    client, ev = client_factory(server)
    await connect_client(client, ev)
    sev = SubEvents()
    sub = client.new_subscription("chat:" + "b" * 295, events=sev)
    await sub.subscribe()
    ctx = await sev.wait("on_unsubscribed")
    assert (ctx.code, ctx.reason) == (107, "bad request"), sev.summary()
    assert sub.state == SubscriptionState.UNSUBSCRIBED
