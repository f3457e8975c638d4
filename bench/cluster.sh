#!/bin/sh
# cluster.sh - the cluster's speed (issue 15), against a throwaway
# PostgreSQL on a Unix socket: the messages a second one node publishes,
# the messages a second two nodes exchange, the added latency of a verdict
# in a cluster (build/bench/cluster), and PostgreSQL's size per message.
# Environment: BENCH_LINES (default 300000 lines a log, about 19,000
# messages), BENCH_LAT_LINES (default 100000) and BENCH_RATE (lines/s of the
# latency runs, default 5000).  Needs PostgreSQL's server (apt-get install
# postgresql); as root the server runs as the postgres user (runuser).
set -eu
cd "$(dirname "$0")/.."
lines=${BENCH_LINES:-300000}
latlines=${BENCH_LAT_LINES:-100000}
rate=${BENCH_RATE:-5000}
make -s build/sendguard build/bench/loggen build/bench/cluster >&2
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -n 1)
[ -n "$pgbin" ] || { echo "cluster.sh: PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sg-cbench.XXXXXX")
chmod 755 "$tmp"
mkdir "$tmp/pg"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" != 0 ] || chown postgres "$tmp/pg"
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	sleep 0.5
	as_pg "$pgbin/pg_ctl" -D "$tmp/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
as_pg "$pgbin/initdb" -D "$tmp/pg/data" -A trust -U postgres -E UTF8 --locale=C --no-sync >/dev/null
as_pg "$pgbin/pg_ctl" -D "$tmp/pg/data" -l "$tmp/pg/server.log" -w \
	-o "-c listen_addresses='' -k $tmp/pg" start >/dev/null
psql() { "$pgbin/psql" -X -q -tA -h "$tmp/pg" -U postgres "$@"; }
for db in pub xch lat; do psql -d postgres -c "CREATE DATABASE $db" ; done
start=$(( $(date +%s) - 3 * 86400 ))
for s in 1 2 3; do
	build/bench/loggen --lines "$lines" --seed "$s" --start "$start" \
		--out "$tmp/gen$s.log" --truth "$tmp/gen$s.truth" 2>/dev/null
done
msgs() { grep -c '^message' "$tmp/gen$1.truth"; }
# a last line a minute after each log's end lets its held-back messages go
# (unauthenticated mail waits 30 s of log time for a content-filter hand-off)
for s in 1 2 3; do
	last=$(date -u -d "$(tail -n 1 "$tmp/gen$s.log" | cut -d' ' -f1)" +%s)
	echo "$(date -u -d "@$((last + 60))" +%Y-%m-%dT%H:%M:%S.000000+00:00) mail postfix/smtpd[9]: connect from x[192.0.2.99]" >>"$tmp/gen$s.log"
done

# node NAME DB: a node in monitor mode, started; its one limit, which nothing
# crosses, has a window as long as the logs: a node counts (and so fetches)
# the others' messages that can still be in one of its windows
node() {
	mkdir -p "$tmp/$1"
	: >"$tmp/$1/mail.log"
	cat >"$tmp/$1/agent.conf" <<CONF
[agent]
log = $tmp/$1/mail.log
state = $tmp/$1/state.db
socket = $tmp/$1/ctl.sock
start_at = beginning
mode = monitor
retention = 30d
[limit all]
by = sasl
messages = 100000000/7d
actions = hold
[cluster]
conninfo = host=$tmp/pg dbname=$2 user=postgres
node = $1
CONF
	build/sendguard run -f -c "$tmp/$1/agent.conf" 2>"$tmp/$1/err" &
	pids="$pids $!"
}
# js NAME: its status JSON; num NAME KEY: a number of it
js() { build/sendguard status --json -c "$tmp/$1/agent.conf" 2>/dev/null || true; }
num() { js "$1" | sed -n "s/.*\"$2\": \([0-9]*\).*/\1/p" | head -n 1; }
up() { for i in $(seq 200); do js "$1" | grep -q '"connection": "up"' && return 0; sleep 0.1; done; return 1; }
now() { date +%s.%N; }

echo "machine: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)"
echo "PostgreSQL: $("$pgbin/postgres" --version), on a Unix socket, fsync on"

# 1. one node publishes (reading its log as fast as it can)
node a pub; up a
m=$(msgs 1)
t0=$(now)
cat "$tmp/gen1.log" >>"$tmp/a/mail.log"
while [ "$(num a published)" != "$m" ] || [ "$(num a outbox)" != 0 ]; do sleep 0.1; done
t1=$(now)
echo "$m $t0 $t1" | awk '{ printf "one node publishes: %d messages in %.2f s: %.0f messages/s\n", $1, $3 - $2, $1 / ($3 - $2) }'
rows=$(psql -d pub -c "SELECT count(*) FROM sendguard_messages")
psql -d pub -c "SELECT pg_relation_size('sendguard_messages'), pg_indexes_size('sendguard_messages'),
	pg_total_relation_size('sendguard_messages')" | tr '|' ' ' |
	awk -v n="$rows" '{ printf "PostgreSQL: %d rows; per message %.0f bytes of table, %.0f of indexes, %.0f in all (TOAST, free space map)\n", n, $1 / n, $2 / n, $3 / n }'
psql -d pub -c "SELECT indexrelname, pg_relation_size(indexrelid) FROM pg_stat_user_indexes
	WHERE relname = 'sendguard_messages' ORDER BY 1" | tr '|' ' ' |
	awk -v n="$rows" '{ printf "  index %s: %.0f bytes per message\n", $1, $2 / n }'

# 2. two nodes exchange: each reads its own log, and counts the other's
node b xch; node c xch; up b; up c
mb=$(msgs 2); mc=$(msgs 3)
t0=$(now)
cat "$tmp/gen2.log" >>"$tmp/b/mail.log" &
cp=$!
cat "$tmp/gen3.log" >>"$tmp/c/mail.log"
wait "$cp"
while [ "$(num b fetched)" != "$mc" ] || [ "$(num c fetched)" != "$mb" ]; do sleep 0.1; done
t1=$(now)
echo "$mb $mc $t0 $t1" | awk '{ printf "two nodes exchange: %d + %d messages in %.2f s: %.0f messages/s (each node publishes its own and counts the other'"'"'s)\n", $1, $2, $4 - $3, ($1 + $2) / ($4 - $3) }'
for p in $pids; do kill "$p"; done
pids=""

# 3. the latency of a verdict: one node, then two
build/bench/loggen --lines "$latlines" --seed 11 --rate "$rate" --start "$(date +%s)" \
	--out "$tmp/lat.log" --truth "$tmp/lat.truth" 2>/dev/null
mkdir -p "$tmp/lat"
TZ=UTC build/bench/cluster "$PWD/build/sendguard" "$tmp/lat.log" "$tmp/lat" \
	"host=$tmp/pg dbname=lat user=postgres" "$rate"
