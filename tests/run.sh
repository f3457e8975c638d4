#!/bin/sh
# Run every Criterion suite given as an argument, then the sample diffs,
# and close with one summary line: "check: N passed, N failed".
set -u
passed=0; failed=0; rc=0
log=$(mktemp); trap 'rm -f "$log"' EXIT
for t in "$@"; do
	echo "== $t"
	"$t" --jobs 2 >"$log" 2>&1; r=$?
	cat "$log"
	line=$(grep 'Synthesis: Tested:' "$log" | tail -n 1)
	if [ -z "$line" ]; then
		echo "$t: no Criterion summary (exit $r)"; failed=$((failed + 1)); rc=1; continue
	fi
	p=$(echo "$line" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
	f=$(echo "$line" | sed -n 's/.*Failing: \([0-9]*\).*Crashing: \([0-9]*\).*/\1 \2/p')
	passed=$((passed + p))
	for n in $f; do failed=$((failed + n)); done
	[ "$r" -eq 0 ] || rc=1
done
sh "$(dirname "$0")/samples.sh" >"$log" 2>&1; r=$?
cat "$log"
sp=$(sed -n 's/^samples: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$log")
set -- $sp
passed=$((passed + ${1:-0})); failed=$((failed + ${2:-1}))
[ "$r" -eq 0 ] || rc=1
echo "check: $passed passed, $failed failed"
exit $rc
