"""A stand-in for an application backend that Strata's gRPC proxies call: a real grpcio (aio)
server on loopback implementing Centrifugo's `CentrifugoProxy` service (proxy.proto), the gRPC
counterpart of proxy_backend.Backend. Each unary method (Connect, Refresh, Subscribe, Publish,
RPC, SubRefresh) answers with what the test set for its event, after the delay set for it, and
records every request message with its invocation metadata.

Stubs are generated from docs/protocol/proto/proxy.proto with grpc_tools.protoc into a temporary
directory on first use (as test_grpc_api.py does for api.proto): `proxy_pb()` gives the modules.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Optional

import grpc
import pytest

from conftest import free_port
from itsupport import proto_modules


# The events, as Strata's metrics and the HTTP backend name them, and their gRPC methods.
EVENTS = {
    "connect": "Connect",
    "refresh": "Refresh",
    "subscribe": "Subscribe",
    "publish": "Publish",
    "rpc": "RPC",
    "sub_refresh": "SubRefresh",
}


def proxy_pb() -> tuple[Any, Any]:
    """(proxy_pb2, proxy_pb2_grpc), generated once per process from the committed proxy.proto."""
    return proto_modules("proxy")


class Abort(Exception):
    """Raised by an answer: the call ends with this gRPC status instead of a response."""

    def __init__(self, code: grpc.StatusCode, details: str = "") -> None:
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details


class Call:
    """One recorded call: the request message, its invocation metadata as (key, value) pairs in
    the order received, and the deadline left when it arrived (seconds, None without one)."""

    def __init__(self, request: Any, metadata: list[tuple[str, Any]], time_remaining: Optional[float]) -> None:
        self.request = request
        self.metadata = metadata
        self.time_remaining = time_remaining

    def md(self) -> dict[str, Any]:
        """The metadata as a dict (the last value of a repeated key)."""
        return dict(self.metadata)

    def md_all(self, key: str) -> list[Any]:
        return [v for k, v in self.metadata if k == key]


Answer = Callable[[Any], Any]


class GRPCBackend:
    """`answers[event]`: request message -> response message (or raise `Abort`); `delays[event]`
    in seconds; `calls[event]`: the recorded `Call`s. Default answers: connect gives user "56",
    the others an empty response (no result)."""

    def __init__(self) -> None:
        self.pb2, self.pb2_grpc = proxy_pb()
        pb2 = self.pb2
        self.answers: dict[str, Answer] = {
            "connect": lambda req: pb2.ConnectResponse(result=pb2.ConnectResult(user="56")),
        }
        self.delays: dict[str, float] = {}
        self.calls: dict[str, list[Call]] = {}
        self.port = free_port()
        self.server: Optional[grpc.aio.Server] = None

    @property
    def endpoint(self) -> str:
        """The proxy `endpoint` value: grpc://127.0.0.1:PORT."""
        return f"grpc://127.0.0.1:{self.port}"

    @property
    def address(self) -> str:
        """The bare host:port form of the endpoint."""
        return f"127.0.0.1:{self.port}"

    def requests(self, event: str) -> list[Any]:
        return [c.request for c in self.calls.get(event, [])]

    def _empty(self, event: str) -> Any:
        return getattr(self.pb2, EVENTS[event] + "Response")()

    def _handler(self, event: str):
        async def handle(request, context: grpc.aio.ServicerContext):
            metadata = [(m.key, m.value) for m in (context.invocation_metadata() or ())]
            self.calls.setdefault(event, []).append(Call(request, metadata, context.time_remaining()))
            delay = self.delays.get(event, 0.0)
            if delay:
                await asyncio.sleep(delay)
            answer = self.answers.get(event)
            try:
                return answer(request) if answer else self._empty(event)
            except Abort as a:
                await context.abort(a.code, a.details)
        return handle

    async def start(self) -> "GRPCBackend":
        # The generated servicer's unary methods, each replaced by this backend's handler
        # (static: grpcio calls servicer.Method(request, context)); the streaming and PRO ones
        # stay UNIMPLEMENTED.
        handlers = {name: staticmethod(self._handler(event)) for event, name in EVENTS.items()}
        servicer = type("Servicer", (self.pb2_grpc.CentrifugoProxyServicer,), handlers)()
        self.server = grpc.aio.server()
        self.pb2_grpc.add_CentrifugoProxyServicer_to_server(servicer, self.server)
        bound = self.server.add_insecure_port(self.address)
        assert bound == self.port, (bound, self.port)
        await self.server.start()
        return self

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop(None)
            self.server = None


@pytest.fixture
async def grpc_backend():
    """A started GRPCBackend, stopped at teardown (import it into a test module to use it)."""
    b = GRPCBackend()
    await b.start()
    yield b
    await b.stop()
