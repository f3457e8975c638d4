/*
 * NAME
 *	blockmap - access(5) map files, the postmaster's report, exec argv
 *	expansion and postsuper's standard input
 * SUMMARY
 *	blockmap_key_ok() decides whether an identity value may become an
 *	access(5) key: 1..255 printable ASCII bytes, no whitespace, not
 *	starting with '#'.  '$', '`', ';' and other printable punctuation are
 *	allowed: postmap reads the file itself and no shell ever sees it.
 *
 *	blockmap_write() rewrites a map: the complete text goes to a
 *	temporary ".NAME.XXXXXX" in the target's directory, which is
 *	flushed, fsync()ed, chmod 0644 and rename()d over the target; then
 *	the directory is fsync()ed.  A reader (postmap, a Postfix daemon,
 *	a person) sees the old file or the new one, never a part.  Any bad
 *	key or reply refuses the whole write and leaves the old file alone.
 *
 *	notify_compose() writes a plain-text RFC 5322 message; every value
 *	that reaches a header or the body goes through esc(), which keeps
 *	printable ASCII and writes every other byte (and '\') as \xNN, and
 *	truncates with "...", so no value can add a header or a line.
 *
 *	exec_expand() expands %i %r %c %w %q %% per argv element; the
 *	values are copied byte-exact (an argv element is not a shell word).
 *
 *	hold_stdin() joins the valid queue IDs (pf_qid_ok(), and never the
 *	word ALL) as "QID\n" lines.
 * RETURNS
 *	0 / -1 (err filled where the caller passes a buffer); never prints
 *	or exits.
 * UNTRUSTED INPUT
 *	Identity values and queue IDs (from the log), reply text and
 *	hostnames (from the configuration).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "actions/blockmap.h"
#include "parsers/pf.h"

#define EXEC_ELEM_MAX	((size_t)64 * 1024)	/* longest expanded argv element */
#define SUBJ_ID_MAX	100		/* identity bytes shown in Subject */
#define SUBJ_FIELD_MAX	64		/* host, rule in Subject */
#define BODY_VAL_MAX	900		/* any body value (line < 998) */
#define CMD_ID_MAX	200		/* identity in a command hint */

/* seterr - format an error message into err (when there is one) */
static void __attribute__((format(printf, 3, 4)))
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* blockmap_key_ok - 1 when value is a safe access(5) key, else 0 + why */
int
blockmap_key_ok(const char *value, const char **why)
{
	const char *dummy;
	size_t i;

	if (why == NULL)
		why = &dummy;
	if (value == NULL || value[0] == '\0') {
		*why = "empty";
		return (0);
	}
	if (value[0] == '#') {
		*why = "starts with '#' (a comment in access(5))";
		return (0);
	}
	for (i = 0; value[i] != '\0'; i++) {
		unsigned char c = (unsigned char)value[i];

		if (i >= BLOCKMAP_KEY_MAX) {
			*why = "longer than 255 bytes";
			return (0);
		}
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r'
		    || c == '\v' || c == '\f') {
			*why = "contains whitespace";
			return (0);
		}
		if (c < 0x20 || c == 0x7f) {
			*why = "contains a control character";
			return (0);
		}
		if (c >= 0x80) {
			*why = "contains a non-ASCII byte";
			return (0);
		}
	}
	*why = NULL;
	return (1);
}

/* reply_ok - 1 when reply is non-empty printable ASCII (spaces allowed) */
static int
reply_ok(const char *reply, const char **why)
{
	size_t i;

	if (reply == NULL || reply[0] == '\0') {
		*why = "empty";
		return (0);
	}
	if (reply[0] == ' ') {
		*why = "starts with a space";
		return (0);
	}
	for (i = 0; reply[i] != '\0'; i++) {
		unsigned char c = (unsigned char)reply[i];

		if (c < 0x20 || c == 0x7f) {
			*why = "contains a control character";
			return (0);
		}
		if (c >= 0x80) {
			*why = "contains a non-ASCII byte";
			return (0);
		}
	}
	return (1);
}

/* cmp_str - qsort comparison of two const char * by bytes */
static int
cmp_str(const void *a, const void *b)
{
	const char *const *x = a;
	const char *const *y = b;

	return (strcmp(*x, *y));
}

/* write_all - write n bytes to fd, retrying short writes and EINTR */
static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		p += w;
		n -= (size_t)w;
	}
	return (0);
}

/* build_map - the complete map text (sorted, duplicates once); NULL on ENOMEM */
static char *
build_map(const char *const keys[], size_t nkeys, const char *reply, size_t *lenp)
{
	static const char hdr[] =
	    "# Written by sendguard: identities over a sending limit.\n"
	    "# Do not edit: sendguard rewrites this file on every block and unblock.\n";
	const char **sorted = NULL;
	size_t total = sizeof(hdr) - 1, rlen = strlen(reply), i, off;
	char *buf;

	if (nkeys > 0) {
		sorted = calloc(nkeys, sizeof(*sorted));
		if (sorted == NULL)
			return (NULL);
		memcpy(sorted, keys, nkeys * sizeof(*sorted));
		qsort(sorted, nkeys, sizeof(*sorted), cmp_str);
	}
	for (i = 0; i < nkeys; i++)
		total += strlen(sorted[i]) + 1 + rlen + 1;
	if ((buf = malloc(total + 1)) == NULL) {
		free(sorted);
		return (NULL);
	}
	memcpy(buf, hdr, sizeof(hdr) - 1);
	off = sizeof(hdr) - 1;
	for (i = 0; i < nkeys; i++) {
		size_t klen = strlen(sorted[i]);

		if (i > 0 && strcmp(sorted[i], sorted[i - 1]) == 0)
			continue;
		memcpy(buf + off, sorted[i], klen);
		off += klen;
		buf[off++] = ' ';
		memcpy(buf + off, reply, rlen);
		off += rlen;
		buf[off++] = '\n';
	}
	buf[off] = '\0';
	free(sorted);
	*lenp = off;
	return (buf);
}

/* blockmap_write - replace path atomically with "KEY REPLY" lines */
int
blockmap_write(const char *path, const char *const keys[], size_t nkeys,
	       const char *reply, char *err, size_t errlen)
{
	char dir[PATH_MAX], tmp[PATH_MAX];
	const char *slash, *base, *why;
	size_t i, dlen, len = 0;
	char *text;
	int fd, dfd, n;

	if (path == NULL || path[0] == '\0') {
		seterr(err, errlen, "map path is empty");
		return (-1);
	}
	if (nkeys > 0 && keys == NULL) {
		seterr(err, errlen, "no key array");
		return (-1);
	}
	for (i = 0; i < nkeys; i++) {
		if (!blockmap_key_ok(keys[i], &why)) {
			seterr(err, errlen, "%s: key %zu is not a safe map key: %s",
			       path, i, why);
			return (-1);
		}
	}
	if (!reply_ok(reply, &why)) {
		seterr(err, errlen, "%s: reply text %s", path, why);
		return (-1);
	}

	/* Temporary file next to the target so that rename() is atomic. */
	slash = strrchr(path, '/');
	if (slash == NULL) {
		memcpy(dir, ".", 2);
		base = path;
	} else {
		dlen = (size_t)(slash - path);
		if (dlen == 0)
			dlen = 1;		/* "/name": the root directory */
		if (dlen >= sizeof(dir)) {
			seterr(err, errlen, "%s: path too long", path);
			return (-1);
		}
		memcpy(dir, path, dlen);
		dir[dlen] = '\0';
		base = slash + 1;
	}
	if (base[0] == '\0') {
		seterr(err, errlen, "%s: path names a directory", path);
		return (-1);
	}
	n = snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, base);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		seterr(err, errlen, "%s: path too long", path);
		return (-1);
	}

	if ((text = build_map(keys, nkeys, reply, &len)) == NULL) {
		seterr(err, errlen, "%s: out of memory", path);
		return (-1);
	}
	if ((fd = mkstemp(tmp)) < 0) {
		seterr(err, errlen, "%s: create temporary file in %s: %s",
		       path, dir, strerror(errno));
		free(text);
		return (-1);
	}
	if (write_all(fd, text, len) < 0) {
		seterr(err, errlen, "%s: write %s: %s", path, tmp, strerror(errno));
		goto fail;
	}
	if (fchmod(fd, 0644) < 0) {
		seterr(err, errlen, "%s: chmod %s: %s", path, tmp, strerror(errno));
		goto fail;
	}
	if (fsync(fd) < 0) {
		seterr(err, errlen, "%s: fsync %s: %s", path, tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		seterr(err, errlen, "%s: close %s: %s", path, tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		seterr(err, errlen, "%s: rename %s: %s", path, tmp, strerror(errno));
		goto fail;
	}
	free(text);

	/* Make the rename itself durable. */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		seterr(err, errlen, "%s: written, but open directory %s: %s",
		       path, dir, strerror(errno));
		return (-1);
	}
	if (fsync(dfd) < 0 && errno != EINVAL) {
		seterr(err, errlen, "%s: written, but fsync directory %s: %s",
		       path, dir, strerror(errno));
		close(dfd);
		return (-1);
	}
	close(dfd);
	return (0);

fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(text);
	return (-1);
}

/*
 * esc - copy in to out (outsz bytes) with printable ASCII kept and every
 * other byte and '\' as \xNN, at most max output bytes of value; when
 * the value is cut, "..." follows.  NULL gives "(none)".  out must hold
 * max + 4 bytes.  Returns 1 when the value was cut.
 */
static int
esc(const char *in, size_t max, char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	int cut = 0;

	if (outsz < max + 4)
		max = outsz > 4 ? outsz - 4 : 0;
	if (in == NULL) {
		snprintf(out, outsz, "%s", "(none)");
		return (0);
	}
	for (; *in != '\0'; in++) {
		unsigned char c = (unsigned char)*in;

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (o + 1 > max) {
				cut = 1;
				break;
			}
			out[o++] = (char)c;
		} else {
			if (o + 4 > max) {
				cut = 1;
				break;
			}
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (cut) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return (cut);
}

/* shell_safe - 1 when s needs no quoting in a shell command hint */
static int
shell_safe(const char *s)
{
	if (*s == '\0')
		return (0);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		      || (c >= '0' && c <= '9') || strchr("@._+-:=/,%", c) != NULL))
			return (0);
	}
	return (1);
}

/* shell_quote - s (already escaped, short) in single quotes for a hint */
static void
shell_quote(const char *s, char *out, size_t outsz)
{
	size_t o = 0;

	if (shell_safe(s)) {
		snprintf(out, outsz, "%s", s);
		return;
	}
	if (outsz < 3) {
		if (outsz > 0)
			out[0] = '\0';
		return;
	}
	out[o++] = '\'';
	for (; *s != '\0'; s++) {
		if (*s == '\'') {
			if (o + 4 + 2 > outsz)
				break;
			memcpy(out + o, "'\\''", 4);
			o += 4;
		} else {
			if (o + 1 + 2 > outsz)
				break;
			out[o++] = *s;
		}
	}
	out[o++] = '\'';
	out[o] = '\0';
}

/* printable - 1 when s (not NULL) is all printable ASCII */
static int
printable(const char *s)
{
	if (s == NULL)
		return (0);
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return (0);
	return (1);
}

/* header_ok - 1 when an address for From:/To: is printable ASCII */
static int
header_ok(const char *s)
{
	return (s != NULL && *s != '\0' && strlen(s) <= BODY_VAL_MAX && printable(s));
}

/* split_time - broken-down UTC time of a microsecond timestamp */
static int
split_time(int64_t us, struct tm *tm)
{
	int64_t sec = us / 1000000;
	time_t t;

	if (us % 1000000 < 0)
		sec--;
	t = (time_t)sec;
	return (gmtime_r(&t, tm) != NULL ? 0 : -1);
}

/* notify_compose - the postmaster's report as an RFC 5322 message */
int
notify_compose(FILE *fp, const struct notify_info *ni)
{
	static const char *const wday[] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char *const mon[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
	};
	char sid[SUBJ_ID_MAX + 4], shost[SUBJ_FIELD_MAX + 4], srule[SUBJ_FIELD_MAX + 4];
	char bid[BODY_VAL_MAX + 4], bval[BODY_VAL_MAX + 4];
	char cid[CMD_ID_MAX + 4], qcid[CMD_ID_MAX * 4 + 8];
	char date[96], when[96];
	struct tm tm;
	int cut;

	if (fp == NULL || ni == NULL || !header_ok(ni->from) || !header_ok(ni->to)) {
		errno = EINVAL;
		return (-1);
	}
	if (split_time(ni->time_us, &tm) < 0
	    || tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 || tm.tm_mon > 11) {
		errno = EINVAL;
		return (-1);
	}
	snprintf(date, sizeof(date), "%s, %02d %s %04d %02d:%02d:%02d +0000",
		 wday[tm.tm_wday], tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900,
		 tm.tm_hour, tm.tm_min, tm.tm_sec);
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec);

	esc(ni->identity, SUBJ_ID_MAX, sid, sizeof(sid));
	esc(ni->hostname, SUBJ_FIELD_MAX, shost, sizeof(shost));
	esc(ni->rule, SUBJ_FIELD_MAX, srule, sizeof(srule));

	fprintf(fp, "From: sendguard <%s>\n", ni->from);
	fprintf(fp, "To: %s\n", ni->to);
	fprintf(fp, "Subject: [sendguard] %s: %s over limit (%s)\n", shost, sid, srule);
	fprintf(fp, "Date: %s\n", date);
	fprintf(fp, "Auto-Submitted: auto-generated\n");
	fprintf(fp, "MIME-Version: 1.0\n");
	fprintf(fp, "Content-Type: text/plain; charset=UTF-8\n");
	fprintf(fp, "Content-Transfer-Encoding: 8bit\n");
	fprintf(fp, "\n");

	/* Body: every line starts with a fixed word, never "From ". */
	esc(ni->hostname, BODY_VAL_MAX, bval, sizeof(bval));
	fprintf(fp, "sendguard on %s: an identity went over a sending limit.\n\n", bval);
	esc(ni->identity, BODY_VAL_MAX, bid, sizeof(bid));
	fprintf(fp, "Identity:        %s\n", bid);
	esc(ni->rule, BODY_VAL_MAX, bval, sizeof(bval));
	fprintf(fp, "Rule:            %s\n", bval);
	esc(ni->limit, BODY_VAL_MAX, bval, sizeof(bval));
	fprintf(fp, "Limit:           %s\n", bval);
	esc(ni->window, BODY_VAL_MAX, bval, sizeof(bval));
	fprintf(fp, "Window:          %s\n", bval);
	fprintf(fp, "Count:           %ld > %ld (threshold)\n", ni->count, ni->threshold);
	esc(ni->first_qid, BODY_VAL_MAX, bval, sizeof(bval));
	fprintf(fp, "First queue ID:  %s\n", bval);
	esc(ni->last_qid, BODY_VAL_MAX, bval, sizeof(bval));
	fprintf(fp, "Last queue ID:   %s\n", bval);
	fprintf(fp, "When:            %s\n", when);
	esc(ni->actions, BODY_VAL_MAX, bval, sizeof(bval));
	fprintf(fp, "Actions:         %s\n", bval);
	if (ni->monitor)
		fprintf(fp, "Mode:            monitor - nothing was done; the actions"
			" above are what enforce mode would do.\n");
	fprintf(fp, "\n");

	cut = esc(ni->identity, CMD_ID_MAX, cid, sizeof(cid));
	if (cut || !printable(ni->identity)) {
		fprintf(fp, "Note: the identity is too long or has unprintable bytes,"
			" so it is not shown as a command; see \"sendguard status\".\n");
	} else {
		shell_quote(cid, qcid, sizeof(qcid));
		fprintf(fp, "To see why:      sendguard explain %s\n", qcid);
		fprintf(fp, "To unblock:      sendguard unblock %s\n", qcid);
	}
	if (fflush(fp) != 0 || ferror(fp))
		return (-1);
	return (0);
}

/* var_value - the text of %c, or NULL when c is not a known variable */
static const char *
var_value(int c, const struct exec_vars *v, char *num, size_t numsz)
{
	const char *s;

	switch (c) {
	case 'i':
		s = v->identity;
		break;
	case 'r':
		s = v->rule;
		break;
	case 'w':
		s = v->window;
		break;
	case 'q':
		s = v->qids;
		break;
	case 'c':
		snprintf(num, numsz, "%ld", v->count);
		return (num);
	case '%':
		return ("%");
	default:
		return (NULL);
	}
	return (s != NULL ? s : "");
}

/*
 * expand_pass - walk template t; with out NULL only measure, else copy.
 * Returns the expanded length, or (size_t)-1 past EXEC_ELEM_MAX.
 */
static size_t
expand_pass(const char *t, const struct exec_vars *v, char *out)
{
	char num[32];
	const char *p, *val;
	size_t len = 0, vl;

	for (p = t; *p != '\0'; p++) {
		if (p[0] == '%' && p[1] != '\0'
		    && (val = var_value(p[1], v, num, sizeof(num))) != NULL) {
			vl = strlen(val);
			p++;
		} else {
			val = p;
			vl = 1;
		}
		if (vl > EXEC_ELEM_MAX || len + vl > EXEC_ELEM_MAX)
			return ((size_t)-1);
		if (out != NULL)
			memcpy(out + len, val, vl);
		len += vl;
	}
	if (out != NULL)
		out[len] = '\0';
	return (len);
}

/* expand_one - one template element with variables replaced; NULL + err */
static char *
expand_one(const char *t, const struct exec_vars *v, char *err, size_t errlen)
{
	size_t len = expand_pass(t, v, NULL);
	char *out;

	if (len == (size_t)-1) {
		seterr(err, errlen, "argv element longer than %zu bytes", EXEC_ELEM_MAX);
		return (NULL);
	}
	if ((out = malloc(len + 1)) == NULL) {
		seterr(err, errlen, "out of memory");
		return (NULL);
	}
	expand_pass(t, v, out);
	return (out);
}

/* exec_expand - expand an [action exec] argv template */
int
exec_expand(const char *const tmpl[], size_t n, const struct exec_vars *v,
	    char ***outp, char *err, size_t errlen)
{
	char **out;
	size_t i;

	*outp = NULL;
	if ((n > 0 && tmpl == NULL) || v == NULL) {
		seterr(err, errlen, "no template");
		return (-1);
	}
	if ((out = calloc(n + 1, sizeof(*out))) == NULL) {
		seterr(err, errlen, "out of memory");
		return (-1);
	}
	for (i = 0; i < n; i++) {
		if (tmpl[i] == NULL) {
			seterr(err, errlen, "template element %zu is NULL", i);
			exec_free(out);
			return (-1);
		}
		if (i == 0) {
			out[i] = strdup(tmpl[i]);
			if (out[i] == NULL)
				seterr(err, errlen, "out of memory");
		} else {
			out[i] = expand_one(tmpl[i], v, err, errlen);
		}
		if (out[i] == NULL) {
			exec_free(out);
			return (-1);
		}
	}
	*outp = out;
	return (0);
}

/* exec_free - free an argv from exec_expand() */
void
exec_free(char **argv)
{
	size_t i;

	if (argv == NULL)
		return;
	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

/*
 * qid_usable - pf_qid_ok(), and not the word ALL: it is a valid
 * mail_queue_id_ok() string but means "every message" on postsuper's
 * command line, so it is never passed on, even on stdin.
 */
static int
qid_usable(const char *q)
{
	return (q != NULL && strcmp(q, "ALL") != 0 && pf_qid_ok(q, strlen(q)));
}

/* hold_stdin - "QID\n" per valid queue ID, for "postsuper -h -" */
char *
hold_stdin(const char *const qids[], size_t n, size_t *len, size_t *skipped)
{
	size_t i, total = 0, o = 0, bad = 0;
	char *buf;

	*len = 0;
	for (i = 0; i < n; i++) {
		if (qid_usable(qids[i]))
			total += strlen(qids[i]) + 1;
		else
			bad++;
	}
	if (skipped != NULL)
		*skipped = bad;
	if (total == 0)
		return (NULL);
	if ((buf = malloc(total + 1)) == NULL)
		return (NULL);
	for (i = 0; i < n; i++) {
		size_t l;

		if (!qid_usable(qids[i]))
			continue;
		l = strlen(qids[i]);
		memcpy(buf + o, qids[i], l);
		o += l;
		buf[o++] = '\n';
	}
	buf[o] = '\0';
	*len = o;
	return (buf);
}
