/*
 * NAME
 *	conf - agent.conf reader (table-driven)
 * SUMMARY
 *	conf_load() reads an INI file ([agent], [limit NAME], [exempt],
 *	[action block], [action notify], [action exec], [cluster]) into
 *	struct conf.
 *	Every error in the file is collected as "file:line: message" in a
 *	struct conf_errs; the caller prints them and exits 2.
 *	conf_load_lenient() reads the same file for the client commands
 *	(status, explain, block, unblock): it keeps every key that parsed
 *	and returns the errors beside a usable config.  conf_default()
 *	gives the built-in defaults (count everything, no limits).
 *	conf_rule_match() and conf_exempt() compare a value with globs and,
 *	for client IPs, with address ranges parsed once at load.
 *	The library never prints and never exits.  Three files: conf.c
 *	(the key table and the reader), conf_value.c (the value parsers
 *	and the whole-file checks), conf_match.c (globs, address ranges,
 *	exempt); conf_priv.h is what they share.
 * UNTRUSTED INPUT
 *	The config file is trusted for meaning, not for form: every value is
 *	range-checked, paths to programs must be absolute.
 */
#ifndef SG_CONF_H
#define SG_CONF_H

#include <stddef.h>
#include <stdint.h>

#define CONF_MAX_WINDOWS 8 /* thresholds per limit key */
#define CONF_NAME_MAX 64

/*
 * Identity kinds.  The domain kinds are the part after the last '@' of the
 * SASL login or of the envelope sender: a tenant's total.
 */
enum conf_by { BY_SASL = 0, BY_UID, BY_SENDER, BY_IP, BY_SASL_DOMAIN, BY_SENDER_DOMAIN, BY_COUNT };
/*
 * What a window counts: accepted messages, their recipients, distinct
 * client IPs, distinct envelope senders (null sender excluded), and
 * bounced recipients (at the bounce line's time).
 */
enum conf_limit { LIM_MESSAGES = 0, LIM_RECIPIENTS, LIM_IPS, LIM_SENDERS, LIM_BOUNCES, LIM_COUNT };
enum conf_mode { MODE_ENFORCE = 0, MODE_MONITOR };
enum conf_start { START_END = 0, START_BEGINNING };

#define ACT_HOLD 0x01
#define ACT_BLOCK 0x02
#define ACT_NOTIFY 0x04
#define ACT_EXEC 0x08

/*
 * An address range of an ip pattern ("203.0.113.0/24", "2001:db8::/32"),
 * parsed at load: the network address with its host bits zero.
 */
struct conf_cidr {
	unsigned char addr[16]; /* IPv4: the first 4 bytes */
	unsigned char family;   /* 4 or 6 */
	unsigned char bits;     /* prefix length: 0..32 or 0..128 */
};

/* One threshold: "100/1h" under key messages. */
struct conf_window {
	enum conf_limit limit;
	long threshold;  /* > 0 */
	int64_t seconds; /* window length, > 0 */
};

struct conf_rule {
	char name[CONF_NAME_MAX];
	enum conf_by by;
	char **match; /* glob patterns (fnmatch), lower case */
	size_t nmatch;
	struct conf_cidr *cidr; /* by = ip: the ranges of match, not in match[] */
	size_t ncidr;           /* nmatch + ncidr == 0: every identity of that kind */
	struct conf_window win[CONF_MAX_WINDOWS * LIM_COUNT];
	size_t nwin;                   /* by limit (enum conf_limit order), file order within */
	unsigned actions;              /* ACT_* */
	unsigned char action_order[4]; /* ACT_* in the order listed */
	size_t nactions;
	int64_t block_time;       /* seconds, 0 = until unblocked */
	double block_time_factor; /* >= 1 */
	int line;                 /* where [limit NAME] starts */
};

struct conf {
	char *path; /* file read, NULL for defaults */
	/* [agent] */
	char *log, *state, *socket, *postfix_config_dir;
	char *postfix_user; /* Postfix's mail_owner: a name or a uid, for the journal's trust */
	char *metrics_file; /* NULL: no metrics file */
	char *postsuper, *postmap, *postfix, *sendmail, *postcat;
	/*
	 * the local Postfix as the log names it: queue IDs logged by another
	 * host (first label compared; "auto": the system host name) or another
	 * instance (the first part of syslog_name) are never held here
	 */
	char *hostname, *postfix_instance;
	enum conf_mode mode;
	enum conf_start start_at;
	int64_t retention;      /* seconds */
	int64_t action_timeout; /* seconds one external program may run */
	int64_t max_clock_skew; /* seconds a line may be ahead of the clock; 0: log time trusted */
	int64_t max_tracked_bytes; /* the tracker's records, bytes */
	/* [limit NAME] */
	struct conf_rule *rules;
	size_t nrules;
	/* [exempt]: values per identity kind, lower case, globs allowed */
	char **exempt[BY_COUNT];
	size_t nexempt[BY_COUNT];
	struct conf_cidr *exempt_cidr; /* the ranges of [exempt] ip, not in exempt[BY_IP] */
	size_t nexempt_cidr;
	/* [action block] */
	char *sasl_map, *sender_map, *map_type, *reply;
	/* [action notify] */
	char *notify_to;
	/* [action exec] */
	char **exec_argv; /* command split on blanks; %i %r %c %w %q kept;
					   NULL-terminated (exec_argv[exec_argc] == NULL) */
	size_t exec_argc;
	/* [cluster]: NULL without one (then nothing of the cluster runs) */
	char *cluster_conninfo; /* libpq connection string, no password */
	char *cluster_node;     /* this host's name in the cluster (default: the host name) */
};

/* Collected errors, each "file:line: message". */
struct conf_errs {
	char **msg;
	size_t n;
};

/* conf_default - built-in defaults; NULL only when out of memory */
struct conf *conf_default(void);

/*
 * conf_load - read path.  Returns the config and 0 when the file has no
 * error; otherwise returns -1, *out NULL, and every error in errs.
 * A missing or unreadable file is one error ("path: strerror").
 */
int conf_load(const char *path, struct conf **out, struct conf_errs *errs);

/*
 * conf_load_lenient - read path for a command that needs only a few keys
 * (socket, state, the action programs and maps).  Returns 0 and *out
 * built from every key that parsed, the default of every key that did
 * not, and no [limit] that had an error; errs holds every error, as
 * conf_load() gives them (errs->n == 0: the file is clean).  Returns -1,
 * *out NULL and the reason in errs only when the file cannot be read
 * (missing, permission, read error) or memory runs out.
 */
int conf_load_lenient(const char *path, struct conf **out, struct conf_errs *errs);
void conf_free(struct conf *);
void conf_errs_free(struct conf_errs *);

/*
 * conf_exempt - 1 when value (lower case) of kind by is exempt.
 * For BY_IP the value is a client address as logged ("203.0.113.5",
 * "2001:db8::7", also with an "ipv6:" prefix); it matches a range when
 * its leading bits do, and an IPv4-mapped IPv6 address ("::ffff:192.0.2.1")
 * matches IPv4 ranges as the IPv4 address it carries (and IPv6 ranges
 * such as ::ffff:0:0/96 as itself); a plain IPv4 value never matches an
 * IPv6 range.  A bare address pattern stays a glob: exact text, IPv6
 * written at load the way Postfix logs it.  The value is parsed once per
 * call, and only when there are ranges.
 */
int conf_exempt(const struct conf *, enum conf_by by, const char *value);

/* conf_rule_match - 1 when the rule applies to value (lower case); as conf_exempt() */
int conf_rule_match(const struct conf_rule *, const char *value);

/* conf_cidr_format - "203.0.113.0/24" of a range into buf */
const char *conf_cidr_format(const struct conf_cidr *, char *buf, size_t len);

/* conf_parse_duration - "90", "15m", "1h", "7d" -> seconds; -1 on error */
int64_t conf_parse_duration(const char *s);

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
size_t conf_key_count(void);
const char *conf_key_name(size_t i);
const char *conf_key_section(size_t i);
const char *conf_key_default(size_t i);

#endif
