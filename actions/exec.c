/*
 * NAME
 *	exec - the exec action (see exec.h)
 * SUMMARY
 *	Two passes over each template element: one measures (and refuses an
 *	element over EXEC_ELEM_MAX), one copies.  A '%' followed by anything
 *	but a known variable, and a '%' at the end, are kept as they are.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/act_int.h"
#include "actions/exec.h"
#include "actions/hold.h"
#include "actions/notify.h"

#define EXEC_ELEM_MAX ((size_t)64 * 1024) /* longest expanded argv element */

/* var_value - the text of %c, or NULL when c is not a known variable */
static const char *
var_value(int c, const struct exec_vars *v, char *num, size_t numsz)
{
	static const char names[] = "irwqa";
	const char *const vals[] = { v->identity, v->rule, v->window, v->qids, v->ips };
	const char *p;

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
 * expand_pass - walk template t; with out NULL only measure, else copy.
 * Returns the expanded length, or (size_t)-1 past EXEC_ELEM_MAX.
 */
static size_t
expand_pass(const char *t, const struct exec_vars *v, char *out)
{
	char num[32];
	const char *p, *val;
	size_t len = 0, vl;

	for (p = t; *p != '\0'; p++) {
		if (p[0] == '%' && p[1] != '\0' &&
		    (val = var_value(p[1], v, num, sizeof(num))) != NULL) {
			vl = strlen(val);
			p++;
		} else {
			val = p;
			vl = 1;
		}
		if (vl > EXEC_ELEM_MAX || len + vl > EXEC_ELEM_MAX)
			return ((size_t)-1);
		if (out != NULL)
			memcpy(out + len, val, vl);
		len += vl;
	}
	if (out != NULL)
		out[len] = '\0';
	return (len);
}

/* expand_one - one template element with variables replaced; NULL + err */
static char *
expand_one(const char *t, const struct exec_vars *v, char *err, size_t errlen)
{
	size_t len = expand_pass(t, v, NULL);
	char *out;

	if (len == (size_t)-1) {
		snprintf(err, errlen, "argv element longer than %zu bytes", EXEC_ELEM_MAX);
		return (NULL);
	}
	if ((out = malloc(len + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	expand_pass(t, v, out);
	return (out);
}

/* exec_expand - expand an [action exec] argv template */
int
exec_expand(const char *const tmpl[], size_t n, const struct exec_vars *v, char ***outp, char *err,
    size_t errlen)
{
	char **out;
	size_t i;

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
			out[i] = expand_one(tmpl[i], v, err, errlen);
		}
		if (out[i] == NULL) {
			exec_free(out);
			return (-1);
		}
	}
	*outp = out;
	return (0);
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

void
exec_job(struct act *a, const struct notify_info *what, const struct hold_list *ql)
{
	const char *identity = what->identity;
	struct exec_vars ev;
	struct buf qids;
	char **argv = NULL, err[256];
	size_t i;

	if (a->conf->exec_argv == NULL || a->conf->exec_argc == 0)
		return;
	/* as long as the list is (exec_expand refuses an element over EXEC_ELEM_MAX) */
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
	if (exec_expand((const char *const *)a->conf->exec_argv, a->conf->exec_argc, &ev, &argv,
		err, sizeof(err)) < 0)
		act_say(a, ACT_WARN, "exec: %s", err);
	else
		job_queue(a, JOB_PROG, "exec", identity, argv, NULL, 0);
	buf_free(&qids);
}
