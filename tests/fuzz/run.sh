#!/bin/bash
# Run every libFuzzer harness for FUZZ_SECONDS each (default 60) with its
# corpus in tests/fuzz/corpus/NAME (new inputs are kept in a scratch copy,
# not in the tree).  A crash, a sanitizer report or a hang (per-input
# timeout) fails the run and leaves the input in tests/fuzz/out/.
set -u
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-60}
fail=0 total_execs=0
mkdir -p tests/fuzz/out
for bin in "$@"; do
	name=$(basename "$bin"); name=${name#fuzz_}
	corpus=tests/fuzz/corpus/$name
	work=$(mktemp -d /tmp/vmet-fuzz-$name.XXXXXX)
	mkdir -p "$corpus"
	cp -r "$corpus"/. "$work"/ 2>/dev/null
	log=tests/fuzz/out/$name.log
	"$bin" -max_total_time="$secs" -timeout=5 -rss_limit_mb=2048 -max_len=2200000 \
		-artifact_prefix=tests/fuzz/out/"$name"- -print_final_stats=1 "$work" "$corpus" >"$log" 2>&1
	rc=$?
	execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
	total_execs=$((total_execs + ${execs:-0}))
	if [ $rc -ne 0 ]; then
		echo "fuzz $name: FAILED (exit $rc), see $log"; tail -30 "$log"; fail=1
	else
		echo "fuzz $name: ${execs:-?} executions in ${secs}s, no crash, no hang"
	fi
	rm -rf "$work"
done
echo "fuzz: $total_execs executions in total"
exit $fail
