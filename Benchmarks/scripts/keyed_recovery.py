"""Keyed cache recovery of 10,000 keys (docs/keyed-cache.md, docs/benchmarks.md).

A keyed channel holds 10,000 keys (each set twice, so the stream behind it is 20,000 long);
CLIENTS clients subscribe at once, each receiving the whole table in its subscribe reply. Beside
it, in the same run, the nearest thing without keys: a stream of 10,000 publications that the
same clients recover from offset 0 (`recover: true`), on Strata and on the real Centrifugo
(CENTRIFUGO_BIN), which keeps no table per key in its open-source edition.

Each round reports the wall time until every client has its reply and the server's CPU time
(user + system, from /proc) over the storm; rounds are interleaved so drift hits all alike.

    STRATA_BIN=.build/release/strata CENTRIFUGO_BIN=/path/to/centrifugo \\
        python3 Benchmarks/scripts/keyed_recovery.py [--keys 10000] [--clients 50] [--rounds 3]

Prints one JSON line per round and variant, then a summary line with medians and ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import statistics
import sys
import time
import urllib.request

import websockets

sys.path.insert(0, os.path.dirname(__file__))
from local_strata import local_strata  # noqa: E402

SECRET = "bench-secret"
API_KEY = "bench-api-key"


def token(user: str) -> str:
    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps({"sub": user, "exp": int(time.time()) + 3600}).encode())
    sig = hmac.new(SECRET.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(sig)}"


def config(keys: int) -> dict:
    common = {"allow_subscribe_for_client": True}
    return {
        "client": {"token": {"hmac_secret_key": SECRET}, "recovery_max_publication_limit": keys, "allowed_origins": ["*"],
                   # A 10,000-publication reply is about 1 MB: above the default queue (3008 slow).
                   "queue_max_size": 64 << 20},
        "http_api": {"key": API_KEY},
        "channel": {"namespaces": [
            {"name": "stream", "history_size": keys, "history_ttl": "3600s", "force_recovery": True, **common},
        ]},
    }


def keyed_config(keys: int) -> dict:
    c = config(keys)
    c["channel"]["namespaces"].append({
        "name": "keyed", "history_size": 100, "history_ttl": "3600s", "force_recovery": True,
        "force_recovery_mode": "cache", "auto_cache_recover": True, "cache_key_tag": "k", "cache_key_limit": keys, "allow_subscribe_for_client": True})
    return c


def api_batch(port: int, commands: list[dict]) -> None:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/batch", data=json.dumps({"commands": commands}).encode(),
                                 headers={"X-API-Key": API_KEY, "Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=60) as resp:
        body = json.loads(resp.read())
    errors = [r for r in body.get("replies", []) if "error" in r]
    if errors:
        raise SystemExit(f"publish failed: {errors[:3]}")


def fill(port: int, channel: str, count: int, keyed: bool) -> None:
    for start in range(0, count, 500):
        commands = []
        for n in range(start, min(count, start + 500)):
            # The same publications in every variant (a tag naming the key included), so the
            # clients receive the same bytes and only where they come from differs.
            key = f"key-{n % (count // 2 if keyed else count)}"
            pub: dict = {"channel": channel, "data": {"k": key, "v": n, "pad": "x" * 40}, "tags": {"k": key}}
            commands.append({"publish": pub})
        api_batch(port, commands)


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def one_client(port: int, user: str, subscribe: dict, expect: int) -> None:
    async with websockets.connect(f"ws://127.0.0.1:{port}/connection/websocket", max_size=None,
                                  compression=None) as ws:
        await ws.send(json.dumps({"id": 1, "connect": {"token": token(user)}}))
        await ws.recv()
        await ws.send(json.dumps({"id": 2, "subscribe": subscribe}))
        while True:
            frame = await ws.recv()
            for line in frame.splitlines():
                reply = json.loads(line)
                if reply.get("id") == 2:
                    if "error" in reply:
                        raise SystemExit(f"subscribe failed: {reply}")
                    got = len(reply["subscribe"].get("publications", []))
                    if got != expect or not reply["subscribe"].get("recovered"):
                        raise SystemExit(f"expected {expect} recovered publications, got {got}: {str(reply)[:300]}")
                    return


async def storm(pid: int, port: int, clients: int, subscribe: dict, expect: int) -> tuple[float, float]:
    cpu = cpu_seconds(pid)
    start = time.perf_counter()
    await asyncio.gather(*(one_client(port, f"u{i}", subscribe, expect) for i in range(clients)))
    return time.perf_counter() - start, cpu_seconds(pid) - cpu


async def epoch_of(port: int, channel: str) -> str:
    async with websockets.connect(f"ws://127.0.0.1:{port}/connection/websocket", max_size=None) as ws:
        await ws.send(json.dumps({"id": 1, "connect": {"token": token("probe")}}))
        await ws.recv()
        await ws.send(json.dumps({"id": 2, "subscribe": {"channel": channel}}))
        while True:
            for line in (await ws.recv()).splitlines():
                reply = json.loads(line)
                if reply.get("id") == 2:
                    return reply["subscribe"]["epoch"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    variants = [("strata-keyed", False, True), ("strata-stream", False, False)]
    if os.environ.get("CENTRIFUGO_BIN"):
        variants.append(("centrifugo-stream", True, False))
    results: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in variants}
    for round_ in range(args.rounds):
        for name, centrifugo, keyed in variants:
            port = 18600 + round_ * 10 + len(results[name])
            cfg = keyed_config(args.keys) if keyed else config(args.keys)
            with local_strata(cfg, port, f"keyed-bench-{name}-", centrifugo=centrifugo) as server:
                if keyed:
                    # Every key set twice: the table holds `keys`, the stream 2 × keys.
                    fill(port, "keyed:board", 2 * args.keys, keyed=True)
                    subscribe = {"channel": "keyed:board"}
                else:
                    fill(port, "stream:board", args.keys, keyed=False)
                    epoch = asyncio.run(epoch_of(port, "stream:board"))
                    subscribe = {"channel": "stream:board", "recover": True, "offset": 0, "epoch": epoch}
                wall, cpu = asyncio.run(storm(server.pid, port, args.clients, subscribe, args.keys))
            results[name].append((wall, cpu))
            print(json.dumps({"variant": name, "round": round_, "keys": args.keys, "clients": args.clients,
                              "wall_s": round(wall, 3), "server_cpu_s": round(cpu, 3)}), flush=True)
    summary: dict = {"summary": True, "keys": args.keys, "clients": args.clients}
    for name, rows in results.items():
        summary[name] = {"wall_s": round(statistics.median(w for w, _ in rows), 3),
                         "server_cpu_s": round(statistics.median(c for _, c in rows), 3)}
    base = summary["strata-keyed"]["server_cpu_s"]
    for name in results:
        if name != "strata-keyed" and summary[name]["server_cpu_s"] > 0:
            summary[f"keyed_cpu_vs_{name}"] = round(base / summary[name]["server_cpu_s"], 2)
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
