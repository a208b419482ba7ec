"""`publication_data_format` (issue 20, item 3) on every engine: which payloads a namespace takes
through the server API (`data` and `b64data`) and from clients (centrifuge-python, both
protocols). The expected table is what Centrifugo v6.9.1 answered to the same requests, side by
side with Strata (2026-12-05): `b64data` is decoded first and then validated, so bytes that are
not JSON are refused with 107 in `json` and `json_object` namespaces."""

from __future__ import annotations

import base64

import pytest
from centrifuge import CentrifugeError

from itsupport import api_call, connect_client, unique

COMMON = {"history_size": 10, "history_ttl": "60s", "allow_publish_for_client": True}
NAMESPACES = [{"name": "any", **COMMON}, {"name": "js", **COMMON, "publication_data_format": "json"},
              {"name": "jo", **COMMON, "publication_data_format": "json_object"},
              {"name": "bin", **COMMON, "publication_data_format": "binary"}]


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


# (fields of the publish request, then the error code per namespace any/js/jo/bin; 0 = accepted)
API_CASES = [
    ({"data": {"a": 1}}, (0, 0, 0, 0)),
    ({"data": [1]}, (0, 0, 107, 0)),
    ({"data": "x"}, (0, 0, 107, 0)),
    ({"data": None}, (0, 0, 107, 0)),
    ({}, (107, 107, 107, 0)),
    ({"b64data": b64(b"hi there")}, (0, 107, 107, 0)),
    ({"b64data": b64(b'{"a":1}')}, (0, 0, 0, 0)),
    ({"b64data": b64(b" {\"a\":1}")}, (0, 0, 0, 0)),
    ({"b64data": b64(b"[1]")}, (0, 0, 107, 0)),
    ({"b64data": "!!!"}, (107, 107, 107, 107)),
]


@pytest.fixture
def engine_server(engine_factory):
    return engine_factory({"channel": {"namespaces": NAMESPACES}})


def test_server_api_validates_data_and_decoded_b64data(engine_server):
    srv = engine_server
    got, want = [], []
    for fields, codes in API_CASES:
        for ns, code in zip(("any", "js", "jo", "bin"), codes):
            reply = api_call(srv, "publish", {"channel": unique(f"{ns}:c"), **fields})
            got.append((ns, str(fields)[:40], reply.get("error", {}).get("code", 0)))
            want.append((ns, str(fields)[:40], code))
            if code == 0:
                assert reply["result"]["offset"] == 1, reply
    assert got == want


async def test_client_publish_follows_the_namespace_format(engine_server, client_factory, protocol):
    """A client's publish: an array is refused in `json_object` (107), an object accepted; with
    Protobuf, bytes that are not JSON are refused in `json` and accepted in `binary`."""
    srv = engine_server
    client, ev = client_factory(srv)
    await connect_client(client, ev)
    with pytest.raises(CentrifugeError) as refused:
        await client.publish(unique("jo:c"), [1])
    assert refused.value.code == 107
    await client.publish(unique("jo:c"), {"a": 1})
    await client.publish(unique("js:c"), "text")
    if protocol == "protobuf":
        with pytest.raises(CentrifugeError) as raw:
            await client.publish(unique("js:c"), b"\x00\x01 not json")
        assert raw.value.code == 107
        await client.publish(unique("bin:c"), b"\x00\x01 not json")
