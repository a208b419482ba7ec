#!/usr/bin/env python3
"""Soak under churn (issue 21, campaign 2; docs/reliability.md).

N WebSocket clients (default 5,000) subscribe to 100 recoverable history channels with presence
on; a publisher publishes at a steady rate; every few seconds 10 % of the clients disconnect and
come back, recovering from the position they last saw; history TTLs are short, so the store's
sweeper keeps expiring streams. Every 10 s the server's RSS and open file descriptors are
sampled (and its CPU time); every publication carries its send time, so each client measures
delivery latency (p99 per minute — measured by Python clients sharing one core, so it includes
their own event loop's delays). At the end the publisher stops, and every client's publications are checked
against what the API acknowledged for its channel: lost and duplicated must both be 0.

    STRATA_BIN=.build/release/strata .venv/bin/python Benchmarks/scripts/soak.py --minutes 30

Writes a JSON summary line to stdout, the samples to --out (JSON lines), and a plot of RSS and
descriptors over time to --svg.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "Tests" / "Integration"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from itsupport import API_KEY, connection_token  # noqa: E402
from local_strata import local_strata  # noqa: E402
from websockets.asyncio.client import connect as ws_connect  # noqa: E402

CHANNELS = 100
NAMESPACE = {"name": "soak", "history_size": 200, "history_ttl": "60s", "history_meta_ttl": "120s",
             "force_recovery": True, "presence": True, "join_leave": False, "allow_subscribe_for_client": True}


def channel_of(i: int) -> str:
    return f"soak:c{i % CHANNELS}"


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))]


class Client:
    def __init__(self, i: int, url: str, latencies: list[list[float]], start: float) -> None:
        self.i, self.url, self.channel = i, url, channel_of(i)
        self.latencies, self.start = latencies, start
        self.epoch = ""
        self.first: int | None = None   # the position it first subscribed at
        self.seen: list[int] = []
        self.position = 0
        self.not_recovered = 0
        self.reconnects = 0
        self.errors = 0
        self.ws = None
        self.reader: asyncio.Task | None = None

    def note(self, pub: dict, live: bool) -> None:
        offset = int(pub.get("offset", 0))
        self.seen.append(offset)
        self.position = max(self.position, offset)
        if live:
            sent = (pub.get("data") or {}).get("t")
            if sent:
                minute = int((time.time() - self.start) // 60)
                while len(self.latencies) <= minute:
                    self.latencies.append([])
                self.latencies[minute].append((time.time() - sent) * 1000)

    async def connect(self, recover: bool) -> None:
        ws = await ws_connect(self.url, open_timeout=30, close_timeout=2, ping_interval=None, max_size=None, proxy=None)
        sub: dict = {"channel": self.channel}
        if recover:
            sub.update({"recover": True, "epoch": self.epoch, "offset": self.position})
        await ws.send(json.dumps({"id": 1, "connect": {"token": connection_token(f"u{self.i}")}}) + "\n"
                      + json.dumps({"id": 2, "subscribe": sub}))
        done = 0
        while done < 2:
            for line in (await asyncio.wait_for(ws.recv(), 30)).split("\n"):
                m = json.loads(line)
                if m.get("id") in (1, 2):
                    done += 1
                    if "error" in m:
                        raise RuntimeError(str(m))
                    result = m.get("subscribe")
                    if result is not None:
                        if recover and not result.get("recovered"):
                            self.not_recovered += 1
                        self.epoch = result.get("epoch", self.epoch)
                        if self.first is None:
                            self.first = int(result.get("offset", 0))
                            self.position = self.first
                        for p in result.get("publications", []):
                            self.note(p, live=False)
                elif (m.get("push") or {}).get("pub") is not None:
                    self.note(m["push"]["pub"], live=True)
        self.ws = ws
        self.reader = asyncio.create_task(self.read(ws))

    async def read(self, ws) -> None:
        try:
            async for frame in ws:
                for line in frame.split("\n"):
                    m = json.loads(line)
                    if m == {}:
                        await ws.send("{}")  # the server's ping
                    elif (m.get("push") or {}).get("pub") is not None:
                        self.note(m["push"]["pub"], live=True)
        except Exception:
            pass

    async def bounce(self) -> None:
        """Disconnects and comes back recovering (10 % of clients do it every churn period)."""
        if self.ws is not None:
            await self.ws.close()
            if self.reader:
                await self.reader
        self.reconnects += 1
        try:
            await self.connect(recover=True)
        except Exception:
            self.errors += 1


class Publisher(threading.Thread):
    def __init__(self, api_url: str, rate: float) -> None:
        super().__init__(daemon=True)
        self.api_url, self.rate = api_url, rate
        self.acked: dict[str, list[int]] = {channel_of(i): [] for i in range(CHANNELS)}
        self.failed = 0
        self.halt = threading.Event()

    def run(self) -> None:
        n = 0
        next_at = time.monotonic()
        while not self.halt.is_set():
            channel = channel_of(n)
            n += 1
            body = json.dumps({"channel": channel, "data": {"t": time.time(), "n": n}}).encode()
            req = urllib.request.Request(f"{self.api_url}/publish", data=body, headers={"X-API-Key": API_KEY}, method="POST")
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    result = json.loads(resp.read())
                self.acked[channel].append(int(result["result"]["offset"]))
            except Exception:
                self.failed += 1
            next_at += 1 / self.rate
            time.sleep(max(0.0, next_at - time.monotonic()))


def sample(pid: int) -> tuple[int, int, float]:
    """The server's RSS (KiB), open descriptors and CPU seconds used so far."""
    rss = 0
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return rss, len(os.listdir(f"/proc/{pid}/fd")), cpu


def svg(samples: list[dict], path: Path) -> None:
    """RSS (MiB) and open descriptors over time, two polylines on one chart."""
    w, h, pad = 720, 300, 50
    tmax = max(s["t"] for s in samples) or 1
    rss_max = max(s["rss_kb"] for s in samples) / 1024 * 1.1 or 1
    fd_max = max(s["fds"] for s in samples) * 1.1 or 1

    def pts(key, top, scale):
        return " ".join(f"{pad + (s['t'] / tmax) * (w - 2 * pad):.1f},{h - pad - (s[key] / scale) / top * (h - 2 * pad):.1f}"
                        for s in samples)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
        f'<rect width="{w}" height="{h}" fill="white"/>',
        f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="black"/>',
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{h - pad}" stroke="black"/>',
        f'<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="{pts("rss_kb", rss_max, 1024)}"/>',
        f'<polyline fill="none" stroke="#d62728" stroke-width="2" points="{pts("fds", fd_max, 1)}"/>',
        f'<text x="{pad}" y="{pad - 20}">Strata under churn: RSS (blue, 0–{rss_max:.0f} MiB) and open descriptors (red, 0–{fd_max:.0f})</text>',
        f'<text x="{w - pad}" y="{h - pad + 20}" text-anchor="end">{tmax / 60:.0f} min</text>',
        f'<text x="{pad}" y="{h - pad + 20}">0</text>',
        '</svg>',
    ]
    path.write_text("\n".join(parts) + "\n")


async def soak(args, pid: int, port: int) -> dict:
    url = f"ws://127.0.0.1:{port}/connection/websocket"
    api = f"http://127.0.0.1:{port}/api"
    start = time.time()
    latencies: list[list[float]] = []
    clients = [Client(i, url, latencies, start) for i in range(args.clients)]
    for i in range(0, len(clients), 250):
        await asyncio.gather(*(c.connect(recover=False) for c in clients[i:i + 250]))
    publisher = Publisher(api, args.rate)
    publisher.start()
    samples = []
    t0 = time.monotonic()
    end = t0 + args.minutes * 60
    next_churn = t0 + args.churn
    next_sample = t0
    while time.monotonic() < end:
        now = time.monotonic()
        if now >= next_sample:
            rss, fds, cpu = sample(pid)
            samples.append({"t": round(now - t0, 1), "rss_kb": rss, "fds": fds, "cpu_s": cpu})
            next_sample += 10
        if now >= next_churn:
            await asyncio.gather(*(c.bounce() for c in random.sample(clients, len(clients) // 10)))
            next_churn += args.churn
        await asyncio.sleep(0.2)
    publisher.halt.set()
    publisher.join(15)
    await asyncio.sleep(3)  # the last publications reach everyone
    lost = dups = 0
    for c in clients:
        last = publisher.acked[c.channel][-1] if publisher.acked[c.channel] else 0
        seen = set(c.seen)
        dups += len(c.seen) - len(seen)
        lost += len([o for o in range(c.first + 1, last + 1) if o not in seen]) if c.first is not None else 0
    for c in clients:
        if c.ws is not None:
            await c.ws.close()
    warm = [s["rss_kb"] for s in samples if s["t"] >= 120] or [s["rss_kb"] for s in samples]
    per_minute = [round(percentile(m, 0.99), 1) for m in latencies]
    if args.out:
        Path(args.out).write_text("\n".join(json.dumps(s) for s in samples) + "\n")
    if args.svg:
        svg(samples, Path(args.svg))
    return {
        "clients": args.clients, "minutes": args.minutes, "publish_rate": args.rate, "churn_every_s": args.churn,
        "publications_acked": sum(len(v) for v in publisher.acked.values()), "publish_failures": publisher.failed,
        "reconnects": sum(c.reconnects for c in clients), "reconnect_errors": sum(c.errors for c in clients),
        "not_recovered": sum(c.not_recovered for c in clients), "lost": lost, "duplicates": dups,
        "deliveries": sum(len(m) for m in latencies),
        "p99_ms_per_minute": per_minute,
        "rss_mb_after_warmup_min_max": [round(min(warm) / 1024, 1), round(max(warm) / 1024, 1)],
        "rss_mb_first_last": [round(samples[0]["rss_kb"] / 1024, 1), round(samples[-1]["rss_kb"] / 1024, 1)],
        "fds_min_max": [min(s["fds"] for s in samples), max(s["fds"] for s in samples)],
        "server_cpu_percent": round(100 * (samples[-1]["cpu_s"] - samples[0]["cpu_s"]) / max(1, samples[-1]["t"] - samples[0]["t"]), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=5000)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--rate", type=float, default=50, help="publications per second, over all channels")
    parser.add_argument("--churn", type=float, default=5, help="seconds between two waves of 10 %% reconnects")
    parser.add_argument("--port", type=int, default=18600)
    parser.add_argument("--out", default="")
    parser.add_argument("--svg", default="")
    args = parser.parse_args()
    config = {"client": {"token": {"hmac_secret_key": "secret"}}, "http_api": {"key": API_KEY},
              "engine": {"type": "lmdb"}, "log": {"level": "warn"}, "channel": {"namespaces": [NAMESPACE]}}
    with local_strata(config, args.port, "strata-soak-") as server:
        print(json.dumps(asyncio.run(soak(args, server.pid, args.port))))

if __name__ == "__main__":
    main()
