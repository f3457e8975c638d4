/*
 * NAME
 *	test_store - Criterion tests of store/ (store.c, store_count.c,
 *	store_enforce.c)
 * SUMMARY
 *	Opening memory and file databases, schema migration and refusal of a
 *	newer schema, read-only stores, message/verdict/cursor round trips,
 *	hostile strings stored byte-exact, batches that commit or roll back, a
 *	full database, pruning, and a timing of 200k inserts (printed to
 *	stderr, not asserted).  Every walker (store_each_*, store_kv_each,
 *	store_get_job) in one table: its rows in order, a callback's non-zero
 *	return stopping the walk and coming back, and on a damaged file an
 *	error that names the file.  File databases live in a mkdtemp directory that
 *	each test removes.  The schema version is read and forged through the
 *	SQLite file header (offset 60, big-endian), so this file needs no
 *	sqlite3.h.
 * UNTRUSTED INPUT
 *	None; the hostile strings are fixed test data.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <sqlite3.h>

#include "store/store.h"

static char tmpdir[64];
static char dbpath[128];

/* mk_tmpdir - per-test directory for file databases */
static void
mk_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sg-store-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
	snprintf(dbpath, sizeof(dbpath), "%s/state.db", tmpdir);
}

/* rm_tmpdir - remove the directory and whatever SQLite left in it */
static void
rm_tmpdir(void)
{
	char	p[512];
	struct dirent *d;
	DIR    *dir;

	if (tmpdir[0] == 0 || (dir = opendir(tmpdir)) == NULL)
		return;
	while ((d = readdir(dir)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", tmpdir, d->d_name);
		(void) unlink(p);
	}
	closedir(dir);
	(void) rmdir(tmpdir);
}

/* open_ok - open a store or fail the test with the store's message */
static struct store *
open_ok(const char *path, int readonly)
{
	struct store *s = NULL;
	char	err[512] = "";

	cr_assert_eq(store_open(&s, path, readonly, err, sizeof(err)), 0,
		     "store_open(%s, ro=%d): %s", path ? path : "NULL", readonly,
		     err);
	cr_assert_not_null(s);
	return s;
}

/* header_version - user_version from a closed database file's header */
static long
header_version(const char *path)
{
	unsigned char b[4];
	int	fd;

	cr_assert((fd = open(path, O_RDONLY)) >= 0, "%s: %s", path,
		  strerror(errno));
	cr_assert_eq(pread(fd, b, 4, 60), 4);
	close(fd);
	return (long) ((uint32_t) b[0] << 24 | (uint32_t) b[1] << 16
		       | (uint32_t) b[2] << 8 | b[3]);
}

/* forge_version - write user_version into a closed database file's header */
static void
forge_version(const char *path, uint32_t v)
{
	unsigned char b[4] = { v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff,
			       v & 0xff };
	int	fd;

	cr_assert((fd = open(path, O_WRONLY)) >= 0, "%s: %s", path,
		  strerror(errno));
	cr_assert_eq(pwrite(fd, b, 4, 60), 4);
	close(fd);
}

/* write_file - create path with the given bytes */
static void
write_file(const char *path, const char *data, size_t len)
{
	int	fd;

	cr_assert((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0);
	cr_assert_eq(write(fd, data, len), (ssize_t) len);
	close(fd);
}

/*
 * sqlite_cli - run sql on path with the sqlite3 program (Debian package
 * sqlite3): another program's database, made without sqlite3.h
 */
static void
sqlite_cli(const char *path, const char *sql)
{
	pid_t	pid;
	int	st;

	if (access("/usr/bin/sqlite3", X_OK) != 0)
		cr_skip_test("/usr/bin/sqlite3 is missing (sh .ci/install-deps installs sqlite3)");
	if ((pid = fork()) == 0) {
		execl("/usr/bin/sqlite3", "sqlite3", path, sql, (char *) NULL);
		_exit(127);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "sqlite3 %s: status %d", sql, st);
}

/* A message read back, with its own copies of the strings. */
struct got {
	int64_t	time_us;
	char   *host, *instance, *queue_id, *sasl, *sender, *client_ip;
	long	uid, nrcpt;
};

struct gotlist {
	struct got *v;
	size_t	n, cap;
	long	stop_after;		/* >0: return 7 after this many rows */
};

/* dup_or_null - strdup that keeps NULL */
static char *
dup_or_null(const char *p)
{
	char   *q;

	if (p == NULL)
		return NULL;
	cr_assert_not_null(q = strdup(p));
	return q;
}

/* collect - store_each_message callback appending to a gotlist */
static int
collect(void *ctx, const struct store_msg *m)
{
	struct gotlist *l = ctx;
	struct got *g;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		cr_assert_not_null(l->v = realloc(l->v, l->cap * sizeof(*l->v)));
	}
	g = &l->v[l->n++];
	g->time_us = m->time_us;
	g->host = dup_or_null(m->host);
	g->instance = dup_or_null(m->instance);
	g->queue_id = dup_or_null(m->queue_id);
	g->sasl = dup_or_null(m->sasl);
	g->sender = dup_or_null(m->sender);
	g->client_ip = dup_or_null(m->client_ip);
	g->uid = m->uid;
	g->nrcpt = m->nrcpt;
	if (l->stop_after > 0 && (long) l->n >= l->stop_after)
		return 7;
	return 0;
}

/* gotlist_free - free a gotlist's copies */
static void
gotlist_free(struct gotlist *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].host);
		free(l->v[i].instance);
		free(l->v[i].queue_id);
		free(l->v[i].sasl);
		free(l->v[i].sender);
		free(l->v[i].client_ip);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* read_all - every message with time_us >= since */
static void
read_all(struct store *s, int64_t since, struct gotlist *l)
{
	char	err[512] = "";

	memset(l, 0, sizeof(*l));
	cr_assert_eq(store_each_message(s, since, collect, l, err, sizeof(err)),
		     0, "store_each_message: %s", err);
}

/* msg - a simple message: time, queue ID, login */
static struct store_msg
msg(int64_t t, const char *qid, const char *sasl)
{
	struct store_msg m = {
		.time_us = t, .host = "mx1", .instance = "postfix",
		.queue_id = qid, .sasl = sasl, .sender = "a@example.com",
		.client_ip = "192.0.2.1", .uid = -1, .nrcpt = 1,
	};
	return m;
}

/* add_ok - insert a message or fail the test */
static void
add_ok(struct store *s, const struct store_msg *m)
{
	char	err[512] = "";

	cr_assert_eq(store_add_message(s, m, err, sizeof(err)), 0,
		     "store_add_message: %s", err);
}

/* str_eq - equal strings, both NULL counting as equal */
static int
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* ---------------------------------------------------------------- open */

Test(store, open_close_and_migrate, .init = mk_tmpdir, .fini = rm_tmpdir)
{
	static const struct {
		const char *name;
		int	kind;		/* 0 NULL, 1 ":memory:", 2 new file */
	} rows[] = {
		{ "NULL path is in memory", 0 },
		{ ":memory: is in memory", 1 },
		{ "missing file is created at the latest version", 2 },
		/* a 0-byte file is refused (issue 11): see open_refusals */
	};
	size_t	i;

	cr_assert_geq(store_schema_latest(), 1);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *path = rows[i].kind == 0 ? NULL
				   : rows[i].kind == 1 ? ":memory:" : dbpath;
		struct store_msg m = msg(1, "Q1", "alice");
		struct store *s;

		(void) unlink(dbpath);
		s = open_ok(path, 0);
		cr_assert_eq(store_schema_version(s), store_schema_latest(),
			     "%s", rows[i].name);
		cr_assert_eq(store_count_messages(s), 0, "%s", rows[i].name);
		add_ok(s, &m);
		cr_assert_eq(store_count_messages(s), 1, "%s", rows[i].name);
		if (rows[i].kind >= 2) {	/* a file runs in WAL mode */
			char	wal[160];

			snprintf(wal, sizeof(wal), "%s-wal", dbpath);
			cr_assert_eq(access(wal, F_OK), 0, "%s: no %s",
				     rows[i].name, wal);
		}
		store_close(s);
		if (rows[i].kind >= 2) {
			cr_assert_eq(access(dbpath, F_OK), 0, "%s", rows[i].name);
			cr_assert_eq(header_version(dbpath), store_schema_latest(),
				     "%s: user_version on disk", rows[i].name);
		}
	}
	store_close(NULL);
}

Test(store, reopen_keeps_data, .init = mk_tmpdir, .fini = rm_tmpdir)
{
	static const int readonly[] = { 0, 1, 0 };
	struct store_cursor c = { .dev = 8, .ino = 1234, .offset = 999,
				  .fingerprint = "abc123" }, got;
	struct store_msg m1 = msg(10, "A1", "alice"), m2 = msg(20, "B2", "bob");
	struct gotlist l;
	struct store *s;
	char	err[512] = "";
	size_t	i;

	s = open_ok(dbpath, 0);
	cr_assert_eq(store_begin(s, err, sizeof(err)), 0, "%s", err);
	add_ok(s, &m1);
	add_ok(s, &m2);
	cr_assert_eq(store_set_cursor(s, "/var/log/mail.log", &c, err,
				      sizeof(err)), 0, "%s", err);
	cr_assert_eq(store_commit(s, err, sizeof(err)), 0, "%s", err);
	store_close(s);

	for (i = 0; i < sizeof(readonly) / sizeof(readonly[0]); i++) {
		s = open_ok(dbpath, readonly[i]);
		cr_assert_eq(store_schema_version(s), store_schema_latest());
		cr_assert_eq(store_count_messages(s), 2, "reopen %zu", i);
		read_all(s, 0, &l);
		cr_assert_eq(l.n, 2);
		cr_assert_str_eq(l.v[0].queue_id, "A1");
		cr_assert_str_eq(l.v[1].sasl, "bob");
		gotlist_free(&l);
		memset(&got, 0, sizeof(got));
		cr_assert_eq(store_get_cursor(s, "/var/log/mail.log", &got, err,
					      sizeof(err)), 1, "%s", err);
		cr_assert_eq(got.offset, 999);
		cr_assert_str_eq(got.fingerprint, "abc123");
		store_close(s);
	}
}

Test(store, open_refusals, .init = mk_tmpdir, .fini = rm_tmpdir)
{
	enum { NEWER, MISSING, GARBAGE, EMPTY, MEMORY, OURS_AT_0, FOREIGN, FOREIGN_V, LINK,
		WAL_LINK };
	static const struct {
		const char *name;
		int	setup, readonly;
		const char *want;	/* substring of the error */
	} rows[] = {
		{ "newer schema, read-write", NEWER, 0,
		  "schema version 99 is newer than this sendguard (" },
		{ "newer schema, read-only", NEWER, 1,
		  "schema version 99 is newer than this sendguard (" },
		{ "read-only missing file", MISSING, 1, "No such file or directory" },
		{ "not a database", GARBAGE, 0, "not a database" },
		{ "not a database, read-only", GARBAGE, 1, "not a database" },
		{ "read-only empty file is not migrated", EMPTY, 1,
		  "schema version 0" },
		{ "read-only :memory:", MEMORY, 1, ":memory:" },
		/* issue 11: never taken for a new database */
		{ "empty file, read-write", EMPTY, 0, "an empty file (0 bytes)" },
		{ "tables at schema version 0", OURS_AT_0, 0,
		  "an SQLite database of something else" },
		{ "another program's database", FOREIGN, 0,
		  "an SQLite database of something else (2 tables" },
		{ "another program's, with a version", FOREIGN_V, 0,
		  "something else (schema version 7 without sendguard's tables)" },
		{ "a symbolic link", LINK, 0, "symbolic link" },
		{ "a symbolic link, read-only", LINK, 1, "symbolic link" },
		{ "a symbolic link at -wal", WAL_LINK, 0, "symbolic link" },
	};
	char	victim[160], side[160];
	off_t	victim_size = 0;
	char	garbage[4096];
	size_t	i;

	memset(garbage, 'x', sizeof(garbage));
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct store *s = (struct store *) 1;
		const char *path = dbpath;
		char	err[512] = "";

		rm_tmpdir();
		mk_tmpdir();
		switch (rows[i].setup) {
		case NEWER:
			s = open_ok(dbpath, 0);
			store_close(s);
			forge_version(dbpath, 99);
			break;
		case GARBAGE:
			write_file(dbpath, garbage, sizeof(garbage));
			break;
		case EMPTY:
			write_file(dbpath, "", 0);
			break;
		case MEMORY:
			path = ":memory:";
			break;
		case OURS_AT_0:
			s = open_ok(dbpath, 0);
			store_close(s);
			forge_version(dbpath, 0);
			break;
		case FOREIGN:
		case FOREIGN_V:
			sqlite_cli(dbpath, rows[i].setup == FOREIGN
			    ? "CREATE TABLE users(name); CREATE TABLE posts(body);"
			    : "CREATE TABLE users(name); PRAGMA user_version=7;");
			break;
		case LINK:
		case WAL_LINK:
			/* empty: SQLite would make a database of it */
			snprintf(victim, sizeof(victim), "%s/victim", tmpdir);
			victim_size = rows[i].setup == LINK ? 0 : 9;
			write_file(victim, "precious\n", (size_t) victim_size);
			if (rows[i].setup == WAL_LINK) {
				s = open_ok(dbpath, 0);
				store_close(s);
			}
			snprintf(side, sizeof(side), "%s%s", dbpath,
				 rows[i].setup == WAL_LINK ? "-wal" : "");
			(void) unlink(side);
			cr_assert_eq(symlink(victim, side), 0);
			break;
		default:
			break;
		}
		s = (struct store *) 1;
		cr_assert_eq(store_open(&s, path, rows[i].readonly, err,
					sizeof(err)), -1, "%s: opened", rows[i].name);
		cr_assert_null(s, "%s: *out not cleared", rows[i].name);
		cr_assert_not_null(strstr(err, rows[i].want),
				   "%s: error \"%s\" lacks \"%s\"", rows[i].name,
				   err, rows[i].want);
		cr_assert_not_null(strstr(err, path), "%s: error \"%s\" lacks "
				   "the path", rows[i].name, err);
		if (rows[i].setup == NEWER)
			cr_assert_eq(header_version(dbpath), 99,
				     "%s: refused file was changed", rows[i].name);
		if (rows[i].setup == MISSING)
			cr_assert_neq(access(dbpath, F_OK), 0,
				      "%s: file was created", rows[i].name);
		if (rows[i].setup == EMPTY) {
			struct stat st;

			cr_assert_eq(stat(dbpath, &st), 0);
			cr_assert_eq(st.st_size, 0, "%s: file was written",
				     rows[i].name);
		}
		if (rows[i].setup == FOREIGN_V)
			cr_assert_eq(header_version(dbpath), 7,
				     "%s: refused file was changed", rows[i].name);
		if (rows[i].setup == LINK || rows[i].setup == WAL_LINK) {
			struct stat st;

			cr_assert_eq(stat(victim, &st), 0);
			cr_assert_eq(st.st_size, victim_size,
				     "%s: the link's target was written", rows[i].name);
		}
	}
}

Test(store, newer_version_message_names_both, .init = mk_tmpdir,
     .fini = rm_tmpdir)
{
	struct store *s = open_ok(dbpath, 0);
	char	err[512] = "", want[512];

	store_close(s);
	forge_version(dbpath, 42);
	cr_assert_eq(store_open(&s, dbpath, 0, err, sizeof(err)), -1);
	snprintf(want, sizeof(want),
		 "%s: schema version 42 is newer than this sendguard (%d)",
		 dbpath, store_schema_latest());
	cr_assert_str_eq(err, want);
}

/* ------------------------------------------------------------ readonly */

Test(store, readonly_refuses_writes, .init = mk_tmpdir, .fini = rm_tmpdir)
{
	enum { MSG, VERDICT, CURSOR, BATCH, PRUNE };
	static const struct {
		const char *name;
		int	op;
	} rows[] = {
		{ "add message", MSG },
		{ "add verdict", VERDICT },
		{ "set cursor", CURSOR },
		{ "begin + add message", BATCH },
		{ "prune", PRUNE },
	};
	struct store_msg m = msg(5, "R1", "ro");
	struct store_verdict v = { .time_us = 5, .identity = "sasl:ro",
				   .rule = "r", .limit = "messages",
				   .window = "1h", .threshold = 1, .count = 2 };
	struct store_cursor c = { .dev = 1, .ino = 2, .offset = 3 };
	struct store *s;
	size_t	i;

	s = open_ok(dbpath, 0);
	add_ok(s, &m);
	store_close(s);

	s = open_ok(dbpath, 1);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char	err[512] = "";
		int	rc;

		switch (rows[i].op) {
		case MSG:
			rc = store_add_message(s, &m, err, sizeof(err));
			break;
		case VERDICT:
			rc = store_add_verdict(s, &v, err, sizeof(err));
			break;
		case CURSOR:
			rc = store_set_cursor(s, "/l", &c, err, sizeof(err));
			break;
		case PRUNE:
			rc = store_prune(s, 1000, err, sizeof(err));
			break;
		default:
			rc = store_begin(s, err, sizeof(err));
			if (rc == 0)
				rc = store_add_message(s, &m, err, sizeof(err));
			(void) store_rollback(s);
			break;
		}
		cr_assert_eq(rc, -1, "%s succeeded read-only", rows[i].name);
		cr_assert_not_null(strstr(err, "readonly"), "%s: \"%s\"",
				   rows[i].name, err);
		cr_assert_not_null(strstr(err, dbpath), "%s: \"%s\"", rows[i].name,
				   err);
		cr_assert_eq(store_count_messages(s), 1, "%s", rows[i].name);
	}
	store_close(s);
	s = open_ok(dbpath, 0);
	cr_assert_eq(store_count_messages(s), 1);
	store_close(s);
}

/* ------------------------------------------------------------ messages */

Test(store, message_order_and_since)
{
	/* inserted out of order; ties keep insertion order */
	static const struct { int64_t t; const char *qid; } ins[] = {
		{ 300, "C" }, { 100, "A" }, { 200, "B1" }, { 200, "B2" },
		{ -50, "NEG" }, { INT64_C(4102444800000000), "FAR" },
	};
	static const struct {
		int64_t	since;
		const char *want;	/* queue IDs in order, space-separated */
	} rows[] = {
		{ INT64_MIN, "NEG A B1 B2 C FAR" },
		{ 0, "A B1 B2 C FAR" },
		{ 100, "A B1 B2 C FAR" },
		{ 101, "B1 B2 C FAR" },
		{ 200, "B1 B2 C FAR" },
		{ 201, "C FAR" },
		{ 301, "FAR" },
		{ INT64_MAX, "" },
	};
	struct store *s = open_ok(NULL, 0);
	size_t	i, j;

	for (i = 0; i < sizeof(ins) / sizeof(ins[0]); i++) {
		struct store_msg m = msg(ins[i].t, ins[i].qid, "x");
		add_ok(s, &m);
	}
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct gotlist l;
		char	have[256] = "";
		size_t	off = 0;

		read_all(s, rows[i].since, &l);
		for (j = 0; j < l.n; j++)
			off += (size_t) snprintf(have + off, sizeof(have) - off,
						 "%s%s", j ? " " : "", l.v[j].queue_id);
		cr_assert_str_eq(have, rows[i].want, "since %lld",
				 (long long) rows[i].since);
		gotlist_free(&l);
	}
	store_close(s);
}

Test(store, message_fields_round_trip)
{
	static const struct store_msg rows[] = {
		{ 1, "mx1", "postfix-out", "4XyZ1234", "alice@example.com",
		  "alice@example.com", "2001:db8::1", 1001, 3, 0 },
		{ 2, NULL, NULL, NULL, NULL, NULL, NULL, -1, 0, 0 },
		{ 3, "", "", "", "", "", "", -1, 0, 0 },	/* "" is absent too */
		{ 4, "h", NULL, "Q", NULL, "<>", NULL, 0, 1, 0 },
		{ 5, "h", "i", "Q", "s", "x", "10.0.0.1", 2147483647L, 100000, 0 },
	};
	struct store *s = open_ok(":memory:", 0);
	struct gotlist l;
	size_t	i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		add_ok(s, &rows[i]);
	read_all(s, 0, &l);
	cr_assert_eq(l.n, sizeof(rows) / sizeof(rows[0]));
	for (i = 0; i < l.n; i++) {
		const struct store_msg *w = &rows[i];
		const struct got *g = &l.v[i];
#define ABSENT(p) ((p) != NULL && *(p) != 0 ? (p) : NULL)
		cr_assert_eq(g->time_us, w->time_us, "row %zu", i);
		cr_assert(str_eq(g->host, ABSENT(w->host)), "row %zu host", i);
		cr_assert(str_eq(g->instance, ABSENT(w->instance)), "row %zu", i);
		cr_assert(str_eq(g->queue_id, ABSENT(w->queue_id)), "row %zu", i);
		cr_assert(str_eq(g->sasl, ABSENT(w->sasl)), "row %zu sasl", i);
		cr_assert(str_eq(g->sender, ABSENT(w->sender)), "row %zu", i);
		cr_assert(str_eq(g->client_ip, ABSENT(w->client_ip)), "row %zu", i);
#undef ABSENT
		cr_assert_eq(g->uid, w->uid, "row %zu uid", i);
		cr_assert_eq(g->nrcpt, w->nrcpt, "row %zu nrcpt", i);
	}
	gotlist_free(&l);
	store_close(s);
}

/* nested - callback that walks the store again from inside a walk */
static int
nested(void *ctx, const struct store_msg *m)
{
	struct store *s = ctx;
	struct gotlist inner;
	char	err[256] = "";

	(void) m;
	memset(&inner, 0, sizeof(inner));
	cr_assert_eq(store_each_message(s, 0, collect, &inner, err,
					sizeof(err)), 0, "%s", err);
	cr_assert_eq(inner.n, 3);
	cr_assert_eq(store_count_messages(s), 3);
	gotlist_free(&inner);
	return 0;
}

Test(store, walk_stop_and_nesting)
{
	static const struct { long stop_after; int want_rc; size_t want_n; } rows[] = {
		{ 0, 0, 3 },	/* the callback never stops the walk */
		{ 1, 7, 1 },	/* its non-zero return is passed back */
		{ 2, 7, 2 },
	};
	struct store *s = open_ok(NULL, 0);
	char	err[256] = "";
	size_t	i;

	for (i = 0; i < 3; i++) {
		struct store_msg m = msg((int64_t) i, "Q", "n");
		add_ok(s, &m);
	}
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct gotlist l;

		memset(&l, 0, sizeof(l));
		l.stop_after = rows[i].stop_after;
		cr_assert_eq(store_each_message(s, 0, collect, &l, err,
						sizeof(err)), rows[i].want_rc);
		cr_assert_eq(l.n, rows[i].want_n, "stop after %ld",
			     rows[i].stop_after);
		gotlist_free(&l);
	}
	/* after a stopped walk the statement is reusable; nesting works */
	cr_assert_eq(store_each_message(s, 0, nested, s, err, sizeof(err)), 0,
		     "%s", err);
	store_close(s);
}

/* ------------------------------------------------------ every walker */

/* What a walk saw: one label per row, in order. */
struct seen {
	char	label[8][32];
	int	n;
	int	stop_after;		/* >0: return 7 after this many rows */
};

/* seen_add - note one row's label; 7 once stop_after rows are seen */
static int
seen_add(struct seen *w, const char *label, size_t len)
{
	cr_assert_lt(w->n, 8, "more rows than any walk here has");
	snprintf(w->label[w->n++], sizeof(w->label[0]), "%.*s", (int) len,
		 label ? label : "(null)");
	return w->stop_after > 0 && w->n >= w->stop_after ? 7 : 0;
}

/* LABEL_BY - a callback that labels a row of struct type by its field f */
#define LABEL_BY(name, type, f)						\
static int								\
name(void *ctx, const struct type *row)					\
{									\
	return seen_add(ctx, row->f, strlen(row->f));			\
}

/* The callbacks: each labels a row by the field that tells the rows apart. */
LABEL_BY(on_msg, store_msg, queue_id)
LABEL_BY(on_verdict, store_verdict, queue_id)
LABEL_BY(on_block, store_block, identity)
LABEL_BY(on_hold, store_hold, queue_id)
LABEL_BY(on_on_hold, store_on_hold, identity)
LABEL_BY(on_job, store_job, action)

/* on_kv - a key/value entry labelled by its key */
static int
on_kv(void *ctx, const void *k, size_t kn, const void *v, size_t vn)
{
	(void) v;
	(void) vn;
	return seen_add(ctx, k, kn);
}

/* walk - run walker i of walk_rows[] over s into w */
static int
walk(struct store *s, int i, struct seen *w, char *err, size_t errlen)
{
	switch (i) {
	case 0:
		return store_each_message(s, 0, on_msg, w, err, errlen);
	case 1:
		return store_each_verdict(s, "sasl:w", 0, on_verdict, w, err, errlen);
	case 2:
		return store_kv_each(s, 5, on_kv, w, err, errlen);
	case 3:
		return store_each_queued(s, "sasl:w", 0, on_msg, w, err, errlen);
	case 4:
		return store_each_recent(s, "sasl:w", 10, on_msg, w, err, errlen);
	case 5:
		return store_each_block(s, "blocked", on_block, w, err, errlen);
	case 6:
		return store_each_hold(s, "sasl:w", NULL, on_hold, w, err, errlen);
	case 7:
		return store_each_on_hold(s, on_on_hold, w, err, errlen);
	case 8:
		return store_each_job(s, "sasl:w", NULL, on_job, w, err, errlen);
	default:
		return store_get_job(s, 2, on_job, w, err, errlen);
	}
}

/* One row per walker: what it lists, in its order. */
static const struct {
	const char *name, *want;
} walk_rows[] = {
	{ "store_each_message", "W1 W2 W3" },
	{ "store_each_verdict", "V1 V2 V3" },
	{ "store_kv_each", "k1 k2 k3" },
	{ "store_each_queued", "W1 W2 W3" },
	{ "store_each_recent", "W1 W2 W3" },
	{ "store_each_block", "sasl:b1 sasl:b2 sasl:b3" },
	{ "store_each_hold", "H1 H2 H3" },
	{ "store_each_on_hold", "sasl:w sasl:x sasl:y" },
	{ "store_each_job", "a1 a2 a3" },
	{ "store_get_job", "a2" },
};

/* fill_walkable - three rows for every walker, inserted out of order */
static void
fill_walkable(struct store *s)
{
	static const struct store_hold holds[] = {
		{ .identity = "sasl:w", .queue_id = "H2", .requested_us = 2 },
		{ .identity = "sasl:y", .queue_id = "Y1", .requested_us = 0 },
		{ .identity = "sasl:w", .queue_id = "H1", .requested_us = 1 },
		{ .identity = "sasl:x", .queue_id = "X1", .requested_us = 0 },
		{ .identity = "sasl:w", .queue_id = "H3", .requested_us = 3 },
	};
	char	err[256] = "", qid[16], key[16], bid[24];
	int	i;

	for (i = 3; i >= 1; i--) {
		struct store_msg m = msg(10 * i, qid, "w");
		struct store_verdict v = { .time_us = 10 * i, .identity = "sasl:w",
					   .queue_id = qid };
		struct store_block b = { .identity = bid, .since_us = i,
					 .state = "blocked" };

		snprintf(qid, sizeof(qid), "W%d", i);
		add_ok(s, &m);
		qid[0] = 'V';
		cr_assert_eq(store_add_verdict(s, &v, err, sizeof(err)), 0, "%s", err);
		snprintf(key, sizeof(key), "k%d", i);
		cr_assert_eq(store_kv_put(s, 5, key, 2, "v", 1, err, sizeof(err)), 0);
		snprintf(bid, sizeof(bid), "sasl:b%d", i);
		cr_assert_eq(store_put_block(s, &b, err, sizeof(err)), 0, "%s", err);
	}
	for (i = 0; i < (int) (sizeof(holds) / sizeof(holds[0])); i++)
		cr_assert_eq(store_add_hold(s, &holds[i], err, sizeof(err)), 0, "%s",
			     err);
	for (i = 1; i <= 3; i++) {
		struct store_job j = { .time_us = i, .identity = "sasl:w",
				       .action = qid, .status = "ok" };

		snprintf(qid, sizeof(qid), "a%d", i);
		cr_assert_eq(store_add_job(s, &j, err, sizeof(err)), i, "%s", err);
	}
}

/* joined - the labels a walk saw, space-separated */
static const char *
joined(const struct seen *w, char *buf, size_t len)
{
	size_t	off = 0;
	int	i;

	buf[0] = '\0';
	for (i = 0; i < w->n && off < len; i++)
		off += (size_t) snprintf(buf + off, len - off, "%s%s", i ? " " : "",
					 w->label[i]);
	return buf;
}

/* schema_pages - the pages of sqlite_schema in path (dbstat), at most max; how many, or -1 */
static int
schema_pages(const char *path, long *pages, int max)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	int n = 0;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT pageno FROM dbstat WHERE name = 'sqlite_schema'", -1,
		&q, NULL) != SQLITE_OK)
		n = -1;
	while (n >= 0 && n < max && sqlite3_step(q) == SQLITE_ROW)
		pages[n++] = (long) sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return n;
}

/* page_in - page p is one of the n pages */
static int
page_in(const long *pages, int n, long p)
{
	while (n-- > 0)
		if (pages[n] == p)
			return 1;
	return 0;
}

Test(store, every_walker_orders_stops_and_reports, .init = mk_tmpdir,
     .fini = rm_tmpdir)
{
	struct store *s = open_ok(dbpath, 0);
	char	err[512], buf[256];
	struct stat st;
	int	i, fd, nkeep;
	long	keep[16];

	fill_walkable(s);
	for (i = 0; i < (int) (sizeof(walk_rows) / sizeof(walk_rows[0])); i++) {
		const char *name = walk_rows[i].name;
		struct seen w = { .n = 0 };

		/* every row, in the walker's order */
		err[0] = '\0';
		cr_assert_eq(walk(s, i, &w, err, sizeof(err)), 0, "%s: %s", name, err);
		cr_assert_str_eq(joined(&w, buf, sizeof(buf)), walk_rows[i].want,
				 "%s", name);
		/* the callback's non-zero return stops the walk and comes back */
		memset(&w, 0, sizeof(w));
		w.stop_after = 1;
		cr_assert_eq(walk(s, i, &w, err, sizeof(err)), 7, "%s: stop", name);
		cr_assert_eq(w.n, 1, "%s: went on after the stop", name);
		/* and the stopped statement serves the next walk from its start */
		memset(&w, 0, sizeof(w));
		cr_assert_eq(walk(s, i, &w, err, sizeof(err)), 0, "%s: %s", name, err);
		cr_assert_str_eq(joined(&w, buf, sizeof(buf)), walk_rows[i].want,
				 "%s: after a stop", name);
	}
	store_close(s);

	/*
	 * a damaged file: every page but the schema's overwritten (the first,
	 * with the header, and the others sqlite_schema took when it outgrew
	 * it: dbstat names them), so that it opens and every walk meets the
	 * damage
	 */
	cr_assert_eq(stat(dbpath, &st), 0);
	cr_assert_gt(st.st_size, 4096, "a one-page database tests nothing");
	nkeep = schema_pages(dbpath, keep, 16);
	cr_assert_gt(nkeep, 0, "no schema page found");
	cr_assert((fd = open(dbpath, O_WRONLY)) >= 0);
	memset(buf, 0xa5, sizeof(buf));
	for (off_t off = 4096; off < st.st_size; off += (off_t) sizeof(buf))
		if (!page_in(keep, nkeep, (long) (off / 4096) + 1))
			cr_assert_eq(pwrite(fd, buf, sizeof(buf), off), (ssize_t) sizeof(buf));
	close(fd);
	s = open_ok(dbpath, 1);
	for (i = 0; i < (int) (sizeof(walk_rows) / sizeof(walk_rows[0])); i++) {
		struct seen w = { .n = 0 };

		err[0] = '\0';
		cr_assert_eq(walk(s, i, &w, err, sizeof(err)), -1, "%s: read a "
			     "damaged file", walk_rows[i].name);
		cr_assert_not_null(strstr(err, dbpath), "%s: error \"%s\" lacks the "
				   "file name", walk_rows[i].name, err);
	}
	store_close(s);
}

/* ------------------------------------------------------------- hostile */

Test(store, hostile_strings_byte_exact, .init = mk_tmpdir, .fini = rm_tmpdir)
{
	static char binary[256], long1000[1001], long64[65];
	static const char *rows[] = {
		"it's \"quoted\" `back`",
		"'); DROP TABLE messages;--",
		"\"; DROP TABLE cursor; --",
		"x' OR '1'='1",
		"?1 ?2 :name @p $v %s %n",
		"line\nbreak\ttab\rcr",
		"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7",
		"\xff\xfe invalid utf-8 \xc3\x28 \x80",
		binary,
		long1000,
		long64,
	};
	struct store *s;
	size_t	i;
	int	pass;

	for (i = 0; i < 255; i++)
		binary[i] = (char) (i + 1);	/* 0x01 .. 0xff */
	memset(long1000, 'L', 1000);
	long1000[500] = '\'';
	memset(long64, 'f', 64);

	for (pass = 0; pass < 2; pass++) {	/* memory, then file + reopen */
		struct gotlist l;

		s = open_ok(pass ? dbpath : NULL, 0);
		for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			struct store_msg m = {
				.time_us = (int64_t) i, .host = rows[i],
				.instance = rows[i], .queue_id = rows[i],
				.sasl = rows[i], .sender = rows[i],
				.client_ip = rows[i], .uid = (long) i,
				.nrcpt = 1,
			};
			struct store_cursor c = { .dev = i, .ino = i, .offset = i };
			char	err[512] = "";

			snprintf(c.fingerprint, sizeof(c.fingerprint), "%.64s",
				 rows[i]);
			add_ok(s, &m);
			cr_assert_eq(store_set_cursor(s, rows[i], &c, err,
						      sizeof(err)), 0, "row %zu: %s",
				     i, err);
		}
		if (pass) {
			store_close(s);
			s = open_ok(dbpath, 1);
		}
		read_all(s, 0, &l);
		cr_assert_eq(l.n, sizeof(rows) / sizeof(rows[0]),
			     "table lost or rows missing");
		for (i = 0; i < l.n; i++) {
			const struct got *g = &l.v[i];
			struct store_cursor c;
			char	err[512] = "", fp[65];

			cr_assert_eq(g->uid, (long) i);
			cr_assert_eq(strlen(g->sasl), strlen(rows[i]), "row %zu", i);
			cr_assert_eq(memcmp(g->sasl, rows[i], strlen(rows[i])), 0,
				     "row %zu sasl", i);
			cr_assert_str_eq(g->host, rows[i], "row %zu", i);
			cr_assert_str_eq(g->instance, rows[i], "row %zu", i);
			cr_assert_str_eq(g->queue_id, rows[i], "row %zu", i);
			cr_assert_str_eq(g->sender, rows[i], "row %zu", i);
			cr_assert_str_eq(g->client_ip, rows[i], "row %zu", i);
			cr_assert_eq(store_get_cursor(s, rows[i], &c, err,
						      sizeof(err)), 1,
				     "row %zu cursor: %s", i, err);
			cr_assert_eq(c.offset, i, "row %zu: wrong cursor", i);
			snprintf(fp, sizeof(fp), "%.64s", rows[i]);
			cr_assert_str_eq(c.fingerprint, fp, "row %zu", i);
		}
		gotlist_free(&l);
		store_close(s);
	}
}

/* -------------------------------------------------------------- cursor */

Test(store, cursor_per_log)
{
	static const struct {
		const char *op;		/* "set" or "get" */
		const char *log;
		uint64_t dev, ino, offset;
		const char *fp;
		int	want;		/* get: 1 found, 0 none */
	} rows[] = {
		{ "get", "/var/log/mail.log", 0, 0, 0, "", 0 },
		{ "set", "/var/log/mail.log", 2049, 131, 4096, "aa11", 0 },
		{ "set", "/var/log/maillog", 2050, 7, 10, "bb22", 0 },
		{ "get", "/var/log/mail.log", 2049, 131, 4096, "aa11", 1 },
		{ "get", "/var/log/maillog", 2050, 7, 10, "bb22", 1 },
		/* overwrite: new file after rotation, offset restarts */
		{ "set", "/var/log/mail.log", 2049, 132, 0, "cc33", 0 },
		{ "get", "/var/log/mail.log", 2049, 132, 0, "cc33", 1 },
		{ "get", "/var/log/maillog", 2050, 7, 10, "bb22", 1 },
		/* full unsigned range survives the signed column */
		{ "set", "-", UINT64_MAX, UINT64_MAX - 1, UINT64_C(1) << 63,
		  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 0 },
		{ "get", "-", UINT64_MAX, UINT64_MAX - 1, UINT64_C(1) << 63,
		  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 1 },
		{ "get", "/var/log/mail.log.1", 0, 0, 0, "", 0 },
		{ "get", "/VAR/LOG/MAIL.LOG", 0, 0, 0, "", 0 },
	};
	struct store *s = open_ok(NULL, 0);
	size_t	i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct store_cursor c;
		char	err[256] = "";

		memset(&c, 0, sizeof(c));
		if (strcmp(rows[i].op, "set") == 0) {
			c.dev = rows[i].dev;
			c.ino = rows[i].ino;
			c.offset = rows[i].offset;
			snprintf(c.fingerprint, sizeof(c.fingerprint), "%s",
				 rows[i].fp);
			cr_assert_eq(store_set_cursor(s, rows[i].log, &c, err,
						      sizeof(err)), 0,
				     "row %zu: %s", i, err);
			continue;
		}
		cr_assert_eq(store_get_cursor(s, rows[i].log, &c, err,
					      sizeof(err)), rows[i].want,
			     "row %zu: %s", i, err);
		if (rows[i].want != 1)
			continue;
		cr_assert_eq(c.dev, rows[i].dev, "row %zu", i);
		cr_assert_eq(c.ino, rows[i].ino, "row %zu", i);
		cr_assert_eq(c.offset, rows[i].offset, "row %zu", i);
		cr_assert_str_eq(c.fingerprint, rows[i].fp, "row %zu", i);
	}
	store_close(s);
}

/*
 * A journal's cursor is a string, kept with the time of its entry across a
 * reopen; a position with only a time (no entry read yet) keeps its empty
 * cursor, and a file's position has no time unless one is given.
 */
Test(store, journal_cursor, .init = mk_tmpdir, .fini = rm_tmpdir)
{
	static const struct {
		const char *log, *cursor;
		int64_t time_us;
	} rows[] = {
		{ "journal", "s=0a6e86d798f545308c568074e5a14b7e;i=2;b=0123456789abcdef0123456789abcdef;"
			     "m=7d0;t=64c07a6654280;x=53f8dee8cd365297", 1772445600400000 },
		{ "journal:/srv/journal/mx1", "", 1772445600000000 },
		{ "/var/log/mail.log", "", INT64_MIN },
	};
	struct store_cursor c, got;
	struct store *s = open_ok(dbpath, 0);
	char	err[512] = "";
	size_t	i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(&c, 0, sizeof(c));
		snprintf(c.journal, sizeof(c.journal), "%s", rows[i].cursor);
		c.time_us = rows[i].time_us;
		cr_assert_eq(store_set_cursor(s, rows[i].log, &c, err, sizeof(err)), 0, "%s", err);
	}
	store_close(s);
	s = open_ok(dbpath, 1);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		cr_assert_eq(store_get_cursor(s, rows[i].log, &got, err, sizeof(err)), 1, "%s", err);
		cr_expect_str_eq(got.journal, rows[i].cursor, "%s", rows[i].log);
		cr_expect_eq(got.time_us, rows[i].time_us, "%s", rows[i].log);
		cr_expect_eq(got.offset, 0);
	}
	store_close(s);
	/* a cursor that fills its buffer without a terminator is refused, not cut */
	s = open_ok(NULL, 0);
	memset(&c, 0, sizeof(c));
	memset(c.journal, 'x', sizeof(c.journal));
	cr_expect_eq(store_set_cursor(s, "journal", &c, err, sizeof(err)), -1);
	cr_expect_not_null(strstr(err, "not terminated"), "%s", err);
	store_close(s);
}

/* ------------------------------------------------------------- verdict */

struct vlist {
	char	line[16][160];
	size_t	n;
};

/* collect_v - store_each_verdict callback: one summary line per verdict */
static int
collect_v(void *ctx, const struct store_verdict *v)
{
	struct vlist *l = ctx;

	cr_assert_lt(l->n, 16);
	snprintf(l->line[l->n++], sizeof(l->line[0]), "%lld %s %s %s %s %ld %ld %s",
		 (long long) v->time_us, v->identity, v->rule ? v->rule : "-",
		 v->limit ? v->limit : "-", v->window ? v->window : "-",
		 v->threshold, v->count, v->queue_id ? v->queue_id : "-");
	return 0;
}

Test(store, verdicts)
{
	static const struct store_verdict ins[] = {
		{ 200, "sasl:bob", "submission", "messages", "1h", "1A", 100, 101 },
		{ 100, "sasl:alice@example.com", "submission", "recipients",
		  "1d", "2B", 2000, 2001 },
		{ 300, "sasl:alice@example.com", "submission", "messages", "1h",
		  NULL, 100, 101 },
		{ 400, "uid:33", "webapps", "messages", "1h", "3C", 50, 51 },
	};
	static const struct {
		const char *identity;
		int64_t	since;
		const char *want[4];
	} rows[] = {
		{ NULL, 0, { "100 sasl:alice@example.com submission recipients 1d 2000 2001 2B",
			     "200 sasl:bob submission messages 1h 100 101 1A",
			     "300 sasl:alice@example.com submission messages 1h 100 101 -",
			     "400 uid:33 webapps messages 1h 50 51 3C" } },
		{ "sasl:alice@example.com", 0,
		  { "100 sasl:alice@example.com submission recipients 1d 2000 2001 2B",
		    "300 sasl:alice@example.com submission messages 1h 100 101 -" } },
		{ "sasl:alice@example.com", 101,
		  { "300 sasl:alice@example.com submission messages 1h 100 101 -" } },
		{ NULL, 350, { "400 uid:33 webapps messages 1h 50 51 3C" } },
		{ "sasl:nobody", 0, { NULL } },
	};
	struct store_verdict bad = { .time_us = 1, .identity = "" };
	struct store *s = open_ok(NULL, 0);
	char	err[256] = "";
	size_t	i, j;

	for (i = 0; i < sizeof(ins) / sizeof(ins[0]); i++)
		cr_assert_eq(store_add_verdict(s, &ins[i], err, sizeof(err)), 0,
			     "%s", err);
	cr_assert_eq(store_add_verdict(s, &bad, err, sizeof(err)), -1,
		     "a verdict without identity was stored");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct vlist l;

		memset(&l, 0, sizeof(l));
		cr_assert_eq(store_each_verdict(s, rows[i].identity, rows[i].since,
						collect_v, &l, err, sizeof(err)),
			     0, "%s", err);
		for (j = 0; j < 4 && rows[i].want[j] != NULL; j++) {
			cr_assert_lt(j, l.n, "row %zu: only %zu verdicts", i, l.n);
			cr_assert_str_eq(l.line[j], rows[i].want[j], "row %zu", i);
		}
		cr_assert_eq(l.n, j, "row %zu: %zu verdicts, want %zu", i, l.n, j);
	}
	store_close(s);
}

/* -------------------------------------------------------- transactions */

Test(store, batches_commit_or_roll_back, .init = mk_tmpdir, .fini = rm_tmpdir)
{
	static const struct {
		const char *name;
		int	commit;
		int64_t	want_msgs;	/* after the batch, and after reopen */
		int	want_cursor;
	} rows[] = {
		{ "rollback discards messages and cursor", 0, 3, 0 },
		{ "commit keeps messages and cursor", 1, 3 + 100, 1 },
		{ "a later rollback leaves the commit alone", 0, 3 + 100, 1 },
	};
	struct store *s = open_ok(dbpath, 0);
	char	err[512] = "";
	int64_t	before = 3;
	size_t	i;
	int	j;

	for (j = 0; j < 3; j++) {
		struct store_msg m = msg(j, "PRE", "p");
		add_ok(s, &m);			/* autocommit, outside a batch */
	}
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct store_cursor c = { .dev = 1, .ino = 2, .offset = 100 * (i + 1),
					  .fingerprint = "f" }, got;

		cr_assert_eq(store_begin(s, err, sizeof(err)), 0, "%s", err);
		for (j = 0; j < 100; j++) {
			struct store_msg m = msg(1000 + j, "B", "b");
			add_ok(s, &m);
		}
		cr_assert_eq(store_set_cursor(s, "/log", &c, err, sizeof(err)), 0,
			     "%s", err);
		cr_assert_eq(store_count_messages(s), before + 100,
			     "%s: the batch is visible inside itself", rows[i].name);
		if (rows[i].commit)
			cr_assert_eq(store_commit(s, err, sizeof(err)), 0, "%s", err);
		else
			cr_assert_eq(store_rollback(s), 0, "%s", rows[i].name);
		cr_assert_eq(store_count_messages(s), rows[i].want_msgs, "%s",
			     rows[i].name);
		cr_assert_eq(store_get_cursor(s, "/log", &got, err, sizeof(err)),
			     rows[i].want_cursor, "%s", rows[i].name);
		store_close(s);
		s = open_ok(dbpath, 0);
		cr_assert_eq(store_count_messages(s), rows[i].want_msgs,
			     "%s (reopened)", rows[i].name);
		cr_assert_eq(store_get_cursor(s, "/log", &got, err, sizeof(err)),
			     rows[i].want_cursor, "%s (reopened)", rows[i].name);
		if (rows[i].want_cursor)
			cr_assert_eq(got.offset, 200, "%s: cursor of the commit",
				     rows[i].name);
		before = rows[i].want_msgs;
	}
	store_close(s);
}

Test(store, transaction_misuse)
{
	struct store *s = open_ok(NULL, 0);
	char	err[256] = "";

	cr_assert_eq(store_rollback(s), 0, "rollback without a batch is a no-op");
	cr_assert_eq(store_commit(s, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "no transaction"), "%s", err);
	cr_assert_eq(store_begin(s, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(store_begin(s, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "already open"), "%s", err);
	cr_assert_eq(store_commit(s, err, sizeof(err)), 0, "%s", err);
	/* an open batch at close is discarded, not committed, and not leaked */
	cr_assert_eq(store_begin(s, err, sizeof(err)), 0, "%s", err);
	store_close(s);
}

/* ---------------------------------------------------------- full disk */

Test(store, full_database, .init = mk_tmpdir, .fini = rm_tmpdir)
{
	static char big[1001];
	struct store *s = open_ok(dbpath, 0);
	struct store_cursor c = { .dev = 1, .ino = 2, .offset = 10,
				  .fingerprint = "before" }, got;
	struct gotlist l;
	char	err[512] = "";
	int	i, rc = 0;

	memset(big, 'z', 1000);
	cr_assert_eq(store_begin(s, err, sizeof(err)), 0, "%s", err);
	for (i = 0; i < 10; i++) {
		struct store_msg m = msg(i, "OK", "kept");
		add_ok(s, &m);
	}
	cr_assert_eq(store_set_cursor(s, "/log", &c, err, sizeof(err)), 0);
	cr_assert_eq(store_commit(s, err, sizeof(err)), 0, "%s", err);

	cr_assert_eq(store_limit_size(s, 1, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(store_begin(s, err, sizeof(err)), 0, "%s", err);
	/* the batch moves the cursor, then fills what room the pages have */
	c.offset = 99999;
	rc = store_set_cursor(s, "/log", &c, err, sizeof(err));
	for (i = 0; i < 20000 && rc == 0; i++) {
		struct store_msg m = msg(100 + i, "FILL", i < 200 ? "small" : big);
		rc = store_add_message(s, &m, err, sizeof(err));
	}
	cr_assert_eq(rc, -1, "20000 rows fit in a full database");
	cr_assert_not_null(strstr(err, "full"), "message: %s", err);
	cr_assert_not_null(strstr(err, dbpath), "message: %s", err);
	cr_assert_eq(store_rollback(s), 0);
	cr_assert_eq(store_count_messages(s), 10);
	store_close(s);

	s = open_ok(dbpath, 0);
	cr_assert_eq(store_count_messages(s), 10);
	read_all(s, 0, &l);
	cr_assert_eq(l.n, 10);
	for (i = 0; i < 10; i++) {
		cr_assert_eq(l.v[i].time_us, i);
		cr_assert_str_eq(l.v[i].sasl, "kept");
	}
	gotlist_free(&l);
	cr_assert_eq(store_get_cursor(s, "/log", &got, err, sizeof(err)), 1);
	cr_assert_eq(got.offset, 10, "cursor moved by a failed batch");
	cr_assert_str_eq(got.fingerprint, "before");
	/* without the limit the store takes writes again */
	cr_assert_eq(store_begin(s, err, sizeof(err)), 0, "%s", err);
	{
		struct store_msg m = msg(5000, big, big);
		add_ok(s, &m);
	}
	cr_assert_eq(store_commit(s, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(store_count_messages(s), 11);
	store_close(s);
}

/* --------------------------------------------------------------- prune */

Test(store, prune)
{
	static const struct { int64_t before; int64_t want_msgs; size_t want_v; } rows[] = {
		{ 0, 10, 10 },		/* nothing older than the first */
		{ 5, 5, 5 },
		{ 5, 5, 5 },		/* idempotent */
		{ 10, 0, 0 },
	};
	struct store *s = open_ok(NULL, 0);
	char	err[256] = "";
	size_t	i;
	int	j;

	for (j = 0; j < 10; j++) {
		struct store_msg m = msg(j, "P", "p");
		struct store_verdict v = { .time_us = j, .identity = "sasl:p" };
		add_ok(s, &m);
		cr_assert_eq(store_add_verdict(s, &v, err, sizeof(err)), 0);
	}
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct vlist l;

		memset(&l, 0, sizeof(l));
		cr_assert_eq(store_prune(s, rows[i].before, err, sizeof(err)), 0,
			     "%s", err);
		cr_assert_eq(store_count_messages(s), rows[i].want_msgs, "row %zu", i);
		cr_assert_eq(store_each_verdict(s, NULL, INT64_MIN, collect_v, &l,
						err, sizeof(err)), 0);
		cr_assert_eq(l.n, rows[i].want_v, "row %zu", i);
	}
	store_close(s);
}


Test(store, prune_some_deletes_oldest_first_in_bounded_steps)
{
	struct store *s = open_ok(NULL, 0);
	char	err[256] = "";
	int64_t	n, last;
	int	j;

	for (j = 0; j < 25; j++) {
		struct store_msg m = msg(j, "P", "p");
		add_ok(s, &m);
	}
	/* 20 are older than 20: at most 8 go per call */
	cr_assert_eq(n = store_prune_some(s, 20, 8, err, sizeof(err)), 8, "%s", err);
	cr_expect_eq(store_count_messages(s), 17);
	cr_assert_eq(store_last_message_time(s, &last, err, sizeof(err)), 0);
	cr_expect_eq(last, 24);
	cr_assert_eq(store_prune_some(s, 20, 8, err, sizeof(err)), 8);
	cr_assert_eq(store_prune_some(s, 20, 8, err, sizeof(err)), 4);
	cr_assert_eq(store_prune_some(s, 20, 8, err, sizeof(err)), 0);
	cr_expect_eq(store_count_messages(s), 5, "the five at 20..24 stay");
	store_close(s);
	s = open_ok(NULL, 0);
	cr_assert_eq(store_last_message_time(s, &last, err, sizeof(err)), 0);
	cr_expect_eq(last, INT64_MIN, "no message: INT64_MIN");
	store_close(s);
}

struct kvseen {
	int	n;
	char	keys[8][16];
	size_t	vlen[8];
};

static int
kv_collect(void *ctx, const void *k, size_t kn, const void *v, size_t vn)
{
	struct kvseen *ks = ctx;

	(void) v;
	cr_assert_lt(ks->n, 8);
	cr_assert_lt(kn, sizeof(ks->keys[0]));
	memcpy(ks->keys[ks->n], k, kn);
	ks->keys[ks->n][kn] = '\0';
	ks->vlen[ks->n] = vn;
	ks->n++;
	return 0;
}

Test(store, key_value_state_survives_reopen_per_namespace, .init = mk_tmpdir, .fini = rm_tmpdir)
{
	struct store *s = open_ok(dbpath, 0);
	struct kvseen ks;
	char	err[256] = "";
	const unsigned char bin[3] = { 0, 0xff, 1 };

	cr_assert_eq(store_begin(s, err, sizeof(err)), 0);
	cr_assert_eq(store_kv_put(s, 1, "b", 1, "x", 1, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(store_kv_put(s, 1, "a", 1, bin, sizeof(bin), err, sizeof(err)), 0);
	cr_assert_eq(store_kv_put(s, 2, "a", 1, "", 0, err, sizeof(err)), 0);
	cr_assert_eq(store_kv_put(s, 1, "b", 1, "yy", 2, err, sizeof(err)), 0);	/* replace */
	cr_assert_eq(store_kv_del(s, 2, "zz", 2, err, sizeof(err)), 0);		/* absent: fine */
	cr_assert_eq(store_commit(s, err, sizeof(err)), 0);
	store_close(s);
	s = open_ok(dbpath, 0);
	memset(&ks, 0, sizeof(ks));
	cr_assert_eq(store_kv_each(s, 1, kv_collect, &ks, err, sizeof(err)), 0);
	cr_assert_eq(ks.n, 2);
	cr_expect_str_eq(ks.keys[0], "a", "key order");
	cr_expect_eq(ks.vlen[0], 3, "binary value kept whole");
	cr_expect_eq(ks.vlen[1], 2, "replaced value");
	cr_assert_eq(store_kv_del(s, 1, "a", 1, err, sizeof(err)), 0);
	memset(&ks, 0, sizeof(ks));
	cr_assert_eq(store_kv_each(s, 1, kv_collect, &ks, err, sizeof(err)), 0);
	cr_expect_eq(ks.n, 1);
	memset(&ks, 0, sizeof(ks));
	cr_assert_eq(store_kv_each(s, 2, kv_collect, &ks, err, sizeof(err)), 0);
	cr_expect_eq(ks.n, 1, "namespaces are apart");
	store_close(s);
}

/* --------------------------------------------------------- performance */

Test(store, insert_200k_in_batches)
{
	enum { TOTAL = 200000, BATCH = 5000 };
	static const char *logins[] = { "alice@example.com", "bob", "carol",
					 "dave@example.org" };
	struct store *s = open_ok(":memory:", 0);
	struct timespec t0, t1;
	char	err[256] = "", qid[16];
	double	secs;
	int	i;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < TOTAL; i++) {
		struct store_msg m = msg((int64_t) i * 1000, qid, logins[i % 4]);

		snprintf(qid, sizeof(qid), "%X", (unsigned) i + 0x100000u);
		m.uid = i % 7 == 0 ? 33 : -1;
		if (i % BATCH == 0)
			cr_assert_eq(store_begin(s, err, sizeof(err)), 0, "%s", err);
		if (store_add_message(s, &m, err, sizeof(err)) != 0)
			cr_assert_fail("insert %d: %s", i, err);
		if (i % BATCH == BATCH - 1)
			cr_assert_eq(store_commit(s, err, sizeof(err)), 0, "%s", err);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double) (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	fprintf(stderr, "test_store: %d messages in batches of %d into :memory: "
		"in %.3f s (%.0f/s)\n", TOTAL, BATCH, secs, TOTAL / secs);
	cr_assert_eq(store_count_messages(s), TOTAL);
	store_close(s);
}

/* hold_row - "identity state" of the hold walked */
static int
hold_row(void *ctx, const struct store_hold *h)
{
	char *out = ctx;

	snprintf(out, 128, "%s %s", h->identity, h->state);
	return (0);
}

/*
 * A queue file held for one identity stays its own while it is held; after
 * it was released, another identity's hold takes it over (its mail must
 * stay visible under the identity that holds it now).
 */
Test(store, hold_ownership)
{
	struct store *s = NULL;
	struct store_hold h;
	char err[256], got[128];

	cr_assert_eq(store_open(&s, ":memory:", 0, err, sizeof(err)), 0, "%s", err);
	memset(&h, 0, sizeof(h));
	h.host = "mx";
	h.instance = "postfix";
	h.queue_id = "ABC123";
	h.identity = "sasl:alice@example.com";
	h.requested_us = 1;
	cr_assert_eq(store_add_hold(s, &h, err, sizeof(err)), 0, "%s", err);
	h.identity = "ip:192.0.2.7";
	cr_assert_eq(store_add_hold(s, &h, err, sizeof(err)), 0, "%s", err);
	got[0] = '\0';
	store_each_hold(s, "sasl:alice@example.com", NULL, hold_row, got, err, sizeof(err));
	cr_expect_str_eq(got, "sasl:alice@example.com requested", "still alice's while held");
	cr_assert_eq(store_holds_set_state(s, "sasl:alice@example.com", "released", 2, err,
	    sizeof(err)), 0, "%s", err);
	cr_assert_eq(store_add_hold(s, &h, err, sizeof(err)), 0, "%s", err);
	got[0] = '\0';
	store_each_hold(s, "ip:192.0.2.7", NULL, hold_row, got, err, sizeof(err));
	cr_expect_str_eq(got, "ip:192.0.2.7 requested", "released: the new hold takes it over");
	cr_expect_eq(store_count_holds(s, "ip:192.0.2.7"), 1);
	cr_expect_eq(store_count_holds(s, "sasl:alice@example.com"), 0);
	store_close(s);
}

/* ------------------------------------------- private files, lock, busy */

/* mode_of - the permission bits of path, -1 when it does not exist */
static int
mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (int) (st.st_mode & 07777) : -1;
}

/*
 * Issue 11: the database, its -wal and -shm are made 0600 whatever the
 * umask; files an older version left 0644 are made 0600 at a writable
 * open, which says so (store_notes); a read-only open changes nothing.
 */
Test(store, state_files_private, .init = mk_tmpdir, .fini = rm_tmpdir)
{
	static const char *const sfx[] = { "", "-wal", "-shm" };
	struct store *s, *s2;
	char	p[3][160];
	mode_t	old = umask(022);
	size_t	i;

	for (i = 0; i < 3; i++)
		snprintf(p[i], sizeof(p[i]), "%s%s", dbpath, sfx[i]);
	s = open_ok(dbpath, 0);
	cr_expect_str_eq(store_notes(s), "", "nothing to say about a new database");
	for (i = 0; i < 3; i++)
		cr_expect_eq(mode_of(p[i]), 0600, "%s is %o", p[i], mode_of(p[i]));
	/* as an older sendguard left them, while it ran */
	for (i = 0; i < 3; i++)
		cr_assert_eq(chmod(p[i], 0644), 0);
	s2 = open_ok(dbpath, 1);
	cr_expect_eq(mode_of(dbpath), 0644, "read-only: no change");
	store_close(s2);
	s2 = open_ok(dbpath, 0);
	for (i = 0; i < 3; i++) {
		cr_expect_eq(mode_of(p[i]), 0600, "%s is %o", p[i], mode_of(p[i]));
		cr_expect_not_null(strstr(store_notes(s2), p[i]), "notes: %s", store_notes(s2));
	}
	cr_expect_not_null(strstr(store_notes(s2), "was mode 0644 (others could read it): made 0600"),
			   "notes: %s", store_notes(s2));
	store_close(s2);
	store_close(s);
	umask(old);
}

/*
 * Issue 11: one daemon per database.  A second lock of the same database
 * is refused with the holder's pid (flock: even within one process, as
 * each store_lock opens the file anew); after store_unlock it is free.
 */
Test(store, lock_is_exclusive_and_names_its_holder, .init = mk_tmpdir, .fini = rm_tmpdir)
{
	char	err[512] = "", lp[160];
	long	holder = -1;
	int	fd, fd2;

	fd = store_lock(dbpath, &holder, err, sizeof(err));
	cr_assert_geq(fd, 0, "%s", err);
	snprintf(lp, sizeof(lp), "%s.lock", dbpath);
	cr_expect_eq(mode_of(lp), 0600, "lock file mode %o", mode_of(lp));
	fd2 = store_lock(dbpath, &holder, err, sizeof(err));
	cr_expect_eq(fd2, STORE_LOCKED, "a second lock: %d", fd2);
	cr_expect_eq(holder, (long) getpid(), "the holder's pid: %ld", holder);
	store_unlock(fd);
	fd2 = store_lock(dbpath, &holder, err, sizeof(err));
	cr_expect_geq(fd2, 0, "free again: %s", err);
	store_unlock(fd2);
}

/*
 * Issue 11: a write lock that another process holds past the busy
 * timeout is STORE_BUSY (wait and try again), not an error like any
 * other; once it is let go, a batch begins.
 */
Test(store, begin_busy_is_told_apart, .init = mk_tmpdir, .fini = rm_tmpdir)
{
	struct store *s = open_ok(dbpath, 0);
	char	err[512] = "", c;
	int	go[2], ready[2], st;
	pid_t	pid;

	cr_assert_eq(pipe(go), 0);
	cr_assert_eq(pipe(ready), 0);
	if ((pid = fork()) == 0) {
		struct store *o = NULL;
		char	e[512];

		if (store_open(&o, dbpath, 0, e, sizeof(e)) < 0 || store_begin(o, e, sizeof(e)) < 0)
			_exit(1);
		(void) !write(ready[1], "r", 1);
		(void) !read(go[0], &c, 1);	/* hold it until told */
		store_rollback(o);
		store_close(o);
		_exit(0);
	}
	cr_assert_eq(read(ready[0], &c, 1), 1, "the other process never held the lock");
	cr_expect_eq(store_begin(s, err, sizeof(err)), STORE_BUSY, "busy: %s", err);
	cr_expect_not_null(strstr(err, "locked"), "%s", err);
	cr_expect_not_null(strstr(err, dbpath), "%s", err);
	cr_assert_eq(write(go[1], "g", 1), 1);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_expect_eq(store_begin(s, err, sizeof(err)), 0, "%s", err);
	store_rollback(s);
	store_close(s);
}
