#!/bin/bash
# Run every benchmark binary, then any bench/*.sh script (real-guest benches
# skip themselves, saying why, when no testbed is available).
set -u
cd "$(dirname "$0")/.."
for b in "$@"; do
	echo "=== $b"
	"$b" || echo "bench $b failed: exit $?"
done
for s in bench/*.sh; do
	[ "$s" = bench/run.sh ] && continue
	[ -e "$s" ] || continue
	echo "=== $s"
	bash "$s" || echo "bench $s failed: exit $?"
done
