"""A real PostgreSQL server for the outbox tests: Debian's postgresql binaries, a fresh data
directory (initdb) in a temporary folder, started with pg_ctl on a free loopback port and
stopped at the end. As root (CI), the server runs as the `postgres` user, which the package
creates (initdb refuses root). SQL goes through `psql`. The outbox benchmark (Benchmarks/scripts/outbox_throughput.py) uses it
too."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from conftest import free_port


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} not found: install Debian's postgresql (scripts/install-deps.sh test)")
    return found[-1]


class Postgres:
    def __init__(self, workdir: Path) -> None:
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            # pytest's temporary folders are root's alone (0700): the postgres user could not
            # reach a data directory inside them.
            workdir = Path(tempfile.mkdtemp(prefix="strata-pg-"))
            workdir.chmod(0o755)
        self.workdir = workdir
        self.dir = workdir / "pgdata"
        self.socket_dir = workdir / "pgsock"
        self.port = free_port()
        self.user = "strata"

    def _run(self, *args: str, **kw) -> subprocess.CompletedProcess:
        cmd = list(args)
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120, **kw)

    def start(self) -> "Postgres":
        for d in (self.dir, self.socket_dir):
            d.mkdir(parents=True, exist_ok=True)
            if self._as_postgres:
                shutil.chown(d, "postgres", "postgres")
        self._run(_bin("initdb"), "-D", str(self.dir), "-U", self.user, "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._run(_bin("pg_ctl"), "-D", str(self.dir), "-o", options, "-l", str(self.dir / "server.log"), "-w", "start")
        return self

    def stop(self) -> None:
        try:
            self._run(_bin("pg_ctl"), "-D", str(self.dir), "-m", "immediate", "-w", "stop")
        except Exception:
            pass
        if self._as_postgres:
            shutil.rmtree(self.workdir, ignore_errors=True)

    @property
    def dsn(self) -> str:
        return f"postgres://{self.user}@127.0.0.1:{self.port}/postgres?sslmode=disable"

    def sql(self, statement: str) -> str:
        """Runs SQL with psql; returns its unaligned, tuples-only output."""
        out = subprocess.run(
            ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user,
             "-d", "postgres", "-c", statement],
            check=True, capture_output=True, text=True, timeout=60)
        return out.stdout.strip()

    def create_outbox(self, table: str, notify_channel: str | None = None) -> None:
        """Centrifugo's outbox table layout (its docs), and optionally its NOTIFY trigger."""
        self.sql(f"""
            CREATE TABLE {table} (
                id BIGSERIAL PRIMARY KEY,
                method text NOT NULL,
                payload JSONB NOT NULL,
                partition INTEGER NOT NULL default 0,
                created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL
            )""")
        if notify_channel:
            self.sql(f"""
                CREATE OR REPLACE FUNCTION {table}_notify() RETURNS trigger AS $$
                BEGIN PERFORM pg_notify('{notify_channel}', NEW.partition::text); RETURN NEW; END;
                $$ LANGUAGE plpgsql;
                CREATE TRIGGER {table}_notify AFTER INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION {table}_notify();""")

    def count(self, table: str) -> int:
        return int(self.sql(f"SELECT count(*) FROM {table}"))
