#!/bin/sh
# memory.sh - does the daemon's memory follow the windows or every identity
# ever seen?  Peak RSS of `sendguard run` for 100,000 and 400,000 distinct
# logins at the same rate (50 messages a second of log time, 10-minute
# windows), with build/bench/memory; the second may be at most 1.5 times
# the first (exit 1 otherwise).  A benchmark, not a test: run it by hand
# (make bench-memory), not under make check.
# Environment: BENCH_LOGINS (default "100000 400000"), BENCH_RATE (50),
# BENCH_BIN (default build/sendguard: another binary to measure).
set -eu
cd "$(dirname "$0")/.."
logins=${BENCH_LOGINS:-100000 400000}
rate=${BENCH_RATE:-50}
bin=${BENCH_BIN:-$PWD/build/sendguard}
make -s build/sendguard build/bench/memory >&2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sg-mem.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP
first=""
fail=0
for n in $logins; do
	rm -rf "$tmp/run" && mkdir "$tmp/run"
	out=$(TZ=UTC build/bench/memory "$bin" "$tmp/run" "$n" "$rate")
	echo "$out"
	mib=$(echo "$out" | sed -n 's/.*peak RSS: \([0-9.]*\) MiB.*/\1/p')
	if [ -z "$first" ]; then
		first=$mib
	else
		awk -v a="$first" -v b="$mib" -v n="$n" 'BEGIN {
			printf "ratio %s logins / first: %.2f (at most 1.50)\n", n, b / a
			exit (b / a > 1.5) }' || fail=1
	fi
done
exit $fail
