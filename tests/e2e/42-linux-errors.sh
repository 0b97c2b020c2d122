#!/bin/bash
# vmet ps / netstat on inputs that hold no usable kernel, and bad usage:
# each must fail with exit 2 and a message that says what was tried or
# what is wrong, never crash or hang.
set -u
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.."
export VMET_CACHE_DIR=$TMP/cache	# nothing derived here may land in the user's cache

for cmd in ps netstat; do
	expect_exit 0 "$VMET" $cmd --help
	expect_out "Usage: vmet $cmd"
	expect_out "--profile"
	expect_exit 2 "$VMET" $cmd
	expect_err "SOURCE"
	expect_exit 2 "$VMET" $cmd --bogus-option x
	expect_exit 2 "$VMET" $cmd /nonexistent/memory.img
done
expect_exit 2 "$VMET" ps -p notapid /dev/null
expect_err "-p"
expect_exit 2 "$VMET" ps --max-cmdline 0 /dev/null
expect_err "--max-cmdline"
expect_exit 2 "$VMET" netstat --max-read 5Q /dev/null
expect_err "--max-read"
expect_exit 2 "$VMET" translate --max-tasks 5 /dev/null 0	# Linux commands only

# The bounds on the bundled snapshot: each one hit is named, the rest listed.
SNAP=testdata/debian12-flat.vmsnap
expect_exit 1 "$VMET" ps --max-tasks 10 "$SNAP"
expect_err "more than 10 nodes"
expect_err "(--max-tasks)"
[ "$(grep -c . "$OUT")" = 11 ] || { echo "FAIL: --max-tasks 10: $(grep -c . "$OUT") lines, want header + 10"; FAILS=$((FAILS + 1)); }
expect_exit 1 "$VMET" ps --max-read 64K "$SNAP"
expect_err "read budget of 65536 bytes used up"
expect_exit 1 "$VMET" netstat --max-sockets 2 "$SNAP"
expect_err "more than 2: --max-sockets"
expect_exit 0 "$VMET" ps --max-read 8M --max-tasks 100 "$SNAP"

# 8 MiB of zeros: no VMCOREINFO, the CR3 maps nothing, no banner anywhere.
truncate -s 8M "$TMP/zero.raw"
expect_exit 2 "$VMET" ps --cr3 0x1000 "$TMP/zero.raw"
expect_err "no Linux kernel found"
expect_err "kernel-text region"
expect_exit 2 "$VMET" netstat "$TMP/zero.raw"
expect_err "no Linux kernel found"

# A banner with nothing behind it: found by the scan, rejected by the check.
truncate -s 8M "$TMP/banner.raw"
printf 'Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org) (fake) #1 SMP\n' |
	dd of="$TMP/banner.raw" bs=1 seek=$((0x300000)) conv=notrunc status=none
expect_exit 2 "$VMET" ps "$TMP/banner.raw"
expect_err "no profile"

# A profile file that is not one: named before any memory is read.
echo "not a profile" > "$TMP/bad.vmprof"
expect_exit 2 "$VMET" ps --profile "$TMP/bad.vmprof" "$TMP/zero.raw"
expect_err "bad.vmprof"

finish
