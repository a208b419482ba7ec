"""Issue 18, item 3: the embedded admin web UI — Centrifugo's admin endpoints (admin/init,
admin/auth, admin/api with its token), a failed-login limit, and a UI driven in headless Chromium:
log in, see the status page, publish, and find the publication in the history browser (with
delta sizes on a delta channel). Screenshots of each page go to STRATA_ADMIN_SCREENSHOTS (the
ones in docs/images/ came from such a run)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from cent import PublishRequest

from cdp import Browser
from centrifuge import DeltaType

from itsupport import connect_client, subscribe, unique
from test_delta import DELTA, match_states

SECRET = "admin-secret"
PASSWORD = "admin-password"
ADMIN = {"admin": {"enabled": True, "password": PASSWORD, "secret": SECRET}}


def http(srv, path: str, method: str = "GET", body: bytes | None = None, headers: dict | None = None):
    req = urllib.request.Request(f"{srv.http_url}{path}", data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def login(srv, password: str = PASSWORD):
    return http(srv, "/admin/auth", "POST", f"password={password}".encode(),
                {"Content-Type": "application/x-www-form-urlencoded"})


def token_at(ts: int, secret: str = SECRET) -> str:
    """A token as Strata lays it out (docs/admin.md), signed with `secret` at unix time `ts`."""
    value = base64.urlsafe_b64encode(b"authorized").decode()
    mac = hmac.new(secret.encode(), f"token|{ts}|{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(f"{ts}|{value}|".encode() + mac).decode()


def admin_api(srv, token: str | None, body: dict):
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"token {token}"
    return http(srv, "/admin/api", "POST", json.dumps(body).encode(), headers)


def test_login_tokens_and_the_admin_api(server_factory):
    """Centrifugo's endpoints answer as it does: init says whether the caller is logged in; a
    wrong password is 400, the right one a token; admin/api without a token, with a forged, a
    tampered or a 31-day-old one is 401, with a good one it runs the API (no API key needed)."""
    srv = server_factory(ADMIN)
    status, headers, body = http(srv, "/admin/init")
    assert (status, json.loads(body)) == (200, {"authenticated": False, "edition": "oss", "insecure": False})
    assert body.endswith(b"\n")
    assert login(srv, "wrong")[0] == 400
    assert http(srv, "/admin/auth")[0] == 405
    status, _, body = login(srv)
    assert status == 200
    token = json.loads(body)["token"]
    status, _, body = http(srv, "/admin/init", headers={"Authorization": f"token {token}"})
    assert json.loads(body)["authenticated"] is True

    assert admin_api(srv, None, {"method": "info", "params": {}})[0] == 401
    assert admin_api(srv, token_at(int(time.time()), secret="other-secret"), {"method": "info"})[0] == 401
    assert admin_api(srv, token[:-4] + "AAA=", {"method": "info"})[0] == 401
    assert admin_api(srv, token_at(int(time.time()) - 31 * 86400), {"method": "info"})[0] == 401
    assert admin_api(srv, token_at(int(time.time()) - 29 * 86400), {"method": "info"})[0] == 200
    assert http(srv, "/admin/api", headers={"Authorization": f"token {token}"})[0] == 405

    channel = unique("chat:admin")
    status, _, body = admin_api(srv, token, {"method": "publish", "params": {"channel": channel, "data": {"x": 1}}})
    assert status == 200 and json.loads(body)["result"]["offset"] == 1, body
    status, _, body = admin_api(srv, token, {"method": "info", "params": {}})
    assert json.loads(body)["result"]["nodes"][0]["num_clients"] == 0
    status, _, body = http(srv, f"/admin/history?channel={channel}&reverse=true", headers={"Authorization": f"token {token}"})
    page = json.loads(body)
    assert [p["offset"] for p in page["publications"]] == [1] and page["publications"][0]["data"] == {"x": 1}
    status, _, body = http(srv, "/admin/store", headers={"Authorization": f"token {token}"})
    store = json.loads(body)
    assert store["engine"] == "lmdb" and store["publications"] >= 1 and store["map_size_bytes"] > 0
    assert http(srv, "/admin/store")[0] == 401

    # The UI's files come from the binary; unknown files are 404.
    status, headers, body = http(srv, "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html") and b"assets/admin.js" in body
    assert http(srv, "/assets/admin.js")[0] == 200
    assert http(srv, "/assets/nope.js")[0] == 404


def test_failed_logins_are_limited_per_address(server_factory):
    """Five wrong passwords from one address within a minute: the sixth attempt is refused with
    429 even with the right password (Centrifugo's docs promise a limit its code lacks)."""
    srv = server_factory(ADMIN)
    for _ in range(5):
        assert login(srv, "guess")[0] == 400
    status, _, body = login(srv)
    assert status == 429 and b"Too Many Requests" in body
    assert "admin login failed" in srv.stderr_path.read_text()


def test_admin_off_insecure_and_prefix(server_factory):
    """Off by default (the paths are 404); `admin.insecure` needs no login; `handler_prefix`
    moves everything under it (and redirects the bare prefix to the page)."""
    off = server_factory()
    assert http(off, "/admin/init")[0] == 404
    srv = server_factory({"admin": {"enabled": True, "insecure": True, "handler_prefix": "/ops/"}})
    status, _, body = http(srv, "/ops/admin/init")
    assert json.loads(body) == {"authenticated": True, "edition": "oss", "insecure": True}
    assert admin_api(srv, None, {"method": "info"})[0] == 404  # not under the prefix
    req = urllib.request.Request(f"{srv.http_url}/ops/admin/api", data=b'{"method":"info"}', method="POST")
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert json.loads(resp.read())["result"]["nodes"]
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None
    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as e:
        opener.open(f"{srv.http_url}/ops", timeout=5)
    assert e.value.code == 301 and e.value.headers["Location"] == "/ops/"
    assert "admin.insecure is on" in srv.stderr_path.read_text()


@pytest.mark.json_only  # the client only fills the status page
async def test_the_ui_in_chromium(server_factory, api_factory, client_factory):
    """In headless Chromium: log in, see the status page (this node, the LMDB store), publish
    from the actions page, find the publication in the history browser, page a delta channel and
    see each publication's delta size against its full size."""
    shots = Path(os.environ.get("STRATA_ADMIN_SCREENSHOTS") or tempfile.mkdtemp(prefix="strata-admin-"))
    shots.mkdir(parents=True, exist_ok=True)
    srv = server_factory({**ADMIN, **DELTA})
    api = api_factory(srv)
    delta_channel = unique("match:final")
    for s in match_states(10):  # the namespace keeps 10
        await api.publish(PublishRequest(channel=delta_channel, data=s))
    client, ev = client_factory(srv, user="u-admin")
    await connect_client(client, ev)
    await subscribe(client, delta_channel, delta=DeltaType.FOSSIL)

    async with Browser() as b:
        await b.goto(srv.http_url + "/")
        await b.wait_for("!document.getElementById('login').hidden")
        await b.eval(f"document.getElementById('password').value = 'wrong'; document.getElementById('login-form').requestSubmit(); 1")
        await b.wait_for("document.getElementById('login-error').textContent.includes('Wrong password')")
        await b.screenshot(shots / "admin-login.png")
        await b.eval(f"document.getElementById('password').value = {json.dumps(PASSWORD)}; document.getElementById('login-form').requestSubmit(); 1")
        await b.wait_for("!document.getElementById('app').hidden")
        name = await b.wait_for("document.querySelector('#nodes tbody td') && document.querySelector('#nodes tbody td').textContent")
        assert name.startswith("strata_")
        await b.wait_for("document.getElementById('t-store').textContent === 'lmdb'")
        assert await b.eval("document.getElementById('t-clients').textContent") == "1"
        assert await b.eval("localStorage.getItem('token') !== null")
        await b.screenshot(shots / "admin-status.png")

        channel = unique("ui-news")  # the default namespace (DELTA replaces the namespaces)
        await b.goto(srv.http_url + "/#/actions")
        await b.wait_for("!document.getElementById('page-actions').hidden")
        await b.eval(f"""document.getElementById('method').value = 'publish';
            document.getElementById('params').value = JSON.stringify({{channel: {json.dumps(channel)}, data: {{text: 'hello from the admin UI'}}}}, null, 2);
            document.getElementById('action-form').requestSubmit(); 1""")
        reply = await b.wait_for("document.getElementById('action-response').textContent")
        assert '"offset": 1' in reply, reply
        await b.screenshot(shots / "admin-actions.png")

        await b.goto(srv.http_url + "/#/history")
        await b.wait_for("!document.getElementById('page-history').hidden")
        await b.eval(f"document.getElementById('h-channel').value = {json.dumps(channel)}; document.getElementById('history-form').requestSubmit(); 1")
        row = await b.wait_for("document.querySelector('#h-table tbody tr') && document.querySelector('#h-table tbody tr').textContent")
        assert "hello from the admin UI" in row, row

        await b.eval(f"document.getElementById('h-channel').value = {json.dumps(delta_channel)}; "
                     "document.getElementById('h-limit').value = '4'; document.getElementById('history-form').requestSubmit(); 1")
        await b.wait_for("document.getElementById('h-position').textContent.startsWith('offsets 7–10')")
        cells = await b.eval("[...document.querySelectorAll('#h-table tbody tr')].map(r => r.children[3].textContent)")
        assert len(cells) == 4 and all("%" in c for c in cells), cells  # each a delta size against the full one
        await b.eval("document.getElementById('h-older').click(); 1")
        await b.wait_for("document.getElementById('h-position').textContent.startsWith('offsets 3–6')")
        await b.eval("document.getElementById('h-oldest').click(); 1")
        await b.wait_for("document.getElementById('h-position').textContent.startsWith('offsets 1–4')")
        first = await b.eval("[...document.querySelectorAll('#h-table tbody tr')].map(r => r.children[3].textContent)")
        assert first[-1] == "full" and all("%" in c for c in first[:-1]), first
        await b.eval("document.getElementById('h-newer').click(); 1")
        await b.wait_for("document.getElementById('h-position').textContent.startsWith('offsets 5–8')")
        await b.screenshot(shots / "admin-history.png")

        # Logging out forgets the token; the page asks for the password again.
        await b.eval("document.getElementById('logout').click(); 1")
        await b.wait_for("!document.getElementById('login').hidden && localStorage.getItem('token') === null")


def test_health_and_metrics_stay_theirs_beside_the_ui_at_the_root(server_factory):
    """With the UI at the root (the default prefix) it answers only what nothing else serves:
    `/health` and `/metrics` are still the health check and the exposition, as in Centrifugo."""
    srv = server_factory({**ADMIN, "prometheus": {"enabled": True}})
    status, headers, body = http(srv, "/health")
    assert (status, body) == (200, b"{}")
    status, headers, body = http(srv, "/metrics", "POST", b"")
    assert status == 200 and headers["Content-Type"].startswith("text/plain") and b"centrifugo_node_num_clients" in body
    assert http(srv, "/anything-else")[2].startswith(b"<!doctype html>")
    assert json.loads(http(srv, "/admin/init")[2])["edition"] == "oss"
