"""The gRPC server API (`grpc_api`, issue 17 item 4, docs/grpc-api.md): a real gRPC client —
Python grpcio with stubs generated from docs/protocol/proto/api.proto by grpcio-tools in the
test session — against Strata's gRPC port. Every method Centrifugo OSS has, errors in the
response body or (transport mode) as gRPC statuses, the API key in metadata, PRO methods
UNIMPLEMENTED, missing fields and wrong keys refused; a centrifuge-python subscriber receives
what gRPC publishes, and the HTTP API (cent) sees the same history."""

from __future__ import annotations

import asyncio
import json
import subprocess

import grpc
import pytest
from cent import HistoryRequest

from conftest import free_port
from itsupport import connect_client, connection_token, new_client, proto_modules

KEY = "grpc-key"


@pytest.fixture(scope="session")
def api_pb():
    """api_pb2 and api_pb2_grpc, generated from the committed api.proto."""
    return proto_modules("api")


@pytest.fixture
def grpc_server(server_factory):
    def make(**grpc_api):
        port = free_port()
        srv = server_factory({
            "grpc_api": {"enabled": True, "port": port, "key": KEY, **grpc_api},
            "channel": {"namespaces": [
                {"name": "news", "history_size": 10, "history_ttl": "300s", "presence": True,
                 "allow_subscribe_for_client": True, "allow_history_for_subscriber": True},
                {"name": "raw", "history_size": 10, "history_ttl": "300s", "publication_data_format": "binary"},
                {"name": "strict", "history_size": 10, "history_ttl": "300s", "publication_data_format": "json"}]},
        })
        srv.grpc_port = port
        return srv
    return make


def stub(api_pb, srv):
    _, pb2_grpc = api_pb
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{srv.grpc_port}")
    return channel, pb2_grpc.CentrifugoApiStub(channel)


AUTH = (("authorization", f"apikey {KEY}"),)


async def test_publish_reaches_subscribers_and_history_reads_back(grpc_server, api_pb, api_factory, protocol):
    """gRPC Publish with JSON bytes: a centrifuge-python subscriber gets it with its tags, gRPC
    History returns it with its offset and the publisher-less info, cent's HTTP history agrees;
    Presence and PresenceStats show the subscriber with its conn_info as bytes."""
    pb2, _ = api_pb
    srv = grpc_server()
    channel, api = stub(api_pb, srv)
    client, ev = new_client(srv.ws_url, token=connection_token("reader", info={"name": "R"}), protocol=protocol)
    try:
        await connect_client(client, ev)
        sub = client.new_subscription("news:1", ev)
        await sub.subscribe()
        await ev.wait("on_subscribed", timeout=5)
        resp = await api.Publish(pb2.PublishRequest(channel="news:1", data=b'{"headline":"hi"}', tags={"k": "v"}), metadata=AUTH)
        assert not resp.HasField("error") and resp.result.offset == 1 and resp.result.epoch
        pub = await ev.wait("on_publication", timeout=5)
        assert pub.pub.data == {"headline": "hi"} and pub.pub.tags == {"k": "v"}
        history = await api.History(pb2.HistoryRequest(channel="news:1", limit=10), metadata=AUTH)
        assert [(p.offset, json.loads(p.data)) for p in history.result.publications] == [(1, {"headline": "hi"})]
        assert history.result.epoch == resp.result.epoch and history.result.offset == 1
        presence = await api.Presence(pb2.PresenceRequest(channel="news:1"), metadata=AUTH)
        [info] = presence.result.presence.values()
        assert info.user == "reader" and json.loads(info.conn_info) == {"name": "R"}
        stats = await api.PresenceStats(pb2.PresenceStatsRequest(channel="news:1"), metadata=AUTH)
        assert stats.result.num_clients == 1 and stats.result.num_users == 1
    finally:
        await asyncio.wait_for(client.disconnect(), 5)
        await channel.close()
    http = await api_factory(srv).history(HistoryRequest(channel="news:1", limit=10))
    assert [p.data for p in http.publications] == [{"headline": "hi"}]


async def test_every_oss_method_answers(grpc_server, api_pb):
    """Broadcast, Subscribe, Unsubscribe, Disconnect, Refresh, HistoryRemove, Channels, Info, RPC
    and Batch through gRPC, each with the HTTP API's result or error."""
    pb2, _ = api_pb
    srv = grpc_server()
    channel, api = stub(api_pb, srv)
    try:
        b = await api.Broadcast(pb2.BroadcastRequest(channels=["news:a", "news:b", "nowhere:c"], data=b'{"x":1}'), metadata=AUTH)
        assert [r.result.offset for r in b.result.responses[:2]] == [1, 1] and b.result.responses[2].error.code == 102
        for call, request in [(api.Subscribe, pb2.SubscribeRequest(channel="news:a", user="u1")),
                              (api.Unsubscribe, pb2.UnsubscribeRequest(channel="news:a", user="u1")),
                              (api.Disconnect, pb2.DisconnectRequest(user="u1")),
                              (api.Refresh, pb2.RefreshRequest(user="u1", expire_at=2000000000)),
                              (api.HistoryRemove, pb2.HistoryRemoveRequest(channel="news:b"))]:
            resp = await call(request, metadata=AUTH)
            assert not resp.HasField("error"), (request, resp)
        removed = await api.History(pb2.HistoryRequest(channel="news:b", limit=10), metadata=AUTH)
        assert list(removed.result.publications) == [] and removed.result.offset == 1
        channels = await api.Channels(pb2.ChannelsRequest(), metadata=AUTH)
        assert not channels.HasField("error")
        info = await api.Info(pb2.InfoRequest(), metadata=AUTH)
        assert len(info.result.nodes) == 1 and info.result.nodes[0].version
        rpc = await api.RPC(pb2.RPCRequest(method="anything"), metadata=AUTH)
        assert rpc.error.code == 104
        batch = await api.Batch(pb2.BatchRequest(commands=[
            pb2.Command(publish=pb2.PublishRequest(channel="news:batch", data=b'{"n":1}')),
            pb2.Command(publish=pb2.PublishRequest(channel="nowhere:1", data=b'{"n":2}')),
            pb2.Command(history=pb2.HistoryRequest(channel="news:batch", limit=5)),
        ]), metadata=AUTH)
        assert batch.replies[0].publish.offset == 1 and batch.replies[1].error.code == 102
        assert [json.loads(p.data) for p in batch.replies[2].history.publications] == [{"n": 1}]
    finally:
        await channel.close()


async def test_errors_in_the_body_or_as_statuses(grpc_server, api_pb):
    """By default an API error is the response's `error` with status OK; with the metadata
    x-centrifugo-error-mode: transport (or grpc_api.error_mode) it is a gRPC status: 102 ⇒
    NOT_FOUND, 107 ⇒ INVALID_ARGUMENT. A missing channel is 107, data that is not JSON where the
    namespace wants JSON 107; binary data where it takes any format is published."""
    pb2, _ = api_pb
    srv = grpc_server()
    channel, api = stub(api_pb, srv)
    try:
        unknown = await api.Publish(pb2.PublishRequest(channel="nowhere:1", data=b"{}"), metadata=AUTH)
        assert (unknown.error.code, unknown.error.message) == (102, "unknown channel")
        assert (await api.Publish(pb2.PublishRequest(data=b"{}"), metadata=AUTH)).error.code == 107
        assert (await api.Publish(pb2.PublishRequest(channel="strict:1", data=b"\x00\xff"), metadata=AUTH)).error.code == 107
        for channel_name in ["raw:1", "news:bin"]:
            binary = await api.Publish(pb2.PublishRequest(channel=channel_name, data=b"\x00\xff"), metadata=AUTH)
            assert not binary.HasField("error") and binary.result.offset == 1, channel_name
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await api.Publish(pb2.PublishRequest(channel="nowhere:1", data=b"{}"),
                              metadata=AUTH + (("x-centrifugo-error-mode", "transport"),))
        assert e.value.code() == grpc.StatusCode.NOT_FOUND and e.value.details() == "unknown channel"
    finally:
        await channel.close()
    srv2 = grpc_server(error_mode="transport")
    channel, api = stub(api_pb, srv2)
    try:
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await api.Publish(pb2.PublishRequest(data=b"{}"), metadata=AUTH)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    finally:
        await channel.close()


async def test_the_key_and_the_methods_strata_does_not_have(grpc_server, api_pb):
    """Without `authorization: apikey <key>` (or with another key, or another scheme) every call is
    UNAUTHENTICATED; PRO methods are UNIMPLEMENTED with Centrifugo's message."""
    pb2, _ = api_pb
    srv = grpc_server()
    channel, api = stub(api_pb, srv)
    try:
        for metadata in [(), (("authorization", "apikey wrong"),), (("authorization", f"bearer {KEY}"),)]:
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await api.Info(pb2.InfoRequest(), metadata=metadata)
            assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED and e.value.details() == "unauthenticated"
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await api.Connections(pb2.ConnectionsRequest(), metadata=AUTH)
        assert e.value.code() == grpc.StatusCode.UNIMPLEMENTED and e.value.details() == "method Connections not implemented"
    finally:
        await channel.close()


def test_grpc_api_configs_that_cannot_work_are_refused(strata_bin, tmp_path):
    for grpc_api, message in [
        ({"enabled": True, "tls": {"enabled": True}}, "grpc_api.tls.enabled"),
        ({"enabled": True, "reflection": True}, "grpc_api.reflection"),
        ({"enabled": True, "error_mode": "loud"}, "grpc_api.error_mode"),
        ({"enabled": True, "port": 8000}, "grpc_api.port"),
    ]:
        (tmp_path / "config.json").write_text(json.dumps({"http_server": {"port": 8000}, "grpc_api": grpc_api}))
        check = subprocess.run([str(strata_bin), "checkconfig", "--config", "config.json"], capture_output=True, text=True,
                               timeout=30, cwd=tmp_path)
        assert check.returncode != 0 and message in check.stderr + check.stdout, (grpc_api, check.stderr + check.stdout)
