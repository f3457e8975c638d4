#!/bin/sh
# startup.sh - what a sendguard command costs to start:
#
#   sh bench/startup.sh BIN [BASE]
#
# Times BENCH_STARTS (default 200) runs of `BIN check-config -c
# agent.conf.example` in one loop, 5 rounds, in turn with BASE (a build of
# main, say) when given, and prints each binary's median in milliseconds
# per run and the number of shared libraries it loads (ldd).  Every
# command (status, the control commands, audit) pays this start once.
set -eu
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: sh bench/startup.sh BIN [BASE]" >&2; exit 2; }
n=${BENCH_STARTS:-200}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sg-startup.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# one BIN FILE - the ms per run of n runs, appended to FILE
one() {
	t0=$(date +%s.%N)
	i=0
	while [ "$i" -lt "$n" ]; do
		"$1" check-config -c agent.conf.example >/dev/null 2>&1
		i=$((i + 1))
	done
	t1=$(date +%s.%N)
	echo "$t0 $t1" | awk -v n="$n" '{ printf "%.3f\n", ($2 - $1) * 1000 / n }' >>"$2"
}
for r in 1 2 3 4 5; do
	one "$1" "$tmp/bin"
	[ $# -lt 2 ] || one "$2" "$tmp/base"
done
for f in bin base; do
	[ -s "$tmp/$f" ] || continue
	b=$1
	[ "$f" = bin ] || b=$2
	printf '%s: %s ms per start (median of 5 rounds of %d), %d shared libraries\n' "$f" \
		"$(sort -n "$tmp/$f" | sed -n 3p)" "$n" "$(ldd "$b" | wc -l)"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
