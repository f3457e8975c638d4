#!/bin/sh
# Run every Criterion suite given as an argument, then the sample diffs,
# and close with one summary line:
#   "check: N passed, N failed, N skipped" and, when some were skipped,
#   their reasons in parentheses, e.g. "(../shared/logs not found)".
#
# Criterion 2.4 leaves skipped tests (cr_skip_test, .disabled) out of its
# "Synthesis: Tested: T | Passing: P | Failing: F | Crashing: C" line and
# out of its exit status (0 when nothing failed), so the skips are read
# from the TAP report each suite also writes (--tap=FILE), one line per
# skipped test: "ok - suite::name  # SKIP reason".
set -u
passed=0; failed=0; skipped=0; reasons=""; rc=0
log=$(mktemp); tap=$(mktemp); trap 'rm -f "$log" "$tap"' EXIT
for t in "$@"; do
	echo "== $t"
	: >"$tap"
	"$t" --jobs 2 --tap="$tap" >"$log" 2>&1; r=$?
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
	# "ok - parse::real_logs  # SKIP ../shared/logs not found" -> name, reason
	sk=$(sed -n 's/^ok - \(.*[^ ]\)  *# SKIP *\(.*\)$/\1\t\2/p' "$tap")
	[ -n "$sk" ] || continue
	while IFS='	' read -r name why; do
		echo "[SKIP] $name: $why"
		skipped=$((skipped + 1))
		case "; $reasons; " in
		*"; $why; "*) ;;
		*) reasons="${reasons:+$reasons; }$why" ;;
		esac
	done <<EOF
$sk
EOF
done
sh "$(dirname "$0")/samples.sh" >"$log" 2>&1; r=$?
cat "$log"
sp=$(sed -n 's/^samples: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$log")
set -- $sp
passed=$((passed + ${1:-0})); failed=$((failed + ${2:-1}))
[ "$r" -eq 0 ] || rc=1
why=""
[ -z "$reasons" ] || why=" ($reasons)"
echo "check: $passed passed, $failed failed, $skipped skipped$why"
exit $rc
