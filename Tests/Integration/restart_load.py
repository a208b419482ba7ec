"""A graceful restart under load (issue 21, campaign 7), as one reusable run.

N WebSocket clients subscribe to recoverable channels of an LMDB-backed server while publishers
keep publishing through the server API. The server gets SIGTERM, exits, and is started again on
the same port and store; every client resubscribes with the position it last saw. Measured:

- how many clients were told `3001 shutdown` (the close frame) before the socket closed;
- API publishes acknowledged, and those that failed (connection refused or reset while the server
  was down: each failed clearly, none hung);
- how many clients recovered (`recovered: true`), and publications missing or duplicated — every
  acknowledged publication of a client's channel must reach it exactly once, live or recovered;
- every acknowledged publication in history after the restart.

Used by `test_restart_under_load.py` (a small N in `make test`) and from the command line for
the full figure (docs/reliability.md):

    STRATA_BIN=.build/release/strata .venv/bin/python Tests/Integration/restart_load.py --clients 1000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from websockets.asyncio.client import connect as ws_connect

sys.path.insert(0, str(Path(__file__).parent))
from itsupport import API_KEY, connection_token  # noqa: E402

CHANNELS = 10
NAMESPACE = {"name": "restart", "history_size": 100000, "history_ttl": "3600s", "force_recovery": True,
             "allow_subscribe_for_client": True}
CONFIG = {"engine": {"type": "lmdb", "lmdb": {"durability": "sync"}},
          "channel": {"namespaces": [NAMESPACE]}}


def channel_of(i: int) -> str:
    return f"restart:c{i % CHANNELS}"


@dataclass
class ClientRecord:
    channel: str
    epoch: str = ""
    offsets: list[int] = field(default_factory=list)
    shutdown_code: Optional[int] = None
    shutdown_reason: str = ""
    recovered: Optional[bool] = None
    error: str = ""


def decode(frame) -> list[dict]:
    text = frame.decode() if isinstance(frame, bytes) else frame
    return [json.loads(line) for line in text.split("\n") if line.strip()]


async def read_until_closed(ws, rec: ClientRecord, shutdown: bool = False) -> None:
    """Collects publication offsets until the socket closes; `shutdown`: records the close code."""
    try:
        async for frame in ws:
            for m in decode(frame):
                pub = (m.get("push") or {}).get("pub")
                if pub is not None:
                    rec.offsets.append(int(pub.get("offset", 0)))
                elif m == {}:
                    await ws.send("{}")
    except Exception:
        pass
    if shutdown:
        rec.shutdown_code, rec.shutdown_reason = ws.close_code, ws.close_reason or ""


async def subscribe(url: str, rec: ClientRecord, user: str, recover: bool) -> object:
    ws = await ws_connect(url, open_timeout=20, close_timeout=2, ping_interval=None, max_size=None, proxy=None)
    sub: dict = {"channel": rec.channel}
    if recover:
        sub.update({"recover": True, "epoch": rec.epoch, "offset": max(rec.offsets, default=0)})
    await ws.send(json.dumps({"id": 1, "connect": {"token": connection_token(user)}}) + "\n"
                  + json.dumps({"id": 2, "subscribe": sub}))
    replies = 0
    while replies < 2:
        for m in decode(await asyncio.wait_for(ws.recv(), 20)):
            if "error" in m:
                raise RuntimeError(f"{m}")
            if m.get("id") == 2:
                result = m.get("subscribe", {})
                rec.epoch = result.get("epoch", rec.epoch)
                if recover:
                    rec.recovered = bool(result.get("recovered"))
                for p in result.get("publications", []):
                    rec.offsets.append(int(p.get("offset", 0)))
                replies += 1
            elif m.get("id") == 1:
                replies += 1
            elif (m.get("push") or {}).get("pub") is not None:
                rec.offsets.append(int(m["push"]["pub"].get("offset", 0)))
    return ws


class Publisher:
    """Threads publishing round-robin to the channels; acked offsets per channel, failures."""

    def __init__(self, api_url: str, threads: int = 4, interval: float = 0.002) -> None:
        self.api_url = api_url
        self.acked: dict[str, list[int]] = {channel_of(i): [] for i in range(CHANNELS)}
        self.failed = 0
        self.slowest = 0.0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.interval = interval
        self.threads = [threading.Thread(target=self.run, args=(t,), daemon=True) for t in range(threads)]

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def finish(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(15)

    def run(self, worker: int) -> None:
        n = worker
        while not self.stop.is_set():
            channel = channel_of(n)
            n += len(self.threads)
            body = json.dumps({"channel": channel, "data": {"n": n}}).encode()
            req = urllib.request.Request(f"{self.api_url}/publish", data=body, headers={"X-API-Key": API_KEY}, method="POST")
            start = time.monotonic()
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    result = json.loads(resp.read())
                ok = "result" in result
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                ok = False
            took = time.monotonic() - start
            with self.lock:
                self.slowest = max(self.slowest, took)
                if ok:
                    self.acked[channel].append(int(result["result"]["offset"]))
                else:
                    self.failed += 1
            if not ok:
                time.sleep(0.05)
            time.sleep(self.interval)


async def run(n: int, ws_url: str, api_url: str, stop_server: Callable[[], int], start_server: Callable[[], None],
              load_seconds: float = 2.0) -> dict:
    records = [ClientRecord(channel_of(i)) for i in range(n)]
    sockets = []
    for i in range(0, n, 100):  # connect in waves of 100
        sockets += await asyncio.gather(*(subscribe(ws_url, records[j], f"u{j}", False) for j in range(i, min(n, i + 100))))
    readers = [asyncio.create_task(read_until_closed(ws, rec, shutdown=True)) for ws, rec in zip(sockets, records)]
    publisher = Publisher(api_url)
    publisher.start()
    await asyncio.sleep(load_seconds)
    t0 = time.monotonic()
    exit_status = await asyncio.to_thread(stop_server)
    shutdown_s = time.monotonic() - t0
    await asyncio.wait_for(asyncio.gather(*readers), 30)
    await asyncio.sleep(0.3)  # publishes fail while the server is down
    t1 = time.monotonic()
    await asyncio.to_thread(start_server)
    down_s = time.monotonic() - t1
    await asyncio.sleep(load_seconds / 2)
    back = []
    for i in range(0, n, 100):
        back += await asyncio.gather(*(subscribe(ws_url, records[j], f"u{j}", True) for j in range(i, min(n, i + 100))))
    await asyncio.sleep(load_seconds / 2)
    publisher.finish()
    await asyncio.sleep(1.0)  # the last publications reach the subscribers
    readers = [asyncio.create_task(read_until_closed(ws, rec)) for ws, rec in zip(back, records)]
    await asyncio.sleep(0.5)
    for ws in back:
        await ws.close()
    await asyncio.gather(*readers)

    missing = duplicates = 0
    for rec in records:
        acked = publisher.acked[rec.channel]
        seen = rec.offsets
        duplicates += len(seen) - len(set(seen))
        first = min(seen, default=1)
        missing += len([o for o in acked if o >= first and o not in set(seen)])
    in_history = 0
    lost_in_history = 0
    for channel, offsets in publisher.acked.items():
        req = urllib.request.Request(f"{api_url}/history", data=json.dumps({"channel": channel, "limit": -1}).encode(),
                                     headers={"X-API-Key": API_KEY}, method="POST")
        with urllib.request.urlopen(req, timeout=10) as resp:
            stored = {int(p["offset"]) for p in json.loads(resp.read())["result"]["publications"]}
        in_history += len(stored)
        lost_in_history += len([o for o in offsets if o not in stored])
    return {
        "clients": n,
        "told_3001_shutdown": sum(1 for r in records if (r.shutdown_code, r.shutdown_reason) == (3001, "shutdown")),
        "exit_status": exit_status,
        "shutdown_s": round(shutdown_s, 2),
        "restart_s": round(down_s, 2),
        "publishes_acked": sum(len(v) for v in publisher.acked.values()),
        "publishes_failed_clearly": publisher.failed,
        "slowest_publish_s": round(publisher.slowest, 2),
        "recovered": sum(1 for r in records if r.recovered),
        "not_recovered": sum(1 for r in records if r.recovered is False),
        "missing": missing,
        "duplicates": duplicates,
        "acked_not_in_history": lost_in_history,
    }


class Server:
    """A strata process for the command-line run: a fresh store, a fixed port."""

    def __init__(self, binary: str, port: int) -> None:
        self.binary, self.port = binary, port
        self.dir = Path(tempfile.mkdtemp(prefix="strata-restart-"))
        config = json.loads(json.dumps(CONFIG))
        config.update({"client": {"token": {"hmac_secret_key": "secret"}, "allowed_origins": ["*"]},
                       "http_api": {"key": API_KEY}, "health": {"enabled": True}, "log": {"level": "warn"}})
        (self.dir / "config.json").write_text(json.dumps(config))
        self.proc: Optional[subprocess.Popen] = None

    def start(self) -> None:
        self.proc = subprocess.Popen([self.binary, "--config", "config.json", "--port", str(self.port)], cwd=self.dir,
                                     stdout=subprocess.DEVNULL, stderr=open(self.dir / "stderr.log", "ab"))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=1)
                return
            except Exception:
                time.sleep(0.05)
        raise RuntimeError(f"strata did not start: see {self.dir}/stderr.log")

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--port", type=int, default=18400)
    parser.add_argument("--seconds", type=float, default=3.0, help="load before the restart (and after it)")
    args = parser.parse_args()
    server = Server(os.path.abspath(os.environ.get("STRATA_BIN", ".build/release/strata")), args.port)
    server.start()
    try:
        result = asyncio.run(run(args.clients, f"ws://127.0.0.1:{args.port}/connection/websocket",
                                 f"http://127.0.0.1:{args.port}/api", server.stop, server.start, args.seconds))
    finally:
        if server.proc and server.proc.poll() is None:
            server.stop()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
