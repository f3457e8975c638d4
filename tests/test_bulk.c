/*
 * NAME
 *	test_bulk - a state file filled in bulk (audit --state) ends with the
 *	schema a daemon's has, and status and explain read it
 * SUMMARY
 *	store_bulk_begin() drops a new file's look-up indexes while an audit
 *	fills it and store_bulk_end() makes them again.  What a user would
 *	notice if that went wrong: a state file whose sqlite_master differs
 *	from the one a daemon makes (status and explain slow, a daemon
 *	started on it later without its indexes), or explain and status
 *	telling something else.  The schema is compared text for text
 *	(type, name, table, SQL) with a file that store_open() made, as the
 *	daemon does; a load cut short (the process gone without closing)
 *	must get its indexes back at the next writable open; a file that
 *	already holds messages keeps its indexes throughout.
 *	store_bulk_finish() has the load's writer thread make the indexes
 *	while the audit prints its report: they must be there before
 *	store_bulk_end(), and a failure to make them (no room) must come
 *	back from store_bulk_end() with the text it had, the file left with
 *	none of them for the next writable open to make.  They are made with
 *	a rollback journal and the file goes back to its write-ahead log: it
 *	must end in WAL mode, also with another connection holding it open,
 *	and a load killed at any point while they are made must heal at the
 *	next writable open.
 *
 *	A bulk load also keeps a batch's messages back and writes each once
 *	with its delivery outcomes summed, where the daemon inserts it and
 *	UPDATEs it per outcome.  The scripts of bulk_cases run one sequence
 *	of store calls on a new file loaded in bulk and on one written the
 *	daemon's way, and the two must hold the same rows (messages with
 *	their ids, bounces) after every commit and at the end: outcomes
 *	after a commit, queue IDs reused (at the same time, later, on
 *	another host), messages without a queue ID or outside a batch, a
 *	rollback, more messages in a batch than are kept back.  An audit
 *	--state of a generated log must fill a new file with the rows it
 *	gives a file that is not new (no bulk load).
 *
 *	The daemon keeps a batch's messages back likewise (store_bulk_keep)
 *	in a file that holds rows already, and reads inside a batch: the
 *	same scripts, and some of its own (removals, a reused queue ID's
 *	older row, reads between the steps, prunes by itself and by another
 *	process, rows of an earlier run), must give the same rows after every
 *	commit and the same answers to the enforcement's reads (an
 *	identity's queued and newest messages, the count) as the same calls
 *	on a file without it.
 *
 *	A bulk load commits in a writer thread while the audit reads on.
 *	What it meets must reach the user as a commit in the reading thread
 *	did: a state file that cannot grow (the file size limit of `ulimit
 *	-f`, as a full disk) gives exit 3, "store: FILE: commit: ..." and no
 *	report, whether the batch that fails is the last (one batch) or an
 *	earlier one; a file at its max_page_count gives SQLITE_FULL at the
 *	commit or at the next call that waits for the writer.
 * UNTRUSTED INPUT
 *	None: fixed test data.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <sqlite3.h>

#include "runcmd.h"
#include "store/store.h"

static char dir[64];

static void
setup(void)
{
	cr_assert_eq(sg_lower_tmpdir(dir, sizeof(dir), "sg-bulk"), 0, "mkdtemp: %s",
	    strerror(errno));
	setenv("TZ", "UTC", 1);
	setenv("SG_NO_DEFAULT_CONF", "1", 1);
}

static void
teardown(void)
{
	sg_rm_tmpdir(dir);
}

TestSuite(bulk, .init = setup, .fini = teardown);

/* schema - every row of sqlite_master but the root pages, sorted, one a line (caller frees) */
static char *
schema(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char *out = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&out, &len);
	int i;

	cr_assert_not_null(fp);
	cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK, "%s", path);
	cr_assert_eq(sqlite3_prepare_v2(db,
			 "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name",
			 -1, &st, NULL),
	    SQLITE_OK, "%s", sqlite3_errmsg(db));
	while (sqlite3_step(st) == SQLITE_ROW)
		for (i = 0; i < 4; i++) {
			const unsigned char *t = sqlite3_column_text(st, i);

			fprintf(fp, "%s%c", t != NULL ? (const char *)t : "(null)",
			    i < 3 ? '|' : '\n');
		}
	sqlite3_finalize(st);
	sqlite3_close(db);
	fclose(fp);
	return (out);
}

/* has_index - whether the file's schema names index name */
static int
has_index(const char *path, const char *name)
{
	char *s = schema(path), want[128];
	int r;

	snprintf(want, sizeof(want), "index|%s|", name);
	r = strstr(s, want) != NULL;
	free(s);
	return (r);
}

/* open_rw - a writable store (as the daemon and audit --state open it) */
static struct store *
open_rw(const char *path)
{
	struct store *s = NULL;
	char err[512] = "";

	cr_assert_eq(store_open(&s, path, 0, err, sizeof(err)), 0, "%s", err);
	return (s);
}

/* fill - n messages of two logins, in one batch */
static void
fill(struct store *s, int n)
{
	char err[512] = "", qid[16];
	int i;

	cr_assert_eq(store_begin(s, err, sizeof(err)), 0, "%s", err);
	for (i = 0; i < n; i++) {
		struct store_msg m = { .time_us = 1000000 * (int64_t)(i + 1),
			.host = "mx",
			.instance = "postfix",
			.queue_id = qid,
			.sasl = i % 2 ? "alice@example.com" : "bob@example.com",
			.sender = "a@example.com",
			.client_ip = "192.0.2.1",
			.uid = -1,
			.nrcpt = 1 };

		snprintf(qid, sizeof(qid), "4A%04d", i);
		cr_assert_eq(store_add_message(s, &m, err, sizeof(err)), 0, "%s", err);
	}
	cr_assert_eq(store_commit(s, err, sizeof(err)), 0, "%s", err);
}

/* count_cb - sqlite3_exec() callback: the first column of the one row as an int */
static int
count_cb(void *ctx, int n, char **v, char **names)
{
	(void)names;
	*(int *)ctx = n > 0 && v[0] != NULL ? (int)strtol(v[0], NULL, 10) : -1;
	return (0);
}

/* daemon_schema - the schema of a file store_open() made and a daemon filled */
static char *
daemon_schema(void)
{
	struct store *s = open_rw(sg_path(dir, "daemon.db"));

	fill(s, 10);
	store_close(s);
	return (schema(sg_path(dir, "daemon.db")));
}

Test(bulk, loaded_file_has_every_index_of_a_daemons)
{
	char *want = daemon_schema(), *got, err[512] = "";
	const char *path = sg_path(dir, "bulk.db");
	struct store *s = open_rw(path);

	cr_assert_eq(store_bulk_begin(s, err, sizeof(err)), 1, "a new file is loaded in bulk: %s",
	    err);
	cr_expect(!has_index(path, "messages_sasl"), "no look-up index while it loads");
	fill(s, 10);
	cr_assert_eq(store_bulk_end(s, err, sizeof(err)), 0, "%s", err);
	store_close(s);
	got = schema(path);
	cr_expect_str_eq(got, want, "the schema after a bulk load:\n%s\na daemon's:\n%s", got,
	    want);
	free(got);
	free(want);
}

Test(bulk, close_without_end_makes_the_indexes)
{
	char *want = daemon_schema(), *got, err[512] = "";
	const char *path = sg_path(dir, "bulk.db");
	struct store *s = open_rw(path);

	cr_assert_eq(store_bulk_begin(s, err, sizeof(err)), 1, "%s", err);
	fill(s, 3);
	store_close(s);
	got = schema(path);
	cr_expect_str_eq(got, want, "%s", got);
	free(got);
	free(want);
}

/*
 * load_killed - in a child: a bulk load of n messages into path, then
 * (after_us >= 0) store_bulk_finish() and after_us microseconds; then
 * the process is gone, with no store_bulk_end() and no close
 */
static void
load_killed(const char *path, int n, int after_us)
{
	char err[512] = "";
	struct store *s;
	pid_t pid;
	int st;

	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		s = open_rw(path);
		if (store_bulk_begin(s, err, sizeof(err)) != 1)
			_exit(1);
		fill(s, n);
		if (after_us >= 0 && (store_bulk_wait(s, err, sizeof(err)) != 0 ||
					 store_bulk_finish(s, err, sizeof(err)) != 0))
			_exit(2);
		if (after_us > 0)
			usleep((useconds_t)after_us);
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the load: %d", st);
}

Test(bulk, load_cut_short_gets_its_indexes_at_the_next_open)
{
	char *want = daemon_schema(), *got;
	const char *path = sg_path(dir, "cut.db");
	struct store *s;

	load_killed(path, 5, -1); /* killed mid-audit */
	cr_assert(!has_index(path, "messages_sasl"), "the load was cut short without them");
	s = open_rw(path);
	store_close(s);
	got = schema(path);
	cr_expect_str_eq(got, want, "after the next writable open:\n%s", got);
	free(got);
	free(want);
}

/* journal_mode - the journal mode a new connection finds in the file (caller frees) */
static char *
journal_mode(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char *mode = NULL;

	cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK, "%s", path);
	cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		mode = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	cr_assert_not_null(mode);
	return (mode);
}

Test(bulk, finish_makes_the_indexes_before_end)
{
	char *want = daemon_schema(), *got, *mode, err[512] = "";
	const char *path = sg_path(dir, "bulk.db");
	struct store *s = open_rw(path);

	cr_assert_eq(store_bulk_begin(s, err, sizeof(err)), 1, "%s", err);
	fill(s, 10);
	cr_assert_eq(store_bulk_finish(s, err, sizeof(err)), 0, "%s", err);
	/* a read waits for the writer thread, which has made them by then */
	cr_expect_eq(store_count_messages(s), 10, "the messages while the indexes are made");
	cr_expect(has_index(path, "messages_sasl"), "made by the writer thread, before the end");
	cr_assert_eq(store_bulk_end(s, err, sizeof(err)), 0, "%s", err);
	store_close(s);
	got = schema(path);
	cr_expect_str_eq(got, want, "after finish and end:\n%s\na daemon's:\n%s", got, want);
	mode = journal_mode(path);
	cr_expect_str_eq(mode, "wal", "the file's journal after the load");
	free(mode);
	free(got);
	free(want);
}

Test(bulk, indexes_made_while_another_connection_has_the_file_open)
{
	char *want = daemon_schema(), *got, *mode, err[512] = "";
	const char *path = sg_path(dir, "bulk.db");
	struct store *s = open_rw(path), *r;

	cr_assert_eq(store_bulk_begin(s, err, sizeof(err)), 1, "%s", err);
	fill(s, 100);
	cr_assert_eq(store_bulk_wait(s, err, sizeof(err)), 0, "%s", err);
	/* status has the file open meanwhile (the journal may or may not change) */
	cr_assert_eq(store_open(&r, path, 1, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(store_count_messages(r), 100);
	cr_assert_eq(store_bulk_finish(s, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(store_bulk_end(s, err, sizeof(err)), 0, "%s", err);
	cr_expect(has_index(path, "messages_sasl"), "made all the same");
	cr_expect_eq(store_count_messages(r), 100);
	store_close(r);
	store_close(s);
	got = schema(path);
	cr_expect_str_eq(got, want, "%s", got);
	mode = journal_mode(path);
	cr_expect_str_eq(mode, "wal");
	free(mode);
	free(got);
	free(want);
}

/*
 * A load killed while the writer thread makes the indexes (the process
 * gone a while after store_bulk_finish(), with no store_bulk_end() and
 * no close: the journal switched or not, the indexes begun, made or
 * not): the next writable open must find every committed message and
 * end with a daemon's schema and its write-ahead log.
 */
ParameterizedTestParameters(bulk, killed_while_indexing_heals)
{
	static int after_us[] = { 0, 300, 1000, 3000, 10000, 100000 };

	return (cr_make_param_array(int, after_us, sizeof(after_us) / sizeof(after_us[0])));
}

ParameterizedTest(int *after_us, bulk, killed_while_indexing_heals)
{
	char *want = daemon_schema(), *got, *mode;
	const char *path = sg_path(dir, "kill.db");
	struct store *s;

	load_killed(path, 3000, *after_us); /* while the writer thread may be making them */
	s = open_rw(path);
	cr_expect_eq(store_count_messages(s), 3000, "killed %d us after finish", *after_us);
	store_close(s);
	got = schema(path);
	cr_expect_str_eq(got, want, "killed %d us after finish, then opened:\n%s", *after_us, got);
	mode = journal_mode(path);
	cr_expect_str_eq(mode, "wal", "killed %d us after finish", *after_us);
	free(mode);
	free(got);
	free(want);
}

Test(bulk, finish_reports_the_indexes_error_at_end_and_leaves_none)
{
	char *want = daemon_schema(), *got, err[512] = "", full[600];
	const char *path = sg_path(dir, "bulk.db");
	struct store *s = open_rw(path);
	sqlite3 *db;
	int pages = 0, page = 0;

	cr_assert_eq(store_bulk_begin(s, err, sizeof(err)), 1, "%s", err);
	fill(s, 2000);
	cr_assert_eq(store_bulk_wait(s, err, sizeof(err)), 0, "%s", err);
	/* the file may not grow by a page more: no room for the indexes */
	cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "PRAGMA page_count", count_cb, &pages, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "PRAGMA page_size", count_cb, &page, NULL), SQLITE_OK);
	sqlite3_close(db);
	cr_assert_eq(store_limit_size(s, (int64_t)pages * page, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(store_bulk_finish(s, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(store_bulk_end(s, err, sizeof(err)), -1, "no room for the indexes");
	snprintf(full, sizeof(full), "%s: create indexes: database or disk is full (SQLITE_FULL)",
	    path);
	cr_expect_str_eq(err, full);
	cr_expect(!has_index(path, "messages_sasl") && !has_index(path, "messages_queue_id"),
	    "all of the indexes or none");
	store_close(s);
	s = open_rw(path); /* with room again: the next writable open makes them */
	store_close(s);
	got = schema(path);
	cr_expect_str_eq(got, want, "after the next writable open:\n%s", got);
	free(got);
	free(want);
}

Test(bulk, a_file_with_messages_keeps_its_indexes)
{
	char *want = daemon_schema(), *got, err[512] = "";
	const char *path = sg_path(dir, "daemon.db");
	struct store *s = open_rw(path);

	cr_expect_eq(store_bulk_begin(s, err, sizeof(err)), 0, "not for a file with messages: %s",
	    err);
	cr_expect(has_index(path, "messages_sasl"));
	fill(s, 2);
	cr_expect_eq(store_bulk_end(s, err, sizeof(err)), 0, "%s", err);
	store_close(s);
	got = schema(path);
	cr_expect_str_eq(got, want, "%s", got);
	free(got);
	free(want);
}

#define H "2024-03-01T10:"
static const char log_a[] =
    H "00:00.000000+00:00 mx postfix/submission/smtpd[101]: 4AAA01: "
      "client=home.example.net[192.0.2.10], sasl_method=PLAIN, sasl_username=alice@example.com\n" H
      "00:01.000000+00:00 mx postfix/qmgr[50]: 4AAA01: from=<alice@example.com>, size=1000, "
      "nrcpt=2 (queue active)\n" H "00:02.000000+00:00 mx postfix/smtp[60]: 4AAA01: "
				   "to=<x@example.org>, relay=mx.example.org[198.51.100.1]:25, "
				   "delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)\n" H
      "05:00.000000+00:00 mx postfix/submission/smtpd[102]: 4AAA02: "
      "client=home.example.net[192.0.2.10], sasl_method=PLAIN, sasl_username=alice@example.com\n" H
      "05:01.000000+00:00 mx postfix/qmgr[50]: 4AAA02: from=<alice@example.com>, size=1000, "
      "nrcpt=1 (queue active)\n";

/* put - write data into DIR/name */
static void
put(const char *name, const char *data)
{
	FILE *fp = fopen(sg_path(dir, name), "w");

	cr_assert_not_null(fp);
	fputs(data, fp);
	cr_assert_eq(fclose(fp), 0);
}

Test(bulk, audit_state_file_reads_in_status_and_explain)
{
	char conf[1024], *want = daemon_schema(), *got;
	const char *state = sg_path(dir, "audit.db");
	const char *cf = sg_path(dir, "agent.conf");
	struct cmdres r;

	snprintf(conf, sizeof(conf),
	    "[agent]\nstate = %s\nsocket = %s/ctl.sock\n"
	    "[limit submission]\nby = sasl\nmessages = 1/1h\n",
	    state, dir);
	put("agent.conf", conf);
	put("a.log", log_a);
	{
		const char *argv[] = { sg_bin(), "audit", "-c", cf, "--state", state,
			sg_path(dir, "a.log"), NULL };

		r = runcmd(argv, NULL);
		cr_expect_eq(r.status, 1, "the limit is crossed: %s", r.err);
		cmdres_free(&r);
	}
	got = schema(state);
	cr_expect_str_eq(got, want, "the audit's state file:\n%s", got);
	free(got);
	free(want);
	{
		const char *argv[] = { sg_bin(), "explain", "-c", cf, "sasl:alice@example.com",
			NULL };

		r = runcmd(argv, NULL);
		cr_expect_eq(r.status, 0, "%s", r.err);
		cr_expect_not_null(strstr(r.out, "messages 2 > 1 in 1h, crossed by 4AAA02"), "%s",
		    r.out);
		cr_expect_not_null(strstr(r.out, "delivered 1, deferred 0"), "%s", r.out);
		cr_expect_not_null(strstr(r.out, "4AAA01           2 rcpt  queued"), "%s", r.out);
		cmdres_free(&r);
	}
	{
		const char *argv[] = { sg_bin(), "status", "-c", cf, "--json", NULL };

		r = runcmd(argv, NULL);
		cr_expect_eq(r.status, 0, "%s", r.err);
		cr_expect_not_null(strstr(r.out, "\"last_log_time\": \"2024-03-01T10:05:01Z\""),
		    "%s", r.out);
		cmdres_free(&r);
	}
}

/* ---------------------------------- the rows of a bulk load and the daemon's */

/* rows - messages (with ids) and bounces of the file at path, one row a line (caller frees) */
static char *
rows(const char *path)
{
	static const char *const q[] = { "SELECT * FROM messages ORDER BY id",
		"SELECT * FROM bounces ORDER BY id", "SELECT * FROM verdicts ORDER BY id" };
	sqlite3 *db = NULL;
	char *out = NULL;
	size_t len = 0, k;
	FILE *fp = open_memstream(&out, &len);
	int i;

	cr_assert_not_null(fp);
	cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK, "%s", path);
	for (k = 0; k < sizeof(q) / sizeof(q[0]); k++) {
		sqlite3_stmt *st = NULL;

		cr_assert_eq(sqlite3_prepare_v2(db, q[k], -1, &st, NULL), SQLITE_OK, "%s",
		    sqlite3_errmsg(db));
		fprintf(fp, "%s\n", q[k]);
		while (sqlite3_step(st) == SQLITE_ROW)
			for (i = 0; i < sqlite3_column_count(st); i++) {
				const unsigned char *t = sqlite3_column_text(st, i);

				fprintf(fp, "%s%c", t != NULL ? (const char *)t : "(null)",
				    i + 1 < sqlite3_column_count(st) ? '|' : '\n');
			}
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	fclose(fp);
	return (out);
}

/*
 * One step of a script: b begin, c commit, r rollback, m a message, o an
 * outcome of the message (qid, at, host) with status st (0 sent, 1
 * deferred, 2 bounced), x the message's queue file removed at `at`, p a
 * prune of the messages older than `at`, q a read (the daemon's batches:
 * what the enforcement reads inside a batch); only the daemon's: k its
 * batches begin (store_bulk_keep), d another process prunes before `at`.  at in seconds; qid "" for none; host "" is
 * "mx", "-" none.  (Arrays, not pointers: Criterion copies the cases
 * into the process of the test.)
 */
struct step {
	char op;
	char qid[12];
	int at;
	int st;
	char host[8];
};

#define STEPS_MAX 16
#define B { 'b', "", 0, 0, "" }
#define C { 'c', "", 0, 0, "" }
#define R { 'r', "", 0, 0, "" }
#define M(q, t) { 'm', q, t, 0, "" }
#define MH(q, t, h) { 'm', q, t, 0, h }
#define O(q, t, s) { 'o', q, t, s, "" }
#define OH(q, t, s, h) { 'o', q, t, s, h }
#define X(q, t) { 'x', q, t, 0, "" }
#define P(t) { 'p', "", t, 0, "" }
#define Q { 'q', "", 0, 0, "" }
#define K { 'k', "", 0, 0, "" }
#define D(t) { 'd', "", t, 0, "" }

struct bulk_case {
	char name[64];
	struct step s[STEPS_MAX];
};

/* clang-format off */
static const struct bulk_case bulk_cases[] = {
	{ "outcomes inside the batch",
	    { B, M("A1", 1), O("A1", 1, 0), O("A1", 1, 0), O("A1", 1, 2), O("A1", 1, 1), C } },
	{ "outcomes after the commit",
	    { B, M("A1", 1), M("B2", 2), O("A1", 1, 0), C, B, O("A1", 1, 1), O("B2", 2, 2),
	      M("C3", 3), O("C3", 3, 0), C, B, O("C3", 3, 2), C } },
	{ "never removed, never delivered", { B, M("A1", 1), M("B2", 2), C } },
	{ "a queue ID reused at the same time, in the batch",
	    { B, M("A1", 1), O("A1", 1, 0), M("A1", 1), O("A1", 1, 2), C, B, O("A1", 1, 1), C } },
	{ "a queue ID reused at the same time, after the commit",
	    { B, M("A1", 1), O("A1", 1, 0), C, B, M("A1", 1), O("A1", 1, 2), C } },
	{ "a queue ID reused later",
	    { B, M("A1", 1), O("A1", 1, 0), M("A1", 5), O("A1", 5, 1), O("A1", 1, 2),
	      O("A1", 5, 0), C } },
	{ "the same queue ID on two hosts",
	    { B, MH("A1", 1, "mx1"), MH("A1", 1, "mx2"), OH("A1", 1, 2, "mx2"),
	      OH("A1", 1, 0, "mx1"), OH("A1", 1, 0, "-"), C } },
	{ "no host", { B, MH("A1", 1, "-"), OH("A1", 1, 0, "-"), OH("A1", 1, 0, "mx"), C } },
	{ "an older message after newer ones were written",
	    { B, M("A1", 10), C, B, M("B2", 5), O("B2", 5, 0), M("C3", 10), O("C3", 10, 2), C } },
	{ "no queue ID", { B, M("A1", 1), M("", 2), O("", 2, 0), O("A1", 1, 0), C } },
	{ "outside a batch",
	    { M("A1", 1), O("A1", 1, 0), B, M("B2", 2), O("A1", 1, 2), C, M("C3", 3),
	      O("B2", 2, 0) } },
	{ "an outcome before its message", { B, O("A1", 1, 0), M("A1", 1), O("A1", 1, 2), C } },
	{ "a rollback",
	    { B, M("A1", 1), C, B, M("B2", 2), O("B2", 2, 0), O("A1", 1, 0), R, B, M("C3", 3),
	      O("C3", 3, 2), C } },
};
/* clang-format on */

/* step_msg - the message a step names */
static struct store_msg
step_msg(const struct step *st)
{
	struct store_msg m = { .time_us = 1000000 * (int64_t)st->at,
		.host = st->host[0] == '\0' ? "mx" : strcmp(st->host, "-") == 0 ? NULL : st->host,
		.instance = "postfix",
		.queue_id = st->qid,
		.sasl = "alice@example.com",
		.sender = "alice@example.com",
		.client_ip = "192.0.2.1",
		.uid = -1,
		.nrcpt = 2 };

	return (m);
}

/* run_step - one step on s; after a commit, the file's rows are those of the other file */
static void
run_step(struct store *s, const struct step *st)
{
	char err[512] = "";
	struct store_msg m = step_msg(st);
	struct store_outcome o = { .time_us = m.time_us + 1, .status = st->st, .n = 1, .msg = &m };

	switch (st->op) {
	case 'b':
		cr_assert_eq(store_begin(s, err, sizeof(err)), 0, "%s", err);
		break;
	case 'c':
		cr_assert_eq(store_commit(s, err, sizeof(err)), 0, "%s", err);
		break;
	case 'r':
		cr_assert_eq(store_rollback(s), 0);
		break;
	case 'm':
		cr_assert_eq(store_add_message(s, &m, err, sizeof(err)), 0, "%s", err);
		break;
	case 'x':
		cr_assert_eq(store_mark_removed(s, m.host, m.instance, m.queue_id, m.time_us, err,
				 sizeof(err)),
		    0, "%s", err);
		break;
	case 'p':
		cr_assert_eq(store_prune(s, m.time_us, err, sizeof(err)), 0, "%s", err);
		break;
	case 'q':
		break; /* a read: the caller compares */
	default:
		cr_assert_eq(store_add_outcome(s, &o, err, sizeof(err)), 0, "%s", err);
		break;
	}
}

/*
 * first_diff - the first line where a and b differ, and its number, into
 * out (a failure message the size of a whole file would not reach the
 * runner)
 */
static void
first_diff(const char *a, const char *b, char *out, size_t size)
{
	size_t i = 0, line = 1, start = 0;

	while (a[i] != '\0' && a[i] == b[i]) {
		if (a[i] == '\n') {
			line++;
			start = i + 1;
		}
		i++;
	}
	snprintf(out, size, "line %zu:\n  loaded in bulk:    %.*s\n  the daemon's way: %.*s", line,
	    (int)strcspn(a + start, "\n"), a + start, (int)strcspn(b + start, "\n"), b + start);
}

/* same_rows - the rows of the two files are the same */
static void
same_rows(const char *what, const char *step, const char *bulk, const char *plain)
{
	char *a = rows(bulk), *b = rows(plain), d[1024];

	if (strcmp(a, b) != 0) {
		first_diff(a, b, d, sizeof(d));
		cr_expect_fail("%s, %s: the rows differ, first at %s", what, step, d);
	}
	free(a);
	free(b);
}

ParameterizedTestParameters(bulk, rows_as_the_daemons)
{
	return cr_make_param_array(struct bulk_case, bulk_cases,
	    sizeof(bulk_cases) / sizeof(bulk_cases[0]));
}

ParameterizedTest(const struct bulk_case *c, bulk, rows_as_the_daemons)
{
	char bp[256], pp[256], err[512] = "", at[32];
	struct store *b, *p;
	int i;

	snprintf(bp, sizeof(bp), "%s", sg_path(dir, "bulk.db"));
	snprintf(pp, sizeof(pp), "%s", sg_path(dir, "plain.db"));
	b = open_rw(bp);
	p = open_rw(pp);
	cr_assert_eq(store_bulk_begin(b, err, sizeof(err)), 1, "%s", err);
	for (i = 0; i < STEPS_MAX && c->s[i].op != 0; i++) {
		run_step(b, &c->s[i]);
		run_step(p, &c->s[i]);
		snprintf(at, sizeof(at), "after step %d", i + 1);
		if (c->s[i].op != 'c')
			continue;
		/* the commit is the writer thread's: the file has it once it is done */
		cr_assert_eq(store_bulk_wait(b, err, sizeof(err)), 0, "%s", err);
		same_rows(c->name, at, bp, pp);
	}
	cr_assert_eq(store_bulk_end(b, err, sizeof(err)), 0, "%s", err);
	store_close(b);
	store_close(p);
	same_rows(c->name, "at the end", bp, pp);
}

/* ------------------------------------------------ the daemon's batches */

/* clang-format off */
static const struct bulk_case keep_cases[] = {
	{ "removed inside the batch",
	    { B, M("A1", 1), O("A1", 1, 0), X("A1", 2), O("A1", 1, 2), X("A1", 3), C } },
	{ "removed: a reused queue ID's older row too",
	    { B, M("A1", 1), C, B, M("A1", 5), X("A1", 6), O("A1", 5, 0), C, B, M("A1", 9),
	      X("A1", 9), C } },
	{ "reads inside the batch see its messages",
	    { B, M("A1", 1), M("B2", 2), Q, O("A1", 1, 2), O("B2", 2, 0), M("C3", 3), Q,
	      X("B2", 4), Q, O("C3", 3, 0), C, Q } },
	{ "a prune between batches empties the table",
	    { B, M("A1", 1), M("B2", 2), M("C3", 30), C, P(31), B, M("D4", 40), O("D4", 40, 0),
	      Q, C } },
	{ "another process prunes between batches",
	    { K, B, M("A1", 1), M("B2", 2), M("C3", 30), C, D(31), B, M("D4", 40),
	      O("D4", 40, 0), C } },
	{ "rows of an earlier run, a queue ID reused at the same time",
	    { B, M("A1", 1), O("A1", 1, 0), C, K, B, M("A1", 1), O("A1", 1, 2), C } },
	{ "a prune inside the batch",
	    { B, M("A1", 1), M("B2", 50), O("A1", 1, 0), P(10), M("C3", 60), O("C3", 60, 1), Q,
	      C } },
};
/* clang-format on */

/* Text that reads() writes. */
struct rd {
	char *p;
	size_t left;
};

/* rd_msg - one message read: queue ID, time, removed */
static int
rd_msg(void *ctx, const struct store_msg *m)
{
	struct rd *r = ctx;
	int n = snprintf(r->p, r->left, " %s@%lld/%lld", m->queue_id ? m->queue_id : "-",
	    (long long)m->time_us, (long long)m->removed_us);

	cr_assert(n > 0 && (size_t)n < r->left);
	r->p += n;
	r->left -= (size_t)n;
	return 0;
}

/* reads - what the enforcement and explain read of alice: her queued and newest messages */
static void
reads(struct store *s, char *out, size_t size)
{
	struct rd r = { out, size };
	char err[512] = "";

	rd_msg(&r, &(struct store_msg){ .queue_id = "count", .time_us = store_count_messages(s) });
	cr_assert_eq(store_each_queued(s, "sasl:alice@example.com", INT64_MIN, rd_msg, &r, err,
			 sizeof(err)),
	    0, "%s", err);
	rd_msg(&r, &(struct store_msg){ .queue_id = "recent" });
	cr_assert_eq(
	    store_each_recent(s, "sasl:alice@example.com", 2, rd_msg, &r, err, sizeof(err)), 0,
	    "%s", err);
}

ParameterizedTestParameters(bulk, daemon_batches_rows_and_reads)
{
	static struct bulk_case all[sizeof(bulk_cases) / sizeof(bulk_cases[0]) +
	    sizeof(keep_cases) / sizeof(keep_cases[0])];
	size_t n = sizeof(bulk_cases) / sizeof(bulk_cases[0]);

	memcpy(all, bulk_cases, sizeof(bulk_cases));
	memcpy(all + n, keep_cases, sizeof(keep_cases));
	return cr_make_param_array(struct bulk_case, all, sizeof(all) / sizeof(all[0]));
}

/*
 * The daemon's batches (store_bulk_keep): the same rows after every
 * commit as the same calls without it, and inside a batch the same
 * answers to what the enforcement reads
 */
ParameterizedTest(const struct bulk_case *c, bulk, daemon_batches_rows_and_reads)
{
	char kp[256], pp[256], err[512] = "", at[32], rk[2048], rp[2048];
	struct store *k, *p;
	int i;

	snprintf(kp, sizeof(kp), "%s", sg_path(dir, "keep.db"));
	snprintf(pp, sizeof(pp), "%s", sg_path(dir, "plain.db"));
	k = open_rw(kp);
	p = open_rw(pp);
	for (i = 0; i < STEPS_MAX && c->s[i].op != 0 && c->s[i].op != 'k'; i++)
		;
	if (i == STEPS_MAX || c->s[i].op != 'k') /* from the start, unless a step says when */
		cr_assert_eq(store_bulk_keep(k, err, sizeof(err)), 0, "%s", err);
	for (i = 0; i < STEPS_MAX && c->s[i].op != 0; i++) {
		snprintf(at, sizeof(at), "after step %d", i + 1);
		if (c->s[i].op == 'k') {
			cr_assert_eq(store_bulk_keep(k, err, sizeof(err)), 0, "%s", err);
			continue;
		}
		if (c->s[i].op == 'd') { /* another process: its own connection */
			struct store *o = open_rw(kp), *o2 = open_rw(pp);
			struct step pr = P(c->s[i].at);

			run_step(o, &pr);
			run_step(o2, &pr);
			store_close(o);
			store_close(o2);
			continue;
		}
		run_step(k, &c->s[i]);
		run_step(p, &c->s[i]);
		if (c->s[i].op == 'q') {
			reads(k, rk, sizeof(rk));
			reads(p, rp, sizeof(rp));
			cr_expect_str_eq(rk, rp, "%s, %s: the reads differ", c->name, at);
		} else if (c->s[i].op == 'c')
			same_rows(c->name, at, kp, pp);
	}
	store_close(k);
	store_close(p);
	same_rows(c->name, "at the end", kp, pp);
}

Test(bulk, more_messages_in_a_batch_than_are_kept_back)
{
	char bp[256], pp[256], err[512] = "";
	struct store *s[2];
	int i, k;

	snprintf(bp, sizeof(bp), "%s", sg_path(dir, "bulk.db"));
	snprintf(pp, sizeof(pp), "%s", sg_path(dir, "plain.db"));
	s[0] = open_rw(bp);
	s[1] = open_rw(pp);
	cr_assert_eq(store_bulk_begin(s[0], err, sizeof(err)), 1, "%s", err);
	for (k = 0; k < 2; k++) {
		cr_assert_eq(store_begin(s[k], err, sizeof(err)), 0, "%s", err);
		/* 6000 messages, each delivered 3000 messages later: more wait than are kept */
		for (i = 0; i < 9000; i++) {
			struct step st = M("", i + 1);

			if (i < 6000) {
				snprintf(st.qid, sizeof(st.qid), "Q%05d", i % 100000);
				run_step(s[k], &st);
			}
			if (i >= 3000) {
				st = (struct step)O("", i - 3000 + 1, i % 7 == 0 ? 2 : 0);
				snprintf(st.qid, sizeof(st.qid), "Q%05d", (i - 3000) % 100000);
				run_step(s[k], &st);
			}
		}
		cr_assert_eq(store_commit(s[k], err, sizeof(err)), 0, "%s", err);
	}
	cr_assert_eq(store_bulk_end(s[0], err, sizeof(err)), 0, "%s", err);
	store_close(s[0]);
	store_close(s[1]);
	same_rows("6000 messages in one batch", "at the end", bp, pp);
}

Test(bulk, a_batch_keeps_its_messages_back_until_it_commits)
{
	char err[512] = "";
	const char *path = sg_path(dir, "bulk.db");
	struct store *s = open_rw(path);
	const struct step m = M("A1", 1), o = O("A1", 1, 0);

	cr_assert_eq(store_bulk_begin(s, err, sizeof(err)), 1, "%s", err);
	cr_assert_eq(store_begin(s, err, sizeof(err)), 0, "%s", err);
	run_step(s, &m);
	run_step(s, &o);
	cr_expect_eq(store_count_messages(s), 0, "kept back, not written row by row");
	cr_assert_eq(store_commit(s, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(store_count_messages(s), 1, "written at the commit");
	cr_assert_eq(store_bulk_end(s, err, sizeof(err)), 0, "%s", err);
	store_close(s);
}

/* audit_state - `audit --format json -c bench/compare.conf --state db log`: its report (caller frees) */
static char *
audit_state(const char *db, const char *log)
{
	const char *argv[] = { sg_bin(), "audit", "--format", "json", "-c", "bench/compare.conf",
		"--state", db, log, NULL };
	struct cmdres r = runcmd(argv, NULL);
	char *out;

	cr_assert(r.status == 0 || r.status == 1, "audit --state %s exited %d: %s", db, r.status,
	    r.err);
	out = r.out;
	r.out = NULL;
	cmdres_free(&r);
	return (out);
}

Test(bulk, audit_state_new_file_has_the_rows_of_a_file_not_new)
{
	char gen[512], err[512] = "", *a, *b, *ra;
	const char *log = sg_path(dir, "g.log"), *truth = sg_path(dir, "g.truth");
	const char *tools = getenv("SG_TOOLS");
	char fresh[256], old[256];
	struct store *s;
	struct cmdres r;

	snprintf(gen, sizeof(gen), "%s/loggen", tools != NULL && *tools ? tools : "build/bench");
	{
		/* 60,000 lines: about 4,000 messages and 7,000 outcomes, two commits */
		const char *argv[] = { gen, "--lines", "60000", "--seed", "5", "--format",
			"rfc3339", "--out", log, "--truth", truth, NULL };

		r = runcmd(argv, NULL);
		cr_assert_eq(r.status, 0, "%s: %s", gen, r.err);
		cmdres_free(&r);
	}
	snprintf(fresh, sizeof(fresh), "%s", sg_path(dir, "fresh.db"));
	snprintf(old, sizeof(old), "%s", sg_path(dir, "old.db"));
	/* a file that holds another node's message is not loaded in bulk */
	s = open_rw(old);
	{
		const struct store_cmsg m = { .id = 1, .node = "other", .m = { .time_us = 1 } };

		cr_assert_eq(store_add_remote(s, &m, err, sizeof(err)), 1, "%s", err);
	}
	store_close(s);
	a = audit_state(fresh, log);
	b = audit_state(old, log);
	cr_expect_str_eq(a, b, "the reports differ");
	ra = rows(fresh);
	cr_expect_gt(strlen(ra), 100000, "messages were stored");
	same_rows("audit --state, a new file and one not new", "at the end", fresh, old);
	free(a);
	free(b);
	free(ra);
}

/* ------------------------------------------ errors of the writer thread */

/* gen_log - a loggen log of n lines at path */
static void
gen_log(const char *path, const char *lines)
{
	const char *tools = getenv("SG_TOOLS");
	char gen[512], truth[256];
	struct cmdres r;

	snprintf(gen, sizeof(gen), "%s/loggen", tools != NULL && *tools ? tools : "build/bench");
	cr_assert_lt((size_t)snprintf(truth, sizeof(truth), "%s.truth", path), sizeof(truth));
	{
		const char *argv[] = { gen, "--lines", lines, "--seed", "5", "--format", "rfc3339",
			"--out", path, "--truth", truth, NULL };

		r = runcmd(argv, NULL);
		cr_assert_eq(r.status, 0, "%s: %s", gen, r.err);
		cmdres_free(&r);
	}
}

Test(bulk, a_state_file_that_cannot_grow_fails_the_audit_as_before)
{
	/* 15,000 lines: one batch, its commit the last; 60,000: the first of several fails */
	static const char *const lines[] = { "15000", "60000" };
	char log[256], db[256], want[512];
	size_t i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		snprintf(log, sizeof(log), "%s", sg_path(dir, "full.log"));
		snprintf(db, sizeof(db), "%s/full%zu.db", dir, i);
		gen_log(log, lines[i]);
		{
			/* 600 blocks of 512 bytes (dash): the schema fits, the first commit not */
			const char *argv[] = { "/bin/sh", "-c",
				"trap '' XFSZ; ulimit -f 600; exec \"$0\" \"$@\"", sg_bin(),
				"audit", "--format", "json", "-c", "bench/compare.conf", "--state",
				db, log, NULL };
			struct cmdres r = runcmd(argv, NULL);

			snprintf(want, sizeof(want),
			    "sendguard: audit: store: %s: commit: disk I/O error\n", db);
			cr_expect_eq(r.status, 3, "%s lines: exit %d: %s", lines[i], r.status,
			    r.err);
			cr_expect_str_eq(r.err, want, "%s lines", lines[i]);
			cr_expect_str_eq(r.out, "", "%s lines: a report after the error", lines[i]);
			cmdres_free(&r);
		}
	}
}

Test(bulk, a_full_file_is_reported_at_the_commit_or_the_next_wait)
{
	char err[512] = "", full[512] = "";
	const char *path = sg_path(dir, "bulk.db");
	struct store *s = open_rw(path);
	int i, k, rc = 0;

	cr_assert_eq(store_bulk_begin(s, err, sizeof(err)), 1, "%s", err);
	cr_assert_eq(store_limit_size(s, 64 * 1024, err, sizeof(err)), 0, "%s", err);
	for (k = 0; k < 20 && rc == 0; k++) {
		rc = store_begin(s, err, sizeof(err));
		for (i = 0; i < 1000 && rc == 0; i++) {
			struct step st = M("", k * 1000 + i + 1);

			snprintf(st.qid, sizeof(st.qid), "Q%05d", k * 1000 + i);
			run_step(s, &st);
		}
		if (rc == 0)
			rc = store_commit(s, err, sizeof(err));
	}
	if (rc == 0)
		rc = store_bulk_wait(s, err, sizeof(err));
	cr_expect_eq(rc, -1, "20,000 messages in 64 KiB");
	snprintf(full, sizeof(full), "%s: add message: database or disk is full (SQLITE_FULL)",
	    path);
	cr_expect_str_eq(err, full);
	cr_expect_eq(store_bulk_wait(s, err, sizeof(err)), -1, "the error stays");
	cr_expect_str_eq(err, full);
	cr_expect_eq(store_rollback(s), 0);
	store_close(s);
}
