/*
 * NAME
 *	conf_value - agent.conf reader: the value parsers and the checks
 * SUMMARY
 *	Exports conf_parse_duration() and conf_format_duration(); to the
 *	reader (conf_priv.h) conf_set_value(), which parses one value by its
 *	key's type (one parser per enum ktype, each reporting its own errors
 *	and changing its target only on success), and conf_check_rules(),
 *	the checks that involve several keys and run after the last line.
 * RETURNS
 *	0, or -1 with the error recorded in the pstate ("file:line:
 *	message"); never prints, never exits.
 * UNTRUSTED INPUT
 *	The config file's values: numbers are parsed with overflow checks
 *	and range-checked, paths must be absolute, lists and lines are
 *	length-capped, the exec template may hold only known %-tokens.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "count/conf_priv.h"
#include "count/journal.h"
#include "store/pg.h"

#define CONF_PATH_MAX 1023 /* bytes of a path */
#define CONF_ITEM_MAX 255  /* one list item, glob or address */
#define CONF_ARGV_MAX 64   /* words of the exec command */
#define CONF_REPLY_MAX 400 /* SMTP reply lines are <= 512 bytes */
#define THRESHOLD_MAX 1000000000L

_Static_assert(sizeof(enum conf_mode) == sizeof(int), "enum stored as int");
_Static_assert(sizeof(enum conf_start) == sizeof(int), "enum stored as int");
_Static_assert(sizeof(enum conf_by) == sizeof(int), "enum stored as int");

static const char *const action_words[] = { /* bit 1 << index */
	"hold", "block", "notify", "exec", NULL
};

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
	static const struct {
		int64_t n;
		char u;
	} units[] = {
		{ 86400, 'd' },
		{ 3600, 'h' },
		{ 60, 'm' },
		{ 1, 's' },
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

/* ---- value parsers: one per type, each reports its own errors ---- */

/* put_str - a copy of v into *dst (freeing the old one); 0, or -1 out of memory */
static int
put_str(struct pstate *ps, char **dst, const char *v)
{
	if (set_str(dst, v) < 0) {
		conf_ps_err(ps, ps->line, "out of memory");
		return (-1);
	}
	return (0);
}

/*
 * put_list - the n strings at v replace the list at *dst unless the value
 * was bad (its error already recorded): then they are freed.  0 or -1.
 */
static int
put_list(int bad, char **v, size_t n, char ***dst, size_t *dstn)
{
	if (bad) {
		free_list(v, n);
		return (-1);
	}
	free_list(*dst, *dstn);
	*dst = v;
	*dstn = n;
	return (0);
}

/* val_path - KT_PATH */
static int
val_path(struct pstate *ps, const struct key *k, char **dst, const char *v)
{
	const char *whole = v, *jp;

	if ((k->arg & PATH_JOURNAL) && journal_spec(v, &jp)) {
		if (jp == NULL)
			return (put_str(ps, dst, "journal"));
		if (jp[0] != '/') {
			conf_ps_err(ps, ps->line,
			    "%s: the journal's path must be absolute, not '%s'", k->name, jp);
			return (-1);
		}
		v = jp; /* checked as a path below, kept as written */
	}
	if ((k->arg & PATH_DASH) && strcmp(v, "-") == 0)
		;
	else if (v[0] != '/') {
		conf_ps_err(ps, ps->line, "%s: %s must be absolute, not '%s'", k->name,
		    (k->arg & PATH_PROG) ? "program path" : "path", v);
		return (-1);
	} else if (strchr(v, '\t') != NULL) {
		conf_ps_err(ps, ps->line, "%s: tab in path", k->name);
		return (-1);
	} else if (strlen(v) > CONF_PATH_MAX) {
		conf_ps_err(ps, ps->line, "%s: path longer than %d bytes", k->name, CONF_PATH_MAX);
		return (-1);
	}
	return (put_str(ps, dst, whole));
}

/* val_duration - KT_DURATION */
static int
val_duration(struct pstate *ps, const struct key *k, int64_t *dst, const char *v)
{
	char lo[32], hi[32];
	int64_t d = conf_parse_duration(v);

	if (d < 0) {
		conf_ps_err(ps, ps->line,
		    "%s: bad duration '%s' (a number with unit s, m, h or d, e.g. 15m)", k->name,
		    v);
		return (-1);
	}
	if (d < (int64_t)k->min || d > (int64_t)k->max) {
		conf_ps_err(ps, ps->line, "%s: %s is out of range (%s to %s)", k->name, v,
		    conf_format_duration((int64_t)k->min, lo, sizeof(lo)),
		    conf_format_duration((int64_t)k->max, hi, sizeof(hi)));
		return (-1);
	}
	*dst = d;
	return (0);
}

/* val_size - KT_SIZE: "64M", "1G", "512K" or a number of bytes, in [min, max] */
static int
val_size(struct pstate *ps, const struct key *k, int64_t *dst, const char *v)
{
	static const char units[] = "KMG";
	const char *u;
	char *end;
	long long n;
	int shift = 0;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (end != v && *end != '\0' && end[1] == '\0' &&
	    (u = strchr(units, toupper((unsigned char)*end))) != NULL) {
		shift = 10 * (int)(u - units + 1);
		end++;
	}
	if (!isdigit((unsigned char)v[0]) || *end != '\0' || errno == ERANGE ||
	    n > (INT64_MAX >> shift)) {
		conf_ps_err(ps, ps->line,
		    "%s: bad size '%s' (a number of bytes, or with K, M or G, e.g. 64M)", k->name,
		    v);
		return (-1);
	}
	n <<= shift;
	if ((double)n < k->min || (double)n > k->max) {
		conf_ps_err(ps, ps->line, "%s: %s is out of range (%.0fK to %.0fG)", k->name, v,
		    k->min / 1024, k->max / (1024.0 * 1024 * 1024));
		return (-1);
	}
	*dst = (int64_t)n;
	return (0);
}

/* val_word - KT_ENUM (index into an int-sized enum) and KT_WORD (string) */
static int
val_word(struct pstate *ps, const struct key *k, void *dst, const char *v)
{
	char buf[256];
	int i = word_index(k->words, v);

	if (i < 0) {
		conf_ps_err(ps, ps->line, "%s: unknown value '%s' (expected %s)", k->name, v,
		    words_text(k->words, buf, sizeof(buf)));
		return (-1);
	}
	if (k->type == KT_ENUM) {
		*(int *)dst = i;
		return (0);
	}
	return (put_str(ps, dst, k->words[i]));
}

/* val_float - KT_FLOAT: plain decimal (digits and one dot) in range */
static int
val_float(struct pstate *ps, const struct key *k, double *dst, const char *v)
{
	double d;
	char *end;

	if (v[strspn(v, "0123456789.")] != '\0' || !isdigit((unsigned char)v[0])) {
		conf_ps_err(ps, ps->line, "%s: '%s' is not a number", k->name, v);
		return (-1);
	}
	errno = 0;
	d = strtod(v, &end);
	if (errno == ERANGE || *end != '\0' || !isfinite(d)) {
		conf_ps_err(ps, ps->line, "%s: '%s' is not a number", k->name, v);
		return (-1);
	}
	if (d < k->min || d > k->max) {
		conf_ps_err(ps, ps->line, "%s: %s is out of range (%g to %g)", k->name, v, k->min,
		    k->max);
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
		conf_ps_err(ps, ps->line, "out of memory");
		return (-1);
	}
	for (cur = copy; (item = next_item(&cur)) != NULL;) {
		if (*item == '\0') {
			conf_ps_err(ps, ps->line, "%s: empty item in list", k->name);
			bad = 1;
		} else if (has_blank(item)) {
			conf_ps_err(ps, ps->line,
			    "%s: '%s' contains a blank (separate items with commas)", k->name,
			    item);
			bad = 1;
		} else if (strlen(item) > CONF_ITEM_MAX) {
			conf_ps_err(ps, ps->line, "%s: item longer than %d bytes", k->name,
			    CONF_ITEM_MAX);
			bad = 1;
		} else if (!bad) {
			if ((out[n] = strdup(item)) == NULL) {
				conf_ps_err(ps, ps->line, "out of memory");
				bad = 1;
			} else
				lower(out[n++]);
		}
	}
	free(copy);
	return (put_list(bad, out, n, dst, dstn));
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
		conf_ps_err(ps, ps->line, "out of memory");
		return (-1);
	}
	for (cur = copy; (item = next_item(&cur)) != NULL; total++) {
		long t;
		int64_t d;

		if (*item == '\0') {
			conf_ps_err(ps, ps->line, "%s: empty item in list", k->name);
			bad = 1;
			continue;
		}
		if ((slash = strchr(item, '/')) == NULL) {
			conf_ps_err(ps, ps->line, "%s: '%s' is not COUNT/WINDOW (e.g. 100/1h)",
			    k->name, item);
			bad = 1;
			continue;
		}
		*slash = '\0';
		if ((t = parse_count(trim(item))) < 0) {
			conf_ps_err(ps, ps->line, "%s: bad count '%s' (1 to %ld)", k->name, item,
			    THRESHOLD_MAX);
			bad = 1;
			continue;
		}
		item = trim(slash + 1);
		if ((d = conf_parse_duration(item)) < 0) {
			conf_ps_err(ps, ps->line,
			    "%s: bad window '%s' (a number with unit s, m, h or d, e.g. 1h)",
			    k->name, item);
			bad = 1;
			continue;
		}
		if (d < (int64_t)k->min || d > (int64_t)k->max) {
			conf_ps_err(ps, ps->line, "%s: window %s is out of range (1s to %s)",
			    k->name, item, conf_format_duration((int64_t)k->max, buf, sizeof(buf)));
			bad = 1;
			continue;
		}
		for (i = 0; i < n; i++)
			if (w[i].seconds == d)
				break;
		if (i < n) {
			conf_ps_err(ps, ps->line, "%s: window %s given twice", k->name,
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
		conf_ps_err(ps, ps->line, "%s: %zu windows, at most %d", k->name, total,
		    CONF_MAX_WINDOWS);
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
		conf_ps_err(ps, ps->line, "out of memory");
		return (-1);
	}
	for (cur = copy; (item = next_item(&cur)) != NULL;) {
		int i = word_index(action_words, item);

		if (*item == '\0') {
			conf_ps_err(ps, ps->line, "%s: empty item in list", k->name);
			bad = 1;
		} else if (i < 0) {
			conf_ps_err(ps, ps->line, "%s: unknown action '%s' (expected %s)", k->name,
			    item, words_text(action_words, buf, sizeof(buf)));
			bad = 1;
		} else if (mask & (1u << i)) {
			conf_ps_err(ps, ps->line, "%s: '%s' listed twice", k->name,
			    action_words[i]);
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
	static const char *const verbs[] = { "REJECT", "DEFER", "DEFER_IF_PERMIT", "HOLD", NULL };
	size_t i, wlen = strcspn(v, " \t");

	for (i = 0; v[i]; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] >= 0x7f) {
			conf_ps_err(ps, ps->line, "%s: only printable ASCII is allowed", k->name);
			return (-1);
		}
	if (i > CONF_REPLY_MAX) {
		conf_ps_err(ps, ps->line, "%s: longer than %d bytes", k->name, CONF_REPLY_MAX);
		return (-1);
	}
	if (wlen == 3 && (v[0] == '4' || v[0] == '5') && isdigit((unsigned char)v[1]) &&
	    isdigit((unsigned char)v[2]))
		;
	else {
		for (i = 0; verbs[i]; i++)
			if (strlen(verbs[i]) == wlen && strncasecmp(v, verbs[i], wlen) == 0)
				break;
		if (verbs[i] == NULL) {
			conf_ps_err(ps, ps->line,
			    "%s: must start with a 4NN or 5NN SMTP code or with "
			    "REJECT, DEFER, DEFER_IF_PERMIT or HOLD, not '%.*s'",
			    k->name, (int)wlen, v);
			return (-1);
		}
	}
	return (put_str(ps, dst, v));
}

/* val_address - KT_ADDRESS: one address sendmail cannot take for an option */
static int
val_address(struct pstate *ps, const struct key *k, char **dst, const char *v)
{
	const char *at = strchr(v, '@');

	if (has_blank(v) || v[strcspn(v, "<>,;\"()\\")] != '\0') {
		conf_ps_err(ps, ps->line, "%s: '%s' is not one mail address", k->name, v);
		return (-1);
	}
	if (v[0] == '-' || v[0] == '@' || (at && (at[1] == '\0' || strchr(at + 1, '@')))) {
		conf_ps_err(ps, ps->line, "%s: '%s' is not a mail address", k->name, v);
		return (-1);
	}
	if (strlen(v) > CONF_ITEM_MAX) {
		conf_ps_err(ps, ps->line, "%s: address longer than %d bytes", k->name,
		    CONF_ITEM_MAX);
		return (-1);
	}
	return (put_str(ps, dst, v));
}

/*
 * val_conninfo - KT_CONNINFO: what libpq can parse (key = value words or
 * a postgresql:// URI), without a password: agent.conf is not where one
 * belongs (~/.pgpass or PGPASSFILE is)
 */
static int
val_conninfo(struct pstate *ps, const struct key *k, char **dst, const char *v)
{
	char err[512];

	if (strlen(v) > CONF_PATH_MAX) {
		conf_ps_err(ps, ps->line, "%s: longer than %d bytes", k->name, CONF_PATH_MAX);
		return (-1);
	}
	if (pg_conninfo_check(v, err, sizeof(err)) < 0) {
		conf_ps_err(ps, ps->line, "%s: %s", k->name, err);
		return (-1);
	}
	return (put_str(ps, dst, v));
}

/* name_ok - 1 to max bytes of letters, digits, '.', '-' and '_' */
static int
name_ok(const char *v, size_t max)
{
	size_t n = strlen(v);

	return (n >= 1 && n <= max &&
	    v[strspn(v,
		"abcdefghijklmnopqrstuvwxyz"
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"0123456789.-_")] == '\0');
}

/* val_node - KT_NODE: a node name, which fits a char[CONF_NAME_MAX] */
static int
val_node(struct pstate *ps, const struct key *k, char **dst, const char *v)
{
	if (!name_ok(v, CONF_NAME_MAX - 1)) {
		conf_ps_err(ps, ps->line,
		    "%s: '%s' is not a node name (1 to %d of A-Z a-z 0-9 _ . -)", k->name, v,
		    CONF_NAME_MAX - 1);
		return (-1);
	}
	return (put_str(ps, dst, v));
}

/*
 * val_name - KT_NAME: a host name or a Postfix instance (syslog_name's
 * first part) as the log writes it: 1..CONF_NAME_MAX bytes of letters,
 * digits, '.', '-' and '_'
 */
static int
val_name(struct pstate *ps, const struct key *k, char **dst, const char *v)
{
	if (!name_ok(v, CONF_NAME_MAX)) {
		conf_ps_err(ps, ps->line,
		    "%s: '%s' is not a name (1 to %d letters, digits, '.', '-' or '_')", k->name, v,
		    CONF_NAME_MAX);
		return (-1);
	}
	return (put_str(ps, dst, v));
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
		conf_ps_err(ps, ps->line, "out of memory");
		return (-1);
	}
	for (p = copy, nw = 0;; nw++) {
		const char *t;

		p += strspn(p, " \t");
		if (*p == '\0')
			break;
		if (nw == CONF_ARGV_MAX) {
			conf_ps_err(ps, ps->line, "%s: more than %d words", k->name, CONF_ARGV_MAX);
			bad = 1;
			break;
		}
		word = p;
		p += strcspn(p, " \t");
		if (*p != '\0')
			*p++ = '\0';
		if (nw == 0 && word[0] != '/') {
			conf_ps_err(ps, ps->line, "%s: program must be an absolute path, not '%s'",
			    k->name, word);
			bad = 1;
		} else if (nw == 0 && strchr(word, '%') != NULL) {
			conf_ps_err(ps, ps->line, "%s: the program path cannot hold a %%-token",
			    k->name);
			bad = 1;
		} else {
			for (t = word; (t = strchr(t, '%')) != NULL; t += 2)
				if (t[1] == '\0' || strchr("ircwqa%", t[1]) == NULL) {
					conf_ps_err(ps, ps->line,
					    "%s: unknown token '%%%.1s' in '%s' "
					    "(use %%i %%r %%c %%w %%q %%a or %%%%)",
					    k->name, t + 1, word);
					bad = 1;
					break;
				}
		}
		if (bad)
			continue;
		if ((argv[n] = strdup(word)) == NULL) {
			conf_ps_err(ps, ps->line, "out of memory");
			bad = 1;
		} else
			n++;
	}
	free(copy);
	return (put_list(bad, argv, n, dst, dstn));
}

/* conf_set_value - parse v for key k into base (struct conf or struct conf_rule) */
int
conf_set_value(struct pstate *ps, const struct key *k, void *base, const char *v)
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
	case KT_SIZE:
		return (val_size(ps, k, (int64_t *)(void *)t, v));
	case KT_CONNINFO:
		return (val_conninfo(ps, k, (char **)(void *)t, v));
	case KT_NODE:
		return (val_node(ps, k, (char **)(void *)t, v));
	case KT_NAME:
		return (val_name(ps, k, (char **)(void *)t, v));
	}
	return (-1);
}

/* sort_windows - by limit (messages, recipients, ips, senders, bounces); file order within */
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

/* key_index - row of (sec, name) in conf_keys[] */
static size_t
key_index(enum sec sec, const char *name)
{
	size_t i;

	for (i = 0; i < CONF_NKEYS; i++)
		if (conf_keys[i].sec == sec && strcmp(conf_keys[i].name, name) == 0)
			break;
	return (i);
}

/* domain_patterns_ok - the patterns of a domain kind hold no '@'; 0 if one does */
static int
domain_patterns_ok(struct pstate *ps, int line, const char *key, char *const *list, size_t n)
{
	size_t i;
	int ok = 1;

	for (i = 0; i < n; i++)
		if (strchr(list[i], '@') != NULL) {
			conf_ps_err(ps, line,
			    "%s: '%s' holds an '@'; a domain kind is compared with the "
			    "domain alone (e.g. example.com or *.example.com)",
			    key, list[i]);
			ok = 0;
		}
	return (ok);
}

/*
 * check_cluster - [cluster]: node needs conninfo; without node, the host
 * name is the node's name, when it can be one
 */
static void
check_cluster(struct pstate *ps)
{
	const size_t k_node = key_index(SEC_CLUSTER, "node");
	struct conf *c = ps->c;
	char host[256];

	if (c->cluster_conninfo == NULL) {
		if (ps->gline[k_node] != 0)
			conf_ps_err(ps, ps->gline[k_node], "node: [cluster] needs conninfo too");
		free(c->cluster_node);
		c->cluster_node = NULL;
		return;
	}
	if (c->cluster_node != NULL || ps->gline[k_node] != 0)
		return;
	if (gethostname(host, sizeof(host)) < 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	if (!name_ok(host, CONF_NAME_MAX - 1))
		conf_ps_err(ps, ps->gline[key_index(SEC_CLUSTER, "conninfo")],
		    "[cluster]: the host name '%s' cannot be a node name; set node", host);
	else if (set_str(&c->cluster_node, host) < 0)
		conf_ps_err(ps, 0, "out of memory");
}

/*
 * conf_check_rules - the checks that need the whole file: every rule has a
 * "by" and a threshold, "ips", "senders" and "block" fit its identity kind, the
 * actions it lists have what they need, no window outlives retention;
 * then the patterns that depend on the kind: ranges of client-IP
 * patterns, domain patterns without '@'.
 */
void
conf_check_rules(struct pstate *ps)
{
	const size_t k_by = key_index(SEC_LIMIT, "by");
	const size_t k_match = key_index(SEC_LIMIT, "match");
	const size_t k_actions = key_index(SEC_LIMIT, "actions");
	const size_t k_lim[LIM_COUNT] = {
		key_index(SEC_LIMIT, "messages"),
		key_index(SEC_LIMIT, "recipients"),
		key_index(SEC_LIMIT, "ips"),
		key_index(SEC_LIMIT, "senders"),
		key_index(SEC_LIMIT, "bounces"),
	};
	struct conf *c = ps->c;
	char b1[32], b2[32], kinds[128];
	size_t i, j;
	int by, l, any;

	words_text(conf_keys[k_by].words, kinds, sizeof(kinds));
	for (i = 0; ps->meta != NULL && i < c->nrules; i++) {
		struct conf_rule *r = &c->rules[i];
		const int *kl = ps->meta[i].kline;
		int has_by = kl[k_by] != 0;

		ps->erule = i + 1;
		sort_windows(r);
		if (!has_by)
			conf_ps_err(ps, r->line, "limit '%s': 'by' is missing (%s)", r->name,
			    kinds);
		for (l = 0, any = 0; l < LIM_COUNT; l++)
			any |= kl[k_lim[l]] != 0;
		if (!any)
			conf_ps_err(ps, r->line,
			    "limit '%s': no threshold (set messages, recipients, ips, senders or "
			    "bounces)",
			    r->name);
		if (has_by && kl[k_lim[LIM_IPS]] && (r->by == BY_UID || r->by == BY_IP))
			conf_ps_err(ps, kl[k_lim[LIM_IPS]],
			    "ips: counts the client IPs of a login or "
			    "sender; it cannot be used with by = %s",
			    conf_by_name(r->by));
		if (has_by && kl[k_lim[LIM_SENDERS]] && r->by == BY_SENDER)
			conf_ps_err(ps, kl[k_lim[LIM_SENDERS]],
			    "senders: counts the envelope senders a login, uid, client or domain "
			    "used; a sender identity has only one, so it cannot be used with by = "
			    "sender");
		if (has_by && (r->actions & ACT_BLOCK) && (r->by == BY_UID || r->by == BY_IP))
			conf_ps_err(ps, kl[k_actions],
			    "actions: block needs by = sasl or by = sender "
			    "(or sender_domain): Postfix access maps here refuse SASL logins and "
			    "senders, not a %s; use hold",
			    conf_by_name(r->by));
		if (has_by && (r->actions & ACT_BLOCK) && r->by == BY_SASL_DOMAIN)
			conf_ps_err(ps, kl[k_actions],
			    "actions: block cannot work with by = sasl_domain: "
			    "check_sasl_access looks up whole logins (user@domain), never a bare "
			    "domain, so no sasl_map entry can refuse a domain's logins; use hold, "
			    "or by = sender_domain (check_sender_access does look a domain up)");
		if ((r->actions & ACT_EXEC) && c->exec_argc == 0)
			conf_ps_err(ps, kl[k_actions],
			    "actions: exec needs 'command' in [action exec]");
		for (j = 0; j < r->nwin; j++)
			if (r->win[j].seconds > c->retention)
				conf_ps_err(ps, kl[k_lim[r->win[j].limit]],
				    "%s: window %s is longer than retention (%s); raise retention "
				    "in [agent]",
				    conf_limit_name(r->win[j].limit),
				    conf_format_duration(r->win[j].seconds, b1, sizeof(b1)),
				    conf_format_duration(c->retention, b2, sizeof(b2)));
		if (!has_by || kl[k_match] == 0)
			continue;
		if (r->by == BY_IP)
			(void)conf_split_ranges(ps, kl[k_match], "match", &r->match, &r->nmatch,
			    &r->cidr, &r->ncidr);
		else if (r->by == BY_SASL_DOMAIN || r->by == BY_SENDER_DOMAIN)
			(void)domain_patterns_ok(ps, kl[k_match], "match", r->match, r->nmatch);
	}
	ps->erule = 0;
	check_cluster(ps);
	for (by = 0; by < BY_COUNT; by++) {
		size_t k = key_index(SEC_EXEMPT, conf_by_name((enum conf_by)by));
		int line = k < CONF_NKEYS ? ps->gline[k] : 0;

		if (line == 0)
			continue;
		if (by == BY_IP)
			(void)conf_split_ranges(ps, line, "ip", &c->exempt[by], &c->nexempt[by],
			    &c->exempt_cidr, &c->nexempt_cidr);
		else if ((by == BY_SASL_DOMAIN || by == BY_SENDER_DOMAIN) &&
		    !domain_patterns_ok(ps, line, conf_by_name((enum conf_by)by), c->exempt[by],
			c->nexempt[by])) {
			free_list(c->exempt[by], c->nexempt[by]);
			c->exempt[by] = NULL;
			c->nexempt[by] = 0;
		}
	}
}
