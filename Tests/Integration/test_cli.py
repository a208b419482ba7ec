"""Issue 18, item 6: the command line — examples in every command's `--help`, and progress with
rate and time left on `strata history export` / `import` (a redrawn bar on a terminal, plain lines
in a log)."""

from __future__ import annotations

import json
import os
import pty
import subprocess

import pytest
from cent import Client as CentClient, PublishRequest

from itsupport import API_KEY, unique

COMMANDS = [
    [], ["serve"], ["checkconfig"], ["configdoc"], ["genconfig"], ["gentoken"], ["version"],
    ["history"], ["history", "stats"], ["history", "dump"], ["history", "why"], ["history", "export"],
    ["history", "import"], ["delta"], ["delta", "create"], ["delta", "apply"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "strata")
def test_every_command_has_examples(strata_bin, command):
    out = subprocess.run([str(strata_bin), *command, "--help"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "Examples:" in out.stdout and "strata " in out.stdout.split("Examples:")[1], out.stdout


def run_on_terminal(argv: list[str], cwd) -> tuple[int, str, str]:
    """Runs with standard error on a pseudo-terminal (what a person at a shell sees)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    stdout = proc.stdout.read().decode()
    proc.wait(60)
    os.close(master)
    return proc.returncode, stdout, seen.decode(errors="replace")


def test_export_and_import_show_progress(server_factory, strata_bin):
    srv = server_factory()
    cent = CentClient(srv.api_url, API_KEY)
    for i in range(40):
        cent.publish(PublishRequest(channel=unique(f"chat:cli{i}"), data={"i": i, "pad": "x" * 200}))
    srv.expected_exit = True  # stopped here: the tools open the store alone
    srv.stop()
    export = srv.workdir / "backup.zst"

    # In a log (standard error a pipe): plain lines, no carriage returns.
    out = subprocess.run([str(strata_bin), "history", "export", "-c", str(srv.config_path), str(export)],
                         cwd=srv.workdir, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "exported 40 channels, 40 publications" in out.stdout
    lines = [l for l in out.stderr.splitlines() if l.startswith("export")]
    assert lines and "publications" in lines[0] and "/s" in lines[0], out.stderr
    assert "\r" not in out.stderr

    # On a terminal: a bar redrawn in place, then cleared before the summary.
    other = dict(srv.config)
    other["engine"] = {"type": "lmdb", "lmdb": {"path": "storage/imported"}}
    other_path = srv.workdir / "imported.json"
    other_path.write_text(json.dumps(other))
    code, stdout, terminal = run_on_terminal([str(strata_bin), "history", "import", "-c", str(other_path), str(export)], srv.workdir)
    assert code == 0, terminal
    assert "imported 40 channels, 40 publications" in stdout
    assert "\r\x1b[K" in terminal and "import  [" in terminal and "%" in terminal and "publications" in terminal, terminal


def test_centrifugos_command_line_flags_start_strata(strata_bin, tmp_path):
    """A command written for Centrifugo (`centrifugo -c config.json --http_server.port P
    --engine.type memory --health.enabled --prometheus.enabled --grpc_api.enabled
    --grpc_api.port G`) starts Strata with those settings, over the file's; flags for what Strata
    refuses stop the start naming the key, as the key would."""
    import socket
    import time
    import urllib.request

    from conftest import free_port

    port, grpc_port = free_port(), free_port()
    (tmp_path / "config.json").write_text(json.dumps({"http_server": {"port": 1}, "health": {"enabled": False}}))
    proc = subprocess.Popen(
        [str(strata_bin), "-c", "config.json", "--http_server.port", str(port), "--http_server.address", "127.0.0.1",
         "--engine.type", "memory", "--health.enabled", "--prometheus.enabled", "--grpc_api.enabled",
         "--grpc_api.port", str(grpc_port), "--log.level", "error"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                    assert r.status == 200
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert "centrifugo_node_num_clients" in urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        socket.create_connection(("127.0.0.1", grpc_port), timeout=2).close()
    finally:
        proc.terminate()
        proc.wait(15)
    for flags, key in [(["--http_server.internal_port", "9001"], "http_server.internal_port"), (["--log.file", "x.log"], "log.file"),
                       (["--engine.type", "etcd"], "engine.type")]:
        out = subprocess.run([str(strata_bin), "-c", "config.json", *flags], capture_output=True, text=True, timeout=30, cwd=tmp_path)
        assert out.returncode != 0 and key in out.stderr + out.stdout, (flags, out.stderr)
