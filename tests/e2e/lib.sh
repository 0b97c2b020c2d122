# Shared helpers for end-to-end tests: a temp dir, exit-code and output
# expectations that print what they saw when they fail.
: "${VMET:?VMET must point at the vmet binary}"
TMP=$(mktemp -d /tmp/vmet-e2e.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
FAILS=0
OUT=$TMP/out
ERR=$TMP/err

# Write a little-endian u64 at a byte offset of a file.
put64() {
	local f=$1 off=$2 val=$3 i hex=""
	for i in 0 1 2 3 4 5 6 7; do
		hex+=$(printf '\\x%02x' $(( (val >> (8 * i)) & 0xff )))
	done
	printf "$hex" | dd of="$f" bs=1 seek=$((off)) conv=notrunc status=none
}

# expect_exit CODE CMD...: run CMD, keep stdout/stderr, check the exit code.
expect_exit() {
	local want=$1; shift
	"$@" >"$OUT" 2>"$ERR"
	local rc=$?
	LAST_CMD="$*"
	if [ "$rc" -ne "$want" ]; then
		echo "FAIL: exit $rc, wanted $want: $LAST_CMD"
		sed 's/^/  stdout: /' "$OUT" | head -20
		sed 's/^/  stderr: /' "$ERR" | head -20
		FAILS=$((FAILS + 1))
	fi
	# A sanitizer report is a failure whatever the exit code.
	if grep -q -E 'AddressSanitizer|runtime error:|LeakSanitizer' "$ERR"; then
		echo "FAIL: sanitizer report: $LAST_CMD"
		head -30 "$ERR"
		FAILS=$((FAILS + 1))
	fi
}

expect_out() {
	if ! grep -qF -- "$1" "$OUT"; then
		echo "FAIL: stdout lacks '$1': $LAST_CMD"
		sed 's/^/  stdout: /' "$OUT" | head -20
		FAILS=$((FAILS + 1))
	fi
}

expect_err() {
	if ! grep -qF -- "$1" "$ERR"; then
		echo "FAIL: stderr lacks '$1': $LAST_CMD"
		sed 's/^/  stderr: /' "$ERR" | head -20
		FAILS=$((FAILS + 1))
	fi
}

finish() {
	if [ "$FAILS" -ne 0 ]; then
		echo "$FAILS check(s) failed"
		exit 1
	fi
	echo "all checks passed"
	exit 0
}
