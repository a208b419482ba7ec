#!/usr/bin/env bash
# Installs the Debian packages Strata builds and tests with (only the missing ones). fossil is the
# reference delta encoder the codec tests compare against.
set -euo pipefail
packages=(pkg-config liblmdb-dev libzstd-dev libhiredis-dev zlib1g-dev redis-server python3-venv fossil xxd openssl)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null
fi
