#!/bin/bash
# The bundled snapshot (testdata/debian12-flat.vmsnap: the pages vmet ps and
# netstat read, dumped from a real Debian 12 guest) must still give exactly
# that guest's own view, recorded beside it when it was taken.  Needs no
# guest, no network and no profile download: the README's quick start.
set -u
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VMET_LINUX_GUEST_LIB=1
# shellcheck source=40-linux-ps.sh
. "$E2E_DIR/40-linux-ps.sh"
T=testdata/debian12-flat

expect_exit 0 "$VMET" info --verify "$T.vmsnap"
expect_out "verified"

expect_exit 0 "$VMET" ps --json "$T.vmsnap"
ps_norm "$OUT" >"$TMP/ps.txt"
compare "$T.truth-ps.txt" "$TMP/ps.txt" "bundled snapshot, ps"
expect_exit 0 "$VMET" ps -T --json "$T.vmsnap"
threads_norm "$OUT" >"$TMP/threads.txt"
compare "$T.truth-threads.txt" "$TMP/threads.txt" "bundled snapshot, ps -T"
expect_exit 0 "$VMET" netstat -tux --json "$T.vmsnap"
inet_norm "$OUT" >"$TMP/net.txt"
compare "$T.truth-netstat.txt" "$TMP/net.txt" "bundled snapshot, netstat"
unix_norm "$OUT" >"$TMP/unix.txt"
compare "$T.truth-unix.txt" "$TMP/unix.txt" "bundled snapshot, netstat unix"

# the plain forms the README shows
expect_exit 0 "$VMET" ps "$T.vmsnap"
expect_out "/bin/sh /init"
expect_out "[kthreadd]"
expect_exit 0 "$VMET" netstat "$T.vmsnap"
expect_out "127.0.0.1:7010"

# the snapshot holds what ps --exe (and vmet mount) read: complete
expect_exit 0 "$VMET" ps --exe --json "$T.vmsnap"
[ "$(jq -r '.tasks[] | select(.comm == "vmet-gone") | .exe' "$OUT")" = "/run/vmet/gone-helper (deleted)" ] ||
	{ echo "FAIL: ps --exe: vmet-gone's exe is not the deleted helper"; FAILS=$((FAILS + 1)); }

# a page the commands never read is a hole, reported as such
expect_exit 1 "$VMET" translate --json "$T.vmsnap" 0xffffffffff600000
finish
