#!/usr/bin/env python3
"""uni_grpc's cost: server memory per idle stream and server CPU per delivered publication, for
Strata and the real Centrifugo in one run. `--streams` one-way gRPC streams (each on its own HTTP/2
connection, grpcio's asyncio API, raw bytes: the pushes are counted, not decoded) subscribe to one
channel through their connect request; once all have their connect push, the server's RSS is read
again; then `--publications` small JSON publications go through the HTTP API at `--rate` per
second, and the server CPU they cost is divided by the pushes delivered (every stream must get
every publication, or the run says how many were missing).

    .venv/bin/python Benchmarks/scripts/uni_grpc_fanout.py --strata $PWD/.build/release/strata \\
        --centrifugo /path/to/centrifugo --rounds 3 > uni-grpc.jsonl

Memory engines on both (Strata's default LMDB store is not what is measured here). The server runs
pinned to CPU 0, the clients on CPU 1. JSON lines on stdout; medians on stderr.
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

from benchsupport import cpu_seconds, free_port, wait_port

KEY = "bench-key"
CONSUME = "/centrifugal.centrifugo.unistream.CentrifugoUniStream/Consume"
# ConnectRequest{subs: {"news": {}}}: field 3, a map entry with key "news" and an empty value.
REQUEST = bytes([0x1A, 0x08, 0x0A, 0x04]) + b"news" + bytes([0x12, 0x00])


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def run_one(command: list[str], work: Path, streams: int, publications: int, rate: float) -> dict:
    http_port, uni_port = free_port(), free_port()
    config = {"http_api": {"key": KEY}, "client": {"insecure": True}, "engine": {"type": "memory"},
              "uni_grpc": {"enabled": True, "port": uni_port}, "log": {"level": "error"}}
    (work / "config.json").write_text(json.dumps(config))
    log = open(work / "server.log", "wb")
    # Both servers take Centrifugo's --http_server.port flag.
    proc = subprocess.Popen(["taskset", "-c", "0", *command, "--config", "config.json", "--http_server.port", str(http_port)],
                            cwd=work, stdout=log, stderr=log)
    try:
        wait_port(http_port)
        wait_port(uni_port)
        await asyncio.sleep(0.5)
        rss_before = rss_kb(proc.pid)
        received = [0] * streams
        connected = asyncio.Event()
        connects = 0
        # A connection per stream, as separate clients have (grpcio would otherwise share one).
        channels = [grpc.aio.insecure_channel(f"127.0.0.1:{uni_port}", options=[("grpc.use_local_subchannel_pool", 1)])
                    for _ in range(streams)]

        async def consume(i: int) -> None:
            nonlocal connects
            call = channels[i].unary_stream(CONSUME, request_serializer=None, response_deserializer=None)(REQUEST)
            first = True
            async for message in call:
                if first:
                    first = False
                    connects += 1
                    if connects == streams:
                        connected.set()
                elif message:  # an empty message is a ping
                    received[i] += 1

        tasks = [asyncio.create_task(consume(i)) for i in range(streams)]
        await asyncio.wait_for(connected.wait(), 60)
        await asyncio.sleep(1)
        rss_connected = rss_kb(proc.pid)
        async with aiohttp.ClientSession(headers={"X-API-Key": KEY}) as http:
            url = f"http://127.0.0.1:{http_port}/api/publish"
            before = cpu_seconds(proc.pid)
            started = time.monotonic()
            for n in range(publications):
                async with http.post(url, json={"channel": "news", "data": {"n": n, "text": "breaking"}}) as r:
                    await r.read()
                delay = started + (n + 1) / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            deadline = time.monotonic() + 30
            while sum(received) < streams * publications and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            cpu = cpu_seconds(proc.pid) - before
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*(c.close() for c in channels))
        delivered = sum(received)
        return {"streams": streams, "publications": publications, "delivered": delivered,
                "missing": streams * publications - delivered,
                "kb_per_stream": round((rss_connected - rss_before) / streams, 1),
                "server_us_per_push": round(cpu / max(delivered, 1) * 1e6, 2)}
    finally:
        proc.terminate()
        proc.wait(15)


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--strata", required=True)
    ap.add_argument("--centrifugo")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--streams", type=int, default=200)
    ap.add_argument("--publications", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=100)
    args = ap.parse_args()
    os.sched_setaffinity(0, {1})
    servers = [("strata", [args.strata])] + ([("centrifugo", [args.centrifugo])] if args.centrifugo else [])
    base = Path(tempfile.mkdtemp(prefix="strata-uni-grpc-bench-"))
    records = []
    for round_ in range(args.rounds):
        for name, command in servers:
            work = base / f"{name}-{round_}"
            work.mkdir()
            record = {"server": name, "round": round_, **await run_one(command, work, args.streams, args.publications, args.rate)}
            records.append(record)
            print(json.dumps(record), flush=True)
    print("--- medians", file=sys.stderr)
    for name, _ in servers:
        rs = [r for r in records if r["server"] == name]
        print(f"{name}: {statistics.median(r['server_us_per_push'] for r in rs):.2f} µs server CPU per push, "
              f"{statistics.median(r['kb_per_stream'] for r in rs):.1f} KB per idle stream, "
              f"missing {sum(r['missing'] for r in rs)}", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
