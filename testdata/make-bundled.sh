#!/bin/bash
# Regenerate testdata/debian12-flat.*: capture the real-guest test bed
# (tests/guest/testbed.sh), keep only the pages vmet ps, netstat and mount
# read (vmet dump --pages-for), and store the guest's own view beside it.  The
# kernel must have a bundled profile (profiles/) for the quick start to need
# no download: check `vmet info` on the result names a banner that one of
# profiles/*.vmprof carries.
set -euo pipefail
cd "$(dirname "$0")/.."
state=$(tests/guest/testbed.sh --recapture | tail -n 1)
# shellcheck disable=SC1091
. "$state/testbed.env"
./vmet dump --pages-for ps,netstat,mount "$DUMP" -o testdata/debian12-flat.vmsnap
for f in ps threads netstat unix; do
	cp "$state/truth-$f.txt" "testdata/debian12-flat.truth-$f.txt"
done
echo "testdata/debian12-flat.*: kernel $KVER, $(wc -l < testdata/debian12-flat.truth-ps.txt) processes"
