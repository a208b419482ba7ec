#!/usr/bin/env bash
# Writes strata(1) in troff from the CLI's own help (swift-argument-parser), so the man page says
# what the binary does: the overview, then each subcommand's help.
#
#   scripts/manpage.sh BINARY > strata.1
set -euo pipefail
bin="$1"
version=$("$bin" version | awk '{print $2}')
# Backslashes and leading dots or quotes would be troff requests: escape them.
escape() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }
echo ".TH STRATA 1 \"\" \"strata $version\" \"User Commands\""
echo ".SH NAME"
echo "strata \\- real-time messaging server with durable channel history (Centrifugo v6 compatible)"
echo ".SH SYNOPSIS"
echo ".B strata"
echo "[\\fIsubcommand\\fR] [\\fIoptions\\fR]"
echo ".SH DESCRIPTION"
echo ".nf"
"$bin" --help | escape
echo ".fi"
echo ".SH SUBCOMMANDS"
for sub in $("$bin" --help | awk '/^SUBCOMMANDS:/{on=1; next} on && /^  [a-z]/{print $1}'); do
    echo ".SS $sub"
    echo ".nf"
    "$bin" help "$sub" | escape
    echo ".fi"
done
echo ".SH FILES"
echo ".TP"
echo ".I /etc/strata/config.json"
echo "the configuration the packaged service reads (written with fresh secrets on install)"
echo ".TP"
echo ".I /var/lib/strata/storage/data"
echo "the LMDB history store of the packaged service"
echo ".SH SEE ALSO"
echo "systemctl(1), the documentation in /usr/share/doc/strata"
