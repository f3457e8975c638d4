#!/bin/sh
# catchup.sh - one catch-up of the daemon from a fresh state:
#
#   sh bench/catchup.sh BIN LOG CONF DIR LINES
#
# Empties DIR, writes DIR/agent.conf (the log DIR/mail.log, a hard link of
# LOG, read from its beginning; the state DIR/state.db; mode = monitor;
# the [limit] sections of CONF), starts `BIN run -f`, polls `BIN status
# --json` every 50 ms until it reports LINES lines read, and prints "wall
# cpu main_cpu": the seconds from the start until then, the daemon's CPU
# seconds and those of its main thread (/proc/PID/stat and
# /proc/PID/task/PID/stat), then stops the daemon.  DIR keeps the state
# file and the daemon's stderr (DIR/err) for a look afterwards (sqlite3
# DIR/state.db).  bench/compare runs it for its catch-up rows.  LOG must be
# on DIR's file system (a hard link).
set -eu
[ $# -eq 5 ] || { echo "usage: sh bench/catchup.sh BIN LOG CONF DIR LINES" >&2; exit 2; }
bin=$1 log=$2 conf=$3 dir=$4 lines=$5
rm -rf "$dir"
mkdir -p "$dir"
{
	printf '[agent]\nlog = %s/mail.log\nstate = %s/state.db\nsocket = %s/ctl.sock\n' \
		"$dir" "$dir" "$dir"
	printf 'start_at = beginning\nmode = monitor\n'
	sed -n '/^\[limit/,$p' "$conf"
} >"$dir/agent.conf"
ln "$log" "$dir/mail.log"
hz=$(getconf CLK_TCK)
t0=$(date +%s.%N)
"$bin" run -f -c "$dir/agent.conf" 2>"$dir/err" &
pid=$!
while :; do
	sleep 0.05
	n=$("$bin" status --json -c "$dir/agent.conf" 2>/dev/null |
		sed -n 's/.*"lines": \([0-9]*\).*/\1/p')
	[ "${n:-0}" -ge "$lines" ] && break
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "catchup.sh: the daemon stopped:" >&2
		tail -n 5 "$dir/err" >&2
		exit 1
	fi
done
t1=$(date +%s.%N)
cpu=$(awk -v hz="$hz" '{ sub(/.*\) /, ""); print ($12 + $13) / hz }' "/proc/$pid/stat")
# the main thread's share: the daemon's own thread, beside its reader's
mcpu=$(awk -v hz="$hz" '{ sub(/.*\) /, ""); print ($12 + $13) / hz }' "/proc/$pid/task/$pid/stat")
kill "$pid"
wait "$pid" || true
echo "$t0 $t1 $cpu $mcpu" | awk '{ print $2 - $1, $3, $4 }'
