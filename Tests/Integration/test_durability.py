"""The embedded LMDB store (the default engine) across crashes and restarts.

- Every publication the server API acknowledged is in history with the same offset, epoch and
  payload after a `kill -9` taken while publishers were running (durability "sync").
- A centrifuge-python client that saw offset N before the kill recovers N+1… after the restart,
  in the same epoch, with no duplicate.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import threading
import time
import urllib.request

import pytest

from cent import Client as CentClient, HistoryRequest, PublishRequest

from itsupport import connect_client, connection_token, new_client, subscribe, unique

DURABLE = {
    "engine": {"type": "lmdb", "lmdb": {"durability": "sync"}},
    "channel": {"namespaces": [
        {"name": "crash", "history_size": 100000, "history_ttl": "3600s", "force_recovery": True,
         "allow_subscribe_for_client": True},
        {"name": "chat", "history_size": 100, "history_ttl": "300s", "force_recovery": True,
         "allow_subscribe_for_client": True, "allow_history_for_subscriber": True},
    ]},
}


def _publish(url: str, channel: str, data: dict) -> dict:
    req = urllib.request.Request(
        url, data=json.dumps({"channel": channel, "data": data}).encode(),
        headers={"X-API-Key": "api-key", "Content-Type": "application/json"}, method="POST",
    )
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.loads(resp.read())


def test_acknowledged_publications_survive_kill_minus_9(server_factory):
    srv = server_factory(DURABLE)
    url = f"{srv.api_url}/publish"
    channels = [f"crash:{i}" for i in range(4)]
    acked: list[tuple[str, int, str, int]] = []  # channel, offset, epoch, sequence
    lock = threading.Lock()
    stop = threading.Event()

    def publisher(worker: int) -> None:
        seq = 0
        while not stop.is_set():
            ch = channels[(worker + seq) % len(channels)]
            seq += 1
            tag = worker * 1_000_000 + seq
            try:
                res = _publish(url, ch, {"w": worker, "s": tag})
            except Exception:
                return  # the server is gone: unacknowledged, may or may not be stored
            result = res.get("result") or {}
            if "offset" in result:
                with lock:
                    acked.append((ch, result["offset"], result["epoch"], tag))

    threads = [threading.Thread(target=publisher, args=(w,), daemon=True) for w in range(8)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    srv.proc.send_signal(signal.SIGKILL)  # mid-flight
    srv.proc.wait(5)
    stop.set()
    for t in threads:
        t.join(5)
    assert len(acked) > 50, f"too few acknowledged publishes before the kill: {len(acked)}"

    srv.start()  # same working directory, same storage/data
    cent = CentClient(srv.api_url, "api-key")
    lost = []
    for ch in channels:
        hist = cent.history(HistoryRequest(channel=ch, limit=-1))
        stored = {p.offset: p.data for p in hist.publications}
        offsets = sorted(stored)
        # Offsets form one contiguous run from 1 under one epoch.
        assert offsets == list(range(1, len(offsets) + 1)), f"{ch}: offsets not contiguous"
        for (c, off, epoch, tag) in acked:
            if c != ch:
                continue
            assert epoch == hist.epoch, f"{ch}: epoch changed across the crash"
            if stored.get(off, {}).get("s") != tag:
                lost.append((c, off, tag))
    assert not lost, f"{len(lost)} acknowledged publications missing or different after kill -9: {lost[:5]}"


async def test_client_recovers_missed_publications_across_kill_minus_9(server_factory):
    srv = server_factory(DURABLE)
    channel = unique("chat:restart")
    cent = CentClient(srv.api_url, "api-key")
    client, events = new_client(srv.ws_url, token=connection_token("42"), max_reconnect_delay=0.5)
    try:
        await connect_client(client, events)
        sub, sev, ctx = await subscribe(client, channel)
        for i in range(3):
            cent.publish(PublishRequest(channel=channel, data={"n": i}))
        await sev.wait_count("on_publication", 3, timeout=5)
        epoch_before = sev.of("on_subscribed")[-1].stream_position.epoch

        port = srv.port
        srv.proc.send_signal(signal.SIGKILL)
        srv.proc.wait(5)
        srv.start(port=port)
        cent = CentClient(srv.api_url, "api-key")
        for i in range(3, 8):
            cent.publish(PublishRequest(channel=channel, data={"n": i}))

        resubscribed = await sev.wait("on_subscribed", lambda c: c.was_recovering, timeout=15)
        assert resubscribed.recovered, sev.summary()
        assert resubscribed.stream_position.epoch == epoch_before
        await sev.wait_count("on_publication", 8, timeout=10)
        assert sev.offsets() == list(range(1, 9)), sev.summary()
        assert [d["n"] for d in sev.datas()] == list(range(8))
    finally:
        await client.disconnect()


@pytest.mark.parametrize("engine", ["lmdb", "redis"])
async def test_an_idempotent_retry_after_kill_minus_9_gets_the_first_offset(server_factory, request, engine):
    """Issue 20, item 7: a backend publishes with an `idempotency_key`, Strata is killed with
    `kill -9` before the backend sees the answer, and the backend retries after the restart: it
    gets the original offset back and the channel holds one copy (LMDB and Redis keep the key
    with the stream for `engine.idempotent_result_ttl`)."""
    engine_config = dict(DURABLE["engine"])
    if engine == "redis":
        redis = request.getfixturevalue("redis_server")
        engine_config = {"type": "redis", "redis": {"address": redis.address, "prefix": unique("idem")}}
    srv = server_factory({**DURABLE, "engine": {**engine_config, "idempotent_result_ttl": "1h"}})
    channel = unique("chat:idem")
    cent = CentClient(srv.api_url, "api-key")
    first = cent.publish(PublishRequest(channel=channel, data={"order": 17}, idempotency_key="order-17"))
    other = cent.publish(PublishRequest(channel=channel, data={"order": 18}, idempotency_key="order-18"))
    port = srv.port
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait(5)
    srv.start(port=port)
    cent = CentClient(srv.api_url, "api-key")
    retry = cent.publish(PublishRequest(channel=channel, data={"order": 17}, idempotency_key="order-17"))
    assert (retry.offset, retry.epoch) == (first.offset, first.epoch)
    fresh = cent.publish(PublishRequest(channel=channel, data={"order": 19}, idempotency_key="order-19"))
    assert fresh.offset == other.offset + 1
    history = cent.history(HistoryRequest(channel=channel, limit=-1))
    assert [p.data for p in history.publications] == [{"order": 17}, {"order": 18}, {"order": 19}]
