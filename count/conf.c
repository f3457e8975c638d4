/*
 * NAME
 *	conf - agent.conf reader (table-driven): the key table and the reader
 * SUMMARY
 *	Exports conf_default(), conf_load(), conf_load_lenient(), conf_free(),
 *	conf_errs_free(), conf_by_name(), conf_limit_name() and the
 *	conf_key_*() view of the key table; to the other two files of the
 *	reader (conf_priv.h) conf_keys[] and conf_ps_err().  The value
 *	parsers and the whole-file checks are in conf_value.c; matching
 *	values against globs and address ranges in conf_match.c.
 *
 *	Every key is one row of conf_keys[]: its section, name, value type,
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
 *	Client-IP patterns that hold a '/' are address ranges, parsed once
 *	after the last line (conf_match.c).
 *
 *	conf_load_lenient() runs the same reader and keeps the result: a key
 *	whose value had an error keeps its default (value parsers change
 *	their target only on success), a [limit] with any error is dropped,
 *	since half a rule is not a rule the daemon would ever run.
 * RETURNS
 *	conf_load(): 0, or -1 with every error of the file in a struct
 *	conf_errs ("file:line: message", by line); conf_load_lenient(): 0
 *	unless the file cannot be read.  Never prints, never exits.
 * UNTRUSTED INPUT
 *	The config file is trusted for meaning, not for form: lines are
 *	length-capped, control characters are refused, numbers are parsed
 *	with overflow checks and range-checked, paths must be absolute, the
 *	exec template may hold only known %-tokens.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "count/conf_priv.h"
#include "util/arr.h"

#define CONF_LINE_MAX 4096            /* bytes per line */
#define CONF_ERRS_MAX 100             /* then "too many errors" and stop */
#define DURATION_MAX (3650LL * 86400) /* ten years */

static const char *const sec_names[SEC_COUNT] = {
	"agent",
	"limit",
	"exempt",
	"action block",
	"action notify",
	"action exec",
	"cluster",
};

static const char *const mode_words[] = { "enforce", "monitor", NULL };
static const char *const start_words[] = { "end", "beginning", NULL };
static const char *const by_words[] = { /* enum conf_by */
	"sasl", "uid", "sender", "ip", "sasl_domain", "sender_domain", NULL
};
static const char *const maptype_words[] = { "hash", "btree", "lmdb", "cdb", "dbm", "sdbm", NULL };
static const char *const limit_words[] = { /* enum conf_limit */
	"messages", "recipients", "ips", "senders", "bounces", NULL
};

#define C(f) offsetof(struct conf, f)
#define R(f) offsetof(struct conf_rule, f)

const struct key conf_keys[] = {
	/*	  name                  default                                  min max           target                count                  words          section     type         arg */
	{ "log", "/var/log/mail.log", 0, 0, C(log), 0, NULL, SEC_AGENT, KT_PATH,
	    PATH_DASH | PATH_JOURNAL },
	{ "postfix_user", "postfix", 0, 0, C(postfix_user), 0, NULL, SEC_AGENT, KT_NAME, 0 },
	{ "state", "/var/lib/sendguard/state.db", 0, 0, C(state), 0, NULL, SEC_AGENT, KT_PATH, 0 },
	{ "metrics_file", NULL, 0, 0, C(metrics_file), 0, NULL, SEC_AGENT, KT_PATH, 0 },
	{ "mode", "enforce", 0, 0, C(mode), 0, mode_words, SEC_AGENT, KT_ENUM, 0 },
	{ "start_at", "end", 0, 0, C(start_at), 0, start_words, SEC_AGENT, KT_ENUM, 0 },
	{ "socket", "/run/sendguard/control.sock", 0, 0, C(socket), 0, NULL, SEC_AGENT, KT_PATH,
	    0 },
	{ "postfix_config_dir", "/etc/postfix", 0, 0, C(postfix_config_dir), 0, NULL, SEC_AGENT,
	    KT_PATH, 0 },
	{ "postsuper", "/usr/sbin/postsuper", 0, 0, C(postsuper), 0, NULL, SEC_AGENT, KT_PATH,
	    PATH_PROG },
	{ "postmap", "/usr/sbin/postmap", 0, 0, C(postmap), 0, NULL, SEC_AGENT, KT_PATH,
	    PATH_PROG },
	{ "postfix", "/usr/sbin/postfix", 0, 0, C(postfix), 0, NULL, SEC_AGENT, KT_PATH,
	    PATH_PROG },
	{ "sendmail", "/usr/sbin/sendmail", 0, 0, C(sendmail), 0, NULL, SEC_AGENT, KT_PATH,
	    PATH_PROG },
	{ "postcat", "/usr/sbin/postcat", 0, 0, C(postcat), 0, NULL, SEC_AGENT, KT_PATH,
	    PATH_PROG },
	{ "hostname", "auto", 0, 0, C(hostname), 0, NULL, SEC_AGENT, KT_NAME, 0 },
	{ "postfix_instance", "postfix", 0, 0, C(postfix_instance), 0, NULL, SEC_AGENT, KT_NAME,
	    0 },
	{ "retention", "7d", 60, DURATION_MAX, C(retention), 0, NULL, SEC_AGENT, KT_DURATION, 0 },
	{ "action_timeout", "30s", 1, 3600, C(action_timeout), 0, NULL, SEC_AGENT, KT_DURATION, 0 },
	{ "max_clock_skew", "5m", 0, DURATION_MAX, C(max_clock_skew), 0, NULL, SEC_AGENT,
	    KT_DURATION, 0 },
	{ "max_tracked_bytes", "64M", 1048576, 1099511627776.0, C(max_tracked_bytes), 0, NULL,
	    SEC_AGENT, KT_SIZE, 0 },
	{ "by", NULL, 0, 0, R(by), 0, by_words, SEC_LIMIT, KT_ENUM, 0 },
	{ "match", NULL, 0, 0, R(match), R(nmatch), NULL, SEC_LIMIT, KT_LIST, 0 },
	{ "messages", NULL, 1, DURATION_MAX, 0, 0, NULL, SEC_LIMIT, KT_WINDOWS, LIM_MESSAGES },
	{ "recipients", NULL, 1, DURATION_MAX, 0, 0, NULL, SEC_LIMIT, KT_WINDOWS, LIM_RECIPIENTS },
	{ "ips", NULL, 1, DURATION_MAX, 0, 0, NULL, SEC_LIMIT, KT_WINDOWS, LIM_IPS },
	{ "senders", NULL, 1, DURATION_MAX, 0, 0, NULL, SEC_LIMIT, KT_WINDOWS, LIM_SENDERS },
	{ "bounces", NULL, 1, DURATION_MAX, 0, 0, NULL, SEC_LIMIT, KT_WINDOWS, LIM_BOUNCES },
	{ "actions", NULL, 0, 0, 0, 0, NULL, SEC_LIMIT, KT_ACTIONS, 0 },
	{ "block_time", "1h", 0, DURATION_MAX, R(block_time), 0, NULL, SEC_LIMIT, KT_DURATION, 0 },
	{ "block_time_factor", "1", 1, 100, R(block_time_factor), 0, NULL, SEC_LIMIT, KT_FLOAT, 0 },
	{ "sasl", NULL, 0, 0, C(exempt[BY_SASL]), C(nexempt[BY_SASL]), NULL, SEC_EXEMPT, KT_LIST,
	    0 },
	{ "uid", NULL, 0, 0, C(exempt[BY_UID]), C(nexempt[BY_UID]), NULL, SEC_EXEMPT, KT_LIST, 0 },
	{ "sender", NULL, 0, 0, C(exempt[BY_SENDER]), C(nexempt[BY_SENDER]), NULL, SEC_EXEMPT,
	    KT_LIST, 0 },
	{ "ip", NULL, 0, 0, C(exempt[BY_IP]), C(nexempt[BY_IP]), NULL, SEC_EXEMPT, KT_LIST, 0 },
	{ "sasl_domain", NULL, 0, 0, C(exempt[BY_SASL_DOMAIN]), C(nexempt[BY_SASL_DOMAIN]), NULL,
	    SEC_EXEMPT, KT_LIST, 0 },
	{ "sender_domain", NULL, 0, 0, C(exempt[BY_SENDER_DOMAIN]), C(nexempt[BY_SENDER_DOMAIN]),
	    NULL, SEC_EXEMPT, KT_LIST, 0 },
	{ "sasl_map", "/etc/postfix/sendguard_sasl_access", 0, 0, C(sasl_map), 0, NULL, SEC_BLOCK,
	    KT_PATH, 0 },
	{ "sender_map", "/etc/postfix/sendguard_sender_access", 0, 0, C(sender_map), 0, NULL,
	    SEC_BLOCK, KT_PATH, 0 },
	{ "map_type", "hash", 0, 0, C(map_type), 0, maptype_words, SEC_BLOCK, KT_WORD, 0 },
	{ "reply", "450 4.7.1 Sending rate limit exceeded, contact the postmaster", 0, 0, C(reply),
	    0, NULL, SEC_BLOCK, KT_REPLY, 0 },
	{ "to", "postmaster", 0, 0, C(notify_to), 0, NULL, SEC_NOTIFY, KT_ADDRESS, 0 },
	{ "command", NULL, 0, 0, C(exec_argv), C(exec_argc), NULL, SEC_EXEC, KT_COMMAND, 0 },
	{ "conninfo", NULL, 0, 0, C(cluster_conninfo), 0, NULL, SEC_CLUSTER, KT_CONNINFO, 0 },
	{ "node", NULL, 0, 0, C(cluster_node), 0, NULL, SEC_CLUSTER, KT_NODE, 0 },
};

_Static_assert(sizeof(conf_keys) / sizeof(conf_keys[0]) == CONF_NKEYS,
    "CONF_NKEYS (conf_priv.h) counts the rows of conf_keys[]");

/* conf_ps_err - record "path:line: message" (line 0: "path: message") */
void
conf_ps_err(struct pstate *ps, int line, const char *fmt, ...)
{
	char msg[1024], full[1400], *m;
	struct perr *n;
	size_t at;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(full, sizeof(full), "%s:%d: %s", ps->path, line, msg);
	else
		snprintf(full, sizeof(full), "%s: %s", ps->path, msg);
	if ((n = arr_grow(ps->err, ps->nerr, &ps->errcap, sizeof(*n), 8)) == NULL) {
		ps->oom = 1;
		return;
	}
	ps->err = n;
	if ((m = strdup(full)) == NULL) {
		ps->oom = 1;
		return;
	}
	/* kept in line order; errors of one line stay in the order found */
	for (at = ps->nerr; at > 0 && ps->err[at - 1].line > line; at--)
		;
	memmove(&ps->err[at + 1], &ps->err[at], (ps->nerr - at) * sizeof(ps->err[0]));
	ps->err[at].line = line;
	ps->err[at].msg = m;
	ps->nerr++;
	if (ps->erule > 0 && ps->meta != NULL)
		ps->meta[ps->erule - 1].bad = 1;
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

/* move_errs - the collected errors (in line order) into errs */
static void
move_errs(struct pstate *ps, struct conf_errs *errs)
{
	size_t i;

	if (ps->nerr == 0)
		return;
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

/* conf_by_name - "sasl", "uid", "sender", "ip", "sasl_domain", "sender_domain" */
const char *
conf_by_name(enum conf_by by)
{
	return ((unsigned)by < BY_COUNT ? by_words[by] : "?");
}

/* conf_limit_name - "messages", "recipients", "ips", "senders", "bounces" */
const char *
conf_limit_name(enum conf_limit l)
{
	return ((unsigned)l < LIM_COUNT ? limit_words[l] : "?");
}

/* conf_key_count - rows of the key table */
size_t
conf_key_count(void)
{
	return (CONF_NKEYS);
}

/* conf_key_name - the key of row i */
const char *
conf_key_name(size_t i)
{
	return (i < CONF_NKEYS ? conf_keys[i].name : NULL);
}

/* conf_key_section - the section of row i, without a limit name */
const char *
conf_key_section(size_t i)
{
	return (i < CONF_NKEYS ? sec_names[conf_keys[i].sec] : NULL);
}

/* conf_key_default - the default of row i as written in the file, or NULL */
const char *
conf_key_default(size_t i)
{
	return (i < CONF_NKEYS ? conf_keys[i].def : NULL);
}

/* apply_defaults - the default of every key of section sec into base */
static void
apply_defaults(struct pstate *ps, enum sec sec, void *base)
{
	size_t i;

	for (i = 0; i < CONF_NKEYS; i++)
		if (conf_keys[i].sec == sec && conf_keys[i].def != NULL)
			(void)conf_set_value(ps, &conf_keys[i], base, conf_keys[i].def);
}

/* free_values - what the values of the keys outside [limit] allocated in c */
static void
free_values(struct conf *c)
{
	const struct key *k;
	char *t;

	for (k = conf_keys; k < conf_keys + CONF_NKEYS; k++) {
		t = (char *)c + k->off;
		if (k->sec == SEC_LIMIT)
			continue;
		switch (k->type) {
		case KT_PATH:
		case KT_WORD:
		case KT_REPLY:
		case KT_ADDRESS:
		case KT_CONNINFO:
		case KT_NODE:
		case KT_NAME:
			free(*(char **)(void *)t);
			break;
		case KT_LIST:
		case KT_COMMAND:
			free_list(*(char ***)(void *)t, *(size_t *)(void *)((char *)c + k->off_n));
			break;
		default:
			break;
		}
	}
}

/* free_rule - what a [limit] holds besides its fixed fields */
static void
free_rule(struct conf_rule *r)
{
	free_list(r->match, r->nmatch);
	free(r->cidr);
}

/*
 * conf_free - everything conf_default() or conf_load() allocated: the
 * values of the keys (conf_keys[]), the rules, the exempt ranges and the
 * path
 */
void
conf_free(struct conf *c)
{
	size_t i;

	if (c == NULL)
		return;
	free_values(c);
	for (i = 0; i < c->nrules; i++)
		free_rule(&c->rules[i]);
	free(c->rules);
	free(c->exempt_cidr);
	free(c->path);
	free(c);
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
	    strspn(s,
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
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
		conf_ps_err(ps, ps->line, "section header without ']'");
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
			conf_ps_err(ps, ps->line, "[limit] needs a name: [limit NAME]");
			return;
		}
		if (!valid_limit_name(rest)) {
			conf_ps_err(ps, ps->line,
			    "bad limit name '%s' (1 to %d of A-Z a-z 0-9 _ . -)", rest,
			    CONF_NAME_MAX - 1);
			bad = 1;
		} else
			for (i = 0; i < ps->c->nrules; i++)
				if (strcmp(ps->c->rules[i].name, rest) == 0) {
					conf_ps_err(ps, ps->line,
					    "limit '%s' defined twice (first at line %d)", rest,
					    ps->c->rules[i].line);
					bad = 1;
					break;
				}
		/* Even a misnamed rule is read, so its keys are checked too. */
		if (new_rule(ps, rest) < 0) {
			conf_ps_err(ps, ps->line, "out of memory");
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
	conf_ps_err(ps, ps->line,
	    "unknown section [%s%s%s] (expected [agent], [limit NAME], "
	    "[exempt], [action block], [action notify], [action exec] or [cluster])",
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
		s += 3; /* UTF-8 byte order mark */
		len -= 3;
	}
	if (len > CONF_LINE_MAX) {
		conf_ps_err(ps, ps->line, "line longer than %d bytes", CONF_LINE_MAX);
		return;
	}
	if (strlen(s) != len) {
		conf_ps_err(ps, ps->line, "NUL byte in line");
		return;
	}
	if (len > 0 && s[len - 1] == '\r')
		s[--len] = '\0';
	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f) {
			conf_ps_err(ps, ps->line, "control character in line");
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
		conf_ps_err(ps, ps->line, "expected 'key = value' or '[section]', not '%s'", s);
		return;
	}
	*eq = '\0';
	key = trim(s);
	val = trim(eq + 1);
	if (*key == '\0') {
		conf_ps_err(ps, ps->line, "missing key before '='");
		return;
	}
	if (ps->sec < 0) {
		if (!ps->seen_sec)
			conf_ps_err(ps, ps->line,
			    "'%s' is outside of any section (start with [agent])", key);
		return; /* in a bad section: its error is enough */
	}
	for (i = 0; i < CONF_NKEYS; i++)
		if ((int)conf_keys[i].sec == ps->sec && strcmp(conf_keys[i].name, key) == 0) {
			k = &conf_keys[i];
			break;
		}
	if (k == NULL) {
		conf_ps_err(ps, ps->line, "unknown key '%s' in [%s]", key, sec_names[ps->sec]);
		return;
	}
	seen = ps->sec == SEC_LIMIT ? ps->meta[ps->rule].kline : ps->gline;
	if (seen[i]) {
		conf_ps_err(ps, ps->line, "%s: given twice (first at line %d)", key, seen[i]);
		return;
	}
	seen[i] = ps->line;
	if (*val == '\0') {
		conf_ps_err(ps, ps->line, "%s: empty value", key);
		return;
	}
	(void)conf_set_value(ps, k,
	    ps->sec == SEC_LIMIT ? (void *)&ps->c->rules[ps->rule] : (void *)ps->c, val);
}

/* drop_bad_rules - lenient reading: leave out every rule with an error */
static void
drop_bad_rules(struct pstate *ps)
{
	struct conf *c = ps->c;
	size_t i, kept = 0;

	for (i = 0; i < c->nrules; i++) {
		if (ps->meta[i].bad) {
			free_rule(&c->rules[i]);
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
		conf_ps_err(&ps, 0, "%s", strerror(errno));
		move_errs(&ps, errs);
		return (-1);
	}
	if ((ps.c = conf_default()) == NULL || (ps.c->path = strdup(path)) == NULL) {
		conf_ps_err(&ps, 0, "out of memory");
		unreadable = 1;
		goto done;
	}
	while ((len = getline(&buf, &cap, fp)) >= 0) {
		ps.line++;
		if (len > 0 && buf[len - 1] == '\n')
			buf[--len] = '\0';
		parse_line(&ps, buf, (size_t)len);
		if (ps.nerr >= CONF_ERRS_MAX) {
			conf_ps_err(&ps, ps.line, "too many errors, stopping here");
			break;
		}
	}
	ps.erule = 0;
	if (ferror(fp)) {
		conf_ps_err(&ps, 0, "read error: %s", strerror(errno));
		unreadable = 1;
	} else if (ps.nerr < CONF_ERRS_MAX || lenient)
		conf_check_rules(&ps);
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
