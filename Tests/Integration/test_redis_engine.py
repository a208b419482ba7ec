"""engine.type "redis": several Strata nodes on one real redis-server (started per test by the
`redis_server` fixture, no persistence). A publication through any node reaches subscribers on
every node, history and presence are shared, recovery works on whichever node a client comes
back to, and a Redis restart moves subscribers to recover instead of leaving them silently behind."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time

import pytest
from cent import CentApiResponseError, HistoryRequest, PresenceRequest, PublishRequest

from conftest import RedisProcess, build_config, free_port, start_once
from itsupport import RawClient, connect_client, connection_token, subscribe, unique


def redis_config(redis, **extra) -> dict:
    cfg = {"engine": {"type": "redis", "redis": {"address": redis.address, "prefix": "it"}}}
    cfg.update(extra)
    return cfg


@pytest.fixture
def two_nodes(server_factory, redis_server):
    return server_factory(redis_config(redis_server)), server_factory(redis_config(redis_server))


async def test_publish_on_node_a_reaches_client_on_node_b_which_recovers_there(two_nodes, api_factory, client_factory):
    node_a, node_b = two_nodes
    api_a = api_factory(node_a)
    client, ev = client_factory(node_b)
    await connect_client(client, ev)
    channel = unique("chat:multi")
    sub, sev, first = await subscribe(client, channel)
    assert first.recoverable is True, first
    epoch = first.stream_position.epoch

    for i in range(1, 4):
        await api_a.publish(PublishRequest(channel=channel, data={"n": i}))
    await sev.wait_count("on_publication", 3)
    assert sev.offsets() == [1, 2, 3]
    assert sev.datas() == [{"n": 1}, {"n": 2}, {"n": 3}]

    await asyncio.wait_for(client.disconnect(), 5)
    for i in range(4, 9):
        await api_a.publish(PublishRequest(channel=channel, data={"n": i}))

    await asyncio.wait_for(client.connect(), 10)
    ctx = (await sev.wait_count("on_subscribed", 2, timeout=5))[1]
    assert ctx.was_recovering is True and ctx.recovered is True, ctx
    assert ctx.stream_position.epoch == epoch, ctx
    await sev.wait_count("on_publication", 8, timeout=5)
    await asyncio.sleep(0.3)  # nothing duplicated trickling in
    assert sev.offsets() == list(range(1, 9)), sev.offsets()
    assert sev.datas() == [{"n": i} for i in range(1, 9)]

    # live delivery from node A continues
    await api_a.publish(PublishRequest(channel=channel, data={"n": 9}))
    await sev.wait_count("on_publication", 9)
    assert sev.offsets() == list(range(1, 10))


async def test_client_recovers_on_the_other_node(two_nodes, api_factory, client_factory):
    """A client that was on node A comes back on node B with the position it had."""
    node_a, node_b = two_nodes
    api_b = api_factory(node_b)
    client, ev = client_factory(node_a)
    await connect_client(client, ev)
    channel = unique("chat:move")
    _, sev, first = await subscribe(client, channel)
    await api_b.publish(PublishRequest(channel=channel, data={"n": 1}))
    await sev.wait("on_publication")
    await asyncio.wait_for(client.disconnect(), 5)
    for i in range(2, 6):
        await api_b.publish(PublishRequest(channel=channel, data={"n": i}))

    async with RawClient(node_b.ws_url) as raw:
        await raw.connect(connection_token("42"))
        rep = await raw.call("subscribe", {"channel": channel, "recover": True, "offset": 1, "epoch": first.stream_position.epoch})
        res = rep["subscribe"]
        assert res.get("recovered") is True and res.get("was_recovering") is True, res
        assert [p["offset"] for p in res["publications"]] == [2, 3, 4, 5], res
        assert [p["data"] for p in res["publications"]] == [{"n": i} for i in range(2, 6)]


async def test_history_and_presence_are_shared(two_nodes, api_factory, client_factory):
    node_a, node_b = two_nodes
    api_a, api_b = api_factory(node_a), api_factory(node_b)
    channel = unique("chat:shared")
    c1, e1 = client_factory(node_a, user="alice")
    c2, e2 = client_factory(node_b, user="bob")
    await connect_client(c1, e1)
    await connect_client(c2, e2)
    await subscribe(c1, channel)
    await subscribe(c2, channel)
    presence = await api_a.presence(PresenceRequest(channel=channel))
    assert sorted(info.user for info in presence.presence.values()) == ["alice", "bob"]

    for i in range(1, 6):
        await api_a.publish(PublishRequest(channel=channel, data={"n": i}))
    hist = await api_b.history(HistoryRequest(channel=channel, limit=10))
    assert [p.offset for p in hist.publications] == [1, 2, 3, 4, 5]
    assert [p.data for p in hist.publications] == [{"n": i} for i in range(1, 6)]

    await asyncio.wait_for(c2.disconnect(), 5)
    await asyncio.sleep(0.2)
    presence = await api_a.presence(PresenceRequest(channel=channel))
    assert [info.user for info in presence.presence.values()] == ["alice"]


async def test_join_and_leave_cross_nodes(two_nodes, client_factory):
    node_a, node_b = two_nodes
    channel = unique("chat:joins")
    watcher, wev = client_factory(node_a, user="watcher")
    await connect_client(watcher, wev)
    _, sev, _ = await subscribe(watcher, channel)
    other, oev = client_factory(node_b, user="visitor")
    await connect_client(other, oev)
    await subscribe(other, channel)
    join = await sev.wait("on_join", lambda c: c.info.user == "visitor")
    assert join.info.user == "visitor"
    await asyncio.wait_for(other.disconnect(), 5)
    leave = await sev.wait("on_leave", lambda c: c.info.user == "visitor")
    assert leave.info.user == "visitor"


async def test_redis_restart_fails_publishes_then_subscribers_recover_with_new_epoch(
    server_factory, redis_server, api_factory, client_factory
):
    node = server_factory(redis_config(redis_server))
    api = api_factory(node)
    client, ev = client_factory(node)
    await connect_client(client, ev)
    channel = unique("chat:restart")
    _, sev, first = await subscribe(client, channel)
    old_epoch = first.stream_position.epoch
    await api.publish(PublishRequest(channel=channel, data={"n": 1}))
    await sev.wait("on_publication")

    redis_server.kill()
    with pytest.raises(CentApiResponseError) as failure:
        await api.publish(PublishRequest(channel=channel, data={"n": "lost"}))
    assert failure.value.code == 100, failure.value

    redis_server.start()  # same port, no data: the stream's epoch is gone
    # The node resubscribes and sends the subscriber to recover (2500); the SDK resubscribes.
    again = await sev.wait_count("on_subscribed", 2, timeout=20)
    ctx = again[1]
    assert ctx.was_recovering is True and ctx.recovered is False, ctx
    assert ctx.stream_position.epoch != old_epoch, ctx

    await api.publish(PublishRequest(channel=channel, data={"n": 2}))
    await sev.wait_count("on_publication", 2, timeout=5)
    assert sev.datas() == [{"n": 1}, {"n": 2}]
    assert sev.offsets() == [1, 1]  # a new stream under a new epoch
    assert node.alive()


def _raw(port: int, *commands: str) -> list[bytes]:
    """Several inline commands on one raw connection (AUTH first when needed); their replies."""
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall("".join(c + "\r\n" for c in commands).encode())
        data = b""
        while data.count(b"\r\n") < len(commands):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return data.split(b"\r\n")[: len(commands)]


async def test_password_acl_user_and_database_number(server_factory, redis_server, api_factory, client_factory):
    """A redis-server with `requirepass` and an ACL user: node A connects as the ACL user through
    the address URL (`redis://app:apppw@host:port/3`), node B with the section's `password` and
    `db: 3`. Both authenticate their command and PUB/SUB connections: a publication through A
    reaches a client on B and its history; every key is in database 3, none in 0."""
    redis_server.command("ACL", "SETUSER", "app", "on", ">apppw", "~*", "&*", "+@all")
    redis_server.command("CONFIG", "SET", "requirepass", "defaultpw")
    port = redis_server.port
    node_a = server_factory({"engine": {"type": "redis", "redis": {
        "address": [f"redis://app:apppw@127.0.0.1:{port}/3"], "prefix": "auth"}}})
    node_b = server_factory({"engine": {"type": "redis", "redis": {
        "address": [f"127.0.0.1:{port}"], "password": "defaultpw", "db": 3, "prefix": "auth"}}})
    client, ev = client_factory(node_b)
    await connect_client(client, ev)
    channel = unique("chat:auth")
    sub, sev, _ = await subscribe(client, channel)
    api_a = api_factory(node_a)
    await api_a.publish(PublishRequest(channel=channel, data={"n": 1}))
    await sev.wait_count("on_publication", 1)
    history = await api_factory(node_b).history(HistoryRequest(channel=channel, limit=-1))
    assert [p.data for p in history.publications] == [{"n": 1}], history
    replies = _raw(port, "AUTH defaultpw", "SELECT 3", "DBSIZE", "SELECT 0", "DBSIZE")
    assert replies[0] == b"+OK" and replies[2] != b":0" and replies[4] == b":0", replies
    await asyncio.wait_for(client.disconnect(), 5)


def test_a_wrong_redis_password_stops_startup_without_showing_it(strata_bin, tmp_path, redis_server):
    redis_server.command("CONFIG", "SET", "requirepass", "rightpw")
    cfg = build_config({"engine": {"type": "redis", "redis": {"address": [redis_server.address], "password": "wrongpw"}}})
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    out = subprocess.run([str(strata_bin), "--config", str(path), "--port", str(free_port())], capture_output=True, text=True, timeout=30)
    text = out.stdout + out.stderr
    assert out.returncode != 0, text
    assert "AUTH refused" in text and "wrongpw" not in text, text
    assert "fatal error" not in text.lower(), text


@pytest.fixture
def tls_redis(tmp_path_factory, certs):
    """A redis-server that also takes TLS connections on `tls_port` (the test CA's server
    certificate; client certificates optional until a test asks for them). Its plain port stays
    for the test's own commands."""
    tls_port = free_port()
    proc = RedisProcess(tmp_path_factory.mktemp("redis-tls"), [
        "--tls-port", str(tls_port), "--tls-cert-file", str(certs / "server.pem"), "--tls-key-file", str(certs / "server.key"),
        "--tls-ca-cert-file", str(certs / "ca.pem"), "--tls-auth-clients", "optional"]).start()
    proc.tls_port = tls_port
    yield proc
    proc.kill()


def _start_output(strata_bin, tmp_path, redis_section: dict) -> subprocess.CompletedProcess:
    return start_once(strata_bin, tmp_path, {"engine": {"type": "redis", "redis": redis_section}})


async def test_redis_over_tls_with_rediss_and_with_the_tls_section(server_factory, tls_redis, certs, api_factory, client_factory):
    """Node A reaches Redis's TLS port through `rediss://` with the CA as a file, node B through
    `host:port` with `tls.enabled`, the CA as PEM text and `server_name: localhost`: both speak
    TLS on their command and PUB/SUB connections (the TLS port takes nothing else), so a
    publication through A reaches a client on B, and B reads it back from history."""
    node_a = server_factory({"engine": {"type": "redis", "redis": {
        "address": [f"rediss://127.0.0.1:{tls_redis.tls_port}"], "prefix": "tls", "tls": {"server_ca_pem": str(certs / "ca.pem")}}}})
    node_b = server_factory({"engine": {"type": "redis", "redis": {
        "address": [f"127.0.0.1:{tls_redis.tls_port}"], "prefix": "tls",
        "tls": {"enabled": True, "server_ca_pem": (certs / "ca.pem").read_text(), "server_name": "localhost"}}}})
    client, ev = client_factory(node_b)
    await connect_client(client, ev)
    channel = unique("chat:tls")
    sub, sev, _ = await subscribe(client, channel)
    await api_factory(node_a).publish(PublishRequest(channel=channel, data={"n": 1}))
    await sev.wait_count("on_publication", 1)
    history = await api_factory(node_b).history(HistoryRequest(channel=channel, limit=-1))
    assert [p.data for p in history.publications] == [{"n": 1}], history
    assert tls_redis.command("EXISTS", f"tls.stream.{channel}").strip() == b":1"
    await asyncio.wait_for(client.disconnect(), 5)


async def test_client_certificates_for_a_redis_that_requires_them(strata_bin, tmp_path, server_factory, tls_redis, certs, api_factory):
    """With `tls-auth-clients yes`, a node with `cert_pem`/`key_pem` works; a node without
    them does not start, and says why."""
    tls_redis.command("CONFIG", "SET", "tls-auth-clients", "yes")
    section = {"address": [f"rediss://127.0.0.1:{tls_redis.tls_port}"], "prefix": "mtls",
               "tls": {"server_ca_pem": str(certs / "ca.pem")}}
    out = _start_output(strata_bin, tmp_path, section)
    assert out.returncode != 0 and "handshake failed" in out.stdout + out.stderr, out
    section["tls"].update(cert_pem=str(certs / "client.pem"), key_pem=str(certs / "client.key"))
    node = server_factory({"engine": {"type": "redis", "redis": section}})
    channel = unique("mtls")
    await api_factory(node).publish(PublishRequest(channel=channel, data={"n": 1}))
    history = await api_factory(node).history(HistoryRequest(channel=channel, limit=-1))
    assert [p.data for p in history.publications] == [{"n": 1}], history


@pytest.mark.parametrize("roots", ["system", "another"])
def test_a_redis_certificate_that_does_not_check_out_stops_startup(strata_bin, tmp_path, tls_redis, certs, roots):
    """The system's roots do not know the test CA; nor does a CA file holding another
    certificate. Either way the start stops with the reason."""
    section = {"address": [f"rediss://127.0.0.1:{tls_redis.tls_port}"]}
    if roots == "another":
        section["tls"] = {"server_ca_pem": str(certs / "client.pem")}
    out = _start_output(strata_bin, tmp_path, section)
    text = out.stdout + out.stderr
    assert out.returncode != 0 and "CERTIFICATE_VERIFY_FAILED" in text, text
    assert "fatal error" not in text.lower(), text


def test_insecure_skip_verify_takes_any_certificate(strata_bin, tmp_path, server_factory, tls_redis):
    node = server_factory({"engine": {"type": "redis", "redis": {
        "address": [f"rediss://127.0.0.1:{tls_redis.tls_port}"], "tls": {"insecure_skip_verify": True}}}})
    assert node.proc.poll() is None


def test_unreachable_redis_stops_startup_with_a_clear_error(strata_bin, tmp_path):
    cfg = build_config({"engine": {"type": "redis", "redis": {"address": "redis://127.0.0.1:1", "connect_timeout": "300ms"}}})
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    out = subprocess.run([str(strata_bin), "--config", str(path), "--port", str(free_port())], capture_output=True, text=True, timeout=30)
    text = out.stdout + out.stderr
    assert out.returncode != 0, text
    assert "127.0.0.1:1" in text, text
    assert "fatal error" not in text.lower(), text


@pytest.mark.parametrize("address,message", [
    ("redis://127.0.0.1:6379?tls_enabled=maybe", "tls_enabled"),
    ("redis://127.0.0.1:6379/x", "DB number"),
    ("redis://127.0.0.1:99999", "bad port"),
])
def test_unsupported_redis_addresses_are_refused_by_checkconfig(strata_bin, tmp_path, address, message):
    cfg = build_config({"engine": {"type": "redis", "redis": {"address": [address]}}})
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    out = subprocess.run([str(strata_bin), "checkconfig", "--config", str(path)], capture_output=True, text=True, timeout=30)
    assert out.returncode != 0
    assert "engine.redis.address[0]" in out.stdout + out.stderr and message in out.stdout + out.stderr, out


@pytest.mark.json_only  # the client only has to be connected
async def test_info_lists_every_node_on_the_redis(server_factory, redis_server, client_factory):
    """`info` on any node lists every node on the same Redis — its own figures now, the others'
    as they announced them (every 3 s) — as Centrifugo's info lists its cluster; a node that
    stops drops out of the list within about ten seconds."""
    import time
    import urllib.request

    def info(srv) -> list[dict]:
        req = urllib.request.Request(f"{srv.api_url}/info", data=b"{}", headers={"X-API-Key": "api-key"})
        with urllib.request.urlopen(req, timeout=5) as resp:
            return json.loads(resp.read())["result"]["nodes"]

    a = server_factory(redis_config(redis_server, node={"name": "node-a"}))
    b = server_factory(redis_config(redis_server, node={"name": "node-b"}))
    client, ev = client_factory(b, user="u-on-b")
    await connect_client(client, ev)
    deadline = time.monotonic() + 10
    while True:
        nodes = {n["name"]: n for n in info(a)}
        if nodes.get("node-b", {}).get("num_clients") == 1:
            break
        assert time.monotonic() < deadline, nodes
        await asyncio.sleep(0.3)
    assert set(nodes) == {"node-a", "node-b"} and nodes["node-a"]["uid"] != nodes["node-b"]["uid"]
    assert nodes["node-a"]["num_clients"] == 0
    assert list(info(a)[0])[:2] == ["uid", "name"] and info(a)[0]["name"] == "node-a"  # its own first
    await asyncio.wait_for(client.disconnect(), 5)
    b.expected_exit = True
    b.stop()
    deadline = time.monotonic() + 15
    while {n["name"] for n in info(a)} != {"node-a"}:
        assert time.monotonic() < deadline, info(a)
        await asyncio.sleep(0.5)


@pytest.mark.json_only  # the fault is Redis's; one protocol is enough
async def test_a_stopped_redis_is_noticed_and_every_acknowledged_publication_reaches_every_client(
    server_factory, redis_server, api_factory, client_factory
):
    """Redis stopped with SIGSTOP for 2 s while node A publishes every 50 ms to a channel that
    ten clients on node B follow. Nothing closes a connection: B notices through its liveness
    probe (`probe_interval: 500ms`) within two intervals, resubscribes once Redis answers again
    and sends its subscribers to recover. Every publication A acknowledged reaches every client
    once and in order (a publication whose call failed may or may not have run, so it may be
    there too), and no client is told `recovered: false`."""
    section = {"address": redis_server.address, "prefix": "stop", "probe_interval": "500ms"}
    node_a = server_factory({"engine": {"type": "redis", "redis": section}})
    node_b = server_factory({"engine": {"type": "redis", "redis": section}})
    channel = unique("chat:sigstop")
    followers = []
    for i in range(10):
        client, ev = client_factory(node_b, user=f"u{i}")
        await connect_client(client, ev)
        _, sev, _ = await subscribe(client, channel)
        followers.append(sev)
    api = api_factory(node_a, timeout=10)
    acknowledged: list[int] = []
    failed: list[int] = []

    async def publish_every_50ms(stop: asyncio.Event) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                await api.publish(PublishRequest(channel=channel, data={"n": n}))
                acknowledged.append(n)
            except Exception:  # noqa: BLE001 — a failed call is counted, whatever failed
                failed.append(n)
            await asyncio.sleep(0.05)

    stop = asyncio.Event()
    publisher = asyncio.create_task(publish_every_50ms(stop))
    await asyncio.sleep(1)
    lost_line = "redis pub/sub connection lost"
    assert lost_line not in node_b.logs()
    redis_server.pause()
    paused = time.monotonic()
    while lost_line not in node_b.logs() and time.monotonic() - paused < 5:
        await asyncio.sleep(0.05)
    noticed = time.monotonic() - paused
    await asyncio.sleep(max(0.0, 2 - noticed))
    redis_server.resume()
    await asyncio.sleep(2)
    stop.set()
    await publisher
    # Two probe intervals (1 s), and slack for a loaded machine; io_timeout alone would never notice.
    assert noticed < 3.0, f"node B noticed the stopped Redis after {noticed:.2f} s (io_timeout is 4 s)"

    for i, sev in enumerate(followers):
        try:
            await sev.wait("on_publication", lambda c: c.pub.data == {"n": acknowledged[-1]}, timeout=20)
        except AssertionError as missing:  # what the run did, for whoever reads a failure
            raise AssertionError(f"follower u{i} lacks publications; acknowledged {acknowledged}, failed calls {failed}, "
                                 f"noticed after {noticed:.2f} s: {missing}") from None
    told_not_recovered = recovered = 0
    for sev in followers:
        got = [d["n"] for d in sev.datas()]
        assert got == sorted(set(got)), "duplicates or out of order"
        assert set(acknowledged) <= set(got), sorted(set(acknowledged) - set(got))
        assert set(got) <= set(acknowledged) | set(failed)
        told_not_recovered += sum(1 for c in sev.of("on_subscribed") if c.was_recovering and not c.recovered)
        recovered += sum(1 for c in sev.of("on_subscribed") if c.was_recovering and c.recovered)
    assert told_not_recovered == 0
    assert "redis pub/sub back: subscribers recover from history" in node_b.logs()
    print(f"SIGSTOP fault: noticed after {noticed:.2f} s; {len(acknowledged)} acknowledged, {len(failed)} failed calls; "
          f"acknowledged lost: 0 of {len(acknowledged)} x {len(followers)} clients; recovered: {recovered}; "
          f"told recovered=false: {told_not_recovered}")


_REBUILD_UP_TO = (
    "local e = redis.call('XRANGE', KEYS[1], '-', ARGV[1] .. '-0') local ttl = redis.call('PTTL', KEYS[1]) "
    "redis.call('DEL', KEYS[1]) for _, x in ipairs(e) do redis.call('XADD', KEYS[1], x[1], unpack(x[2])) end "
    "redis.call('PEXPIRE', KEYS[1], ttl) redis.call('HSET', KEYS[2], 's', ARGV[1]) return #e"
)


async def _logged(node, line: str, timeout: float = 10) -> None:
    """Waits until the node's log holds `line`."""
    deadline = time.monotonic() + timeout
    while line not in node.logs():
        assert time.monotonic() < deadline, f"{line!r} not logged within {timeout} s"
        await asyncio.sleep(0.05)


def _lose_tail(redis, prefix: str, channel: str, keep: int) -> None:
    """What a replica promoted behind its master holds: the stream and its meta as they were
    at offset `keep`, consistent with each other (the stream rebuilt, so its last ID is
    `keep` too), the entries after it never there."""
    reply = redis.command("EVAL", f'"{_REBUILD_UP_TO}"', "2", f"{prefix}.stream.{channel}", f"{prefix}.stream.meta.{channel}", str(keep))
    assert reply.strip() == f":{keep}".encode(), reply


@pytest.mark.json_only
@pytest.mark.parametrize("publisher", ["same node", "a node that never saw the channel"])
async def test_a_stream_that_lost_its_tail_gets_a_new_epoch_and_no_client_recovers_through_the_hole(
    server_factory, redis_server, api_factory, client_factory, publisher
):
    """The stream goes back from offset 5 to 3 in the same epoch (a lagging replica promoted).
    Node A published 1..5, node B delivered them to its client. The next publication — through A,
    which saw 5 in that epoch, or through C, which saw nothing — must not become a second
    offset 4 under the old epoch: A's script or B's PUB/SUB check changes the epoch, and B's
    client is told `recovered: false` instead of taking the new 4 and 5 for duplicates."""
    node_a, node_b = server_factory(redis_config(redis_server)), server_factory(redis_config(redis_server))
    client, ev = client_factory(node_b)
    await connect_client(client, ev)
    channel = unique("chat:rewound")
    _, sev, first = await subscribe(client, channel)
    api_a = api_factory(node_a)
    for n in range(1, 6):
        await api_a.publish(PublishRequest(channel=channel, data={"n": n}))
    await sev.wait_count("on_publication", 5)
    old_epoch = first.stream_position.epoch
    _lose_tail(redis_server, "it", channel, keep=3)

    via = node_a if publisher == "same node" else server_factory(redis_config(redis_server))
    await api_factory(via).publish(PublishRequest(channel=channel, data={"n": 6}))
    again = await sev.wait_count("on_subscribed", 2, timeout=10)
    assert again[1].was_recovering is True and again[1].recovered is False, again[1]
    assert again[1].stream_position.epoch != old_epoch, again[1]
    detector = node_a if publisher == "same node" else node_b
    assert "lost its tail" in detector.logs()
    # The stream goes on in the new epoch: the next publication arrives live.
    await api_a.publish(PublishRequest(channel=channel, data={"n": 7}))
    await sev.wait("on_publication", lambda c: c.pub.data == {"n": 7}, timeout=5)
    assert [d["n"] for d in sev.datas()][:5] == [1, 2, 3, 4, 5]
    assert {"n": 4} not in sev.datas()[5:] and {"n": 5} not in sev.datas()[5:]
    history = await api_a.history(HistoryRequest(channel=channel, limit=-1))
    assert history.epoch != old_epoch and [p.data["n"] for p in history.publications][-1] == 7, history
    await asyncio.wait_for(client.disconnect(), 5)


@pytest.mark.json_only
@pytest.mark.parametrize("policy,warned", [("allkeys-lru", True), ("noeviction", False)])
def test_a_redis_that_may_evict_history_is_reported_at_start(server_factory, redis_server, policy, warned):
    redis_server.command("CONFIG", "SET", "maxmemory", "100mb")
    redis_server.command("CONFIG", "SET", "maxmemory-policy", policy)
    node = server_factory(redis_config(redis_server))
    text = node.logs()
    assert ("redis may evict history" in text and f"maxmemory-policy {policy}" in text) == warned, text


@pytest.mark.json_only
async def test_sentinel_names_the_master_and_a_failover_moves_every_node_to_the_new_one(
    server_factory, redis_sentinel, api_factory, client_factory
):
    """Two nodes find the master through Debian's redis-sentinel (`sentinel_address`,
    `sentinel_master_name`). A real `SENTINEL FAILOVER` promotes the replica: both nodes move
    their command and PUB/SUB connections to it (Sentinel's `+switch-master`; the old master,
    back as a replica, is refused by `ROLE`), publications through A go on after it, and B's
    client gets every one — live or by recovering the delivery gap — with history intact."""
    section = {"sentinel_address": [redis_sentinel.address], "sentinel_master_name": "mymaster", "prefix": "sent",
               "probe_interval": "500ms"}
    node_a = server_factory({"engine": {"type": "redis", "redis": section}})
    node_b = server_factory({"engine": {"type": "redis", "redis": section}})
    client, ev = client_factory(node_b)
    await connect_client(client, ev)
    channel = unique("chat:sentinel")
    _, sev, first = await subscribe(client, channel)
    api_a = api_factory(node_a)
    for n in (1, 2, 3):
        await api_a.publish(PublishRequest(channel=channel, data={"n": n}))
    await sev.wait_count("on_publication", 3)
    assert redis_sentinel.master.command("EXISTS", f"sent.stream.{channel}").strip() == b":1"

    redis_sentinel.failover()
    started = time.monotonic()
    # Both nodes hear of the switch within moments; until then a write may still reach the old
    # master (Sentinel demotes it after promoting the replica) and be lost with it — what the
    # lost-tail check is for (the lagging-replica test below); this test is about following.
    await _logged(node_a, "redis master switched")
    await _logged(node_b, "redis master switched")
    failed = 0
    while True:
        try:  # the same idempotency key: a call that failed but ran is not published twice
            await api_a.publish(PublishRequest(channel=channel, data={"n": 4}, idempotency_key=f"{channel}-4"))
            break
        except CentApiResponseError:
            failed += 1
            assert time.monotonic() - started < 20, "publishing did not resume after the failover"
            await asyncio.sleep(0.2)
    await api_a.publish(PublishRequest(channel=channel, data={"n": 5}))
    await sev.wait("on_publication", lambda c: c.pub.data == {"n": 5}, timeout=15)
    assert [d["n"] for d in sev.datas()] == [1, 2, 3, 4, 5]
    assert all(c.recovered for c in sev.of("on_subscribed") if c.was_recovering)
    history = await api_factory(node_b).history(HistoryRequest(channel=channel, limit=-1))
    assert [p.data["n"] for p in history.publications] == [1, 2, 3, 4, 5] and history.epoch == first.stream_position.epoch
    assert redis_sentinel.replica.command("EXISTS", f"sent.stream.{channel}").strip() == b":1"
    assert "redis master switched" in node_a.logs() and "redis master switched" in node_b.logs()
    print(f"Sentinel failover: publishing resumed after {time.monotonic() - started:.2f} s, {failed} failed calls")
    await asyncio.wait_for(client.disconnect(), 5)


def test_sentinel_without_a_master_name_is_refused(strata_bin, tmp_path):
    cfg = build_config({"engine": {"type": "redis", "redis": {"sentinel_address": ["127.0.0.1:26379"]}}})
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    out = subprocess.run([str(strata_bin), "checkconfig", "--config", str(path)], capture_output=True, text=True, timeout=30)
    assert out.returncode != 0 and "engine.redis.sentinel_master_name" in out.stdout + out.stderr, out


@pytest.mark.json_only
async def test_a_failover_to_a_lagging_replica_tells_every_subscriber_recovered_false(
    server_factory, redis_sentinel, api_factory, client_factory
):
    """A real lagging failover: the replica is stopped (SIGSTOP) while node A goes on publishing,
    so the master acknowledges publications the replica never gets; then the master is killed
    (kill -9) and the replica resumes, and Sentinel promotes it on its own. The stream is now
    behind what the nodes saw, in the same epoch. The next publication must not reuse those
    offsets silently: the epoch changes and every subscriber on node B is told recovered=false.
    Reported: acknowledged publications lost, clients told recovered=false."""
    section = {"sentinel_address": [redis_sentinel.address], "sentinel_master_name": "mymaster", "prefix": "lag",
               "probe_interval": "500ms", "io_timeout": "1s"}
    node_a = server_factory({"engine": {"type": "redis", "redis": section}})
    node_b = server_factory({"engine": {"type": "redis", "redis": section}})
    channel = unique("chat:lagging")
    followers = []
    for i in range(5):
        client, ev = client_factory(node_b, user=f"f{i}")
        await connect_client(client, ev)
        _, sev, first = await subscribe(client, channel)
        followers.append(sev)
    api_a = api_factory(node_a, timeout=10)
    for n in range(1, 4):
        await api_a.publish(PublishRequest(channel=channel, data={"n": n}))
    # Wait until the replica has 1..3: its stream holds three entries.
    redis_sentinel._wait(lambda: redis_sentinel.replica.command("XLEN", f"lag.stream.{channel}").strip() == b":3", "replication")
    redis_sentinel.replica.pause()
    # Cut the replication link too: a stopped process still receives into its socket buffer,
    # and would apply what the master sent once resumed.
    redis_sentinel.master.command("CLIENT", "KILL", "TYPE", "replica")
    for n in range(4, 8):  # acknowledged by the master only
        await api_a.publish(PublishRequest(channel=channel, data={"n": n}))
    for sev in followers:
        await sev.wait("on_publication", lambda c: c.pub.data == {"n": 7}, timeout=5)
    redis_sentinel.master.kill()
    redis_sentinel.replica.resume()
    redis_sentinel._wait(lambda: redis_sentinel.master_port() == redis_sentinel.replica.port, "Sentinel to promote the replica", timeout=30)

    started = time.monotonic()
    while True:  # the nodes move to the new master; a call may fail meanwhile
        try:
            await api_a.publish(PublishRequest(channel=channel, data={"n": 8}, idempotency_key=f"{channel}-8"))
            break
        except CentApiResponseError:
            assert time.monotonic() - started < 30, "publishing did not resume after the failover"
            await asyncio.sleep(0.2)
    told = 0
    for sev in followers:
        again = await sev.wait_count("on_subscribed", 2, timeout=15)
        assert again[-1].was_recovering and not again[-1].recovered, again[-1]
        assert again[-1].stream_position.epoch != first.stream_position.epoch
        told += 1
    history = await api_factory(node_b).history(HistoryRequest(channel=channel, limit=-1))
    kept = [p.data["n"] for p in history.publications]
    lost = [n for n in range(1, 8) if n not in kept]
    assert lost, "the replica had everything: the test did not make it lag"
    assert history.epoch != first.stream_position.epoch
    print(f"lagging failover: acknowledged publications lost: {len(lost)} of 7 ({lost}); "
          f"clients told recovered=false: {told} of {len(followers)}")


@pytest.mark.json_only
async def test_a_presence_manager_of_its_own_follows_a_sentinel_failover(
    server_factory, redis_sentinel, api_factory, client_factory
):
    """presence_manager.redis through Sentinel beside the memory engine: nothing connects it up
    front, so its Sentinel watch starts with its first call; after a failover the next presence
    call goes to the new master at once and finds the entry (replicated before)."""
    node = server_factory({"engine": {"type": "memory"}, "presence_manager": {"enabled": True, "type": "redis", "redis": {
        "sentinel_address": [redis_sentinel.address], "sentinel_master_name": "mymaster", "prefix": "pm"}}})
    client, ev = client_factory(node, user="present")
    await connect_client(client, ev)
    channel = unique("chat:presence")
    await subscribe(client, channel)
    api = api_factory(node)
    assert [c.user for c in (await api.presence(PresenceRequest(channel=channel))).presence.values()] == ["present"]
    await asyncio.sleep(0.5)  # the watch is up, the entry replicated
    redis_sentinel.failover()
    await _logged(node, "redis master switched")
    # A write right after: a second subscriber's presence entry (an add that met the old master,
    # now a replica, would fail with READONLY and the entry would be missing).
    late, ev2 = client_factory(node, user="late")
    await connect_client(late, ev2)
    await subscribe(late, channel)
    result = await api.presence(PresenceRequest(channel=channel))
    assert sorted(c.user for c in result.presence.values()) == ["late", "present"]
    assert "redis master switched" in node.logs()
    await asyncio.wait_for(client.disconnect(), 5)
    await asyncio.wait_for(late.disconnect(), 5)
