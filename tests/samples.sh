#!/bin/sh
# Sample diffs for `make check`.  For every samples/NAME.log:
#   samples/NAME.parse.jsonl  expected `sendguard parse --year 2024 NAME.log`
#   samples/NAME.audit.txt    expected `sendguard audit --year 2024 [-c NAME.conf] NAME.log`
#   samples/NAME.audit.json   expected the same with --format json
# (NAME.conf is used when present, else the built-in defaults via -c /dev/null
# is NOT used: audit runs with SG_NO_DEFAULT_CONF so /etc is never read.)
# All run with TZ=UTC.  Prints "N passed, N failed".
set -u
bin=${SG_BIN:-build/sendguard}
dir=$(dirname "$0")/../samples
pass=0; fail=0
export TZ=UTC SG_NO_DEFAULT_CONF=1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
check() { # name expected-file command...
	name=$1; exp=$2; shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	if diff -u "$exp" "$tmp/out" >"$tmp/diff"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1)); echo "FAIL: $name"; head -n 40 "$tmp/diff"; cat "$tmp/err"
	fi
}
for log in "$dir"/*.log; do
	base=${log%.log}; name=$(basename "$base")
	conf=""; [ -f "$base.conf" ] && conf="-c $base.conf"
	[ -f "$base.parse.jsonl" ] && check "$name parse" "$base.parse.jsonl" "$bin" parse --year 2024 "$log"
	# shellcheck disable=SC2086
	[ -f "$base.audit.txt" ] && check "$name audit" "$base.audit.txt" "$bin" audit --year 2024 $conf "$log"
	# shellcheck disable=SC2086
	[ -f "$base.audit.json" ] && check "$name audit json" "$base.audit.json" "$bin" audit --year 2024 --format json $conf "$log"
done
echo "samples: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
