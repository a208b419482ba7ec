"""Publications: server API publish (cent) -> centrifuge-python subscriber, and client publish."""

from __future__ import annotations

import asyncio

from cent import Client as CentSyncClient, PublishRequest

from itsupport import API_KEY, connect_client, http_request, subscribe, unique

N_PUBS = 20


async def test_api_publications_arrive_in_order_with_consecutive_offsets(server, api, client_factory):
    client, ev = client_factory(server)
    await connect_client(client, ev)
    channel = unique("chat:room")
    _, sev, sub_ctx = await subscribe(client, channel)

    # namespace chat has force_recovery => recoverable + positioned; fresh stream => offset 0
    assert sub_ctx.recoverable is True and sub_ctx.positioned is True, sub_ctx
    assert sub_ctx.stream_position is not None
    assert sub_ctx.stream_position.offset == 0, sub_ctx
    epoch = sub_ctx.stream_position.epoch
    assert epoch, "a positioned subscription must get the stream epoch"

    results = []
    for i in range(N_PUBS):
        results.append(await api.publish(PublishRequest(channel=channel, data={"n": i, "text": f"msg {i}"})))

    await sev.wait_count("on_publication", N_PUBS, timeout=10)
    await asyncio.sleep(0.2)  # nothing extra may follow
    pubs = [c.pub for c in sev.of("on_publication")]
    assert len(pubs) == N_PUBS, sev.summary()
    assert [p.data for p in pubs] == [{"n": i, "text": f"msg {i}"} for i in range(N_PUBS)]
    assert [p.offset for p in pubs] == list(range(1, N_PUBS + 1))
    # server API publications carry no ClientInfo
    assert all(p.info is None for p in pubs)

    # PublishResult tells the same stream positions, in the subscriber's epoch
    assert [r.offset for r in results] == list(range(1, N_PUBS + 1))
    assert {r.epoch for r in results} == {epoch}


# More subscribers than two of the transport's drain turns (32 connections each), so a burst is
# written over several loop turns and later publications join queues not yet drained.
BURST_SUBSCRIBERS = 80
BURST = 40


async def test_burst_to_many_subscribers_arrives_whole_and_in_order(server, api, client_factory):
    """Publications that arrive while the server is still writing earlier ones to a large audience
    leave merged into frames (newline-joined JSON). Every real client still gets each publication
    once, in offset order, with its own data."""
    channel = unique("chat:burst")
    clients = [client_factory(server, user=f"b{i}") for i in range(BURST_SUBSCRIBERS)]
    await asyncio.gather(*(connect_client(c, ev) for c, ev in clients))
    subs = await asyncio.gather(*(subscribe(c, channel) for c, _ in clients))

    results = await asyncio.gather(*(api.publish(PublishRequest(channel=channel, data={"n": i})) for i in range(BURST)))
    offsets = [r.offset for r in results]
    assert sorted(offsets) == list(range(1, BURST + 1))
    n_at = {offset: n for n, offset in enumerate(offsets)}

    await asyncio.gather(*(sev.wait_count("on_publication", BURST, timeout=30) for _, sev, _ in subs))
    await asyncio.sleep(0.2)  # nothing extra may follow
    for _, sev, _ in subs:
        pubs = [c.pub for c in sev.of("on_publication")]
        assert [p.offset for p in pubs] == list(range(1, BURST + 1)), sev.summary()
        assert [p.data for p in pubs] == [{"n": n_at[o]} for o in range(1, BURST + 1)]
        assert not sev.of("on_unsubscribed"), sev.summary()


async def test_api_publish_tags_are_delivered(server, api, client_factory):
    client, ev = client_factory(server)
    await connect_client(client, ev)
    channel = unique("chat:tags")
    _, sev, _ = await subscribe(client, channel)
    await api.publish(PublishRequest(channel=channel, data={"t": 1}, tags={"kind": "note"}))
    ctx = await sev.wait("on_publication")
    assert ctx.pub.data == {"t": 1}
    assert ctx.pub.tags == {"kind": "note"}


async def test_sync_cent_client_publish(server, client_factory):
    """cent's synchronous Client (requests-based) against /api, run in a worker thread so the
    event loop keeps serving the subscriber."""
    import requests

    client, ev = client_factory(server)
    await connect_client(client, ev)
    channel = unique("chat:sync")
    _, sev, _ = await subscribe(client, channel)

    session = requests.Session()
    session.trust_env = False  # never route loopback through an environment proxy
    cent_client = CentSyncClient(server.api_url, API_KEY, timeout=5.0, session=session)
    try:
        result = await asyncio.to_thread(cent_client.publish, PublishRequest(channel=channel, data=["a", 1, None]))
    finally:
        session.close()
    assert result.offset == 1 and result.epoch
    ctx = await sev.wait("on_publication")
    assert ctx.pub.data == ["a", 1, None]
    assert ctx.pub.offset == 1


async def test_client_publish_as_subscriber_carries_client_info(server, client_factory):
    publisher, pev = client_factory(server, user="42")
    watcher, wev = client_factory(server, user="43")
    await connect_client(publisher, pev)
    await connect_client(watcher, wev)
    channel = unique("chat:clientpub")
    psub, _, _ = await subscribe(publisher, channel)
    _, wsev, _ = await subscribe(watcher, channel)

    await psub.publish({"hello": "world"})  # allow_publish_for_subscriber in namespace chat

    ctx = await wsev.wait("on_publication")
    assert ctx.pub.data == {"hello": "world"}
    assert ctx.pub.offset == 1
    assert ctx.pub.info is not None, "client-side publications carry ClientInfo"
    assert ctx.pub.info.user == "42"
    assert ctx.pub.info.client == publisher.client_id


async def test_api_batch_answers_each_command_in_order(server, api, client_factory):
    """cent's batch: every command answered in order, a failing one with its error, the rest applied."""
    import json

    from cent import BatchRequest

    client, ev = client_factory(server)
    await connect_client(client, ev)
    channel = unique("chat:batch")
    _, sev, _ = await subscribe(client, channel)

    result = await api.batch(BatchRequest(requests=[
        PublishRequest(channel=channel, data={"n": 1}),
        PublishRequest(channel=channel, data={"n": 2}),
    ]))
    assert [r.offset for r in result.replies] == [1, 2], result
    await sev.wait_count("on_publication", 2, timeout=5)
    assert [c.pub.data for c in sev.of("on_publication")] == [{"n": 1}, {"n": 2}]

    # Raw: an unknown namespace and an unknown method fail alone, in their place.
    body = json.dumps({"commands": [
        {"publish": {"channel": "nosuchns:x", "data": {}}},
        {"nosuch": {}},
        {"publish": {"channel": channel, "data": {"n": 3}}},
    ]}).encode()
    status, raw = await asyncio.to_thread(http_request, f"{server.api_url}/batch", "POST", body, {"X-API-Key": API_KEY})
    assert status == 200
    replies = json.loads(raw)["replies"]
    assert replies[0] == {"error": {"code": 102, "message": "unknown channel"}}, replies
    assert replies[1]["error"]["code"] == 104, replies
    assert replies[2]["publish"]["offset"] == 3, replies
