/*
 * NAME
 *	pg_schema - the cluster's PostgreSQL schema, step by step
 * SUMMARY
 *	The steps that take a database from one schema version to the next
 *	(tables, indexes and the server-side functions of store/pg.c's
 *	operations), each wrapped with the migration lock and its version
 *	row by pg_schema_sql().  Apart from pg.c only so that each file stays
 *	one job: the connection there, the schema's text here.
 * RETURNS
 *	pg_schema_sql(): allocated text, NULL when out of memory.  Never
 *	prints, never exits.
 * UNTRUSTED INPUT
 *	None: constant text and a version number.
 */
#include <stdlib.h>
#include <string.h>

#include "store/pg.h"
#include "store/pg_priv.h"
#include "util/buf.h"

/*
 * pg_schema - step i takes the database from version i to i + 1; each
 * runs in one implicit transaction after the migration lock.  Append
 * new steps; never edit a step that has shipped.
 *
 * sendguard_publish() takes the messages lock before any id is drawn,
 * so ids are committed in id order (see pg.h).  sendguard_block() ends
 * an episode whose time ran out, then records the new one unless another
 * is in force (the partial unique index); sendguard_unblock() ends the
 * one in force.  Both add an event for the other nodes under the events
 * lock, for the same reason.
 */
static const char *const pg_schema[PG_SCHEMA_LATEST] = {
	/* 0 -> 1 */
	"CREATE TABLE sendguard_messages ("
	" id bigserial PRIMARY KEY, node text NOT NULL,"
	" host bytea NOT NULL, instance bytea NOT NULL, queue_id bytea NOT NULL,"
	" time_us bigint NOT NULL, sasl bytea, sender bytea, client_ip bytea,"
	" uid bigint, nrcpt integer NOT NULL,"
	" CONSTRAINT sendguard_messages_once UNIQUE (node, host, instance, queue_id, time_us));"
	"CREATE INDEX sendguard_messages_time ON sendguard_messages (time_us);"
	"CREATE TABLE sendguard_nodes (node text PRIMARY KEY, last_publish_us bigint NOT NULL,"
	" newest_us bigint, published bigint NOT NULL DEFAULT 0,"
	" outbox bigint NOT NULL DEFAULT 0);"
	"CREATE TABLE sendguard_blocks (id bigserial PRIMARY KEY, identity bytea NOT NULL,"
	" rule text NOT NULL, node text NOT NULL, since_us bigint NOT NULL,"
	" until_us bigint NOT NULL, ended_us bigint, ended_by text, ended_how text);"
	"CREATE UNIQUE INDEX sendguard_blocks_in_force ON sendguard_blocks (identity)"
	" WHERE ended_us IS NULL;"
	"CREATE TABLE sendguard_events (id bigserial PRIMARY KEY, time_us bigint NOT NULL,"
	" node text NOT NULL, kind text NOT NULL, identity bytea NOT NULL, block_id bigint,"
	" rule text, until_us bigint, mode text);"
	"CREATE INDEX sendguard_events_time ON sendguard_events (time_us);"
	"CREATE FUNCTION sendguard_publish(p_node text, p_rows jsonb, p_outbox bigint,"
	" p_now bigint) RETURNS bigint LANGUAGE plpgsql AS $f$"
	" DECLARE n bigint;"
	" BEGIN"
	"  PERFORM pg_advisory_xact_lock(534701);"
	"  INSERT INTO sendguard_messages (node, time_us, host, instance, queue_id, sasl,"
	"   sender, client_ip, uid, nrcpt)"
	"   SELECT p_node, (r->>0)::bigint, decode(r->>1, 'hex'), decode(r->>2, 'hex'),"
	"    decode(r->>3, 'hex'), decode(r->>4, 'hex'), decode(r->>5, 'hex'),"
	"    decode(r->>6, 'hex'), (r->>7)::bigint, (r->>8)::integer"
	"   FROM jsonb_array_elements(p_rows) AS r"
	"   ON CONFLICT ON CONSTRAINT sendguard_messages_once DO NOTHING;"
	"  GET DIAGNOSTICS n = ROW_COUNT;"
	"  INSERT INTO sendguard_nodes AS o (node, last_publish_us, newest_us, published, outbox)"
	"   SELECT p_node, p_now, max((r->>0)::bigint), n, p_outbox"
	"   FROM jsonb_array_elements(p_rows) AS r"
	"   ON CONFLICT (node) DO UPDATE SET last_publish_us = excluded.last_publish_us,"
	"    newest_us = greatest(o.newest_us, excluded.newest_us),"
	"    published = o.published + excluded.published, outbox = excluded.outbox;"
	"  IF n > 0 THEN PERFORM pg_notify('" PG_CHANNEL "', 'm ' || p_node); END IF;"
	"  RETURN n;"
	" END $f$;"
	"CREATE FUNCTION sendguard_block(p_node text, p_identity bytea, p_rule text,"
	" p_until bigint, p_now bigint) RETURNS bigint LANGUAGE plpgsql AS $f$"
	" DECLARE b bigint;"
	" BEGIN"
	"  PERFORM pg_advisory_xact_lock(534702);"
	"  UPDATE sendguard_blocks SET ended_us = until_us, ended_how = 'expired'"
	"   WHERE identity = p_identity AND ended_us IS NULL AND until_us <> 0"
	"   AND until_us <= p_now;"
	"  INSERT INTO sendguard_blocks (identity, rule, node, since_us, until_us)"
	"   VALUES (p_identity, p_rule, p_node, p_now, p_until)"
	"   ON CONFLICT (identity) WHERE ended_us IS NULL DO NOTHING RETURNING id INTO b;"
	"  IF b IS NOT NULL THEN"
	"   INSERT INTO sendguard_events (time_us, node, kind, identity, block_id, rule, until_us)"
	"    VALUES (p_now, p_node, 'block', p_identity, b, p_rule, p_until);"
	"   PERFORM pg_notify('" PG_CHANNEL "', 'e ' || p_node);"
	"  END IF;"
	"  RETURN b;"
	" END $f$;"
	"CREATE FUNCTION sendguard_unblock(p_node text, p_identity bytea, p_mode text,"
	" p_now bigint) RETURNS bigint LANGUAGE plpgsql AS $f$"
	" DECLARE b bigint;"
	" BEGIN"
	"  PERFORM pg_advisory_xact_lock(534702);"
	"  UPDATE sendguard_blocks SET ended_us = p_now, ended_by = p_node,"
	"   ended_how = 'unblocked' WHERE identity = p_identity AND ended_us IS NULL"
	"   RETURNING id INTO b;"
	"  INSERT INTO sendguard_events (time_us, node, kind, identity, block_id, mode)"
	"   VALUES (p_now, p_node, 'unblock', p_identity, b, p_mode);"
	"  PERFORM pg_notify('" PG_CHANNEL "', 'e ' || p_node);"
	"  RETURN 1;"
	" END $f$;"
	"CREATE FUNCTION sendguard_prune(p_before bigint) RETURNS bigint"
	" LANGUAGE plpgsql AS $f$"
	" DECLARE n bigint; m bigint;"
	" BEGIN"
	"  DELETE FROM sendguard_messages WHERE id IN (SELECT id FROM sendguard_messages"
	"   WHERE time_us < p_before ORDER BY time_us LIMIT 50000);"
	"  GET DIAGNOSTICS n = ROW_COUNT;"
	"  UPDATE sendguard_blocks SET ended_us = until_us, ended_how = 'expired'"
	"   WHERE ended_us IS NULL AND until_us <> 0 AND until_us < p_before;"
	"  DELETE FROM sendguard_events WHERE time_us < p_before;"
	"  GET DIAGNOSTICS m = ROW_COUNT;"
	"  n := n + m;"
	"  DELETE FROM sendguard_blocks WHERE ended_us < p_before;"
	"  GET DIAGNOSTICS m = ROW_COUNT;"
	"  RETURN n + m;"
	" END $f$;",
};

/* the schema steps run after this (a transaction-level lock of their own) */
#define SCHEMA_PRELUDE \
	"SELECT pg_advisory_xact_lock(534700);" \
	"CREATE TABLE IF NOT EXISTS sendguard_schema (version integer PRIMARY KEY);"

/*
 * pg_schema_sql - step v of the schema with its prelude and its version
 * row (constant text: no value from outside is in it); allocated, NULL
 * when out of memory
 */
char *
pg_schema_sql(int v)
{
	struct buf b;
	char *sql;

	buf_init(&b, (size_t)1024 * 1024);
	buf_addf(&b, "%s%s;INSERT INTO sendguard_schema (version) VALUES (%d)", SCHEMA_PRELUDE,
	    pg_schema[v - 1], v);
	sql = b.failed ? NULL : strdup(buf_str(&b));
	buf_free(&b);
	return (sql);
}
