#!/usr/bin/env python3
"""Automatic TLS, measured: how long a start takes when it gets its certificate from an ACME CA
(Debian's pebble on loopback) and when it reads it from the cache, and what a full TLS handshake
costs the server when the certificate comes from the ACME manager (chosen per handshake by SNI)
beside the same certificate from files (`http_server.tls`) and beside the real Centrifugo with
those files. JSON lines on stdout; `summarize` at the end prints the medians.

    make release
    Benchmarks/scripts/tls_handshakes.py --strata .build/release/strata \\
        --centrifugo ../shared/peers/centrifugo/bin/centrifugo --rounds 3 > results.jsonl

Each server runs pinned to CPU 0 and `openssl s_time -new` (a full handshake per connection,
TLS 1.3, P-256) on CPU 1 for `--seconds`; the server's CPU time comes from /proc/PID/stat.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from benchsupport import cpu_seconds, free_port



def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def start_pebble(d: Path) -> tuple[subprocess.Popen, str, int]:
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=pebble's own CA", cwd=d)
    (d / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("req", *ec, "-keyout", "key.pem", "-out", "req.csr", "-subj", "/CN=localhost", cwd=d)
    openssl("x509", "-req", "-in", "req.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "cert.pem",
            "-days", "2", "-extfile", "ext.cnf", cwd=d)
    port, http_port = free_port(), free_port()
    (d / "pebble.json").write_text(json.dumps({"pebble": {
        "listenAddress": f"127.0.0.1:{port}", "managementListenAddress": f"127.0.0.1:{free_port()}",
        "certificate": str(d / "cert.pem"), "privateKey": str(d / "key.pem"), "httpPort": http_port, "tlsPort": free_port(),
        "ocspResponderURL": "", "externalAccountBindingRequired": False}}))
    log = open(d / "pebble.log", "wb")
    proc = subprocess.Popen(["pebble", "-config", str(d / "pebble.json")], stdout=log, stderr=log, cwd=d,
                            env=dict(os.environ, PEBBLE_VA_NOSLEEP="1"))
    directory = f"https://localhost:{port}/dir"
    context = ssl.create_default_context(cafile=str(d / "ca.pem"))
    for _ in range(200):
        try:
            urllib.request.urlopen(directory, context=context, timeout=1).read()
            return proc, directory, http_port
        except OSError:
            time.sleep(0.1)
    raise SystemExit("pebble did not start")


def wait_tls(port: int, proc: subprocess.Popen, limit: float = 60) -> None:
    context = ssl._create_unverified_context()
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as raw:
                with context.wrap_socket(raw, server_hostname="localhost"):
                    return
        except OSError:
            time.sleep(0.02)
    raise SystemExit("server did not answer TLS")


def serve(cmd: list[str], cwd: Path, port: int) -> subprocess.Popen:
    log = open(cwd / "server.log", "ab")
    proc = subprocess.Popen(["taskset", "-c", "0", *cmd], stdout=log, stderr=log, cwd=cwd)
    wait_tls(port, proc)
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def handshakes(proc: subprocess.Popen, port: int, seconds: int) -> dict:
    before = cpu_seconds(proc.pid)
    out = subprocess.run(["taskset", "-c", "1", "openssl", "s_time", "-connect", f"127.0.0.1:{port}", "-new", "-time", str(seconds)],
                         capture_output=True, text=True, timeout=seconds + 30).stdout
    cpu = cpu_seconds(proc.pid) - before
    # "1234 connections in 10.00s; 123.40 connections/user sec, ..." then "1234 connections in 11 real seconds"
    line = next(l for l in out.splitlines() if "connections in" in l and "real seconds" in l)
    count, real = int(line.split()[0]), float(line.split()[3])
    return {"handshakes": count, "seconds": real, "rate": round(count / real, 1), "server_cpu_s": round(cpu, 3),
            "server_us_per_handshake": round(cpu / count * 1e6, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--strata", required=True)
    ap.add_argument("--centrifugo")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=10)
    args = ap.parse_args()
    if shutil.which("pebble") is None:
        raise SystemExit("needs Debian's pebble")
    work = Path(tempfile.mkdtemp(prefix="strata-tls-bench-"))
    pebble, directory, http_port = start_pebble(work)
    records: list[dict] = []

    def emit(record: dict) -> None:
        records.append(record)
        print(json.dumps(record), flush=True)

    try:
        strata_dir = work / "strata"
        strata_dir.mkdir()
        port = free_port()
        autocert = {"http_server": {"port": port, "tls_autocert": {
            "enabled": True, "host_whitelist": ["localhost"], "cache_dir": str(strata_dir / "cache"), "http": True,
            "http_addr": f"127.0.0.1:{http_port}", "directory_url": directory, "directory_ca_pem": str(work / "ca.pem")}}}
        (strata_dir / "autocert.json").write_text(json.dumps(autocert))
        for round_ in range(args.rounds):
            # A start that has to get its certificate (empty cache), then one that reads it.
            shutil.rmtree(strata_dir / "cache", ignore_errors=True)
            for phase in ("issue", "cache"):
                began = time.monotonic()
                proc = serve([args.strata, "--config", "autocert.json"], strata_dir, port)
                emit({"test": f"start-{phase}", "round": round_, "seconds_to_tls": round(time.monotonic() - began, 3)})
                stop(proc)
        # The same certificate and key as files, for the file-based servers.
        text = (strata_dir / "cache" / "localhost").read_text()
        key, chain = text.split("-----END PRIVATE KEY-----\n", 1)
        (work / "acme.key").write_text(key + "-----END PRIVATE KEY-----\n")
        (work / "acme.pem").write_text(chain)
        files = {"enabled": True, "cert_pem": str(work / "acme.pem"), "key_pem": str(work / "acme.key")}
        (strata_dir / "files.json").write_text(json.dumps({"http_server": {"port": port, "tls": files}}))
        servers = [("strata-autocert", [args.strata, "--config", "autocert.json"], strata_dir),
                   ("strata-files", [args.strata, "--config", "files.json"], strata_dir)]
        if args.centrifugo:
            c_dir = work / "centrifugo"
            c_dir.mkdir()
            (c_dir / "config.json").write_text(json.dumps({"http_server": {"tls": files}}))
            servers.append(("centrifugo-files", [args.centrifugo, "--config", "config.json", "--http_server.port", str(port)], c_dir))
        for round_ in range(args.rounds):
            for name, cmd, cwd in servers:
                proc = serve(cmd, cwd, port)
                handshakes(proc, port, 2)  # warm-up
                emit({"test": "handshakes", "server": name, "round": round_, **handshakes(proc, port, args.seconds)})
                stop(proc)
    finally:
        stop(pebble)
    summarize(records)


def summarize(records: list[dict]) -> None:
    print("--- medians", file=sys.stderr)
    for phase in ("start-issue", "start-cache"):
        values = [r["seconds_to_tls"] for r in records if r["test"] == phase]
        if values:
            print(f"{phase}: {statistics.median(values):.3f} s to TLS (n={len(values)})", file=sys.stderr)
    per = {}
    for r in records:
        if r["test"] == "handshakes":
            per.setdefault(r["server"], []).append(r)
    for name, rs in per.items():
        print(f"{name}: {statistics.median(r['server_us_per_handshake'] for r in rs):.1f} µs server CPU per handshake, "
              f"{statistics.median(r['rate'] for r in rs):.0f} handshakes/s (n={len(rs)})", file=sys.stderr)


if __name__ == "__main__":
    main()
