#!/bin/sh
# daemon-latency.sh - append-to-verdict latency of `sendguard run` at a
# steady rate, and its peak RSS while the lines flow through.
# Environment: BENCH_LINES (default 1000000), BENCH_RATE (default 20000).
# Generates the log with build/bench/loggen (log time at the same rate, so
# windows see a realistic pace), then runs build/bench/latency.
set -eu
cd "$(dirname "$0")/.."
lines=${BENCH_LINES:-1000000}
rate=${BENCH_RATE:-20000}
make -s build/sendguard build/bench/loggen build/bench/latency >&2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sg-lat.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP
build/bench/loggen --lines "$lines" --seed 11 --rate "$rate" --start "$(date +%s)" \
	--out "$tmp/in.log" --truth "$tmp/truth.tsv" 2>/dev/null
TZ=UTC build/bench/latency "$PWD/build/sendguard" "$tmp/in.log" "$tmp" "$rate"
