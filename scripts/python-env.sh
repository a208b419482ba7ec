#!/usr/bin/env bash
# Creates .venv with the pinned real clients (centrifuge-python, cent) used by the integration tests.
set -euo pipefail
cd "$(dirname "$0")/.."
req=Tests/Integration/requirements.txt
stamp=.venv/.requirements.sha256
sum=$(sha256sum "$req" | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
  rm -rf .venv
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r "$req"
  echo "$sum" > "$stamp"
fi
