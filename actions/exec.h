/*
 * NAME
 *	exec - the exec action: the administrator's command, its argv
 *	template expanded for one decision
 * SUMMARY
 *	exec_expand() expands %i %r %c %w %q %a %% per argv element of the
 *	[action exec] command; exec_job() queues the run of a decision.
 * RETURNS
 *	0 / -1 with err filled (err must not be NULL when errlen > 0), 1
 *	from exec_expand() when a %q was cut to fit; never prints or exits.
 * UNTRUSTED INPUT
 *	Identities, queue IDs and client IPs (from the log) become parts of
 *	argv elements, copied byte-exact: an argv element is not a shell
 *	word and no shell ever sees it.  Each template element stays one
 *	element.
 */
#ifndef SG_EXEC_H
#define SG_EXEC_H

#include <stddef.h>

struct act;
struct hold_list;
struct notify_info;

/* Values for an exec argv template. */
struct exec_vars {
	const char *identity; /* %i */
	const char *rule;     /* %r */
	long count;           /* %c */
	const char *window;   /* %w */
	const char *qids;     /* %q: queue IDs separated by commas */
	const char *ips;      /* %a: client IPs separated by commas, ",..." when cut */
};

/*
 * exec_expand - out[i] = tmpl[i] with %i %r %c %w %q %a %% replaced; each
 * template element becomes exactly one argv element (no splitting).
 * Strings are allocated; free with exec_free().  argv[0] is never
 * expanded.  An element is at most 64 KiB: when it would be longer, its
 * %q values are cut after their last whole queue ID that fits and end
 * in "..." (returns 1; the hook still runs).  0, 1, or -1 on ENOMEM or
 * an element over 64 KiB even without its %q.
 */
int exec_expand(const char *const tmpl[], size_t n, const struct exec_vars *, char ***out,
    char *err, size_t errlen);
void exec_free(char **argv);

/*
 * exec_job - queue the command for a decision: its identity, rule, count,
 * window and client IPs (%a) from what, ql the queue IDs (%q)
 */
void exec_job(struct act *, const struct notify_info *what, const struct hold_list *ql);

#endif
