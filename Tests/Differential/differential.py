#!/usr/bin/env python3
"""Differential check: replays the same exchanges against Strata and a Centrifugo binary.

    CENTRIFUGO_BIN=/path/to/centrifugo STRATA_BIN=.build/debug/strata \
        .venv/bin/python Tests/Differential/differential.py [--engine memory|redis] [-k NAME] [-v]

Both servers run with the same config (`exchanges.CONFIG`, plus the engine), each on its own
loopback port. Every exchange in `exchanges.py` (raw WebSocket frames, HTTP API requests, or both
interleaved) runs against each, and the transcripts are compared after volatile values (client
ids, epochs, ttls, times) are replaced by placeholders. Differences that `docs/compatibility.md`
documents are marked `known` in the exchange and reported without failing; any other difference
fails the run (exit status 1). Without CENTRIFUGO_BIN nothing runs (exit status 0, "skipped").

The transcripts are what a client or backend would notice: each WebSocket message in order,
the close code and reason (or that the connection stayed open), and each HTTP status with its
content type and body.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import copy
import difflib
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))

import exchanges as ex  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
QUIET = 0.15  # seconds without a message that end a read
MAX_WAIT = 1.5  # longest read after one step

# --------------------------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    name: str
    argv: list[str]
    port: int
    workdir: Path
    proc: Optional[subprocess.Popen] = None

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/connection/websocket"

    def start(self) -> None:
        log = open(self.workdir / f"{self.name}.log", "wb")
        self.proc = subprocess.Popen(self.argv, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start; see {self.workdir / (self.name + '.log')}")
            try:
                with _opener.open(self.http + "/health", timeout=1) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not answer /health")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def make_servers(strata_bin: str, centrifugo_bin: str, engine: str, workdir: Path, redis_url: str) -> list[Server]:
    out = []
    for name, binary in (("centrifugo", centrifugo_bin), ("strata", strata_bin)):
        cfg = copy.deepcopy(ex.CONFIG)
        if engine == "redis":
            cfg["engine"] = {"type": "redis", "redis": {"address": redis_url, "prefix": f"diff-{name}-{uuid.uuid4().hex[:6]}"}}
        else:
            cfg["engine"] = {"type": "memory"}
        d = workdir / name
        d.mkdir(parents=True)
        (d / "config.json").write_text(json.dumps(cfg, indent=1))
        port = free_port()
        if name == "strata":
            argv = [binary, "--config", "config.json", "--port", str(port)]
        else:
            argv = [binary, "--config", "config.json", "--http_server.port", str(port)]
        out.append(Server(name, argv, port, d))
    return out


# --------------------------------------------------------------------------------------------
# Placeholders in exchanges
# --------------------------------------------------------------------------------------------


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwt(claims: dict, secret: str = ex.SECRET) -> str:
    header = _b64url(b'{"alg":"HS256","typ":"JWT"}')
    body = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    sig = hmac.new(secret.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64url(sig)}"


def resolve(value: Any, unique: str) -> Any:
    """Replaces `ex.Token` objects by signed tokens and `$U` in strings by the exchange's id."""
    if isinstance(value, ex.Token):
        now = int(time.time())
        claims: dict = {"sub": resolve(value.user, unique), "iat": now}
        if value.ttl is not None:
            claims["exp"] = now + value.ttl
        claims.update(resolve(value.claims, unique))
        return jwt(claims)
    if isinstance(value, str):
        if "$TOKEN" in value:
            value = value.replace("$TOKEN", resolve(ex.Token(), unique))
        return value.replace("$U", unique)
    if isinstance(value, bytes):
        return resolve(value.decode(), unique).encode()
    if isinstance(value, dict):
        return {resolve(k, unique): resolve(v, unique) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, unique) for v in value]
    return value


# --------------------------------------------------------------------------------------------
# Running one exchange
# --------------------------------------------------------------------------------------------


def http_call(server: Server, step: ex.HTTP, unique: str, raw: bool = False) -> list[str]:
    body = resolve(step.body, unique)
    if not isinstance(body, bytes):
        body = json.dumps(body).encode()
    headers = {"X-API-Key": ex.API_KEY} if step.auth else {}
    headers.update(step.headers)
    req = urllib.request.Request(server.http + resolve(step.path, unique), data=body, method=step.verb, headers=headers)
    try:
        with _opener.open(req, timeout=5) as r:
            status, ctype, text = r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        status, ctype, text = e.code, e.headers.get("Content-Type", ""), e.read()
    ctype = (ctype or "").split(";")[0]
    decoded = text.decode("utf-8", "replace")
    if ctype == "application/json" and not raw:
        try:
            decoded = json.dumps(json.loads(decoded), sort_keys=True)
        except ValueError:
            decoded = "INVALID JSON: " + decoded
    return [f"http {step.verb} {step.path} -> {status} {ctype or '-'} {decoded.strip()}"]


async def run_exchange(server: Server, exchange: ex.Exchange, unique: str) -> list[str]:
    import websockets
    from websockets.asyncio.client import connect as ws_connect

    conns: dict[str, Any] = {}
    closed: dict[str, str] = {}
    lines: list[str] = []

    async def read(name: str, total: float) -> None:
        w = conns[name]
        deadline = time.monotonic() + total
        while name not in closed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                frame = await asyncio.wait_for(w.recv(), min(remaining, QUIET))
            except asyncio.TimeoutError:
                return
            except websockets.ConnectionClosed:
                code = w.close_code
                closed[name] = f"{name} closed without a close frame" if code in (None, 1006) else f"{name} closed {code} {w.close_reason!r}"
                lines.append(closed[name])
                return
            text = frame.decode("utf-8", "replace") if isinstance(frame, bytes) else frame
            for part in text.split("\n"):
                if part.strip():
                    if exchange.raw:
                        lines.append(f"{name} <raw {part}")
                        continue
                    try:
                        lines.append(f"{name} < {json.dumps(json.loads(part), sort_keys=True)}")
                    except ValueError:
                        lines.append(f"{name} < INVALID JSON: {part}")

    try:
        for step in exchange.steps:
            if isinstance(step, ex.Send):
                if step.conn not in conns:
                    conns[step.conn] = await ws_connect(server.ws, ping_interval=None, proxy=None, max_size=None, open_timeout=5)
                if step.conn in closed:
                    continue
                payload = resolve(step.frame, unique)
                if isinstance(payload, (dict, list)):
                    payload = json.dumps(payload, separators=(",", ":"))
                if step.binary and isinstance(payload, str):
                    payload = payload.encode()
                try:
                    await conns[step.conn].send(payload)
                except websockets.ConnectionClosed:
                    pass
                await read(step.conn, step.wait)
            elif isinstance(step, ex.HTTP):
                lines += await asyncio.to_thread(http_call, server, step, unique, exchange.raw)
                for name in list(conns):
                    await read(name, QUIET)
            elif isinstance(step, ex.Wait):
                for name in list(conns):
                    await read(name, step.seconds)
            lines.append(STEP)
        for name in conns:
            if name not in closed:
                await read(name, QUIET)
            if name not in closed:
                lines.append(f"{name} open")
    finally:
        for w in conns.values():
            try:
                await asyncio.wait_for(w.close(), 2)
            except Exception:
                pass
    return lines


# --------------------------------------------------------------------------------------------
# Normalisation: what differs between any two runs of the same server is not a difference
# --------------------------------------------------------------------------------------------

STEP = "--- step"


def order(lines: list[str], unordered: bool) -> list[str]:
    """Drops the step markers; for an exchange whose messages within one step have no defined
    order (a publish reply and the publication's push on Redis), sorts each step's lines."""
    out: list[str] = []
    group: list[str] = []
    for line in lines + [STEP]:
        if line == STEP:
            out += sorted(group) if unordered else group
            group = []
        else:
            group.append(line)
    return out


UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def normalize(lines: list[str], engine: str = "memory", raw: bool = False) -> list[str]:
    """`raw`: the exchange compares bytes (JSON text as sent, whitespace included); only volatile
    values are replaced, by pattern."""
    epochs: dict[str, str] = {}

    def walk(v: Any, key: str = "") -> Any:
        if isinstance(v, dict):
            v = {("<uuid>" if UUID.match(k) else k): x for k, x in v.items()}
            if key == "nodes" or "num_clients" in v and "uid" in v:
                # `info`: Centrifugo's counts are snapshots refreshed every 3 s, and its metrics
                # block is not served by Strata (docs/compatibility.md).
                v = {k: ("<count>" if k.startswith("num_") else x) for k, x in v.items() if k != "metrics"}
                v["name"] = "<node name>"
            if key == "publications" and engine == "memory":
                # Centrifugo's memory engine leaves the epoch it stamps on a live offset-1 push
                # in the stored publication; its Redis engine and Strata do not
                # (docs/compatibility.md).
                v = {k: x for k, x in v.items() if k != "epoch"}
            return {k: walk(x, k) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x, key) for x in v]
        if key in ("epoch", "version_epoch") and isinstance(v, str) and v:
            return epochs.setdefault(v, f"<epoch{len(epochs) + 1}>")
        if key in ("client", "uid") and isinstance(v, str) and UUID.match(v):
            return "<uuid>"
        if key == "ttl" and isinstance(v, int):
            return "<ttl>"
        if key in ("time", "uptime") and isinstance(v, int):
            return "<time>"
        if key == "version" and isinstance(v, str):
            return "<server version>"
        if key in ("ping", "pong") and not isinstance(v, dict):
            return v
        return v

    def raw_text(text: str) -> str:
        text = re.sub(r'"epoch":"([^"]+)"', lambda m: f'"epoch":"{epochs.setdefault(m.group(1), f"<epoch{len(epochs) + 1}>")}"', text)
        text = re.sub(r'"(ttl|time|uptime)":\d+', r'"\1":"<\1>"', text)
        text = re.sub(r'"version":"[^"]*"', '"version":"<server version>"', text)
        return re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<uuid>", text)

    out = []
    for line in lines:
        if raw:
            out.append(raw_text(line))
            continue
        m = re.match(r"^(.*?(?:< |-> \d+ \S+ ))(\{.*|\[.*)$", line)
        if m:
            try:
                out.append(m.group(1) + json.dumps(walk(json.loads(m.group(2))), sort_keys=True))
                continue
            except ValueError:
                pass
        out.append(line)
    return out


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    name: str
    same: bool
    known: str
    diff: list[str] = field(default_factory=list)


def run(strata_bin: str, centrifugo_bin: str, engine: str = "memory", pattern: str = "", redis_url: str = "redis://127.0.0.1:6379") -> list[Outcome]:
    workdir = Path(tempfile.mkdtemp(prefix="strata-diff-"))
    strata_bin, centrifugo_bin = (str(Path(b).resolve()) for b in (strata_bin, centrifugo_bin))
    servers = make_servers(strata_bin, centrifugo_bin, engine, workdir, redis_url)
    outcomes = []
    try:
        for s in servers:
            s.start()
        run_id = uuid.uuid4().hex[:6]
        for i, exchange in enumerate(ex.EXCHANGES):
            if pattern and pattern not in exchange.name:
                continue
            if engine not in exchange.engines:
                continue
            unique = f"{run_id}{i}"
            transcripts = [
                order(normalize(asyncio.run(run_exchange(s, exchange, unique)), engine, exchange.raw), exchange.unordered)
                for s in servers
            ]
            same = transcripts[0] == transcripts[1]
            diff = [] if same else list(difflib.unified_diff(transcripts[0], transcripts[1], "centrifugo", "strata", lineterm="", n=20))
            outcomes.append(Outcome(exchange.name, same, exchange.known, diff))
    finally:
        for s in servers:
            s.stop()
    shutil.rmtree(workdir, ignore_errors=True)
    return outcomes


def report(outcomes: list[Outcome], verbose: bool) -> int:
    unexpected = 0
    for o in outcomes:
        if o.same:
            if verbose:
                print(f"same     {o.name}")
            continue
        if o.known:
            print(f"known    {o.name}  ({o.known})")
            if verbose:
                print("\n".join("         " + d for d in o.diff))
            continue
        unexpected += 1
        print(f"DIFFERS  {o.name}")
        print("\n".join("         " + d for d in o.diff))
    same = sum(o.same for o in outcomes)
    known = sum(1 for o in outcomes if not o.same and o.known)
    print(f"{len(outcomes)} exchanges: {same} identical, {known} known differences, {unexpected} unexpected")
    return 1 if unexpected else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--engine", choices=["memory", "redis"], default="memory")
    ap.add_argument("--redis", default=os.environ.get("DIFF_REDIS_URL", "redis://127.0.0.1:6379"))
    ap.add_argument("-k", default="", help="only exchanges whose name contains this")
    ap.add_argument("-v", action="store_true", help="list identical exchanges and known diffs too")
    args = ap.parse_args()
    centrifugo = os.environ.get("CENTRIFUGO_BIN")
    if not centrifugo:
        print("skipped: set CENTRIFUGO_BIN to a Centrifugo v6 binary")
        return 0
    strata = os.environ.get("STRATA_BIN") or str(REPO / ".build" / "debug" / "strata")
    return report(run(strata, centrifugo, args.engine, args.k, args.redis), args.v)


if __name__ == "__main__":
    sys.exit(main())
