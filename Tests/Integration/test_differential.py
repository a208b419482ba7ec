"""The differential check against a real Centrifugo (Tests/Differential/differential.py).

Runs only when CENTRIFUGO_BIN names a Centrifugo v6 binary; CI has none, so it is skipped there.
Every exchange must answer as Centrifugo does, or differ only where docs/compatibility.md says so.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Differential"))

import differential  # noqa: E402

CENTRIFUGO_BIN = os.environ.get("CENTRIFUGO_BIN")


@pytest.mark.skipif(not CENTRIFUGO_BIN, reason="set CENTRIFUGO_BIN to a Centrifugo v6 binary")
@pytest.mark.timeout(600)
def test_every_exchange_answers_as_centrifugo_does(strata_bin):
    outcomes = differential.run(str(strata_bin), CENTRIFUGO_BIN, "memory")
    unexpected = [o for o in outcomes if not o.same and not o.known]
    assert len(outcomes) > 100
    assert not unexpected, "\n\n".join(o.name + "\n" + "\n".join(o.diff) for o in unexpected)
