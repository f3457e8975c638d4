/*
 * NAME
 *	report_priv - what the files of the audit report share (private)
 * SUMMARY
 *	The report's rows (identities with their totals and peaks, overruns)
 *	and struct report, for count/report.c (collecting, table, JSON,
 *	CSV), count/report_filter.c (--top, --over-only, --identity) and
 *	count/report_html.c (the HTML page).  report_view() is the one way
 *	the printers get their rows: the peaks taken from the limits once,
 *	everything sorted, then filtered.  Nothing outside count/report*.c
 *	includes it.
 * RETURNS
 *	As report.h; never prints or exits.
 * UNTRUSTED INPUT
 *	Identities and queue IDs from the log, kept as they are: every
 *	printer escapes them (util/esc).
 */
#ifndef SG_REPORT_PRIV_H
#define SG_REPORT_PRIV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "count/report.h"
#include "util/hmap.h"

#define REPORT_IPS_JSON 10    /* client IPs an identity lists in JSON and CSV */
#define REPORT_IPS_TABLE 3    /* and in the table and the HTML page */
#define REPORT_LAST_IP 48     /* an identity's last client IP kept up to 47 bytes (IPv6: 45) */
#define REPORT_LAST_SENDER 64 /* and its last sender up to 63 */

/* Where a row goes when sorted: by major, then minor.  Rows begin with it (order_cmp). */
struct rorder {
	int64_t major, minor;
};

struct rpeak {
	struct rorder order; /* the rule's index, the window's in the rule */
	const struct conf_rule *rule;
	const struct conf_window *win;
	long peak;
	int64_t at_us;
};

/* One client IP of an identity: its messages, first and last. */
struct rip {
	const char *ip; /* into the ipset key, at print time */
	uint64_t messages;
	int64_t first_us, last_us;
	struct rident *of; /* its identity's row (the ipset's values; gather_cb) */
};

/*
 * The rows of the client IP pairs, REPORT_RIP_BLOCK to a block, newest
 * block first: a pair is only ever added, so they are freed block by block
 * with the report (a calloc and a free of each, the frees at the end on
 * the audit's one thread, cost more).
 */
#define REPORT_RIP_BLOCK 1024

struct rip_block {
	struct rip_block *next;
	size_t used;
	struct rip rip[REPORT_RIP_BLOCK];
};

struct rident {
	const char *name; /* the hmap's copy of the key */
	uint64_t messages, recipients, ips, senders;
	uint64_t out[TRACK_STATUS_COUNT]; /* delivered, deferred (attempts), bounced */
	struct rpeak *peaks;
	size_t npeaks, cappeaks;
	struct rip *cl; /* its client IPs, gathered at print time, most messages first */
	size_t ncl, capcl;
	size_t noverruns; /* overruns of this identity (report_view) */
	double pct;       /* highest peak as a percentage of its threshold; -1: no limit */
	int shown;        /* kept by the filter (report_view) */
	/*
	 * The pairs of its last message (note_ip, note_sender): the client
	 * IP's row and the sender, each with its bytes ("" and NULL: none
	 * kept, or too long to keep), so that a message from the same IP or
	 * sender as the one before needs no pair key and no look-up.
	 */
	struct rip *last_ip;
	char last_ipv[REPORT_LAST_IP];
	char last_snd[REPORT_LAST_SENDER];
	/* what the limits found of it (report_message_refs): one look-up for both */
	struct limits_ref lref;
};

struct roverrun {
	struct rorder order; /* time, then the order they were raised in */
	int64_t time_us;
	char *identity;
	const struct conf_rule *rule;
	const struct conf_window *win;
	long count;
	char queue_id[PF_QID_MAX + 1];
};

/*
 * The identity rows of a recent message (report_outcome): the fields its
 * identities are made of (msgid_make() is a function of them and the
 * conf), and its rows.  A delivery outcome of a message whose fields are
 * the same takes the rows from here instead of making and looking up its
 * identities again (a message has an outcome per recipient and attempt).
 */
#define REPORT_CACHE 16

struct rcache {
	int used, has_sasl, n;
	long uid;
	char sasl[IDENT_MAX], sender[IDENT_MAX], ip[IDENT_MAX];
	struct rident *ri[BY_COUNT];
};

struct report {
	const struct conf *conf;
	struct rcache cache[REPORT_CACHE];
	unsigned cache_next; /* the entry the next miss fills */
	struct hmap *idents; /* identity -> struct rident */
	struct hmap *ipset;  /* identity \0 ip -> struct rip */
	struct hmap *sset;   /* identity \0 sender -> (void *)1 */
	struct roverrun *ov;
	size_t nov, capov;
	unsigned kinds;        /* 1 << kind for each kind reported */
	int peaks_in;          /* the limits' peaks are in the rows */
	int gathered;          /* the client IPs are on their identities' lists */
	int failed;            /* a peak was lost to ENOMEM */
	uint64_t future_lines; /* counted at the time of the line before (pipeline.h) */
	/* the filter (report_set_filter): top 0 and nids 0 show everything */
	size_t top;
	int over_only;
	char **ids;
	size_t nids;
	struct rip_block *rips; /* the client IP pairs' rows, in blocks (note_ip) */
};

/*
 * The rows to print: the identities shown (v, n) in the order to show
 * them, and the overruns of those identities (ov, nov) in time order.
 * ranked: the identities are in --top order (highest percentage of a
 * threshold first), not by messages.
 */
struct rview {
	const struct report *r; /* whose rows they are */
	struct rident **v;
	size_t n;
	struct roverrun **ov;
	size_t nov;
	int ranked;
};

/*
 * report_view - the rows of r for printing: the peaks of l (NULL: none)
 * added once, identities by messages (then name), peaks by rule and
 * window, overruns by time, then the filter applied.  0, or -1 when
 * memory runs out.  report_view_free() frees the arrays, not the rows.
 */
int report_view(struct report *, struct limits *, struct rview *);
void report_view_free(struct rview *);

/*
 * report_filter_view - apply r's filter to a sorted view (report_filter.c):
 * --identity keeps the identities named, --over-only those with an
 * overrun, --top N the N with the highest percentage of a threshold
 * (identities no limit counts follow, by messages), shown in that order;
 * the overruns kept are those of the identities kept.  Also fills each
 * row's noverruns and pct.  0, or -1 when memory runs out.
 */
int report_filter_view(const struct report *, struct rview *);

/* report_ident_cmp - qsort order of struct rident pointers: most messages first, then by name */
int report_ident_cmp(const void *, const void *);

/*
 * report_rank_cmp - qsort order of struct rident pointers for --top and
 * the HTML page: the highest percentage of a threshold first, then the
 * most messages, then by name (report_filter.c)
 */
int report_rank_cmp(const void *, const void *);

/*
 * report_json_time - util/json's json_time() of us into buf (len bytes),
 * faster for the many times of a report (count/report_time.c); returns buf
 */
const char *report_json_time(int64_t us, char *buf, size_t len);

#define REPORT_JSON_ROW_MAX ((size_t)1 << 24) /* bytes of one identity's JSON text, at most */
#define REPORT_JSON_SPLIT 1024 /* rows from which a second thread makes half of them */

/* report_cache_find - the cached rows of a message with m's fields, or NULL (report_cache.c) */
const struct rcache *report_cache_find(const struct report *r, const struct track_msg *m);
/* report_cache_put - m's rows ri[0..n) into r's cache, over its oldest entry (report_cache.c) */
void report_cache_put(struct report *r, const struct track_msg *m, struct rident *const *ri, int n);

/*
 * The texts of the windows' lengths the JSON report's rows printed so far
 * (conf_format_duration()'s snprintf once per window, not once per peak);
 * n 0 to begin with.
 */
#define REPORT_JSON_MEMO 16

struct report_json_memo {
	size_t n;
	const struct conf_window *win[REPORT_JSON_MEMO];
	char text[REPORT_JSON_MEMO][32];
};

struct buf;
/*
 * report_json_identity - ri's element of the JSON report's "identities"
 * into b, after ",\n  " (first: "\n  "), with memo kept over the rows; 0,
 * or -1 when b could not take it (count/report_json.c)
 */
int report_json_identity(struct buf *b, const struct rident *ri, int first,
    struct report_json_memo *memo);
/*
 * report_json_rows - the n rows v[] of "identities" to fp, each made as
 * text and written at once; from REPORT_JSON_SPLIT rows on, a second
 * thread makes the second half's text meanwhile (the same bytes; not
 * with SENDGUARD_THREADS=1 in the environment); 0, or
 * -1 when a row's buffer could not be had (count/report_json.c)
 */
int report_json_rows(struct rident *const *v, size_t n, FILE *fp);

#endif
