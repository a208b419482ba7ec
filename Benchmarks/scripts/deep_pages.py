"""Deep history pages over HTTP (docs/history-http.md, docs/benchmarks.md): reading 1,000
publications at offset 9,000,000 of a 10,000,000-entry LMDB stream against reading them at
offset 0, through `GET /api/history/{channel}`.

The stream is made without 10 million publishes: a history export is written here (the format
`strata history export` writes, `storage/README.md`), compressed with Debian's `zstd`, and loaded
with `strata history import`. Then the server (release build, CPU 0) answers ROUNDS × REQUESTS
page reads at each depth, interleaved; each depth reports the median request time and the
server's CPU per request.

    STRATA_BIN=.build/release/strata python3 Benchmarks/scripts/deep_pages.py [--entries 10000000] [--requests 100] [--rounds 5]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from keyed_recovery import cpu_seconds  # noqa: E402

API_KEY = "bench-api-key"
CHANNEL = "deep:stream"
EPOCH = "deepbnch"


def blob(b: bytes) -> bytes:
    return struct.pack(">I", len(b)) + b


def write_export(path: Path, entries: int) -> None:
    """An export of one channel with `entries` publications (offsets 1…entries), piped through zstd."""
    meta = (struct.pack(">BQQqqQqq", 2, entries, 1, 0, 0, 0, 0, 0) + blob(b"") + blob(EPOCH.encode())
            + blob(CHANNEL.encode()) + struct.pack(">QQ", 0, 0))
    with open(path, "wb") as out:
        zstd = subprocess.Popen(["zstd", "-1", "-q", "-c"], stdin=subprocess.PIPE, stdout=out)
        assert zstd.stdin
        zstd.stdin.write(b"STRATA-EXPORT-1\n" + b"C" + blob(meta))
        now = int(time.time() * 1000)
        batch = []
        for offset in range(1, entries + 1):
            payload = b'{"n":%d,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}' % offset
            record = struct.pack(">Bq", 0, now) + blob(payload) + b"\x00" + b"\x00\x00\x00\x00"
            batch.append(b"E" + struct.pack(">Q", offset) + blob(record))
            if len(batch) == 100_000:
                zstd.stdin.write(b"".join(batch))
                batch.clear()
        zstd.stdin.write(b"".join(batch) + b"Z")
        zstd.stdin.close()
        if zstd.wait() != 0:
            raise SystemExit("zstd failed")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=10_000_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--limit", type=int, default=1000)
    args = parser.parse_args()
    binary = os.path.abspath(os.environ.get("STRATA_BIN", ".build/release/strata"))
    work = Path(tempfile.mkdtemp(prefix="deep-pages-"))
    try:
        config = {
            "http_api": {"key": API_KEY}, "health": {"enabled": True},
            "engine": {"type": "lmdb", "lmdb": {"path": str(work / "data")}},
            "channel": {"namespaces": [{"name": "deep", "history_size": args.entries, "history_ttl": "720h"}]},
        }
        (work / "config.json").write_text(json.dumps(config))
        started = time.monotonic()
        write_export(work / "stream.zst", args.entries)
        made = time.monotonic() - started
        subprocess.run([binary, "history", "import", "-c", str(work / "config.json"), str(work / "stream.zst")], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        loaded = time.monotonic() - started - made
        port = 18900
        pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
        server = subprocess.Popen(pin + [binary, "--config", str(work / "config.json"), "--port", str(port)], cwd=work,
                                  stdout=subprocess.DEVNULL, stderr=open(work / "stderr.log", "wb"))
        try:
            for _ in range(400):
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    conn.request("GET", "/health")
                    if conn.getresponse().status == 200:
                        break
                except OSError:
                    time.sleep(0.05)
            depths = {"offset 0": 0, f"offset {args.entries - args.entries // 10:,}": args.entries - args.entries // 10}
            times: dict[str, list[float]] = {name: [] for name in depths}
            cpu: dict[str, list[float]] = {name: [] for name in depths}
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            for _ in range(args.rounds):
                for name, since in depths.items():
                    path = f"/api/history/{CHANNEL}?since={since}&epoch={EPOCH}&limit={args.limit}"
                    before = cpu_seconds(server.pid)
                    for _ in range(args.requests):
                        t0 = time.perf_counter()
                        conn.request("GET", path, headers={"X-API-Key": API_KEY})
                        resp = conn.getresponse()
                        body = resp.read()
                        times[name].append(time.perf_counter() - t0)
                        if resp.status != 200 or body.count(b"\n") != args.limit:
                            raise SystemExit(f"{path}: {resp.status} {body[:200]!r}")
                        if "immutable" not in (resp.getheader("Cache-Control") or ""):
                            raise SystemExit(f"{path}: not immutable")
                    cpu[name].append((cpu_seconds(server.pid) - before) / args.requests)
            summary = {"entries": args.entries, "limit": args.limit, "requests": args.requests * args.rounds,
                       "export_s": round(made, 1), "import_s": round(loaded, 1)}
            for name in depths:
                summary[name] = {"p50_ms": round(statistics.median(times[name]) * 1000, 3),
                                 "server_cpu_ms_per_request": round(statistics.median(cpu[name]) * 1000, 3)}
            deep, shallow = list(depths)[1], list(depths)[0]
            summary["deep_vs_shallow_p50"] = round(summary[deep]["p50_ms"] / summary[shallow]["p50_ms"], 2)
            print(json.dumps(summary), flush=True)
        finally:
            server.terminate()
            server.wait(20)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
