"""History: server API (cent HistoryRequest) and client-side history (Subscription.history)."""

from __future__ import annotations

import pytest

import cent
from cent import CentApiResponseError, HistoryRequest, PublishRequest
from centrifuge import ReplyError, StreamPosition

from itsupport import connect_client, subscribe, unique

N = 10


async def _publish_n(api, channel: str, n: int = N) -> str:
    epochs = set()
    for i in range(1, n + 1):
        res = await api.publish(PublishRequest(channel=channel, data={"i": i}))
        assert res.offset == i, res
        epochs.add(res.epoch)
    assert len(epochs) == 1 and next(iter(epochs)), epochs
    return epochs.pop()


def _offsets(pubs) -> list[int]:
    return [p.offset for p in pubs]


async def test_api_history_limit_since_reverse(server, api):
    channel = unique("chat:hist")
    epoch = await _publish_n(api, channel)

    async def history(**kw):
        return await api.history(HistoryRequest(channel=channel, **kw))

    # no limit => only the stream position
    res = await history()
    assert res.publications == [] and res.offset == N and res.epoch == epoch, res
    res = await history(limit=0)
    assert res.publications == [] and res.offset == N and res.epoch == epoch, res

    # -1 => everything, oldest first, data intact
    res = await history(limit=-1)
    assert _offsets(res.publications) == list(range(1, N + 1))
    assert [p.data for p in res.publications] == [{"i": i} for i in range(1, N + 1)]
    assert (res.offset, res.epoch) == (N, epoch)

    # limit without since: the OLDEST n going forward, the NEWEST n in reverse
    res = await history(limit=3)
    assert _offsets(res.publications) == [1, 2, 3]
    assert (res.offset, res.epoch) == (N, epoch)
    res = await history(limit=3, reverse=True)
    assert _offsets(res.publications) == [10, 9, 8]
    assert [p.data for p in res.publications] == [{"i": 10}, {"i": 9}, {"i": 8}]

    # since: forward = offsets > since.offset; reverse = offsets < since.offset, newest first
    pos = cent.StreamPosition(offset=5, epoch=epoch)
    res = await history(limit=100, since=pos)
    assert _offsets(res.publications) == [6, 7, 8, 9, 10]
    res = await history(limit=2, since=pos)
    assert _offsets(res.publications) == [6, 7]
    res = await history(limit=100, since=pos, reverse=True)
    assert _offsets(res.publications) == [4, 3, 2, 1]
    res = await history(limit=2, since=pos, reverse=True)
    assert _offsets(res.publications) == [4, 3]
    # since at the top => nothing newer
    res = await history(limit=100, since=cent.StreamPosition(offset=N, epoch=epoch))
    assert res.publications == [] and res.offset == N

    # since with an empty epoch skips the epoch check
    res = await history(limit=100, since=cent.StreamPosition(offset=8, epoch=""))
    assert _offsets(res.publications) == [9, 10]


async def test_api_history_epoch_mismatch_is_112(server, api):
    channel = unique("chat:hist")
    await _publish_n(api, channel, 3)
    with pytest.raises(CentApiResponseError) as exc:
        await api.history(
            HistoryRequest(channel=channel, limit=10, since=cent.StreamPosition(offset=1, epoch="not-the-epoch"))
        )
    assert exc.value.code == 112, exc.value


async def test_api_history_of_fresh_channel_creates_stream_meta(server, api):
    channel = unique("chat:empty")
    res = await api.history(HistoryRequest(channel=channel, limit=10))
    assert res.publications == [] and res.offset == 0
    assert res.epoch, "reading history of a new stream creates its epoch"
    # the next publish continues in that same epoch at offset 1
    pub = await api.publish(PublishRequest(channel=channel, data={"first": True}))
    assert (pub.offset, pub.epoch) == (1, res.epoch)


async def test_client_history(server, api, client_factory):
    client, ev = client_factory(server)
    await connect_client(client, ev)
    channel = unique("chat:clienthist")
    epoch = await _publish_n(api, channel)
    sub, _, sub_ctx = await subscribe(client, channel)
    assert sub_ctx.stream_position.offset == N and sub_ctx.stream_position.epoch == epoch, sub_ctx

    res = await sub.history(limit=0)
    assert res.publications == [] and res.offset == N and res.epoch == epoch, res

    res = await sub.history(limit=3)
    assert _offsets(res.publications) == [1, 2, 3]
    assert [p.data for p in res.publications] == [{"i": 1}, {"i": 2}, {"i": 3}]
    assert (res.offset, res.epoch) == (N, epoch)

    res = await sub.history(limit=2, reverse=True)
    assert _offsets(res.publications) == [10, 9]

    res = await sub.history(limit=10, since=StreamPosition(offset=7, epoch=epoch))
    assert _offsets(res.publications) == [8, 9, 10]

    res = await sub.history(limit=10, since=StreamPosition(offset=7, epoch=epoch), reverse=True)
    assert _offsets(res.publications) == [6, 5, 4, 3, 2, 1]

    with pytest.raises(ReplyError) as exc:
        await sub.history(limit=10, since=StreamPosition(offset=7, epoch="wrong-epoch"))
    assert exc.value.code == 112, exc.value

    # client-side history is capped at client.history_max_publication_limit (300), -1 included
    res = await sub.history(limit=-1)
    assert _offsets(res.publications) == list(range(1, N + 1))


async def test_client_history_requires_subscription(server, api, client_factory):
    """allow_history_for_subscriber only: history of a channel the client is not in => 103."""
    client, ev = client_factory(server)
    await connect_client(client, ev)
    channel = unique("chat:nothere")
    await _publish_n(api, channel, 2)
    with pytest.raises(ReplyError) as exc:
        await client.history(channel, limit=10)
    assert exc.value.code == 103, exc.value
