"""History over plain HTTP (issue 20, item 6; docs/history-http.md):
`GET /api/history/{channel}?since=&epoch=&limit=&wait=&format=json` on every engine, and nginx's
`proxy_cache` in front of it serving an immutable page's second read from its cache.

Publications are made with cent (the real client); the endpoint is read with plain HTTP, which is
what a backend, a CDN or curl uses."""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
from cent import PublishRequest

from conftest import free_port
from itsupport import API_KEY, api_call, http_request, unique

FEED = {"name": "feed", "history_size": 1000, "history_ttl": "300s", "force_recovery": True}
PLAIN = {"name": "plain"}


@pytest.fixture
def engine_server(engine_factory):
    return engine_factory({"channel": {"namespaces": [FEED, PLAIN]}})


def get(url: str, key: str | None = API_KEY, headers: dict | None = None):
    """(status, headers, body) of a GET; the API key as X-API-Key unless None."""
    import urllib.error
    import urllib.request
    all_headers = dict(headers or {})
    if key:
        all_headers["X-API-Key"] = key
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(urllib.request.Request(url, headers=all_headers), timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def lines(body: bytes) -> list[dict]:
    return [json.loads(line) for line in body.decode().splitlines()]


async def publish_many(api, channel: str, count: int) -> None:
    for n in range(1, count + 1):
        await api.publish(PublishRequest(channel=channel, data={"n": n}, tags={"k": str(n)}))


async def test_pages_headers_and_caching_rules(engine_server, api_factory):
    srv = engine_server
    api = api_factory(srv)
    channel = unique("feed:p")
    await publish_many(api, channel, 10)
    base = f"{srv.http_url}/api/history/{channel}"

    # No key: 401, as for the API.
    assert get(base, key=None)[0] == 401

    # From the oldest, no epoch named: every publication, short-lived, a link to what follows.
    status, headers, body = get(base)
    assert status == 200 and headers["Content-Type"] == "application/x-ndjson"
    got = lines(body)
    assert [p["offset"] for p in got] == list(range(1, 11))
    assert got[0]["data"] == {"n": 1} and got[0]["tags"] == {"k": "1"}
    assert headers["X-Strata-Offset"] == "10"
    epoch = headers["X-Strata-Epoch"]
    assert headers["Cache-Control"] == "public, max-age=1"
    assert headers["Link"] == f'</api/history/{channel}?since=10&epoch={epoch}&limit=100>; rel="next"'

    # A full page of a named epoch is immutable, and revalidates with its tag.
    status, headers, body = get(f"{base}?since=0&epoch={epoch}&limit=4")
    assert [p["offset"] for p in lines(body)] == [1, 2, 3, 4]
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    tag = headers["ETag"]
    status, again, body = get(f"{base}?since=0&epoch={epoch}&limit=4", headers={"If-None-Match": tag})
    assert status == 304 and body == b"" and again["ETag"] == tag
    # The next page, then the one that reaches the top: not immutable.
    status, headers, body = get(f"{base}?since=4&epoch={epoch}&limit=4")
    assert [p["offset"] for p in lines(body)] == [5, 6, 7, 8] and "immutable" in headers["Cache-Control"]
    status, headers, body = get(f"{base}?since=8&epoch={epoch}&limit=4")
    assert [p["offset"] for p in lines(body)] == [9, 10] and headers["Cache-Control"] == "public, max-age=1"

    # format=json: the API's history result shape.
    status, headers, body = get(f"{base}?since=8&epoch={epoch}&format=json")
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert json.loads(body) == api_call(srv, "history", {"channel": channel, "limit": -1,
                                                          "since": {"offset": 8, "epoch": epoch}})["result"]

    # Errors: another epoch (112 → 409), a namespace without history or unknown (404), a bad
    # number (400), another method (405).
    status, headers, body = get(f"{base}?since=2&epoch=other")
    assert status == 409 and json.loads(body)["error"]["code"] == 112
    assert get(f"{srv.http_url}/api/history/{unique('plain:x')}")[0] == 404
    assert get(f"{srv.http_url}/api/history/{unique('nope:x')}")[0] == 404
    assert get(f"{base}?since=abc")[0] == 400
    assert http_request(base, method="POST", body=b"{}", headers={"X-API-Key": API_KEY})[0] == 405


async def test_long_poll_waits_for_the_next_publication(engine_server, api_factory):
    srv = engine_server
    api = api_factory(srv)
    channel = unique("feed:w")
    await publish_many(api, channel, 2)
    epoch = get(f"{srv.http_url}/api/history/{channel}")[1]["X-Strata-Epoch"]
    url = f"{srv.http_url}/api/history/{channel}?since=2&epoch={epoch}&wait=10"
    result: dict = {}

    def poll():
        started = time.monotonic()
        result["reply"] = get(url)
        result["elapsed"] = time.monotonic() - started

    waiter = threading.Thread(target=poll)
    waiter.start()
    await asyncio.sleep(0.6)
    assert "reply" not in result, "answered before anything was published"
    await api.publish(PublishRequest(channel=channel, data={"n": 3}))
    await asyncio.to_thread(waiter.join, 10)
    status, headers, body = result["reply"]
    assert status == 200 and [p["data"] for p in lines(body)] == [{"n": 3}]
    assert 0.5 < result["elapsed"] < 5, result["elapsed"]
    # Nothing comes: an empty page after the wait.
    started = time.monotonic()
    status, headers, body = get(f"{srv.http_url}/api/history/{channel}?since=3&epoch={epoch}&wait=1")
    assert status == 200 and body == b"" and 0.9 < time.monotonic() - started < 4


async def test_binary_payloads_and_the_dump_command(server_factory, api_factory, strata_bin):
    """JSON lines carry a payload that is not JSON as a string; `strata history dump` prints
    exactly the endpoint's lines (one reader, `HistoryPage`)."""
    srv = server_factory({"channel": {"namespaces": [FEED]}})
    channel = unique("feed:d")
    api = api_factory(srv)
    await publish_many(api, channel, 3)
    api_call(srv, "publish", {"channel": channel, "b64data": base64.b64encode(b"plain text").decode()})
    status, _, body = get(f"{srv.http_url}/api/history/{channel}")
    assert status == 200
    assert lines(body)[-1]["data"] == "plain text"
    dump = subprocess.run([str(strata_bin), "history", "dump", "--channel", channel, "--config", str(srv.config_path)],
                          cwd=srv.workdir, capture_output=True, timeout=30)
    assert dump.returncode == 0, dump.stderr
    assert dump.stdout == body


@pytest.fixture
def nginx_cache(tmp_path: Path):
    """An nginx (Debian's) on a free port with proxy_cache in front of `upstream`; returns a
    function starting it, and stops it at teardown."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    procs: list[subprocess.Popen] = []

    def start(upstream_port: int) -> int:
        port = free_port()
        (tmp_path / "cache").mkdir()
        conf = tmp_path / "nginx.conf"
        conf.write_text(f"""
daemon off;
master_process off;
worker_processes 1;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp_path}/body;
    proxy_temp_path {tmp_path}/proxy;
    fastcgi_temp_path {tmp_path}/fastcgi;
    uwsgi_temp_path {tmp_path}/uwsgi;
    scgi_temp_path {tmp_path}/scgi;
    proxy_cache_path {tmp_path}/cache keys_zone=history:1m;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://127.0.0.1:{upstream_port};
            proxy_cache history;
            # The key is part of what is cached under: no key, no cached page.
            proxy_cache_key "$request_uri $http_x_api_key";
            add_header X-Cache-Status $upstream_cache_status always;
        }}
    }}
}}
""")
        proc = subprocess.Popen([binary, "-c", str(conf), "-p", str(tmp_path)], stdout=subprocess.DEVNULL,
                                stderr=open(tmp_path / "stderr.log", "wb"))
        procs.append(proc)
        for _ in range(100):
            try:
                get(f"http://127.0.0.1:{port}/health", key=None)
                return port
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"nginx did not start: {(tmp_path / 'error.log').read_text() if (tmp_path / 'error.log').exists() else ''}")

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(10)


async def test_nginx_serves_the_second_read_of_an_immutable_page_from_its_cache(server_factory, api_factory, nginx_cache):
    srv = server_factory({"channel": {"namespaces": [FEED]}})
    api = api_factory(srv)
    channel = unique("feed:cdn")
    await publish_many(api, channel, 6)
    epoch = get(f"{srv.http_url}/api/history/{channel}")[1]["X-Strata-Epoch"]
    port = nginx_cache(srv.port)
    page = f"http://127.0.0.1:{port}/api/history/{channel}?since=0&epoch={epoch}&limit=5"
    top_page = f"http://127.0.0.1:{port}/api/history/{channel}?since=5&epoch={epoch}&limit=5"

    first = get(page)
    assert first[0] == 200 and first[1]["X-Cache-Status"] == "MISS", first[1]
    assert get(top_page)[1]["X-Cache-Status"] == "MISS"
    # Strata is stopped: only the cache can answer now.
    srv.expected_exit = True
    srv.stop()
    second = get(page)
    assert second[0] == 200 and second[1]["X-Cache-Status"] == "HIT", second[1]
    assert second[2] == first[2] and [p["offset"] for p in lines(second[2])] == [1, 2, 3, 4, 5]
    # Without the key it was cached under, the cache has nothing (and Strata is gone).
    anonymous = get(page, key=None)
    assert anonymous[0] == 502, anonymous
    # The page that reached the top was cached for one second only: after it, nginx must ask
    # Strata again. (nginx counts whole seconds and keeps an entry while its second lasts, so
    # "one second" ends between 1 and 2 s after it was stored.)
    time.sleep(2.2)
    late = get(top_page)
    assert late[0] == 502, late[1]
