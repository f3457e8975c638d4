/*
 * NAME
 *	conf - agent.conf reader (table-driven)
 * SUMMARY
 *	Exports conf_default(), conf_load(), conf_load_lenient(), conf_free(),
 *	conf_errs_free(), conf_exempt(), conf_rule_match(), conf_cidr_format(),
 *	conf_parse_duration(), conf_format_duration(), conf_by_name(),
 *	conf_limit_name() and the conf_key_*() view of the key table.
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
 *
 *	Client-IP patterns (match of a by = ip rule, [exempt] ip) that hold
 *	a '/' are address ranges: parsed once, after the last line (a rule
 *	may give match before by), into struct conf_cidr and taken out of
 *	the glob list; a '/' that is not a valid range is an error.  Other
 *	kinds keep '/' as a plain glob character (a login may contain one).
 *
 *	conf_load_lenient() runs the same reader and keeps the result: a key
 *	whose value had an error keeps its default (value parsers change
 *	their target only on success), a [limit] with any error is dropped,
 *	since half a rule is not a rule the daemon would ever run.
 *	The library never prints and never exits.
 * UNTRUSTED INPUT
 *	The config file is trusted for meaning, not for form: lines are
 *	length-capped, control characters are refused, numbers are parsed
 *	with overflow checks and range-checked, paths must be absolute, the
 *	exec template may hold only known %-tokens.
 */
#include <arpa/inet.h>
#include <sys/socket.h>

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

#include "count/conf.h"

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
static const char *const by_words[] = {	/* enum conf_by */
	"sasl", "uid", "sender", "ip", "sasl_domain", "sender_domain", NULL
};
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
	{ "sasl_domain",        NULL,                                    0,  0,            C(exempt[BY_SASL_DOMAIN]), C(nexempt[BY_SASL_DOMAIN]), NULL,  SEC_EXEMPT, KT_LIST,     0 },
	{ "sender_domain",      NULL,                                    0,  0,            C(exempt[BY_SENDER_DOMAIN]), C(nexempt[BY_SENDER_DOMAIN]), NULL, SEC_EXEMPT, KT_LIST,  0 },
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

/* Per [limit NAME]: the line of each key given (0: not given), any error. */
struct rmeta {
	int	kline[NKEYS];
	int	bad;			/* an error belongs to this rule */
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
	size_t	erule;			/* errors now belong to rule erule - 1; 0: none */
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
	if (ps->erule > 0 && ps->meta != NULL)
		ps->meta[ps->erule - 1].bad = 1;
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

/* conf_by_name - "sasl", "uid", "sender", "ip", "sasl_domain", "sender_domain" */
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
	for (i = 0; i < c->nrules; i++) {
		free_list(c->rules[i].match, c->rules[i].nmatch);
		free(c->rules[i].cidr);
	}
	free(c->rules);
	for (i = 0; i < BY_COUNT; i++)
		free_list(c->exempt[i], c->nexempt[i]);
	free(c->exempt_cidr);
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
	int bad = 0;

	ps->sec = -1;
	ps->seen_sec = 1;
	ps->erule = 0;
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
		if (!valid_limit_name(rest)) {
			ps_err(ps, ps->line, "bad limit name '%s' (1 to %d of A-Z a-z 0-9 _ . -)",
			    rest, CONF_NAME_MAX - 1);
			bad = 1;
		} else
			for (i = 0; i < ps->c->nrules; i++)
				if (strcmp(ps->c->rules[i].name, rest) == 0) {
					ps_err(ps, ps->line, "limit '%s' defined twice (first at line %d)",
					    rest, ps->c->rules[i].line);
					bad = 1;
					break;
				}
		/* Even a misnamed rule is read, so its keys are checked too. */
		if (new_rule(ps, rest) < 0) {
			ps_err(ps, ps->line, "out of memory");
			return;
		}
		ps->meta[ps->rule].bad = bad;
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

	/* Until a section header says otherwise, errors belong to the current rule. */
	ps->erule = ps->sec == SEC_LIMIT ? ps->rule + 1 : 0;
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

/* ---- client-IP patterns: address ranges beside the globs ---- */

/* host_bits_zero - 1 when no bit of addr[0..nbytes) after the first bits is set */
static int
host_bits_zero(const unsigned char *addr, size_t nbytes, unsigned bits)
{
	size_t i = bits / 8;

	if (i < nbytes && (addr[i] & (0xffu >> (bits % 8))) != 0)
		return (0);
	for (i++; i < nbytes; i++)
		if (addr[i] != 0)
			return (0);
	return (1);
}

/* clear_host_bits - zero every bit of addr[0..nbytes) after the first bits */
static void
clear_host_bits(unsigned char *addr, size_t nbytes, unsigned bits)
{
	size_t i = bits / 8;

	if (i < nbytes)
		addr[i++] &= (unsigned char)(0xff00u >> (bits % 8));
	for (; i < nbytes; i++)
		addr[i] = 0;
}

/*
 * parse_range - "ADDRESS/BITS" into *r: an IPv4 address with 0..32 bits
 * or an IPv6 address with 0..128, no bit set after the prefix (Postfix's
 * cidr tables refuse those too: 10.0.0.1/8 is a typo, not a range).
 * Returns 0, or -1 with what is wrong in why; *hint: add the form to it.
 */
static int
parse_range(const char *item, struct conf_cidr *r, char *why, size_t len, int *hint)
{
	const char *slash = strchr(item, '/'), *b = slash + 1;
	char addr[INET6_ADDRSTRLEN + 1], fix[64];
	size_t alen = (size_t)(slash - item), nd = strspn(b, "0123456789");
	unsigned bits = 0, max;
	int af;

	memset(r, 0, sizeof(*r));
	*hint = 1;
	if (alen == 0) {
		snprintf(why, len, "no address before '/'");
		return (-1);
	}
	if (alen >= sizeof(addr)) {
		snprintf(why, len, "'%.*s' is not an IPv4 or IPv6 address", (int)alen, item);
		return (-1);
	}
	memcpy(addr, item, alen);
	addr[alen] = '\0';
	af = strchr(addr, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(af, addr, r->addr) != 1) {
		snprintf(why, len, "'%s' is not an IPv4 or IPv6 address", addr);
		return (-1);
	}
	r->family = af == AF_INET ? 4 : 6;
	max = af == AF_INET ? 32 : 128;
	if (*b == '\0') {
		snprintf(why, len, "no prefix length after '/'");
		return (-1);
	}
	if (b[nd] != '\0' || nd > 3) {
		snprintf(why, len, "the prefix length '%s' is not a number of bits", b);
		return (-1);
	}
	for (; *b; b++)
		bits = bits * 10 + (unsigned)(*b - '0');
	if (bits > max) {
		snprintf(why, len, "the prefix length %u is over %u for IPv%u", bits, max, r->family);
		return (-1);
	}
	r->bits = (unsigned char)bits;
	if (!host_bits_zero(r->addr, max / 8, bits)) {
		clear_host_bits(r->addr, max / 8, bits);
		snprintf(why, len, "it has bits set after the first %u (did you mean %s?)", bits,
		    conf_cidr_format(r, fix, sizeof(fix)));
		*hint = 0;
		return (-1);
	}
	return (0);
}

/*
 * split_ranges - take the items with a '/' of a client-IP list (key at
 * line) out of *list into *out as ranges; bare IPv6 addresses are written
 * the way Postfix logs them (2001:DB8:0::7 -> 2001:db8::7) so the glob
 * compares equal.  On an error the whole list is dropped (the key keeps
 * its default, none) and -1 is returned.
 */
static int
split_ranges(struct pstate *ps, int line, const char *key, char ***list, size_t *n,
	     struct conf_cidr **out, size_t *nout)
{
	struct conf_cidr *r = NULL, *fit;
	char why[160], canon[INET6_ADDRSTRLEN];
	unsigned char a6[16];
	size_t i, nr = 0, kept = 0, total = *n;
	int bad = 0, hint;

	if (total == 0)
		return (0);
	/* Room for every item, cut to the ranges found at the end. */
	if ((r = calloc(*n, sizeof(*r))) == NULL) {
		ps_err(ps, line, "out of memory");
		return (-1);
	}
	for (i = 0; i < total; i++) {
		char *item = (*list)[i];

		if (strchr(item, '/') != NULL) {
			if (parse_range(item, &r[nr], why, sizeof(why), &hint) < 0) {
				ps_err(ps, line, "%s: '%s' is not an address range: %s%s", key, item, why,
				    hint ? " (write ADDRESS/BITS, e.g. 203.0.113.0/24 or 2001:db8::/32)" : "");
				bad = 1;
			} else
				nr++;
			free(item);
			continue;
		}
		if (strpbrk(item, "*?[") == NULL && strchr(item, ':') != NULL &&
		    inet_pton(AF_INET6, item, a6) == 1 &&
		    inet_ntop(AF_INET6, a6, canon, sizeof(canon)) != NULL &&
		    strcmp(canon, item) != 0 && set_str(&item, canon) < 0) {
			ps_err(ps, line, "out of memory");
			bad = 1;
		}
		(*list)[kept++] = item;
	}
	*n = kept;
	if (bad) {
		free_list(*list, *n);
		*list = NULL;
		*n = 0;
		free(r);
		return (-1);
	}
	if (*n == 0) {
		free(*list);
		*list = NULL;
	}
	if (nr == 0) {
		free(r);
		r = NULL;
	} else if (nr < total && (fit = realloc(r, nr * sizeof(*r))) != NULL)
		r = fit;
	free(*out);
	*out = r;
	*nout = nr;
	return (0);
}

/* domain_patterns_ok - the patterns of a domain kind hold no '@'; 0 if one does */
static int
domain_patterns_ok(struct pstate *ps, int line, const char *key, char *const *list, size_t n)
{
	size_t i;
	int ok = 1;

	for (i = 0; i < n; i++)
		if (strchr(list[i], '@') != NULL) {
			ps_err(ps, line, "%s: '%s' holds an '@'; a domain kind is compared with the "
			    "domain alone (e.g. example.com or *.example.com)", key, list[i]);
			ok = 0;
		}
	return (ok);
}

/*
 * check_rules - the checks that need the whole file: every rule has a
 * "by" and a threshold, "ips" and "block" fit its identity kind, the
 * actions it lists have what they need, no window outlives retention;
 * then the patterns that depend on the kind: ranges of client-IP
 * patterns, domain patterns without '@'.
 */
static void
check_rules(struct pstate *ps)
{
	const size_t k_by = key_index(SEC_LIMIT, "by");
	const size_t k_match = key_index(SEC_LIMIT, "match");
	const size_t k_actions = key_index(SEC_LIMIT, "actions");
	const size_t k_lim[LIM_COUNT] = {
		key_index(SEC_LIMIT, "messages"), key_index(SEC_LIMIT, "recipients"),
		key_index(SEC_LIMIT, "ips"),
	};
	struct conf *c = ps->c;
	char b1[32], b2[32], kinds[128];
	size_t i, j;
	int by;

	words_text(by_words, kinds, sizeof(kinds));
	for (i = 0; ps->meta != NULL && i < c->nrules; i++) {
		struct conf_rule *r = &c->rules[i];
		const int *kl = ps->meta[i].kline;
		int has_by = kl[k_by] != 0;

		ps->erule = i + 1;
		sort_windows(r);
		if (!has_by)
			ps_err(ps, r->line, "limit '%s': 'by' is missing (%s)", r->name, kinds);
		if (!kl[k_lim[LIM_MESSAGES]] && !kl[k_lim[LIM_RECIPIENTS]] && !kl[k_lim[LIM_IPS]])
			ps_err(ps, r->line, "limit '%s': no threshold (set messages, recipients or ips)",
			    r->name);
		if (has_by && kl[k_lim[LIM_IPS]] && (r->by == BY_UID || r->by == BY_IP))
			ps_err(ps, kl[k_lim[LIM_IPS]], "ips: counts the client IPs of a login or "
			    "sender; it cannot be used with by = %s", conf_by_name(r->by));
		if (has_by && (r->actions & ACT_BLOCK) && (r->by == BY_UID || r->by == BY_IP))
			ps_err(ps, kl[k_actions], "actions: block needs by = sasl or by = sender "
			    "(or sender_domain): Postfix access maps here refuse SASL logins and "
			    "senders, not a %s; use hold", conf_by_name(r->by));
		if (has_by && (r->actions & ACT_BLOCK) && r->by == BY_SASL_DOMAIN)
			ps_err(ps, kl[k_actions], "actions: block cannot work with by = sasl_domain: "
			    "check_sasl_access looks up whole logins (user@domain), never a bare "
			    "domain, so no sasl_map entry can refuse a domain's logins; use hold, "
			    "or by = sender_domain (check_sender_access does look a domain up)");
		if ((r->actions & ACT_EXEC) && c->exec_argc == 0)
			ps_err(ps, kl[k_actions], "actions: exec needs 'command' in [action exec]");
		for (j = 0; j < r->nwin; j++)
			if (r->win[j].seconds > c->retention)
				ps_err(ps, kl[k_lim[r->win[j].limit]],
				    "%s: window %s is longer than retention (%s); raise retention in [agent]",
				    conf_limit_name(r->win[j].limit),
				    conf_format_duration(r->win[j].seconds, b1, sizeof(b1)),
				    conf_format_duration(c->retention, b2, sizeof(b2)));
		if (!has_by || kl[k_match] == 0)
			continue;
		if (r->by == BY_IP)
			(void)split_ranges(ps, kl[k_match], "match", &r->match, &r->nmatch,
			    &r->cidr, &r->ncidr);
		else if (r->by == BY_SASL_DOMAIN || r->by == BY_SENDER_DOMAIN)
			(void)domain_patterns_ok(ps, kl[k_match], "match", r->match, r->nmatch);
	}
	ps->erule = 0;
	for (by = 0; by < BY_COUNT; by++) {
		size_t k = key_index(SEC_EXEMPT, by_words[by]);
		int line = k < NKEYS ? ps->gline[k] : 0;

		if (line == 0)
			continue;
		if (by == BY_IP)
			(void)split_ranges(ps, line, "ip", &c->exempt[by], &c->nexempt[by],
			    &c->exempt_cidr, &c->nexempt_cidr);
		else if ((by == BY_SASL_DOMAIN || by == BY_SENDER_DOMAIN) &&
		    !domain_patterns_ok(ps, line, by_words[by], c->exempt[by], c->nexempt[by])) {
			free_list(c->exempt[by], c->nexempt[by]);
			c->exempt[by] = NULL;
			c->nexempt[by] = 0;
		}
	}
}

/* drop_bad_rules - lenient reading: leave out every rule with an error */
static void
drop_bad_rules(struct pstate *ps)
{
	struct conf *c = ps->c;
	size_t i, kept = 0;

	for (i = 0; i < c->nrules; i++) {
		if (ps->meta[i].bad) {
			free_list(c->rules[i].match, c->rules[i].nmatch);
			free(c->rules[i].cidr);
			continue;
		}
		c->rules[kept] = c->rules[i];
		ps->meta[kept] = ps->meta[i];
		kept++;
	}
	c->nrules = kept;
	if (kept == 0) {
		free(c->rules);
		c->rules = NULL;
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
 * load - the reader behind conf_load() and conf_load_lenient().  Strict:
 * 0 and the config only when the file has no error.  Lenient: 0 and the
 * config (rules with an error dropped) as long as the file could be read.
 */
static int
load(const char *path, struct conf **out, struct conf_errs *errs, int lenient)
{
	struct pstate ps;
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *fp;
	int unreadable = 0;

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
		unreadable = 1;
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
	ps.erule = 0;
	if (ferror(fp)) {
		ps_err(&ps, 0, "read error: %s", strerror(errno));
		unreadable = 1;
	} else if (ps.nerr < CONF_ERRS_MAX || lenient)
		check_rules(&ps);
done:
	free(buf);
	fclose(fp);
	if (lenient && !unreadable && !ps.oom)
		drop_bad_rules(&ps);
	free(ps.meta);
	if ((!lenient && ps.nerr > 0) || unreadable || ps.oom) {
		move_errs(&ps, errs);
		conf_free(ps.c);
		return (-1);
	}
	move_errs(&ps, errs);
	*out = ps.c;
	return (0);
}

/*
 * conf_load - read path.  Returns the config and 0 when the file has no
 * error; otherwise returns -1, *out NULL, and every error in errs.
 */
int
conf_load(const char *path, struct conf **out, struct conf_errs *errs)
{
	return (load(path, out, errs, 0));
}

/*
 * conf_load_lenient - read path, keeping what parsed: 0, *out and the
 * errors (maybe none); -1 only when the file cannot be read.
 */
int
conf_load_lenient(const char *path, struct conf **out, struct conf_errs *errs)
{
	return (load(path, out, errs, 1));
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

/* An address as logged, parsed once for every range of a list. */
struct ipval {
	unsigned char a6[16], a4[4];
	int	has6, has4;		/* IPv4-mapped IPv6: both */
};

/*
 * ip_text - a logged client address without an "ipv6:" prefix (any case:
 * Postfix writes "IPv6:" in address literals and folded values keep it in
 * lower case), so the prefixed form matches the same patterns.
 */
static const char *
ip_text(const char *v)
{
	return (strncasecmp(v, "ipv6:", 5) == 0 ? v + 5 : v);
}

/* ipval_parse - v (without prefix) as IPv4 or IPv6; 0 when it is neither */
static int
ipval_parse(const char *v, struct ipval *iv)
{
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	iv->has4 = iv->has6 = 0;
	if (strchr(v, ':') == NULL) {
		iv->has4 = inet_pton(AF_INET, v, iv->a4) == 1;
		return (iv->has4);
	}
	if (inet_pton(AF_INET6, v, iv->a6) != 1)
		return (0);
	iv->has6 = 1;
	if (memcmp(iv->a6, mapped, sizeof(mapped)) == 0) {
		memcpy(iv->a4, iv->a6 + 12, 4);
		iv->has4 = 1;
	}
	return (1);
}

/* prefix_eq - 1 when a and b agree in their first bits */
static int
prefix_eq(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	size_t whole = bits / 8;
	unsigned rest = bits % 8;

	if (memcmp(a, b, whole) != 0)
		return (0);
	if (rest == 0)
		return (1);
	return (((a[whole] ^ b[whole]) & (0xff00u >> rest) & 0xffu) == 0);
}

/* cidr_any - 1 when the address iv is in one of the n ranges */
static int
cidr_any(const struct conf_cidr *r, size_t n, const struct ipval *iv)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((r[i].family == 4 && iv->has4 && prefix_eq(iv->a4, r[i].addr, r[i].bits)) ||
		    (r[i].family == 6 && iv->has6 && prefix_eq(iv->a6, r[i].addr, r[i].bits)))
			return (1);
	return (0);
}

/* pattern_match - value against n globs and, for client IPs, ncidr ranges */
static int
pattern_match(char *const *globs, size_t n, const struct conf_cidr *cidr, size_t ncidr,
	      int is_ip, const char *value)
{
	struct ipval iv;

	if (is_ip)
		value = ip_text(value);
	if (glob_any(globs, n, value))
		return (1);
	return (ncidr > 0 && ipval_parse(value, &iv) && cidr_any(cidr, ncidr, &iv));
}

/* conf_exempt - 1 when value (lower case) of kind by is exempt */
int
conf_exempt(const struct conf *c, enum conf_by by, const char *value)
{
	if (c == NULL || value == NULL || (unsigned)by >= BY_COUNT)
		return (0);
	if (by != BY_IP)
		return (glob_any(c->exempt[by], c->nexempt[by], value));
	return (pattern_match(c->exempt[by], c->nexempt[by], c->exempt_cidr, c->nexempt_cidr,
	    1, value));
}

/* conf_rule_match - 1 when the rule applies to value (lower case) */
int
conf_rule_match(const struct conf_rule *r, const char *value)
{
	if (r->nmatch == 0 && r->ncidr == 0)
		return (1);
	return (value != NULL && pattern_match(r->match, r->nmatch, r->cidr, r->ncidr,
	    r->by == BY_IP, value));
}

/* conf_cidr_format - "203.0.113.0/24" of a range into buf */
const char *
conf_cidr_format(const struct conf_cidr *r, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (len == 0)
		return (buf);
	if (inet_ntop(r->family == 4 ? AF_INET : AF_INET6, r->addr, a, sizeof(a)) == NULL)
		snprintf(a, sizeof(a), "?");
	snprintf(buf, len, "%s/%u", a, (unsigned)r->bits);
	return (buf);
}
