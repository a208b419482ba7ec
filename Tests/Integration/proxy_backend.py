"""A stand-in for the application backend that Strata's proxies call: a real aiohttp app on
loopback, as a Django or Rails backend would be. POST /centrifugo/<event> (any path segment:
connect, refresh, subscribe, publish, sub_refresh, rpc, or a named proxy's own) answers with
what the test set for that event, after the delay set for it, and records every request."""

from __future__ import annotations

import asyncio
import json
from typing import Callable

import pytest
from aiohttp import web

from conftest import free_port

Answer = Callable[[dict], tuple[int, str]]


def result(**fields) -> tuple[int, str]:
    return 200, json.dumps({"result": fields})


class Backend:
    def __init__(self) -> None:
        # connect: `answer`, `requests` and `delay` (the connect tests' names); every event:
        # `answers[event]`, `calls[event]` as (body, headers), `delays[event]`.
        self.answer: Answer = lambda req: result(user="56")
        self.requests: list[tuple[dict, dict]] = []
        self.delay = 0.0
        self.answers: dict[str, Answer] = {}
        self.calls: dict[str, list[tuple[dict, dict]]] = {}
        self.delays: dict[str, float] = {}
        self.port = free_port()
        self.runner: web.AppRunner | None = None

    def url_for(self, event: str) -> str:
        return f"http://127.0.0.1:{self.port}/centrifugo/{event}"

    @property
    def url(self) -> str:
        return self.url_for("connect")

    def bodies(self, event: str) -> list[dict]:
        return [body for body, _ in self.calls.get(event, [])]

    async def start(self) -> None:
        async def handle(request: web.Request) -> web.Response:
            event = request.match_info["event"]
            body = json.loads(await request.read())
            headers = request.headers.copy()  # case-insensitive
            self.calls.setdefault(event, []).append((body, headers))
            if event == "connect":
                self.requests.append((body, headers))
            delay = self.delay if event == "connect" else self.delays.get(event, 0.0)
            if delay:
                await asyncio.sleep(delay)
            answer = self.answer if event == "connect" else self.answers.get(event, lambda req: (200, "{}"))
            status, text = answer(body)
            return web.Response(status=status, text=text, content_type="application/json")

        app = web.Application()
        app.router.add_post("/centrifugo/{event}", handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()


@pytest.fixture
async def backend():
    """A started Backend, stopped at teardown (import it into a test module to use it)."""
    b = Backend()
    await b.start()
    yield b
    await b.stop()
