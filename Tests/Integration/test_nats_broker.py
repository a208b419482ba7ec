"""broker.type "nats": delivery between Strata nodes over Debian's nats-server (started per test).
With the Redis engine, history and recovery stay in Redis, shared by every node; with the memory
or LMDB engine NATS carries PUB/SUB only, as in Centrifugo (docs/nats.md). Messages are
Centrifugo's, so a Centrifugo node on the same NATS hears Strata's publications and the other way
round (checked when CENTRIFUGO_BIN names a Centrifugo v6 binary)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
import urllib.request

import pytest
from cent import CentApiResponseError, HistoryRequest, PublishRequest

from conftest import NATSProcess, build_config, free_port, start_once
from itsupport import SubEvents, connect_client, subscribe, unique

pytestmark = pytest.mark.json_only  # the broker is the subject; one client protocol is enough


def nats_config(nats, redis=None, prefix: str = "it") -> dict:
    cfg: dict = {"broker": {"enabled": True, "type": "nats", "nats": {"url": nats.url, "prefix": prefix}}}
    if redis is not None:
        cfg["engine"] = {"type": "redis", "redis": {"address": redis.address, "prefix": "nr"}}
    else:
        cfg["engine"] = {"type": "memory"}
    return cfg


async def test_publications_cross_nodes_over_nats_and_recover_from_redis(
    server_factory, nats_server, redis_server, api_factory, client_factory
):
    """Redis engine, NATS broker: a publication through node A reaches node B's client over NATS
    (Redis's PUB/SUB carries nothing), with its offset; the client disconnects, misses two, and
    recovers them on reconnecting — from the stream in Redis."""
    node_a = server_factory(nats_config(nats_server, redis_server))
    node_b = server_factory(nats_config(nats_server, redis_server))
    client, ev = client_factory(node_b)
    await connect_client(client, ev)
    channel = unique("chat:nats")
    _, sev, first = await subscribe(client, channel)
    api_a = api_factory(node_a)
    await api_a.publish(PublishRequest(channel=channel, data={"n": 1}))
    got = await sev.wait("on_publication")
    assert got.pub.offset == 1 and got.pub.data == {"n": 1}
    assert redis_server.command("PUBSUB", "CHANNELS", "*").strip() == b"*0", "Redis PUB/SUB was used"

    await asyncio.wait_for(client.disconnect(), 5)
    for n in (2, 3):
        await api_a.publish(PublishRequest(channel=channel, data={"n": n}))
    await asyncio.wait_for(client.connect(), 5)
    again = await sev.wait_count("on_subscribed", 2, timeout=10)
    assert again[1].was_recovering and again[1].recovered, again[1]
    await sev.wait_count("on_publication", 3)
    assert sev.datas() == [{"n": 1}, {"n": 2}, {"n": 3}]
    history = await api_factory(node_b).history(HistoryRequest(channel=channel, limit=-1))
    assert [p.data["n"] for p in history.publications] == [1, 2, 3] and history.epoch == first.stream_position.epoch
    await asyncio.wait_for(client.disconnect(), 5)


async def test_a_nats_restart_sends_subscribers_to_recover_what_it_missed(
    server_factory, nats_server, redis_server, api_factory, client_factory
):
    """NATS killed: a publication is still accepted (it is in the stream in Redis) though no
    node hears of it; when NATS is back each node subscribes again and reports the gap, and B's
    client recovers the publication — none lost, none told recovered=false."""
    node_a = server_factory(nats_config(nats_server, redis_server))
    node_b = server_factory(nats_config(nats_server, redis_server))
    client, ev = client_factory(node_b)
    await connect_client(client, ev)
    channel = unique("chat:nats-restart")
    _, sev, _ = await subscribe(client, channel)
    api_a = api_factory(node_a)
    await api_a.publish(PublishRequest(channel=channel, data={"n": 1}))
    await sev.wait("on_publication")

    nats_server.kill()
    await api_a.publish(PublishRequest(channel=channel, data={"n": 2}))
    nats_server.start()
    again = await sev.wait_count("on_subscribed", 2, timeout=20)
    assert again[1].was_recovering and again[1].recovered, again[1]
    await sev.wait("on_publication", lambda c: c.pub.data == {"n": 2}, timeout=5)
    await api_a.publish(PublishRequest(channel=channel, data={"n": 3}))
    await sev.wait("on_publication", lambda c: c.pub.data == {"n": 3}, timeout=10)
    assert sev.datas() == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert "nats back: subscribers recover from history" in node_b.logs()
    await asyncio.wait_for(client.disconnect(), 5)


async def test_the_memory_engine_over_nats_is_pubsub_only(server_factory, nats_server, api_factory, client_factory):
    """Memory engine, NATS broker (Centrifugo's mode): publications cross nodes without a
    position; history is not available (108; Centrifugo answers the history API with 100, its
    internal error around the same 108) and subscribing with recovery is refused with 108, as in
    Centrifugo: a node's own stream could not know what the other nodes published."""
    node_a = server_factory(nats_config(nats_server))
    node_b = server_factory(nats_config(nats_server))
    client, ev = client_factory(node_b)
    await connect_client(client, ev)
    channel = unique("nohist")
    _, sev, _ = await subscribe(client, channel)
    result = await api_factory(node_a).publish(PublishRequest(channel=channel, data={"n": 1}))
    assert result.offset in (None, 0), result
    got = await sev.wait("on_publication")
    assert got.pub.data == {"n": 1} and not got.pub.offset
    with pytest.raises(CentApiResponseError) as refused:
        await api_factory(node_b).history(HistoryRequest(channel=unique("chat:h"), limit=-1))
    assert refused.value.code == 108, refused.value
    # Subscribing with recovery needs the stream: refused with 108, as Centrifugo does.
    recovering = SubEvents()
    sub = client.new_subscription(unique("chat:recover"), events=recovering)
    await asyncio.wait_for(sub.subscribe(), 5)
    gone = await recovering.wait("on_unsubscribed", timeout=5)
    assert gone.code == 108, gone
    await asyncio.wait_for(client.disconnect(), 5)


@pytest.mark.parametrize("channel", ["news.*", "news.>", "a b"])
async def test_channels_nats_cannot_carry_are_refused(server_factory, nats_server, api_factory, channel):
    """A NATS wildcard or whitespace in a channel would reach other channels' subscribers or
    break the protocol: 107 bad request, nothing sent."""
    node = server_factory(nats_config(nats_server))
    with pytest.raises(CentApiResponseError) as refused:
        await api_factory(node).publish(PublishRequest(channel=channel, data={"n": 1}))
    assert refused.value.code in (107, 102), refused.value


def test_nats_credentials_from_the_url(strata_bin, tmp_path_factory, server_factory):
    """nats-server with --user/--pass: the URL's credentials work; wrong ones stop the start,
    saying the server refused, without showing the password."""
    nats = NATSProcess(tmp_path_factory.mktemp("nats-auth"), ["--user", "app", "--pass", "s3cret"]).start()
    try:
        node = server_factory({"engine": {"type": "memory"},
                               "broker": {"enabled": True, "type": "nats", "nats": {"url": f"nats://app:s3cret@127.0.0.1:{nats.port}"}}})
        assert node.proc.poll() is None
        cfg = build_config({"engine": {"type": "memory"},
                            "broker": {"enabled": True, "type": "nats", "nats": {"url": f"nats://app:wrongpw@127.0.0.1:{nats.port}"}}})
        path = tmp_path_factory.mktemp("nats-bad") / "config.json"
        path.write_text(json.dumps(cfg))
        out = subprocess.run([str(strata_bin), "--config", str(path), "--port", str(free_port())], capture_output=True, text=True, timeout=30)
        text = out.stdout + out.stderr
        assert out.returncode != 0 and "Authorization Violation" in text and "wrongpw" not in text, text
    finally:
        nats.kill()


CENTRIFUGO_BIN = os.environ.get("CENTRIFUGO_BIN")


@pytest.mark.skipif(not CENTRIFUGO_BIN, reason="set CENTRIFUGO_BIN to a Centrifugo v6 binary")
async def test_strata_and_centrifugo_nodes_share_one_nats(server_factory, nats_server, api_factory, client_factory, tmp_path):
    """A Centrifugo v6 node and a Strata node on one NATS with the same prefix: a publication
    through either's API reaches a client of the other."""
    strata = server_factory(nats_config(nats_server, prefix="mixed"))
    port = free_port()
    cfg = build_config({"engine": {"type": "memory"},
                        "broker": {"enabled": True, "type": "nats", "nats": {"url": nats_server.url, "prefix": "mixed"}}})
    cfg.pop("log", None)
    (tmp_path / "centrifugo.json").write_text(json.dumps(cfg))
    proc = subprocess.Popen([CENTRIFUGO_BIN, "--config", str(tmp_path / "centrifugo.json"), "--http_server.port", str(port)],
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "centrifugo.log", "wb"))
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=0.5)
                break
            except OSError:
                time.sleep(0.05)

        class Peer:  # what client_factory and api_factory need of a server
            ws_url = f"ws://127.0.0.1:{port}/connection/websocket"
            api_url = f"http://127.0.0.1:{port}/api"

        channel = unique("nohist")
        on_centrifugo, ev_c = client_factory(Peer)
        await connect_client(on_centrifugo, ev_c)
        _, sev_c, _ = await subscribe(on_centrifugo, channel)
        on_strata, ev_s = client_factory(strata)
        await connect_client(on_strata, ev_s)
        _, sev_s, _ = await subscribe(on_strata, channel)

        await api_factory(strata).publish(PublishRequest(channel=channel, data={"from": "strata"}))
        await api_factory(Peer).publish(PublishRequest(channel=channel, data={"from": "centrifugo"}))
        for sev in (sev_c, sev_s):
            await sev.wait_count("on_publication", 2, timeout=5)
            assert sorted(d["from"] for d in sev.datas()) == ["centrifugo", "strata"]
        await asyncio.wait_for(on_centrifugo.disconnect(), 5)
        await asyncio.wait_for(on_strata.disconnect(), 5)
    finally:
        proc.kill()
        proc.wait(5)


async def test_nats_over_tls_with_client_certificates(strata_bin, tmp_path, tmp_path_factory, certs, server_factory, api_factory, client_factory):
    """nats-server with --tls and --tlsverify (client certificates from the test CA): two nodes
    with `broker.nats.tls` (CA and client certificate) deliver to each other — one through a
    tls:// URL, one through `tls.enabled`; a node without TLS settings, or without a client
    certificate, does not start and says why."""
    nats = NATSProcess(tmp_path_factory.mktemp("nats-tls"), [
        "--tls", "--tlscert", str(certs / "server.pem"), "--tlskey", str(certs / "server.key"),
        "--tlsverify", "--tlscacert", str(certs / "ca.pem")]).start()
    try:
        tls = {"server_ca_pem": str(certs / "ca.pem"), "cert_pem": str(certs / "client.pem"), "key_pem": str(certs / "client.key")}
        node_a = server_factory({"engine": {"type": "memory"}, "broker": {"enabled": True, "type": "nats", "nats": {
            "url": f"tls://127.0.0.1:{nats.port}", "tls": tls}}})
        node_b = server_factory({"engine": {"type": "memory"}, "broker": {"enabled": True, "type": "nats", "nats": {
            "url": nats.url, "tls": {"enabled": True, **tls}}}})
        client, ev = client_factory(node_b)
        await connect_client(client, ev)
        channel = unique("nohist")
        _, sev, _ = await subscribe(client, channel)
        await api_factory(node_a).publish(PublishRequest(channel=channel, data={"over": "tls"}))
        assert (await sev.wait("on_publication")).pub.data == {"over": "tls"}
        await asyncio.wait_for(client.disconnect(), 5)

        plain = start_once(strata_bin, tmp_path, {"engine": {"type": "memory"}, "broker": {"enabled": True, "type": "nats", "nats": {"url": nats.url}}})
        assert plain.returncode != 0 and "requires TLS" in plain.stdout + plain.stderr, plain
        no_cert = start_once(strata_bin, tmp_path, {"engine": {"type": "memory"}, "broker": {"enabled": True, "type": "nats", "nats": {
            "url": nats.url, "tls": {"enabled": True, "server_ca_pem": str(certs / "ca.pem")}}}})
        assert no_cert.returncode != 0, no_cert
        wrong_ca = start_once(strata_bin, tmp_path, {"engine": {"type": "memory"}, "broker": {"enabled": True, "type": "nats", "nats": {
            "url": nats.url, "tls": {"enabled": True, "server_ca_pem": str(certs / "client.pem")}}}})
        assert wrong_ca.returncode != 0 and "CERTIFICATE_VERIFY_FAILED" in wrong_ca.stdout + wrong_ca.stderr, wrong_ca
    finally:
        nats.kill()


def test_nats_with_an_unreachable_redis_stops_thestart_once(strata_bin, tmp_path, nats_server):
    """With NATS for delivery, Redis still holds history: an unreachable Redis stops the start
    with its address, as with the Redis broker, instead of failing the first publish."""
    out = start_once(strata_bin, tmp_path, {"engine": {"type": "redis", "redis": {"address": "redis://127.0.0.1:1", "connect_timeout": "300ms"}},
                                        "broker": {"enabled": True, "type": "nats", "nats": {"url": nats_server.url}}})
    assert out.returncode != 0 and "127.0.0.1:1" in out.stdout + out.stderr, out


async def test_delta_subscribers_on_another_node_get_deltas_over_nats(
    server_factory, nats_server, redis_server, api_factory, client_factory
):
    """Centrifugo's NATS messages carry no previous publication, so its delta subscribers on
    other nodes get every publication whole. Strata's receiving node takes the base from the one
    it heard last: centrifuge-python on node B, subscribed with fossil deltas, decodes every
    document published through node A, and all but the first arrive as deltas."""
    from centrifuge import DeltaType

    from test_delta import DELTA, match_states

    config = {**nats_config(nats_server, redis_server), **DELTA}
    node_a, node_b = server_factory(config), server_factory(config)
    client, ev = client_factory(node_b)
    await connect_client(client, ev)
    channel = unique("match:nats")
    _, sev, _ = await subscribe(client, channel, delta=DeltaType.FOSSIL)
    states = match_states(12)
    api_a = api_factory(node_a)
    for state in states:
        await api_a.publish(PublishRequest(channel=channel, data=state, delta=True))
    await sev.wait_count("on_publication", len(states), timeout=10)
    assert sev.datas() == states
    deltas = [c.pub.delta for c in sev.of("on_publication")]
    assert deltas[0] is False and all(deltas[1:]), deltas
    await asyncio.wait_for(client.disconnect(), 5)
