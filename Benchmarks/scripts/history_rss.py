#!/usr/bin/env python3
"""A large history served under a memory limit (issue: LMDB store, "2 GB history served with the
process held to 512 MiB RSS").

1. Fills an LMDB store with ~SIZE_GB of incompressible publications through the server API.
2. Restarts strata inside a cgroup (v1 memory controller) limited to LIMIT_MB, caches dropped.
3. Reads the whole history back through the API while sampling the server's RSS (anon and file)
   and the cgroup's peak usage; checks every read succeeded and nothing was OOM-killed.

Run as root from the repository root after `make release`:
    python3 Benchmarks/scripts/history_rss.py            # SIZE_GB=2 LIMIT_MB=512 by default
Standard library only. Prints one JSON line with the figures.
"""

from __future__ import annotations

import base64
import concurrent.futures as cf
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

SIZE_GB = float(os.environ.get("SIZE_GB", "2"))
LIMIT_MB = int(os.environ.get("LIMIT_MB", "512"))
PAYLOAD = 16 * 1024
CHANNELS = 200
READAHEAD = os.environ.get("READAHEAD", "1") != "0"
WORK = os.environ.get("WORK", "/tmp/strata-rss-bench")
BIN = os.path.abspath(os.environ.get("STRATA_BIN", ".build/release/strata"))
CGROUP = "/sys/fs/cgroup/memory/strata-rss-bench"


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start(port: int, cgroup: bool) -> subprocess.Popen:
    cfg = {
        "http_server": {"address": "127.0.0.1", "port": port}, "log": {"level": "warn"}, "health": {"enabled": True},
        "http_api": {"key": "k"},
        "engine": {"type": "lmdb", "lmdb": {"path": f"{WORK}/data", "durability": "relaxed", "compress_min_size": 0,
                                              "map_size": 4 << 30, "readahead": READAHEAD}},
        "channel": {"namespaces": [{"name": "big", "history_size": 100000, "history_ttl": "24h"}]},
    }
    with open(f"{WORK}/config.json", "w") as f:
        json.dump(cfg, f)
    cmd = [BIN, "--config", f"{WORK}/config.json"]
    if cgroup:
        cmd = ["sh", "-c", f'echo $$ > {CGROUP}/cgroup.procs && exec "$@"', "sh"] + cmd
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(f"{WORK}/server.log", "ab"))
    for _ in range(200):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/health")
            if c.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.05)
    raise SystemExit("server did not start")


def api(conn: http.client.HTTPConnection, method: str, body: dict) -> dict:
    conn.request("POST", f"/api/{method}", json.dumps(body), {"X-API-Key": "k", "Content-Type": "application/json"})
    resp = conn.getresponse()
    data = resp.read()
    if resp.status != 200:
        raise RuntimeError(f"HTTP {resp.status}")
    return json.loads(data)


def fill(port: int, total: int) -> float:
    per_worker = total // 8
    started = time.time()

    def worker(w: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for i in range(per_worker):
            blob = base64.b64encode(os.urandom(PAYLOAD * 3 // 4)).decode()
            res = api(conn, "publish", {"channel": f"big:{(w * per_worker + i) % CHANNELS}", "data": {"b": blob}})
            if "error" in res:
                raise RuntimeError(res)

    with cf.ThreadPoolExecutor(8) as ex:
        list(ex.map(worker, range(8)))
    return time.time() - started


def status(pid: int) -> dict:
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                out[k] = int(v.split()[0])
    return out


def main() -> None:
    if os.path.exists(WORK):
        shutil.rmtree(WORK)
    os.makedirs(WORK)
    total = int(SIZE_GB * (1 << 30) / PAYLOAD)
    port = free_port()
    proc = start(port, cgroup=False)
    fill_s = fill(port, total)
    proc.send_signal(signal.SIGTERM)
    proc.wait(30)
    data_bytes = os.path.getsize(f"{WORK}/data/data.mdb")

    os.makedirs(CGROUP, exist_ok=True)
    with open(f"{CGROUP}/memory.limit_in_bytes", "w") as f:
        f.write(str(LIMIT_MB << 20))
    with open(f"{CGROUP}/memory.max_usage_in_bytes", "w") as f:
        f.write("0")
    dropped = subprocess.run(["sh", "-c", "sync; echo 3 > /proc/sys/vm/drop_caches"], capture_output=True).returncode == 0

    port = free_port()
    proc = start(port, cgroup=True)
    peak = {"VmRSS": 0, "RssAnon": 0, "RssFile": 0}
    stop = threading.Event()

    def sampler() -> None:
        while not stop.is_set():
            try:
                s = status(proc.pid)
            except OSError:
                return
            for k in peak:
                peak[k] = max(peak[k], s.get(k, 0))
            time.sleep(0.05)

    t = threading.Thread(target=sampler, daemon=True)
    t.start()
    started = time.time()
    read_bytes = 0
    read_pubs = 0
    errors = 0

    def reader(ch: int) -> tuple[int, int, int]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        since = 0
        got = b = err = 0
        while True:
            body = {"channel": f"big:{ch}", "limit": 100}
            if since:
                body["since"] = {"offset": since, "epoch": ""}
            try:
                res = api(conn, "history", body)["result"]
            except Exception:
                return got, b, err + 1
            pubs = res.get("publications", [])
            got += len(pubs)
            b += sum(len(p["data"]["b"]) for p in pubs)
            if len(pubs) < 100:
                return got, b, err
            since = pubs[-1]["offset"]

    with cf.ThreadPoolExecutor(4) as ex:
        for got, b, err in ex.map(reader, range(CHANNELS)):
            read_pubs += got
            read_bytes += b
            errors += err
    read_s = time.time() - started
    stop.set()
    t.join()
    alive = proc.poll() is None
    with open(f"{CGROUP}/memory.max_usage_in_bytes") as f:
        cg_peak = int(f.read())
    with open(f"{CGROUP}/memory.failcnt") as f:
        failcnt = int(f.read())
    if alive:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    print(json.dumps({
        "size_gb": SIZE_GB, "readahead": READAHEAD, "publications": total, "payload_bytes": PAYLOAD, "fill_s": round(fill_s, 1),
        "data_mdb_bytes": data_bytes, "caches_dropped": dropped, "limit_mb": LIMIT_MB,
        "read_publications": read_pubs, "read_payload_bytes": read_bytes, "read_errors": errors, "read_s": round(read_s, 1),
        "read_mb_per_s": round(read_bytes / read_s / 1e6, 1),
        "peak_rss_kb": peak["VmRSS"], "peak_rss_anon_kb": peak["RssAnon"], "peak_rss_file_kb": peak["RssFile"],
        "cgroup_peak_bytes": cg_peak, "cgroup_failcnt": failcnt, "server_alive_after": alive,
    }))
    try:
        os.rmdir(CGROUP)
    except OSError:
        pass
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
