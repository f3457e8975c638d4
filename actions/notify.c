/*
 * NAME
 *	notify - the notify action (see notify.h)
 * SUMMARY
 *	The report is a plain-text RFC 5322 message; every value that
 *	reaches a header or the body goes through put(): util/esc's ESC_VIS,
 *	cut after the last whole escape that fits its field's maximum, then
 *	"...".  The commands it offers ("sendguard unblock ID") show the
 *	identity only when it is printable and whole, in POSIX shell quotes
 *	when it needs them.
 *	The run is queued when the decision is made, with the report as the
 *	decision saw it; job.c asks notify_ready() before it starts it, and
 *	the report is then written again with what the runs before it said.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actions/act_int.h"
#include "actions/notify.h"
#include "util/esc.h"

#define SUBJ_ID_MAX 100   /* identity bytes shown in Subject */
#define SUBJ_FIELD_MAX 64 /* host, rule in Subject */
#define BODY_VAL_MAX 900  /* any body value (line < 998) */
#define CMD_ID_MAX 200    /* identity in a command hint */
#define OUTCOME_VIS 399   /* an outcome in the report's actions */

/*
 * put - s (NULL: "(none)") as ESC_VIS, at most max bytes of it; longer,
 * cut after the last whole escape that fits, and "..." follows.  1 when
 * it was cut.
 */
static int
put(struct buf *b, const char *s, size_t max)
{
	struct buf t;
	size_t cut;
	int r = 0;

	if (s == NULL) {
		(void)buf_adds(b, "(none)");
		return (0);
	}
	buf_init(&t, (size_t)-1 / 2);
	(void)esc_buf(&t, s, strlen(s), ESC_VIS, 0);
	if (t.len <= max)
		(void)buf_add(b, buf_str(&t), t.len);
	else {
		cut = run_text_cut(buf_str(&t), t.len, max);
		(void)buf_add(b, buf_str(&t), cut);
		(void)buf_adds(b, "...");
		r = 1;
	}
	if (t.failed)
		b->failed = 1;
	buf_free(&t);
	return (r);
}

/* shell_safe - 1 when s needs no quoting in a shell command hint */
static int
shell_safe(const char *s)
{
	if (*s == '\0')
		return (0);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			strchr("@._+-:=/,%", c) != NULL))
			return (0);
	}
	return (1);
}

/* shell_word - s as one shell word for a hint: as it is, or in '...' with ' as '\'' */
static void
shell_word(struct buf *b, const char *s)
{
	if (shell_safe(s)) {
		(void)buf_adds(b, s);
		return;
	}
	(void)buf_addc(b, '\'');
	for (; *s != '\0'; s++)
		(void)(*s == '\'' ? buf_adds(b, "'\\''") : buf_addc(b, *s));
	(void)buf_addc(b, '\'');
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

/* headers - From, To, Subject, Date and the MIME headers, then the empty line */
static void
headers(struct buf *b, const struct notify_info *ni, const struct tm *tm)
{
	static const char *const wday[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
		"Sep", "Oct", "Nov", "Dec" };

	buf_addf(b, "From: sendguard <%s>\nTo: %s\nSubject: [sendguard] ", ni->from, ni->to);
	put(b, ni->hostname, SUBJ_FIELD_MAX);
	buf_adds(b, ": ");
	put(b, ni->identity, SUBJ_ID_MAX);
	buf_adds(b, " over limit (");
	put(b, ni->rule, SUBJ_FIELD_MAX);
	buf_addf(b, ")\nDate: %s, %02d %s %04d %02d:%02d:%02d +0000\n", wday[tm->tm_wday],
	    tm->tm_mday, mon[tm->tm_mon], tm->tm_year + 1900, tm->tm_hour, tm->tm_min, tm->tm_sec);
	buf_adds(b,
	    "Auto-Submitted: auto-generated\nMIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n");
}

/* field - one body line "Label:   value" */
static void
field(struct buf *b, const char *label, const char *value)
{
	buf_adds(b, label);
	put(b, value, BODY_VAL_MAX);
	buf_addc(b, '\n');
}

/* body - every line starts with a fixed word, never "From " */
static void
body(struct buf *b, const struct notify_info *ni, const struct tm *tm)
{
	buf_adds(b, "sendguard on ");
	put(b, ni->hostname, BODY_VAL_MAX);
	buf_adds(b, ": an identity went over a sending limit.\n\n");
	field(b, "Identity:        ", ni->identity);
	field(b, "Rule:            ", ni->rule);
	field(b, "Limit:           ", ni->limit);
	field(b, "Window:          ", ni->window);
	buf_addf(b, "Count:           %ld > %ld (threshold)\n", ni->count, ni->threshold);
	field(b, "First queue ID:  ", ni->first_qid);
	field(b, "Last queue ID:   ", ni->last_qid);
	if (ni->ips != NULL && ni->ips[0] != '\0')
		field(b, "Client IPs:      ", ni->ips);
	buf_addf(b, "When:            %04d-%02d-%02dT%02d:%02d:%02dZ\n", tm->tm_year + 1900,
	    tm->tm_mon + 1, tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec);
	field(b, "Actions:         ", ni->actions);
	if (ni->monitor)
		buf_adds(b,
		    "Mode:            monitor - nothing was done; the actions"
		    " above are what enforce mode would do.\n");
	buf_addc(b, '\n');
}

/* hints - how to see why and to unblock, when the identity can be shown as a word */
static void
hints(struct buf *b, const struct notify_info *ni)
{
	struct buf id;

	buf_init(&id, CMD_ID_MAX + 3);
	if (put(&id, ni->identity, CMD_ID_MAX) || !printable(ni->identity) || id.failed)
		buf_adds(b,
		    "Note: the identity is too long or has unprintable bytes,"
		    " so it is not shown as a command; see \"sendguard status\".\n");
	else {
		buf_adds(b, "To see why:      sendguard explain ");
		shell_word(b, buf_str(&id));
		buf_adds(b, "\nTo unblock:      sendguard unblock ");
		shell_word(b, buf_str(&id));
		buf_addc(b, '\n');
	}
	buf_free(&id);
}

int
notify_compose(struct buf *out, const struct notify_info *ni)
{
	struct buf b;
	struct tm tm;
	int r;

	if (out == NULL || ni == NULL || !header_ok(ni->from) || !header_ok(ni->to) ||
	    split_time(ni->time_us, &tm) < 0 || tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 ||
	    tm.tm_mon > 11) {
		errno = EINVAL;
		return (-1);
	}
	buf_init(&b, ACT_TEXT_MAX);
	headers(&b, ni, &tm);
	body(&b, ni, &tm);
	hints(&b, ni);
	r = b.failed ? -1 : buf_add(out, buf_str(&b), b.len);
	buf_free(&b);
	return (r);
}

/* ni_copy - a notify_info with its strings in one allocation */
static struct notify_info *
ni_copy(const struct notify_info *ni)
{
	const char *const src[] = { ni->identity, ni->rule, ni->limit, ni->window, ni->first_qid,
		ni->last_qid, ni->actions, ni->hostname, ni->from, ni->to, ni->ips };
	const char **dst[11];
	struct notify_info *c;
	size_t n = sizeof(*c), i, l;
	char *p;

	for (i = 0; i < 11; i++)
		n += src[i] ? strlen(src[i]) + 1 : 0;
	if ((c = calloc(1, n)) == NULL)
		return (NULL);
	*c = *ni;
	dst[0] = &c->identity;
	dst[1] = &c->rule;
	dst[2] = &c->limit;
	dst[3] = &c->window;
	dst[4] = &c->first_qid;
	dst[5] = &c->last_qid;
	dst[6] = &c->actions;
	dst[7] = &c->hostname;
	dst[8] = &c->from;
	dst[9] = &c->to;
	dst[10] = &c->ips;
	p = (char *)(c + 1);
	for (i = 0; i < 11; i++) {
		if (src[i] == NULL) {
			*dst[i] = NULL;
			continue;
		}
		l = strlen(src[i]) + 1;
		memcpy(p, src[i], l);
		*dst[i] = p;
		p += l;
	}
	return (c);
}

/* take_text - the text of heap buffer b, now the caller's (NULL: none) */
static char *
take_text(struct buf *b, size_t *len)
{
	char *p = b->failed ? NULL : b->p;

	*len = p != NULL ? b->len : 0;
	if (p == NULL)
		buf_free(b);
	memset(b, 0, sizeof(*b));
	return (p);
}

void
notify_job(struct act *a, const struct notify_info *ni)
{
	const char *rest[] = { "-i", "-f", "<>", "--", a->conf->notify_to, NULL };
	struct buf msg;
	struct job *j;
	char *in;
	size_t len;

	buf_init(&msg, ACT_TEXT_MAX);
	if (notify_compose(&msg, ni) < 0 || (in = take_text(&msg, &len)) == NULL) {
		act_say(a, ACT_WARN, "notify: the report cannot be written");
		buf_free(&msg);
		return;
	}
	if ((j = job_queue(a, JOB_PROG, "notify", ni->identity,
		 job_prog(a, a->conf->sendmail, "-C", rest), in, len)) == NULL)
		return;
	/* keep what it says, to tell the outcomes of the runs before it */
	j->first_id = job_chain_first(a) ? job_chain_first(a) : j->id;
	j->ni = ni_copy(ni);
}

/* The outcomes of the runs before a notice. */
struct outc {
	int64_t from, to;
	struct buf *b;
	int n;
};

static int
outc_cb(void *ctx, const struct store_job *sj)
{
	struct outc *o = ctx;

	if (sj->id < o->from || sj->id >= o->to)
		return (0);
	buf_addf(o->b, "%s%s: %s", o->n++ ? "; " : "", sj->action ? sj->action : "-",
	    sj->status ? sj->status : "-");
	if (sj->outcome != NULL) {
		buf_adds(o->b, " (");
		esc_buf(o->b, sj->outcome, strlen(sj->outcome), ESC_VIS, OUTCOME_VIS);
		buf_addc(o->b, ')');
	}
	return (0);
}

int
notify_ready(struct act *a, struct job *j)
{
	struct job *k;
	struct notify_info ni;
	struct buf acts, msg;
	struct outc o;
	char err[256], *in;
	size_t len;

	for (k = a->jobs.queue; k; k = k->next)
		if (k != j && k->id >= j->first_id && k->id < j->id && k->identity != NULL &&
		    j->identity != NULL && strcmp(k->identity, j->identity) == 0 &&
		    (k->running || k->attempts == 0))
			return (0);
	buf_init(&acts, ACT_TEXT_MAX);
	buf_adds(&acts, j->ni->actions ? j->ni->actions : "");
	buf_adds(&acts, "; outcomes: ");
	o.from = j->first_id;
	o.to = j->id;
	o.b = &acts;
	o.n = 0;
	store_each_job(a->store, j->identity, NULL, outc_cb, &o, err, sizeof(err));
	if (o.n == 0)
		buf_adds(&acts, "none run");
	act_text_check(a, &acts, "the report's outcomes");
	ni = *j->ni;
	ni.actions = buf_str(&acts);
	buf_init(&msg, ACT_TEXT_MAX);
	if (notify_compose(&msg, &ni) == 0 && (in = take_text(&msg, &len)) != NULL) {
		free(j->in);
		j->in = in;
		j->inlen = len;
	}
	buf_free(&msg);
	buf_free(&acts);
	free(j->ni); /* composed: from now on an ordinary run */
	j->ni = NULL;
	return (1);
}
