#!/bin/bash
# A second kernel build: Debian's cloud flavour of the same release (other
# configuration, other struct layouts, e.g. struct net), with no DWARF at
# hand.  The profile is read out of the guest kernel itself (BTF + kallsyms,
# --profile auto, and again with no --profile at all: no bundled profile
# fits, so vmet falls back to it).  vmet ps and netstat must match the
# guest's own view exactly, as in 40 and 41.  No cloud kernel: exit 77.
set -u
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VMET_LINUX_GUEST_LIB=1
# shellcheck source=40-linux-ps.sh
. "$E2E_DIR/40-linux-ps.sh"

LINUX_TB_FLAVOUR=cloud linux_testbed cloud
# A cache of our own: the first run derives, the next one reads the cache.
export VMET_CACHE_DIR=$TMP/cache

expect_exit 0 "$VMET" ps --json --profile auto "$DUMP"
cp "$OUT" "$TMP/dump.json"
case $(jq -r .kernel.profile "$TMP/dump.json") in
*derived*) ;;
*) echo "FAIL: profile not derived from memory: $(jq -r .kernel.profile "$TMP/dump.json")"; FAILS=$((FAILS + 1)) ;;
esac
ps_norm "$TMP/dump.json" >"$TMP/ps.txt"
compare "$TRUTH_PS" "$TMP/ps.txt" "cloud kernel, ELF dump, ps"

VMET_PROFILE_DIR=$TMP/none expect_exit 0 "$VMET" ps --json --cr3 "$CR3" "$RAM"
case $(jq -r .kernel.profile "$OUT") in
"$VMET_CACHE_DIR"/*) ;;
*) echo "FAIL: second run did not use the cached profile: $(jq -r .kernel.profile "$OUT")"; FAILS=$((FAILS + 1)) ;;
esac
ps_norm "$OUT" >"$TMP/live.txt"
compare_live "$TRUTH_PS" "$TMP/live.txt" "cloud kernel, live RAM + --cr3, no --profile, ps"

expect_exit 0 "$VMET" netstat -tux --json --profile auto "$DUMP"
cp "$OUT" "$TMP/net.json"
inet_norm "$TMP/net.json" >"$TMP/net.txt"
compare "$TRUTH_NETSTAT" "$TMP/net.txt" "cloud kernel, ELF dump, TCP/UDP"
unix_norm "$TMP/net.json" >"$TMP/unix.txt"
compare "$TRUTH_UNIX" "$TMP/unix.txt" "cloud kernel, ELF dump, UNIX"

# A profile of another build (a bundled one): refused, naming the banner
# that is really in memory.
other=$(ls profiles/*.vmprof 2>/dev/null | head -n 1)
if [ -n "$other" ]; then
	expect_exit 2 "$VMET" ps --profile "$other" "$DUMP"
	expect_err "wrong profile"
	expect_err "cloud-amd64"
fi
finish
