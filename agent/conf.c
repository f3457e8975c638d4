/*
 * NAME
 *	conf - agent.conf reader (table-driven)
 * SUMMARY
 *	Exports conf_default(), conf_load(), conf_free(), conf_errs_free(),
 *	conf_exempt(), conf_rule_match(), conf_parse_duration(),
 *	conf_format_duration(), conf_by_name(), conf_limit_name() and the
 *	conf_key_*() view of the key table.
 *
 *	Every key is one row of keys[]: its section, name, value type,
 *	default (as it would be written in the file), range and the offset
 *	of its target in struct conf or, for [limit NAME], struct conf_rule.
 *	Defaults go through the same value parsers as the file, so a
 *	default can never be something the file could not say.
 *
 *	conf_load() reads the whole file and collects every error as
 *	"file:line: message" (sorted by line); checks that involve several
 *	keys (a limit without "by", "exec" without a command, a window
 *	longer than the retention) run after the last line, so sections
 *	may come in any order.  Repeated [agent], [exempt] or [action ...]
 *	sections merge; a key given twice is an error.
 *	The library never prints and never exits.
 * UNTRUSTED INPUT
 *	The config file is trusted for meaning, not for form: lines are
 *	length-capped, control characters are refused, numbers are parsed
 *	with overflow checks and range-checked, paths must be absolute, the
 *	exec template may hold only known %-tokens.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/conf.h"

#define CONF_LINE_MAX	4096		/* bytes per line */
#define CONF_ERRS_MAX	100		/* then "too many errors" and stop */
#define CONF_PATH_MAX	1023		/* bytes of a path */
#define CONF_ITEM_MAX	255		/* one list item, glob or address */
#define CONF_ARGV_MAX	64		/* words of the exec command */
#define CONF_REPLY_MAX	400		/* SMTP reply lines are <= 512 bytes */
#define THRESHOLD_MAX	1000000000L
#define DURATION_MAX	(3650LL * 86400)	/* ten years */

_Static_assert(sizeof(enum conf_mode) == sizeof(int), "enum stored as int");
_Static_assert(sizeof(enum conf_start) == sizeof(int), "enum stored as int");
_Static_assert(sizeof(enum conf_by) == sizeof(int), "enum stored as int");

enum sec {
	SEC_AGENT, SEC_LIMIT, SEC_EXEMPT, SEC_BLOCK, SEC_NOTIFY, SEC_EXEC,
	SEC_COUNT
};

static const char *const sec_names[SEC_COUNT] = {
	"agent", "limit", "exempt", "action block", "action notify", "action exec",
};

enum ktype {
	KT_PATH,	/* absolute path; arg: PATH_DASH, PATH_PROG */
	KT_DURATION,	/* conf_parse_duration(), in [min, max] seconds */
	KT_ENUM,	/* one of words[], stored as its index (an enum) */
	KT_WORD,	/* one of words[], stored as a string */
	KT_FLOAT,	/* decimal number in [min, max] */
	KT_LIST,	/* comma list of lower-cased items (globs allowed) */
	KT_WINDOWS,	/* comma list of N/DURATION; arg: enum conf_limit */
	KT_ACTIONS,	/* comma list of hold, block, notify, exec */
	KT_REPLY,	/* access(5) action: 4NN/5NN text, REJECT, DEFER, ... */
	KT_ADDRESS,	/* one mail address */
	KT_COMMAND,	/* absolute program and %-token arguments */
};

#define PATH_DASH	1	/* "-" (standard input) is allowed too */
#define PATH_PROG	2	/* a program: said so in errors */

struct key {
	const char *name;
	const char *def;	/* NULL: no default */
	double	min, max;	/* KT_DURATION, KT_FLOAT */
	size_t	off;		/* target in struct conf, or struct conf_rule */
	size_t	off_n;		/* KT_LIST, KT_COMMAND: where the count goes */
	const char *const *words; /* KT_ENUM, KT_WORD */
	enum sec sec;
	enum ktype type;
	int	arg;		/* see enum ktype */
};

static const char *const mode_words[] = { "enforce", "monitor", NULL };
static const char *const start_words[] = { "end", "beginning", NULL };
static const char *const by_words[] = { "sasl", "uid", "sender", "ip", NULL };
static const char *const maptype_words[] = {
	"hash", "btree", "lmdb", "cdb", "dbm", "sdbm", NULL
};
static const char *const action_words[] = {	/* bit 1 << index */
	"hold", "block", "notify", "exec", NULL
};
static const char *const limit_words[] = { "messages", "recipients", "ips", NULL };

#define C(f)	offsetof(struct conf, f)
#define R(f)	offsetof(struct conf_rule, f)

static const struct key keys[] = {
/*	  name                  default                                  min max           target                count                  words          section     type         arg */
	{ "log",                "/var/log/mail.log",                     0,  0,            C(log),               0,                     NULL,          SEC_AGENT,  KT_PATH,     PATH_DASH },
	{ "state",              "/var/lib/sendguard/state.db",           0,  0,            C(state),             0,                     NULL,          SEC_AGENT,  KT_PATH,     0 },
	{ "mode",               "enforce",                               0,  0,            C(mode),              0,                     mode_words,    SEC_AGENT,  KT_ENUM,     0 },
	{ "start_at",           "end",                                   0,  0,            C(start_at),          0,                     start_words,   SEC_AGENT,  KT_ENUM,     0 },
	{ "socket",             "/run/sendguard/control.sock",           0,  0,            C(socket),            0,                     NULL,          SEC_AGENT,  KT_PATH,     0 },
	{ "postfix_config_dir", "/etc/postfix",                          0,  0,            C(postfix_config_dir), 0,                     NULL,          SEC_AGENT,  KT_PATH,     0 },
	{ "postsuper",          "/usr/sbin/postsuper",                   0,  0,            C(postsuper),         0,                     NULL,          SEC_AGENT,  KT_PATH,     PATH_PROG },
	{ "postmap",            "/usr/sbin/postmap",                     0,  0,            C(postmap),           0,                     NULL,          SEC_AGENT,  KT_PATH,     PATH_PROG },
	{ "postfix",            "/usr/sbin/postfix",                     0,  0,            C(postfix),           0,                     NULL,          SEC_AGENT,  KT_PATH,     PATH_PROG },
	{ "sendmail",           "/usr/sbin/sendmail",                    0,  0,            C(sendmail),          0,                     NULL,          SEC_AGENT,  KT_PATH,     PATH_PROG },
	{ "retention",          "7d",                                    60, DURATION_MAX, C(retention),         0,                     NULL,          SEC_AGENT,  KT_DURATION, 0 },
	{ "action_timeout",     "30s",                                   1,  3600,         C(action_timeout),    0,                     NULL,          SEC_AGENT,  KT_DURATION, 0 },
	{ "by",                 NULL,                                    0,  0,            R(by),                0,                     by_words,      SEC_LIMIT,  KT_ENUM,     0 },
	{ "match",              NULL,                                    0,  0,            R(match),             R(nmatch),             NULL,          SEC_LIMIT,  KT_LIST,     0 },
	{ "messages",           NULL,                                    1,  DURATION_MAX, 0,                    0,                     NULL,          SEC_LIMIT,  KT_WINDOWS,  LIM_MESSAGES },
	{ "recipients",         NULL,                                    1,  DURATION_MAX, 0,                    0,                     NULL,          SEC_LIMIT,  KT_WINDOWS,  LIM_RECIPIENTS },
	{ "ips",                NULL,                                    1,  DURATION_MAX, 0,                    0,                     NULL,          SEC_LIMIT,  KT_WINDOWS,  LIM_IPS },
	{ "actions",            NULL,                                    0,  0,            0,                    0,                     NULL,          SEC_LIMIT,  KT_ACTIONS,  0 },
	{ "block_time",         "1h",                                    0,  DURATION_MAX, R(block_time),        0,                     NULL,          SEC_LIMIT,  KT_DURATION, 0 },
	{ "block_time_factor",  "1",                                     1,  100,          R(block_time_factor), 0,                     NULL,          SEC_LIMIT,  KT_FLOAT,    0 },
	{ "sasl",               NULL,                                    0,  0,            C(exempt[BY_SASL]),   C(nexempt[BY_SASL]),   NULL,          SEC_EXEMPT, KT_LIST,     0 },
	{ "uid",                NULL,                                    0,  0,            C(exempt[BY_UID]),    C(nexempt[BY_UID]),    NULL,          SEC_EXEMPT, KT_LIST,     0 },
	{ "sender",             NULL,                                    0,  0,            C(exempt[BY_SENDER]), C(nexempt[BY_SENDER]), NULL,          SEC_EXEMPT, KT_LIST,     0 },
	{ "ip",                 NULL,                                    0,  0,            C(exempt[BY_IP]),     C(nexempt[BY_IP]),     NULL,          SEC_EXEMPT, KT_LIST,     0 },
	{ "sasl_map",           "/etc/postfix/sendguard_sasl_access",    0,  0,            C(sasl_map),          0,                     NULL,          SEC_BLOCK,  KT_PATH,     0 },
	{ "sender_map",         "/etc/postfix/sendguard_sender_access",  0,  0,            C(sender_map),        0,                     NULL,          SEC_BLOCK,  KT_PATH,     0 },
	{ "map_type",           "hash",                                  0,  0,            C(map_type),          0,                     maptype_words, SEC_BLOCK,  KT_WORD,     0 },
	{ "reply",              "450 4.7.1 Sending rate limit exceeded, contact the postmaster",
	                                                                 0,  0,            C(reply),             0,                     NULL,          SEC_BLOCK,  KT_REPLY,    0 },
	{ "to",                 "postmaster",                            0,  0,            C(notify_to),         0,                     NULL,          SEC_NOTIFY, KT_ADDRESS,  0 },
	{ "command",            NULL,                                    0,  0,            C(exec_argv),         C(exec_argc),          NULL,          SEC_EXEC,   KT_COMMAND,  0 },
};

#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

/* One collected error; sorted by line, then by the order found. */
struct perr {
	int	line;
	size_t	seq;
	char   *msg;
};

/* Per [limit NAME]: the line of each key given (0: not given). */
struct rmeta {
	int	kline[NKEYS];
};

/* The state of one conf_load() or conf_default(). */
struct pstate {
	const char *path;
	struct conf *c;
	struct perr *err;
	size_t	nerr, errcap;
	int	oom;			/* an error could not be recorded */
	int	line;
	int	sec;			/* enum sec, or -1 before/in a bad section */
	int	seen_sec;		/* a section header was read */
	size_t	rule;			/* current rule when sec == SEC_LIMIT */
	int	gline[NKEYS];		/* line of each non-limit key given */
	struct rmeta *meta;		/* one per c->rules[] */
};

/* ps_err - record "path:line: message" (line 0: "path: message") */
static void ps_err(struct pstate *, int, const char *, ...)
	__attribute__((format(printf, 3, 4)));

static void
ps_err(struct pstate *ps, int line, const char *fmt, ...)
{
	char msg[1024], full[1400];
	struct perr *n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(full, sizeof(full), "%s:%d: %s", ps->path, line, msg);
	else
		snprintf(full, sizeof(full), "%s: %s", ps->path, msg);
	if (ps->nerr == ps->errcap) {
		size_t cap = ps->errcap ? ps->errcap * 2 : 8;

		n = realloc(ps->err, cap * sizeof(*n));
		if (n == NULL) {
			ps->oom = 1;
			return;
		}
		ps->err = n;
		ps->errcap = cap;
	}
	if ((ps->err[ps->nerr].msg = strdup(full)) == NULL) {
		ps->oom = 1;
		return;
	}
	ps->err[ps->nerr].line = line;
	ps->err[ps->nerr].seq = ps->nerr;
	ps->nerr++;
}

/* trim - skip leading blanks, cut trailing ones; returns the start */
static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return (s);
}

/* has_blank - 1 when s holds a space or tab */
static int
has_blank(const char *s)
{
	return (strpbrk(s, " \t") != NULL);
}

/* lower - fold ASCII letters of s to lower case in place */
static void
lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* set_str - replace *dst by a copy of v; -1 out of memory */
static int
set_str(char **dst, const char *v)
{
	char *n;

	if ((n = strdup(v)) == NULL)
		return (-1);
	free(*dst);
	*dst = n;
	return (0);
}

/* free_list - free n strings and the array */
static void
free_list(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* count_items - number of comma-separated items in s */
static size_t
count_items(const char *s)
{
	size_t n = 1;

	for (; *s; s++)
		if (*s == ',')
			n++;
	return (n);
}

/*
 * next_item - cut the next comma-separated item off *cursor (a mutable
 * copy), trimmed; NULL when none is left.
 */
static char *
next_item(char **cursor)
{
	char *item = *cursor, *comma;

	if (item == NULL)
		return (NULL);
	if ((comma = strchr(item, ',')) != NULL) {
		*comma = '\0';
		*cursor = comma + 1;
	} else
		*cursor = NULL;
	return (trim(item));
}

/* words_text - "a, b or c" of a word list into buf */
static const char *
words_text(const char *const *w, char *buf, size_t len)
{
	size_t i, n, used = 0;

	for (n = 0; w[n]; n++)
		;
	buf[0] = '\0';
	for (i = 0; i < n && used < len; i++) {
		int r = snprintf(buf + used, len - used, "%s%s",
		    i == 0 ? "" : (i + 1 == n ? " or " : ", "), w[i]);
		if (r < 0)
			break;
		used += (size_t)r;
	}
	return (buf);
}

/* word_index - index of v in w (ASCII case ignored), -1 if absent */
static int
word_index(const char *const *w, const char *v)
{
	int i;

	for (i = 0; w[i]; i++)
		if (strcasecmp(w[i], v) == 0)
			return (i);
	return (-1);
}

/* parse_count - a decimal count 1..THRESHOLD_MAX; -1 if it is not one */
static long
parse_count(const char *s)
{
	long long v;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return (-1);
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE || *end != '\0' || v < 1 || v > THRESHOLD_MAX)
		return (-1);
	return ((long)v);
}

/* conf_parse_duration - "90", "15m", "1h", "7d" -> seconds; -1 on error */
int64_t
conf_parse_duration(const char *s)
{
	int64_t v = 0, mult = 1;
	const char *p = s;

	if (s == NULL || !isdigit((unsigned char)*p))
		return (-1);
	for (; isdigit((unsigned char)*p); p++) {
		int d = *p - '0';

		if (v > (INT64_MAX - d) / 10)
			return (-1);
		v = v * 10 + d;
	}
	switch (*p) {
	case '\0':
		return (v);
	case 's':
		mult = 1;
		break;
	case 'm':
		mult = 60;
		break;
	case 'h':
		mult = 3600;
		break;
	case 'd':
		mult = 86400;
		break;
	default:
		return (-1);
	}
	if (p[1] != '\0' || v > INT64_MAX / mult)
		return (-1);
	return (v * mult);
}

/* conf_format_duration - 3600 -> "1h" (largest exact unit) into buf */
const char *
conf_format_duration(int64_t seconds, char *buf, size_t len)
{
	static const struct { int64_t n; char u; } units[] = {
		{ 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' },
	};
	size_t i;

	if (len == 0)
		return (buf);
	if (seconds == 0) {
		snprintf(buf, len, "0");
		return (buf);
	}
	/* The last unit, 1 second, divides everything. */
	for (i = 0; i + 1 < sizeof(units) / sizeof(units[0]); i++)
		if (seconds % units[i].n == 0)
			break;
	/* cppcheck-suppress arrayIndexOutOfBounds ; i stops at the last unit */
	snprintf(buf, len, "%lld%c", (long long)(seconds / units[i].n), units[i].u);
	return (buf);
}

/* conf_by_name - "sasl", "uid", "sender", "ip" */
const char *
conf_by_name(enum conf_by by)
{
	return ((unsigned)by < BY_COUNT ? by_words[by] : "?");
}

/* conf_limit_name - "messages", "recipients", "ips" */
const char *
conf_limit_name(enum conf_limit l)
{
	return ((unsigned)l < LIM_COUNT ? limit_words[l] : "?");
}

/* conf_key_count - rows of the key table */
size_t
conf_key_count(void)
{
	return (NKEYS);
}

/* conf_key_name - the key of row i */
const char *
conf_key_name(size_t i)
{
	return (i < NKEYS ? keys[i].name : NULL);
}

/* conf_key_section - the section of row i, without a limit name */
const char *
conf_key_section(size_t i)
{
	return (i < NKEYS ? sec_names[keys[i].sec] : NULL);
}

/* conf_key_default - the default of row i as written in the file, or NULL */
const char *
conf_key_default(size_t i)
{
	return (i < NKEYS ? keys[i].def : NULL);
}

/* ---- value parsers: one per type, each reports its own errors ---- */

/* val_path - KT_PATH */
static int
val_path(struct pstate *ps, const struct key *k, char **dst, const char *v)
{
	if ((k->arg & PATH_DASH) && strcmp(v, "-") == 0)
		;
	else if (v[0] != '/') {
		ps_err(ps, ps->line, "%s: %s must be absolute, not '%s'",
		    k->name, (k->arg & PATH_PROG) ? "program path" : "path", v);
		return (-1);
	} else if (strchr(v, '\t') != NULL) {
		ps_err(ps, ps->line, "%s: tab in path", k->name);
		return (-1);
	} else if (strlen(v) > CONF_PATH_MAX) {
		ps_err(ps, ps->line, "%s: path longer than %d bytes", k->name, CONF_PATH_MAX);
		return (-1);
	}
	if (set_str(dst, v) < 0) {
		ps_err(ps, ps->line, "out of memory");
		return (-1);
	}
	return (0);
}

/* val_duration - KT_DURATION */
static int
val_duration(struct pstate *ps, const struct key *k, int64_t *dst, const char *v)
{
	char lo[32], hi[32];
	int64_t d = conf_parse_duration(v);

	if (d < 0) {
		ps_err(ps, ps->line, "%s: bad duration '%s' (a number with unit s, m, h or d, e.g. 15m)",
		    k->name, v);
		return (-1);
	}
	if (d < (int64_t)k->min || d > (int64_t)k->max) {
		ps_err(ps, ps->line, "%s: %s is out of range (%s to %s)", k->name, v,
		    conf_format_duration((int64_t)k->min, lo, sizeof(lo)),
		    conf_format_duration((int64_t)k->max, hi, sizeof(hi)));
		return (-1);
	}
	*dst = d;
	return (0);
}

/* val_word - KT_ENUM (index into an int-sized enum) and KT_WORD (string) */
static int
val_word(struct pstate *ps, const struct key *k, void *dst, const char *v)
{
	char buf[256];
	int i = word_index(k->words, v);

	if (i < 0) {
		ps_err(ps, ps->line, "%s: unknown value '%s' (expected %s)", k->name, v,
		    words_text(k->words, buf, sizeof(buf)));
		return (-1);
	}
	if (k->type == KT_ENUM) {
		*(int *)dst = i;
		return (0);
	}
	if (set_str(dst, k->words[i]) < 0) {
		ps_err(ps, ps->line, "out of memory");
		return (-1);
	}
	return (0);
}

/* val_float - KT_FLOAT: plain decimal (digits and one dot) in range */
static int
val_float(struct pstate *ps, const struct key *k, double *dst, const char *v)
{
	double d;
	char *end;

	if (v[strspn(v, "0123456789.")] != '\0' || !isdigit((unsigned char)v[0])) {
		ps_err(ps, ps->line, "%s: '%s' is not a number", k->name, v);
		return (-1);
	}
	errno = 0;
	d = strtod(v, &end);
	if (errno == ERANGE || *end != '\0' || !isfinite(d)) {
		ps_err(ps, ps->line, "%s: '%s' is not a number", k->name, v);
		return (-1);
	}
	if (d < k->min || d > k->max) {
		ps_err(ps, ps->line, "%s: %s is out of range (%g to %g)", k->name, v, k->min, k->max);
		return (-1);
	}
	*dst = d;
	return (0);
}

/* val_list - KT_LIST: comma list, lower-cased, no blanks inside an item */
static int
val_list(struct pstate *ps, const struct key *k, char ***dst, size_t *dstn, const char *v)
{
	char *copy, *cur, *item, **out;
	size_t n = 0, cap = count_items(v);
	int bad = 0;

	if ((copy = strdup(v)) == NULL || (out = calloc(cap, sizeof(*out))) == NULL) {
		free(copy);
		ps_err(ps, ps->line, "out of memory");
		return (-1);
	}
	for (cur = copy; (item = next_item(&cur)) != NULL; ) {
		if (*item == '\0') {
			ps_err(ps, ps->line, "%s: empty item in list", k->name);
			bad = 1;
		} else if (has_blank(item)) {
			ps_err(ps, ps->line, "%s: '%s' contains a blank (separate items with commas)",
			    k->name, item);
			bad = 1;
		} else if (strlen(item) > CONF_ITEM_MAX) {
			ps_err(ps, ps->line, "%s: item longer than %d bytes", k->name, CONF_ITEM_MAX);
			bad = 1;
		} else if (!bad) {
			if ((out[n] = strdup(item)) == NULL) {
				ps_err(ps, ps->line, "out of memory");
				bad = 1;
			} else
				lower(out[n++]);
		}
	}
	free(copy);
	if (bad) {
		free_list(out, n);
		return (-1);
	}
	free_list(*dst, *dstn);
	*dst = out;
	*dstn = n;
	return (0);
}

/* val_windows - KT_WINDOWS: "100/1h, 1000/1d" appended to the rule */
static int
val_windows(struct pstate *ps, const struct key *k, struct conf_rule *r, const char *v)
{
	struct conf_window w[CONF_MAX_WINDOWS];
	char *copy, *cur, *item, *slash, buf[32];
	size_t n = 0, i, total = 0;
	int bad = 0;

	if ((copy = strdup(v)) == NULL) {
		ps_err(ps, ps->line, "out of memory");
		return (-1);
	}
	for (cur = copy; (item = next_item(&cur)) != NULL; total++) {
		long t;
		int64_t d;

		if (*item == '\0') {
			ps_err(ps, ps->line, "%s: empty item in list", k->name);
			bad = 1;
			continue;
		}
		if ((slash = strchr(item, '/')) == NULL) {
			ps_err(ps, ps->line, "%s: '%s' is not COUNT/WINDOW (e.g. 100/1h)", k->name, item);
			bad = 1;
			continue;
		}
		*slash = '\0';
		if ((t = parse_count(trim(item))) < 0) {
			ps_err(ps, ps->line, "%s: bad count '%s' (1 to %ld)", k->name, item, THRESHOLD_MAX);
			bad = 1;
			continue;
		}
		item = trim(slash + 1);
		if ((d = conf_parse_duration(item)) < 0) {
			ps_err(ps, ps->line, "%s: bad window '%s' (a number with unit s, m, h or d, e.g. 1h)",
			    k->name, item);
			bad = 1;
			continue;
		}
		if (d < (int64_t)k->min || d > (int64_t)k->max) {
			ps_err(ps, ps->line, "%s: window %s is out of range (1s to %s)", k->name, item,
			    conf_format_duration((int64_t)k->max, buf, sizeof(buf)));
			bad = 1;
			continue;
		}
		for (i = 0; i < n; i++)
			if (w[i].seconds == d)
				break;
		if (i < n) {
			ps_err(ps, ps->line, "%s: window %s given twice", k->name,
			    conf_format_duration(d, buf, sizeof(buf)));
			bad = 1;
			continue;
		}
		if (n < CONF_MAX_WINDOWS) {
			w[n].limit = (enum conf_limit)k->arg;
			w[n].threshold = t;
			w[n].seconds = d;
			n++;
		}
	}
	free(copy);
	if (total > CONF_MAX_WINDOWS) {
		ps_err(ps, ps->line, "%s: %zu windows, at most %d", k->name, total, CONF_MAX_WINDOWS);
		bad = 1;
	}
	if (bad)
		return (-1);
	for (i = 0; i < n && r->nwin < (size_t)CONF_MAX_WINDOWS * LIM_COUNT; i++)
		r->win[r->nwin++] = w[i];
	return (0);
}

/* val_actions - KT_ACTIONS: "hold, block, notify, exec" in order */
static int
val_actions(struct pstate *ps, const struct key *k, struct conf_rule *r, const char *v)
{
	unsigned char order[4];
	unsigned mask = 0;
	size_t n = 0;
	char *copy, *cur, *item, buf[128];
	int bad = 0;

	if ((copy = strdup(v)) == NULL) {
		ps_err(ps, ps->line, "out of memory");
		return (-1);
	}
	for (cur = copy; (item = next_item(&cur)) != NULL; ) {
		int i = word_index(action_words, item);

		if (*item == '\0') {
			ps_err(ps, ps->line, "%s: empty item in list", k->name);
			bad = 1;
		} else if (i < 0) {
			ps_err(ps, ps->line, "%s: unknown action '%s' (expected %s)", k->name, item,
			    words_text(action_words, buf, sizeof(buf)));
			bad = 1;
		} else if (mask & (1u << i)) {
			ps_err(ps, ps->line, "%s: '%s' listed twice", k->name, action_words[i]);
			bad = 1;
		} else {
			mask |= 1u << i;
			order[n++] = (unsigned char)(1u << i);
		}
	}
	free(copy);
	if (bad)
		return (-1);
	memcpy(r->action_order, order, n);
	r->nactions = n;
	r->actions = mask;
	return (0);
}

/* val_reply - KT_REPLY: an access(5) result Postfix can act on */
static int
val_reply(struct pstate *ps, const struct key *k, char **dst, const char *v)
{
	static const char *const verbs[] = {
		"REJECT", "DEFER", "DEFER_IF_PERMIT", "HOLD", NULL
	};
	size_t i, wlen = strcspn(v, " \t");

	for (i = 0; v[i]; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] >= 0x7f) {
			ps_err(ps, ps->line, "%s: only printable ASCII is allowed", k->name);
			return (-1);
		}
	if (i > CONF_REPLY_MAX) {
		ps_err(ps, ps->line, "%s: longer than %d bytes", k->name, CONF_REPLY_MAX);
		return (-1);
	}
	if (wlen == 3 && (v[0] == '4' || v[0] == '5') &&
	    isdigit((unsigned char)v[1]) && isdigit((unsigned char)v[2]))
		;
	else {
		for (i = 0; verbs[i]; i++)
			if (strlen(verbs[i]) == wlen && strncasecmp(v, verbs[i], wlen) == 0)
				break;
		if (verbs[i] == NULL) {
			ps_err(ps, ps->line, "%s: must start with a 4NN or 5NN SMTP code or with "
			    "REJECT, DEFER, DEFER_IF_PERMIT or HOLD, not '%.*s'", k->name, (int)wlen, v);
			return (-1);
		}
	}
	if (set_str(dst, v) < 0) {
		ps_err(ps, ps->line, "out of memory");
		return (-1);
	}
	return (0);
}

/* val_address - KT_ADDRESS: one address sendmail cannot take for an option */
static int
val_address(struct pstate *ps, const struct key *k, char **dst, const char *v)
{
	const char *at = strchr(v, '@');

	if (has_blank(v) || v[strcspn(v, "<>,;\"()\\")] != '\0') {
		ps_err(ps, ps->line, "%s: '%s' is not one mail address", k->name, v);
		return (-1);
	}
	if (v[0] == '-' || v[0] == '@' || (at && (at[1] == '\0' || strchr(at + 1, '@')))) {
		ps_err(ps, ps->line, "%s: '%s' is not a mail address", k->name, v);
		return (-1);
	}
	if (strlen(v) > CONF_ITEM_MAX) {
		ps_err(ps, ps->line, "%s: address longer than %d bytes", k->name, CONF_ITEM_MAX);
		return (-1);
	}
	if (set_str(dst, v) < 0) {
		ps_err(ps, ps->line, "out of memory");
		return (-1);
	}
	return (0);
}

/* val_command - KT_COMMAND: split on blanks, absolute program, known tokens */
static int
val_command(struct pstate *ps, const struct key *k, char ***dst, size_t *dstn, const char *v)
{
	char *copy, *p, *word, **argv;
	size_t n = 0, nw;
	int bad = 0;

	if ((copy = strdup(v)) == NULL ||
	    (argv = calloc(CONF_ARGV_MAX + 1, sizeof(*argv))) == NULL) {
		free(copy);
		ps_err(ps, ps->line, "out of memory");
		return (-1);
	}
	for (p = copy, nw = 0; ; nw++) {
		const char *t;

		p += strspn(p, " \t");
		if (*p == '\0')
			break;
		if (nw == CONF_ARGV_MAX) {
			ps_err(ps, ps->line, "%s: more than %d words", k->name, CONF_ARGV_MAX);
			bad = 1;
			break;
		}
		word = p;
		p += strcspn(p, " \t");
		if (*p != '\0')
			*p++ = '\0';
		if (nw == 0 && word[0] != '/') {
			ps_err(ps, ps->line, "%s: program must be an absolute path, not '%s'",
			    k->name, word);
			bad = 1;
		} else if (nw == 0 && strchr(word, '%') != NULL) {
			ps_err(ps, ps->line, "%s: the program path cannot hold a %%-token", k->name);
			bad = 1;
		} else {
			for (t = word; (t = strchr(t, '%')) != NULL; t += 2)
				if (t[1] == '\0' || strchr("ircwq%", t[1]) == NULL) {
					ps_err(ps, ps->line, "%s: unknown token '%%%.1s' in '%s' "
					    "(use %%i %%r %%c %%w %%q or %%%%)", k->name, t + 1, word);
					bad = 1;
					break;
				}
		}
		if (bad)
			continue;
		if ((argv[n] = strdup(word)) == NULL) {
			ps_err(ps, ps->line, "out of memory");
			bad = 1;
		} else
			n++;
	}
	free(copy);
	if (bad) {
		free_list(argv, n);
		return (-1);
	}
	free_list(*dst, *dstn);
	*dst = argv;
	*dstn = n;
	return (0);
}

/* set_value - parse v for key k into base (struct conf or struct conf_rule) */
static int
set_value(struct pstate *ps, const struct key *k, void *base, const char *v)
{
	char *t = (char *)base + k->off;

	switch (k->type) {
	case KT_PATH:
		return (val_path(ps, k, (char **)(void *)t, v));
	case KT_DURATION:
		return (val_duration(ps, k, (int64_t *)(void *)t, v));
	case KT_ENUM:
	case KT_WORD:
		return (val_word(ps, k, t, v));
	case KT_FLOAT:
		return (val_float(ps, k, (double *)(void *)t, v));
	case KT_LIST:
		return (val_list(ps, k, (char ***)(void *)t,
		    (size_t *)(void *)((char *)base + k->off_n), v));
	case KT_WINDOWS:
		return (val_windows(ps, k, base, v));
	case KT_ACTIONS:
		return (val_actions(ps, k, base, v));
	case KT_REPLY:
		return (val_reply(ps, k, (char **)(void *)t, v));
	case KT_ADDRESS:
		return (val_address(ps, k, (char **)(void *)t, v));
	case KT_COMMAND:
		return (val_command(ps, k, (char ***)(void *)t,
		    (size_t *)(void *)((char *)base + k->off_n), v));
	}
	return (-1);
}

/* apply_defaults - the default of every key of section sec into base */
static void
apply_defaults(struct pstate *ps, enum sec sec, void *base)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (keys[i].sec == sec && keys[i].def != NULL)
			(void)set_value(ps, &keys[i], base, keys[i].def);
}

/* conf_free - everything conf_default() or conf_load() allocated */
void
conf_free(struct conf *c)
{
	size_t i;

	if (c == NULL)
		return;
	free(c->path);
	free(c->log);
	free(c->state);
	free(c->socket);
	free(c->postfix_config_dir);
	free(c->postsuper);
	free(c->postmap);
	free(c->postfix);
	free(c->sendmail);
	for (i = 0; i < c->nrules; i++)
		free_list(c->rules[i].match, c->rules[i].nmatch);
	free(c->rules);
	for (i = 0; i < BY_COUNT; i++)
		free_list(c->exempt[i], c->nexempt[i]);
	free(c->sasl_map);
	free(c->sender_map);
	free(c->map_type);
	free(c->reply);
	free(c->notify_to);
	free_list(c->exec_argv, c->exec_argc);
	free(c);
}

/* conf_errs_free - the messages and the array; errs is left empty */
void
conf_errs_free(struct conf_errs *e)
{
	if (e == NULL)
		return;
	free_list(e->msg, e->n);
	e->msg = NULL;
	e->n = 0;
}

/* ps_free_errs - drop the collected errors */
static void
ps_free_errs(struct pstate *ps)
{
	size_t i;

	for (i = 0; i < ps->nerr; i++)
		free(ps->err[i].msg);
	free(ps->err);
	ps->err = NULL;
	ps->nerr = ps->errcap = 0;
}

/* conf_default - built-in defaults; NULL only when out of memory */
struct conf *
conf_default(void)
{
	struct pstate ps;
	struct conf *c;
	int s;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (NULL);
	memset(&ps, 0, sizeof(ps));
	ps.path = "(defaults)";
	ps.c = c;
	for (s = 0; s < SEC_COUNT; s++)
		if (s != SEC_LIMIT)
			apply_defaults(&ps, (enum sec)s, c);
	if (ps.nerr || ps.oom) {
		ps_free_errs(&ps);
		conf_free(c);
		return (NULL);
	}
	return (c);
}

/* valid_limit_name - [A-Za-z0-9_.-], 1..CONF_NAME_MAX-1 characters */
static int
valid_limit_name(const char *s)
{
	size_t n = strlen(s);

	return (n >= 1 && n < CONF_NAME_MAX &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"0123456789_.-") == n);
}

/* new_rule - append [limit name] with the limit defaults; -1 out of memory */
static int
new_rule(struct pstate *ps, const char *name)
{
	struct conf *c = ps->c;
	struct conf_rule *r;
	struct rmeta *m;

	r = realloc(c->rules, (c->nrules + 1) * sizeof(*r));
	if (r == NULL)
		return (-1);
	c->rules = r;
	m = realloc(ps->meta, (c->nrules + 1) * sizeof(*m));
	if (m == NULL)
		return (-1);
	ps->meta = m;
	r = &c->rules[c->nrules];
	memset(r, 0, sizeof(*r));
	memset(&ps->meta[c->nrules], 0, sizeof(*m));
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->line = ps->line;
	ps->rule = c->nrules++;
	apply_defaults(ps, SEC_LIMIT, r);
	return (0);
}

/* parse_section - "[agent]", "[limit NAME]", "[action exec]", ... */
static void
parse_section(struct pstate *ps, char *s)
{
	char *e = s + strlen(s) - 1, *word, *rest;
	size_t i;

	ps->sec = -1;
	ps->seen_sec = 1;
	if (*e != ']') {
		ps_err(ps, ps->line, "section header without ']'");
		return;
	}
	*e = '\0';
	word = trim(s + 1);
	rest = word + strcspn(word, " \t");
	if (*rest != '\0')
		*rest++ = '\0';
	rest = trim(rest);

	if (strcmp(word, "limit") == 0) {
		if (*rest == '\0') {
			ps_err(ps, ps->line, "[limit] needs a name: [limit NAME]");
			return;
		}
		if (!valid_limit_name(rest))
			ps_err(ps, ps->line, "bad limit name '%s' (1 to %d of A-Z a-z 0-9 _ . -)",
			    rest, CONF_NAME_MAX - 1);
		else
			for (i = 0; i < ps->c->nrules; i++)
				if (strcmp(ps->c->rules[i].name, rest) == 0) {
					ps_err(ps, ps->line, "limit '%s' defined twice (first at line %d)",
					    rest, ps->c->rules[i].line);
					break;
				}
		/* Even a misnamed rule is read, so its keys are checked too. */
		if (new_rule(ps, rest) < 0) {
			ps_err(ps, ps->line, "out of memory");
			return;
		}
		ps->sec = SEC_LIMIT;
		return;
	}
	for (i = 0; i < SEC_COUNT; i++) {
		char full[64];

		if (i == SEC_LIMIT)
			continue;
		snprintf(full, sizeof(full), "%s%s%s", word, *rest ? " " : "", rest);
		if (strcmp(full, sec_names[i]) == 0) {
			ps->sec = (int)i;
			return;
		}
	}
	ps_err(ps, ps->line, "unknown section [%s%s%s] (expected [agent], [limit NAME], "
	    "[exempt], [action block], [action notify] or [action exec])",
	    word, *rest ? " " : "", rest);
}

/* cut_comment - end s at a '#' that starts it or follows a blank */
static void
cut_comment(char *s)
{
	char *p;

	for (p = s; (p = strchr(p, '#')) != NULL; p++)
		if (p == s || p[-1] == ' ' || p[-1] == '\t') {
			*p = '\0';
			return;
		}
}

/* parse_line - one line of the file (without its newline) */
static void
parse_line(struct pstate *ps, char *s, size_t len)
{
	char *key, *val, *eq;
	const struct key *k = NULL;
	int *seen;
	size_t i;

	if (ps->line == 1 && len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
		s += 3;		/* UTF-8 byte order mark */
		len -= 3;
	}
	if (len > CONF_LINE_MAX) {
		ps_err(ps, ps->line, "line longer than %d bytes", CONF_LINE_MAX);
		return;
	}
	if (strlen(s) != len) {
		ps_err(ps, ps->line, "NUL byte in line");
		return;
	}
	if (len > 0 && s[len - 1] == '\r')
		s[--len] = '\0';
	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f) {
			ps_err(ps, ps->line, "control character in line");
			return;
		}
	cut_comment(s);
	s = trim(s);
	if (*s == '\0')
		return;
	if (*s == '[') {
		parse_section(ps, s);
		return;
	}
	if ((eq = strchr(s, '=')) == NULL) {
		ps_err(ps, ps->line, "expected 'key = value' or '[section]', not '%s'", s);
		return;
	}
	*eq = '\0';
	key = trim(s);
	val = trim(eq + 1);
	if (*key == '\0') {
		ps_err(ps, ps->line, "missing key before '='");
		return;
	}
	if (ps->sec < 0) {
		if (!ps->seen_sec)
			ps_err(ps, ps->line, "'%s' is outside of any section (start with [agent])", key);
		return;		/* in a bad section: its error is enough */
	}
	for (i = 0; i < NKEYS; i++)
		if ((int)keys[i].sec == ps->sec && strcmp(keys[i].name, key) == 0) {
			k = &keys[i];
			break;
		}
	if (k == NULL) {
		ps_err(ps, ps->line, "unknown key '%s' in [%s]", key, sec_names[ps->sec]);
		return;
	}
	seen = ps->sec == SEC_LIMIT ? ps->meta[ps->rule].kline : ps->gline;
	if (seen[i]) {
		ps_err(ps, ps->line, "%s: given twice (first at line %d)", key, seen[i]);
		return;
	}
	seen[i] = ps->line;
	if (*val == '\0') {
		ps_err(ps, ps->line, "%s: empty value", key);
		return;
	}
	(void)set_value(ps, k, ps->sec == SEC_LIMIT ? (void *)&ps->c->rules[ps->rule]
	    : (void *)ps->c, val);
}

/* sort_windows - messages, then recipients, then ips; file order within */
static void
sort_windows(struct conf_rule *r)
{
	struct conf_window w[CONF_MAX_WINDOWS * LIM_COUNT];
	size_t i, n = 0;
	int l;

	memset(w, 0, sizeof(w));
	for (l = 0; l < LIM_COUNT; l++)
		for (i = 0; i < r->nwin; i++)
			if ((int)r->win[i].limit == l)
				w[n++] = r->win[i];
	memcpy(r->win, w, n * sizeof(w[0]));
}

/* key_index - row of (sec, name) in keys[] */
static size_t
key_index(enum sec sec, const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (keys[i].sec == sec && strcmp(keys[i].name, name) == 0)
			break;
	return (i);
}

/*
 * check_rules - the checks that need the whole file: every rule has a
 * "by" and a threshold, "ips" and "block" fit its identity kind, the
 * actions it lists have what they need, no window outlives retention.
 */
static void
check_rules(struct pstate *ps)
{
	const size_t k_by = key_index(SEC_LIMIT, "by");
	const size_t k_actions = key_index(SEC_LIMIT, "actions");
	const size_t k_lim[LIM_COUNT] = {
		key_index(SEC_LIMIT, "messages"), key_index(SEC_LIMIT, "recipients"),
		key_index(SEC_LIMIT, "ips"),
	};
	const struct conf *c = ps->c;
	char b1[32], b2[32];
	size_t i, j;

	for (i = 0; i < c->nrules; i++) {
		struct conf_rule *r = &c->rules[i];
		const int *kl = ps->meta[i].kline;
		int has_by = kl[k_by] != 0;

		sort_windows(r);
		if (!has_by)
			ps_err(ps, r->line, "limit '%s': 'by' is missing (sasl, uid, sender or ip)",
			    r->name);
		if (!kl[k_lim[LIM_MESSAGES]] && !kl[k_lim[LIM_RECIPIENTS]] && !kl[k_lim[LIM_IPS]])
			ps_err(ps, r->line, "limit '%s': no threshold (set messages, recipients or ips)",
			    r->name);
		if (has_by && kl[k_lim[LIM_IPS]] && (r->by == BY_UID || r->by == BY_IP))
			ps_err(ps, kl[k_lim[LIM_IPS]], "ips: counts the client IPs of a login or "
			    "sender; it cannot be used with by = %s", conf_by_name(r->by));
		if (has_by && (r->actions & ACT_BLOCK) && (r->by == BY_UID || r->by == BY_IP))
			ps_err(ps, kl[k_actions], "actions: block needs by = sasl or by = sender "
			    "(Postfix access maps here refuse SASL logins and senders, not a %s); "
			    "use hold", conf_by_name(r->by));
		if ((r->actions & ACT_EXEC) && c->exec_argc == 0)
			ps_err(ps, kl[k_actions], "actions: exec needs 'command' in [action exec]");
		for (j = 0; j < r->nwin; j++)
			if (r->win[j].seconds > c->retention)
				ps_err(ps, kl[k_lim[r->win[j].limit]],
				    "%s: window %s is longer than retention (%s); raise retention in [agent]",
				    conf_limit_name(r->win[j].limit),
				    conf_format_duration(r->win[j].seconds, b1, sizeof(b1)),
				    conf_format_duration(c->retention, b2, sizeof(b2)));
	}
}

/* err_cmp - by line, then in the order found */
static int
err_cmp(const void *a, const void *b)
{
	const struct perr *x = a, *y = b;

	if (x->line != y->line)
		return (x->line < y->line ? -1 : 1);
	return (x->seq < y->seq ? -1 : x->seq > y->seq);
}

/* move_errs - the collected errors, sorted, into errs */
static void
move_errs(struct pstate *ps, struct conf_errs *errs)
{
	size_t i;

	if (ps->nerr == 0)
		return;
	qsort(ps->err, ps->nerr, sizeof(ps->err[0]), err_cmp);
	if ((errs->msg = calloc(ps->nerr, sizeof(char *))) == NULL) {
		ps_free_errs(ps);
		return;
	}
	for (i = 0; i < ps->nerr; i++)
		errs->msg[i] = ps->err[i].msg;
	errs->n = ps->nerr;
	free(ps->err);
	ps->err = NULL;
	ps->nerr = ps->errcap = 0;
}

/*
 * conf_load - read path.  Returns the config and 0 when the file has no
 * error; otherwise returns -1, *out NULL, and every error in errs.
 */
int
conf_load(const char *path, struct conf **out, struct conf_errs *errs)
{
	struct pstate ps;
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *fp;

	*out = NULL;
	errs->msg = NULL;
	errs->n = 0;
	memset(&ps, 0, sizeof(ps));
	ps.path = path;
	ps.sec = -1;
	if ((fp = fopen(path, "r")) == NULL) {
		ps_err(&ps, 0, "%s", strerror(errno));
		move_errs(&ps, errs);
		return (-1);
	}
	if ((ps.c = conf_default()) == NULL || (ps.c->path = strdup(path)) == NULL) {
		ps_err(&ps, 0, "out of memory");
		goto done;
	}
	while ((len = getline(&buf, &cap, fp)) >= 0) {
		ps.line++;
		if (len > 0 && buf[len - 1] == '\n')
			buf[--len] = '\0';
		parse_line(&ps, buf, (size_t)len);
		if (ps.nerr >= CONF_ERRS_MAX) {
			ps_err(&ps, ps.line, "too many errors, stopping here");
			break;
		}
	}
	if (ferror(fp))
		ps_err(&ps, 0, "read error: %s", strerror(errno));
	else if (ps.nerr < CONF_ERRS_MAX)
		check_rules(&ps);
done:
	free(buf);
	fclose(fp);
	free(ps.meta);
	if (ps.nerr > 0 || ps.oom) {
		move_errs(&ps, errs);
		conf_free(ps.c);
		return (-1);
	}
	*out = ps.c;
	return (0);
}

/* glob_any - 1 when one of the n globs matches value (ASCII case ignored) */
static int
glob_any(char *const *globs, size_t n, const char *value)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (fnmatch(globs[i], value, FNM_CASEFOLD) == 0)
			return (1);
	return (0);
}

/* conf_exempt - 1 when value (lower case) of kind by is exempt */
int
conf_exempt(const struct conf *c, enum conf_by by, const char *value)
{
	if (c == NULL || value == NULL || (unsigned)by >= BY_COUNT)
		return (0);
	return (glob_any(c->exempt[by], c->nexempt[by], value));
}

/* conf_rule_match - 1 when the rule applies to value (lower case) */
int
conf_rule_match(const struct conf_rule *r, const char *value)
{
	if (r->nmatch == 0)
		return (1);
	return (value != NULL && glob_any(r->match, r->nmatch, value));
}
