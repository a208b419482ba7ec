"""Process lifecycle and operator endpoints: graceful SIGTERM, /health, /metrics, checkconfig."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
import urllib.request

import pytest
from cent import Client as CentClient, PublishRequest

from itsupport import RawClient, connect_client, connection_token, make_jwt, subscribe, unique


async def test_sigterm_tells_clients_shutdown_3001_and_exits(server_factory):
    srv = server_factory({})
    async with RawClient(srv.ws_url) as raw:
        await raw.connect(connection_token("42"))
        srv.expected_exit = True
        srv.proc.send_signal(signal.SIGTERM)
        code, reason = await raw.wait_closed(timeout=8)
    assert (code, reason) == (3001, "shutdown")
    assert srv.proc.wait(10) == 0, srv.logs()


async def test_shutdown_timeout_cuts_a_stuck_shutdown_short(server_factory):
    """`shutdown.timeout`: the process is gone by then whatever the shutdown waits for, with
    status 1 (here 1 ms, less than the 200 ms the close frames get)."""
    srv = server_factory({"shutdown": {"timeout": "1ms"}})
    srv.expected_exit = True
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.proc.wait(10) == 1, srv.logs()
    assert "shutdown.timeout" in srv.stderr_path.read_text()


def test_checkconfig_names_the_bad_key(strata_bin, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"channel": {"namespaces": [{"name": "chat", "history_size": 10}]}}))
    out = subprocess.run([str(strata_bin), "checkconfig", "-c", str(bad)], capture_output=True, text=True)
    assert out.returncode != 0
    assert "channel.namespaces[0]" in out.stderr + out.stdout
    good = tmp_path / "good.yaml"
    good.write_text("http_api:\n  key: k\nchannel:\n  namespaces:\n    - name: chat\n      history_size: 10\n      history_ttl: 60s\n")
    out = subprocess.run([str(strata_bin), "checkconfig", "-c", str(good)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_a_setting_strata_does_not_do_stops_the_start(strata_bin, tmp_path):
    """No setting silently ignored: TLS on a separate external port (which Strata does not have)
    turned on is refused by checkconfig and by the server itself, naming the key
    (docs/configuration-keys.md), instead of serving cleartext; TLS turned on without usable
    certificate files is an error naming the file's key."""
    config = tmp_path / "external.json"
    config.write_text(json.dumps({"http_server": {"tls_external": True}}))
    out = subprocess.run([str(strata_bin), "checkconfig", "-c", str(config)], capture_output=True, text=True)
    assert out.returncode != 0
    assert "http_server.tls_external: Strata serves one port" in out.stderr + out.stdout, out.stderr
    serve = subprocess.run([str(strata_bin), "--config", str(config), "--port", "1"], capture_output=True, text=True,
                           timeout=20, cwd=tmp_path)
    assert serve.returncode != 0
    assert "http_server.tls_external" in serve.stderr + serve.stdout
    config.write_text(json.dumps({"http_server": {"tls": {"enabled": True, "cert_pem": "c.pem", "key_pem": "k.pem"}}}))
    out = subprocess.run([str(strata_bin), "checkconfig", "-c", str(config)], capture_output=True, text=True)
    assert out.returncode != 0
    assert "http_server.tls.cert_pem: no file c.pem" in out.stderr + out.stdout, out.stderr
    assert "http_server.tls.key_pem: no file k.pem" in out.stderr + out.stdout, out.stderr
    # Off, the same section is fine (a Centrifugo config keeps its TLS settings for later).
    config.write_text(json.dumps({"http_server": {"tls": {"enabled": False, "cert_pem": "c.pem"}}}))
    out = subprocess.run([str(strata_bin), "checkconfig", "-c", str(config), "--strict"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr + out.stdout


def test_configdoc_prints_every_key(strata_bin):
    out = subprocess.run([str(strata_bin), "configdoc"], capture_output=True, text=True, check=True).stdout
    for key in ("`http_server.tls.enabled` | works", "`http_server.tls_autocert.enabled` | works", "`http_server.tls_external` | refused when on", "`channel.namespaces[].allow_tags_filter` | works",
                "`websocket.read_buffer_size` | ignored"):
        assert key in out


def test_pid_file_is_written_and_removed(server_factory, tmp_path):
    pid_file = tmp_path / "strata.pid"
    srv = server_factory({"pid_file": str(pid_file)})
    assert pid_file.read_text().strip() == str(srv.proc.pid)
    srv.expected_exit = True
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.proc.wait(10) == 0, srv.logs()
    assert not pid_file.exists()


async def test_gentoken_makes_a_token_the_server_accepts(server_factory, strata_bin):
    srv = server_factory({})
    token = subprocess.run(
        [str(strata_bin), "gentoken", "-c", str(srv.config_path), "-u", "77", "-t", "60"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    async with RawClient(srv.ws_url) as raw:
        res = await raw.connect(token)
    assert res.get("client"), res


def _event_loop_threads(pid: int) -> int:
    import re
    from pathlib import Path

    names = []
    for path in Path(f"/proc/{pid}/task").glob("*/comm"):
        try:
            names.append(path.read_text().strip())
        except OSError:  # a thread that ended during the scan
            pass
    return sum(1 for n in names if re.fullmatch(r"NIO-SGLTN-\d+-#\d+", n))


def test_event_loops_follow_the_cpu_affinity(server_factory, monkeypatch):
    """Pinned to one CPU (taskset, numactl, an orchestrator), the server runs one event loop,
    as Go sizes GOMAXPROCS; NIO_SINGLETON_GROUP_LOOP_COUNT still overrides."""
    import os
    import pytest

    monkeypatch.delenv("NIO_SINGLETON_GROUP_LOOP_COUNT", raising=False)
    allowed = os.sched_getaffinity(0)
    if len(allowed) < 2:
        pytest.skip("needs at least two CPUs")
    unpinned = server_factory({})
    if _event_loop_threads(unpinned.proc.pid) < 2:  # a cgroup quota of one CPU already gives one loop
        pytest.skip("the server gets one event loop here even unpinned")
    os.sched_setaffinity(0, {min(allowed)})  # the server inherits the test's mask
    try:
        pinned = server_factory({})
        monkeypatch.setenv("NIO_SINGLETON_GROUP_LOOP_COUNT", "2")
        overridden = server_factory({})
    finally:
        os.sched_setaffinity(0, allowed)
    assert _event_loop_threads(pinned.proc.pid) == 1
    assert _event_loop_threads(overridden.proc.pid) == 2
    # The pinned server still serves.
    cent = CentClient(pinned.api_url, "api-key")
    cent.publish(PublishRequest(channel=unique("chat:pinned"), data={"x": 1}))


async def test_secrets_never_reach_the_log(server_factory, client_factory):
    """At the most verbose level, a run that connects with tokens (good, expired, forged),
    subscribes with a subscription token and uses the API (right and wrong key) logs none of
    the secrets: not the HMAC secrets, not the API key, not a token."""
    hmac, sub_hmac, key = "hmac-Zq8vL3", "subhmac-Kp2Xw9", "apikey-Tn6Yr4"
    srv = server_factory({
        "log": {"level": "trace"},
        "client": {"token": {"hmac_secret_key": hmac},
                   "subscription_token": {"enabled": True, "hmac_secret_key": sub_hmac}},
        "http_api": {"key": key},
        "channel": {"namespaces": [{"name": "priv", "history_size": 5, "history_ttl": "60s"}]},
    })
    good = make_jwt({"sub": "42", "exp": int(time.time()) + 60}, secret=hmac)
    expired = make_jwt({"sub": "42", "exp": int(time.time()) - 60}, secret=hmac)
    forged = make_jwt({"sub": "42"}, secret="not-the-secret")
    channel = unique("priv:room")
    sub_token = make_jwt({"sub": "42", "channel": channel, "exp": int(time.time()) + 60}, secret=sub_hmac)
    for token in (expired, forged):  # 109, then 3500
        async with RawClient(srv.ws_url) as raw:
            await raw.send_commands({"id": 1, "connect": {"token": token}})
            await asyncio.sleep(0.2)
    client, ev = client_factory(srv, token=good)
    await connect_client(client, ev)
    await subscribe(client, channel, token=sub_token)
    good_api = CentClient(srv.api_url, key)
    good_api.publish(PublishRequest(channel=channel, data={"x": 1}))
    with pytest.raises(Exception):
        CentClient(srv.api_url, "wrong-" + key).publish(PublishRequest(channel=channel, data={"x": 2}))
    await client.disconnect()
    log = srv.stderr_path.read_text() + srv.stdout_path.read_text()
    assert "trace" in log or "debug" in log, "the server logged at the verbose levels"
    for secret in (hmac, sub_hmac, key, good, expired, forged, sub_token):
        assert secret not in log, f"{secret[:12]}… in the log"
    # The signature part alone must not appear either.
    for token in (good, sub_token):
        assert token.rsplit(".", 1)[1] not in log


def test_genconfig_writes_each_format_the_server_runs_on(strata_bin, tmp_path):
    """`strata genconfig` picks JSON, YAML or TOML by the file's extension; each file passes
    `checkconfig`, and a server started on it takes a publish with the API key it holds and keeps
    history for channels without a namespace, as the JSON one does."""
    import re

    from conftest import free_port
    from itsupport import http_request

    for name in ["gen.json", "gen.yaml", "gen.toml"]:
        path = tmp_path / name
        subprocess.run([str(strata_bin), "genconfig", "--config", str(path)], check=True, capture_output=True)
        check = subprocess.run([str(strata_bin), "checkconfig", "--config", str(path)], capture_output=True, text=True)
        assert check.returncode == 0 and "configuration OK" in check.stdout, (name, check)
        text = path.read_text()
        secrets = re.findall(r"[0-9a-f]{64}", text)
        assert len(set(secrets)) == 2, text
        api_key = re.search(r'key"?\s*[:=]\s*"([0-9a-f]{64})"', text.split("http_api", 1)[1]).group(1)
        port = free_port()
        server = subprocess.Popen([str(strata_bin), "--config", str(path), "--port", str(port)], cwd=tmp_path,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            reply = None
            for _ in range(200):
                try:
                    status, body = http_request(f"http://127.0.0.1:{port}/api/publish", body=b'{"channel":"news","data":1}',
                                                headers={"X-API-Key": api_key})
                    reply = (status, json.loads(body))
                    break
                except OSError:
                    time.sleep(0.05)
            assert reply is not None and reply[0] == 200 and reply[1]["result"]["offset"] >= 1, (name, reply)
        finally:
            server.terminate()
            server.wait(20)
