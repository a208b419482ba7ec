"""`http_server.tls_autocert` (issue 18, item 4): certificates from an ACME CA — Debian's `pebble`,
Let's Encrypt's test server, started here on loopback — with the HTTP-01 challenge answered by
Strata's challenge listener, cached in `cache_dir`, renewed before expiry and served to clients
(centrifuge-python over wss://, the API over https://) without a restart.

pebble issues for `localhost` (it resolves the name with the system's resolver and fetches
`http://localhost:<httpPort>/.well-known/acme-challenge/<token>`), and makes a new root CA each
time it starts: the tests fetch it from pebble's management port to check the chain. pebble
refuses a fifth of the replay nonces here (`PEBBLE_WFE_NONCEREJECT`), which the client must retry.
"""

from __future__ import annotations

import asyncio
import calendar
import json
import os
import shutil
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import free_port
from itsupport import openssl, API_KEY, connect_client, connection_token, new_client, subscribe, unique

HOST = "localhost"



class Pebble:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port, self.management_port, self.http_port = free_port(), free_port(), free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def directory(self) -> str:
        return f"https://localhost:{self.port}/dir"

    @property
    def tls_ca(self) -> Path:
        """The CA of pebble's own HTTPS certificate (not of what it issues)."""
        return self.workdir / "ca.pem"

    def start(self) -> None:
        d = self.workdir
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=pebble's own CA", cwd=d)
        (d / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        openssl("req", *ec, "-keyout", "key.pem", "-out", "req.csr", "-subj", "/CN=localhost", cwd=d)
        openssl("x509", "-req", "-in", "req.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "cert.pem",
                 "-days", "2", "-extfile", "ext.cnf", cwd=d)
        (d / "pebble.json").write_text(json.dumps({"pebble": {
            "listenAddress": f"127.0.0.1:{self.port}", "managementListenAddress": f"127.0.0.1:{self.management_port}",
            "certificate": str(d / "cert.pem"), "privateKey": str(d / "key.pem"), "httpPort": self.http_port,
            "tlsPort": free_port(), "ocspResponderURL": "", "externalAccountBindingRequired": False}}))
        env = dict(os.environ, PEBBLE_VA_NOSLEEP="1", PEBBLE_WFE_NONCEREJECT="20")
        with open(d / "pebble.log", "wb") as log:
            self.proc = subprocess.Popen(["pebble", "-config", str(d / "pebble.json")], stdout=log, stderr=log, env=env, cwd=d)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                self.get(self.directory)
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"pebble did not start:\n{(d / 'pebble.log').read_text()[-3000:]}")

    def get(self, url: str) -> bytes:
        context = ssl.create_default_context(cafile=str(self.tls_ca))
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context))
        with opener.open(url, timeout=5) as response:
            return response.read()

    def issuing_root(self) -> str:
        """The root the certificates pebble issues chain up to."""
        return self.get(f"https://localhost:{self.management_port}/roots/0").decode()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture(scope="module")
def pebble(tmp_path_factory):
    if shutil.which("pebble") is None:
        pytest.fail("Debian's pebble is not installed (scripts/install-deps.sh test installs it)", pytrace=False)
    p = Pebble(tmp_path_factory.mktemp("pebble"))
    p.start()
    yield p
    p.stop()


def autocert(pebble: Pebble, cache: Path, **extra) -> dict:
    section = {"enabled": True, "host_whitelist": [HOST], "cache_dir": str(cache), "email": "ops@example.com",
               "http": True, "http_addr": f"127.0.0.1:{pebble.http_port}", "directory_url": pebble.directory,
               "directory_ca_pem": str(pebble.tls_ca), **extra}
    return {"http_server": {"tls_autocert": section}}


def trusting(root_pem: str) -> ssl.SSLContext:
    return ssl.create_default_context(cadata=root_pem)


def served_certificate(port: int) -> str:
    """The leaf the server presents for `localhost` (unverified: the test reads who issued it)."""
    return ssl.get_server_certificate(("127.0.0.1", port), timeout=5)


def issuer_of(pem: str) -> str:
    out = subprocess.run(["openssl", "x509", "-noout", "-issuer"], input=pem, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def api_call(port: int, context: ssl.SSLContext, method: str, params: dict) -> dict:
    request = urllib.request.Request(f"https://{HOST}:{port}/api/{method}", data=json.dumps(params).encode(),
                                     headers={"X-API-Key": API_KEY, "Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context))
    with opener.open(request, timeout=5) as response:
        return json.loads(response.read())


async def test_a_certificate_from_the_ca_serves_wss_and_https(server_factory, pebble, tmp_path, protocol):
    """No certificate anywhere: Strata gets one from pebble at start (HTTP-01 through its
    challenge listener), caches it privately, and serves centrifuge-python over wss:// and the
    API over https:// with it — both verified against pebble's root for `localhost`."""
    cache = tmp_path / "cache"
    srv = server_factory({**autocert(pebble, cache), "prometheus": {"enabled": True}})
    context = trusting(pebble.issuing_root())
    client, ev = new_client(f"wss://{HOST}:{srv.port}/connection/websocket", token=connection_token("u-acme"),
                            protocol=protocol, ssl_context=context)
    try:
        await connect_client(client, ev)
        channel = unique("chat:acme")
        _, sev, _ = await subscribe(client, channel)
        assert api_call(srv.port, context, "publish", {"channel": channel, "data": {"over": "acme"}})["result"]["offset"] == 1
        pub = await sev.wait("on_publication", timeout=5)
        assert pub.pub.data == {"over": "acme"}
    finally:
        await asyncio.wait_for(client.disconnect(), 5)

    # The cache: the account key and the host's key + chain, Go autocert's names, owner-only.
    assert sorted(os.listdir(cache)) == ["acme_account+key", HOST]
    for name in os.listdir(cache):
        assert (cache / name).stat().st_mode & 0o777 == 0o600
    cached = (cache / HOST).read_text()
    assert cached.startswith("-----BEGIN PRIVATE KEY-----") and cached.count("BEGIN CERTIFICATE") >= 2
    leaf = served_certificate(srv.port)
    assert "Pebble Intermediate CA" in issuer_of(leaf)

    # The expiry an operator alerts on, and the order that got it.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context))
    metrics = opener.open(f"https://{HOST}:{srv.port}/metrics", timeout=5).read().decode()
    not_after = subprocess.run(["openssl", "x509", "-noout", "-enddate", "-dateopt", "iso_8601"], input=leaf,
                               capture_output=True, text=True, check=True).stdout.strip().split("=", 1)[1]
    expected = calendar.timegm(time.strptime(not_after, "%Y-%m-%d %H:%M:%SZ"))
    line = next(l for l in metrics.splitlines() if l.startswith('strata_tls_certificate_expiry_timestamp_seconds{host="localhost"}'))
    assert float(line.split()[-1]) == expected, line
    assert 'strata_acme_orders_total{result="issued"} 1' in metrics

    # The challenge listener stays up for renewals; anything else there is sent to HTTPS.
    plain = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect())
    try:
        plain.open(f"http://127.0.0.1:{pebble.http_port}/connection/websocket?x=1", timeout=5)
        raise AssertionError("no redirect")
    except urllib.error.HTTPError as e:
        assert e.code == 302
        assert e.headers["Location"] == f"https://127.0.0.1:{srv.port}/connection/websocket?x=1"


async def test_chromium_loads_https_and_opens_wss_with_the_acme_certificate(server_factory, pebble, tmp_path):
    """A browser as the client: headless Chromium, told to accept pebble's intermediate (its
    root is in no trust store; `--ignore-certificate-errors-spki-list` names the one key to
    accept instead), loads https://localhost:PORT/health and opens a WebSocket over wss:// from
    the page, which connects."""
    from cdp import Browser

    srv = server_factory(autocert(pebble, tmp_path / "cache"))
    chain = (tmp_path / "cache" / HOST).read_text().split("-----END PRIVATE KEY-----\n", 1)[1]
    intermediate = "-----BEGIN CERTIFICATE-----" + chain.split("-----BEGIN CERTIFICATE-----")[2]
    spki = subprocess.run("openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64",
                          shell=True, input=intermediate.encode(), capture_output=True, check=True).stdout.decode().strip()
    async with Browser(extra_args=(f"--ignore-certificate-errors-spki-list={spki}",)) as b:
        await b.goto(f"https://{HOST}:{srv.port}/health")
        assert await b.eval("location.protocol + document.body.innerText") == "https:{}"
        token = connection_token("u-browser")
        reply = await b.eval(f"""new Promise(resolve => {{
            const ws = new WebSocket("wss://{HOST}:{srv.port}/connection/websocket");
            ws.onopen = () => ws.send(JSON.stringify({{id: 1, connect: {{token: "{token}"}}}}));
            ws.onmessage = e => {{ resolve(e.data); ws.close(); }};
            ws.onerror = () => resolve("error");
            setTimeout(() => resolve("timeout"), 5000);
        }})""")
        assert '"connect"' in reply and '"client"' in reply, reply


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_a_restart_with_the_ca_down_serves_the_cached_certificate(server_factory, pebble, tmp_path):
    """The cache outlives the process: with the CA unreachable, the next start serves the same
    certificate (no request to any CA)."""
    cache = tmp_path / "cache"
    srv = server_factory(autocert(pebble, cache))
    leaf = served_certificate(srv.port)
    srv.stop()
    down = f"https://localhost:{free_port()}/dir"
    srv.config = {**srv.config, **autocert(pebble, cache, directory_url=down, http_addr=f"127.0.0.1:{free_port()}")}
    srv.start()
    assert served_certificate(srv.port) == leaf
    assert "TLS certificate from the cache" in srv.stderr_path.read_text()


def start_failure(strata_bin: Path, tmp_path: Path, config: dict) -> str:
    (tmp_path / "config.json").write_text(json.dumps({**config, "health": {"enabled": True}}))
    run = subprocess.run([str(strata_bin), "--config", "config.json", "--port", str(free_port())], capture_output=True,
                         text=True, timeout=120, cwd=tmp_path)
    assert run.returncode != 0, run.stderr
    return run.stderr + run.stdout


def test_no_cached_certificate_and_the_ca_down_fails_the_start_naming_both(strata_bin, pebble, tmp_path):
    """Nothing to serve and no CA: the server does not start (rather than serving without TLS),
    and the error names the host, the cache file and the CA's URL."""
    down = f"https://localhost:{free_port()}/dir"
    out = start_failure(strata_bin, tmp_path, autocert(pebble, tmp_path / "cache", directory_url=down,
                                                       http_addr=f"127.0.0.1:{free_port()}"))
    assert f"no certificate for {HOST}" in out, out
    assert down in out and str(tmp_path / "cache" / HOST) in out, out


def test_a_challenge_the_ca_cannot_reach_fails_the_start_with_the_cas_reason(strata_bin, pebble, tmp_path):
    """The challenge listener on a port the CA does not look at: pebble marks the
    authorization invalid, and the start fails with pebble's reason."""
    out = start_failure(strata_bin, tmp_path, autocert(pebble, tmp_path / "cache", http_addr=f"127.0.0.1:{free_port()}"))
    assert f"could not validate {HOST}" in out, out
    assert pebble.directory in out, out


def test_a_certificate_near_expiry_is_renewed_and_served_without_a_restart(server_factory, pebble, tmp_path):
    """A cached certificate in its renewal window (a throwaway CA's, 10 days old with a day
    left; renew_before 720h) is served at once, renewed from pebble in the background, and the
    next handshakes get the new one; the cache holds the new one too."""
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    seed = tmp_path / "seed"
    seed.mkdir()
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "30", "-subj", "/CN=old CA", cwd=seed)
    openssl("req", *ec, "-keyout", "host.key", "-out", "host.csr", "-subj", f"/CN={HOST}", cwd=seed)
    (seed / "index.txt").write_text("")
    (seed / "serial").write_text("01\n")
    (seed / "ca.cnf").write_text(
        "[ca]\ndefault_ca = own\n[own]\ndir = .\ndatabase = index.txt\nnew_certs_dir = .\ncertificate = ca.pem\n"
        "private_key = ca.key\nserial = serial\ndefault_md = sha256\npolicy = any\ncopy_extensions = none\n"
        f"[any]\ncommonName = supplied\n[ext]\nsubjectAltName = DNS:{HOST}\n")
    now = time.time()
    stamp = lambda t: time.strftime("%Y%m%d%H%M%SZ", time.gmtime(t))  # noqa: E731
    openssl("ca", "-batch", "-config", "ca.cnf", "-extensions", "ext", "-startdate", stamp(now - 10 * 86400),
             "-enddate", stamp(now + 86400), "-in", "host.csr", "-out", "host.pem", "-notext", cwd=seed)
    (cache / HOST).write_text((seed / "host.key").read_text() + (seed / "host.pem").read_text())

    srv = server_factory(autocert(pebble, cache))
    deadline = time.monotonic() + 30
    issuers = []
    while time.monotonic() < deadline:
        issuers.append(issuer_of(served_certificate(srv.port)))
        if "Pebble" in issuers[-1]:
            break
        time.sleep(0.2)
    assert "old CA" in issuers[0], issuers[:3]  # served at once from the cache
    assert "Pebble Intermediate CA" in issuers[-1], (issuers[-3:], srv.logs())
    # The renewed certificate verifies for the host, and is the one now cached.
    context = trusting(pebble.issuing_root())
    assert api_call(srv.port, context, "info", {})["result"]["nodes"]
    assert "old CA" not in issuer_of((cache / HOST).read_text().split("-----END PRIVATE KEY-----\n", 1)[1])


@pytest.mark.parametrize("section, message", [
    ({"http": False}, "http_server.tls_autocert.http: Strata answers ACME's HTTP-01 challenge only"),
    ({"host_whitelist": []}, "http_server.tls_autocert.host_whitelist: list the host names"),
    ({"host_whitelist": ["*.example.com"]}, "is a wildcard"),
    ({"server_name": "other.example.com"}, "http_server.tls_autocert.server_name: \"other.example.com\" is not in host_whitelist"),
])
def test_configs_that_cannot_get_a_certificate_are_refused_by_checkconfig(strata_bin, pebble, tmp_path, section, message):
    config = autocert(pebble, tmp_path / "cache", **section)
    (tmp_path / "config.json").write_text(json.dumps(config))
    check = subprocess.run([str(strata_bin), "checkconfig", "--config", "config.json"], capture_output=True, text=True,
                           timeout=30, cwd=tmp_path)
    assert check.returncode != 0
    assert message in check.stderr + check.stdout, check.stderr + check.stdout
