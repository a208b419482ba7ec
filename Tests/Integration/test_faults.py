"""Faults of the embedded store: a corrupt or unusable data directory stops start-up with a clear
error naming the path (no crash, no silent re-initialisation); a full disk fails publishes with
error 100 while everything already acknowledged stays readable and the server keeps serving."""

from __future__ import annotations

import json
import os
import subprocess
import uuid

import pytest
from cent import Client as CentClient, HistoryRequest, InfoRequest, PublishRequest
from cent import CentApiResponseError

from conftest import build_config, free_port


def _start_and_fail(strata_bin, tmp_path, data_dir) -> subprocess.CompletedProcess:
    cfg = build_config({"engine": {"type": "lmdb", "lmdb": {"path": str(data_dir)}}})
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    return subprocess.run([str(strata_bin), "--config", str(path), "--port", str(free_port())], capture_output=True, text=True, timeout=30)


def test_corrupt_data_file_is_refused_with_its_path(strata_bin, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    garbage = bytes([0x42]) * 65536
    (data / "data.mdb").write_bytes(garbage)
    out = _start_and_fail(strata_bin, tmp_path, data)
    assert out.returncode != 0
    text = out.stderr + out.stdout
    assert str(data) in text, text
    assert "crashed" not in text.lower() and "fatal error" not in text.lower(), text
    assert (data / "data.mdb").read_bytes() == garbage  # not re-initialised


def test_data_path_that_is_a_file_is_refused(strata_bin, tmp_path):
    target = tmp_path / "not-a-dir"
    target.write_text("x")
    out = _start_and_fail(strata_bin, tmp_path, target)
    assert out.returncode != 0
    assert str(target) in out.stderr + out.stdout


@pytest.fixture
def small_disk(tmp_path):
    mnt = tmp_path / "small-disk"
    mnt.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {res.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_disk_full_fails_publishes_with_100_and_keeps_what_was_acknowledged(server_factory, small_disk):
    srv = server_factory({
        "engine": {"type": "lmdb", "lmdb": {"path": str(small_disk / "data"), "compress_min_size": 0, "map_size": 64 << 20}},
        "channel": {"namespaces": [{"name": "big", "history_size": 100000, "history_ttl": "3600s"}]},
    })
    cent = CentClient(srv.api_url, "api-key")
    acked = {}
    failure = None
    for i in range(5000):
        blob = uuid.uuid4().hex * 64  # 2 KB of incompressible-ish text
        try:
            res = cent.publish(PublishRequest(channel="big:fill", data={"i": i, "blob": blob}))
            acked[res.offset] = i
        except CentApiResponseError as e:
            failure = e
            break
    assert failure is not None, "the 3 MB disk never filled up"
    assert failure.code == 100, failure
    assert len(acked) > 100
    hist = cent.history(HistoryRequest(channel="big:fill", limit=-1))
    stored = {p.offset: p.data["i"] for p in hist.publications}
    assert all(stored.get(off) == i for off, i in acked.items()), "acknowledged publications lost after disk full"
    # Other channels without history and the API as a whole keep working.
    assert cent.info(InfoRequest()).nodes
