#!/usr/bin/env python3
"""What the connect and RPC proxies cost: connects per second and server CPU per connect with a
trivial backend (aiohttp, answering {"result":{"user":…}} at once), beside a JWT connect on the
same server; and RPCs through the RPC proxy (round-trip latency and server CPU per call), for
Strata and the real Centrifugo in one run. Each connect is a new WebSocket, the connect command,
its reply, a close; RPCs go over `--concurrency` connected WebSockets, one at a time on each.
JSON lines on stdout; medians on stderr.

    make release
    .venv/bin/python Benchmarks/scripts/connect_proxy.py --strata .build/release/strata \\
        --centrifugo ../shared/peers/centrifugo/bin/centrifugo --rounds 3 > results.jsonl

The server runs pinned to CPU 0; the backend and the clients (asyncio, `--concurrency` at once)
share CPU 1. The server's CPU time comes from /proc/PID/stat.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aiohttp import web
from websockets.asyncio.client import connect as ws_connect

TICKS = os.sysconf("SC_CLK_TCK")
SECRET = "bench-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def token(user: str) -> str:
    b = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()  # noqa: E731
    signing = b(b'{"alg":"HS256","typ":"JWT"}') + "." + b(json.dumps({"sub": user}).encode())
    return signing + "." + b(hmac.new(SECRET.encode(), signing.encode(), hashlib.sha256).digest())


async def connects(url: str, count: int, concurrency: int, with_token: bool) -> float:
    """Runs `count` connects, `concurrency` at a time; returns the seconds taken."""
    queue = iter(range(count))
    failures = 0

    async def worker() -> None:
        nonlocal failures
        for i in queue:
            async with ws_connect(url, proxy=None, open_timeout=10) as ws:
                await ws.send(json.dumps({"id": 1, "connect": {"token": token(f"u{i}") if with_token else ""}}))
                if "connect" not in json.loads((await ws.recv()).split("\n")[0]):
                    failures += 1

    began = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    if failures:
        raise SystemExit(f"{failures} connects failed")
    return time.monotonic() - began


async def rpcs(url: str, count: int, concurrency: int) -> tuple[float, list[float]]:
    """`count` RPCs over `concurrency` connections, one at a time on each; the seconds taken and
    each call's round trip."""
    per = count // concurrency
    latencies: list[float] = []

    async def worker(n: int) -> None:
        async with ws_connect(url, proxy=None, open_timeout=10) as ws:
            await ws.send(json.dumps({"id": 1, "connect": {"token": token(f"r{n}")}}))
            await ws.recv()
            for i in range(per):
                began = time.monotonic()
                await ws.send(json.dumps({"id": i + 2, "rpc": {"method": "getCurrentPrice", "data": {"object_id": i}}}))
                reply = json.loads((await ws.recv()).split("\n")[0])
                latencies.append(time.monotonic() - began)
                if "rpc" not in reply:
                    raise SystemExit(f"RPC failed: {reply}")

    began = time.monotonic()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    return time.monotonic() - began, latencies


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--strata", required=True)
    ap.add_argument("--centrifugo")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--connects", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=32)
    args = ap.parse_args()
    os.sched_setaffinity(0, {1})

    backend_calls = 0

    async def connect(request: web.Request) -> web.Response:
        nonlocal backend_calls
        backend_calls += 1
        await request.read()
        return web.Response(text='{"result":{"user":"56"}}', content_type="application/json")

    async def rpc(request: web.Request) -> web.Response:
        nonlocal backend_calls
        backend_calls += 1
        await request.read()
        return web.Response(text='{"result":{"data":{"price":10}}}', content_type="application/json")

    app = web.Application()
    app.router.add_post("/centrifugo/connect", connect)
    app.router.add_post("/centrifugo/rpc", rpc)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    backend_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", backend_port).start()

    work = Path(tempfile.mkdtemp(prefix="strata-proxy-bench-"))
    proxy = {"enabled": True, "endpoint": f"http://127.0.0.1:{backend_port}/centrifugo/connect", "timeout": "5s"}
    configs = {
        "jwt": {"client": {"token": {"hmac_secret_key": SECRET}}},
        "proxy": {"client": {"token": {"hmac_secret_key": SECRET}, "proxy": {"connect": proxy}}},
        "rpc": {"client": {"token": {"hmac_secret_key": SECRET}},
                "rpc": {"proxy": {**proxy, "endpoint": proxy["endpoint"].replace("/connect", "/rpc")},
                        "without_namespace": {"proxy_enabled": True}}},
    }
    servers = [("strata", args.strata, lambda cfg, port: [args.strata, "--config", cfg, "--port", str(port)])]
    if args.centrifugo:
        servers.append(("centrifugo", args.centrifugo,
                        lambda cfg, port: [args.centrifugo, "--config", cfg, "--http_server.port", str(port)]))
    records = []
    for round_ in range(args.rounds):
        for name, _, command in servers:
            for mode, config in configs.items():
                d = work / f"{name}-{mode}-{round_}"
                d.mkdir()
                (d / "config.json").write_text(json.dumps(config))
                port = free_port()
                log = open(d / "server.log", "wb")
                proc = subprocess.Popen(["taskset", "-c", "0", *command("config.json", port)], cwd=d, stdout=log, stderr=log)
                url = f"ws://127.0.0.1:{port}/connection/websocket"
                for _ in range(100):
                    try:
                        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                        break
                    except OSError:
                        await asyncio.sleep(0.1)
                if mode == "rpc":
                    await rpcs(url, 200, args.concurrency)  # warm-up
                    calls_before, before = backend_calls, cpu_seconds(proc.pid)
                    seconds, latencies = await rpcs(url, args.connects, args.concurrency)
                    cpu = cpu_seconds(proc.pid) - before
                    latencies.sort()
                    done = len(latencies)
                    record = {"server": name, "mode": mode, "round": round_, "rpcs": done, "seconds": round(seconds, 3),
                              "rpcs_per_s": round(done / seconds), "server_us_per_rpc": round(cpu / done * 1e6, 1),
                              "p50_ms": round(latencies[len(latencies) // 2] * 1e3, 2),
                              "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1e3, 2),
                              "backend_calls": backend_calls - calls_before}
                else:
                    await connects(url, 200, args.concurrency, mode == "jwt")  # warm-up
                    calls_before, before = backend_calls, cpu_seconds(proc.pid)
                    seconds = await connects(url, args.connects, args.concurrency, mode == "jwt")
                    cpu = cpu_seconds(proc.pid) - before
                    record = {"server": name, "mode": mode, "round": round_, "connects": args.connects, "seconds": round(seconds, 3),
                              "connects_per_s": round(args.connects / seconds),
                              "server_us_per_connect": round(cpu / args.connects * 1e6, 1), "backend_calls": backend_calls - calls_before}
                proc.terminate()
                proc.wait(15)
                records.append(record)
                print(json.dumps(record), flush=True)
    await runner.cleanup()
    print("--- medians", file=sys.stderr)
    for name, _, _ in servers:
        for mode in configs:
            rs = [r for r in records if r["server"] == name and r["mode"] == mode]
            if mode == "rpc":
                print(f"{name} rpc: {statistics.median(r['server_us_per_rpc'] for r in rs):.1f} µs server CPU per RPC, "
                      f"p50 {statistics.median(r['p50_ms'] for r in rs):.2f} ms, p99 {statistics.median(r['p99_ms'] for r in rs):.2f} ms, "
                      f"{statistics.median(r['rpcs_per_s'] for r in rs):.0f} RPCs/s", file=sys.stderr)
                continue
            print(f"{name} {mode}: {statistics.median(r['server_us_per_connect'] for r in rs):.1f} µs server CPU per connect, "
                  f"{statistics.median(r['connects_per_s'] for r in rs):.0f} connects/s", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
