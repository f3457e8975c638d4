/*
 * NAME
 *	run - run an external program: fork + execve, fixed argv, no shell
 * SUMMARY
 *	run_start() starts argv[0] (an absolute path) with argv as given,
 *	a minimal environment (PATH=/usr/sbin:/usr/bin:/sbin:/bin, LANG=C,
 *	nothing inherited), stdin fed from a buffer (or /dev/null), stdout
 *	and stderr captured (at most RUN_OUT_MAX bytes each, the rest
 *	counted and dropped), all descriptors above 2 closed in the child.
 *	It returns at once; the caller's event loop drives the pipes, a
 *	time limit (SIGKILL past it) and the reaping (SIGCHLD through the
 *	loop's signalfd), and the done callback gets the result.  The log
 *	path never waits on a child.
 *	run_sync() does the same and waits (for command-line tools).
 * RETURNS
 *	0 / -1 with err filled; never prints or exits.  A program that cannot
 *	be executed (missing, not executable) is reported through the
 *	result (exec_errno), not as a run_start() failure, so it is logged
 *	and retried like any other failure.
 * UNTRUSTED INPUT
 *	argv elements may come from the log (identities, queue IDs): they are
 *	passed as separate execve arguments, never through a shell, never
 *	as a format string.  The caller validates them first.
 */
#ifndef SG_RUN_H
#define SG_RUN_H

#include <stddef.h>
#include <sys/types.h>

#include "util/ev.h"

#define RUN_OUT_MAX	8192
#define RUN_ARGV_MAX	64

struct run_result {
	int	exited;			/* 1: exited normally, status valid */
	int	status;			/* exit status */
	int	signaled;		/* 1: killed by a signal (sig) */
	int	sig;
	int	timed_out;		/* 1: killed by us at the time limit */
	int	exec_errno;		/* != 0: execve failed with this errno (status 127) */
	char	out[RUN_OUT_MAX + 1];	/* stdout, NUL-terminated (NULs replaced by '?') */
	char	err[RUN_OUT_MAX + 1];	/* stderr, likewise */
	size_t	out_dropped, err_dropped;
	long	ms;			/* wall time taken */
	unsigned limit_ms;		/* the time limit it ran under (0: none) */
};

/* run_ok - exited with status 0 */
#define run_ok(r) ((r)->exited && (r)->status == 0)

typedef void (*run_done_fn)(void *ctx, const struct run_result *);

struct runner;

/* runner_new - children run through loop ev (which must outlive the runner) */
struct runner *runner_new(struct ev *ev);
/* runner_free - kills (SIGKILL) and reaps children still running, without callbacks */
void	runner_free(struct runner *);
/* runner_active - children not yet finished */
int	runner_active(const struct runner *);

/*
 * run_start - start argv (NULL-terminated, argv[0] absolute) with stdin
 * data (len bytes, NULL for /dev/null) and a time limit; done is called
 * exactly once from the loop when the child has exited and its output is
 * read.  The argv strings and stdin are copied.  timeout_ms 0: no limit.
 * done may start other children and may call runner_free().
 */
int	run_start(struct runner *, const char *const argv[], const char *stdin_data,
		  size_t stdin_len, unsigned timeout_ms, run_done_fn done, void *ctx,
		  char *err, size_t errlen);

/* run_sync - the same, waiting for the child; 0 and *res filled, or -1 */
int	run_sync(const char *const argv[], const char *stdin_data, size_t stdin_len,
		 unsigned timeout_ms, struct run_result *res, char *err, size_t errlen);

/* run_describe - "exit 1", "killed by signal 9", "timed out after 30 s", "cannot execute: ..." */
const char *run_describe(const struct run_result *, char *buf, size_t len);

/* run_argv_text - argv as one line for logs: each element quoted if needed, control bytes as \xNN */
const char *run_argv_text(const char *const argv[], char *buf, size_t len);

#endif
