"""The exchanges `differential.py` replays against Strata and Centrifugo, and the config both run.

An exchange is a list of steps: `send` a WebSocket frame on a named connection (opened on first
use) and read what follows, make an HTTP request, or `wait` and read. `$U` in any string is
replaced by an id unique to the exchange (fresh channels every time); `Token(...)` becomes a
signed HS256 connection token. `known` names the `docs/compatibility.md` entry of a difference
Strata keeps on purpose; such an exchange is reported but does not fail the run.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Optional, Union

SECRET = "diff-secret"
API_KEY = "diff-api-key"

_channel_defaults = {
    "history_size": 10,
    "history_ttl": "300s",
    "allow_subscribe_for_client": True,
    "allow_history_for_subscriber": True,
    "allow_presence_for_subscriber": True,
    "presence": True,
}

CONFIG: dict = {
    "http_server": {"address": "127.0.0.1"},
    "health": {"enabled": True},
    "log": {"level": "error"},
    "client": {"token": {"hmac_secret_key": SECRET}, "allowed_origins": ["*"]},
    "http_api": {"key": API_KEY},
    "channel": {
        "without_namespace": dict(_channel_defaults, join_leave=True, force_push_join_leave=True),
        "namespaces": [
            dict(_channel_defaults, name="chat", force_recovery=True, allow_publish_for_subscriber=True, join_leave=True,
                 force_push_join_leave=True),
            dict(_channel_defaults, name="hist", allow_recovery=True, allow_positioning=True, join_leave=True,
                 allow_publish_for_client=True),
            {"name": "nohist", "allow_subscribe_for_client": True, "allow_publish_for_client": True},
            {"name": "plain", "history_size": 10, "history_ttl": "300s", "allow_subscribe_for_client": True,
             "allow_publish_for_client": True},
            {"name": "cache", "history_size": 1, "history_ttl": "300s", "force_recovery": True,
             "force_recovery_mode": "cache", "allow_subscribe_for_client": True},
            {"name": "delta", "history_size": 10, "history_ttl": "300s", "force_recovery": True,
             "allow_subscribe_for_client": True, "allowed_delta_types": ["fossil"], "delta_publish": True},
            {"name": "locked"},
        ],
    },
}


@dataclass
class Token:
    """A connection token for `user`, expiring in `ttl` seconds (None: no exp), with more claims."""

    user: str = "u1"
    ttl: Optional[int] = 3600
    claims: dict = field(default_factory=dict)


@dataclass
class Send:
    frame: Any
    conn: str = "a"
    binary: bool = False
    wait: float = 1.0


@dataclass
class HTTP:
    verb: str
    path: str
    body: Any = None
    auth: bool = True
    headers: dict = field(default_factory=dict)


@dataclass
class Wait:
    seconds: float


Step = Union[Send, HTTP, Wait]


@dataclass
class Exchange:
    name: str
    steps: list
    known: str = ""
    engines: tuple = ("memory", "redis")
    #: Messages within one step may come in any order (compared sorted).
    unordered: bool = False
    #: Compare the JSON text byte for byte (payload whitespace), not the parsed values.
    raw: bool = False


def tok(user: str = "u1", ttl: Optional[int] = 3600, **claims: Any) -> Token:
    return Token(user, ttl, claims)


def connect(conn: str = "a", token: Any = None, cid: int = 1, **extra: Any) -> Send:
    body = {"token": token if token is not None else tok()}
    body.update(extra)
    return Send({"id": cid, "connect": body}, conn)


def cmd(cid: int, method: str, params: dict, conn: str = "a", **kw: Any) -> Send:
    return Send({"id": cid, method: params}, conn, **kw)


def api(method: str, body: Any, **kw: Any) -> HTTP:
    return HTTP("POST", f"/api/{method}", body, **kw)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


EXCHANGES: list[Exchange] = []


def exchange(
    name: str, *steps: Step, known: str = "", engines: tuple = ("memory", "redis"), unordered: bool = False, raw: bool = False
) -> None:
    EXCHANGES.append(Exchange(name, list(steps), known, engines, unordered, raw))


# --- basics ---------------------------------------------------------------------------------

exchange("connect/ok", connect())
exchange("connect/no-exp", connect(token=tok(ttl=None)))
exchange("connect/expired-token", connect(token=tok(ttl=-60)), Wait(0.3))
exchange("connect/invalid-token", connect(token="abc.def.ghi"))
exchange("connect/no-token", Send({"id": 1, "connect": {}}))
exchange("connect/no-id", Send({"connect": {"token": tok()}}))
exchange("connect/twice", connect(), connect(cid=2))
exchange("command-before-connect", cmd(1, "subscribe", {"channel": "chat:$U"}))
exchange("subscribe/ok-and-publish", connect(), cmd(2, "subscribe", {"channel": "chat:$U"}),
         api("publish", {"channel": "chat:$U", "data": {"n": 1}}), api("publish", {"channel": "chat:$U", "data": {"n": 2}}))
exchange("subscribe/unknown-namespace", connect(), cmd(2, "subscribe", {"channel": "nope:$U"}))
exchange("subscribe/permission", connect(), cmd(2, "subscribe", {"channel": "locked:$U"}))
exchange("subscribe/twice", connect(), cmd(2, "subscribe", {"channel": "nohist:$U"}), cmd(3, "subscribe", {"channel": "nohist:$U"}))
exchange("subscribe/empty-channel", connect(), cmd(2, "subscribe", {"channel": ""}))
exchange("subscribe/positioned", connect(), api("publish", {"channel": "hist:$U", "data": 1}),
         cmd(2, "subscribe", {"channel": "hist:$U", "positioned": True}))
exchange("subscribe/recover", connect(), api("publish", {"channel": "chat:$U", "data": 1}), cmd(2, "subscribe", {"channel": "chat:$U"}),
         cmd(3, "unsubscribe", {"channel": "chat:$U"}), api("publish", {"channel": "chat:$U", "data": 2}),
         api("publish", {"channel": "chat:$U", "data": 3}),
         cmd(4, "subscribe", {"channel": "chat:$U", "recover": True, "offset": 1, "epoch": "wrong"}))
exchange("unsubscribe/not-subscribed", connect(), cmd(2, "unsubscribe", {"channel": "chat:$U"}))
# A client publish's reply and the publication's own push: no order between them on Redis.
exchange("publish/client", connect(), cmd(2, "subscribe", {"channel": "chat:$U"}), cmd(3, "publish", {"channel": "chat:$U", "data": {"x": 1}}),
         unordered=True)
exchange("publish/client-no-permission", connect(), cmd(2, "publish", {"channel": "chat:$U", "data": {"x": 1}}))
exchange("history/client", connect(), api("publish", {"channel": "chat:$U", "data": 1}), cmd(2, "subscribe", {"channel": "chat:$U"}),
         cmd(3, "history", {"channel": "chat:$U", "limit": -1}))
exchange("presence/client", connect(), cmd(2, "subscribe", {"channel": "hist:$U"}), cmd(3, "presence_stats", {"channel": "hist:$U"}))
exchange("rpc/no-handler", connect(), cmd(2, "rpc", {"method": "x", "data": {}}))
exchange("send/no-handler", connect(), Send({"send": {"data": {}}}))
exchange("legacy-ping", connect(), cmd(2, "ping", {}))
exchange("empty-command", connect(), Send({"id": 2}))
exchange("not-json", connect(), Send("nope"))

# --- server API basics ------------------------------------------------------------------------

exchange("api/publish", api("publish", {"channel": "chat:$U", "data": {"a": 1}}))
exchange("api/publish-no-data", api("publish", {"channel": "chat:$U"}))
exchange("api/publish-empty-channel", api("publish", {"channel": "", "data": 1}))
exchange("api/publish-unknown-namespace", api("publish", {"channel": "nope:$U", "data": 1}))
exchange("api/no-key", api("publish", {"channel": "chat:$U", "data": 1}, auth=False))
exchange("api/not-json", api("publish", b"nope"))
exchange("api/unknown-method", api("nope", {}), known="C: unknown API methods answer an empty 404")
exchange("api/get", HTTP("GET", "/api/publish", None))
exchange("api/history", api("publish", {"channel": "chat:$U", "data": 1}), api("publish", {"channel": "chat:$U", "data": 2}),
         api("history", {"channel": "chat:$U", "limit": -1}), api("history", {"channel": "chat:$U", "limit": 1, "reverse": True}))
exchange("api/history-since-above-top-reverse", api("publish", {"channel": "chat:$U", "data": 1}),
         api("history", {"channel": "chat:$U", "limit": -1, "since": {"offset": 5, "epoch": ""}, "reverse": True}),
         known="C: history since above the top, reversed, returns every publication (as Centrifugo's Redis engine does)",
         engines=("memory",))
exchange("api/history-remove", api("publish", {"channel": "chat:$U", "data": 1}), api("history_remove", {"channel": "chat:$U"}),
         api("history", {"channel": "chat:$U", "limit": -1}))
exchange("api/presence-no-presence", api("presence", {"channel": "nohist:$U"}))
exchange("api/channels", connect(), cmd(2, "subscribe", {"channel": "nohist:$U"}), api("channels", {"pattern": "nohist:$U"}))
exchange("api/broadcast", api("broadcast", {"channels": ["chat:$U", "nope:$U"], "data": {"b": 1}}))
exchange("api/disconnect-custom-code", connect(token=tok("u-$U")), api("disconnect", {"user": "u-$U", "disconnect": {"code": 4001, "reason": "bye"}}))
exchange("api/unsubscribe-push", connect(token=tok("u-$U")), cmd(2, "subscribe", {"channel": "nohist:$U"}),
         api("unsubscribe", {"user": "u-$U", "channel": "nohist:$U"}))
exchange("api/subscribe-push", connect(token=tok("u-$U")), api("subscribe", {"user": "u-$U", "channel": "nohist:$U"}),
         api("publish", {"channel": "nohist:$U", "data": 1}))
exchange("api/subscribe-existing", connect(token=tok("u-$U")), cmd(2, "subscribe", {"channel": "nohist:$U"}),
         api("subscribe", {"user": "u-$U", "channel": "nohist:$U"}),
         known="C: no duplicate subscribe push for an HTTP subscribe of an existing subscription")
exchange("api/unsubscribe-not-subscribed", connect(token=tok("u-$U")), api("unsubscribe", {"user": "u-$U", "channel": "nohist:$U"}),
         known="C: no unsubscribe push for a channel the client is not in")

# --- part A: authorization ------------------------------------------------------------------

exchange("A1/connect-refused-then-commands", connect(token=tok(subs={"hist:$U-first": {}, "nope:x": {}})),
         cmd(2, "subscribe", {"channel": "hist:$U"}), cmd(3, "presence_stats", {"channel": "hist:$U-first"}),
         api("presence_stats", {"channel": "hist:$U-first"}),
         known="C: commands after a failed connect close with 3501 (Centrifugo stops reading, then drops)")
exchange("A1/connect-refused-presence", connect(token=tok(subs={"hist:$U": {}, "nope:x": {}})),
         api("presence_stats", {"channel": "hist:$U"}), api("channels", {"pattern": "hist:$U"}))
exchange("A1/connect-refused-client-subs", connect(token=tok(), subs={"hist:$U": {}, "nope:x": {}}),
         api("presence_stats", {"channel": "hist:$U"}))
for _before, _after, _label in [
    ({"channels": ["hist:$U"]}, {}, "narrowed"),
    ({"channels": ["hist:$U"]}, {"channels": ["hist:$U", "hist:$U-2"]}, "widened"),
    ({"channels": ["hist:$U"]}, {"channels": ["hist:$U"]}, "same"),
    ({"subs": {"hist:$U": {}}}, {"channels": ["hist:$U"]}, "subs-to-channels"),
    ({}, {"channels": ["hist:$U"]}, "granted-new"),
    ({}, {"info": {"a": 1}}, "info-only"),
]:
    exchange(f"A2/refresh-{_label}", connect(token=tok("u-$U", **_before)), cmd(2, "refresh", {"token": tok("u-$U", **_after)}),
             cmd(3, "presence_stats", {"channel": "hist:$U"}))
exchange("A2/refresh-expired-token", connect(token=tok("u-$U", channels=["hist:$U"])),
         cmd(2, "refresh", {"token": tok("u-$U", ttl=-10)}))
exchange("A2/refresh-other-user", connect(token=tok("u-$U")), cmd(2, "refresh", {"token": tok("other-$U")}))

# --- part B: wire differences -----------------------------------------------------------------

exchange("B3/b64-not-json-to-json-subscriber", connect(), cmd(2, "subscribe", {"channel": "plain:$U"}),
         api("publish", {"channel": "plain:$U", "b64data": b64(b"not json")}), api("history", {"channel": "plain:$U", "limit": -1}))
exchange("B3/b64-not-json-client-history", api("publish", {"channel": "hist:$U", "b64data": b64(b"1 2")}), connect(),
         cmd(2, "subscribe", {"channel": "hist:$U"}), cmd(3, "history", {"channel": "hist:$U", "limit": -1}))
exchange("B3/b64-not-json-recovery", connect(), cmd(2, "subscribe", {"channel": "chat:$U"}), cmd(3, "unsubscribe", {"channel": "chat:$U"}),
         api("publish", {"channel": "chat:$U", "b64data": b64(b"{bad")}),
         cmd(4, "subscribe", {"channel": "chat:$U", "recover": True, "offset": 0}),
         known="C: a subscribe that fails (here: a reply JSON cannot carry) announces no join")
exchange("B3/b64-json-with-spaces", connect(), cmd(2, "subscribe", {"channel": "plain:$U"}),
         api("publish", {"channel": "plain:$U", "b64data": b64(b'  {"a":\n1}  ')}), api("history", {"channel": "plain:$U", "limit": -1}))
exchange("B4/join-leave-own-join", connect(token=tok("u-$U")), cmd(2, "subscribe", {"channel": "hist:$U", "join_leave": True}),
         connect("b", tok("v-$U")), cmd(2, "subscribe", {"channel": "hist:$U"}, conn="b"), cmd(3, "unsubscribe", {"channel": "hist:$U"}, conn="b"))
for _i, _body in enumerate([
    {"channel": 5, "data": 1}, {"channel": ["a"], "data": 1}, {"channel": "chat:$U", "data": 1, "skip_history": "yes"},
    {"channel": "chat:$U", "data": 1, "tags": {"k": 1}}, {"channel": "chat:$U", "data": 1, "idempotency_key": 5},
    {"channel": "chat:$U", "b64data": 7},
]):
    exchange(f"B5/publish-wrong-type-{_i}", api("publish", _body))
exchange("B5/broadcast-channels-string", api("broadcast", {"channels": "x", "data": 1}))
exchange("B5/history-limit-string", api("publish", {"channel": "chat:$U", "data": 1}), api("history", {"channel": "chat:$U", "limit": "5"}))
exchange("B5/history-reverse-string", api("history", {"channel": "chat:$U", "reverse": "true"}))
exchange("B5/channels-pattern-number", api("channels", {"pattern": 5}))
exchange("B5/batch-commands-object", api("batch", {"commands": {}}))
exchange("B5/presence-channel-bool", api("presence", {"channel": True}))
exchange("B5/disconnect-user-number", api("disconnect", {"user": 5}))
exchange("B6/offset-1-push-carries-epoch", connect(), cmd(2, "subscribe", {"channel": "chat:$U"}),
         api("publish", {"channel": "chat:$U", "data": 1}), api("publish", {"channel": "chat:$U", "data": 2}))
# Centrifugo's memory engine also leaves that epoch on the stored publication; `normalize`
# drops it from `publications` on that engine (docs/compatibility.md).
exchange("B6/offset-1-in-history", api("publish", {"channel": "hist:$U", "data": 1}), api("history", {"channel": "hist:$U", "limit": -1}))
exchange("B7/api-refresh-expire-at", connect(token=tok("u-$U")), api("refresh", {"user": "u-$U", "expire_at": 4102444800}))
exchange("B7/api-refresh-not-expired", connect(token=tok("u-$U")), api("refresh", {"user": "u-$U", "expired": False}))
exchange("B7/api-refresh-info-only", connect(token=tok("u-$U")), api("refresh", {"user": "u-$U", "info": {"n": 1}}))
exchange("B7/api-refresh-expired", connect(token=tok("u-$U")), api("refresh", {"user": "u-$U", "expired": True}))
exchange("B8/legacy-api-publish", HTTP("POST", "/api", {"method": "publish", "params": {"channel": "chat:$U", "data": 1}}))
exchange("B8/legacy-api-unknown-method", HTTP("POST", "/api", {"method": "nope", "params": {}}))
exchange("B8/legacy-api-empty", HTTP("POST", "/api", {}))
exchange("B8/legacy-api-no-key", HTTP("POST", "/api", {"method": "info", "params": {}}, auth=False))
exchange("B8/legacy-api-info", HTTP("POST", "/api", {"method": "channels", "params": {"pattern": "zz-$U"}}))
exchange("B8/legacy-api-stream-with-ids", HTTP("POST", "/api", b'{"id":7,"method":"channels","params":{"pattern":"zz-$U"}}\n'
                                              b'{"id":8,"method":"publish","params":{}}'))
exchange("B8/legacy-api-method-numbers", HTTP("POST", "/api", b'{"method":8,"params":{"pattern":"zz"}}{"method":13}{"method":5}'))
exchange("B8/legacy-api-missing-method-publishes", HTTP("POST", "/api", {"params": {"channel": "chat:$U", "data": 1}}))
exchange("B8/legacy-api-unknown-name-fails-all", HTTP("POST", "/api", b'{"method":"info"}\n{"method":"nope"}'))
exchange("B8/legacy-api-null-and-empty", HTTP("POST", "/api", b"null"), HTTP("POST", "/api", b""))
exchange("B9/recover-without-recovery", connect(), cmd(2, "subscribe", {"channel": "nohist:$U", "recover": True}))
exchange("B9/recover-in-plain", connect(), cmd(2, "subscribe", {"channel": "plain:$U", "recover": True, "offset": 0}))
exchange("B10/client-publish-null", connect(), cmd(2, "subscribe", {"channel": "hist:$U"}),
         cmd(3, "publish", {"channel": "hist:$U", "data": None}), unordered=True)
exchange("B10/api-publish-null", connect(), cmd(2, "subscribe", {"channel": "hist:$U"}), api("publish", {"channel": "hist:$U", "data": None}),
         api("history", {"channel": "hist:$U", "limit": -1}))
exchange("B10/broadcast-null", api("broadcast", {"channels": ["hist:$U"], "data": None}))
exchange("B11/binary-frame", Send({"id": 1, "connect": {"token": tok()}}, binary=True), cmd(2, "subscribe", {"channel": "nohist:$U"}, binary=True))
exchange("B12/data-bytes-kept", connect(), cmd(2, "subscribe", {"channel": "hist:$U"}),
         api("publish", b'{"channel":"hist:$U","data":{"z":1,  "a":1.0}}'),
         api("publish", b'{"channel":"hist:$U","data":{"z":1,\n "a":[1,\n2], "s":"\\u00e9\\/"}}'),
         api("history", {"channel": "hist:$U", "limit": -1}), raw=True)
exchange("B12/client-publish-spaces", connect(), cmd(2, "subscribe", {"channel": "hist:$U"}),
         Send('{"id":3,"publish":{"channel":"hist:$U","data":{ "z" : [1, 2.50], "e": 1e2 }}}'), unordered=True, raw=True)
exchange("B12/delta-base-bytes", connect(), cmd(2, "subscribe", {"channel": "delta:$U", "delta": "fossil"}),
         api("publish", b'{"channel":"delta:$U","data":{"text":"hello   world, a long enough payload to delta against"}}'),
         api("publish", b'{"channel":"delta:$U","data":{"text":"hello   world, a long enough payload to delta against!"}}'),
         raw=True)
exchange("B13/batch-empty-command", api("batch", {"commands": [{}]}))
exchange("B13/batch-no-commands", api("batch", {"commands": []}))
exchange("B13/batch-missing-commands", api("batch", {}))
exchange("B13/batch-mixed", api("batch", {"commands": [{"publish": {"channel": "chat:$U", "data": 1}}, {"nope": {}},
                                                      {"info": {}}]}))
exchange("B13/info-null-body", api("info", b"null"))
exchange("B13/publish-null-body", api("publish", b"null"))

# --- part C: kept on purpose ------------------------------------------------------------------

exchange("C/string-id", Send({"id": "1", "connect": {"token": tok()}}), known="C: string ids and limits are tolerated")
exchange("C/string-limit", connect(), cmd(2, "history", {"channel": "chat:$U", "limit": "5"}),
         known="C: string ids and limits are tolerated")
exchange("C/blank-line-in-batch", connect(), Send('{"id":2,"subscribe":{"channel":"nohist:$U"}}\n\n{"id":3,"unsubscribe":{"channel":"nohist:$U"}}'),
         known="C: a blank line inside a batched frame is tolerated")
exchange("C/capitalised-method", Send({"id": 1, "Connect": {"token": tok()}}),
         known="C: a capitalised method key closes 3501")
exchange("C/trailing-brace", Send('{"id":1,"connect":{"token":"$TOKEN"}}}'), known="C: a trailing } closes 3501")
exchange("C/sub-refresh-expired-token", connect(token=tok("u-$U")), cmd(2, "subscribe", {"channel": "nohist:$U"}),
         cmd(3, "sub_refresh", {"channel": "nohist:$U", "token": tok("u-$U", ttl=-10, channel="nohist:$U")}),
         known="C: sub_refresh with an expired token gets 109")
exchange("C/api-subscribe-recover-since", api("publish", {"channel": "chat:$U", "data": 1}), connect(token=tok("u-$U")),
         api("subscribe", {"user": "u-$U", "channel": "chat:$U", "recover_since": {"offset": 0, "epoch": ""}}),
         known="C: HTTP subscribe with recover_since delivers the missed publications")
exchange("C/presence-info-after-refresh", connect(token=tok("u-$U", info={"v": 1})), cmd(2, "subscribe", {"channel": "hist:$U"}),
         cmd(3, "refresh", {"token": tok("u-$U", info={"v": 2})}), cmd(4, "presence", {"channel": "hist:$U"}))
