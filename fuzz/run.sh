#!/bin/sh
# fuzz/run.sh SECONDS TARGET... - run each libFuzzer target (built by
# `make fuzz`) for SECONDS, one after the other, on its corpus in
# build/fuzz/corpus/NAME (kept between runs, grown by each) with seeds
# made here in build/fuzz/seed/NAME:
#   fuzz_parse    every line of samples/*.log, one file each
#   fuzz_conf     samples/conf/*.conf, agent.conf.example, tests/truth.conf
#   fuzz_control  one request of each kind
# A crash, a leak, a sanitizer report or a time-out (10 s for one input)
# leaves its input in build/fuzz/crash-NAME-* and fails the run (exit 1),
# naming it: put it in fuzz/regress/NAME/ once fixed (tests/test_fuzz.c
# replays that folder).  Ends with one line per target: its executions
# and their rate, from libFuzzer's closing "#N DONE ... exec/s: R".
set -u
cd "$(dirname "$0")/.."
secs=$1; shift
out=build/fuzz
mkdir -p "$out/seed" "$out/corpus"

seed_parse() {
	for f in samples/*.log; do
		b=$(basename "$f" .log)
		awk -v d="$1" -v b="$b" '{ f = sprintf("%s/%s-%05d", d, b, NR); print > f; close(f) }' "$f"
	done
}
seed_conf() {
	cp samples/conf/*.conf agent.conf.example tests/truth.conf "$1"/
}
seed_control() {
	id=$(printf 'sasl:alice@example.com' | od -An -tx1 | tr -d ' \n')
	printf 'status' >"$1/status"
	printf 'status json' >"$1/status-json"
	printf 'block %s 3600' "$id" >"$1/block"
	printf 'unblock %s release' "$id" >"$1/unblock"
	printf 'explain %s' "$id" >"$1/explain"
}

rc=0; summary=""
for bin in "$@"; do
	name=$(basename "$bin")
	seed=$out/seed/$name corpus=$out/corpus/$name log=$out/$name.log
	rm -rf "$seed"; mkdir -p "$seed" "$corpus"
	"seed_${name#fuzz_}" "$seed"
	echo "== $name: $secs s (corpus $corpus, seeds $seed, log $log)"
	"$bin" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$out/crash-$name-" "$corpus" "$seed" >"$log" 2>&1
	r=$?
	tail -n 15 "$log"
	done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1)
	if [ "$r" -ne 0 ]; then
		echo "fuzz: $name FAILED (exit $r): $(ls "$out"/crash-"$name"-* 2>/dev/null | tr '\n' ' ')"
		rc=1
	fi
	execs=$(echo "$done_line" | sed -n 's/^#\([0-9]*\).*/\1/p')
	rate=$(echo "$done_line" | sed -n 's/.*exec\/s: \([0-9]*\).*/\1/p')
	summary="$summary
fuzz: $name: ${execs:-?} executions in $secs s (${rate:-?} exec/s)$( [ "$r" -eq 0 ] || echo ', FAILED')"
done
echo "$summary" | sed '/^$/d'
exit $rc
