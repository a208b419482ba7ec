"""The LMDB store on a filesystem that fills up (issue 21, campaign 3; storage/README.md).

A small tmpfs holds the store and a filler file. Publications that no longer fit are refused with
Centrifugo's internal error (100) and a log line that names the cause and `engine.lmdb.path`;
everything acknowledged before stays readable (history, live delivery, recovery); when the filler
is deleted, publishing works again without a restart; and after `kill -9` every acknowledged
publication is there. The map itself never fills: it grows online (`engine.lmdb.map_size` is
only where it starts). Needs a tmpfs mount (root with CAP_SYS_ADMIN), else skipped.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from itsupport import RawClient, connect_client, connection_token, subscribe, unique

def api(srv, method: str, body: dict) -> dict:
    req = urllib.request.Request(f"{srv.api_url}/{method}", data=json.dumps(body).encode(),
                                 headers={"X-API-Key": "api-key"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


@pytest.fixture
def small_disk(tmp_path: Path):
    mount = tmp_path / "disk"
    mount.mkdir()
    out = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount)], capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({out.stderr.strip()}): the full-disk test needs root with CAP_SYS_ADMIN")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


async def test_a_full_disk_refuses_publications_and_loses_nothing(server_factory, client_factory, small_disk):
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * 2_000_000)
    srv = server_factory({
        "engine": {"type": "lmdb", "lmdb": {"path": str(small_disk / "data"), "map_size": 1048576, "durability": "sync"}},
        "channel": {"namespaces": [{"name": "hist", "history_size": 100000, "history_ttl": "3600s", "force_recovery": True,
                                    "allow_subscribe_for_client": True, "allow_history_for_client": True}]},
    })
    channel = unique("hist:x")
    client, ev = client_factory(srv)
    await connect_client(client, ev)
    _, sev, _ = await subscribe(client, channel)

    acked: list[int] = []
    refused = None
    for i in range(2000):  # 12 KB of random bytes each (zstd cannot shrink them): 6 MB fill up
        try:
            res = api(srv, "publish", {"channel": channel, "data": {"i": i, "blob": base64.b64encode(os.urandom(9000)).decode()}})
        except urllib.error.HTTPError as e:
            pytest.fail(f"publish answered HTTP {e.code}")
        if "error" in res:
            refused = res["error"]
            break
        acked.append(res["result"]["offset"])
    assert refused == {"code": 100, "message": "internal server error"}, refused
    assert len(acked) > 50 and acked == list(range(1, len(acked) + 1))
    log = srv.stderr_path.read_text()
    assert "engine.lmdb.path" in log and "bytes free" in log, srv.logs()

    # Reads keep working: history has every acknowledged publication, the subscriber got them
    # all live, and a client recovering from the middle gets the rest.
    history = api(srv, "history", {"channel": channel, "limit": -1})["result"]["publications"]
    assert [p["offset"] for p in history] == acked
    live = await sev.wait_count("on_publication", len(acked), timeout=15)
    assert [p.pub.offset for p in live] == acked
    half = len(acked) - 20  # a few: a reply over client.queue_max_size (1 MiB) would end the connection (3008)
    async with RawClient(srv.ws_url) as raw:
        await raw.connect(connection_token("r"))
        epoch = api(srv, "history", {"channel": channel, "limit": 0})["result"]["epoch"]
        rep = await raw.call("subscribe", {"channel": channel, "recover": True, "offset": half, "epoch": epoch})
        sub = rep["subscribe"]
        assert sub.get("recovered") is True, rep
        assert [p["offset"] for p in sub.get("publications", [])] == acked[half:]

    # Space returns: publishing works again, no restart.
    filler.unlink()
    res = api(srv, "publish", {"channel": channel, "data": {"after": True}})
    assert res["result"]["offset"] == len(acked) + 1, res

    # And after kill -9 everything acknowledged is there.
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait(5)
    srv.start()
    history = api(srv, "history", {"channel": channel, "limit": -1})["result"]["publications"]
    assert [p["offset"] for p in history] == acked + [len(acked) + 1]
    srv.expected_exit = True  # stopped before the tmpfs goes
    srv.stop()
