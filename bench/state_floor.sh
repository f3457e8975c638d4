#!/bin/sh
# state_floor.sh - what SQLite alone costs for the file `audit --state`
# writes, so the `--state` target can be set against its floor:
#
#   sh bench/state_floor.sh BIN LOG CONF DIR [ROUNDS]
#
# Writes DIR/state.db with `BIN audit --format json -c CONF --state`, then,
# ROUNDS times (default 3), with the sqlite3 shell (Debian package sqlite3):
#   rows   a new file with the same tables and no index but messages_time
#          (what store_bulk_begin() leaves), filled with INSERT ... SELECT
#          from DIR/state.db in one transaction: SQLite's cost of the rows
#          without any of sendguard's own (no statement per row, no
#          binding, no thread);
#   index  the five indexes store_bulk_end() makes, with the text the file
#          holds (sqlite_master), on that file;
# and prints the median CPU seconds (user + system) of each.  The rows can
# be written beside the audit on the second core; the indexes only after
# the last row, on one thread (a CREATE INDEX is one statement), so the
# `--state` audit cannot take less wall time than about
#   (audit CPU + rows) / 2 + index - (the report, which they overlap)
# on two cores, whatever sendguard does.  DIR is emptied first and kept.
set -eu
[ $# -ge 4 ] || { echo "usage: sh bench/state_floor.sh BIN LOG CONF DIR [ROUNDS]" >&2; exit 2; }
bin=$1 log=$2 conf=$3 dir=$4 rounds=${5:-3}
command -v sqlite3 >/dev/null || { echo "state_floor.sh: sqlite3 is missing (apt-get install sqlite3)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "state_floor.sh: /usr/bin/time is missing (apt-get install time)" >&2; exit 2; }
rm -rf "$dir"
mkdir -p "$dir"
"$bin" audit --format json -c "$conf" --state "$dir/state.db" "$log" >/dev/null || [ $? -eq 1 ]
# the schema without the five file indexes, and those indexes' text
sqlite3 "$dir/state.db" "SELECT sql || ';' FROM sqlite_master WHERE sql IS NOT NULL AND
	name NOT IN ('messages_sasl', 'messages_sender', 'messages_client_ip', 'messages_uid',
	'messages_queue_id') ORDER BY rowid" >"$dir/schema.sql"
sqlite3 "$dir/state.db" "SELECT sql || ';' FROM sqlite_master WHERE name IN ('messages_sasl',
	'messages_sender', 'messages_client_ip', 'messages_uid', 'messages_queue_id')
	ORDER BY rowid" >"$dir/index.sql"
tables=$(sqlite3 "$dir/state.db" "SELECT name FROM sqlite_master WHERE type = 'table' AND
	name NOT LIKE 'sqlite_%' ORDER BY rowid")
{
	echo "ATTACH '$dir/state.db' AS src;"
	echo "BEGIN;"
	for t in $tables; do
		echo "INSERT INTO main.$t SELECT * FROM src.$t;"
	done
	echo "COMMIT;"
} >"$dir/rows.sql"
r=1
while [ "$r" -le "$rounds" ]; do
	rm -f "$dir/floor.db" "$dir/floor.db-wal" "$dir/floor.db-shm"
	printf 'PRAGMA journal_mode=WAL;\n' | sqlite3 "$dir/floor.db" >/dev/null
	sqlite3 "$dir/floor.db" <"$dir/schema.sql"
	/usr/bin/time -a -o "$dir/times" -f 'rows %U %S' sqlite3 "$dir/floor.db" <"$dir/rows.sql"
	/usr/bin/time -a -o "$dir/times" -f 'index %U %S' sqlite3 "$dir/floor.db" <"$dir/index.sql"
	r=$((r + 1))
done
echo "messages: $(sqlite3 "$dir/state.db" 'SELECT count(*) FROM messages')"
for what in rows index; do
	awk -v w="$what" '$1 == w { print $2 + $3 }' "$dir/times" | sort -n |
		awk -v w="$what" '{ v[NR] = $1 } END { printf "%s: %.3f s CPU (median of %d)\n", w, v[int((NR + 1) / 2)], NR }'
done
