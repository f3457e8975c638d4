/*
 * NAME
 *	proc - one child process of the runner: fork + execve, its pipes,
 *	its reaping
 * SUMMARY
 *	What both of run's backends share (actions/run.c is its only user).
 *	proc_start() checks and copies argv, makes the pipes and forks; the
 *	child gets a clean signal state, the pipes as 0/1/2, no other
 *	descriptor, "/" as its directory and PATH and LANG only.  The
 *	parent's ends are non-blocking; proc_read(), proc_write() and
 *	proc_try_reap() move a step each, so that an event loop (run.c's
 *	loop backend) or proc_wait() (its synchronous backend) can drive
 *	them.  proc_result() fills in the result when it is over.
 * RETURNS
 *	0 / -1 with err filled; never prints or exits.
 * UNTRUSTED INPUT
 *	argv elements (identities, queue IDs from the log): separate execve
 *	arguments, never a shell.  The child's output: bounded, NULs replaced.
 */
#ifndef SG_PROC_H
#define SG_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "actions/run.h"

#define PROC_GRACE_MS 200 /* pipes kept open by grandchildren after the child exited */

enum { PROC_IN, PROC_OUT, PROC_ERR, PROC_EXEC, PROC_N };

/* one running program */
struct proc {
	pid_t pid;
	int fd[PROC_N]; /* parent ends, -1 when closed */
	char *in;       /* copy of stdin data */
	size_t in_len, in_off;
	size_t out_len, err_len;
	size_t exec_got; /* bytes of the errno read so far */
	unsigned char exec_buf[sizeof(int)];
	int reaped;
	int wstatus;
	int wknown; /* wstatus is valid (not lost to ECHILD) */
	int killed; /* we sent SIGKILL at the time limit */
	int64_t t0;
	struct run_result res;
};

/*
 * proc_start - start argv (1..RUN_ARGV_MAX elements, argv[0] absolute)
 * with a copy of stdin_data (NULL: /dev/null) into *p.  0, or -1 with err
 * filled and nothing left open.  Free p->in with proc_free() at the end.
 */
int proc_start(struct proc *p, const char *const argv[], const char *stdin_data, size_t stdin_len,
    unsigned timeout_ms, char *err, size_t errlen);
/* proc_read - read what fd[which] has; 1 when it is at its end (the caller closes it) */
int proc_read(struct proc *, int which);
/* proc_write - write more stdin; 1 when stdin is done (the caller closes it) */
int proc_write(struct proc *);
/* proc_try_reap - waitpid(WNOHANG) on the child; 1 once it is reaped */
int proc_try_reap(struct proc *);
/* proc_kill - SIGKILL the child's process group and the child */
void proc_kill(struct proc *);
/* proc_kill_wait - proc_kill, then reap the child, waiting */
void proc_kill_wait(struct proc *);
/* proc_output_open - an output pipe (stdout, stderr, exec) is still open */
int proc_output_open(const struct proc *);
/* proc_close - close *fd if open and mark it closed, keeping errno */
void proc_close(int *fd);
/* proc_result - fill p->res from the wait status and the time taken */
void proc_result(struct proc *);
/* proc_wait - drive p to its end with poll(): time limit, grace, result */
void proc_wait(struct proc *);
/* proc_free - close what is open, free the stdin copy */
void proc_free(struct proc *);

#endif
