#!/usr/bin/env python3
"""Hostile clients against one server (issue 21, campaign 4; docs/reliability.md): what a flood
costs everybody else. Observers send `rpc ping` round trips (every 20 ms each) and report their
p50/p99 latency; first alone, then while attackers do one thing:

  commands  a client writes frames of 100 commands (rpc ping) as fast as it can, reading replies
  idle      --idle N sockets connect and never send a request (closed by the server after 10 s)
  stale     --idle N sockets upgrade to WebSocket and never send connect (closed with 3502 after
            client.stale_close_delay)
  connections  a process opens WebSocket connections from 127.0.0.2 as fast as it can (upgrade,
            then close), while newcomers from 127.0.0.1 open a connection every 50 ms and
            connect: reports how many newcomers got in. --rate-limit / --rate-limit-per-ip set
            client.connection_rate_limit / client.connection_rate_limit_per_ip; --centrifugo
            runs the real Centrifugo (CENTRIFUGO_BIN) instead, which has only the node-wide limit

    STRATA_BIN=.build/release/strata .venv/bin/python Benchmarks/scripts/flood_p99.py commands
    STRATA_BIN=.build/release/strata .venv/bin/python Benchmarks/scripts/flood_p99.py idle --idle 10000
    STRATA_BIN=.build/release/strata .venv/bin/python Benchmarks/scripts/flood_p99.py connections --rate-limit-per-ip 100

Prints one JSON line. The attackers and observers run in this process; the server is pinned to
CPU 0 when `taskset` exists.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "Tests" / "Integration"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from itsupport import connection_token  # noqa: E402
from local_strata import local_strata  # noqa: E402
from websockets.asyncio.client import connect as ws_connect  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))]


async def open_client(url: str, user: str):
    ws = await ws_connect(url, open_timeout=20, ping_interval=None, max_size=None, proxy=None)
    await ws.send(json.dumps({"id": 1, "connect": {"token": connection_token(user)}}))
    await ws.recv()
    return ws


async def observer(url: str, user: str, until: float, rtts: list[float], ws=None) -> None:
    """Round trips until `until`, on `ws` when given (a connection opened before the attack)."""
    ws = ws or await open_client(url, user)
    n = 1
    while time.monotonic() < until:
        n += 1
        start = time.monotonic()
        await ws.send(json.dumps({"id": n, "rpc": {"method": "ping"}}))
        while True:
            reply = json.loads((await ws.recv()).split("\n")[-1])
            if reply.get("id") == n:
                break
        rtts.append((time.monotonic() - start) * 1000)
        await asyncio.sleep(0.02)
    await ws.close()


def command_flood_process(url: str, seconds: float, served) -> None:
    """The attacker runs in a process of its own, at a lower priority than the observers: they
    measure the server, not a Python event loop the flood keeps busy."""
    os.nice(10)
    counter = [0]
    asyncio.run(command_flood(url, time.monotonic() + seconds, counter))
    served.value = counter[0]


async def command_flood(url: str, until: float, served: list[int]) -> None:
    ws = await open_client(url, "attacker")
    frame = "\n".join(json.dumps({"id": 1000 + i, "rpc": {"method": "ping"}}) for i in range(100))

    async def reader():
        try:
            async for message in ws:
                served[0] += message.count("\n") + 1
        except Exception:
            pass

    task = asyncio.create_task(reader())
    try:
        while time.monotonic() < until:
            await ws.send(frame)
    except Exception:
        pass
    await ws.close()
    task.cancel()


UPGRADE = (b"GET /connection/websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")


def idle_sockets(port: int, n: int, upgrade: bool = False) -> list[socket.socket]:
    """n sockets that send nothing (or only a WebSocket upgrade, then never a connect command)."""
    out = []
    for _ in range(n):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            if upgrade:
                s.sendall(UPGRADE)
            out.append(s)
        except OSError:
            break
    return out


def upgrade_flood_process(port: int, seconds: float, counts) -> None:
    """Opens WebSocket connections from 127.0.0.2 as fast as one process can, closing each once
    answered; counts the statuses (counts[0]: upgraded, counts[1]: 503, counts[2]: other)."""
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5, source_address=("127.0.0.2", 0)) as s:
                s.sendall(UPGRADE)
                head = s.recv(64)
            status = head.split(b" ", 2)[1] if head.count(b" ") >= 2 else b""
            index = 0 if status == b"101" else 1 if status == b"503" else 2
        except OSError:
            index = 2
        with counts.get_lock():
            counts[index] += 1


async def newcomers(url: str, until: float, joined: list[float], refused: list[int]) -> None:
    """A new client every 50 ms from 127.0.0.1: upgrade and connect, then close."""
    from websockets.exceptions import InvalidStatus

    n = 0
    while time.monotonic() < until:
        n += 1
        start = time.monotonic()
        try:
            ws = await open_client(url, f"new{n}")
            joined.append((time.monotonic() - start) * 1000)
            await ws.close()
        except InvalidStatus:
            refused[0] += 1
        await asyncio.sleep(max(0.0, 0.05 - (time.monotonic() - start)))


async def measure(url: str, observers: int, seconds: float) -> list[float]:
    rtts: list[float] = []
    until = time.monotonic() + seconds
    await asyncio.gather(*(observer(url, f"o{i}", until, rtts) for i in range(observers)))
    return rtts


async def main_async(args) -> dict:
    url = f"ws://127.0.0.1:{args.port}/connection/websocket"
    base = await measure(url, args.observers, args.seconds)
    result = {"attack": args.attack, "observers": args.observers,
              "alone_p50_ms": round(percentile(base, 0.5), 2), "alone_p99_ms": round(percentile(base, 0.99), 2)}
    if args.attack == "commands":
        spawn = multiprocessing.get_context("spawn")
        served = spawn.Value("q", 0)
        flood = spawn.Process(target=command_flood_process, args=(url, args.seconds + 1, served))
        flood.start()
        await asyncio.sleep(1)
        attacked = await measure(url, args.observers, args.seconds)
        await asyncio.to_thread(flood.join, 30)
        result["flood_commands_per_s"] = round(served.value / (args.seconds + 1))
    elif args.attack == "connections":
        spawn = multiprocessing.get_context("spawn")
        counts = spawn.Array("q", 3)
        flood = spawn.Process(target=upgrade_flood_process, args=(args.port, args.seconds + 1, counts))
        # The observers connect before the flood (a node-wide rate limit would refuse them too).
        wss = [await open_client(url, f"o{i}") for i in range(args.observers)]
        flood.start()
        await asyncio.sleep(1)
        until = time.monotonic() + args.seconds
        joined: list[float] = []
        refused = [0]
        attacked: list[float] = []
        await asyncio.gather(*(observer(url, "", until, attacked, ws) for ws in wss), newcomers(url, until, joined, refused))
        await asyncio.to_thread(flood.join, 30)
        result.update({
            "flood_upgraded": counts[0], "flood_refused_503": counts[1], "flood_other": counts[2],
            "newcomers_joined": len(joined), "newcomers_refused_503": refused[0],
            "newcomer_connect_p99_ms": round(percentile(joined, 0.99), 2)})
    else:
        # idle: closed 10 s after the accept. stale: told 3502 client.stale_close_delay (10 s)
        # after the upgrade, and the socket closed at the latest 5 s later (these never answer
        # the close frame). All should be gone 18 s after the last one opened.
        socks = await asyncio.to_thread(idle_sockets, args.port, args.idle, args.attack == "stale")
        opened = time.monotonic()
        result["sockets_opened"] = len(socks)
        attacked = await measure(url, args.observers, min(args.seconds, 8))
        await asyncio.sleep(max(0.0, 18 - (time.monotonic() - opened)))
        still_open = 0
        for s in socks:
            s.setblocking(False)
            try:
                while True:
                    data = s.recv(65536)
                    if data == b"":
                        break
            except BlockingIOError:
                still_open += 1
            except OSError:
                pass
            s.close()
        result["sockets_open_after_18s"] = still_open
    result["attacked_p50_ms"] = round(percentile(attacked, 0.5), 2)
    result["attacked_p99_ms"] = round(percentile(attacked, 0.99), 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("attack", choices=["commands", "idle", "stale", "connections"])
    parser.add_argument("--observers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--idle", type=int, default=10000)
    parser.add_argument("--port", type=int, default=18500)
    parser.add_argument("--rate-limit", type=int, default=0)
    parser.add_argument("--rate-limit-per-ip", type=int, default=0)
    parser.add_argument("--centrifugo", action="store_true")
    args = parser.parse_args()
    config = {
        # A queue large enough that the attacker, which reads its replies at a low priority, is
        # not simply disconnected as a slow reader (3008): the flood goes on for the whole run.
        "client": {"token": {"hmac_secret_key": "secret"}, "queue_max_size": 256 << 20,
                   "connection_rate_limit": args.rate_limit},
        "rpc": {"ping": {"enabled": True}}, "engine": {"type": "memory"}, "log": {"level": "error"}}
    if args.rate_limit_per_ip:
        config["client"]["connection_rate_limit_per_ip"] = args.rate_limit_per_ip
    with local_strata(config, args.port, "strata-flood-", centrifugo=args.centrifugo):
        result = asyncio.run(main_async(args))
        print(json.dumps({"server": "centrifugo" if args.centrifugo else "strata", **result, "config": config["client"]}))

if __name__ == "__main__":
    main()
