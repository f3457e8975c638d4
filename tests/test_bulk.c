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

Test(bulk, load_cut_short_gets_its_indexes_at_the_next_open)
{
	char *want = daemon_schema(), *got, err[512] = "";
	const char *path = sg_path(dir, "cut.db");
	struct store *s;
	pid_t pid;
	int st;

	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		s = open_rw(path);
		if (store_bulk_begin(s, err, sizeof(err)) != 1)
			_exit(1);
		fill(s, 5);
		_exit(0); /* killed mid-audit: no store_bulk_end, no close */
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	cr_assert(!has_index(path, "messages_sasl"), "the load was cut short without them");
	s = open_rw(path);
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
