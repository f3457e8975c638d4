/*
 * NAME
 *	report_json - one identity of the JSON audit report, as text
 * SUMMARY
 *	report_json_identity() writes an identity's element of the JSON
 *	report's "identities" array (its totals, outcomes, client IPs and
 *	peaks) into a util/buf, which count/report.c writes with one fwrite.
 *	The report is printed after the reader thread has ended, so its CPU
 *	is wall time; a row made of a dozen fputs, fprintf and esc_fp calls
 *	cost more in stdio than in its text.  report_json_rows() writes them
 *	all, and from REPORT_JSON_SPLIT rows on has a second thread make the
 *	second half's text while it makes and writes the first (the reader's
 *	core is free by then); that text is written after the first half.
 *	SENDGUARD_THREADS=1 (the audit in one thread) makes them all here.  The text is the one the
 *	FILE-by-FILE printer wrote, byte for byte (tests/test_same.c).
 * RETURNS
 *	0, or -1 when the buffer could not take the row (ENOMEM, its
 *	maximum); never prints, never exits.
 * UNTRUSTED INPUT
 *	Identities, client IPs and rule names: escaped by util/esc (ESC_JSON).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/esc.h"
#include "count/report_priv.h"

/* ADD - a string literal into b, its length known here (no strlen); NUM, SNUM, QTIME as it */
#define ADD(b, lit) (void)buf_put((b), (lit), sizeof(lit) - 1)
#define NUM(b, lit, v) num((b), (lit), sizeof(lit) - 1, (v))
#define SNUM(b, lit, v) snum((b), (lit), sizeof(lit) - 1, (v))
#define QTIME(b, lit, us) qtime((b), (lit), sizeof(lit) - 1, (us))

/*
 * jstr - s as a JSON string (NULL: null), as util/json's json_cstr.  A
 * string ESC_VIS keeps as it is (printable ASCII, no backslash) and
 * without a double quote is its own ESC_JSON text between quotes: most
 * identities and every client IP are, and esc_buf() takes a piece() call
 * for each byte
 */
static void
jstr(struct buf *b, const char *s)
{
	size_t n;

	if (s == NULL) {
		ADD(b, "null");
		return;
	}
	n = strlen(s);
	if (esc_vis_plain(s, n) && memchr(s, '"', n) == NULL) {
		(void)buf_addc(b, '"');
		(void)buf_put(b, s, n);
		(void)buf_addc(b, '"');
	} else {
		(void)esc_buf(b, s, n, ESC_JSON, 0);
	}
}

/*
 * window_text - the text of w's length ("1h"), made once per window of
 * the report (memo: the windows seen so far; a full memo makes it again)
 */
static const char *
window_text(struct report_json_memo *memo, const struct conf_window *w, char *wb, size_t wn)
{
	size_t i;

	for (i = 0; i < memo->n; i++)
		if (memo->win[i] == w)
			return (memo->text[i]);
	if (memo->n == REPORT_JSON_MEMO)
		return (conf_format_duration(w->seconds, wb, wn));
	memo->win[memo->n] = w;
	return (conf_format_duration(w->seconds, memo->text[memo->n++], sizeof(memo->text[0])));
}

/* num - before (n bytes), then v in decimal */
static inline void
num(struct buf *b, const char *before, size_t n, unsigned long long v)
{
	(void)buf_put(b, before, n);
	(void)buf_addu(b, v);
}

/* snum - before (n bytes), then v in decimal with its sign (what "%ld" prints) */
static inline void
snum(struct buf *b, const char *before, size_t n, long v)
{
	(void)buf_put(b, before, n);
	if (v < 0) {
		(void)buf_addc(b, '-');
		(void)buf_addu(b, 0ULL - (unsigned long long)v);
	} else {
		(void)buf_addu(b, (unsigned long long)v);
	}
}

/* qtime - before (n bytes), then the time us quoted */
static inline void
qtime(struct buf *b, const char *before, size_t n, int64_t us)
{
	char tb[40];

	(void)buf_put(b, before, n);
	(void)buf_addc(b, '"');
	(void)buf_adds(b, report_json_time(us, tb, sizeof(tb)));
	(void)buf_addc(b, '"');
}

/*
 * outcomes - an identity's "senders", "delivered", "deferred", "bounced",
 * its REPORT_IPS_JSON client IPs with most messages as "client_ips" and
 * how many more it had as "client_ips_more", each field followed by ", "
 */
static void
outcomes(struct buf *b, const struct rident *ri)
{
	size_t i;

	NUM(b, "\"senders\": ", ri->senders);
	NUM(b, ", \"delivered\": ", ri->out[TRACK_SENT]);
	NUM(b, ", \"deferred\": ", ri->out[TRACK_DEFERRED]);
	NUM(b, ", \"bounced\": ", ri->out[TRACK_BOUNCED]);
	ADD(b, ", \"client_ips\": [");
	for (i = 0; i < ri->ncl && i < REPORT_IPS_JSON; i++) {
		const struct rip *c = &ri->cl[i];

		if (i > 0)
			ADD(b, ", ");
		ADD(b, "{\"ip\": ");
		jstr(b, c->ip);
		NUM(b, ", \"messages\": ", c->messages);
		QTIME(b, ", \"first\": ", c->first_us);
		QTIME(b, ", \"last\": ", c->last_us);
		(void)buf_addc(b, '}');
	}
	NUM(b,
	    "], \"client_ips_more\": ", ri->ncl > REPORT_IPS_JSON ? ri->ncl - REPORT_IPS_JSON : 0);
	ADD(b, ", ");
}

/* report_json_identity - ri's element of "identities" into b, after ",\n  " unless first */
int
report_json_identity(struct buf *b, const struct rident *ri, int first,
    struct report_json_memo *memo)
{
	char wb[32];
	size_t j;

	if (!first)
		ADD(b, ",");
	ADD(b, "\n  ");
	ADD(b, "{\"identity\": ");
	jstr(b, ri->name);
	NUM(b, ", \"messages\": ", ri->messages);
	NUM(b, ", \"recipients\": ", ri->recipients);
	NUM(b, ", \"ips\": ", ri->ips);
	ADD(b, ", ");
	outcomes(b, ri);
	ADD(b, "\"peaks\": [");
	for (j = 0; j < ri->npeaks; j++) {
		const struct rpeak *p = &ri->peaks[j];

		if (j > 0)
			ADD(b, ", ");
		ADD(b, "{\"rule\": ");
		jstr(b, p->rule->name);
		ADD(b, ", \"limit\": \"");
		(void)buf_adds(b, conf_limit_name(p->win->limit));
		ADD(b, "\", \"window\": \"");
		(void)buf_adds(b, window_text(memo, p->win, wb, sizeof(wb)));
		(void)buf_addc(b, '"');
		SNUM(b, ", \"threshold\": ", p->win->threshold);
		SNUM(b, ", \"peak\": ", p->peak);
		QTIME(b, ", \"at\": ", p->at_us);
		(void)buf_addc(b, '}');
	}
	ADD(b, "]}");
	return (b->failed ? -1 : 0);
}

/* The rows a thread of report_json_rows() makes as text: v[from..to), into text. */
struct jrows {
	struct rident *const *v;
	size_t from, to;
	struct buf text;
	int rc; /* 0, or -1: a row's buffer could not be had */
};

/*
 * make_rows - the rows of j into j->text, each made in a buffer of its
 * own first (at most REPORT_JSON_ROW_MAX bytes, as when it is written at
 * once); as a thread's start
 */
static void *
make_rows(void *arg)
{
	struct jrows *j = arg;
	struct report_json_memo memo = { 0 };
	struct buf row;
	size_t i;

	buf_init(&row, REPORT_JSON_ROW_MAX);
	for (i = j->from; i < j->to && j->rc == 0; i++) {
		buf_reset(&row);
		if (report_json_identity(&row, j->v[i], i == 0, &memo) < 0 ||
		    buf_put(&j->text, buf_str(&row), row.len) < 0)
			j->rc = -1;
	}
	buf_free(&row);
	return (NULL);
}

/* one_thread - SENDGUARD_THREADS=1: the audit keeps to one thread, its report too */
static int
one_thread(void)
{
	const char *env = getenv("SENDGUARD_THREADS");

	return (env != NULL && strcmp(env, "1") == 0);
}

/* report_json_rows - the rows of "identities" to fp; see report_priv.h */
int
report_json_rows(struct rident *const *v, size_t n, FILE *fp)
{
	struct jrows half = { v, n / 2, n, { 0 }, 0 };
	struct report_json_memo memo = { 0 };
	struct buf row;
	pthread_t th;
	size_t i, to = n;
	int threaded = 0, rc = 0;

	/*
	 * the report is printed after the reader thread has ended: its core is
	 * free (SENDGUARD_THREADS=1, the audit in one thread: none asked for)
	 */
	if (n >= REPORT_JSON_SPLIT && !one_thread()) {
		buf_init(&half.text, SIZE_MAX / 2);
		threaded = pthread_create(&th, NULL, make_rows, &half) == 0;
		if (threaded)
			to = n / 2;
		else
			buf_free(&half.text);
	}
	buf_init(&row, REPORT_JSON_ROW_MAX);
	for (i = 0; i < to && rc == 0; i++) { /* each row made as text, then written at once */
		buf_reset(&row);
		if (report_json_identity(&row, v[i], i == 0, &memo) < 0)
			rc = -1;
		else
			fwrite(buf_str(&row), 1, row.len, fp);
	}
	buf_free(&row);
	if (threaded) {
		(void)pthread_join(th, NULL);
		if (rc == 0 && half.rc == 0)
			fwrite(buf_str(&half.text), 1, half.text.len, fp);
		else
			rc = -1;
		buf_free(&half.text);
	}
	return (rc);
}
