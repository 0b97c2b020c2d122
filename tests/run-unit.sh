#!/bin/bash
# Run each cmocka unit-test binary; fail if any fails.  cmocka prints its own
# summary per binary; the last line here totals them.
set -u
pass=0 fail=0
for t in "$@"; do
	if "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: $t"; fi
done
echo "unit test programs: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
