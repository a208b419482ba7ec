"""Process lifecycle and operator endpoints: graceful SIGTERM, /health, /metrics, checkconfig."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import urllib.request

from cent import Client as CentClient, PublishRequest

from itsupport import RawClient, connection_token, unique


async def test_sigterm_tells_clients_shutdown_3001_and_exits(server_factory):
    srv = server_factory({})
    async with RawClient(srv.ws_url) as raw:
        await raw.connect(connection_token("42"))
        srv.expected_exit = True
        srv.proc.send_signal(signal.SIGTERM)
        code, reason = await raw.wait_closed(timeout=8)
    assert (code, reason) == (3001, "shutdown")
    assert srv.proc.wait(10) == 0, srv.logs()


def test_metrics_endpoint_counts_publications(server_factory):
    srv = server_factory({"prometheus": {"enabled": True}})
    cent = CentClient(srv.api_url, "api-key")
    for _ in range(3):
        cent.publish(PublishRequest(channel=unique("chat:m"), data={"x": 1}))
    with urllib.request.urlopen(f"{srv.http_url}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    lines = [l for l in text.splitlines() if l.startswith("strata_node_messages_published_total")]
    assert lines and float(lines[0].split()[-1]) >= 3, text


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
