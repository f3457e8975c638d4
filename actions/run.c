/*
 * NAME
 *	run - run external programs and keep time, through an event loop or
 *	synchronously (see run.h)
 * SUMMARY
 *	One child is a struct proc (actions/proc.c: fork, execve, pipes,
 *	reaping); this file drives it.
 *	- The loop backend drives the pipes through the caller's event loop
 *	  (EV_WRITE for stdin, EV_READ for the rest), the time limit through a
 *	  one-shot ev timer (SIGKILL to the process group), and the reaping
 *	  through SIGCHLD on the loop's signalfd: each SIGCHLD tries
 *	  waitpid(pid, WNOHANG) for each of our own children only, never
 *	  waitpid(-1), so other children of the process are left alone.
 *	- The synchronous backend runs each program to its end in run_start()
 *	  (proc_wait: poll and waitpid in short steps) and keeps the result in
 *	  a queue that runner_settle() hands to the done callbacks in order,
 *	  so a callback never runs inside the run_start() of its caller.
 *	- Timers are ev timers with a loop, a list of RUN_SOON timers for
 *	  runner_settle() without one.  A one-shot ev timer is deleted by the
 *	  loop after it fired (and its id reused), so the timer forgets its id
 *	  then unless its callback armed it again.
 *	Re-entrancy: a done callback may start new children and may call
 *	runner_free(); the runner is then freed once the callback that called
 *	done returns.
 * RETURNS
 *	0 / -1 with err filled; never prints or exits.
 * UNTRUSTED INPUT
 *	argv elements (identities, queue IDs from the log): passed to execve
 *	as separate arguments; run_argv_text() shows them through util/esc.
 *	The child's output: bounded, NULs replaced.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "actions/proc.h"
#include "actions/run.h"
#include "util/buf.h"
#include "util/esc.h"

/* what run_start was asked to run */
struct req {
	const char *const *argv;
	const char *in; /* stdin data, NULL: /dev/null */
	size_t inlen;
	unsigned ms; /* time limit, 0: none */
	run_done_fn done;
	void *ctx;
};

/* a child of the loop backend */
struct child {
	struct runner *r;
	struct child *next;
	int limit_timer; /* -1: none */
	int grace_timer; /* -1: none */
	run_done_fn done;
	void *ctx;
	struct proc p;
};

/* a result of the synchronous backend, waiting for runner_settle() */
struct sres {
	struct sres *next;
	run_done_fn done;
	void *ctx;
	struct run_result res;
};

struct runner {
	struct ev *ev;                 /* NULL: synchronous */
	struct child *head;            /* loop: running children */
	struct child *dead;            /* loop: finished, freed when no callback of ours runs */
	struct sres *results, **rtail; /* synchronous: results to deliver */
	struct run_timer *soon;        /* synchronous: RUN_SOON timers armed */
	int nactive;
	int depth; /* callbacks of ours in progress */
	int freed; /* runner_free ran inside a callback */
};

/* runner_enter - one of our callbacks starts */
static void
runner_enter(struct runner *r)
{
	r->depth++;
}

/* runner_bury - free the finished children */
static void
runner_bury(struct runner *r)
{
	struct child *c;

	while ((c = r->dead) != NULL) {
		r->dead = c->next;
		free(c);
	}
}

/*
 * runner_leave - it ends: the children it finished are freed, and a
 * runner that runner_free left behind.  1 if the runner was freed.
 */
static int
runner_leave(struct runner *r)
{
	if (--r->depth > 0)
		return (0);
	runner_bury(r);
	if (!r->freed)
		return (0);
	free(r);
	return (1);
}

/* ---------------------------------------------------------------------- */
/* the loop backend */

/* child_close - stop watching and close one descriptor of c */
static void
child_close(struct child *c, int which)
{
	if (c->p.fd[which] < 0)
		return;
	(void)ev_del_fd(c->r->ev, c->p.fd[which]);
	proc_close(&c->p.fd[which]);
}

/* child_stop - close every pipe of c and stop its timers */
static void
child_stop(struct child *c)
{
	int i;

	for (i = 0; i < PROC_N; i++)
		child_close(c, i);
	if (c->limit_timer >= 0)
		(void)ev_del_timer(c->r->ev, c->limit_timer);
	c->limit_timer = -1;
	if (c->grace_timer >= 0)
		(void)ev_del_timer(c->r->ev, c->grace_timer);
	c->grace_timer = -1;
}

/* child_release - stop c and free it, calling nothing */
static void
child_release(struct child *c)
{
	child_stop(c);
	proc_free(&c->p);
	free(c);
}

/* child_unlink - take c off the runner's list */
static void
child_unlink(struct child *c)
{
	struct child **pp = &c->r->head;

	while (*pp != NULL && *pp != c)
		pp = &(*pp)->next;
	if (*pp == c) {
		*pp = c->next;
		c->r->nactive--;
	}
}

/*
 * child_finish - c is reaped and its output read: take it off the list,
 * call done, and leave it to be freed by runner_leave.  Must run inside
 * runner_enter/leave, since done may call runner_free.
 */
static void
child_finish(struct child *c)
{
	child_stop(c);
	proc_result(&c->p);
	child_unlink(c);
	c->done(c->ctx, &c->p.res);
	proc_free(&c->p);
	c->next = c->r->dead; /* a loop over the children may still hold c */
	c->r->dead = c;
}

/* grace_cb - pipes still open PROC_GRACE_MS after the child exited: stop waiting */
static void
grace_cb(struct ev *ev, int id, void *ctx)
{
	struct child *c = ctx;
	struct runner *r = c->r;
	int i;

	(void)ev;
	(void)id;
	c->grace_timer = -1; /* the loop deletes it after we return */
	runner_enter(r);
	for (i = PROC_OUT; i < PROC_N; i++)
		if (c->p.fd[i] >= 0) {
			(void)proc_read(&c->p, i);
			child_close(c, i);
		}
	child_finish(c);
	(void)runner_leave(r);
}

/*
 * child_reaped - c was just reaped: stop the time limit and stdin, then
 * finish now or give the output pipes a grace period.
 */
static void
child_reaped(struct child *c)
{
	if (c->limit_timer >= 0)
		(void)ev_del_timer(c->r->ev, c->limit_timer);
	c->limit_timer = -1;
	child_close(c, PROC_IN);
	if (!proc_output_open(&c->p)) {
		child_finish(c);
		return;
	}
	c->grace_timer = ev_add_timer(c->r->ev, PROC_GRACE_MS, 0, grace_cb, c);
	if (c->grace_timer < 0) {
		child_close(c, PROC_OUT);
		child_close(c, PROC_ERR);
		child_close(c, PROC_EXEC);
		child_finish(c);
	}
}

/* limit_cb - the time limit passed: kill the child and its process group */
static void
limit_cb(struct ev *ev, int id, void *ctx)
{
	struct child *c = ctx;

	(void)ev;
	(void)id;
	c->limit_timer = -1; /* the loop deletes it after we return */
	c->p.killed = 1;
	proc_kill(&c->p);
}

/*
 * sigchld_cb - some child exited: try each of ours that is not reaped
 * yet (waitpid on its pid only, so other children are left to others).
 * Scans from the head again after each finish, since done may start or
 * (through runner_free) remove children.
 */
static void
sigchld_cb(struct ev *ev, int signo, void *ctx)
{
	struct runner *r = ctx;
	struct child *c;
	int again;

	(void)ev;
	(void)signo;
	runner_enter(r);
	do {
		again = 0;
		for (c = r->head; c != NULL && !r->freed; c = c->next) {
			if (c->p.reaped || !proc_try_reap(&c->p))
				continue;
			child_reaped(c);
			again = 1;
			break;
		}
	} while (again && !r->freed);
	(void)runner_leave(r);
}

/* sigchld_none - SIGCHLD after runner_free: nothing of ours to reap */
static void
sigchld_none(struct ev *ev, int signo, void *ctx)
{
	(void)ev;
	(void)signo;
	(void)ctx;
}

/* child_fd_cb - a pipe of a child is ready */
static void
child_fd_cb(struct ev *ev, int fd, int events, void *ctx)
{
	struct child *c = ctx;
	struct runner *r = c->r;
	int which, i;

	(void)ev;
	(void)events;
	for (which = -1, i = 0; i < PROC_N; i++)
		if (c->p.fd[i] == fd)
			which = i;
	if (which < 0)
		return;
	runner_enter(r);
	if (which == PROC_IN) {
		if (proc_write(&c->p))
			child_close(c, PROC_IN);
	} else if (proc_read(&c->p, which)) {
		child_close(c, which);
		if (!proc_output_open(&c->p)) {
			if (c->p.reaped)
				child_finish(c);
			else if (proc_try_reap(&c->p))
				child_reaped(c); /* exited, SIGCHLD not yet seen */
		}
	}
	(void)runner_leave(r);
}

/*
 * runner_new - a runner over loop ev; registers SIGCHLD with it (one
 * runner per loop: the loop has one SIGCHLD callback).  A SIGCHLD that is
 * ignored (SIG_IGN or SA_NOCLDWAIT) would discard exit statuses and the
 * signal itself, so it is set back to the default.  NULL on failure.
 */
struct runner *
runner_new(struct ev *ev)
{
	struct sigaction sa;
	struct runner *r;

	if (ev == NULL) {
		errno = EINVAL;
		return (NULL);
	}
	if ((r = runner_new_sync()) == NULL)
		return (NULL);
	r->ev = ev;
	if (sigaction(SIGCHLD, NULL, &sa) == 0 &&
	    (sa.sa_handler == SIG_IGN || (sa.sa_flags & SA_NOCLDWAIT))) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		(void)sigemptyset(&sa.sa_mask);
		(void)sigaction(SIGCHLD, &sa, NULL);
	}
	if (ev_add_signal(ev, SIGCHLD, sigchld_cb, r) < 0) {
		int saved = errno;

		free(r);
		errno = saved;
		return (NULL);
	}
	return (r);
}

/* child_start - run_start with a loop: watch the pipes, arm the time limit */
static int
child_start(struct runner *r, const struct req *q, char *err, size_t errlen)
{
	struct child *c;
	int i;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "run: out of memory");
		return (-1);
	}
	c->r = r;
	c->limit_timer = c->grace_timer = -1;
	c->done = q->done;
	c->ctx = q->ctx;
	if (proc_start(&c->p, q->argv, q->in, q->inlen, q->ms, err, errlen) < 0) {
		free(c);
		return (-1);
	}
	c->next = r->head;
	r->head = c;
	r->nactive++;
	for (i = 0; i < PROC_N; i++) {
		if (c->p.fd[i] < 0)
			continue;
		if (ev_add_fd(r->ev, c->p.fd[i], i == PROC_IN ? EV_WRITE : EV_READ, child_fd_cb,
			c) < 0)
			goto fail;
	}
	if (q->ms > 0 && (c->limit_timer = ev_add_timer(r->ev, q->ms, 0, limit_cb, c)) < 0)
		goto fail;
	return (0);

fail:
	snprintf(err, errlen, "run: event loop: %s", strerror(errno));
	proc_kill_wait(&c->p);
	child_unlink(c);
	child_release(c);
	return (-1);
}

/* ---------------------------------------------------------------------- */
/* the synchronous backend */

/* runner_new_sync - a runner without a loop */
struct runner *
runner_new_sync(void)
{
	struct runner *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return (NULL);
	r->rtail = &r->results;
	return (r);
}

/* sync_start - run_start without a loop: run the program to its end, keep the result */
static int
sync_start(struct runner *r, const struct req *q, char *err, size_t errlen)
{
	struct sres *s = calloc(1, sizeof(*s));
	struct proc *p = malloc(sizeof(*p));
	int rc = -1;

	if (s == NULL || p == NULL)
		snprintf(err, errlen, "run: out of memory");
	else if (proc_start(p, q->argv, q->in, q->inlen, q->ms, err, errlen) == 0) {
		proc_wait(p);
		s->res = p->res;
		proc_free(p);
		s->done = q->done;
		s->ctx = q->ctx;
		*r->rtail = s;
		r->rtail = &s->next;
		r->nactive++;
		s = NULL;
		rc = 0;
	}
	free(p);
	free(s);
	return (rc);
}

/* runner_settle - see run.h */
void
runner_settle(struct runner *r)
{
	struct sres *s;
	struct run_timer *t;

	if (r == NULL || r->ev != NULL || r->depth > 0)
		return;
	runner_enter(r);
	while (!r->freed) {
		if ((s = r->results) != NULL) {
			if ((r->results = s->next) == NULL)
				r->rtail = &r->results;
			r->nactive--;
			s->done(s->ctx, &s->res);
			free(s);
		} else if ((t = r->soon) != NULL) {
			r->soon = t->next;
			t->soon = 0;
			t->next = NULL;
			t->cb(t->ctx);
		} else
			break;
	}
	(void)runner_leave(r);
}

/* ---------------------------------------------------------------------- */
/* both */

/*
 * runner_free - with a loop: SIGKILL (child and process group) and reap
 * every child still running, close its pipes, and point the loop's
 * SIGCHLD registration at a no-op.  Without: drop the results not yet
 * delivered.  No callback either way.
 */
void
runner_free(struct runner *r)
{
	struct child *c;
	struct sres *s;

	if (r == NULL || r->freed)
		return;
	while ((c = r->head) != NULL) {
		r->head = c->next;
		proc_kill_wait(&c->p);
		child_release(c);
	}
	while ((s = r->results) != NULL) {
		r->results = s->next;
		free(s);
	}
	r->rtail = &r->results;
	if (r->depth == 0)
		runner_bury(r);
	while (r->soon != NULL)
		run_timer_stop(r->soon);
	r->nactive = 0;
	if (r->ev != NULL)
		(void)ev_add_signal(r->ev, SIGCHLD, sigchld_none, NULL);
	if (r->depth > 0)
		r->freed = 1;
	else
		free(r);
}

/* runner_active - children started and not yet finished (done not yet called) */
int
runner_active(const struct runner *r)
{
	return (r == NULL ? 0 : r->nactive);
}

/*
 * run_start - see run.h.  timeout_ms 0 means no time limit.  Fails (-1)
 * only for a bad argv (empty, relative argv[0], too many elements), no
 * memory, or no pipes/fork; an exec failure comes through done.
 */
int
run_start(struct runner *r, const char *const argv[], const char *stdin_data, size_t stdin_len,
    unsigned timeout_ms, run_done_fn done, void *ctx, char *err, size_t errlen)
{
	const struct req q = { argv, stdin_data, stdin_len, timeout_ms, done, ctx };

	if (r == NULL || done == NULL || r->freed) {
		snprintf(err, errlen, "run: no runner or no callback");
		return (-1);
	}
	return (r->ev != NULL ? child_start(r, &q, err, errlen) : sync_start(r, &q, err, errlen));
}

/* ---------------------------------------------------------------------- */
/* timers */

void
run_timer_init(struct run_timer *t, struct runner *r, run_timer_fn cb, void *ctx)
{
	memset(t, 0, sizeof(*t));
	t->r = r;
	t->cb = cb;
	t->ctx = ctx;
	t->id = -1;
}

/* timer_fired - an ev timer of ours fired: the loop deletes it unless cb arms it again */
static void
timer_fired(struct ev *ev, int id, void *ctx)
{
	struct run_timer *t = ctx;

	(void)ev;
	(void)id;
	t->rearmed = 0;
	t->cb(t->ctx);
	if (!t->rearmed)
		t->id = -1;
}

/* soon_unlink - take t off the synchronous runner's RUN_SOON list */
static void
soon_unlink(struct run_timer *t)
{
	struct run_timer **pp;

	for (pp = &t->r->soon; *pp != NULL; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	t->next = NULL;
	t->soon = 0;
}

/*
 * run_timer_set - with a loop: fire after ms (re-arming replaces the
 * earlier delay).  Without: a RUN_SOON timer waits for runner_settle(),
 * any other is never fired (and re-arming it so takes it off the list).
 */
int
run_timer_set(struct run_timer *t, uint64_t ms, int flags)
{
	struct runner *r = t->r;

	if (r == NULL || r->freed)
		return (-1);
	if (r->ev == NULL) {
		if (!(flags & RUN_SOON)) {
			if (t->soon)
				soon_unlink(t);
			return (0);
		}
		if (!t->soon) {
			struct run_timer **pp;

			for (pp = &r->soon; *pp != NULL; pp = &(*pp)->next)
				;
			*pp = t;
			t->soon = 1;
		}
		return (0);
	}
	if (t->id >= 0 && ev_reset_timer(r->ev, t->id, ms) == 0) {
		t->rearmed = 1;
		return (0);
	}
	t->id = ev_add_timer(r->ev, ms, 0, timer_fired, t);
	t->rearmed = 1;
	return (t->id >= 0 ? 0 : -1);
}

void
run_timer_stop(struct run_timer *t)
{
	if (t->r == NULL)
		return;
	if (t->soon)
		soon_unlink(t);
	if (t->id >= 0 && t->r->ev != NULL)
		(void)ev_del_timer(t->r->ev, t->id);
	t->id = -1;
	t->rearmed = 0;
}

/* ---------------------------------------------------------------------- */
/* text */

/*
 * run_describe - one phrase for a log line: "exit 1", "killed by signal
 * 9", "timed out after 30 s" (or "after 300 ms"), "cannot execute:
 * strerror".  Returns buf.
 */
const char *
run_describe(const struct run_result *r, char *buf, size_t len)
{
	if (buf == NULL || len == 0)
		return ("");
	if (r == NULL)
		snprintf(buf, len, "no result");
	else if (r->timed_out) {
		if (r->limit_ms % 1000 == 0)
			snprintf(buf, len, "timed out after %u s", r->limit_ms / 1000);
		else
			snprintf(buf, len, "timed out after %u ms", r->limit_ms);
	} else if (r->exec_errno != 0)
		snprintf(buf, len, "cannot execute: %s", strerror(r->exec_errno));
	else if (r->exited)
		snprintf(buf, len, "exit %d", r->status);
	else if (r->signaled)
		snprintf(buf, len, "killed by signal %d", r->sig);
	else
		snprintf(buf, len, "ended with unknown status");
	return (buf);
}

size_t
run_text_cut(const char *text, size_t len, size_t max)
{
	size_t cut = len < max ? len : max, k;

	for (k = 1; k <= 3 && k <= cut; k++)
		if (text[cut - k] == '\\')
			return (cut - k);
	return (cut);
}

/*
 * run_argv_text - see run.h.  The whole line is written to a heap buffer
 * first; when it does not fit, it is cut to at most len - 4 bytes
 * without splitting an escape, and "..." follows.
 */
const char *
run_argv_text(const char *const argv[], char *buf, size_t len)
{
	struct buf t;
	size_t i, n, cut;
	int q;

	if (buf == NULL || len == 0)
		return ("");
	buf[0] = '\0';
	if (argv == NULL)
		return (buf);
	buf_init(&t, (size_t)-1 / 2);
	for (i = 0; argv[i] != NULL; i++) {
		n = strlen(argv[i]);
		q = n == 0 || memchr(argv[i], ' ', n) != NULL;
		if ((i > 0 && buf_addc(&t, ' ') < 0) || (q && buf_addc(&t, '\'') < 0) ||
		    esc_buf(&t, argv[i], n, ESC_ARG, 0) < 0 || (q && buf_addc(&t, '\'') < 0))
			break;
	}
	if (!t.failed && t.len < len) {
		memcpy(buf, buf_str(&t), t.len + 1);
	} else if (len >= 4) {
		cut = run_text_cut(buf_str(&t), t.len, len - 4);
		memcpy(buf, buf_str(&t), cut);
		memcpy(buf + cut, "...", 4);
	}
	buf_free(&t);
	return (buf);
}
