/*
 * NAME
 *	exec - the exec action (see exec.h)
 * SUMMARY
 *	Two passes over each template element: one measures, one copies.
 *	An element longer than EXEC_ELEM_MAX (64 KiB, half of Linux's limit
 *	on one argument, MAX_ARG_STRLEN) has its list values (%q) cut to
 *	what the rest of it leaves, each after its last whole entry and
 *	ending in "...", so the hook still runs and can tell; only an element
 *	too long without them is refused.  A '%' followed by anything but a
 *	known variable, and a '%' at the end, are kept as they are.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/act_int.h"
#include "actions/exec.h"
#include "actions/hold.h"
#include "actions/notify.h"
#include "util/esc.h"

#define EXEC_ELEM_MAX ((size_t)64 * 1024) /* longest expanded argv element */
#define EXEC_MARK "..."                   /* ends a list value that was cut */
#define EXEC_MARK_LEN (sizeof(EXEC_MARK) - 1)

/*
 * var_value - the text of %c, or NULL when c is not a known variable;
 * *list says whether it is a comma-separated list (%q) that may be cut
 */
static const char *
var_value(int c, const struct exec_vars *v, char *num, size_t numsz, int *list)
{
	static const char names[] = "irwqa";
	const char *const vals[] = { v->identity, v->rule, v->window, v->qids, v->ips };
	const char *p;

	*list = c == 'q';
	if (c == 'c') {
		snprintf(num, numsz, "%ld", v->count);
		return (num);
	}
	if (c == '%')
		return ("%");
	if (c == '\0' || (p = strchr(names, c)) == NULL)
		return (NULL);
	return (vals[p - names] != NULL ? vals[p - names] : "");
}

/*
 * cut - the bytes of a list value to keep so that they and EXEC_MARK fit
 * in cap: up to and with its last comma that fits (whole entries), or as
 * many bytes as fit when no comma does
 */
static size_t
cut(const char *val, size_t cap)
{
	size_t room = cap > EXEC_MARK_LEN ? cap - EXEC_MARK_LEN : 0, i;

	for (i = room; i > 0; i--)
		if (val[i - 1] == ',')
			return (i);
	return (room);
}

/* What a pass over one template element found. */
struct pass {
	size_t lists;   /* list variables in it */
	size_t listlen; /* their bytes, whole */
	int cut;        /* a list value was cut */
};

/*
 * expand_pass - walk template t; with out NULL only measure, else copy.
 * A list value longer than cap is cut (cut()) and ends in EXEC_MARK.
 * Returns the expanded length.
 */
static size_t
expand_pass(const char *t, const struct exec_vars *v, size_t cap, char *out, struct pass *ps)
{
	char num[32];
	const char *p, *val;
	size_t len = 0, vl, keep;
	int list = 0;

	memset(ps, 0, sizeof(*ps));
	for (p = t; *p != '\0'; p++) {
		if (p[0] == '%' && p[1] != '\0' &&
		    (val = var_value(p[1], v, num, sizeof(num), &list)) != NULL) {
			vl = strlen(val);
			p++;
		} else {
			val = p;
			vl = 1;
			list = 0;
		}
		if (list) {
			ps->lists++;
			ps->listlen += vl;
		}
		keep = list && vl > cap ? cut(val, cap) : vl;
		if (out != NULL)
			memcpy(out + len, val, keep);
		len += keep;
		if (keep < vl) {
			if (out != NULL)
				memcpy(out + len, EXEC_MARK, EXEC_MARK_LEN);
			len += EXEC_MARK_LEN;
			ps->cut = 1;
		}
	}
	if (out != NULL)
		out[len] = '\0';
	return (len);
}

/*
 * expand_one - one template element with variables replaced, at most
 * EXEC_ELEM_MAX bytes: when it would be longer, its list values share
 * what the rest leaves and are cut to it (*cutp set).  NULL + err when
 * even that cannot fit.
 */
static char *
expand_one(const char *t, const struct exec_vars *v, int *cutp, char *err, size_t errlen)
{
	struct pass ps;
	size_t cap = (size_t)-1, len = expand_pass(t, v, cap, NULL, &ps), fixed;
	char *out;

	if (len > EXEC_ELEM_MAX) {
		fixed = len - ps.listlen;
		if (ps.lists == 0 || fixed > EXEC_ELEM_MAX ||
		    (EXEC_ELEM_MAX - fixed) / ps.lists <= EXEC_MARK_LEN) {
			snprintf(err, errlen, "argv element longer than %zu bytes", EXEC_ELEM_MAX);
			return (NULL);
		}
		cap = (EXEC_ELEM_MAX - fixed) / ps.lists;
		len = expand_pass(t, v, cap, NULL, &ps);
	}
	if ((out = malloc(len + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	expand_pass(t, v, cap, out, &ps);
	*cutp |= ps.cut;
	return (out);
}

/* exec_expand - expand an [action exec] argv template */
int
exec_expand(const char *const tmpl[], size_t n, const struct exec_vars *v, char ***outp, char *err,
    size_t errlen)
{
	char **out;
	size_t i;
	int cutp = 0;

	*outp = NULL;
	if ((n > 0 && tmpl == NULL) || v == NULL) {
		snprintf(err, errlen, "no template");
		return (-1);
	}
	if ((out = calloc(n + 1, sizeof(*out))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	for (i = 0; i < n; i++) {
		if (tmpl[i] == NULL) {
			snprintf(err, errlen, "template element %zu is NULL", i);
			exec_free(out);
			return (-1);
		}
		if (i == 0) {
			out[i] = strdup(tmpl[i]);
			if (out[i] == NULL)
				snprintf(err, errlen, "out of memory");
		} else {
			out[i] = expand_one(tmpl[i], v, &cutp, err, errlen);
		}
		if (out[i] == NULL) {
			exec_free(out);
			return (-1);
		}
	}
	*outp = out;
	return (cutp ? 1 : 0);
}

/* exec_free - free an argv from exec_expand() */
void
exec_free(char **argv)
{
	size_t i;

	if (argv == NULL)
		return;
	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

/* say_cut - the log line of a %q list that was cut to fit */
static void
say_cut(struct act *a, const char *identity, size_t nqids)
{
	char idv[ACT_ID_VIS];

	act_say(a, ACT_WARN,
	    "exec for %s: the list of its %zu queue IDs is longer than one argument may be "
	    "(%zu bytes): cut after its last whole entry, ending in \"%s\"; the command runs",
	    esc_vis(identity, idv, sizeof(idv)), nqids, EXEC_ELEM_MAX, EXEC_MARK);
}

void
exec_job(struct act *a, const struct notify_info *what, const struct hold_list *ql)
{
	const char *identity = what->identity;
	struct exec_vars ev;
	struct buf qids;
	char **argv = NULL, err[256];
	size_t i;
	int rc;

	if (a->conf->exec_argv == NULL || a->conf->exec_argc == 0)
		return;
	/* as long as the list is (exec_expand cuts it to fit an argv element) */
	buf_init(&qids, (size_t)-1 / 2);
	for (i = 0; ql != NULL && i < ql->n; i++)
		buf_addf(&qids, "%s%s", i ? "," : "", ql->q[i]);
	if (qids.failed) {
		act_say(a, ACT_WARN, "exec: out of memory");
		buf_free(&qids);
		return;
	}
	ev.identity = identity;
	ev.rule = what->rule;
	ev.count = what->count;
	ev.window = what->window;
	ev.qids = buf_str(&qids);
	ev.ips = what->ips != NULL ? what->ips : "";
	rc = exec_expand((const char *const *)a->conf->exec_argv, a->conf->exec_argc, &ev, &argv,
	    err, sizeof(err));
	if (rc < 0)
		act_say(a, ACT_WARN, "exec: %s", err);
	else {
		if (rc == 1)
			say_cut(a, identity, ql != NULL ? ql->n : 0);
		job_queue(a, JOB_PROG, "exec", identity, argv, NULL, 0);
	}
	buf_free(&qids);
}
