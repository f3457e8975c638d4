/*
 * test_blockmap - the pure parts of the actions: access map keys and
 * atomic map files (actions/map), the postmaster's report
 * (actions/notify), exec argv expansion (actions/exec) and postsuper's
 * stdin (actions/hold).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "actions/exec.h"
#include "actions/hold.h"
#include "actions/map.h"
#include "actions/notify.h"
#include "util/buf.h"

#define HDR "# Written by sendguard: identities over a sending limit.\n" \
	    "# Do not edit: sendguard rewrites this file on every block and unblock.\n"
#define REPLY "450 4.7.1 Sending rate limit exceeded"

/* mkdir_tmp - a fresh private directory under /tmp */
static void
mkdir_tmp(char *dir, size_t sz)
{
	snprintf(dir, sz, "/tmp/sg_blockmap_XXXXXX");
	cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
}

/* rm_dir - remove dir and the files in it */
static void
rm_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[4096];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

/* count_entries - files in dir other than . and .. */
static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return (n);
}

/* slurp - whole file into a NUL-terminated buffer; NULL if unreadable */
static char *
slurp(const char *path, size_t *lenp)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	ssize_t r;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || buf == NULL) {
		if (fd >= 0)
			close(fd);
		free(buf);
		return (NULL);
	}
	for (;;) {
		if (len + 1 >= cap) {
			char *nb = realloc(buf, cap *= 2);

			if (nb == NULL) {
				free(buf);
				close(fd);
				return (NULL);
			}
			buf = nb;
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return (buf);
}

/* spew - write text to path (plain, for setting up an "old" map) */
static void
spew(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	cr_assert_not_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* ---- map_key_ok ---- */

struct key_case {
	const char *label;
	const char *key;	/* used when fill_len is 0 */
	size_t	fill_len;	/* >0: key is this many 'a' bytes */
	int	ok;
	const char *why;	/* substring of the reason when refused */
};

static const struct key_case key_cases[] = {
	{ "plain address", "alice@example.com", 0, 1, NULL },
	{ "bare login", "printer-service", 0, 1, NULL },
	{ "plus address", "a+b@x", 0, 1, NULL },
	{ "255 bytes", NULL, 255, 1, NULL },
	{ "dollar-paren is inert in a map", "$(id)@h", 0, 1, NULL },
	{ "backticks are inert in a map", "`id`@h", 0, 1, NULL },
	{ "semicolon is inert in a map", "a;b@h", 0, 1, NULL },
	{ "empty", "", 0, 0, "empty" },
	{ "space", "a b", 0, 0, "whitespace" },
	{ "tab", "a\tb", 0, 0, "whitespace" },
	{ "newline", "a\nb", 0, 0, "whitespace" },
	{ "carriage return", "a\rb", 0, 0, "whitespace" },
	{ "injected action", "evil OK", 0, 0, "whitespace" },
	{ "injected reply code", "x@y.example 550", 0, 0, "whitespace" },
	{ "injected second line", "a\nb REJECT", 0, 0, "whitespace" },
	{ "comment", "#x", 0, 0, "#" },
	{ "256 bytes", NULL, 256, 0, "255" },
	{ "1000 bytes", NULL, 1000, 0, "255" },
	{ "DEL", "a\x7f" "b", 0, 0, "control" },
	{ "escape", "a\x1b[2Jb", 0, 0, "control" },
	{ "UTF-8 e-acute", "caf\xc3\xa9", 0, 0, "non-ASCII" },
	{ "shell command with a space", "$(touch /tmp/p)@h", 0, 0, "whitespace" },
};

Test(blockmap, key_ok_table)
{
	size_t i;

	for (i = 0; i < sizeof(key_cases) / sizeof(key_cases[0]); i++) {
		const struct key_case *c = &key_cases[i];
		const char *why = "unset";
		char *buf = NULL;
		const char *key = c->key;
		int ok;

		if (c->fill_len > 0) {
			buf = malloc(c->fill_len + 1);
			cr_assert_not_null(buf);
			memset(buf, 'a', c->fill_len);
			buf[c->fill_len] = '\0';
			key = buf;
		}
		ok = map_key_ok(key, &why);
		cr_expect_eq(ok, c->ok, "%s: map_key_ok=%d, want %d", c->label, ok, c->ok);
		if (!c->ok) {
			cr_expect(why != NULL && strstr(why, c->why) != NULL,
				  "%s: reason \"%s\" lacks \"%s\"", c->label,
				  why ? why : "(null)", c->why);
			cr_expect_eq(map_key_ok(key, NULL), 0, "%s: NULL why", c->label);
		}
		free(buf);
	}
	cr_expect_eq(map_key_ok(NULL, NULL), 0);
}

/* ---- map_write: content ---- */

struct write_case {
	const char *label;
	const char *keys[6];
	size_t	nkeys;
	const char *reply;
	const char *want;
};

static const struct write_case write_cases[] = {
	{ "sorted, one line per key", { "zed@example.com", "alice@example.com", "printer-service" }, 3,
	  REPLY,
	  HDR "alice@example.com " REPLY "\nprinter-service " REPLY "\nzed@example.com " REPLY "\n" },
	{ "no keys: header only", { NULL }, 0, "HOLD", HDR },
	{ "duplicates written once", { "b", "a", "b" }, 3, "HOLD",
	  HDR "a HOLD\nb HOLD\n" },
	{ "shell metacharacters are themselves", { "$(id)@h", "`id`@h", "a;b@h" }, 3, "REJECT",
	  HDR "$(id)@h REJECT\n`id`@h REJECT\na;b@h REJECT\n" },
	{ "reply with spaces kept", { "bob@example.com" }, 1, "REJECT Sending suspended: contact support",
	  HDR "bob@example.com REJECT Sending suspended: contact support\n" },
};

Test(blockmap, write_content_table)
{
	char dir[64], path[128], err[256];
	size_t i, len;

	mkdir_tmp(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/sasl_access", dir);
	for (i = 0; i < sizeof(write_cases) / sizeof(write_cases[0]); i++) {
		const struct write_case *c = &write_cases[i];
		char *got;

		err[0] = '\0';
		cr_assert_eq(map_write(path, c->keys, c->nkeys, c->reply, err, sizeof(err)), 0,
			     "%s: %s", c->label, err);
		got = slurp(path, &len);
		cr_assert_not_null(got, "%s: unreadable", c->label);
		cr_expect_str_eq(got, c->want, "%s", c->label);
		cr_expect_eq(count_entries(dir), 1, "%s: stray files left", c->label);
		free(got);
	}
	rm_dir(dir);
}

Test(blockmap, write_replaces_existing_with_mode_0644)
{
	const char *keys[] = { "alice@example.com" };
	char dir[64], path[128], err[256], *got;
	struct stat st;
	mode_t old = umask(077);

	mkdir_tmp(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/sender_access", dir);
	spew(path, "old@example.com REJECT old\nmore old stuff that is longer than the new file\n");
	chmod(path, 0600);
	cr_assert_eq(map_write(path, keys, 1, "HOLD", err, sizeof(err)), 0, "%s", err);
	umask(old);
	got = slurp(path, NULL);
	cr_expect_str_eq(got, HDR "alice@example.com HOLD\n");
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0644, "mode %o", (unsigned)(st.st_mode & 07777));
	cr_expect_eq(count_entries(dir), 1);
	free(got);
	rm_dir(dir);
}

/* ---- map_write: refusals ---- */

struct refuse_case {
	const char *label;
	const char *keys[4];
	size_t	nkeys;
	const char *reply;
	const char *err;	/* substring of the error */
};

static const struct refuse_case refuse_cases[] = {
	{ "key with space among good ones", { "good@x", "evil OK", "fine" }, 3, "HOLD", "whitespace" },
	{ "key with reply code", { "x@y.example 550" }, 1, "HOLD", "whitespace" },
	{ "key with newline", { "a\nb REJECT" }, 1, "HOLD", "whitespace" },
	{ "comment key", { "#x" }, 1, "HOLD", "#" },
	{ "empty key", { "" }, 1, "HOLD", "empty" },
	{ "non-ASCII key", { "caf\xc3\xa9" }, 1, "HOLD", "non-ASCII" },
	{ "reply with newline", { "good@x" }, 1, "HOLD\nevil OK", "control" },
	{ "reply with CR", { "good@x" }, 1, "REJECT x\r", "control" },
	{ "empty reply", { "good@x" }, 1, "", "empty" },
	{ "NULL reply", { "good@x" }, 1, NULL, "empty" },
};

Test(blockmap, write_refuses_and_keeps_old_file)
{
	static const char old_text[] = "# old map\nkeep@example.com REJECT\n";
	char dir[64], path[128], err[256], *got;
	size_t i, len;

	mkdir_tmp(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/sasl_access", dir);
	spew(path, old_text);
	for (i = 0; i < sizeof(refuse_cases) / sizeof(refuse_cases[0]); i++) {
		const struct refuse_case *c = &refuse_cases[i];

		err[0] = '\0';
		cr_expect_eq(map_write(path, c->keys, c->nkeys, c->reply, err, sizeof(err)), -1,
			     "%s: accepted", c->label);
		cr_expect(strstr(err, c->err) != NULL, "%s: err \"%s\" lacks \"%s\"",
			  c->label, err, c->err);
		got = slurp(path, &len);
		cr_assert_not_null(got);
		cr_expect(len == sizeof(old_text) - 1 && memcmp(got, old_text, len) == 0,
			  "%s: old file changed", c->label);
		cr_expect_eq(count_entries(dir), 1, "%s: stray files left", c->label);
		free(got);
	}
	rm_dir(dir);
}

Test(blockmap, write_into_missing_directory_fails)
{
	const char *keys[] = { "a@b" };
	char err[256] = "";

	cr_expect_eq(map_write("/nonexistent-sg-dir/map", keys, 1, "HOLD", err, sizeof(err)), -1);
	cr_expect(strstr(err, "/nonexistent-sg-dir") != NULL, "err: %s", err);
}

/* ---- map_write: a concurrent reader never sees a partial map ---- */

#define BIG_KEYS	500
#define REWRITES	200

Test(blockmap, concurrent_reader_sees_whole_files, .timeout = 60)
{
	static char keybuf[BIG_KEYS][32];
	const char *big[BIG_KEYS], *small[] = { "a@x", "b@x", "c@x" };
	char dir[64], path[128], err[256], *want_big, *want_small, *got;
	size_t i, big_len, small_len, len;
	pid_t pid;
	int status;

	mkdir_tmp(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/sasl_access", dir);
	for (i = 0; i < BIG_KEYS; i++) {
		snprintf(keybuf[i], sizeof(keybuf[i]), "user%04zu@example.com", i);
		big[i] = keybuf[i];
	}
	/* The two complete contents, as written by map_write itself. */
	cr_assert_eq(map_write(path, big, BIG_KEYS, REPLY, err, sizeof(err)), 0, "%s", err);
	want_big = slurp(path, &big_len);
	cr_assert_eq(map_write(path, small, 3, REPLY, err, sizeof(err)), 0, "%s", err);
	want_small = slurp(path, &small_len);
	cr_assert(want_big && want_small && big_len > 10000 && small_len < 300);

	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		struct timespec t0, t;
		long reads = 0;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (;;) {
			got = slurp(path, &len);
			if (got == NULL)
				_exit(2);	/* the map vanished */
			if (!((len == big_len && memcmp(got, want_big, len) == 0)
			      || (len == small_len && memcmp(got, want_small, len) == 0)))
				_exit(1);	/* a partial or mixed map */
			free(got);
			reads++;
			clock_gettime(CLOCK_MONOTONIC, &t);
			if ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec)
			    > 1000000000L)
				break;
		}
		_exit(reads > 0 ? 0 : 3);
	}
	for (i = 0; i < REWRITES; i++) {
		int r = (i % 2 == 0)
		    ? map_write(path, big, BIG_KEYS, REPLY, err, sizeof(err))
		    : map_write(path, small, 3, REPLY, err, sizeof(err));

		if (r != 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			cr_assert_fail("rewrite %zu: %s", i, err);
		}
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "reader saw a partial map or none (status %d)", status);
	cr_expect_eq(count_entries(dir), 1, "temporary files left behind");
	free(want_big);
	free(want_small);
	rm_dir(dir);
}

/* ---- notify_compose ---- */

/* compose - notify_compose into a malloc'd string */
static char *
compose(const struct notify_info *ni, int *rc)
{
	struct buf b;
	char *msg;

	buf_init(&b, 1 << 20);
	*rc = notify_compose(&b, ni);
	cr_assert_not_null(msg = strdup(buf_str(&b)));
	buf_free(&b);
	return (msg);
}

/* base_info - a typical crossing at 2024-03-05T08:00:01Z */
static struct notify_info
base_info(const char *identity)
{
	struct notify_info ni = {
		.identity = identity, .rule = "default", .limit = "100/1h",
		.window = "1h", .threshold = 100, .count = 101,
		.first_qid = "4Tq1Xb0Fz2z9kL", .last_qid = "1A3A1A7238F",
		.time_us = 1709625601000000LL,
		.actions = "hold: 12 queued messages held; block: in sasl map",
		.hostname = "mx1.example.com",
		.from = "sendguard@mx1.example.com", .to = "postmaster@example.com",
		.monitor = 0,
	};
	return (ni);
}

/* check_shape - headers are exactly the expected set; lines are sane */
static void
check_shape(const char *msg, const char *label)
{
	static const char *const names[] = {
		"From: ", "To: ", "Subject: ", "Date: ", "Auto-Submitted: ",
		"MIME-Version: ", "Content-Type: ", "Content-Transfer-Encoding: ",
	};
	const char *p = msg, *nl;
	int in_hdr = 1, nhdr = 0;
	size_t k;

	for (; *p != '\0'; p = nl + 1) {
		size_t len;

		nl = strchr(p, '\n');
		cr_assert_not_null(nl, "%s: last line not terminated", label);
		len = (size_t)(nl - p);
		cr_expect(len < 998, "%s: line of %zu bytes", label, len);
		for (k = 0; k < len; k++)
			cr_expect(p[k] != '\r', "%s: CR in output", label);
		if (in_hdr && len == 0) {
			in_hdr = 0;
			continue;
		}
		if (in_hdr) {
			int known = 0;

			for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
				if (strncmp(p, names[k], strlen(names[k])) == 0)
					known = 1;
			cr_expect(known, "%s: unexpected header line \"%.*s\"", label, (int)len, p);
			nhdr++;
		} else {
			cr_expect(strncmp(p, "From ", 5) != 0, "%s: body line starts with From", label);
		}
	}
	cr_expect_eq(nhdr, 8, "%s: %d header lines", label, nhdr);
	cr_expect_eq(in_hdr, 0, "%s: no body", label);
}

/* header - the value of header name in msg, malloc'd; NULL if absent */
static char *
header(const char *msg, const char *name)
{
	size_t nl = strlen(name);
	const char *p = msg;

	while (*p != '\0' && *p != '\n') {
		const char *e = strchr(p, '\n');

		if (strncmp(p, name, nl) == 0 && p[nl] == ':' && p[nl + 1] == ' ')
			return (strndup(p + nl + 2, (size_t)(e - p) - nl - 2));
		p = e + 1;
	}
	return (NULL);
}

struct subj_case {
	const char *label;
	const char *identity;
	const char *subject;	/* expected Subject value */
	const char *body_id;	/* expected "Identity:" value */
};

static const struct subj_case subj_cases[] = {
	{ "plain", "sasl:alice@example.com",
	  "[sendguard] mx1.example.com: sasl:alice@example.com over limit (default)",
	  "sasl:alice@example.com" },
	{ "CRLF header injection", "sasl:x\r\nBcc: victim@example.org",
	  "[sendguard] mx1.example.com: sasl:x\\x0d\\x0aBcc: victim@example.org over limit (default)",
	  "sasl:x\\x0d\\x0aBcc: victim@example.org" },
	{ "bare LF", "sasl:a\nFrom evil",
	  "[sendguard] mx1.example.com: sasl:a\\x0aFrom evil over limit (default)",
	  "sasl:a\\x0aFrom evil" },
	{ "terminal escape and DEL", "sasl:\x1b[31mred\x7f",
	  "[sendguard] mx1.example.com: sasl:\\x1b[31mred\\x7f over limit (default)",
	  "sasl:\\x1b[31mred\\x7f" },
	{ "UTF-8 bytes", "sasl:caf\xc3\xa9",
	  "[sendguard] mx1.example.com: sasl:caf\\xc3\\xa9 over limit (default)",
	  "sasl:caf\\xc3\\xa9" },
	{ "backslash is escaped too", "sasl:a\\x0a",
	  "[sendguard] mx1.example.com: sasl:a\\x5cx0a over limit (default)",
	  "sasl:a\\x5cx0a" },
};

Test(notify, subject_and_identity_sanitised)
{
	size_t i;

	for (i = 0; i < sizeof(subj_cases) / sizeof(subj_cases[0]); i++) {
		const struct subj_case *c = &subj_cases[i];
		struct notify_info ni = base_info(c->identity);
		char want[1200], *msg, *subj;
		int rc;

		msg = compose(&ni, &rc);
		cr_assert_eq(rc, 0, "%s", c->label);
		check_shape(msg, c->label);
		subj = header(msg, "Subject");
		cr_expect(subj != NULL && strcmp(subj, c->subject) == 0,
			  "%s: Subject \"%s\"", c->label, subj ? subj : "(none)");
		snprintf(want, sizeof(want), "\nIdentity:        %s\n", c->body_id);
		cr_expect(strstr(msg, want) != NULL, "%s: body lacks %s", c->label, want);
		free(subj);
		free(msg);
	}
}

Test(notify, long_identity_truncated)
{
	char *id = malloc(1201), *msg, *subj;
	struct notify_info ni;
	const char *p, *line;
	int rc;

	cr_assert_not_null(id);
	memcpy(id, "sasl:", 5);
	memset(id + 5, 'x', 1195);
	id[1200] = '\0';
	ni = base_info(id);
	msg = compose(&ni, &rc);
	cr_assert_eq(rc, 0);
	check_shape(msg, "long identity");
	subj = header(msg, "Subject");
	cr_assert_not_null(subj);
	p = strstr(subj, "sasl:");
	cr_assert_not_null(p);
	/* 100 bytes of identity then "..." */
	cr_expect(strncmp(p + 100, "... over limit", 14) == 0, "Subject: %s", subj);
	line = strstr(msg, "\nIdentity:");
	cr_assert_not_null(line);
	cr_expect(strstr(line, "...\n") != NULL);
	cr_expect_null(strstr(msg, "sendguard unblock sasl:xxx"),
		       "a truncated identity must not be offered as a command");
	free(subj);
	free(msg);
	free(id);
}

struct body_case {
	const char *label;
	const char *needle;
};

static const struct body_case body_cases[] = {
	{ "rule", "\nRule:            default\n" },
	{ "limit", "\nLimit:           100/1h\n" },
	{ "window", "\nWindow:          1h\n" },
	{ "count over threshold", "\nCount:           101 > 100 (threshold)\n" },
	{ "first qid", "\nFirst queue ID:  4Tq1Xb0Fz2z9kL\n" },
	{ "last qid", "\nLast queue ID:   1A3A1A7238F\n" },
	{ "when RFC 3339", "\nWhen:            2024-03-05T08:00:01Z\n" },
	{ "actions as given", "\nActions:         hold: 12 queued messages held; block: in sasl map\n" },
	{ "explain hint", "\nTo see why:      sendguard explain sasl:bob@example.com\n" },
	{ "unblock hint", "\nTo unblock:      sendguard unblock sasl:bob@example.com\n" },
	{ "From header", "From: sendguard <sendguard@mx1.example.com>\n" },
	{ "To header", "\nTo: postmaster@example.com\n" },
	{ "Date header", "\nDate: Tue, 05 Mar 2024 08:00:01 +0000\n" },
	{ "Auto-Submitted", "\nAuto-Submitted: auto-generated\n" },
	{ "MIME-Version", "\nMIME-Version: 1.0\n" },
	{ "Content-Type", "\nContent-Type: text/plain; charset=UTF-8\n" },
	{ "CTE", "\nContent-Transfer-Encoding: 8bit\n" },
};

Test(notify, body_fields)
{
	struct notify_info ni = base_info("sasl:bob@example.com");
	char *msg;
	size_t i;
	int rc;

	msg = compose(&ni, &rc);
	cr_assert_eq(rc, 0);
	check_shape(msg, "body");
	for (i = 0; i < sizeof(body_cases) / sizeof(body_cases[0]); i++)
		cr_expect(strstr(msg, body_cases[i].needle) != NULL, "%s: missing \"%s\" in\n%s",
			  body_cases[i].label, body_cases[i].needle, msg);
	cr_expect_null(strstr(msg, "monitor"), "enforce mode mentions monitor");
	free(msg);
}

Test(notify, monitor_note_and_missing_qids)
{
	struct notify_info ni = base_info("sasl:bob@example.com");
	char *msg;
	int rc;

	ni.monitor = 1;
	ni.first_qid = NULL;
	ni.last_qid = NULL;
	msg = compose(&ni, &rc);
	cr_assert_eq(rc, 0);
	check_shape(msg, "monitor");
	cr_expect_not_null(strstr(msg, "\nMode:            monitor - nothing was done"), "%s", msg);
	cr_expect_not_null(strstr(msg, "\nFirst queue ID:  (none)\n"));
	cr_expect_not_null(strstr(msg, "\nLast queue ID:   (none)\n"));
	free(msg);
}

Test(notify, hint_quotes_odd_identity)
{
	struct notify_info ni = base_info("sasl:o'brien smith");
	char *msg;
	int rc;

	msg = compose(&ni, &rc);
	cr_assert_eq(rc, 0);
	cr_expect_not_null(strstr(msg, "sendguard unblock 'sasl:o'\\''brien smith'\n"), "%s", msg);
	free(msg);
	ni = base_info("sasl:x\r\nBcc: v@e");
	msg = compose(&ni, &rc);
	cr_assert_eq(rc, 0);
	cr_expect_null(strstr(msg, "sendguard unblock"), "escaped identity offered as a command");
	cr_expect_not_null(strstr(msg, "\nNote: the identity is too long or has unprintable bytes"));
	free(msg);
}

struct addr_case {
	const char *label;
	const char *from, *to;
};

static const struct addr_case addr_cases[] = {
	{ "To with CRLF", "sg@x", "postmaster@x\r\nBcc: a@b" },
	{ "From with LF", "sg@x\nBcc: a@b", "postmaster@x" },
	{ "empty To", "sg@x", "" },
	{ "NULL From", NULL, "postmaster@x" },
};

Test(notify, refuses_control_characters_in_addresses)
{
	size_t i;

	for (i = 0; i < sizeof(addr_cases) / sizeof(addr_cases[0]); i++) {
		struct notify_info ni = base_info("sasl:bob");
		char *msg;
		int rc;

		ni.from = addr_cases[i].from;
		ni.to = addr_cases[i].to;
		msg = compose(&ni, &rc);
		cr_expect_eq(rc, -1, "%s: accepted", addr_cases[i].label);
		cr_expect(msg == NULL || strstr(msg, "Bcc:") == NULL, "%s: Bcc written",
			  addr_cases[i].label);
		free(msg);
	}
}

/* ---- exec_expand ---- */

struct exec_case {
	const char *label;
	const char *tmpl[5];
	size_t	n;
	const char *want[5];
};

static const struct exec_case exec_cases[] = {
	{ "all variables", { "/bin/page", "%i", "%r", "%c", "%w" }, 5,
	  { "/bin/page", "sasl:a b;$(x)@h", "default", "101", "1h" } },
	{ "inside a word", { "/bin/p", "--who=%i", "--n=%c/%w" }, 3,
	  { "/bin/p", "--who=sasl:a b;$(x)@h", "--n=101/1h" } },
	{ "queue ids", { "/bin/p", "%q" }, 2, { "/bin/p", "AAA1,BBB2" } },
	{ "percent percent", { "/bin/p", "100%%", "%%i" }, 3, { "/bin/p", "100%", "%i" } },
	{ "unknown kept", { "/bin/p", "%x%y", "%" , "a%" }, 4, { "/bin/p", "%x%y", "%", "a%" } },
	{ "argv0 not expanded", { "/opt/%i/bin", "%i" }, 2, { "/opt/%i/bin", "sasl:a b;$(x)@h" } },
	{ "no variables", { "/bin/true" }, 1, { "/bin/true" } },
};

Test(exec, expand_table)
{
	struct exec_vars v = {
		.identity = "sasl:a b;$(x)@h", .rule = "default", .count = 101,
		.window = "1h", .qids = "AAA1,BBB2",
	};
	char err[128];
	size_t i, j;

	for (i = 0; i < sizeof(exec_cases) / sizeof(exec_cases[0]); i++) {
		const struct exec_case *c = &exec_cases[i];
		char **out = NULL;

		cr_assert_eq(exec_expand(c->tmpl, c->n, &v, &out, err, sizeof(err)), 0,
			     "%s: %s", c->label, err);
		for (j = 0; j < c->n; j++)
			cr_expect_str_eq(out[j], c->want[j], "%s: argv[%zu]", c->label, j);
		cr_expect_null(out[c->n], "%s: not NULL-terminated", c->label);
		exec_free(out);
	}
}

Test(exec, identity_byte_exact_and_null_values)
{
	const char *tmpl[] = { "/bin/p", "%i", "[%r]" };
	struct exec_vars v = { .identity = "a\tb\\c\"d'", .rule = NULL };
	char **out = NULL, err[128];

	cr_assert_eq(exec_expand(tmpl, 3, &v, &out, err, sizeof(err)), 0);
	cr_expect_str_eq(out[1], "a\tb\\c\"d'");
	cr_expect_str_eq(out[2], "[]");
	exec_free(out);
}

/*
 * An element that would pass 64 KiB has its queue ID list cut after its
 * last whole ID, marked "...", and the hook still runs (exec_expand
 * returns 1); an element too long without a list is still refused.
 */
Test(exec, long_queue_list_cut_with_marker)
{
	const char *tmpl[] = { "/bin/p", "--ids=%q;%i", "%q" };
	struct exec_vars v = { .identity = "sasl:alice@example.com" };
	char **out = NULL, err[128] = "", *ids, *p;
	size_t i, n = 9000, len;

	ids = malloc(n * 11 + 1);
	cr_assert_not_null(ids);
	for (i = 0, p = ids; i < n; i++)
		p += snprintf(p, 12, "%sQ%09zu", i ? "," : "", i);
	v.qids = ids;
	cr_assert_eq(exec_expand(tmpl, 3, &v, &out, err, sizeof(err)), 1, "%s", err);
	for (i = 1; i < 3; i++) {
		len = strlen(out[i]);
		cr_expect_leq(len, 64 * 1024, "argv[%zu] is %zu bytes", i, len);
		cr_expect_gt(len, 60 * 1024, "argv[%zu] keeps what fits: %zu bytes", i, len);
	}
	cr_expect_eq(strncmp(out[1], "--ids=Q000000000,Q000000001,", 28), 0);
	p = strstr(out[1], ",...;sasl:alice@example.com");
	cr_assert_not_null(p, "the cut is marked, the rest of the element kept");
	cr_expect_eq((size_t)(p - (out[1] + 6) + 1) % 11, 0, "cut after a whole queue ID");
	len = strlen(out[2]);
	cr_expect_str_eq(out[2] + len - 4, ",...", "the list alone, marked at its end");
	cr_expect_eq((len - 3) % 11, 0, "whole queue IDs only: %zu", len);
	cr_expect_eq(strncmp(out[2], ids, len - 3), 0, "the kept part is the list's start");
	exec_free(out);
	/* short enough: unchanged, 0 */
	v.qids = "AAA1,BBB2";
	cr_expect_eq(exec_expand(tmpl, 3, &v, &out, err, sizeof(err)), 0);
	cr_expect_str_eq(out[2], "AAA1,BBB2");
	exec_free(out);
	free(ids);
}

Test(exec, element_over_64k_without_a_list_refused)
{
	const char *tmpl[] = { "/bin/p", "%i%i" };
	struct exec_vars v = { 0 };
	char *big = malloc(40 * 1024), **out = (char **)1, err[128] = "";

	cr_assert_not_null(big);
	memset(big, 'x', 40 * 1024 - 1);
	big[40 * 1024 - 1] = '\0';
	v.identity = big;
	cr_expect_eq(exec_expand(tmpl, 2, &v, &out, err, sizeof(err)), -1);
	cr_expect_null(out);
	cr_expect(strstr(err, "longer") != NULL, "err: %s", err);
	tmpl[1] = "%i";
	cr_expect_eq(exec_expand(tmpl, 2, &v, &out, err, sizeof(err)), 0);
	exec_free(out);
	free(big);
}

/* ---- hold_stdin ---- */

struct hold_case {
	const char *label;
	const char *qids[5];
	size_t	n;
	const char *want;	/* NULL: none valid */
	size_t	skipped;
};

static const struct hold_case hold_cases[] = {
	{ "short and long ids", { "1A3A1A7238F", "4Tq1Xb0Fz2z9kL" }, 2,
	  "1A3A1A7238F\n4Tq1Xb0Fz2z9kL\n", 0 },
	{ "invalid skipped", { "1A3A1A7238F", "ALL", "-d", "../x", "AB CD" }, 5,
	  "1A3A1A7238F\n", 4 },
	{ "newline injection", { "ABC\nALL", "DEF" }, 2, "DEF\n", 1 },
	{ "too long", { "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", "B1" }, 2, "B1\n", 1 },
	{ "empty and NULL", { "", NULL }, 2, NULL, 2 },
	{ "none", { NULL }, 0, NULL, 0 },
};

Test(hold, stdin_table)
{
	size_t i;

	for (i = 0; i < sizeof(hold_cases) / sizeof(hold_cases[0]); i++) {
		const struct hold_case *c = &hold_cases[i];
		size_t len = 99, skipped = 99;
		char *got = hold_stdin(c->qids, c->n, &len, &skipped);

		if (c->want == NULL) {
			cr_expect_null(got, "%s", c->label);
			cr_expect_eq(len, 0, "%s", c->label);
		} else {
			cr_assert_not_null(got, "%s", c->label);
			cr_expect_eq(len, strlen(c->want), "%s: len", c->label);
			cr_expect(memcmp(got, c->want, len) == 0, "%s: \"%.*s\"", c->label,
				  (int)len, got);
		}
		cr_expect_eq(skipped, c->skipped, "%s: skipped %zu", c->label, skipped);
		free(got);
	}
}
