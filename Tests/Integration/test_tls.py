"""`http_server.tls` (issue 18, item 4): TLS on the server's port for WebSocket, the server API and
/health, with the certificate and key given as a file, as PEM text or base64 PEM, and mutual TLS
with `client_ca_pem`. Certificates are made for each test run with Debian's `openssl`: a CA, a
server certificate for 127.0.0.1 and a client certificate, all signed by that CA."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import ssl
import subprocess
import urllib.request
from pathlib import Path

import pytest

from conftest import free_port
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import InvalidHandshake

from itsupport import openssl, API_KEY, connect_client, connection_token, new_client, subscribe, unique



def trusting(certs: Path, client_cert: bool = False) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    if client_cert:
        context.load_cert_chain(str(certs / "client.pem"), str(certs / "client.key"))
    return context


def api_publish(srv, context: ssl.SSLContext, channel: str, data) -> dict:
    request = urllib.request.Request(f"{srv.api_url}/publish", data=json.dumps({"channel": channel, "data": data}).encode(),
                                     headers={"X-API-Key": API_KEY, "Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context))
    with opener.open(request, timeout=5) as response:
        return json.loads(response.read())


async def test_websocket_and_api_over_tls(server_factory, certs, protocol):
    """centrifuge-python over wss:// (the test's protocol) and the API over https://, the
    certificate and key given as file paths; a plain-HTTP request to the port gets no answer."""
    srv = server_factory({"http_server": {"tls": {"enabled": True, "cert_pem": str(certs / "server.pem"),
                                                  "key_pem": str(certs / "server.key")}}})
    assert srv.ws_url.startswith("wss://")
    context = trusting(certs)
    client, ev = new_client(srv.ws_url, token=connection_token("u-tls"), protocol=protocol, ssl_context=context)
    try:
        await connect_client(client, ev)
        channel = unique("chat:tls")
        _, sev, _ = await subscribe(client, channel)
        assert api_publish(srv, context, channel, {"over": "tls"})["result"]["offset"] == 1
        pub = await sev.wait("on_publication", timeout=5)
        assert pub.pub.data == {"over": "tls"}
    finally:
        await asyncio.wait_for(client.disconnect(), 5)
    # Cleartext on the TLS port: the handshake fails, nothing is served.
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        s.settimeout(5)
        try:
            answer = s.recv(100)
        except (ConnectionResetError, socket.timeout):
            answer = b""
        assert not answer.startswith(b"HTTP/1.1 200"), answer


async def test_pem_text_and_base64_pem_are_taken_too(server_factory, certs):
    """As Centrifugo: the certificate as PEM text, the key as base64-encoded PEM (from the
    environment, as an operator would pass a secret)."""
    srv = server_factory({"http_server": {"tls": {
        "enabled": True, "cert_pem": (certs / "server.pem").read_text(),
        "key_pem": base64.b64encode((certs / "server.key").read_bytes()).decode()}}})
    async with ws_connect(srv.ws_url, ssl=trusting(certs), proxy=None, open_timeout=5) as ws:
        await ws.send(json.dumps({"id": 1, "connect": {"token": connection_token("u-pem")}}))
        assert "connect" in json.loads(await ws.recv())


async def test_client_certificates_with_client_ca_pem(server_factory, certs):
    """`client_ca_pem`: a client without a certificate signed by that CA does not get through
    the handshake; one with it connects."""
    srv = server_factory({"http_server": {"tls": {
        "enabled": True, "cert_pem": str(certs / "server.pem"), "key_pem": str(certs / "server.key"),
        "client_ca_pem": str(certs / "ca.pem")}}})
    # With TLS 1.3 the client learns it after its side of the handshake: the server's alert
    # closes the connection before the upgrade's answer.
    with pytest.raises((ssl.SSLError, OSError, InvalidHandshake)):
        async with ws_connect(srv.ws_url, ssl=trusting(certs), proxy=None, open_timeout=5) as ws:
            await ws.send(json.dumps({"id": 1, "connect": {"token": connection_token("u-anon")}}))
            await ws.recv()
    async with ws_connect(srv.ws_url, ssl=trusting(certs, client_cert=True), proxy=None, open_timeout=5) as ws:
        await ws.send(json.dumps({"id": 1, "connect": {"token": connection_token("u-mtls")}}))
        assert "connect" in json.loads(await ws.recv())


@pytest.mark.parametrize("tls, message", [
    ({"cert_pem": "missing.pem", "key_pem": "KEY"}, "http_server.tls.cert_pem: no file missing.pem"),
    ({"key_pem": "KEY"}, "http_server.tls.cert_pem: required when http_server.tls.enabled is on"),
    ({"cert_pem": "CERT", "key_pem": "OTHER"}, "http_server.tls: the certificate and key cannot be used together"),
])
def test_unusable_certificates_stop_the_start_naming_the_setting(strata_bin, certs, tmp_path, tls, message):
    """A missing file, a missing key or a key of another certificate: the server does not start
    (nothing is served in cleartext instead), and the error names the setting."""
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "other.key",
             "-out", "other.pem", "-days", "1", "-subj", "/CN=other", cwd=tmp_path)
    values = {"CERT": str(certs / "server.pem"), "KEY": str(certs / "server.key"), "OTHER": str(tmp_path / "other.key")}
    section = {"enabled": True, **{k: values.get(v, v) for k, v in tls.items()}}
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"http_server": {"tls": section}}))
    serve = subprocess.run([str(strata_bin), "--config", str(config), "--port", str(free_port())], capture_output=True, text=True,
                           timeout=30, cwd=tmp_path)
    assert serve.returncode != 0
    assert message in serve.stderr + serve.stdout, serve.stderr + serve.stdout
