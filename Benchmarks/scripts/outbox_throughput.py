#!/usr/bin/env python3
"""Outbox consumer throughput: how fast Strata applies rows of a PostgreSQL outbox table
(`consumers[]`, docs/outbox.md) with one node and with two nodes on Redis, beside the real
Centrifugo configured the same, in one run. A real PostgreSQL (Tests/Integration/pg_support.py)
and redis-server on loopback; 4 partitions, 100 rows per batch; `--rows` publish rows over 200
channels (history on) inserted in one transaction while the consumers run; the clock runs from
the insert's commit to the empty table. Server CPU (all nodes) from /proc.

    .venv/bin/python Benchmarks/scripts/outbox_throughput.py --strata $PWD/.build/release/strata \\
        --centrifugo /path/to/centrifugo --rounds 3 > outbox.jsonl

JSON lines on stdout; medians on stderr. Servers are pinned to CPU 0, PostgreSQL and Redis to CPU 1.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "Tests" / "Integration"))
from pg_support import Postgres  # noqa: E402

from benchsupport import cpu_seconds, free_port, wait_port  # noqa: E402

def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--strata", required=True)
    ap.add_argument("--centrifugo")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rows", type=int, default=20000)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="strata-outbox-bench-"))
    pg = Postgres(work).start()
    # The postmaster on CPU 1: the backends it forks from now on inherit that.
    postmaster = (pg.dir / "postmaster.pid").read_text().split()[0]
    subprocess.run(["taskset", "-cp", "1", postmaster], capture_output=True, check=True)
    redis_port = free_port()
    redis = subprocess.Popen(["taskset", "-c", "1", "redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(redis_port)
    servers = [("strata", lambda cfg, port: [args.strata, "--config", cfg, "--port", str(port)])]
    if args.centrifugo:
        servers.append(("centrifugo", lambda cfg, port: [args.centrifugo, "--config", cfg, "--http_server.port", str(port)]))
    records = []
    try:
        for round_ in range(args.rounds):
            for name, command in servers:
                for nodes in (1, 2):
                    table = f"outbox_{name}_{nodes}_{round_}"
                    pg.create_outbox(table)
                    engine = {"type": "memory"} if nodes == 1 else {
                        "type": "redis", "redis": {"address": f"redis://127.0.0.1:{redis_port}", "prefix": table}}
                    config = {
                        "log": {"level": "error"}, "engine": engine,
                        "channel": {"namespaces": [{"name": "orders", "history_size": 100, "history_ttl": "300s"}]},
                        "consumers": [{"name": "outbox", "enabled": True, "type": "postgresql", "postgresql": {
                            "dsn": pg.dsn, "outbox_table_name": table, "num_partitions": 4, "partition_select_limit": 100,
                            "partition_poll_interval": "100ms"}}],
                    }
                    procs = []
                    for n in range(nodes):
                        d = work / f"{table}-{n}"
                        d.mkdir()
                        (d / "config.json").write_text(json.dumps(config))
                        port = free_port()
                        log = open(d / "server.log", "wb")
                        procs.append(subprocess.Popen(["taskset", "-c", "0", *command("config.json", port)], cwd=d, stdout=log, stderr=log))
                        wait_port(port)
                    time.sleep(0.5)
                    before = sum(cpu_seconds(p.pid) for p in procs)
                    pg.sql(f"INSERT INTO {table} (method, payload, partition) SELECT 'publish', "
                           f"jsonb_build_object('channel', 'orders:' || (i % 200), 'data', jsonb_build_object('n', i)), i % 4 "
                           f"FROM generate_series(1, {args.rows}) AS i")
                    began = time.monotonic()
                    while pg.count(table) > 0:
                        if time.monotonic() - began > 300:
                            raise SystemExit(f"{table}: not drained in 300 s")
                        time.sleep(0.02)
                    seconds = time.monotonic() - began
                    cpu = sum(cpu_seconds(p.pid) for p in procs) - before
                    for p in procs:
                        p.terminate()
                        p.wait(15)
                    record = {"server": name, "nodes": nodes, "round": round_, "rows": args.rows, "seconds": round(seconds, 3),
                              "rows_per_s": round(args.rows / seconds), "server_us_per_row": round(cpu / args.rows * 1e6, 1)}
                    records.append(record)
                    print(json.dumps(record), flush=True)
    finally:
        redis.terminate()
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)
    print("--- medians", file=sys.stderr)
    for name, _ in servers:
        for nodes in (1, 2):
            rs = [r for r in records if r["server"] == name and r["nodes"] == nodes]
            print(f"{name} {nodes} node(s): {statistics.median(r['rows_per_s'] for r in rs):.0f} rows/s, "
                  f"{statistics.median(r['server_us_per_row'] for r in rs):.1f} µs server CPU per row", file=sys.stderr)


if __name__ == "__main__":
    main()
