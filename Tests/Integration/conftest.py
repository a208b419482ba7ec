"""Fixtures that run the real `strata` binary for the end-to-end suite.

Binary: $STRATA_BIN, default <repo>/.build/debug/strata (build it first; the suite never builds).
Each server gets its own JSON config (DEFAULT_CONFIG deep-merged with per-test overrides), a free
loopback port, and is started as `strata --config CONFIG --port PORT`. It is ready when
GET /health answers 200 (20 s limit) and is stopped with SIGTERM (SIGKILL after 5 s).

Env knobs: STRATA_BIN (binary path), STRATA_IT_LOG_LEVEL (server log.level, default "info").
"""

from __future__ import annotations

import asyncio
import atexit
import copy
import json
import os
import signal
import ssl
import socket
import subprocess
import time
import uuid
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable, Optional

import pytest

from itsupport import API_KEY, PROTOCOLS, ClientEvents, connection_token, new_client

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BIN = REPO_ROOT / ".build" / "debug" / "strata"

STARTUP_TIMEOUT = 20.0
STOP_GRACE = 5.0

DEFAULT_CONFIG: dict = {
    "http_server": {"address": "127.0.0.1"},
    "health": {"enabled": True},
    "log": {"level": "info"},
    "client": {"token": {"hmac_secret_key": "secret"}, "allowed_origins": ["*"]},
    "http_api": {"key": API_KEY},
    "channel": {
        "without_namespace": {
            "allow_subscribe_for_client": True,
            "presence": True,
            "join_leave": True,
            "force_push_join_leave": True,
            "allow_presence_for_subscriber": True,
            "allow_history_for_subscriber": True,
            "history_size": 100,
            "history_ttl": "300s",
        },
        "namespaces": [
            {
                "name": "chat",
                "history_size": 100,
                "history_ttl": "300s",
                "force_recovery": True,
                "allow_subscribe_for_client": True,
                "allow_history_for_subscriber": True,
                "allow_publish_for_subscriber": True,
                "presence": True,
                "join_leave": True,
                "force_push_join_leave": True,
                "allow_presence_for_subscriber": True,
            },
            {"name": "nohist", "allow_subscribe_for_client": True},
            {"name": "locked"},
        ],
    },
}


def deep_merge(base: dict, override: dict) -> dict:
    """Merge `override` into `base` in place: nested dicts merge key by key, anything else
    (lists included, e.g. channel.namespaces) replaces the value."""
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def build_config(overrides: Optional[dict] = None) -> dict:
    cfg = copy.deepcopy(DEFAULT_CONFIG)
    level = os.environ.get("STRATA_IT_LOG_LEVEL")
    if level:
        cfg["log"]["level"] = level
    if overrides:
        deep_merge(cfg, overrides)
    return cfg


def start_once(strata_bin, workdir: Path, overrides: dict) -> subprocess.CompletedProcess:
    """Runs the server once with `overrides` on a free port, for tests of what stops a start:
    the finished process (exit status, output). Waits at most 30 s."""
    path = workdir / "config.json"
    path.write_text(json.dumps(build_config(overrides)))
    return subprocess.run([str(strata_bin), "--config", str(path), "--port", str(free_port())], capture_output=True, text=True, timeout=30)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, limit: int = 6000) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return "<no output file>"
    text = data[-limit:].decode("utf-8", "replace")
    return ("...\n" if len(data) > limit else "") + (text or "<empty>")


_NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
# The start-up health probe of a TLS server checks only that it answers: the certificate is the
# test's own (test_tls.py checks it properly).
_NO_PROXY_TLS_OPENER = urllib.request.build_opener(
    urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=ssl._create_unverified_context()))
_LIVE_PROCESSES: set = set()


@atexit.register
def _kill_leftovers() -> None:  # a crashed/interrupted run must not leave servers behind
    for proc in list(_LIVE_PROCESSES):
        if proc.poll() is None:
            proc.kill()


class StrataServer:
    """One running strata process."""

    def __init__(self, binary: Path, config: dict, workdir: Path) -> None:
        self.binary = binary
        self.config = config
        self.workdir = workdir
        self.port = 0
        self.proc: Optional[subprocess.Popen] = None
        self.config_path = workdir / "config.json"
        self.stdout_path = workdir / "stdout.log"
        self.stderr_path = workdir / "stderr.log"
        self.died_unexpectedly = False
        # Command-line flags after --config/--port (e.g. "--uni_sse.enabled").
        self.extra_args: list[str] = []
        self.extra_env: dict[str, str] = {}

    # URLs -------------------------------------------------------------------------------
    @property
    def tls(self) -> bool:
        """`http_server.tls.enabled` or `tls_autocert.enabled`: the URLs are https/wss (test_tls.py,
        test_acme.py)."""
        http_server = self.config.get("http_server", {})
        return bool(http_server.get("tls", {}).get("enabled") or http_server.get("tls_autocert", {}).get("enabled"))

    @property
    def http_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"{'wss' if self.tls else 'ws'}://127.0.0.1:{self.port}/connection/websocket"

    @property
    def api_url(self) -> str:
        return f"{self.http_url}/api"

    # lifecycle --------------------------------------------------------------------------
    def logs(self) -> str:
        return (
            f"--- strata stderr ({self.stderr_path}) ---\n{_tail(self.stderr_path)}\n"
            f"--- strata stdout ({self.stdout_path}) ---\n{_tail(self.stdout_path)}"
        )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, port: Optional[int] = None) -> "StrataServer":
        """Starts (or, after a stop or kill, restarts) the server in the same working directory, so
        its LMDB store under storage/data is the same. `port` keeps the previous address."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(json.dumps(self.config, indent=2))
        env = {k: v for k, v in os.environ.items() if not k.startswith("CENTRIFUGO_")}
        env.update(self.extra_env)
        for attempt in range(3):  # the free port can be stolen between probe and bind
            self.port = port if port and attempt == 0 else free_port()
            with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
                self.proc = subprocess.Popen(
                    [str(self.binary), "--config", str(self.config_path), "--port", str(self.port), *self.extra_args],
                    stdout=out,
                    stderr=err,
                    stdin=subprocess.DEVNULL,
                    cwd=str(self.workdir),
                    env=env,
                )
            _LIVE_PROCESSES.add(self.proc)
            outcome = self._wait_healthy()
            if outcome == "ok":
                return self
            if outcome == "port-in-use" and attempt < 2:
                continue
            self.stop()
            pytest.fail(
                f"strata did not become healthy ({outcome}): "
                f"{self.binary} --config {self.config_path} --port {self.port}\n"
                f"config: {json.dumps(self.config)}\n{self.logs()}",
                pytrace=False,
            )
        raise AssertionError("unreachable")

    def _wait_healthy(self) -> str:
        assert self.proc is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT
        url = f"{self.http_url}/health"
        last = "no answer"
        while time.monotonic() < deadline:
            code = self.proc.poll()
            if code is not None:
                err = _tail(self.stderr_path).lower() + _tail(self.stdout_path).lower()
                if "address already in use" in err or "eaddrinuse" in err:
                    return "port-in-use"
                return f"process exited with status {code} during startup"
            try:
                opener = _NO_PROXY_TLS_OPENER if self.tls else _NO_PROXY_OPENER
                with opener.open(url, timeout=1.0) as resp:
                    if resp.status == 200:
                        return "ok"
                    last = f"GET /health -> HTTP {resp.status}"
            except urllib.error.HTTPError as e:
                last = f"GET /health -> HTTP {e.code}"
            except (urllib.error.URLError, OSError) as e:
                if self.tls and "CERTIFICATE_REQUIRED" in str(e):
                    return "ok"  # mutual TLS: the server answered, and wants a client certificate
                last = f"GET /health failed: {e}"
            time.sleep(0.05)
        return f"GET {url} did not return 200 within {STARTUP_TIMEOUT:.0f}s (last: {last})"

    def stop(self) -> Optional[int]:
        """SIGTERM, then SIGKILL after STOP_GRACE seconds. Returns the exit status."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        _LIVE_PROCESSES.discard(proc)
        return proc.returncode


def _attach(request: pytest.FixtureRequest, server: StrataServer) -> None:
    """Remember which servers a test used, so a failure report can include their logs."""
    node = request.node
    servers = getattr(node, "_strata_servers", None)
    if servers is None:
        servers = []
        node._strata_servers = servers
    if server not in servers:
        servers.append(server)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for srv in getattr(item, "_strata_servers", []):
            report.sections.append((f"strata :{srv.port} logs", srv.logs()))


# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def strata_bin() -> Path:
    path = Path(os.environ.get("STRATA_BIN") or DEFAULT_BIN)
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.fail(
            f"strata server binary not found or not executable at {path}. "
            "Build it (swift build) or point STRATA_BIN at it.",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def server_starter(strata_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., StrataServer]:
    """Low-level: start a server with `overrides` deep-merged into DEFAULT_CONFIG.
    The caller owns it (must stop it). Tests use `server_factory` / `server` instead."""

    def start(overrides: Optional[dict] = None, name: str = "strata", env: Optional[dict] = None) -> StrataServer:
        workdir = tmp_path_factory.mktemp(name)
        srv = StrataServer(strata_bin, build_config(overrides), workdir)
        srv.extra_env = dict(env or {})
        return srv.start()

    return start


def _check_stop(server: StrataServer) -> None:
    died = not server.alive() and not getattr(server, "expected_exit", False)
    status = server.stop()
    if died:
        pytest.fail(
            f"strata (port {server.port}) exited during the test with status {status}\n{server.logs()}",
            pytrace=False,
        )


@pytest.fixture
def server_factory(request: pytest.FixtureRequest, server_starter):
    """Factory: `server_factory({"client": {"ping_interval": "1s"}})` starts a dedicated server
    for this test (overrides deep-merged into the default config); it is stopped at teardown.
    If a server died during the test, teardown reports an error with its logs."""
    started: list[StrataServer] = []

    def make(overrides: Optional[dict] = None, env: Optional[dict] = None) -> StrataServer:
        srv = server_starter(overrides, name=request.node.name[:40].replace("[", "_").replace("]", "_"), env=env)
        started.append(srv)
        _attach(request, srv)
        return srv

    yield make
    errors = []
    for srv in started:
        try:
            _check_stop(srv)
        except pytest.fail.Exception as e:
            errors.append(str(e))
    if errors:
        pytest.fail("\n\n".join(errors), pytrace=False)


@pytest.fixture(scope="module")
def _shared_server_slot():
    """Holds the module's default-config server (see `server`); stopped after the module."""
    slot: dict = {"server": None}
    yield slot
    if slot["server"] is not None:
        slot["server"].stop()


@pytest.fixture
def server(request: pytest.FixtureRequest, _shared_server_slot: dict, server_starter) -> StrataServer:
    """A default-config server shared by the tests of one module (tests use unique channel
    names). If the process dies during a test, that test fails with the server's logs and the
    next test gets a freshly started server, so one crash does not hide the other results."""
    srv = _shared_server_slot["server"]
    if srv is None or not srv.alive():
        if srv is not None:
            srv.stop()  # reap the dead process
        srv = server_starter(None, name="shared")
        _shared_server_slot["server"] = srv
    _attach(request, srv)
    yield srv
    if not srv.alive():
        pytest.fail(
            f"strata exited during this test with status {srv.proc.poll()}\n{srv.logs()}",
            pytrace=False,
        )


@pytest.fixture
async def api_factory():
    """Factory for cent.AsyncClient instances bound to a server; all are closed at teardown."""
    from cent import AsyncClient

    made: list = []

    def make(srv: StrataServer, key: str = API_KEY, timeout: float = 5.0) -> AsyncClient:
        client = AsyncClient(srv.api_url, key, timeout=timeout)
        made.append(client)
        return client

    yield make
    for c in made:
        await c.close()


@pytest.fixture
async def api(api_factory, server):
    """cent.AsyncClient for the default `server`."""
    return api_factory(server)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that makes clients with `client_factory` runs once per client protocol (JSON,
    Protobuf), unless marked `json_only` (it checks JSON bytes on the wire)."""
    if "protocol" in metafunc.fixturenames:
        protocols = ["json"] if metafunc.definition.get_closest_marker("json_only") else list(PROTOCOLS)
        metafunc.parametrize("protocol", protocols)


@pytest.fixture
async def client_factory(protocol: str):
    """Factory for centrifuge-python clients: `client, events = client_factory(server, token=...)`.
    Token defaults to a valid connection token for user "42"; pass token="" for none.
    The client speaks the test's `protocol` (JSON or Protobuf) unless `protocol=` says otherwise.
    The client is not connected; every client is disconnected at teardown."""
    made: list = []

    def make(srv: StrataServer, token: Optional[str] = None, user: str = "42", **kwargs: Any):
        if token is None:
            token = connection_token(user)
        kwargs.setdefault("protocol", protocol)
        client, events = new_client(srv.ws_url, token=token, **kwargs)
        made.append(client)
        return client, events

    yield make
    for c in made:
        try:
            await asyncio.wait_for(c.disconnect(), 5)
        except Exception:
            pass
    # Let the client's background close tasks finish before the loop goes away.
    await asyncio.sleep(0.1)


# ---------------------------------------------------------------------------------------------
# Redis (engine.type "redis")
# ---------------------------------------------------------------------------------------------

REDIS_SERVER = os.environ.get("REDIS_SERVER", "/usr/bin/redis-server")


class LoopbackProcess:
    """A server process of the tests' own (redis-server, nats-server) on a free loopback port,
    its log in `workdir`. `kill()` is SIGKILL; `start()` again reuses the port. `extra_args`
    go to the server as they are (a TLS port, credentials)."""

    log_name = "server.log"

    def __init__(self, workdir: Path, extra_args: Optional[list[str]] = None) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.extra_args = list(extra_args or [])
        self.proc: Optional[subprocess.Popen] = None

    def _spawn(self, argv: list[str], ready, what: str) -> None:
        """Starts `argv` and waits until `ready()` (a probe of the port) says yes."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _LIVE_PROCESSES.add(self.proc)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{what} exited: {_tail(self.workdir / self.log_name)}")
            try:
                if ready():
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"{what} on {self.port} did not answer")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        if self.proc is not None:
            _LIVE_PROCESSES.discard(self.proc)


class RedisProcess(LoopbackProcess):
    """A private redis-server without persistence (so a restart loses every key, like a crashed
    cache node)."""

    log_name = "redis.log"

    @property
    def address(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> "RedisProcess":
        def answers() -> bool:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")

        self._spawn([REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
                     "--dir", str(self.workdir), "--logfile", str(self.workdir / self.log_name), "--daemonize", "no",
                     *self.extra_args], answers, "redis-server")
        return self

    def command(self, *args: str) -> bytes:
        """One command over a raw socket (inline form); returns the raw reply."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
            s.sendall((" ".join(args) + "\r\n").encode())
            return s.recv(65536)

    def pause(self) -> None:
        """SIGSTOP: sockets stay open and the kernel still accepts connections, but nothing is
        answered (a hung server that no FIN or RST announces)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)


@pytest.fixture
def redis_server(tmp_path_factory: pytest.TempPathFactory):
    """A fresh redis-server for one test, killed at teardown."""
    if not os.access(REDIS_SERVER, os.X_OK):
        pytest.fail(f"redis-server not found at {REDIS_SERVER} (`scripts/install-deps.sh test` installs it)", pytrace=False)
    proc = RedisProcess(tmp_path_factory.mktemp("redis")).start()
    yield proc
    proc.kill()


REDIS_SENTINEL = os.environ.get("REDIS_SENTINEL", "/usr/bin/redis-sentinel")


class SentinelSetup:
    """A master and a replica (redis-server) and one Sentinel (Debian's redis-sentinel) watching
    them as `mymaster`, on free loopback ports, started in that order so the Sentinel finds the
    replica at once. `failover()` is a real `SENTINEL FAILOVER`, waited for until the Sentinel
    names the replica as master and the replica says so too."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.master = RedisProcess(workdir / "master")
        self.replica = RedisProcess(workdir / "replica")
        self.port = free_port()
        self.proc: Optional[subprocess.Popen] = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> "SentinelSetup":
        self.master.start()
        self.replica.extra_args = ["--replicaof", "127.0.0.1", str(self.master.port)]
        self.replica.start()
        self._wait(lambda: b"master_link_status:up" in self.replica.command("INFO", "replication"), "the replica to sync")
        conf = self.workdir / "sentinel.conf"
        conf.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {self.workdir}\nlogfile {self.workdir / 'sentinel.log'}\n"
            f"sentinel monitor mymaster 127.0.0.1 {self.master.port} 1\n"
            "sentinel down-after-milliseconds mymaster 2000\nsentinel failover-timeout mymaster 10000\n")
        self.proc = subprocess.Popen([REDIS_SENTINEL, str(conf)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        _LIVE_PROCESSES.add(self.proc)
        self._wait(lambda: b"slave" in self.sentinel("SENTINEL", "replicas", "mymaster"), "the Sentinel to see the replica")
        return self

    def sentinel(self, *args: str) -> bytes:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                s.sendall((" ".join(args) + "\r\n").encode())
                time.sleep(0.05)
                return s.recv(65536)
        except OSError:
            return b""

    def master_port(self) -> int:
        reply = self.sentinel("SENTINEL", "get-master-addr-by-name", "mymaster").split(b"\r\n")
        return int(reply[4]) if len(reply) > 4 and reply[4].isdigit() else 0

    def failover(self) -> None:
        old = self.master_port()
        assert self.sentinel("SENTINEL", "FAILOVER", "mymaster").startswith(b"+OK")
        self._wait(lambda: self.master_port() not in (0, old), "the Sentinel to name the new master", timeout=20)
        self._wait(lambda: b"role:master" in self.replica.command("INFO", "replication"), "the replica to become master", timeout=20)

    @staticmethod
    def _wait(condition, what: str, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.05)
        raise RuntimeError(f"timed out waiting for {what}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
            _LIVE_PROCESSES.discard(self.proc)
        self.replica.kill()
        self.master.kill()


@pytest.fixture
def redis_sentinel(tmp_path_factory: pytest.TempPathFactory):
    """A master, its replica and a Sentinel, killed at teardown."""
    yield from _running(SentinelSetup, tmp_path_factory.mktemp("sentinel"), REDIS_SERVER, REDIS_SENTINEL)


def _running(setup_class, workdir: Path, *binaries: str):
    """A fixture's body: `setup_class(workdir)` started once every binary is there, stopped at
    teardown."""
    for binary in binaries:
        if not os.access(binary, os.X_OK):
            pytest.fail(f"{binary} not found (`scripts/install-deps.sh test` installs it)", pytrace=False)
    setup = setup_class(workdir).start()
    yield setup
    setup.stop()


REDIS_CLI = os.environ.get("REDIS_CLI", "/usr/bin/redis-cli")


class RedisReplyError(Exception):
    """An error reply from a Redis server (`ERR …`, `MOVED …`, `TRYAGAIN …`)."""


def _read_resp(f):
    """One RESP2 reply from the file `f`; an error reply comes back as a RedisReplyError value."""
    line = f.readline()
    if not line.endswith(b"\r\n"):
        raise ConnectionError("the connection closed mid-reply")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        return RedisReplyError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        return None if n < 0 else f.read(n + 2)[:-2].decode("utf-8", "surrogateescape")
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_read_resp(f) for _ in range(n)]
    raise ConnectionError(f"not RESP: {line!r}")


def redis_command(port: int, *args: Any, timeout: float = 5.0) -> Any:
    """One command (a RESP array, so keys with spaces or braces are safe) on a fresh loopback
    connection: the decoded reply — str, int, None or a list of them; an error reply raises
    RedisReplyError. Strings round-trip byte for byte (surrogateescape)."""
    out = f"*{len(args)}\r\n".encode()
    for arg in args:
        raw = str(arg).encode("utf-8", "surrogateescape")
        out += b"$%d\r\n%s\r\n" % (len(raw), raw)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(out)
        reply = _read_resp(s.makefile("rb"))
    if isinstance(reply, RedisReplyError):
        raise reply
    return reply


def _wait_for(condition: Callable[[], Any], what: str, timeout: float = 15.0) -> None:
    """Polls `condition` every 20 ms until it is true (a probe of a node that is down counts as
    not yet); raises after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except (OSError, RedisReplyError) as e:
            last = f" (last probe: {e})"
        time.sleep(0.02)
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}{last}")


class RedisClusterSetup:
    """A Redis Cluster of six Debian redis-server processes on free loopback ports (cluster bus
    on a free port of its own, `cluster-port`): three masters with one replica each, made by
    `redis-cli --cluster create … --cluster-replicas 1 --cluster-yes`. No persistence, diskless
    replication without delay and `cluster-node-timeout 1000`, so a killed master is replaced
    within a few seconds. `start()` returns once every node says `cluster_state:ok`, every node
    knows all six, and every replica's link to its master is up (about 2 s; redis-cli's join wait
    is most of it).

    Faults, each real and waited for until every live node agrees: `failover(slot)` (a manual
    `CLUSTER FAILOVER` through a replica of the slot's master), `kill_master(slot)` (kill -9 of
    the slot's master until a replica is promoted), `migrate_slot(slot, to)` (a resharding of one
    slot as `redis-cli --cluster reshard` does it; `migration_steps` runs it step by step)."""

    def __init__(self, workdir: Path, masters: int = 3, replicas: int = 1, node_timeout_ms: int = 1000) -> None:
        self.workdir = workdir
        self.masters_wanted = masters
        self.replicas_wanted = replicas
        self.nodes: dict[int, RedisProcess] = {}  # by port, in creation order (the first `masters` become masters)
        self.create_seconds = 0.0
        taken: set[int] = set()

        def port() -> int:
            while True:
                p = free_port()
                if p not in taken:
                    taken.add(p)
                    return p

        for i in range(masters * (1 + replicas)):
            bus = port()
            node = RedisProcess(workdir / f"node{i}", [
                "--cluster-enabled", "yes", "--cluster-config-file", str(workdir / f"node{i}" / "nodes.conf"),
                "--cluster-port", str(bus), "--cluster-node-timeout", str(node_timeout_ms),
                "--cluster-replica-validity-factor", "0", "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"])
            while node.port in taken:
                node.port = free_port()
            taken.add(node.port)
            node.bus_port = bus
            self.nodes[node.port] = node

    # addresses ------------------------------------------------------------------------------
    @property
    def seeds(self) -> str:
        """One `engine.redis.cluster_address` entry: the first masters' addresses, comma-separated."""
        return ",".join(f"127.0.0.1:{p}" for p in list(self.nodes)[: self.masters_wanted])

    def alive(self) -> list[int]:
        return [p for p, n in self.nodes.items() if n.proc is not None and n.proc.poll() is None]

    # commands -------------------------------------------------------------------------------
    def command(self, port: int, *args: Any) -> Any:
        return redis_command(port, *args)

    def info(self, port: int, section: str) -> dict:
        return dict(line.split(":", 1) for line in self.command(port, "INFO", section).splitlines() if ":" in line)

    def cluster_state(self, port: int) -> str:
        """`cluster_state` of `CLUSTER INFO`: "ok" or "fail"."""
        return dict(line.split(":", 1) for line in self.command(port, "CLUSTER", "INFO").splitlines() if ":" in line)["cluster_state"]

    def cluster_nodes(self, port: int) -> list[dict]:
        """`CLUSTER NODES` of one node, parsed: id, port, flags (a set), master (an id or "-"),
        slots (the slot ranges it serves, as (first, last); migrating/importing marks skipped)."""
        out = []
        for line in self.command(port, "CLUSTER", "NODES").splitlines():
            f = line.split()
            slots = []
            for s in f[8:]:
                if s.startswith("["):
                    continue
                first, _, last = s.partition("-")
                slots.append((int(first), int(last or first)))
            out.append({"id": f[0], "port": int(f[1].split("@")[0].rsplit(":", 1)[1]), "flags": set(f[2].split(",")),
                        "master": f[3], "slots": slots})
        return out

    def node_id(self, port: int) -> str:
        return self.command(port, "CLUSTER", "MYID")

    def slot_of(self, key: str) -> int:
        return self.command(self.alive()[0], "CLUSTER", "KEYSLOT", key)

    def _owner_seen_by(self, port: int, slot: int) -> int:
        """The master that `port` believes serves `slot` (0: none)."""
        for n in self.cluster_nodes(port):
            if "master" in n["flags"] and "fail" not in n["flags"] and any(a <= slot <= b for a, b in n["slots"]):
                return n["port"]
        return 0

    def master_for_slot(self, slot: int) -> int:
        """The port of the master serving `slot`: the live master that lists the slot as its own."""
        for port in self.alive():
            mine = next(n for n in self.cluster_nodes(port) if "myself" in n["flags"])
            if "master" in mine["flags"] and any(a <= slot <= b for a, b in mine["slots"]):
                return port
        raise RuntimeError(f"no live master serves slot {slot}")

    def masters(self) -> list[int]:
        return [p for p in self.alive() if self.info(p, "replication").get("role") == "master"]

    def replicas_of(self, master_port: int) -> list[int]:
        master_id = self.node_id(master_port)
        return [n["port"] for n in self.cluster_nodes(master_port) if n["master"] == master_id and n["port"] in self.alive()]

    def keys(self, port: int, pattern: str = "*") -> list[str]:
        return sorted(self.command(port, "KEYS", pattern))

    # life cycle -----------------------------------------------------------------------------
    def start(self) -> "RedisClusterSetup":
        """Starts the six servers and makes the cluster; on any failure every server is killed."""
        began = time.monotonic()
        try:
            for node in self.nodes.values():
                node.start()
            out = subprocess.run([REDIS_CLI, "--cluster", "create", *(f"127.0.0.1:{p}" for p in self.nodes),
                                  "--cluster-replicas", str(self.replicas_wanted), "--cluster-yes"],
                                 capture_output=True, text=True, timeout=60)
            if out.returncode != 0 or "[OK] All 16384 slots covered" not in out.stdout:
                raise RuntimeError(f"redis-cli --cluster create failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
            self.wait_healthy()
        except BaseException:
            self.stop()
            raise
        self.create_seconds = time.monotonic() - began
        return self

    def _healthy(self, ports: list[int]) -> bool:
        views = []
        for port in ports:
            if self.cluster_state(port) != "ok":
                return False
            nodes = self.cluster_nodes(port)
            live = [n for n in nodes if n["port"] in ports and not {"fail", "fail?", "handshake", "noaddr"} & n["flags"]]
            if len(live) != len(ports):
                return False
            views.append(sorted((n["port"], "master" in n["flags"], tuple(n["slots"])) for n in live))
            me = next(n for n in nodes if "myself" in n["flags"])
            if "slave" in me["flags"] and self.info(port, "replication").get("master_link_status") != "up":
                return False
        return all(v == views[0] for v in views)

    def wait_healthy(self, timeout: float = 20) -> None:
        """Until every live node says `cluster_state:ok`, they all see the same live masters,
        replicas and slots, and every replica's link to its master is up."""
        _wait_for(lambda: self._healthy(self.alive()), "the cluster to agree and be ok on every live node", timeout)

    def failover(self, slot: int, replica: Optional[int] = None) -> tuple[int, int]:
        """A manual `CLUSTER FAILOVER` (no data lost: the replica first catches up with its
        master, which stops writes meanwhile) through `replica`, by default the first replica of
        the master serving `slot`; returns (old master, new master), after the roles swapped and
        every node agrees."""
        old = self.master_for_slot(slot)
        new = replica or self.replicas_of(old)[0]
        assert new in self.replicas_of(old), f"{new} is not a replica of {old}, the master of slot {slot}"
        assert self.command(new, "CLUSTER", "FAILOVER") == "OK"
        _wait_for(lambda: self.info(new, "replication").get("role") == "master"
                  and self.info(old, "replication").get("role") == "slave", "the roles to swap")
        self.wait_healthy()
        return old, new

    def kill_master(self, slot: int, lag: float = 0.0) -> tuple[int, int]:
        """kill -9 of the master serving `slot`; returns (killed, promoted) once one of its
        replicas serves the slot and every surviving node agrees and is ok. With `lag` the
        replicas are first cut off for that many seconds (SIGSTOP, and `CLIENT KILL TYPE replica`
        on the master, as a stopped process would still apply what reaches its socket), so the
        master acknowledges writes they never get; they are resumed right after the kill."""
        old = self.master_for_slot(slot)
        replicas = self.replicas_of(old)
        if lag:
            for r in replicas:
                self.nodes[r].pause()
            self.command(old, "CLIENT", "KILL", "TYPE", "replica")
            time.sleep(lag)
        self.nodes[old].kill()
        for r in replicas:
            self.nodes[r].resume()
        _wait_for(lambda: any(self.info(r, "replication").get("role") == "master" for r in replicas),
                  "a replica to be promoted", timeout=20)
        new = next(r for r in replicas if self.info(r, "replication").get("role") == "master")
        _wait_for(lambda: all(self.cluster_state(p) == "ok" and self._owner_seen_by(p, slot) == new
                              for p in self.alive()), "the survivors to agree on the promoted replica", timeout=20)
        return old, new

    def migration_steps(self, slot: int, to_master: int, batch: int = 10):
        """A resharding of `slot` to the master on port `to_master`, as `redis-cli --cluster
        reshard` does it, one step per `next()` (a generator, so a test can publish between
        steps, e.g. through asyncio.to_thread): IMPORTING on the target and MIGRATING on the
        source; then batches of `CLUSTER GETKEYSINSLOT` + `MIGRATE … KEYS` until the source holds
        none; then `CLUSTER SETSLOT … NODE` on the target, the source and every other master,
        waited for until every node agrees. Yields a word for each step done."""
        source = self.master_for_slot(slot)
        assert source != to_master, f"slot {slot} is already on {to_master}"
        source_id, target_id = self.node_id(source), self.node_id(to_master)
        self.command(to_master, "CLUSTER", "SETSLOT", slot, "IMPORTING", source_id)
        self.command(source, "CLUSTER", "SETSLOT", slot, "MIGRATING", target_id)
        yield "marked"
        while True:
            keys = self.command(source, "CLUSTER", "GETKEYSINSLOT", slot, batch)
            if not keys:
                break
            self.command(source, "MIGRATE", "127.0.0.1", to_master, "", 0, 5000, "KEYS", *keys)
            yield f"moved {len(keys)}"
        self.command(to_master, "CLUSTER", "SETSLOT", slot, "NODE", target_id)
        self.command(source, "CLUSTER", "SETSLOT", slot, "NODE", target_id)
        for master in self.masters():
            if master not in (source, to_master):
                self.command(master, "CLUSTER", "SETSLOT", slot, "NODE", target_id)
        _wait_for(lambda: all(self._owner_seen_by(p, slot) == to_master for p in self.alive()),
                  f"every node to see slot {slot} on {to_master}")
        yield "assigned"

    def migrate_slot(self, slot: int, to_master: int, batch: int = 10, pause: float = 0.0) -> None:
        """The whole resharding of `slot` (see `migration_steps`), `pause` seconds between steps."""
        for _ in self.migration_steps(slot, to_master, batch):
            time.sleep(pause)

    def stop(self) -> None:
        for node in self.nodes.values():
            node.kill()


@pytest.fixture
def redis_cluster(tmp_path_factory: pytest.TempPathFactory):
    """A six-node Redis Cluster (three masters, a replica each), killed at teardown."""
    yield from _running(RedisClusterSetup, tmp_path_factory.mktemp("cluster"), REDIS_SERVER, REDIS_CLI)


NATS_SERVER = os.environ.get("NATS_SERVER", "/usr/sbin/nats-server")


class NATSProcess(LoopbackProcess):
    """Debian's nats-server (`extra_args`: --user/--pass, say)."""

    log_name = "nats.log"

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> "NATSProcess":
        def answers() -> bool:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                return s.recv(4).startswith(b"INFO")

        self._spawn([NATS_SERVER, "-a", "127.0.0.1", "-p", str(self.port), "-l", str(self.workdir / self.log_name), *self.extra_args],
                    answers, "nats-server")
        return self


@pytest.fixture
def nats_server(tmp_path_factory: pytest.TempPathFactory):
    """A fresh nats-server for one test, killed at teardown."""
    if not os.access(NATS_SERVER, os.X_OK):
        pytest.fail(f"nats-server not found at {NATS_SERVER} (`scripts/install-deps.sh test` installs it)", pytrace=False)
    proc = NATSProcess(tmp_path_factory.mktemp("nats")).start()
    yield proc
    proc.kill()


@pytest.fixture(scope="session")
def certs(tmp_path_factory) -> Path:
    """A test CA (ca.pem) and two certificates it signed, made with Debian's `openssl`:
    server.pem/.key for 127.0.0.1 and localhost, client.pem/.key for client authentication."""
    from itsupport import openssl
    d = tmp_path_factory.mktemp("tls")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=strata test CA", cwd=d)
    (d / "server.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    (d / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    for name in ("server", "client"):
        openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=d)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext", cwd=d)
    return d


# ---------------------------------------------------------------------------------------------
# Every engine
# ---------------------------------------------------------------------------------------------

ENGINES = ["memory", "lmdb", "redis"]


@pytest.fixture(params=ENGINES)
def engine(request) -> str:
    """The engine a test runs on: it runs once per engine."""
    return request.param


@pytest.fixture
def engine_factory(request: pytest.FixtureRequest, engine: str, server_factory):
    """Factory: `engine_factory(config)` starts a server with `config` on the test's engine —
    memory, LMDB (the default) or Redis (a redis-server started for the test); the server's
    `engine` attribute names it."""

    def make(config: dict) -> StrataServer:
        config = dict(config)
        if engine == "memory":
            config["engine"] = {"type": "memory"}
        elif engine == "redis":
            redis = request.getfixturevalue("redis_server")
            config["engine"] = {"type": "redis", "redis": {"address": redis.address, "prefix": f"e{uuid.uuid4().hex[:8]}"}}
        srv = server_factory(config)
        srv.engine = engine
        return srv

    return make
