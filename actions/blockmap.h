/*
 * NAME
 *	blockmap - access(5) map files for check_sasl_access and
 *	check_sender_access, and the text sendguard feeds to programs
 * SUMMARY
 *	blockmap_key_ok() decides whether an identity value can be a map key
 *	safely; blockmap_write() rewrites a map file atomically (a temporary
 *	file in the same directory, fsync, rename, fsync of the directory) so
 *	that a concurrent reader (postmap, a Postfix daemon) never sees a
 *	partial map.  notify_compose() writes the postmaster's report;
 *	exec_expand() expands an [action exec] argv template; hold_stdin()
 *	makes postsuper's "-" input from queue IDs.
 * RETURNS
 *	0 / -1 with err filled; never prints or exits.
 * UNTRUSTED INPUT
 *	Identity values and queue IDs come from the log.  A value that is not
 *	a safe key is never written (the caller logs why); queue IDs are
 *	checked with pf_qid_ok() before they reach postsuper.
 */
#ifndef SG_BLOCKMAP_H
#define SG_BLOCKMAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BLOCKMAP_KEY_MAX 255

/*
 * blockmap_key_ok - 1 when value (the part after "sasl:"/"sender:") is a
 * safe access-map key: 1..BLOCKMAP_KEY_MAX bytes, no whitespace, no
 * control characters (< 0x20, 0x7f), no byte >= 0x80, not starting with
 * '#'.  Otherwise 0 and, if why is not NULL, a reason ("contains
 * whitespace", "empty", "longer than 255 bytes", ...).
 */
int	blockmap_key_ok(const char *value, const char **why);

/*
 * blockmap_write - replace path with one line "KEY REPLY\n" per key
 * (keys as given, which must all pass blockmap_key_ok; sorted; a header
 * comment names sendguard).  reply must contain no control characters.
 * Mode 0644.  Atomic: readers see the old or the new file, never a mix.
 */
int	blockmap_write(const char *path, const char *const keys[], size_t nkeys,
		       const char *reply, char *err, size_t errlen);

/* What a notification says. */
struct notify_info {
	const char *identity, *rule, *limit, *window;
	long	threshold, count;
	const char *first_qid, *last_qid;	/* may be NULL */
	int64_t	time_us;			/* of the crossing */
	const char *actions;			/* "hold: 12 queued messages held; block: in sasl map; ..." */
	const char *hostname;
	const char *from, *to;
	int	monitor;			/* 1: nothing was done, only logged */
};

/*
 * notify_compose - a complete RFC 5322 message (headers From, To,
 * Subject, Date, Auto-Submitted: auto-generated, MIME plain-text UTF-8 /
 * 8bit, then the body) into fp.  Identities are shown with control and
 * non-ASCII bytes as \xNN and are never placed in a header unescaped
 * (no header injection).  Lines end in "\n" (sendmail -i takes them).
 */
int	notify_compose(FILE *fp, const struct notify_info *);

/* Values for an exec argv template. */
struct exec_vars {
	const char *identity;	/* %i */
	const char *rule;	/* %r */
	long	count;		/* %c */
	const char *window;	/* %w */
	const char *qids;	/* %q: queue IDs separated by commas */
};

/*
 * exec_expand - out[i] = tmpl[i] with %i %r %c %w %q %% replaced; each
 * template element becomes exactly one argv element (no splitting).
 * Strings are allocated; free with exec_free().  argv[0] is never
 * expanded.  -1 on ENOMEM or an element over 64 KiB.
 */
int	exec_expand(const char *const tmpl[], size_t n, const struct exec_vars *,
		    char ***out, char *err, size_t errlen);
void	exec_free(char **argv);

/*
 * hold_stdin - "QID\n" for every valid queue ID (pf_qid_ok) of qids[];
 * invalid ones are skipped and counted in *skipped.  Allocated; caller
 * frees.  NULL with *len 0 when none is valid.
 */
char   *hold_stdin(const char *const qids[], size_t n, size_t *len, size_t *skipped);

#endif
