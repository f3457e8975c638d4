/*
 * NAME
 *	conf_priv - what the three files of the config reader share (private)
 * SUMMARY
 *	Included only by count/conf.c (the key table and the reader),
 *	count/conf_value.c (the value parsers and the checks that need the
 *	whole file) and count/conf_match.c (globs, address ranges, exempt):
 *	the key table's types, the reader's state (struct pstate) with its
 *	error collector conf_ps_err(), and three small string helpers.
 * RETURNS
 *	As conf.h: nothing here prints or exits; errors are collected in the
 *	pstate as "file:line: message".
 * UNTRUSTED INPUT
 *	None of its own; see conf.c.
 */
#ifndef SG_CONF_PRIV_H
#define SG_CONF_PRIV_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "count/conf.h"

enum sec {
	SEC_AGENT,
	SEC_LIMIT,
	SEC_EXEMPT,
	SEC_BLOCK,
	SEC_NOTIFY,
	SEC_EXEC,
	SEC_CLUSTER,
	SEC_COUNT
};

enum ktype {
	KT_PATH,     /* absolute path; arg: PATH_DASH, PATH_PROG */
	KT_DURATION, /* conf_parse_duration(), in [min, max] seconds */
	KT_ENUM,     /* one of words[], stored as its index (an enum) */
	KT_WORD,     /* one of words[], stored as a string */
	KT_FLOAT,    /* decimal number in [min, max] */
	KT_LIST,     /* comma list of lower-cased items (globs allowed) */
	KT_WINDOWS,  /* comma list of N/DURATION; arg: enum conf_limit */
	KT_ACTIONS,  /* comma list of hold, block, notify, exec */
	KT_REPLY,    /* access(5) action: 4NN/5NN text, REJECT, DEFER, ... */
	KT_ADDRESS,  /* one mail address */
	KT_COMMAND,  /* absolute program and %-token arguments */
	KT_SIZE,     /* bytes: a number, or with K, M or G (powers of 1024), in [min, max] */
	KT_CONNINFO, /* a libpq connection string without a password */
	KT_NODE,     /* a node name: [A-Za-z0-9_.-], 1 to CONF_NAME_MAX - 1 bytes */
	KT_NAME,     /* a host or instance name: letters, digits, '.', '-', '_' */
};

#define PATH_DASH 1    /* "-" (standard input) is allowed too */
#define PATH_PROG 2    /* a program: said so in errors */
#define PATH_JOURNAL 4 /* "journal" (kept as that), "journal:" (as "journal") and "journal:/PATH" */

struct key {
	const char *name;
	const char *def;          /* NULL: no default */
	double min, max;          /* KT_DURATION, KT_FLOAT */
	size_t off;               /* target in struct conf, or struct conf_rule */
	size_t off_n;             /* KT_LIST, KT_COMMAND: where the count goes */
	const char *const *words; /* KT_ENUM, KT_WORD */
	enum sec sec;
	enum ktype type;
	int arg; /* see enum ktype */
};

/* The key table (conf.c): CONF_NKEYS rows, one per key. */
#define CONF_NKEYS 43
extern const struct key conf_keys[];

/* One collected error; pstate keeps them by line, then in the order found. */
struct perr {
	int line;
	char *msg;
};

/* Per [limit NAME]: the line of each key given (0: not given), any error. */
struct rmeta {
	int kline[CONF_NKEYS];
	int bad; /* an error belongs to this rule */
};

/* The state of one conf_load() or conf_default(). */
struct pstate {
	const char *path;
	struct conf *c;
	struct perr *err;
	size_t nerr, errcap;
	int oom; /* an error could not be recorded */
	int line;
	int sec;               /* enum sec, or -1 before/in a bad section */
	int seen_sec;          /* a section header was read */
	size_t rule;           /* current rule when sec == SEC_LIMIT */
	int gline[CONF_NKEYS]; /* line of each non-limit key given */
	struct rmeta *meta;    /* one per c->rules[] */
	size_t erule;          /* errors now belong to rule erule - 1; 0: none */
};

/* conf_ps_err - record "path:line: message" (line 0: "path: message") */
void conf_ps_err(struct pstate *, int, const char *, ...) __attribute__((format(printf, 3, 4)));

/* conf_set_value - parse v for key k into base (struct conf or struct conf_rule) */
int conf_set_value(struct pstate *ps, const struct key *k, void *base, const char *v);

/*
 * conf_check_rules - the checks that need the whole file, after its last
 * line (conf_value.c)
 */
void conf_check_rules(struct pstate *ps);

/*
 * conf_split_ranges - take the address ranges out of a client-IP list
 * (conf_match.c); 0, or -1 with the error recorded and the list dropped
 */
int conf_split_ranges(struct pstate *ps, int line, const char *key, char ***list, size_t *n,
    struct conf_cidr **out, size_t *nout);

/* trim - skip leading blanks, cut trailing ones; returns the start */
static inline char *
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

/* set_str - replace *dst by a copy of v; -1 out of memory */
static inline int
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
static inline void
free_list(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

#endif
