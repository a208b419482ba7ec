#!/usr/bin/env bash
# Builds the Debian package of Strata (`make deb`, docs/packaging.md) around a strata binary:
# /usr/bin/strata, the hardened systemd unit, strata(1) made from the CLI's help, shell
# completions (bash, zsh, fish), and maintainer
# scripts that write /etc/strata/config.json with fresh secrets on first install.
#
#   scripts/build-deb.sh BINARY OUTDIR      → OUTDIR/strata_VERSION_ARCH.deb (its path on stdout)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$1"
out="$2"
version=$("$bin" version | awk '{print $2}')
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
chmod 755 "$stage"
trap 'rm -rf "$stage"' EXIT
install -D -m 755 "$bin" "$stage/usr/bin/strata"
install -D -m 644 config/debian/strata.service "$stage/lib/systemd/system/strata.service"
mkdir -p "$stage/usr/share/man/man1" "$stage/usr/share/doc/strata" "$stage/DEBIAN"
scripts/manpage.sh "$bin" | gzip -9n > "$stage/usr/share/man/man1/strata.1.gz"
# Shell completions, as swift-argument-parser generates them from the commands.
install -d "$stage/usr/share/bash-completion/completions" "$stage/usr/share/zsh/vendor-completions" \
    "$stage/usr/share/fish/vendor_completions.d"
"$bin" --generate-completion-script bash > "$stage/usr/share/bash-completion/completions/strata"
"$bin" --generate-completion-script zsh > "$stage/usr/share/zsh/vendor-completions/_strata"
"$bin" --generate-completion-script fish > "$stage/usr/share/fish/vendor_completions.d/strata.fish"
install -m 644 README.md "$stage/usr/share/doc/strata/README.md"
install -m 644 config/strata.json "$stage/usr/share/doc/strata/example-config.json"
install -m 755 config/debian/postinst config/debian/postrm config/debian/prerm "$stage/DEBIAN/"
size=$(du -sk --exclude=DEBIAN "$stage" | awk '{print $1}')
cat > "$stage/DEBIAN/control" <<CONTROL
Package: strata
Version: $version
Architecture: $arch
Maintainer: Strata developers <strata@localhost>
Installed-Size: $size
Depends: libc6 (>= 2.36), libstdc++6, libgcc-s1, zlib1g, libzstd1, liblmdb0, libhiredis0.14
Section: net
Priority: optional
Homepage: https://centrifugal.dev/docs/server/protocol
Description: real-time messaging server with durable channel history
 A drop-in Centrifugo v6 compatible PUB/SUB server: WebSocket, SSE and HTTP-streaming clients
 subscribe to channels and receive what the backend publishes through the HTTP server API.
 Channel streams live in an embedded LMDB store (durable across restarts) or in Redis, with
 recovery after reconnects, keyed cache channels and fossil delta compression.
CONTROL
mkdir -p "$out"
deb="$out/strata_${version}_${arch}.deb"
# xz for the package people install; the package test asks for none (a debug binary is large).
dpkg-deb --root-owner-group -Z"${DEB_COMPRESSION:-xz}" --build "$stage" "$deb" >/dev/null
echo "$deb"
