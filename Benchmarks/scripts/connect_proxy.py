#!/usr/bin/env python3
"""What the proxies cost: connects per second and server CPU per connect with a trivial backend
(aiohttp, answering {"result":{"user":…}} at once; or with `grpc_connect` a grpcio server for
proxy.proto, the gRPC proxy), beside a JWT connect on the same server; and
RPCs (over HTTP, or `grpc_rpc` over gRPC), client publications and subscribes (each with an
unsubscribe) through their proxies (round-trip latency and server CPU per round), for Strata and the real Centrifugo in one run. Each connect is a new WebSocket, the connect command,
its reply, a close; the other modes go over `--concurrency` connected WebSockets, one round at a
time on each.
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

from benchsupport import cpu_seconds, free_port, proto_modules


async def grpc_backend(work: Path, count) -> tuple[object, int]:
    """A grpcio server for proxy.proto's CentrifugoProxy (stubs generated here from the committed
    schema): Connect answers user 56, RPC the same data as the HTTP backend. `count()` per call."""
    import grpc

    pb, pb_grpc = proto_modules("proxy", work / "grpc_stubs")

    class Backend(pb_grpc.CentrifugoProxyServicer):
        async def Connect(self, request, context):
            count()
            return pb.ConnectResponse(result=pb.ConnectResult(user="56"))

        async def RPC(self, request, context):
            count()
            return pb.RPCResponse(result=pb.RPCResult(data=b'{"price":10}'))

    server = grpc.aio.server()
    pb_grpc.add_CentrifugoProxyServicer_to_server(Backend(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, port

SECRET = "bench-secret"


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


def rpc_commands(i: int) -> list[dict]:
    return [{"rpc": {"method": "getCurrentPrice", "data": {"object_id": i}}}]


def publish_commands(i: int) -> list[dict]:
    return [{"publish": {"channel": "chat:room", "data": {"input": f"hello {i}"}}}]


def subscribe_commands(i: int) -> list[dict]:
    channel = f"chat:s{i}"
    return [{"subscribe": {"channel": channel}}, {"unsubscribe": {"channel": channel}}]


async def calls(url: str, count: int, concurrency: int, commands) -> tuple[float, list[float]]:
    """`count` rounds of `commands(i)` over `concurrency` connections, one round at a time on
    each, every command awaited; the seconds taken and each round's time."""
    per = count // concurrency
    latencies: list[float] = []

    async def worker(n: int) -> None:
        async with ws_connect(url, proxy=None, open_timeout=10) as ws:
            await ws.send(json.dumps({"id": 1, "connect": {"token": token(f"r{n}")}}))
            await ws.recv()
            next_id = 2
            for i in range(per):
                began = time.monotonic()
                for command in commands(n * per + i):
                    await ws.send(json.dumps({"id": next_id, **command}))
                    while True:
                        reply = next((m for m in map(json.loads, (await ws.recv()).split("\n")) if m.get("id") == next_id), None)
                        if reply is not None:
                            break
                    if "error" in reply:
                        raise SystemExit(f"{command} failed: {reply}")
                    next_id += 1
                latencies.append(time.monotonic() - began)

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
    ap.add_argument("--modes", default="",
                    help="comma-separated: jwt, proxy, rpc, publish, subscribe, grpc_connect, grpc_rpc (all by default)")
    args = ap.parse_args()
    os.sched_setaffinity(0, {1})

    backend_calls = 0

    async def connect(request: web.Request) -> web.Response:
        nonlocal backend_calls
        backend_calls += 1
        await request.read()
        return web.Response(text='{"result":{"user":"56"}}', content_type="application/json")

    def answering(text: str):
        async def handler(request: web.Request) -> web.Response:
            nonlocal backend_calls
            backend_calls += 1
            await request.read()
            return web.Response(text=text, content_type="application/json")
        return handler

    app = web.Application()
    app.router.add_post("/centrifugo/connect", connect)
    app.router.add_post("/centrifugo/rpc", answering('{"result":{"data":{"price":10}}}'))
    app.router.add_post("/centrifugo/publish", answering("{}"))
    app.router.add_post("/centrifugo/subscribe", answering('{"result":{"info":{"role":"member"}}}'))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    backend_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", backend_port).start()

    work = Path(tempfile.mkdtemp(prefix="strata-proxy-bench-"))

    def count() -> None:
        nonlocal backend_calls
        backend_calls += 1

    grpc_server, grpc_port = await grpc_backend(work, count)
    proxy = {"enabled": True, "endpoint": f"http://127.0.0.1:{backend_port}/centrifugo/connect", "timeout": "5s"}
    grpc_proxy = {**proxy, "endpoint": f"grpc://127.0.0.1:{grpc_port}"}
    configs = {
        "jwt": {"client": {"token": {"hmac_secret_key": SECRET}}},
        "proxy": {"client": {"token": {"hmac_secret_key": SECRET}, "proxy": {"connect": proxy}}},
        "rpc": {"client": {"token": {"hmac_secret_key": SECRET}},
                "rpc": {"proxy": {**proxy, "endpoint": proxy["endpoint"].replace("/connect", "/rpc")},
                        "without_namespace": {"proxy_enabled": True}}},
        # A client publication vetted by the backend (history kept, nobody subscribed), and a
        # subscribe decided by it followed by an unsubscribe.
        # Both on their memory engine (Centrifugo's default; Strata's is durable LMDB).
        "publish": {"client": {"token": {"hmac_secret_key": SECRET}}, "engine": {"type": "memory"},
                    "channel": {"proxy": {"publish": {**proxy, "endpoint": proxy["endpoint"].replace("/connect", "/publish")}},
                                "namespaces": [{"name": "chat", "history_size": 10, "history_ttl": "60s",
                                                "publish_proxy_enabled": True}]}},
        "subscribe": {"client": {"token": {"hmac_secret_key": SECRET}},
                      "channel": {"proxy": {"subscribe": {**proxy, "endpoint": proxy["endpoint"].replace("/connect", "/subscribe")}},
                                  "namespaces": [{"name": "chat", "subscribe_proxy_enabled": True}]}},
        "grpc_connect": {"client": {"token": {"hmac_secret_key": SECRET}, "proxy": {"connect": grpc_proxy}}},
        "grpc_rpc": {"client": {"token": {"hmac_secret_key": SECRET}},
                     "rpc": {"proxy": grpc_proxy, "without_namespace": {"proxy_enabled": True}}},
    }
    commands = {"rpc": rpc_commands, "publish": publish_commands, "subscribe": subscribe_commands, "grpc_rpc": rpc_commands}
    configs = {mode: config for mode, config in configs.items() if not args.modes or mode in args.modes.split(",")}
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
                if mode in commands:
                    await calls(url, 200, args.concurrency, commands[mode])  # warm-up
                    calls_before, before = backend_calls, cpu_seconds(proc.pid)
                    seconds, latencies = await calls(url, args.connects, args.concurrency, commands[mode])
                    cpu = cpu_seconds(proc.pid) - before
                    latencies.sort()
                    done = len(latencies)
                    # "rpc" counts rounds of any call mode (an RPC, a publish, a subscribe + unsubscribe).
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
    await grpc_server.stop(None)
    print("--- medians", file=sys.stderr)
    for name, _, _ in servers:
        for mode in configs:
            rs = [r for r in records if r["server"] == name and r["mode"] == mode]
            if mode in commands:
                print(f"{name} {mode}: {statistics.median(r['server_us_per_rpc'] for r in rs):.1f} µs server CPU per round, "
                      f"p50 {statistics.median(r['p50_ms'] for r in rs):.2f} ms, p99 {statistics.median(r['p99_ms'] for r in rs):.2f} ms, "
                      f"{statistics.median(r['rpcs_per_s'] for r in rs):.0f} rounds/s", file=sys.stderr)
                continue
            print(f"{name} {mode}: {statistics.median(r['server_us_per_connect'] for r in rs):.1f} µs server CPU per connect, "
                  f"{statistics.median(r['connects_per_s'] for r in rs):.0f} connects/s", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
