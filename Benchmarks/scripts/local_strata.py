"""A strata process for the campaign scripts (soak.py, flood_p99.py): a fresh working directory
with the given config, pinned to CPU 0 when `taskset` exists (the clients get the other core),
started and waited for on /health; `STRATA_BIN` names the binary (default the release build).
With `centrifugo=True` the same config runs on the real Centrifugo (`CENTRIFUGO_BIN`), the peer
figures are measured beside."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def local_strata(config: dict, port: int, prefix: str, centrifugo: bool = False) -> Iterator[subprocess.Popen]:
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    (workdir / "config.json").write_text(json.dumps({**config, "health": {"enabled": True}}))
    if centrifugo:
        command = [os.environ["CENTRIFUGO_BIN"], "--config", "config.json", "--http_server.port", str(port)]
    else:
        command = [os.path.abspath(os.environ.get("STRATA_BIN", ".build/release/strata")), "--config", "config.json",
                   "--port", str(port)]
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    server = subprocess.Popen(pin + command, cwd=workdir,
                              stdout=subprocess.DEVNULL, stderr=open(workdir / "stderr.log", "wb"))
    try:
        for _ in range(400):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except Exception:
                time.sleep(0.05)
        yield server
    finally:
        server.terminate()
        server.wait(20)
