#!/bin/bash
# Whole-process time and peak RSS of `vmet ps` and `vmet netstat` on a real
# guest: cold (the source's pages evicted from the page cache first, so the
# run pays for reading them) and warm (median of repeated runs), plus the
# in-process listing alone (build/bench/bench_linux).  Figures only: no
# assertion on them.
#
# The guest: $VMET_BENCH_SOURCE (and $VMET_BENCH_PROFILE, $VMET_BENCH_CR3),
# else the newest ELF dump captured by tests/guest/capture.sh under
# $VMET_STATE_DIR (default /var/tmp/vmet-state).  None: say so, exit 0.
set -u
cd "$(dirname "$0")/.."
: "${VMET:=$PWD/vmet}"
RUNS=${VMET_BENCH_RUNS:-21}

src=${VMET_BENCH_SOURCE:-}
if [ -z "$src" ]; then
	src=$(ls -1t "${VMET_STATE_DIR:-/var/tmp/vmet-state}"/*/dump.elf 2>/dev/null | head -n 1)
fi
if [ -z "$src" ] || [ ! -f "$src" ]; then
	echo "bench/linux.sh: no guest dump; run tests/guest/boot.sh NAME and capture.sh NAME, or set VMET_BENCH_SOURCE: skipped"
	exit 0
fi
prof=${VMET_BENCH_PROFILE:-}
if [ -z "$prof" ]; then
	for p in "$(dirname "$src")"/*.vmprof profiles/*.vmprof; do
		[ -f "$p" ] && { prof=$p; break; }
	done
fi
popt=()
[ -n "$prof" ] && popt=(--profile "$prof")
cr3opt=()
[ -n "${VMET_BENCH_CR3:-}" ] && cr3opt=(--cr3 "$VMET_BENCH_CR3")

# Drop the source's pages from the page cache (this file only, not the
# machine's whole cache: colleagues share it).
evict() {
	# GNU dd: with count=0, iflag=nocache drops the whole file's cached pages.
	dd if="$1" iflag=nocache count=0 status=none 2>/dev/null
}

tf=$(mktemp /tmp/vmet-bench.XXXXXX)
trap 'rm -f "$tf"' EXIT

# run_stats NAME ARGS...: cold run, then RUNS warm runs; median ms and max RSS.
run_stats() {
	local name=$1; shift
	local t rss out ms=() cold cold_rss
	evict "$src"
	local s0 e0
	s0=$(date +%s%N)
	/usr/bin/time -o "$tf" -f '%M' "$VMET" "$@" >/dev/null 2>&1
	e0=$(date +%s%N)
	cold=$(awk -v d=$((e0 - s0)) 'BEGIN {printf "%.1f", d / 1e6}')
	cold_rss=$(tail -n 1 "$tf")
	rss=0
	for _ in $(seq "$RUNS"); do
		local s e
		s=$(date +%s%N)
		"$VMET" "$@" >/dev/null 2>&1
		e=$(date +%s%N)
		ms+=("$(( (e - s) / 1000 ))")
	done
	/usr/bin/time -o "$tf" -f '%M' "$VMET" "$@" >/dev/null 2>&1
	rss=$(tail -n 1 "$tf")
	t=$(printf '%s\n' "${ms[@]}" | sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.2f", m / 1000}')
	printf '%-34s cold %7s ms (RSS %s KiB)   warm median %6s ms of %d (RSS %s KiB)\n' \
		"$name" "$cold" "$cold_rss" "$t" "$RUNS" "$rss"
}

echo "source: $src ($(du -h "$src" | cut -f1)); profile: ${prof:-auto}"
"$VMET" ps "${popt[@]}" "${cr3opt[@]}" "$src" 2>/dev/null | tail -n +2 | wc -l | sed 's/^/tasks listed: /'
run_stats "vmet --version (start-up only)" --version
run_stats "vmet ps" ps "${popt[@]}" "${cr3opt[@]}" "$src"
run_stats "vmet ps (profile found by banner)" ps "${cr3opt[@]}" "$src"
run_stats "vmet netstat" netstat "${popt[@]}" "${cr3opt[@]}" "$src"
run_stats "vmet netstat -x" netstat -x "${popt[@]}" "${cr3opt[@]}" "$src"
if [ -x build/bench/bench_linux ] && [ -n "$prof" ]; then
	echo "--- listing alone (in process)"
	build/bench/bench_linux "$src" "$prof" ${VMET_BENCH_CR3:-}
fi
