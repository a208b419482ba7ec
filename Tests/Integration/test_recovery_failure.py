"""Issue 20, item 8: a recovery that fails says why — in the subscribe result (`recovery_failure`,
a JSON key and Protobuf field 1001 that SDKs skip), in metrics and the log, and offline with
`strata history why`. centrifuge-python, which knows nothing of the field, carries on as before.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import urllib.request

from cent import PublishRequest

from itsupport import API_KEY, RawClient, connect_client, connection_token, subscribe, unique

NAMESPACES = {"channel": {"namespaces": [
    {"name": "short", "history_size": 5, "history_ttl": "300s", "force_recovery": True, "allow_subscribe_for_client": True},
    {"name": "long", "history_size": 100, "history_ttl": "300s", "force_recovery": True, "allow_subscribe_for_client": True},
]}, "client": {"recovery_max_publication_limit": 3}, "prometheus": {"enabled": True}}


async def test_sdks_carry_on_and_the_raw_reply_says_why(engine_factory, api_factory, client_factory):
    """centrifuge-python (the test's protocol) misses ten publications of a five-long history: it
    is told `recovered: false` as Centrifugo would and keeps receiving; a raw JSON client sees
    `recovery_failure` for trimmed history, a changed epoch and a gap over the recovery limit;
    each is counted in `strata_client_recovery_failures_total` and logged. On every engine."""
    srv = engine_factory(NAMESPACES)
    api = api_factory(srv)
    channel = unique("short:x")
    await api.publish(PublishRequest(channel=channel, data={"n": 0}))
    client, ev = client_factory(srv, user="u-sdk")
    await connect_client(client, ev)
    _, sev, first = await subscribe(client, channel)
    await asyncio.wait_for(client.disconnect(), 5)
    for n in range(1, 11):
        await api.publish(PublishRequest(channel=channel, data={"n": n}))
    await asyncio.wait_for(client.connect(), 10)
    again = (await sev.wait_count("on_subscribed", 2, timeout=5))[1]
    assert again.was_recovering and not again.recovered, again
    await api.publish(PublishRequest(channel=channel, data={"n": 11}))
    pub = await sev.wait("on_publication", timeout=5)
    assert pub.pub.data == {"n": 11}

    epoch = first.stream_position.epoch
    long = unique("long:x")
    for n in range(1, 6):
        await api.publish(PublishRequest(channel=long, data={"n": n}))
    async with RawClient(srv.ws_url) as raw:
        await raw.connect(connection_token("u-raw"))
        trimmed = await raw.call("subscribe", {"channel": channel, "recover": True, "offset": 1, "epoch": epoch})
        assert trimmed["subscribe"]["recovery_failure"] == "older_than_history", trimmed
        changed = await raw.call("subscribe", {"channel": unique("short:y"), "recover": True, "offset": 3, "epoch": "gone"})
        assert changed["subscribe"]["recovery_failure"] == "epoch_changed", changed
        long_epoch = (await raw.call("subscribe", {"channel": long}))["subscribe"]["epoch"]
        await raw.call("unsubscribe", {"channel": long})
        over = await raw.call("subscribe", {"channel": long, "recover": True, "offset": 1, "epoch": long_epoch})
        assert over["subscribe"]["recovery_failure"] == "too_many_missed", over
        # The reject-unrecovered flag (2): error 112 instead of a result, the reason still counted.
        rejected = await raw.call("subscribe", {"channel": unique("short:r"), "recover": True, "offset": 4, "epoch": "lost", "flag": 2})
        assert rejected["error"]["code"] == 112, rejected
        fine = await raw.call("subscribe", {"channel": unique("long:z"), "recover": True, "offset": 0, "epoch": ""})
        assert "recovery_failure" not in fine["subscribe"], fine

    with urllib.request.urlopen(f"{srv.http_url}/metrics", timeout=5) as resp:
        metrics = resp.read().decode()
    counts = {reason: 0.0 for reason in ("older_than_history", "epoch_changed", "too_many_missed")}
    for line in metrics.splitlines():
        for reason in counts:
            if line.startswith("strata_client_recovery_failures_total") and f'reason="{reason}"' in line:
                counts[reason] = float(line.split()[-1])
    # older_than_history: the SDK's resubscribe and the raw one; epoch_changed: the raw one and the
    # rejected one; too_many_missed: the raw one.
    assert counts == {"older_than_history": 2.0, "epoch_changed": 2.0, "too_many_missed": 1.0}, counts
    assert "subscription not recovered" in srv.logs()


def test_strata_history_why_answers_offline(server_factory, strata_bin):
    """`strata history why CHANNEL --offset N --epoch E` reads the same store with the same
    decision: recovered, or the reason in words (exit status 1)."""
    srv = server_factory(NAMESPACES)
    channel = unique("short:why")
    body = lambda n: json.dumps({"channel": channel, "data": {"n": n}}).encode()  # noqa: E731
    for n in range(1, 11):
        request = urllib.request.Request(f"{srv.api_url}/publish", data=body(n), headers={"X-API-Key": API_KEY})
        urllib.request.urlopen(request, timeout=5).read()
    request = urllib.request.Request(f"{srv.api_url}/history", data=json.dumps({"channel": channel}).encode(),
                                     headers={"X-API-Key": API_KEY})
    epoch = json.loads(urllib.request.urlopen(request, timeout=5).read())["result"]["epoch"]

    def why(offset: int, epoch: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(strata_bin), "history", "why", channel, "--offset", str(offset), "--epoch", epoch,
                               "--config", str(srv.config_path)], cwd=srv.workdir, capture_output=True, text=True, timeout=30)

    ok = why(8, epoch)
    assert ok.returncode == 0 and "recovered: 2 publication(s)" in ok.stdout, ok
    trimmed = why(2, epoch)
    assert trimmed.returncode == 1 and "not recovered: older_than_history" in trimmed.stdout, trimmed
    assert "newest offset 10, 5 retained" in trimmed.stdout, trimmed
    changed = why(8, "other")
    assert changed.returncode == 1 and "epoch_changed" in changed.stdout, changed
