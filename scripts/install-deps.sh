#!/usr/bin/env bash
# Installs the Debian packages Strata builds with (only the missing ones); `install-deps.sh test`
# adds what the tests use: redis-server, redis-cli (redis-tools: Cluster creation) and redis-sentinel, nats-server, python3-venv for the pinned clients, fossil (the reference
# delta encoder the codec tests compare against), xxd and openssl, and nginx (the HTTP cache the
# history endpoint's end-to-end test puts in front of Strata; it starts its own, on a free port),
# chromium (the admin UI's tests drive it headless over the DevTools protocol), pebble (Let's
# Encrypt's ACME test server, which the automatic TLS tests start on loopback) and postgresql (the
# outbox consumer's tests run initdb and pg_ctl on a free port; the packaged cluster is not started).
set -euo pipefail
packages=(pkg-config liblmdb-dev libzstd-dev libhiredis-dev zlib1g-dev)
if [ "${1:-}" = "test" ]; then
  packages+=(redis-server redis-tools redis-sentinel nats-server python3-venv fossil xxd openssl nginx chromium pebble postgresql)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  # Services the packages ship (nginx, redis-server, redis-sentinel, postgresql) are not started: the tests start their own.
  # policy-rc.d answering 101 is Debian's way to say so; one already there is left alone.
  policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod +x "$policy"
  fi
  status=0
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null || status=$?
  [ -n "$policy" ] && $sudo rm -f "$policy"
  [ "$status" -eq 0 ] || exit "$status"
fi
