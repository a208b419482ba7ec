"""Publication tags filters (`allow_tags_filter`, the subscribe `tf` tree) with centrifuge-python's
own filter builders, on both protocols: live publications that do not match never arrive,
recovery sends only matching ones, a cache channel's latest value is the newest matching one,
and a filter the namespace does not allow is refused with 107 — on every engine."""

from __future__ import annotations

import asyncio

from centrifuge import SubscriptionState
from centrifuge.filter import Filter
from cent import PublishRequest
from itsupport import SubEvents, connect_client, subscribe, unique

QUOTES = {"name": "quotes", "history_size": 50, "history_ttl": "300s", "force_recovery": True,
          "allow_tags_filter": True, "allow_subscribe_for_client": True}
PRICES = {"name": "prices", "history_size": 50, "history_ttl": "300s", "force_recovery": True,
          "force_recovery_mode": "cache", "auto_cache_recover": True, "allow_tags_filter": True,
          "allow_subscribe_for_client": True}
PLAIN = {"name": "plain", "allow_subscribe_for_client": True}
CONFIG = {"channel": {"namespaces": [QUOTES, PRICES, PLAIN]}}

AAPL_OVER_100 = Filter.all(Filter.eq("ticker", "AAPL"), Filter.gte("price", "100"))
QUOTES_SENT = [("AAPL", "99.5"), ("MSFT", "300"), ("AAPL", "100"), ("AAPL", "150.25"), ("GOOG", "120"), ("AAPL", "1e3")]


async def publish_quotes(api, channel: str, quotes=QUOTES_SENT) -> None:
    for n, (ticker, price) in enumerate(quotes):
        await api.publish(PublishRequest(channel=channel, data={"n": n, "ticker": ticker},
                                         tags={"ticker": ticker, "price": price}))


async def test_live_publications_are_filtered(engine_factory, api_factory, client_factory):
    srv = engine_factory(CONFIG)
    api = api_factory(srv)
    channel = unique("quotes:live")
    client, ev = client_factory(srv)
    await connect_client(client, ev)
    sub, sev, _ = await subscribe(client, channel, tags_filter=AAPL_OVER_100)
    await publish_quotes(api, channel)
    # Only "AAPL" at 100 and 150.25: 99.5 is below, "1e3" is not a decimal number.
    pubs = await sev.wait_count("on_publication", 2)
    await asyncio.sleep(0.3)
    assert [p.pub.data["n"] for p in sev.of("on_publication")] == [2, 3], sev.summary()
    assert [p.pub.offset for p in pubs] == [3, 4]
    # The skipped offsets are no gap: the subscription stays, and goes on.
    await api.publish(PublishRequest(channel=channel, data={"n": 9}, tags={"ticker": "AAPL", "price": "101"}))
    await sev.wait("on_publication", lambda c: c.pub.data["n"] == 9)
    assert sub.state == SubscriptionState.SUBSCRIBED
    assert not sev.of("on_unsubscribed") and not sev.of("on_subscribing")[1:], sev.summary()


async def test_recovery_sends_only_matching_publications(engine_factory, api_factory, client_factory):
    srv = engine_factory(CONFIG)
    api = api_factory(srv)
    channel = unique("quotes:rec")
    client, ev = client_factory(srv)
    await connect_client(client, ev)
    _, sev, _ = await subscribe(client, channel, tags_filter=Filter.eq("ticker", "AAPL"))
    await api.publish(PublishRequest(channel=channel, data={"n": -1}, tags={"ticker": "AAPL"}))
    await sev.wait("on_publication")
    await client.disconnect()
    await publish_quotes(api, channel)
    await connect_client(client, ev)
    ctx = await sev.wait("on_subscribed", lambda c: c.was_recovering)
    assert ctx.recovered, sev.summary()
    await sev.wait_count("on_publication", 1 + 4)
    await asyncio.sleep(0.3)
    assert [p.pub.data["n"] for p in sev.of("on_publication")] == [-1, 0, 2, 3, 5], sev.summary()


async def test_cache_channel_gives_the_newest_matching_value(engine_factory, api_factory, client_factory):
    srv = engine_factory(CONFIG)
    api = api_factory(srv)
    channel = unique("prices:board")
    await publish_quotes(api, channel, [("AAPL", "10"), ("MSFT", "20"), ("AAPL", "11"), ("MSFT", "21")])
    client, ev = client_factory(srv)
    await connect_client(client, ev)
    _, sev, ctx = await subscribe(client, channel, tags_filter=Filter.eq("ticker", "AAPL"))
    assert ctx.recovered, sev.summary()
    pub = await sev.wait("on_publication")
    assert pub.pub.data == {"n": 2, "ticker": "AAPL"}
    await asyncio.sleep(0.3)
    assert len(sev.of("on_publication")) == 1, sev.summary()


async def test_filter_not_allowed_is_refused_with_107(engine_factory, client_factory):
    srv = engine_factory(CONFIG)
    client, ev = client_factory(srv)
    await connect_client(client, ev)
    sev = SubEvents()
    sub = client.new_subscription(unique("plain:x"), events=sev, tags_filter=Filter.eq("ticker", "AAPL"))
    await sub.subscribe()
    ctx = await sev.wait("on_unsubscribed")
    assert ctx.code == 107, sev.summary()
    # The connection stays: a subscription without a filter works.
    await subscribe(client, unique("plain:y"))
    assert not ev.of("on_disconnected"), ev.summary()
