/*
 * NAME
 *	store_schema - the SQLite schema of the state database, step by step
 * SUMMARY
 *	store_migrations[] holds one step per schema version (PRAGMA
 *	user_version); store.c's migrate() applies them in order, each in
 *	its own transaction, and store_bulk.c rebuilds the file-only indexes
 *	from the same steps.  Append only: a shipped step is never edited.
 * RETURNS
 *	Data only.
 * UNTRUSTED INPUT
 *	None: constant SQL.
 */
#include <stddef.h>

#include "store/store_priv.h"

/*
 * store_migrations - store_migrations[i] takes a database from user_version i to i+1.
 * sql runs for every database; file_sql only for files: it holds the
 * indexes that serve on-disk look-ups by identity (status, explain), which
 * an in-memory audit store never makes and which would cost it over half
 * its insert time.  An in-memory database is built from version 0 by this
 * very binary every time, so the two kinds never meet in one history; a
 * later step that touches a file_sql index must say IF EXISTS.
 * Append new steps; never edit a step that has shipped.
 */
const struct store_migration store_migrations[] = {
	/* 0 -> 1: the initial schema */
	{ "CREATE TABLE messages ("
	  "  id        INTEGER PRIMARY KEY,"
	  "  time_us   INTEGER NOT NULL,"
	  "  host      TEXT,"
	  "  instance  TEXT,"
	  "  queue_id  TEXT,"
	  "  sasl      TEXT,"
	  "  sender    TEXT,"
	  "  client_ip TEXT,"
	  "  uid       INTEGER,"
	  "  nrcpt     INTEGER NOT NULL DEFAULT 0"
	  ");"
	  "CREATE INDEX messages_time ON messages(time_us);"
	  "CREATE TABLE verdicts ("
	  "  id        INTEGER PRIMARY KEY,"
	  "  time_us   INTEGER NOT NULL,"
	  "  identity  TEXT NOT NULL,"
	  "  rule      TEXT,"
	  "  lim       TEXT,"
	  "  win       TEXT,"
	  "  threshold INTEGER,"
	  "  count     INTEGER,"
	  "  queue_id  TEXT"
	  ");"
	  "CREATE INDEX verdicts_time ON verdicts(time_us);"
	  "CREATE INDEX verdicts_identity ON verdicts(identity, time_us);"
	  "CREATE TABLE cursor ("
	  "  log         TEXT PRIMARY KEY,"
	  "  dev         INTEGER NOT NULL,"
	  "  ino         INTEGER NOT NULL,"
	  "  offset      INTEGER NOT NULL,"
	  "  fingerprint TEXT"
	  ");"
	  "CREATE TABLE blocks ("
	  "  identity TEXT PRIMARY KEY,"
	  "  rule     TEXT,"
	  "  since_us INTEGER NOT NULL,"
	  "  until_us INTEGER NOT NULL DEFAULT 0,"
	  "  count    INTEGER NOT NULL DEFAULT 0,"
	  "  state    TEXT NOT NULL"
	  ");"
	  "CREATE TABLE action_log ("
	  "  id       INTEGER PRIMARY KEY,"
	  "  time_us  INTEGER NOT NULL,"
	  "  identity TEXT NOT NULL,"
	  "  action   TEXT NOT NULL,"
	  "  argv     TEXT,"
	  "  status   INTEGER,"
	  "  outcome  TEXT"
	  ");"
	  "CREATE INDEX action_log_identity ON action_log(identity, time_us);",
	    /* absent values are never looked up: partial indexes skip them */
	    "CREATE INDEX messages_sasl ON messages(sasl)"
	    "  WHERE sasl IS NOT NULL;"
	    "CREATE INDEX messages_sender ON messages(sender)"
	    "  WHERE sender IS NOT NULL;"
	    "CREATE INDEX messages_client_ip ON messages(client_ip)"
	    "  WHERE client_ip IS NOT NULL;"
	    "CREATE INDEX messages_uid ON messages(uid)"
	    "  WHERE uid IS NOT NULL;" },
	/* 1 -> 2: the tracker's in-flight state, so a restart resumes it */
	{ "CREATE TABLE track_state ("
	  "  ns INTEGER NOT NULL,"
	  "  k  BLOB NOT NULL,"
	  "  v  BLOB NOT NULL,"
	  "  PRIMARY KEY (ns, k)"
	  ") WITHOUT ROWID;",
	    NULL },
	/* 2 -> 3: enforcement: removal of messages, holds, the job queue */
	{ "ALTER TABLE messages ADD COLUMN removed_us INTEGER;"
	  "CREATE TABLE holds ("
	  "  host         TEXT NOT NULL DEFAULT '',"
	  "  instance     TEXT NOT NULL DEFAULT '',"
	  "  queue_id     TEXT NOT NULL,"
	  "  identity     TEXT NOT NULL,"
	  "  requested_us INTEGER NOT NULL,"
	  "  changed_us   INTEGER,"
	  "  state        TEXT NOT NULL,"
	  "  PRIMARY KEY (host, instance, queue_id)"
	  ");"
	  "CREATE INDEX holds_identity ON holds(identity);"
	  "ALTER TABLE action_log ADD COLUMN stdin BLOB;"
	  "ALTER TABLE action_log ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;"
	  "ALTER TABLE action_log ADD COLUMN next_us INTEGER;"
	  "CREATE INDEX action_log_status ON action_log(status);",
	    "CREATE INDEX messages_queue_id ON messages(queue_id);" },
	/*
	 * 3 -> 4: a block's end in log time and when it ended (the limits'
	 * re-arm point), for re-arming and for held mail after a block
	 */
	{ "ALTER TABLE blocks ADD COLUMN ended_us INTEGER;"
	  "ALTER TABLE blocks ADD COLUMN log_until_us INTEGER;",
	    NULL },
	/*
	 * 4 -> 5: the journal as a source: its cursor is a string, kept
	 * beside the file's dev/ino/offset (0 for a journal), with the time
	 * of the entry or line it stands after
	 */
	{ "ALTER TABLE cursor ADD COLUMN journal TEXT;"
	  "ALTER TABLE cursor ADD COLUMN time_us INTEGER;",
	    NULL },
	/*
	 * 5 -> 6: delivery outcomes (issue 16): each message's delivered,
	 * deferred and bounced recipients, every bounce line (the bounces
	 * windows are rebuilt from them), the client IPs a block named
	 */
	{ "ALTER TABLE messages ADD COLUMN delivered INTEGER NOT NULL DEFAULT 0;"
	  "ALTER TABLE messages ADD COLUMN deferred INTEGER NOT NULL DEFAULT 0;"
	  "ALTER TABLE messages ADD COLUMN bounced INTEGER NOT NULL DEFAULT 0;"
	  "CREATE TABLE bounces ("
	  "  id        INTEGER PRIMARY KEY,"
	  "  time_us   INTEGER NOT NULL,"
	  "  host      TEXT,"
	  "  instance  TEXT,"
	  "  queue_id  TEXT,"
	  "  sasl      TEXT,"
	  "  sender    TEXT,"
	  "  client_ip TEXT,"
	  "  uid       INTEGER,"
	  "  n         INTEGER NOT NULL,"
	  "  msg_us    INTEGER NOT NULL"
	  ");"
	  "CREATE INDEX bounces_time ON bounces(time_us);"
	  "ALTER TABLE blocks ADD COLUMN ips TEXT;",
	    NULL },
	/*
	 * 6 -> 7: the cluster (store_cluster.c): the outbox of this node's
	 * messages, its block decisions not yet in PostgreSQL, the other
	 * nodes' messages by their PostgreSQL id (the fetch cursors are in
	 * track_state, namespace 100), indexed by identity as this node's
	 * are (status says who sent an identity's messages).  Terse, as the
	 * schema's text is read at every open.
	 */
	{ "CREATE TABLE outbox(id INTEGER PRIMARY KEY,time_us INT NOT NULL,host,instance,"
	  "queue_id,sasl,sender,client_ip,uid INT,nrcpt INT NOT NULL);"
	  "CREATE TABLE decisions(id INTEGER PRIMARY KEY,time_us INT NOT NULL,kind NOT NULL,"
	  "identity NOT NULL,rule,until_us INT NOT NULL,mode);"
	  "CREATE TABLE remote(id INTEGER PRIMARY KEY,node NOT NULL,time_us INT NOT NULL,host,"
	  "instance,queue_id,sasl,sender,client_ip,uid INT,nrcpt INT NOT NULL);"
	  "CREATE INDEX remote_time ON remote(time_us);",
	    "CREATE INDEX remote_sasl ON remote(sasl);CREATE INDEX remote_sender ON remote(sender);"
	    "CREATE INDEX remote_ip ON remote(client_ip);CREATE INDEX remote_uid ON remote(uid);" },
};

const int store_nmigrations = (int)(sizeof(store_migrations) / sizeof(store_migrations[0]));
