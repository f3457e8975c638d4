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
#          binding, no thread).  Each SELECT has a WHERE, so every row is
#          inserted one by one as a program's would be (without one SQLite
#          copies a table's pages whole, which no program writing rows can);
#   index  the five indexes store_bulk_end() makes, with the text the file
#          holds (sqlite_master), on that file;
#   threads  the same with PRAGMA threads=4 (SQLite's sorter threads);
#   live   the rows copied the same way into a new file that has the five
#          indexes already, so they are kept up to date row by row, in one
#          transaction;
#   live50 the same in 50 transactions of as many messages each (a commit
#          per batch, as the daemon's and today's `--state` loads make);
# and prints the median CPU seconds (user + system) of each.  The rows can
# be written beside the audit on the second core; the indexes made at the
# end only after the last row, on one thread (a CREATE INDEX is one
# statement), so the `--state` audit cannot take less wall time than about
#   (audit CPU + rows) / 2 + index - (the report, which they overlap)
# on two cores, or (audit CPU + live) / 2 with the indexes kept up to date
# beside the audit, whatever sendguard does.  DIR is emptied first and
# kept.
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
		echo "INSERT INTO main.$t SELECT * FROM src.$t WHERE 1;"
	done
	echo "COMMIT;"
} >"$dir/rows.sql"
maxid=$(sqlite3 "$dir/state.db" 'SELECT coalesce(max(id), 0) FROM messages')
step=$((maxid / 50 + 1))
{
	echo "ATTACH '$dir/state.db' AS src;"
	lo=0
	while [ "$lo" -le "$maxid" ]; do
		echo "BEGIN; INSERT INTO main.messages SELECT * FROM src.messages WHERE id >= $lo AND id < $((lo + step)); COMMIT;"
		lo=$((lo + step))
	done
	for t in $tables; do
		[ "$t" = messages ] || echo "INSERT INTO main.$t SELECT * FROM src.$t WHERE 1;"
	done
} >"$dir/live50.sql"
r=1
while [ "$r" -le "$rounds" ]; do
	rm -f "$dir/floor.db" "$dir/floor.db-wal" "$dir/floor.db-shm"
	printf 'PRAGMA journal_mode=WAL;\n' | sqlite3 "$dir/floor.db" >/dev/null
	sqlite3 "$dir/floor.db" <"$dir/schema.sql"
	/usr/bin/time -a -o "$dir/times" -f 'rows %U %S' sqlite3 "$dir/floor.db" <"$dir/rows.sql"
	/usr/bin/time -a -o "$dir/times" -f 'index %U %S' sqlite3 "$dir/floor.db" <"$dir/index.sql"
	rm -f "$dir/floor.db" "$dir/floor.db-wal" "$dir/floor.db-shm"
	printf 'PRAGMA journal_mode=WAL;\n' | sqlite3 "$dir/floor.db" >/dev/null
	sqlite3 "$dir/floor.db" <"$dir/schema.sql"
	sqlite3 "$dir/floor.db" <"$dir/rows.sql"
	{ echo "PRAGMA threads=4;"; cat "$dir/index.sql"; } >"$dir/threads.sql"
	/usr/bin/time -a -o "$dir/times" -f 'threads %U %S' sqlite3 "$dir/floor.db" <"$dir/threads.sql" >/dev/null
	rm -f "$dir/floor.db" "$dir/floor.db-wal" "$dir/floor.db-shm"
	printf 'PRAGMA journal_mode=WAL;\n' | sqlite3 "$dir/floor.db" >/dev/null
	cat "$dir/schema.sql" "$dir/index.sql" | sqlite3 "$dir/floor.db"
	/usr/bin/time -a -o "$dir/times" -f 'live %U %S' sqlite3 "$dir/floor.db" <"$dir/rows.sql"
	rm -f "$dir/floor.db" "$dir/floor.db-wal" "$dir/floor.db-shm"
	printf 'PRAGMA journal_mode=WAL;\n' | sqlite3 "$dir/floor.db" >/dev/null
	cat "$dir/schema.sql" "$dir/index.sql" | sqlite3 "$dir/floor.db"
	/usr/bin/time -a -o "$dir/times" -f 'live50 %U %S' sqlite3 "$dir/floor.db" <"$dir/live50.sql"
	r=$((r + 1))
done
echo "messages: $(sqlite3 "$dir/state.db" 'SELECT count(*) FROM messages')"
for what in rows index threads live live50; do
	awk -v w="$what" '$1 == w { print $2 + $3 }' "$dir/times" | sort -n |
		awk -v w="$what" '{ v[NR] = $1 } END { printf "%s: %.3f s CPU (median of %d)\n", w, v[int((NR + 1) / 2)], NR }'
done
