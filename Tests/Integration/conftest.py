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
    for binary in (REDIS_SERVER, REDIS_SENTINEL):
        if not os.access(binary, os.X_OK):
            pytest.fail(f"{binary} not found (`scripts/install-deps.sh test` installs it)", pytrace=False)
    setup = SentinelSetup(tmp_path_factory.mktemp("sentinel")).start()
    yield setup
    setup.stop()


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
