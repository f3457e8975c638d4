/*
 * NAME
 *	run - run external programs (fork + execve, fixed argv, no shell)
 *	and keep time, through an event loop or synchronously
 * SUMMARY
 *	A runner has one of two backends behind the same calls, so that its
 *	user has one code path for the daemon and the command-line tools:
 *	- runner_new(ev): run_start() returns at once; the loop drives the
 *	  pipes, the time limit (SIGKILL past it) and the reaping (SIGCHLD
 *	  through the loop's signalfd), and calls done.  The log path never
 *	  waits on a child.
 *	- runner_new_sync(): run_start() runs the program to its end before
 *	  it returns, and done is called from runner_settle(), one result
 *	  after the other in the order the programs ran.
 *	Either way the program gets argv[0] (an absolute path) with argv as
 *	given, a minimal environment (PATH=/usr/sbin:/usr/bin:/sbin:/bin,
 *	LANG=C, nothing inherited), stdin fed from a buffer (or /dev/null),
 *	stdout and stderr captured (at most RUN_OUT_MAX bytes each, the rest
 *	counted and dropped), all descriptors above 2 closed.
 *	Timers (struct run_timer, owned by the caller): with a loop they fire
 *	after their delay; a synchronous runner serves a process that ends
 *	soon, so it never fires them, except those set RUN_SOON, which fire
 *	in runner_settle() once the programs started before them are done
 *	(a debounce: "when the current burst is over").
 * RETURNS
 *	0 / -1 with err filled; never prints or exits.  A program that cannot
 *	be executed (missing, not executable) is reported through the result
 *	(exec_errno), not as a run_start() failure, so it is logged and
 *	retried like any other failure.
 * UNTRUSTED INPUT
 *	argv elements may come from the log (identities, queue IDs): they are
 *	passed as separate execve arguments, never through a shell, never
 *	as a format string.  The caller validates them first.
 */
#ifndef SG_RUN_H
#define SG_RUN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/ev.h"

#define RUN_OUT_MAX 8192
#define RUN_ARGV_MAX 64

struct run_result {
	int exited;   /* 1: exited normally, status valid */
	int status;   /* exit status */
	int signaled; /* 1: killed by a signal (sig) */
	int sig;
	int timed_out;             /* 1: killed by us at the time limit */
	int exec_errno;            /* != 0: execve failed with this errno (status 127) */
	char out[RUN_OUT_MAX + 1]; /* stdout, NUL-terminated (NULs replaced by '?') */
	char err[RUN_OUT_MAX + 1]; /* stderr, likewise */
	size_t out_dropped, err_dropped;
	long ms;           /* wall time taken */
	unsigned limit_ms; /* the time limit it ran under (0: none) */
};

/* run_ok - exited with status 0 */
#define run_ok(r) ((r)->exited && (r)->status == 0)

typedef void (*run_done_fn)(void *ctx, const struct run_result *);

struct runner;

/* runner_new - children run through loop ev (which must outlive the runner); NULL on failure */
struct runner *runner_new(struct ev *ev);
/* runner_new_sync - children run to their end inside run_start(); NULL when out of memory */
struct runner *runner_new_sync(void);
/*
 * runner_free - kills (SIGKILL) and reaps children still running, drops
 * results not yet delivered, calls no callback.  From inside a done
 * callback the runner itself is freed when that callback returns.
 */
void runner_free(struct runner *);
/* runner_active - children started whose done has not been called yet */
int runner_active(const struct runner *);

/*
 * run_start - start argv (NULL-terminated, argv[0] absolute) with stdin
 * data (len bytes, NULL for /dev/null) and a time limit (0: none); done
 * is called exactly once: from the loop when the child has exited and its
 * output is read, or (synchronous runner) from runner_settle().  The argv
 * strings and stdin are copied.  done may start other children and may
 * call runner_free().
 */
int run_start(struct runner *, const char *const argv[], const char *stdin_data, size_t stdin_len,
    unsigned timeout_ms, run_done_fn done, void *ctx, char *err, size_t errlen);

/*
 * runner_settle - synchronous runner: deliver the results of the
 * programs run (in order) and fire the RUN_SOON timers once no result is
 * left, until neither is left (done and the timers may start more).
 * Does nothing when called from inside one of them (the outer call goes
 * on) and nothing with a loop (the loop does it all).
 */
void runner_settle(struct runner *);

/* A timer; the caller owns it (and must not free it inside its callback). */
typedef void (*run_timer_fn)(void *ctx);
struct run_timer {
	struct runner *r;
	run_timer_fn cb;
	void *ctx;
	int id;                 /* loop: its ev timer id, -1: not armed */
	int rearmed;            /* loop: set again inside its own callback */
	int soon;               /* synchronous: waits for runner_settle() */
	struct run_timer *next; /* synchronous: the next one waiting */
};

#define RUN_SOON 0x01 /* a synchronous runner fires it in runner_settle() */

/* run_timer_init - an unarmed timer calling cb(ctx) */
void run_timer_init(struct run_timer *, struct runner *, run_timer_fn cb, void *ctx);
/* run_timer_set - (re)arm it to fire once after ms (flags: RUN_SOON); 0 or -1 */
int run_timer_set(struct run_timer *, uint64_t ms, int flags);
/* run_timer_stop - disarm it (safe when not armed) */
void run_timer_stop(struct run_timer *);

/* run_describe - "exit 1", "killed by signal 9", "timed out after 30 s", "cannot execute: ..." */
const char *run_describe(const struct run_result *, char *buf, size_t len);

/*
 * run_text_cut - the length of the longest prefix of text (len bytes, as
 * util/esc's ESC_VIS or ESC_ARG writes it) that has at most max bytes and
 * does not end inside an escape (each backslash starts one of 4 bytes)
 */
size_t run_text_cut(const char *text, size_t len, size_t max);

/*
 * run_argv_text - argv as one line for logs: elements separated by one
 * space, an element that is empty or has a space in '...', its bytes as
 * util/esc's ESC_ARG writes them (control and non-ASCII bytes, the quote
 * and the backslash as \xNN); too long for len: cut after a whole piece,
 * with "..." at the end.  Returns buf.
 */
const char *run_argv_text(const char *const argv[], char *buf, size_t len);

#endif
