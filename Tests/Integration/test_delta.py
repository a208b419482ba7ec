"""Fossil delta subscriptions with the real centrifuge-python client: every payload it yields equals
the published document, some frames travel as deltas, and the bytes on the wire shrink."""

from __future__ import annotations

import asyncio
import json

import websockets
from cent import PublishRequest
from centrifuge import DeltaType

from itsupport import connect_client, connection_token, subscribe, unique

DELTA = {"channel": {"namespaces": [
    {"name": "match", "history_size": 10, "history_ttl": "300s", "force_recovery": True,
     "allowed_delta_types": ["fossil"], "delta_publish": True, "allow_subscribe_for_client": True},
]}}


def match_states(n: int = 30) -> list:
    """A simulated football match: the whole game state (two teams of eleven players with their
    stats, the score and the event list) published 30 times. Between two states the clock moves
    on, the two players involved in the play update their stats, and every fourth state an event
    (goal, card or substitution) is appended."""
    teams = {}
    for side, name in (("home", "Strata FC"), ("away", "Fossil United")):
        teams[side] = {"name": name, "score": 0, "players": [
            {"id": f"{side}-{k}", "name": f"{name} Player {k}", "number": k,
             "position": ["GK", "DF", "MF", "FW"][min(3, k // 3)],
             "stats": {"passes": 0, "shots": 0, "tackles": 0, "distance_km": 0.0}} for k in range(1, 12)]}
    events: list = []
    states = []
    for i in range(n):
        minute = i * 3
        for side, k in (("home", i % 11), ("away", (i * 7) % 11)):
            st = teams[side]["players"][k]["stats"]
            st["passes"] += 3
            st["distance_km"] = round(st["distance_km"] + 0.4, 1)
        if i % 4 == 3:
            kind = ["goal", "card", "substitution"][(i // 4) % 3]
            side = "home" if i % 8 == 3 else "away"
            if kind == "goal":
                teams[side]["score"] += 1
            events.append({"minute": minute, "type": kind, "team": side, "player": f"{side}-{i % 11 + 1}"})
        states.append({"match": "Strata FC vs Fossil United", "minute": minute, "teams": json.loads(json.dumps(teams)),
                       "events": list(events), "commentary": "Παιχνίδι — 試合 ⚽ · живой эфир"})
    return states


async def test_centrifuge_python_decodes_every_delta(server_factory, api_factory, client_factory):
    srv = server_factory(DELTA)
    api = api_factory(srv)
    channel = unique("match:live")
    client, ev = client_factory(srv)
    await connect_client(client, ev)
    sub, sev, ctx = await subscribe(client, channel, delta=DeltaType.FOSSIL)
    states = match_states()
    for s in states:
        await api.publish(PublishRequest(channel=channel, data=s))
    await sev.wait_count("on_publication", len(states), timeout=10)
    assert sev.datas() == states
    deltas = [c.pub.delta for c in sev.of("on_publication")]
    assert deltas[0] is False and sum(deltas) >= len(states) - 2, deltas
    await client.disconnect()


async def _wire_bytes(url: str, channel: str, delta: bool, api, states) -> int:
    """Bytes of the text frames a raw client receives for the publications (after subscribing)."""
    async with websockets.connect(url, max_size=None) as ws:
        await ws.send(json.dumps({"id": 1, "connect": {"token": connection_token("42")}}))
        await ws.recv()
        sub = {"channel": channel}
        if delta:
            sub["delta"] = "fossil"
        await ws.send(json.dumps({"id": 2, "subscribe": sub}))
        await ws.recv()
        for s in states:
            await api.publish(PublishRequest(channel=channel, data=s))
        total, seen = 0, 0
        while seen < len(states):
            frame = await asyncio.wait_for(ws.recv(), 5)
            total += len(frame.encode() if isinstance(frame, str) else frame)
            seen += sum(1 for line in frame.split("\n") if '"pub"' in line)
        return total


async def test_football_match_bandwidth_with_delta_is_a_fraction(server_factory, api_factory):
    srv = server_factory(DELTA)
    api = api_factory(srv)
    states = match_states()
    full = await _wire_bytes(srv.ws_url, unique("match:full"), False, api, states)
    delta = await _wire_bytes(srv.ws_url, unique("match:delta"), True, api, states)
    ratio = delta / full
    print(f"football match, 30 states: {full} bytes without delta, {delta} with delta ({ratio:.1%})")
    assert ratio <= 0.15, f"{delta} / {full} = {ratio:.1%}"
