#!/bin/sh
# audit-speed.sh - how fast `sendguard audit` replays a large log.
#
# Builds with make, generates a 1,000,000-line RFC 3339 log with
# build/bench/loggen (fixed seed) into a temporary directory, and times
# `build/sendguard audit --format json -c tests/truth.conf` (no sanitizers)
# on it and on its gzip copy under /usr/bin/time (Debian package `time`).
# Prints one line per run:
#   plain: lines: N  seconds: S  lines/s: R  peak RSS: M MiB
# Environment: BENCH_LINES (default 1000000), BENCH_SEED (default 42),
# BENCH_BUDGET (default 500000 lines/s: below it the script exits 1).
# The temporary directory is removed on exit.
set -eu

cd "$(dirname "$0")/.."
lines=${BENCH_LINES:-1000000}
seed=${BENCH_SEED:-42}
# the timing budget: fail below this many lines per second (BENCH_BUDGET)
budget=${BENCH_BUDGET:-500000}
bin=build/sendguard
gen=build/bench/loggen

if [ ! -x /usr/bin/time ]; then
	echo "audit-speed: /usr/bin/time is missing (apt-get install time)" >&2
	exit 2
fi
make -s "$bin" "$gen" >&2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sg-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP

"$gen" --lines "$lines" --seed "$seed" --format rfc3339 \
	--out "$tmp/mail.log" --truth "$tmp/truth.tsv" 2>/dev/null
gzip -c "$tmp/mail.log" >"$tmp/mail.log.gz"

# measure LABEL FILE - audit FILE once and print its line
measure() {
	rc=0
	TZ=UTC /usr/bin/time -f '%e %M' -o "$tmp/time" \
		"$bin" audit --format json -c tests/truth.conf "$2" \
		>"$tmp/out.json" 2>"$tmp/err" || rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
		echo "audit-speed: audit of $2 exited $rc:" >&2
		cat "$tmp/err" >&2
		exit 1
	fi
	# the last line of -o is ours; earlier ones may be "Command exited ..."
	tail -n 1 "$tmp/time" | awk -v label="$1" -v n="$lines" -v budget="$budget" '{
		s = $1; kib = $2
		rate = (s > 0) ? n / s : n
		printf "%s: lines: %d  seconds: %.2f  lines/s: %.0f  peak RSS: %.1f MiB\n",
			label, n, s, rate, kib / 1024
		if (rate < budget) {
			printf "audit-speed: %s is below the budget of %d lines/s\n", label, budget
			exit 1
		}
	}' || fail=1
}
fail=0

measure plain "$tmp/mail.log"
measure gzip "$tmp/mail.log.gz"
exit $fail
