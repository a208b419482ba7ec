"""`client.token.jwks_public_endpoint` (issue 17, item 3): connection and subscription tokens
signed with RS256 by an identity provider's key, the key published in a JWKS document that a
real HTTP server in the test serves on loopback; centrifuge-python connects with them. Keys are
made and tokens signed by Debian's `openssl` (no Python crypto package)."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from itsupport import connect_client, new_client, subscribe, unique


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class RSAKey:
    def __init__(self, directory: Path, kid: str) -> None:
        self.kid = kid
        self.path = directory / f"{kid}.pem"
        subprocess.run(["openssl", "genrsa", "-out", str(self.path), "2048"], check=True, capture_output=True, timeout=60)
        modulus = subprocess.run(["openssl", "rsa", "-in", str(self.path), "-noout", "-modulus"], check=True,
                                 capture_output=True, text=True).stdout.strip().split("=", 1)[1]
        self.jwk = {"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": _b64url(bytes.fromhex(modulus)), "e": "AQAB"}

    def token(self, claims: dict, kid: str | None = "") -> str:
        """Signed with this key; `kid` names another key in the header, None leaves it out."""
        header = {"alg": "RS256", "typ": "JWT"}
        if kid is not None:
            header["kid"] = kid or self.kid
        signing_input = _b64url(json.dumps(header).encode()) + "." + _b64url(json.dumps(claims).encode())
        signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(self.path)], input=signing_input.encode(),
                                   check=True, capture_output=True).stdout  # RSASSA-PKCS1-v1_5: the JWS bytes as they are
        return signing_input + "." + _b64url(signature)


class JWKSServer:
    """Serves `document` at /jwks.json and counts the requests; `stop()` takes it away."""

    def __init__(self) -> None:
        self.document: dict = {"keys": []}
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                outer.requests += 1
                body = json.dumps(outer.document).encode()
                self.send_response(200 if self.path == "/jwks.json" else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks.json"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> dict[str, RSAKey]:
    d = tmp_path_factory.mktemp("jwks")
    return {kid: RSAKey(d, kid) for kid in ("idp-1", "idp-2")}


@pytest.fixture
def jwks():
    server = JWKSServer()
    yield server
    try:
        server.stop()
    except OSError:
        pass


def jwks_config(jwks: JWKSServer) -> dict:
    # The HMAC secret of the default config stays: with JWKS it is not used.
    return {"client": {"token": {"jwks_public_endpoint": jwks.url}},
            "channel": {"namespaces": [{"name": "private", "allow_subscribe_for_client": False}]}}


async def test_tokens_signed_by_the_providers_key_connect_and_subscribe(server_factory, jwks, keys, protocol):
    """centrifuge-python connects with an RS256 token whose key is found by kid in the JWKS
    document, and subscribes to a channel that needs a subscription token, signed the same way."""
    jwks.document = {"keys": [keys["idp-1"].jwk]}
    srv = server_factory(jwks_config(jwks))
    key = keys["idp-1"]
    client, ev = new_client(srv.ws_url, token=key.token({"sub": "alice", "exp": 4_000_000_000}), protocol=protocol)
    try:
        await connect_client(client, ev)
        assert ev.of("on_connected")[0].client
        channel = unique("private:room")
        _, sev, _ = await subscribe(client, channel, token=key.token({"sub": "alice", "channel": channel, "exp": 4_000_000_000}))
        assert sev.of("on_subscribed")
    finally:
        await asyncio.wait_for(client.disconnect(), 5)
    assert jwks.requests == 1, "one document served the connection and the subscription"


async def invalid_token_disconnect(srv, token: str, protocol: str = "json") -> tuple[int, str]:
    client, ev = new_client(srv.ws_url, token=token, protocol=protocol)
    await asyncio.wait_for(client.connect(), 10)
    ctx = await ev.wait("on_disconnected", timeout=10)
    await asyncio.wait_for(client.disconnect(), 5)
    return ctx.code, ctx.reason


async def test_the_hmac_secret_an_unknown_kid_and_a_forged_signature_are_refused(server_factory, jwks, keys):
    """With JWKS, the HMAC secret of the config does not sign tokens any more; a token without
    kid, a kid the document does not have and a signature by another key are invalid tokens
    (3500) — what the real Centrifugo v6.9.1 answers to the same tokens and document."""
    from itsupport import connection_token

    jwks.document = {"keys": [keys["idp-1"].jwk]}
    srv = server_factory(jwks_config(jwks))
    assert await invalid_token_disconnect(srv, connection_token("mallory")) == (3500, "invalid token")
    assert await invalid_token_disconnect(srv, keys["idp-1"].token({"sub": "x"}, kid=None)) == (3500, "invalid token")
    assert await invalid_token_disconnect(srv, keys["idp-2"].token({"sub": "x"})) == (3500, "invalid token")
    forged = keys["idp-2"].token({"sub": "x"}, kid="idp-1")
    assert await invalid_token_disconnect(srv, forged) == (3500, "invalid token")


async def test_a_provider_that_goes_down_does_not_stop_known_keys(server_factory, jwks, keys):
    """The JWKS server stops: tokens of the key already fetched still connect; a new kid cannot
    be learned and is an invalid token; the server keeps serving."""
    jwks.document = {"keys": [keys["idp-1"].jwk]}
    srv = server_factory(jwks_config(jwks))
    token = keys["idp-1"].token({"sub": "bob"})
    client, ev = new_client(srv.ws_url, token=token)
    await connect_client(client, ev)
    await asyncio.wait_for(client.disconnect(), 5)
    jwks.stop()
    again, ev2 = new_client(srv.ws_url, token=token)
    await connect_client(again, ev2)
    await asyncio.wait_for(again.disconnect(), 5)
    assert await invalid_token_disconnect(srv, keys["idp-2"].token({"sub": "x"})) == (3500, "invalid token")
    assert srv.alive()


@pytest.mark.parametrize("endpoint, message", [
    ("ftp://idp/jwks", "expected an http(s) URL"),
    ("https://{{tenant}}.idp.example/jwks", "templated JWKS URLs"),
])
def test_unusable_endpoints_are_refused_by_checkconfig(strata_bin, tmp_path, endpoint, message):
    (tmp_path / "config.json").write_text(json.dumps({"client": {"token": {"jwks_public_endpoint": endpoint}}}))
    check = subprocess.run([str(strata_bin), "checkconfig", "--config", "config.json"], capture_output=True, text=True,
                           timeout=30, cwd=tmp_path)
    assert check.returncode != 0
    assert f"client.token.jwks_public_endpoint: {message}" in check.stderr + check.stdout, check.stderr
