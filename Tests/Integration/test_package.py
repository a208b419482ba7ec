"""The Debian package (issue 18, item 5; docs/packaging.md): `scripts/build-deb.sh` — what
`make deb` runs on the release binary — packages the binary under test; dpkg installs it into a
throwaway root (maintainer scripts run outside a chroot with DPKG_ROOT, as dpkg allows), and the
installed strata answers `version` and `checkconfig` on the configuration its postinst wrote with
fresh secrets, then serves with it. Purge removes that configuration."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

from conftest import free_port
from itsupport import http_request

ROOT = Path(__file__).resolve().parents[2]


def dpkg(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["dpkg", f"--root={root}", f"--admindir={root}/var/lib/dpkg", "--force-script-chrootless",
                           "--force-depends", "--force-not-root", *args], capture_output=True, text=True, timeout=120)


def test_the_package_installs_configures_runs_and_purges(strata_bin, tmp_path):
    build = subprocess.run([str(ROOT / "scripts/build-deb.sh"), str(strata_bin), str(tmp_path / "out")], capture_output=True,
                           text=True, timeout=300, env={**os.environ, "DEB_COMPRESSION": "none"})
    assert build.returncode == 0, build.stderr
    deb = Path(build.stdout.strip())
    assert deb.name == "strata_0.1.0_" + subprocess.check_output(["dpkg", "--print-architecture"], text=True).strip() + ".deb"

    info = subprocess.check_output(["dpkg-deb", "--field", str(deb), "Package", "Version", "Depends"], text=True)
    assert "Package: strata" in info and "Version: 0.1.0" in info
    # Every dependency names a package this (Debian) machine has installed: the names are real.
    depends = re.search(r"Depends: (.*)", info).group(1)
    for name in [d.strip().split(" ")[0] for d in depends.split(",")]:
        assert subprocess.run(["dpkg", "-s", name], capture_output=True).returncode == 0, f"{name} is not a Debian package here"
    contents = subprocess.check_output(["dpkg-deb", "--contents", str(deb)], text=True)
    for path in ["./usr/bin/strata", "./lib/systemd/system/strata.service", "./usr/share/man/man1/strata.1.gz",
                 "./usr/share/bash-completion/completions/strata", "./usr/share/zsh/vendor-completions/_strata",
                 "./usr/share/fish/vendor_completions.d/strata.fish"]:
        assert path in contents, contents

    root = tmp_path / "root"
    for d in ["var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers"]:
        (root / d).mkdir(parents=True)
    for f in ["var/lib/dpkg/status", "var/lib/dpkg/available"]:
        (root / f).touch()
    installed = dpkg(root, "-i", str(deb))
    assert installed.returncode == 0, installed.stderr
    assert "wrote" in installed.stdout and "fresh secrets" in installed.stdout

    strata = root / "usr/bin/strata"
    config = root / "etc/strata/config.json"
    assert oct(config.stat().st_mode & 0o777) == "0o600"
    secrets = json.loads(config.read_text())
    assert len(secrets["http_api"]["key"]) >= 32 and len(secrets["client"]["token"]["hmac_secret_key"]) >= 32
    assert subprocess.check_output([str(strata), "version"], text=True).strip() == "strata 0.1.0"
    check = subprocess.run([str(strata), "checkconfig", "--config", str(config)], capture_output=True, text=True)
    assert check.returncode == 0 and "configuration OK" in check.stdout, check

    # The unit: hardened, a dynamic user, the LMDB store in its state directory, the config as a credential.
    unit = (root / "lib/systemd/system/strata.service").read_text()
    for line in ["DynamicUser=yes", "StateDirectory=strata", "WorkingDirectory=/var/lib/strata", "LimitNOFILE=1048576",
                 "LoadCredential=config.json:/etc/strata/config.json",
                 "ExecStart=/usr/bin/strata serve --config ${CREDENTIALS_DIRECTORY}/config.json"]:
        assert line in unit.splitlines(), line
    completion = (root / "usr/share/bash-completion/completions/strata").read_text()
    assert "genconfig" in completion and "history" in completion
    man = subprocess.run(["sh", "-c", f"gzip -dc {root}/usr/share/man/man1/strata.1.gz"], capture_output=True, text=True)
    assert ".TH STRATA 1" in man.stdout and ".SS history" in man.stdout

    # It serves with the configuration it wrote, as the unit runs it (state directory as cwd).
    state = tmp_path / "state"
    state.mkdir()
    port = free_port()
    server = subprocess.Popen([str(strata), "serve", "--config", str(config), "--port", str(port)], cwd=state,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        status = 0
        for _ in range(200):
            try:
                status, _ = http_request(f"http://127.0.0.1:{port}/health", method="GET")
            except OSError:
                status = 0
            if status == 200:
                break
            time.sleep(0.05)
        assert status == 200
        status, body = http_request(f"http://127.0.0.1:{port}/api/publish", body=b'{"channel":"news","data":{}}',
                                    headers={"X-API-Key": secrets["http_api"]["key"]})
        assert status == 200 and json.loads(body)["result"]["offset"] == 1
        assert (state / "storage/data/data.mdb").exists()
    finally:
        server.terminate()
        server.wait(20)

    purged = dpkg(root, "--purge", "strata")
    assert purged.returncode == 0, purged.stderr
    assert not config.exists() and not strata.exists()
