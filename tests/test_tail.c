/*
 * test_tail - the rotation-safe log follower: every line once, in order,
 * with the exact position after it, through appends in pieces, rename
 * rotation, copytruncate, delete and recreate, a missing log, restarts at
 * a committed position (also after a rotation or truncation while down),
 * over-long lines, standard input, and no wakeup without a change.
 *
 * Every delivered position is checked against the file itself: the file
 * with that (dev, ino) in the test directory must hold the line (and its
 * newline) just before the offset.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "count/tail.h"

static char dir[] = "/tmp/sg-tail-XXXXXX";

static void
setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void
teardown(void)
{
	char	path[600];
	struct dirent *d;
	DIR    *dp;

	if ((dp = opendir(dir)) == NULL)
		return;
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		unlink(path);
	}
	closedir(dp);
	rmdir(dir);
}

/* fpath - a file of the test directory */
static const char *
fpath(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", dir, name);
	return (buf);
}

/* collected lines and positions */
struct got {
	char  **line;
	struct tail_pos *pos;
	size_t	n, cap, seen;
	size_t	pos_checked, pos_unchecked;
	char	bad[1024];
	char	notes[8192];
	char	cache[600];	/* last file found for a (dev, ino) */
};

/* find_inode - name of the test directory's file with that (dev, ino) */
static int
find_inode(struct got *g, const struct tail_pos *p)
{
	struct stat st;
	struct dirent *d;
	DIR    *dp;

	if (g->cache[0] && stat(g->cache, &st) == 0
	    && (uint64_t)st.st_dev == p->dev && (uint64_t)st.st_ino == p->ino)
		return (1);
	if ((dp = opendir(dir)) == NULL)
		return (0);
	while ((d = readdir(dp)) != NULL) {
		snprintf(g->cache, sizeof(g->cache), "%s/%s", dir, d->d_name);
		if (stat(g->cache, &st) == 0 && S_ISREG(st.st_mode)
		    && (uint64_t)st.st_dev == p->dev && (uint64_t)st.st_ino == p->ino) {
			closedir(dp);
			return (1);
		}
	}
	closedir(dp);
	g->cache[0] = '\0';
	return (0);
}

/* pos_check - does the file hold the line just before the position? */
static void
pos_check(struct got *g, const char *line, size_t len, const struct tail_pos *p)
{
	char   *buf;
	size_t	want;
	ssize_t n;
	int	fd, nl;

	if (!find_inode(g, p)) {
		g->pos_unchecked++;	/* deleted file still open */
		return;
	}
	cr_assert_geq(p->offset, len);
	want = len + (p->offset > len ? 1 : 0);
	cr_assert_not_null(buf = malloc(want + 1));
	cr_assert_geq(fd = open(g->cache, O_RDONLY), 0);
	n = pread(fd, buf, want, (off_t)(p->offset - want));
	close(fd);
	nl = n == (ssize_t)want && want > len && buf[want - 1] == '\n';
	if (n != (ssize_t)want
	    || memcmp(nl ? buf : buf + (want - len), line, len) != 0
	    || (!nl && want > len && buf[0] != '\n')) {
		if (!g->bad[0])
			snprintf(g->bad, sizeof(g->bad), "line %zu (%.40s) not before offset %llu of %s",
			    g->n, line, (unsigned long long)p->offset, g->cache);
	} else
		g->pos_checked++;
	free(buf);
}

/* collect - the line callback: keep the line (long ones as <L{len}>), check its position */
static int
collect(void *ctx, const char *line, size_t len, const struct tail_pos *after)
{
	struct got *g = ctx;
	char	tag[32];

	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 64;
		cr_assert_not_null(g->line = realloc(g->line, g->cap * sizeof(*g->line)));
		cr_assert_not_null(g->pos = realloc(g->pos, g->cap * sizeof(*g->pos)));
	}
	pos_check(g, line, len, after);
	if (len > 1024) {
		snprintf(tag, sizeof(tag), "<L%zu>", len);
		cr_assert_not_null(g->line[g->n] = strdup(tag));
	} else
		cr_assert_not_null(g->line[g->n] = strndup(line, len));
	g->pos[g->n] = *after;
	g->n++;
	return (0);
}

/* take_note - the note callback: keep every note */
static void
take_note(void *ctx, const char *msg)
{
	struct got *g = ctx;
	size_t	o = strlen(g->notes);

	cr_assert_null(strchr(msg, '\n'), "note with newline: %s", msg);
	snprintf(g->notes + o, sizeof(g->notes) - o, "%s\n", msg);
}

static void
got_free(struct got *g)
{
	size_t	i;

	for (i = 0; i < g->n; i++)
		free(g->line[i]);
	free(g->line);
	free(g->pos);
}

/* since - the lines collected since the last call, joined with '|' */
static void
since(struct got *g, char *out, size_t len)
{
	size_t	o = 0, first = g->seen;

	out[0] = '\0';
	for (; g->seen < g->n && o < len; g->seen++)
		o += (size_t)snprintf(out + o, len - o, "%s%s", g->seen > first ? "|" : "",
		    g->line[g->seen]);
}

/* pump - call tail_read until it has nothing more; the count */
static long
pump(struct tail *t, struct got *g, size_t max)
{
	char	err[512];
	long	r, total = 0;
	int	i;

	for (i = 0; i < 1000; i++) {
		r = tail_read(t, collect, g, max, err, sizeof(err));
		cr_assert_geq(r, 0, "tail_read: %s", err);
		if (r == 0 || max != 0)
			break;
		total += r;
	}
	return (total + (r > 0 ? r : 0));
}

/* append - write bytes to a file of the test directory (created if need be) */
static void
append(const char *name, const char *data, size_t n)
{
	char	p[600];
	int	fd;

	cr_assert_geq(fd = open(fpath(name, p, sizeof(p)), O_WRONLY | O_APPEND | O_CREAT, 0644), 0);
	cr_assert_eq(write(fd, data, n), (ssize_t)n);
	close(fd);
}

/* ---- scenarios: one row per behaviour ---- */

enum op {
	END = 0,
	APPEND,		/* a: file, b: text */
	LONG,		/* a: file, n: bytes of 'x' then a newline (n < 0: -n bytes, no newline) */
	TOUCH,		/* a: file created empty */
	HOLD,		/* a: file opened by the "writer" (O_APPEND) */
	HWRITE,		/* b: text written through the held descriptor */
	HCLOSE,
	MV,		/* a -> b */
	RM,		/* a */
	TRUNC,		/* a truncated to 0 */
	COPY,		/* a copied to b */
	OPEN,		/* n: enum tail_start; resume NULL */
	RESUME,		/* open at the position of the last line collected */
	CLOSE,
	READ,		/* tail_read until nothing more; n > 0: one call with max_lines n */
	EXPECT,		/* b: the lines since the last EXPECT, joined with '|' */
};

struct step {
	enum op	op;
	const char *a, *b;
	long	n;
};

struct scen {
	const char *name;
	struct step s[32];
	uint64_t rotations, truncations, long_lines, reopens;
	const char *note;	/* a note must contain this (NULL: no check) */
};

#define BEG	TAIL_START_BEGINNING
#define ENDPOS	TAIL_START_END

static const struct scen scens[] = {
	{ "appends in pieces wait for their newline", {
		{ TOUCH, "log", 0, 0 }, { OPEN, 0, 0, BEG }, { APPEND, "log", "a\nb\n", 0 }, { READ, 0, 0, 0 },
		{ EXPECT, 0, "a|b", 0 }, { APPEND, "log", "c\nd", 0 }, { READ, 0, 0, 0 },
		{ EXPECT, 0, "c", 0 }, { APPEND, "log", "\n\ne\r\n", 0 }, { READ, 0, 0, 0 },
		{ EXPECT, 0, "d||e\r", 0 } }, 0, 0, 0, 0, NULL },
	{ "start at end skips what was there", {
		{ APPEND, "log", "old1\nold2\n", 0 }, { OPEN, 0, 0, ENDPOS }, { READ, 0, 0, 0 },
		{ EXPECT, 0, "", 0 }, { APPEND, "log", "new\n", 0 }, { READ, 0, 0, 0 },
		{ EXPECT, 0, "new", 0 } }, 0, 0, 0, 0, NULL },
	{ "start at end mid-line starts at the line's beginning", {
		{ APPEND, "log", "old\npart", 0 }, { OPEN, 0, 0, ENDPOS }, { READ, 0, 0, 0 },
		{ EXPECT, 0, "", 0 }, { APPEND, "log", "ial\n", 0 }, { READ, 0, 0, 0 },
		{ EXPECT, 0, "partial", 0 } }, 0, 0, 0, 0, NULL },
	{ "start at end of a file without any newline starts at 0", {
		{ APPEND, "log", "part", 0 }, { OPEN, 0, 0, ENDPOS },
		{ APPEND, "log", "ial\n", 0 }, { READ, 0, 0, 0 },
		{ EXPECT, 0, "partial", 0 } }, 0, 0, 0, 0, NULL },
	{ "start at beginning reads what was there", {
		{ APPEND, "log", "a\nb\n", 0 }, { OPEN, 0, 0, BEG }, { READ, 0, 0, 0 },
		{ EXPECT, 0, "a|b", 0 } }, 0, 0, 0, 0, NULL },
	{ "rename rotation: old fd then new file", {
		{ TOUCH, "log", 0, 0 }, { OPEN, 0, 0, BEG }, { APPEND, "log", "a\n", 0 }, { READ, 0, 0, 0 },
		{ EXPECT, 0, "a", 0 }, { HOLD, "log", 0, 0 }, { MV, "log", "log.1", 0 },
		{ HWRITE, 0, "b\n", 0 }, { READ, 0, 0, 0 }, { EXPECT, 0, "b", 0 },
		{ HWRITE, 0, "c\n", 0 }, { HCLOSE, 0, 0, 0 },
		{ APPEND, "log", "d\n", 0 }, { READ, 0, 0, 0 }, { EXPECT, 0, "c|d", 0 },
		{ APPEND, "log", "e\n", 0 }, { READ, 0, 0, 0 }, { EXPECT, 0, "e", 0 } },
		1, 0, 0, 0, "renamed away" },
	{ "rename rotation: old file kept while the new one is empty", {
		{ TOUCH, "log", 0, 0 }, { OPEN, 0, 0, BEG }, { APPEND, "log", "a\n", 0 }, { READ, 0, 0, 0 },
		{ HOLD, "log", 0, 0 }, { MV, "log", "log.1", 0 }, { TOUCH, "log", 0, 0 },
		{ READ, 0, 0, 0 }, { HWRITE, 0, "b\n", 0 }, { READ, 0, 0, 0 },
		{ EXPECT, 0, "a|b", 0 }, { HWRITE, 0, "c\n", 0 }, { HCLOSE, 0, 0, 0 },
		{ APPEND, "log", "d\n", 0 }, { READ, 0, 0, 0 }, { EXPECT, 0, "c|d", 0 } },
		1, 0, 0, 0, "still empty" },
	{ "rename rotation: unterminated last line of the old file is a line", {
		{ TOUCH, "log", 0, 0 }, { OPEN, 0, 0, BEG }, { APPEND, "log", "a\nb", 0 }, { READ, 0, 0, 0 },
		{ EXPECT, 0, "a", 0 }, { MV, "log", "log.1", 0 }, { APPEND, "log", "c\n", 0 },
		{ READ, 0, 0, 0 }, { EXPECT, 0, "b|c", 0 } }, 1, 0, 0, 0, NULL },
	{ "copytruncate restarts at 0", {
		{ TOUCH, "log", 0, 0 }, { OPEN, 0, 0, BEG }, { APPEND, "log", "aaaa\nbbbb\n", 0 }, { READ, 0, 0, 0 },
		{ EXPECT, 0, "aaaa|bbbb", 0 }, { COPY, "log", "log.1", 0 }, { TRUNC, "log", 0, 0 },
		{ APPEND, "log", "c\n", 0 }, { READ, 0, 0, 0 }, { EXPECT, 0, "c", 0 } },
		0, 1, 0, 0, "truncated" },
	{ "copytruncate then more than before: first line differs", {
		{ TOUCH, "log", 0, 0 }, { OPEN, 0, 0, BEG }, { APPEND, "log", "1\n2\n", 0 }, { READ, 0, 0, 0 },
		{ EXPECT, 0, "1|2", 0 }, { COPY, "log", "log.1", 0 }, { TRUNC, "log", 0, 0 },
		{ APPEND, "log", "333333\n444444\n", 0 }, { READ, 0, 0, 0 },
		{ EXPECT, 0, "333333|444444", 0 } }, 0, 1, 0, 0, "truncated" },
	{ "copytruncate after the first line was checked, then more than before, a first line as long", {
		{ TOUCH, "log", 0, 0 }, { OPEN, 0, 0, BEG }, { APPEND, "log", "1\n2\n", 0 }, { READ, 0, 0, 0 },
		{ EXPECT, 0, "1|2", 0 }, { APPEND, "log", "3\n", 0 }, { READ, 0, 0, 0 },
		{ APPEND, "log", "4\n", 0 }, { READ, 0, 0, 0 }, { EXPECT, 0, "3|4", 0 },
		{ COPY, "log", "log.1", 0 }, { TRUNC, "log", 0, 0 },
		{ APPEND, "log", "5\n6666666\n", 0 }, { READ, 0, 0, 0 },
		{ EXPECT, 0, "5|6666666", 0 } }, 0, 1, 0, 0, "truncated" },
	{ "delete and recreate", {
		{ TOUCH, "log", 0, 0 }, { OPEN, 0, 0, BEG }, { APPEND, "log", "a\n", 0 }, { READ, 0, 0, 0 },
		{ HOLD, "log", 0, 0 }, { RM, "log", 0, 0 }, { HWRITE, 0, "b\n", 0 },
		{ HCLOSE, 0, 0, 0 }, { READ, 0, 0, 0 }, { EXPECT, 0, "a|b", 0 },
		{ APPEND, "log", "c\n", 0 }, { READ, 0, 0, 0 }, { EXPECT, 0, "c", 0 } },
		0, 0, 0, 1, "deleted" },
	{ "delete and recreate before the reader wakes", {
		{ TOUCH, "log", 0, 0 }, { OPEN, 0, 0, BEG }, { APPEND, "log", "a\n", 0 }, { READ, 0, 0, 0 },
		{ HOLD, "log", 0, 0 }, { RM, "log", 0, 0 }, { HWRITE, 0, "b\n", 0 },
		{ HCLOSE, 0, 0, 0 }, { APPEND, "log", "c\n", 0 }, { READ, 0, 0, 0 },
		{ EXPECT, 0, "a|b|c", 0 } }, 0, 0, 0, 1, "deleted" },
	{ "missing log is waited for and read from 0", {
		{ OPEN, 0, 0, ENDPOS }, { READ, 0, 0, 0 }, { EXPECT, 0, "", 0 },
		{ APPEND, "log", "a\nb\n", 0 }, { READ, 0, 0, 0 }, { EXPECT, 0, "a|b", 0 } },
		0, 0, 0, 1, "does not exist" },
	{ "resume at the committed position", {
		{ APPEND, "log", "a\nb\nc\n", 0 }, { OPEN, 0, 0, BEG }, { READ, 0, 0, 1 },
		{ EXPECT, 0, "a", 0 }, { CLOSE, 0, 0, 0 }, { APPEND, "log", "d\n", 0 },
		{ RESUME, 0, 0, 0 }, { READ, 0, 0, 0 }, { EXPECT, 0, "b|c|d", 0 } },
		0, 0, 0, 0, "resuming at offset 2" },
	{ "resume after a rotation while down finishes the old file", {
		{ TOUCH, "log", 0, 0 }, { OPEN, 0, 0, BEG }, { APPEND, "log", "a\n", 0 }, { READ, 0, 0, 0 },
		{ CLOSE, 0, 0, 0 }, { APPEND, "log", "b\n", 0 }, { MV, "log", "log.1", 0 },
		{ APPEND, "log.1", "c\n", 0 }, { APPEND, "log", "d\n", 0 },
		{ RESUME, 0, 0, 0 }, { READ, 0, 0, 0 }, { EXPECT, 0, "a|b|c|d", 0 },
		{ APPEND, "log", "e\n", 0 }, { READ, 0, 0, 0 }, { EXPECT, 0, "e", 0 } },
		2, 0, 0, 0, "log.1" },
	{ "resume after two rotations while down reads each rotated file in order", {
		{ TOUCH, "log", 0, 0 }, { OPEN, 0, 0, BEG }, { APPEND, "log", "a\n", 0 }, { READ, 0, 0, 0 },
		{ CLOSE, 0, 0, 0 }, { APPEND, "log", "b\n", 0 }, { MV, "log", "log.1", 0 },
		{ APPEND, "log", "c\n", 0 }, { MV, "log.1", "log.2", 0 }, { MV, "log", "log.1", 0 },
		{ APPEND, "log", "d\n", 0 },
		{ RESUME, 0, 0, 0 }, { READ, 0, 0, 0 }, { EXPECT, 0, "a|b|c|d", 0 },
		{ APPEND, "log", "e\n", 0 }, { READ, 0, 0, 0 }, { EXPECT, 0, "e", 0 } },
		3, 0, 0, 0, "rotated after it" },
	{ "resume after copytruncate while down finishes the copy first", {
		{ TOUCH, "log", 0, 0 }, { OPEN, 0, 0, BEG }, { APPEND, "log", "aaaa\n", 0 }, { READ, 0, 0, 0 },
		{ CLOSE, 0, 0, 0 }, { APPEND, "log", "bbbb\n", 0 }, { COPY, "log", "log.1", 0 },
		{ TRUNC, "log", 0, 0 }, { APPEND, "log", "cccc\n", 0 },
		{ RESUME, 0, 0, 0 }, { READ, 0, 0, 0 }, { EXPECT, 0, "aaaa|bbbb|cccc", 0 } },
		1, 1, 0, 0, "finishing the copy" },
	{ "resume after a dated rotation while down", {
		{ TOUCH, "log", 0, 0 }, { OPEN, 0, 0, BEG }, { APPEND, "log", "a\n", 0 }, { READ, 0, 0, 0 },
		{ CLOSE, 0, 0, 0 }, { APPEND, "log", "b\n", 0 }, { MV, "log", "log-20240102", 0 },
		{ TOUCH, "log.2.gz", 0, 0 }, { APPEND, "log", "c\n", 0 },
		{ RESUME, 0, 0, 0 }, { READ, 0, 0, 0 }, { EXPECT, 0, "a|b|c", 0 } },
		2, 0, 0, 0, "log-20240102" },
	{ "resume after the rotated file was compressed: current log from 0", {
		{ TOUCH, "log", 0, 0 }, { OPEN, 0, 0, BEG }, { APPEND, "log", "a\n", 0 }, { READ, 0, 0, 0 },
		{ CLOSE, 0, 0, 0 }, { APPEND, "log", "b\n", 0 }, { MV, "log", "log.1.gz", 0 },
		{ APPEND, "log", "c\n", 0 },
		{ RESUME, 0, 0, 0 }, { READ, 0, 0, 0 }, { EXPECT, 0, "a|c", 0 } },
		0, 0, 0, 0, "may be lost" },
	{ "resume after truncation while down restarts at 0", {
		{ TOUCH, "log", 0, 0 }, { OPEN, 0, 0, BEG }, { APPEND, "log", "aaaa\nbbbb\n", 0 }, { READ, 0, 0, 0 },
		{ CLOSE, 0, 0, 0 }, { TRUNC, "log", 0, 0 }, { APPEND, "log", "c\n", 0 },
		{ RESUME, 0, 0, 0 }, { READ, 0, 0, 0 }, { EXPECT, 0, "aaaa|bbbb|c", 0 } },
		0, 1, 0, 0, "truncated" },
	{ "resume after rewrite while down (longer, other first line) restarts at 0", {
		{ TOUCH, "log", 0, 0 }, { OPEN, 0, 0, BEG }, { APPEND, "log", "a\nb\n", 0 }, { READ, 0, 0, 0 },
		{ CLOSE, 0, 0, 0 }, { TRUNC, "log", 0, 0 }, { APPEND, "log", "cccc\ndddd\n", 0 },
		{ RESUME, 0, 0, 0 }, { READ, 0, 0, 0 }, { EXPECT, 0, "a|b|cccc|dddd", 0 } },
		0, 1, 0, 0, "truncated" },
	{ "over-long line skipped and counted, longest allowed kept", {
		{ APPEND, "log", "a\n", 0 }, { LONG, "log", 0, SOURCE_LINE_MAX + 1 },
		{ APPEND, "log", "b\n", 0 }, { LONG, "log", 0, SOURCE_LINE_MAX },
		{ OPEN, 0, 0, BEG }, { READ, 0, 0, 0 }, { EXPECT, 0, "a|b|<L16384>", 0 } },
		0, 0, 1, 0, NULL },
	{ "over-long line arriving in pieces", {
		{ TOUCH, "log", 0, 0 }, { OPEN, 0, 0, BEG }, { APPEND, "log", "a\n", 0 }, { READ, 0, 0, 0 },
		{ LONG, "log", 0, -(SOURCE_LINE_MAX * 3) }, { READ, 0, 0, 0 },
		{ LONG, "log", 0, -100 }, { READ, 0, 0, 0 }, { APPEND, "log", "x\nb\n", 0 },
		{ READ, 0, 0, 0 }, { EXPECT, 0, "a|b", 0 },
		{ CLOSE, 0, 0, 0 }, { APPEND, "log", "c\n", 0 }, { RESUME, 0, 0, 0 },
		{ READ, 0, 0, 0 }, { EXPECT, 0, "c", 0 } }, 0, 0, 1, 0, NULL },
};

/* run_scen - play one row */
static void
run_scen(const struct scen *sc)
{
	struct tail *t = NULL;
	struct got g;
	struct tail_pos last;
	struct tail_stats acc = { 0, 0, 0, 0 };
	const struct tail_stats *ts;
	const struct step *s;
	char	err[512], p1[600], p2[600], out[4096], *buf;
	int	hfd = -1, fd;
	ssize_t	n;

	memset(&g, 0, sizeof(g));
	for (s = sc->s; s->op != END; s++) {
		switch (s->op) {
		case APPEND:
			append(s->a, s->b, strlen(s->b));
			break;
		case LONG:
			cr_assert_not_null(buf = malloc((size_t)labs(s->n) + 1));
			memset(buf, 'x', (size_t)labs(s->n));
			buf[labs(s->n)] = '\n';
			append(s->a, buf, (size_t)labs(s->n) + (s->n > 0));
			free(buf);
			break;
		case TOUCH:
			append(s->a, "", 0);
			break;
		case HOLD:
			cr_assert_geq(hfd = open(fpath(s->a, p1, sizeof(p1)), O_WRONLY | O_APPEND), 0);
			break;
		case HWRITE:
			cr_assert_eq(write(hfd, s->b, strlen(s->b)), (ssize_t)strlen(s->b));
			break;
		case HCLOSE:
			close(hfd);
			hfd = -1;
			break;
		case MV:
			cr_assert_eq(rename(fpath(s->a, p1, sizeof(p1)), fpath(s->b, p2, sizeof(p2))), 0);
			break;
		case RM:
			cr_assert_eq(unlink(fpath(s->a, p1, sizeof(p1))), 0);
			break;
		case TRUNC:
			cr_assert_eq(truncate(fpath(s->a, p1, sizeof(p1)), 0), 0);
			break;
		case COPY:
			cr_assert_not_null(buf = malloc(1 << 20));
			cr_assert_geq(fd = open(fpath(s->a, p1, sizeof(p1)), O_RDONLY), 0);
			n = read(fd, buf, 1 << 20);
			close(fd);
			cr_assert_geq(n, 0);
			append(s->b, buf, (size_t)n);
			free(buf);
			break;
		case OPEN:
		case RESUME:
			if (s->op == RESUME) {
				cr_assert_gt(g.n, 0, "%s: nothing to resume from", sc->name);
				last = g.pos[g.n - 1];
			}
			cr_assert_eq(tail_open(&t, fpath("log", p1, sizeof(p1)),
			    s->op == RESUME ? &last : NULL, (enum tail_start)s->n,
			    take_note, &g, err, sizeof(err)), 0, "%s: %s", sc->name, err);
			break;
		case CLOSE:
			ts = tail_stats(t);
			acc.rotations += ts->rotations;
			acc.truncations += ts->truncations;
			acc.long_lines += ts->long_lines;
			acc.reopens += ts->reopens;
			tail_close(t);
			t = NULL;
			break;
		case READ:
			pump(t, &g, (size_t)s->n);
			break;
		case EXPECT:
			since(&g, out, sizeof(out));
			cr_expect_str_eq(out, s->b, "%s: got [%s] want [%s]", sc->name, out, s->b);
			break;
		case END:
			break;
		}
	}
	cr_expect_eq(g.bad[0], '\0', "%s: %s", sc->name, g.bad);
	cr_expect_gt(g.pos_checked, 0, "%s: no position checked", sc->name);
	if (t != NULL) {
		ts = tail_stats(t);
		acc.rotations += ts->rotations;
		acc.truncations += ts->truncations;
		acc.long_lines += ts->long_lines;
		acc.reopens += ts->reopens;
		tail_close(t);
	}
	cr_expect_eq(acc.rotations, sc->rotations, "%s: rotations %llu", sc->name,
	    (unsigned long long)acc.rotations);
	cr_expect_eq(acc.truncations, sc->truncations, "%s: truncations %llu", sc->name,
	    (unsigned long long)acc.truncations);
	cr_expect_eq(acc.long_lines, sc->long_lines, "%s: long lines %llu", sc->name,
	    (unsigned long long)acc.long_lines);
	cr_expect_eq(acc.reopens, sc->reopens, "%s: reopens %llu", sc->name,
	    (unsigned long long)acc.reopens);
	if (sc->note != NULL)
		cr_expect_not_null(strstr(g.notes, sc->note), "%s: no note with \"%s\" in:\n%s",
		    sc->name, sc->note, g.notes);
	if (hfd >= 0)
		close(hfd);
	got_free(&g);
}

Test(tail, scenarios, .init = setup, .fini = teardown)
{
	size_t	i;

	for (i = 0; i < sizeof(scens) / sizeof(scens[0]); i++) {
		run_scen(&scens[i]);
		teardown();
		cr_assert_eq(mkdir(dir, 0700), 0);
	}
}

/* make_text - n lines "line I <random padding>\n"; the offsets after each */
static char *
make_text(int n, unsigned *seed, size_t *len, uint64_t **ends)
{
	size_t	cap = (size_t)n * 320 + 64, o = 0;
	char   *text = malloc(cap);
	int	i, pad;

	cr_assert_not_null(text);
	cr_assert_not_null(*ends = malloc((size_t)n * sizeof(**ends)));
	for (i = 0; i < n; i++) {
		pad = rand_r(seed) % 300;
		o += (size_t)snprintf(text + o, cap - o, "line %d ", i);
		memset(text + o, 'a' + i % 26, (size_t)pad);
		o += (size_t)pad;
		text[o++] = '\n';
		(*ends)[i] = o;
	}
	*len = o;
	return (text);
}

Test(tail, pieces_reassemble_with_exact_positions, .init = setup, .fini = teardown)
{
	static const struct { const char *name; size_t max_chunk; int read_every; } tab[] = {
		{ "byte at a time", 1, 7 },
		{ "small chunks", 13, 3 },
		{ "page chunks", 4096, 1 },
		{ "chunks larger than the buffer", 200000, 1 },
	};
	char	p[600], err[512];
	size_t	i, o, c, len, k;
	uint64_t *ends;
	unsigned seed;
	struct tail *t;
	struct got g;
	char   *text;
	int	lines, step;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		seed = 42 + (unsigned)i;
		lines = tab[i].max_chunk == 1 ? 300 : 3000;
		text = make_text(lines, &seed, &len, &ends);
		snprintf(p, sizeof(p), "%s/log%zu", dir, i);
		append(p + strlen(dir) + 1, "", 0);
		memset(&g, 0, sizeof(g));
		cr_assert_eq(tail_open(&t, p, NULL, TAIL_START_END, take_note, &g, err,
		    sizeof(err)), 0, "%s", err);
		for (o = 0, step = 0; o < len; o += c, step++) {
			c = 1 + (size_t)rand_r(&seed) % tab[i].max_chunk;
			if (c > len - o)
				c = len - o;
			append(p + strlen(dir) + 1, text + o, c);
			if (step % tab[i].read_every == 0)
				pump(t, &g, 0);
		}
		pump(t, &g, 0);
		cr_assert_eq(g.n, (size_t)lines, "%s: %zu lines of %d", tab[i].name, g.n, lines);
		for (k = 0; k < g.n; k++) {
			o = k > 0 ? ends[k - 1] : 0;
			cr_assert(strlen(g.line[k]) == ends[k] - o - 1
			    && memcmp(g.line[k], text + o, ends[k] - o - 1) == 0,
			    "%s: line %zu is %.40s", tab[i].name, k, g.line[k]);
			cr_assert_eq(g.pos[k].offset, ends[k], "%s: line %zu at %llu, want %llu",
			    tab[i].name, k, (unsigned long long)g.pos[k].offset,
			    (unsigned long long)ends[k]);
			cr_assert_eq(strlen(g.pos[k].fp), TAIL_FP_LEN);
		}
		cr_expect_eq(g.bad[0], '\0', "%s: %s", tab[i].name, g.bad);
		tail_close(t);
		got_free(&g);
		free(text);
		free(ends);
	}
}

Test(tail, no_wakeup_without_change, .init = setup, .fini = teardown)
{
	struct pollfd pfd;
	struct tail *t;
	struct got g;
	char	p[600], err[512];

	memset(&g, 0, sizeof(g));
	append("log", "a\n", 2);
	cr_assert_eq(tail_open(&t, fpath("log", p, sizeof(p)), NULL, TAIL_START_BEGINNING,
	    take_note, &g, err, sizeof(err)), 0, "%s", err);
	pfd.fd = tail_fd(t);
	pfd.events = POLLIN;
	/* start-up pass: no event pending, what is there is read */
	cr_expect_eq(poll(&pfd, 1, 0), 0);
	cr_expect_eq(pump(t, &g, 0), 1);
	cr_expect_eq(tail_read(t, collect, &g, 0, err, sizeof(err)), 0);
	cr_expect_eq(poll(&pfd, 1, 0), 0, "inotify fd readable with nothing changed");
	/* an append wakes it, reading drains it */
	append("log", "b\n", 2);
	cr_expect_eq(poll(&pfd, 1, 0), 1, "append did not wake the reader");
	cr_expect_eq(pump(t, &g, 0), 1);
	cr_expect_eq(poll(&pfd, 1, 0), 0, "inotify fd still readable after draining");
	cr_expect_eq(tail_read(t, collect, &g, 0, err, sizeof(err)), 0);
	/* a rotation wakes it too, and after following it all is quiet */
	cr_assert_eq(rename(p, fpath("log.1", err, sizeof(err))), 0);
	cr_expect_eq(poll(&pfd, 1, 0), 1, "rename did not wake the reader");
	append("log", "c\n", 2);
	cr_expect_eq(pump(t, &g, 0), 1);
	cr_expect_eq(poll(&pfd, 1, 0), 0, "inotify fd readable after following the rotation");
	cr_expect_eq(tail_read(t, collect, &g, 0, err, sizeof(err)), 0);
	append("log", "d\n", 2);
	cr_expect_eq(poll(&pfd, 1, 0), 1, "append to the new file did not wake the reader");
	cr_expect_eq(pump(t, &g, 0), 1);
	cr_expect_eq(g.n, 4);
	tail_close(t);
	got_free(&g);
}

Test(tail, standard_input, .init = setup, .fini = teardown)
{
	static const struct { const char *name, *first, *rest, *want; uint64_t end; } tab[] = {
		{ "lines and an unterminated last one", "a\nb", "\nc", "a|b|c", 5 },
		{ "empty input", "", "", "", 0 },
		{ "empty lines", "\n", "\n", "|", 2 },
	};
	char	err[512], out[256];
	struct tail *t;
	struct got g;
	size_t	i;
	int	pp[2], saved = dup(0);

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		memset(&g, 0, sizeof(g));
		cr_assert_eq(pipe(pp), 0);
		cr_assert_eq(dup2(pp[0], 0), 0);
		close(pp[0]);
		cr_assert_eq(tail_open(&t, "-", NULL, TAIL_START_END, take_note, &g, err,
		    sizeof(err)), 0, "%s", err);
		cr_expect_eq(tail_fd(t), 0);
		cr_expect_eq(write(pp[1], tab[i].first, strlen(tab[i].first)),
		    (ssize_t)strlen(tab[i].first));
		pump(t, &g, 0);		/* must not block on an open, empty pipe */
		cr_expect_eq(tail_eof(t), 0, "%s", tab[i].name);
		cr_expect_eq(write(pp[1], tab[i].rest, strlen(tab[i].rest)),
		    (ssize_t)strlen(tab[i].rest));
		close(pp[1]);
		pump(t, &g, 0);
		cr_expect_eq(tail_eof(t), 1, "%s", tab[i].name);
		since(&g, out, sizeof(out));
		cr_expect_str_eq(out, tab[i].want, "%s: got [%s]", tab[i].name, out);
		if (g.n > 0) {
			cr_expect_eq(g.pos[g.n - 1].offset, tab[i].end, "%s", tab[i].name);
			cr_expect_eq(g.pos[g.n - 1].ino, 0);
			cr_expect_eq(g.pos[g.n - 1].dev, 0);
		}
		tail_close(t);
		got_free(&g);
	}
	dup2(saved, 0);
	close(saved);
}

Test(tail, fingerprint)
{
	static const struct { const char *a, *b; int same; } tab[] = {
		{ "Jan  1 00:00:00 host postfix/smtpd[1]: connect", "Jan  1 00:00:00 host postfix/smtpd[1]: connect", 1 },
		{ "Jan  1 00:00:00 host postfix/smtpd[1]: connect", "Jan  1 00:00:01 host postfix/smtpd[1]: connect", 0 },
		{ "", "a", 0 },
		{ "ab", "ba", 0 },
	};
	char	fa[TAIL_FP_LEN + 1], fb[TAIL_FP_LEN + 1];
	size_t	i, k;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		tail_fingerprint(tab[i].a, strlen(tab[i].a), fa);
		tail_fingerprint(tab[i].b, strlen(tab[i].b), fb);
		cr_expect_eq(strlen(fa), TAIL_FP_LEN);
		for (k = 0; k < TAIL_FP_LEN; k++)
			cr_expect(strchr("0123456789abcdef", fa[k]) != NULL);
		cr_expect_eq(strcmp(fa, fb) == 0, tab[i].same, "row %zu", i);
	}
}

/* wake - wait briefly for the inotify fd as the daemon would, then read */
static void
wake(struct tail *t, struct got *g, int ms)
{
	struct pollfd pfd = { .fd = tail_fd(t), .events = POLLIN, .revents = 0 };

	(void)poll(&pfd, 1, ms);
	pump(t, g, (size_t)(ms % 3 == 0 ? 0 : 1 + ms * 50));
}

Test(tail, stress_rotations_and_copytruncate, .init = setup, .fini = teardown, .timeout = 60)
{
	/* line index at which each event happens, in order */
	static const struct { int at; char kind; const char *to; } ev[] = {
		{ 3000, 'r', "log.1" }, { 8000, 'r', "log.2" }, { 12000, 'c', "log.ct" },
		{ 15000, 'r', "log.3" },
	};
	const int total = 20000;
	char	p[600], q[600], err[512];
	size_t	len, o = 0, c, k, e = 0;
	uint64_t *ends;
	unsigned seed = 7;
	struct tail *t;
	struct got g;
	char   *text, *buf;
	int	wfd, oldfd, rfd, tries, stop;
	ssize_t n;

	const char *env = getenv("SG_TAIL_SEED");	/* to replay another run */
	char   *endp;

	if (env != NULL && (seed = (unsigned)strtoul(env, &endp, 10), *endp != '\0'))
		seed = 7;
	memset(&g, 0, sizeof(g));
	text = make_text(total, &seed, &len, &ends);
	fpath("log", p, sizeof(p));
	cr_assert_geq(wfd = open(p, O_WRONLY | O_APPEND | O_CREAT, 0644), 0);
	cr_assert_eq(tail_open(&t, p, NULL, TAIL_START_BEGINNING, take_note, &g, err,
	    sizeof(err)), 0, "%s", err);
	while (o < len) {
		/* write up to the next event boundary in random chunks */
		stop = e < sizeof(ev) / sizeof(ev[0]) ? (int)ends[ev[e].at - 1] : (int)len;
		c = 1 + (size_t)rand_r(&seed) % 5000;
		if (c > (size_t)stop - o)
			c = (size_t)stop - o;
		cr_assert_eq(write(wfd, text + o, c), (ssize_t)c);
		o += c;
		if (rand_r(&seed) % 3 == 0)
			wake(t, &g, rand_r(&seed) % 3);
		if (e == sizeof(ev) / sizeof(ev[0]) || o != (size_t)stop)
			continue;
		fpath(ev[e].to, q, sizeof(q));
		if (ev[e].kind == 'r') {
			/* mv, the writer goes on with its old fd for a while, then reopens */
			cr_assert_eq(rename(p, q), 0);
			oldfd = wfd;
			c = (size_t)(ends[ev[e].at + 49] - o);
			cr_assert_eq(write(oldfd, text + o, c), (ssize_t)c);
			o += c;
			if (rand_r(&seed) % 2)
				wake(t, &g, 1);
			close(oldfd);
			cr_assert_geq(wfd = open(p, O_WRONLY | O_APPEND | O_CREAT, 0644), 0);
		} else {
			/* copytruncate once the reader has caught up (see tail.c) */
			for (tries = 0; g.n < (size_t)ev[e].at && tries < 1000; tries++)
				wake(t, &g, 5);
			cr_assert_eq(g.n, (size_t)ev[e].at, "reader did not catch up");
			cr_assert_not_null(buf = malloc(len));
			cr_assert_geq(rfd = open(p, O_RDONLY), 0);
			n = read(rfd, buf, len);
			close(rfd);
			cr_assert_geq(n, 0);
			append(ev[e].to, buf, (size_t)n);
			free(buf);
			cr_assert_eq(ftruncate(wfd, 0), 0);
		}
		e++;
	}
	close(wfd);
	for (tries = 0; g.n < (size_t)total && tries < 2000; tries++)
		wake(t, &g, 5);
	cr_assert_eq(g.n, (size_t)total, "%zu lines of %d", g.n, total);
	for (k = 0; k < g.n; k++) {
		o = k > 0 ? ends[k - 1] : 0;
		cr_assert(strlen(g.line[k]) == ends[k] - o - 1
		    && memcmp(g.line[k], text + o, ends[k] - o - 1) == 0,
		    "line %zu is %.30s", k, g.line[k]);
	}
	cr_expect_eq(g.bad[0], '\0', "%s", g.bad);
	cr_expect_eq(tail_stats(t)->rotations, 3);
	cr_expect_eq(tail_stats(t)->truncations, 1);
	cr_expect_eq(tail_read(t, collect, &g, 0, err, sizeof(err)), 0);
	tail_close(t);
	got_free(&g);
	free(text);
	free(ends);
}
