/*
 * NAME
 *	conf - agent.conf reader (table-driven)
 * SUMMARY
 *	conf_load() reads an INI file ([agent], [limit NAME], [exempt],
 *	[action block], [action notify], [action exec]) into struct conf.
 *	Every error in the file is collected as "file:line: message" in a
 *	struct conf_errs; the caller prints them and exits 2.  conf_default()
 *	gives the built-in defaults (count everything, no limits).
 *	The library never prints and never exits.
 * UNTRUSTED INPUT
 *	The config file is trusted for meaning, not for form: every value is
 *	range-checked, paths to programs must be absolute.
 */
#ifndef SG_CONF_H
#define SG_CONF_H

#include <stddef.h>
#include <stdint.h>

#define CONF_MAX_WINDOWS 8	/* thresholds per limit key */
#define CONF_NAME_MAX	 64

enum conf_by { BY_SASL = 0, BY_UID, BY_SENDER, BY_IP, BY_COUNT };
enum conf_limit { LIM_MESSAGES = 0, LIM_RECIPIENTS, LIM_IPS, LIM_COUNT };
enum conf_mode { MODE_ENFORCE = 0, MODE_MONITOR };
enum conf_start { START_END = 0, START_BEGINNING };

#define ACT_HOLD	0x01
#define ACT_BLOCK	0x02
#define ACT_NOTIFY	0x04
#define ACT_EXEC	0x08

/* One threshold: "100/1h" under key messages. */
struct conf_window {
	enum conf_limit limit;
	long	threshold;		/* > 0 */
	int64_t	seconds;		/* window length, > 0 */
};

struct conf_rule {
	char	name[CONF_NAME_MAX];
	enum conf_by by;
	char  **match;			/* glob patterns (fnmatch), lower case */
	size_t	nmatch;			/* 0: every identity of that kind */
	struct conf_window win[CONF_MAX_WINDOWS * LIM_COUNT];
	size_t	nwin;			/* in file order: messages, recipients, ips */
	unsigned actions;		/* ACT_* */
	unsigned char action_order[4];	/* ACT_* in the order listed */
	size_t	nactions;
	int64_t	block_time;		/* seconds, 0 = until unblocked */
	double	block_time_factor;	/* >= 1 */
	int	line;			/* where [limit NAME] starts */
};

struct conf {
	char   *path;			/* file read, NULL for defaults */
	/* [agent] */
	char   *log, *state, *socket, *postfix_config_dir;
	char   *postsuper, *postmap, *postfix, *sendmail;
	enum conf_mode mode;
	enum conf_start start_at;
	int64_t	retention;		/* seconds */
	int64_t	action_timeout;		/* seconds one external program may run */
	/* [limit NAME] */
	struct conf_rule *rules;
	size_t	nrules;
	/* [exempt]: values per identity kind, lower case, globs allowed */
	char  **exempt[BY_COUNT];
	size_t	nexempt[BY_COUNT];
	/* [action block] */
	char   *sasl_map, *sender_map, *map_type, *reply;
	/* [action notify] */
	char   *notify_to;
	/* [action exec] */
	char  **exec_argv;		/* command split on blanks; %i %r %c %w %q kept;
					   NULL-terminated (exec_argv[exec_argc] == NULL) */
	size_t	exec_argc;
};

/* Collected errors, each "file:line: message". */
struct conf_errs {
	char  **msg;
	size_t	n;
};

/* conf_default - built-in defaults; NULL only when out of memory */
struct conf *conf_default(void);

/*
 * conf_load - read path.  Returns the config and 0 when the file has no
 * error; otherwise returns -1, *out NULL, and every error in errs.
 * A missing or unreadable file is one error ("path: strerror").
 */
int	conf_load(const char *path, struct conf **out, struct conf_errs *errs);
void	conf_free(struct conf *);
void	conf_errs_free(struct conf_errs *);

/* conf_exempt - 1 when value (lower case) of kind by is exempt */
int	conf_exempt(const struct conf *, enum conf_by by, const char *value);

/* conf_rule_match - 1 when the rule applies to value (lower case) */
int	conf_rule_match(const struct conf_rule *, const char *value);

/* conf_parse_duration - "90", "15m", "1h", "7d" -> seconds; -1 on error */
int64_t	conf_parse_duration(const char *s);

/* conf_format_duration - 3600 -> "1h" (largest exact unit) into buf */
const char *conf_format_duration(int64_t seconds, char *buf, size_t len);

const char *conf_by_name(enum conf_by);
const char *conf_limit_name(enum conf_limit);

/*
 * The key table, for tests and documentation: conf_key_count() rows;
 * conf_key_name(i) is the key ("block_time"), conf_key_section(i) its
 * section without the limit name ("agent", "limit", "exempt",
 * "action block", "action notify", "action exec"), conf_key_default(i)
 * its default as written in the file (NULL: none).  NULL past the end.
 */
size_t	conf_key_count(void);
const char *conf_key_name(size_t i);
const char *conf_key_section(size_t i);
const char *conf_key_default(size_t i);

#endif
