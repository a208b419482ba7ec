#!/usr/bin/env python3
"""gRPC publish beside HTTP publish: server CPU per publish and publishes per second through the
gRPC server API (`grpc_api`, Python grpcio with stubs generated from docs/protocol/proto/api.proto)
and through the HTTP API (aiohttp, keep-alive), for Strata and the real Centrifugo in one run.
`--concurrency` calls in flight at once; memory engines, history on, nobody subscribed.

    .venv/bin/python Benchmarks/scripts/grpc_publish.py --strata $PWD/.build/release/strata \\
        --centrifugo /path/to/centrifugo --rounds 3 > grpc-publish.jsonl

The server runs pinned to CPU 0, the clients on CPU 1. JSON lines on stdout; medians on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import grpc

from benchsupport import cpu_seconds, free_port, proto_modules, wait_port

KEY = "bench-key"


async def run_grpc(pb2, pb2_grpc, port: int, count: int, concurrency: int) -> float:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        api = pb2_grpc.CentrifugoApiStub(channel)
        metadata = (("authorization", f"apikey {KEY}"),)
        per = count // concurrency

        async def worker(n: int) -> None:
            for i in range(per):
                resp = await api.Publish(pb2.PublishRequest(channel=f"news:{n}", data=b'{"price":%d}' % i), metadata=metadata)
                if resp.HasField("error"):
                    raise SystemExit(f"gRPC publish failed: {resp.error}")

        began = time.monotonic()
        await asyncio.gather(*(worker(n) for n in range(concurrency)))
        return time.monotonic() - began


async def run_http(port: int, count: int, concurrency: int) -> float:
    per = count // concurrency
    async with aiohttp.ClientSession(headers={"X-API-Key": KEY}) as session:
        async def worker(n: int) -> None:
            for i in range(per):
                async with session.post(f"http://127.0.0.1:{port}/api/publish",
                                        json={"channel": f"news:{n}", "data": {"price": i}}) as resp:
                    body = await resp.json()
                    if "error" in body:
                        raise SystemExit(f"HTTP publish failed: {body}")

        began = time.monotonic()
        await asyncio.gather(*(worker(n) for n in range(concurrency)))
        return time.monotonic() - began


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--strata", required=True)
    ap.add_argument("--centrifugo")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--concurrency", type=int, default=32)
    args = ap.parse_args()
    os.sched_setaffinity(0, {1})
    work = Path(tempfile.mkdtemp(prefix="strata-grpc-bench-"))
    pb2, pb2_grpc = proto_modules("api", work / "grpc_stubs")
    servers = [("strata", lambda cfg, port: [args.strata, "--config", cfg, "--port", str(port)])]
    if args.centrifugo:
        servers.append(("centrifugo", lambda cfg, port: [args.centrifugo, "--config", cfg, "--http_server.port", str(port)]))
    records = []
    for round_ in range(args.rounds):
        for name, command in servers:
            for mode in ("grpc", "http"):
                d = work / f"{name}-{mode}-{round_}"
                d.mkdir()
                port, grpc_port = free_port(), free_port()
                (d / "config.json").write_text(json.dumps({
                    "log": {"level": "error"}, "engine": {"type": "memory"}, "http_api": {"key": KEY},
                    "grpc_api": {"enabled": True, "port": grpc_port, "key": KEY},
                    "channel": {"namespaces": [{"name": "news", "history_size": 10, "history_ttl": "60s"}]}}))
                log = open(d / "server.log", "wb")
                proc = subprocess.Popen(["taskset", "-c", "0", *command("config.json", port)], cwd=d, stdout=log, stderr=log)
                wait_port(port)
                wait_port(grpc_port)
                run = (lambda n: run_grpc(pb2, pb2_grpc, grpc_port, n, args.concurrency)) if mode == "grpc" else (
                    lambda n: run_http(port, n, args.concurrency))
                await run(1000)  # warm-up
                before = cpu_seconds(proc.pid)
                seconds = await run(args.count)
                cpu = cpu_seconds(proc.pid) - before
                proc.terminate()
                proc.wait(15)
                record = {"server": name, "mode": mode, "round": round_, "publishes": args.count, "seconds": round(seconds, 3),
                          "publishes_per_s": round(args.count / seconds), "server_us_per_publish": round(cpu / args.count * 1e6, 1)}
                records.append(record)
                print(json.dumps(record), flush=True)
    print("--- medians", file=sys.stderr)
    for name, _ in servers:
        for mode in ("grpc", "http"):
            rs = [r for r in records if r["server"] == name and r["mode"] == mode]
            print(f"{name} {mode}: {statistics.median(r['server_us_per_publish'] for r in rs):.1f} µs server CPU per publish, "
                  f"{statistics.median(r['publishes_per_s'] for r in rs):.0f} publishes/s", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
