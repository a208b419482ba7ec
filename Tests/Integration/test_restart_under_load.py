"""A graceful restart while clients are subscribed and publishers publish (issue 21, campaign
7): every client is told 3001 shutdown, recovers after the restart with nothing missing and
nothing twice, and every acknowledged publication is in history. The run itself is
`restart_load.py` (1,000 clients from the command line, docs/reliability.md)."""

from __future__ import annotations

import signal

import restart_load


async def test_graceful_restart_under_load(server_factory):
    srv = server_factory(restart_load.CONFIG)
    port = srv.port

    def stop() -> int:
        srv.expected_exit = True
        srv.proc.send_signal(signal.SIGTERM)
        return srv.proc.wait(30)

    def start() -> None:
        srv.expected_exit = False
        srv.start(port=port)

    result = await restart_load.run(100, srv.ws_url, srv.api_url, stop, start, load_seconds=1.5)
    assert result["exit_status"] == 0, result
    assert result["told_3001_shutdown"] == 100, result
    assert result["publishes_acked"] > 100, result
    assert result["recovered"] == 100 and result["not_recovered"] == 0, result
    assert (result["missing"], result["duplicates"], result["acked_not_in_history"]) == (0, 0, 0), result
