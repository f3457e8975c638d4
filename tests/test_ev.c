/*
 * test_ev - the event loop: fd readiness, deletion during a dispatch round,
 * one-shot and periodic timers, signals through the signalfd, ev_stop, an
 * idle loop that sleeps, and descriptor and signal-mask clean-up.
 *
 * Signal rows run in a forked child: the Criterion worker has a second
 * thread that does not block our signals, so a process-directed signal
 * (kill, SIGCHLD) could be taken by that thread instead of the signalfd.
 * fork() copies only the calling thread, as in the single-threaded daemon.
 * Timing bounds are generous (hundreds of milliseconds) so that a loaded
 * machine under ASan does not make them flaky.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/ev.h"

#define NROWS(t)	(sizeof(t) / sizeof((t)[0]))

/* now_ms - monotonic milliseconds */
static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* guard_cb - a safety timer fired: record it and stop the loop */
static void
guard_cb(struct ev *ev, int id, void *ctx)
{
	(void)id;
	*(int *)ctx = 1;
	ev_stop(ev);
}

/* stop_cb - a timer that just stops the loop */
static void
stop_cb(struct ev *ev, int id, void *ctx)
{
	(void)id;
	(void)ctx;
	ev_stop(ev);
}

/* ---------------------------------------------------------------------- */
/* fd readiness */

enum fdsetup { PIPE_DATA, PIPE_EMPTY, PIPE_WRITER_GONE, PIPE_READER_GONE, SOCK_EMPTY, SOCK_DATA };

struct fdrec {
	int	calls;
	int	events;
	int	fd;
};

/* fd_cb - record the events, stop the loop */
static void
fd_cb(struct ev *ev, int fd, int events, void *ctx)
{
	struct fdrec *r = ctx;

	r->calls++;
	r->events |= events;
	r->fd = fd;
	ev_stop(ev);
}

Test(ev, fd_readiness)
{
	static const struct {
		const char *name;
		enum fdsetup setup;
		int	watch;		/* EV_READ|EV_WRITE */
		int	want_calls;
		int	want_events;
	} tab[] = {
		{ "pipe with data is readable", PIPE_DATA, EV_READ, 1, EV_READ },
		{ "empty pipe is never reported", PIPE_EMPTY, EV_READ, 0, 0 },
		{ "pipe whose writer closed: hang-up as EV_READ", PIPE_WRITER_GONE, EV_READ, 1, EV_READ },
		{ "pipe whose reader closed: error reaches the writer", PIPE_READER_GONE, EV_WRITE, 1, EV_READ | EV_WRITE },
		{ "socketpair with room is writable", SOCK_EMPTY, EV_WRITE, 1, EV_WRITE },
		{ "socket watched both ways, no data: write only", SOCK_EMPTY, EV_READ | EV_WRITE, 1, EV_WRITE },
		{ "socket watched both ways, with data: both", SOCK_DATA, EV_READ | EV_WRITE, 1, EV_READ | EV_WRITE },
		{ "socket with data watched for read only", SOCK_DATA, EV_READ, 1, EV_READ },
	};
	size_t i;

	for (i = 0; i < NROWS(tab); i++) {
		struct fdrec rec = { 0, 0, -1 };
		struct ev *ev = ev_new();
		int p[2], watched, other, timed_out = 0;

		cr_assert_not_null(ev);
		if (tab[i].setup == SOCK_EMPTY || tab[i].setup == SOCK_DATA)
			cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, p), 0);
		else
			cr_assert_eq(pipe(p), 0);
		watched = p[0];
		other = p[1];
		switch (tab[i].setup) {
		case PIPE_DATA:
		case SOCK_DATA:
			cr_assert_eq(write(p[1], "x", 1), 1);
			break;
		case PIPE_WRITER_GONE:
			close(p[1]);
			other = -1;
			break;
		case PIPE_READER_GONE:
			close(p[0]);
			watched = p[1];
			other = -1;
			break;
		case PIPE_EMPTY:
		case SOCK_EMPTY:
			break;
		}
		cr_assert_eq(ev_add_fd(ev, watched, tab[i].watch, fd_cb, &rec), 0, "%s", tab[i].name);
		cr_assert_geq(ev_add_timer(ev, tab[i].want_calls ? 3000 : 200, 0, guard_cb, &timed_out), 0);
		cr_expect_eq(ev_run(ev), 0, "%s", tab[i].name);
		cr_expect_eq(rec.calls, tab[i].want_calls, "%s: %d calls", tab[i].name, rec.calls);
		cr_expect_eq(rec.events, tab[i].want_events, "%s: events %#x, want %#x",
		    tab[i].name, (unsigned)rec.events, (unsigned)tab[i].want_events);
		if (tab[i].want_calls)
			cr_expect_eq(rec.fd, watched, "%s: callback got fd %d", tab[i].name, rec.fd);
		cr_expect_eq(timed_out, tab[i].want_calls == 0, "%s: guard timer", tab[i].name);
		ev_free(ev);
		close(watched);
		if (other >= 0)
			close(other);
	}
}

/* ---------------------------------------------------------------------- */
/* deletion inside a dispatch round */

enum delmode { DEL_OTHER_FD, DEL_SELF_FD, DEL_OTHER_TIMER, DEL_REUSE_FD };

struct round {
	struct ev *ev;
	enum delmode mode;
	int	a[2], b[2];		/* two pipes, both readable */
	int	tid;			/* DEL_OTHER_TIMER: the timer */
	int	calls;			/* first-generation callbacks */
	int	first;			/* fd of the first callback */
	int	fresh_w;		/* DEL_REUSE_FD: writer of the new pipe */
	int	fresh_calls;		/* callbacks on the re-created fd */
	int	del_rc;
};

/* fresh_cb - the re-created fd: only data written to the new pipe counts */
static void
fresh_cb(struct ev *ev, int fd, int events, void *ctx)
{
	struct round *r = ctx;
	char c;

	(void)events;
	r->fresh_calls++;
	(void)read(fd, &c, 1);		/* non-blocking: a stale call reads nothing */
	ev_stop(ev);
}

/* round_fd_cb - one of the two ready pipes: act on the other one */
static void
round_fd_cb(struct ev *ev, int fd, int events, void *ctx)
{
	struct round *r = ctx;
	int other = fd == r->a[0] ? r->b[0] : r->a[0];
	int fresh[2];

	(void)events;
	if (r->calls++ == 0)
		r->first = fd;
	ev_stop(ev);
	switch (r->mode) {
	case DEL_OTHER_FD:
		if (r->calls == 1)
			r->del_rc = ev_del_fd(ev, other);
		break;
	case DEL_SELF_FD:
		r->del_rc = ev_del_fd(ev, fd);
		break;
	case DEL_OTHER_TIMER:
		if (r->calls == 1)
			r->del_rc = ev_del_timer(ev, r->tid);
		break;
	case DEL_REUSE_FD:
		if (r->calls != 1)
			break;
		/* the other fd number now names a new, empty pipe */
		r->del_rc = ev_del_fd(ev, other);
		cr_assert_eq(pipe2(fresh, O_NONBLOCK), 0);
		cr_assert_eq(dup2(fresh[0], other), other);
		close(fresh[0]);
		r->fresh_w = fresh[1];
		cr_assert_eq(ev_add_fd(ev, other, EV_READ, fresh_cb, r), 0);
		break;
	}
}

/* round_timer_cb - the ready timer: delete the pipe it competes with */
static void
round_timer_cb(struct ev *ev, int id, void *ctx)
{
	struct round *r = ctx;

	(void)id;
	r->calls++;
	ev_stop(ev);
	if (r->calls == 1)
		r->del_rc = ev_del_fd(ev, r->a[0]);
}

Test(ev, delete_during_round)
{
	static const struct {
		const char *name;
		enum delmode mode;
		int	want_calls;
	} tab[] = {
		{ "deleted fd is not called later in the round", DEL_OTHER_FD, 1 },
		{ "deleting itself leaves the other fd alone", DEL_SELF_FD, 2 },
		{ "deleted timer (or fd) is not called later in the round", DEL_OTHER_TIMER, 1 },
		{ "fd number re-registered in the round gets no stale event", DEL_REUSE_FD, 1 },
	};
	size_t i;

	for (i = 0; i < NROWS(tab); i++) {
		struct round r;
		int timed_out = 0;

		memset(&r, 0, sizeof(r));
		r.mode = tab[i].mode;
		r.ev = ev_new();
		cr_assert_not_null(r.ev);
		cr_assert_eq(pipe(r.a), 0);
		cr_assert_eq(pipe(r.b), 0);
		cr_assert_eq(write(r.a[1], "a", 1), 1);
		cr_assert_eq(write(r.b[1], "b", 1), 1);
		cr_assert_eq(ev_add_fd(r.ev, r.a[0], EV_READ, round_fd_cb, &r), 0);
		if (r.mode == DEL_OTHER_TIMER) {
			r.tid = ev_add_timer(r.ev, 0, 0, round_timer_cb, &r);
			cr_assert_geq(r.tid, 0);
			usleep(20000);		/* both ready before the first wait */
		} else
			cr_assert_eq(ev_add_fd(r.ev, r.b[0], EV_READ, round_fd_cb, &r), 0);
		cr_assert_geq(ev_add_timer(r.ev, 3000, 0, guard_cb, &timed_out), 0);

		cr_expect_eq(ev_run(r.ev), 0, "%s", tab[i].name);
		cr_expect_eq(r.calls, tab[i].want_calls, "%s: %d callbacks", tab[i].name, r.calls);
		cr_expect_eq(r.del_rc, 0, "%s: delete failed", tab[i].name);
		cr_expect_eq(r.fresh_calls, 0, "%s: stale event dispatched", tab[i].name);
		cr_expect_eq(timed_out, 0, "%s", tab[i].name);
		if (r.mode == DEL_REUSE_FD) {
			/* the new empty pipe stays quiet, then works once written */
			cr_assert_eq(ev_del_fd(r.ev, r.first), 0);
			cr_assert_geq(ev_add_timer(r.ev, 200, 0, stop_cb, NULL), 0);
			cr_expect_eq(ev_run(r.ev), 0);
			cr_expect_eq(r.fresh_calls, 0, "%s: later stale event", tab[i].name);
			cr_assert_eq(write(r.fresh_w, "f", 1), 1);
			cr_expect_eq(ev_run(r.ev), 0);
			cr_expect_eq(r.fresh_calls, 1, "%s: new registration not called", tab[i].name);
			cr_expect_eq(timed_out, 0, "%s", tab[i].name);
			close(r.fresh_w);
		}
		ev_free(r.ev);
		close(r.a[0]);
		close(r.a[1]);
		close(r.b[0]);
		close(r.b[1]);
	}
}

/* ---------------------------------------------------------------------- */
/* timers */

enum timerop { OP_NONE, OP_DEL_SELF_AT, OP_REARM_UNTIL, OP_RESET_AT };

struct trow {
	const char *name;
	uint64_t ms;
	int	periodic;
	enum timerop op;
	int	arg;			/* fire count, or the reset's delay in ms */
	uint64_t reset_new;		/* OP_RESET_AT: new delay */
	int	run_ms;
	int	min_fires, max_fires;
	int	first_min, first_max;	/* ms from start to the first fire */
	int	alive_after;		/* id still valid after the run */
};

struct tstate {
	const struct trow *row;
	int	id;
	int	fires;
	int64_t	start, first;
	int	op_rc;
};

/* row_timer_cb - the timer under test */
static void
row_timer_cb(struct ev *ev, int id, void *ctx)
{
	struct tstate *s = ctx;

	if (id != s->id)
		s->op_rc = -100;
	if (s->fires++ == 0)
		s->first = now_ms() - s->start;
	switch (s->row->op) {
	case OP_DEL_SELF_AT:
		if (s->fires == s->row->arg)
			s->op_rc |= ev_del_timer(ev, id);
		break;
	case OP_REARM_UNTIL:
		if (s->fires < s->row->arg)
			s->op_rc |= ev_reset_timer(ev, id, s->row->ms);
		break;
	case OP_NONE:
	case OP_RESET_AT:
		break;
	}
}

/* reset_cb - the helper timer of OP_RESET_AT rows */
static void
reset_cb(struct ev *ev, int id, void *ctx)
{
	struct tstate *s = ctx;

	(void)id;
	s->op_rc |= ev_reset_timer(ev, s->id, s->row->reset_new);
}

Test(ev, timers)
{
	static const struct trow tab[] = {
		{ "one-shot fires once", 50, 0, OP_NONE, 0, 0, 400, 1, 1, 40, 300, 0 },
		{ "one-shot 0 ms fires at once", 0, 0, OP_NONE, 0, 0, 300, 1, 1, 0, 200, 0 },
		{ "periodic keeps firing", 50, 1, OP_NONE, 0, 0, 500, 4, 10, 40, 300, 1 },
		{ "periodic deletes itself on its 3rd fire", 30, 1, OP_DEL_SELF_AT, 3, 0, 500, 3, 3, 20, 300, 0 },
		{ "one-shot deletes itself in its callback", 30, 0, OP_DEL_SELF_AT, 1, 0, 300, 1, 1, 20, 250, 0 },
		{ "one-shot re-armed from its callback", 30, 0, OP_REARM_UNTIL, 3, 0, 500, 3, 3, 20, 250, 0 },
		{ "reset postpones a one-shot", 150, 0, OP_RESET_AT, 50, 600, 1200, 1, 1, 450, 1000, 0 },
		{ "reset brings a one-shot forward", 5000, 0, OP_RESET_AT, 50, 50, 700, 1, 1, 60, 400, 0 },
		{ "reset of a periodic keeps its period", 100, 1, OP_RESET_AT, 20, 400, 900, 3, 6, 300, 700, 1 },
	};
	size_t i;

	for (i = 0; i < NROWS(tab); i++) {
		struct tstate s;
		struct ev *ev = ev_new();
		int rc;

		cr_assert_not_null(ev);
		memset(&s, 0, sizeof(s));
		s.row = &tab[i];
		s.first = -1;
		s.start = now_ms();
		s.id = ev_add_timer(ev, tab[i].ms, tab[i].periodic, row_timer_cb, &s);
		cr_assert_geq(s.id, 0, "%s", tab[i].name);
		if (tab[i].op == OP_RESET_AT)
			cr_assert_geq(ev_add_timer(ev, (uint64_t)tab[i].arg, 0, reset_cb, &s), 0);
		cr_assert_geq(ev_add_timer(ev, (uint64_t)tab[i].run_ms, 0, stop_cb, NULL), 0);
		cr_expect_eq(ev_run(ev), 0, "%s", tab[i].name);

		cr_expect(s.fires >= tab[i].min_fires && s.fires <= tab[i].max_fires,
		    "%s: %d fires, want %d..%d", tab[i].name, s.fires, tab[i].min_fires, tab[i].max_fires);
		cr_expect(s.first >= tab[i].first_min && s.first <= tab[i].first_max,
		    "%s: first fire after %lld ms, want %d..%d", tab[i].name,
		    (long long)s.first, tab[i].first_min, tab[i].first_max);
		cr_expect_eq(s.op_rc, 0, "%s: callback operation failed", tab[i].name);
		rc = ev_reset_timer(ev, s.id, 10000);
		cr_expect_eq(rc == 0, tab[i].alive_after, "%s: id %s after the run", tab[i].name,
		    rc == 0 ? "still valid" : "gone");
		ev_free(ev);
	}
}

/* ---------------------------------------------------------------------- */
/* timer ids */

enum idop { ID_ADD, ID_ADD_NOW, ID_DEL, ID_RESET, ID_RUN };

Test(ev, timer_ids)
{
	static const struct {
		enum idop op;
		int	arg;
		int	want;
	} tab[] = {
		{ ID_ADD, 0, 0 },
		{ ID_ADD, 0, 1 },
		{ ID_ADD, 0, 2 },
		{ ID_DEL, 1, 0 },
		{ ID_DEL, 1, -1 },	/* already gone */
		{ ID_ADD, 0, 1 },	/* lowest free id reused */
		{ ID_DEL, 0, 0 },
		{ ID_ADD_NOW, 0, 0 },	/* one-shot that fires and stops the loop */
		{ ID_RUN, 0, 0 },
		{ ID_RESET, 0, -1 },	/* the fired one-shot's id is invalid */
		{ ID_DEL, 0, -1 },
		{ ID_ADD, 0, 0 },	/* and reused */
		{ ID_RESET, 2, 0 },
		{ ID_DEL, 7, -1 },
		{ ID_RESET, -1, -1 },
		{ ID_DEL, 3, -1 },
	};
	struct ev *ev = ev_new();
	size_t i;
	int got;

	cr_assert_not_null(ev);
	for (i = 0; i < NROWS(tab); i++) {
		switch (tab[i].op) {
		case ID_ADD:
			got = ev_add_timer(ev, 60000, 0, stop_cb, NULL);
			break;
		case ID_ADD_NOW:
			got = ev_add_timer(ev, 0, 0, stop_cb, NULL);
			break;
		case ID_DEL:
			got = ev_del_timer(ev, tab[i].arg);
			break;
		case ID_RESET:
			got = ev_reset_timer(ev, tab[i].arg, 60000);
			break;
		case ID_RUN:
		default:
			got = ev_run(ev);
			break;
		}
		cr_expect_eq(got, tab[i].want, "row %zu: got %d, want %d", i, got, tab[i].want);
	}
	ev_free(ev);
}

/* noop_sig - unused signal callback */
static void
noop_sig(struct ev *ev, int signo, void *ctx)
{
	(void)ev;
	(void)signo;
	(void)ctx;
}

/* ---------------------------------------------------------------------- */
/* signals (each row in a forked, single-threaded child) */

enum sigsend { SEND_RAISE, SEND_KILL, SEND_KILL_FROM_TIMER, SEND_CHILD_EXIT };

struct sigstate {
	int	got[NSIG];
	int	order[8];
	int	n;
	pid_t	child;
	int	child_status;
	int	want_total;
};

/* sig_cb - count the signal; SIGCHLD reaps; stop when all arrived */
static void
sig_cb(struct ev *ev, int signo, void *ctx)
{
	struct sigstate *s = ctx;
	int st;

	s->got[signo]++;
	if (s->n < 8)
		s->order[s->n] = signo;
	s->n++;
	if (signo == SIGCHLD && waitpid(s->child, &st, WNOHANG) == s->child)
		s->child_status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	if (s->n >= s->want_total)
		ev_stop(ev);
}

/* kill_cb - a timer that sends SIGHUP to the process while the loop waits */
static void
kill_cb(struct ev *ev, int id, void *ctx)
{
	(void)ev;
	(void)id;
	(void)ctx;
	kill(getpid(), SIGHUP);
}

/* blocked - is signo in the current signal mask */
static int
blocked(int signo)
{
	sigset_t cur;

	sigprocmask(SIG_BLOCK, NULL, &cur);
	return (sigismember(&cur, signo) == 1);
}

/* in_child - run fn in a forked child; return its exit code or 100+signal */
static int
in_child(int (*fn)(const void *), const void *arg)
{
	pid_t pid;
	int st;

	fflush(NULL);
	if ((pid = fork()) < 0)
		return (-1);
	if (pid == 0)
		_exit(fn(arg));
	if (waitpid(pid, &st, 0) != pid)
		return (-1);
	return (WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st));
}

struct sigrow {
	const char *name;
	int	signos[2];		/* 0: unused */
	enum sigsend how;
};

/*
 * sig_row - child side of one signal row; returns 0, or the number of
 * the check that failed.
 */
static int
sig_row(const void *arg)
{
	const struct sigrow *row = arg;
	struct sigstate s;
	struct ev *ev;
	int j, timed_out = 0;

	memset(&s, 0, sizeof(s));
	s.child_status = -2;
	if ((ev = ev_new()) == NULL)
		return (1);
	for (j = 0; j < 2 && row->signos[j]; j++) {
		if (ev_add_signal(ev, row->signos[j], sig_cb, &s) != 0)
			return (2);
		if (!blocked(row->signos[j]))
			return (3);
		s.want_total++;
	}
	if (ev_add_timer(ev, 3000, 0, guard_cb, &timed_out) < 0)
		return (4);
	for (j = 0; j < 2 && row->signos[j]; j++) {
		switch (row->how) {
		case SEND_RAISE:
			raise(row->signos[j]);
			break;
		case SEND_KILL:
			kill(getpid(), row->signos[j]);
			break;
		case SEND_KILL_FROM_TIMER:
			if (ev_add_timer(ev, 50, 0, kill_cb, NULL) < 0)
				return (5);
			break;
		case SEND_CHILD_EXIT:
			if ((s.child = fork()) < 0)
				return (6);
			if (s.child == 0) {
				usleep(50000);
				_exit(7);
			}
			break;
		}
	}
	if (ev_run(ev) != 0)
		return (7);
	if (timed_out)
		return (8);
	for (j = 0; j < 2 && row->signos[j]; j++)
		if (s.got[row->signos[j]] != 1)
			return (9);
	if (row->how == SEND_CHILD_EXIT && s.child_status != 7)
		return (10);
	ev_free(ev);
	for (j = 0; j < 2 && row->signos[j]; j++)
		if (blocked(row->signos[j]))
			return (11);		/* mask not restored */
	return (0);
}

Test(ev, signals)
{
	static const struct sigrow tab[] = {
		{ "raise(SIGUSR1) reaches its callback", { SIGUSR1, 0 }, SEND_RAISE },
		{ "kill(getpid(), SIGHUP) reaches its callback", { SIGHUP, 0 }, SEND_KILL },
		{ "SIGHUP sent while the loop waits", { SIGHUP, 0 }, SEND_KILL_FROM_TIMER },
		{ "SIGCHLD from an exiting child, reaped in the callback", { SIGCHLD, 0 }, SEND_CHILD_EXIT },
		{ "two pending signals both delivered", { SIGUSR1, SIGUSR2 }, SEND_RAISE },
		{ "SIGTERM and SIGINT both delivered", { SIGTERM, SIGINT }, SEND_KILL },
	};
	size_t i;
	int rc;

	for (i = 0; i < NROWS(tab); i++) {
		rc = in_child(sig_row, &tab[i]);
		cr_expect_eq(rc, 0, "%s: child failed check %d", tab[i].name, rc);
	}
}

struct maskrow {
	const char *name;
	int	signo;
	int	preblocked;		/* blocked before ev_add_signal */
	int	raise_unread;		/* pending, never dispatched, at ev_free */
	int	want_blocked;		/* after ev_free */
};

/* mask_row - child side of one mask row */
static int
mask_row(const void *arg)
{
	const struct maskrow *row = arg;
	sigset_t one;
	struct ev *ev;

	sigemptyset(&one);
	sigaddset(&one, row->signo);
	sigprocmask(row->preblocked ? SIG_BLOCK : SIG_UNBLOCK, &one, NULL);
	signal(row->signo, SIG_DFL);
	if ((ev = ev_new()) == NULL)
		return (1);
	if (ev_add_signal(ev, row->signo, noop_sig, NULL) != 0)
		return (2);
	if (row->raise_unread)
		raise(row->signo);
	ev_free(ev);			/* a pending SIGHUP must not kill us now */
	if (blocked(row->signo) != row->want_blocked)
		return (3);
	return (0);
}

Test(ev, signal_mask_restored)
{
	static const struct maskrow tab[] = {
		{ "signal unblocked again after ev_free", SIGUSR1, 0, 0, 0 },
		{ "signal blocked before stays blocked", SIGUSR2, 1, 0, 1 },
		{ "pending undispatched SIGHUP discarded at ev_free", SIGHUP, 0, 1, 0 },
	};
	size_t i;
	int rc;

	for (i = 0; i < NROWS(tab); i++) {
		rc = in_child(mask_row, &tab[i]);
		cr_expect_eq(rc, 0, "%s: child failed check %d", tab[i].name, rc);
	}
}

static volatile sig_atomic_t alarms;

/* on_alarm - a plain handler outside the loop */
static void
on_alarm(int signo)
{
	(void)signo;
	alarms++;
}

/* count_fire_cb - a timer that counts and stops the loop */
static void
count_fire_cb(struct ev *ev, int id, void *ctx)
{
	(void)id;
	(*(int *)ctx)++;
	ev_stop(ev);
}

/*
 * eintr_child - SIGALRM with a handler (not routed through the loop)
 * interrupts epoll_wait; ev_run must carry on until its timer fires.
 */
static int
eintr_child(const void *arg)
{
	struct sigaction sa;
	struct itimerval it;
	struct ev *ev;
	int fired = 0;

	(void)arg;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;	/* no SA_RESTART */
	if (sigaction(SIGALRM, &sa, NULL) < 0)
		return (1);
	if ((ev = ev_new()) == NULL || ev_add_timer(ev, 400, 0, count_fire_cb, &fired) < 0)
		return (2);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_usec = 50000;
	it.it_interval.tv_usec = 50000;
	if (setitimer(ITIMER_REAL, &it, NULL) < 0)
		return (3);
	if (ev_run(ev) != 0)
		return (4);
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	if (fired != 1)
		return (5);
	if (alarms < 2)
		return (6);		/* the test did not interrupt anything */
	ev_free(ev);
	return (0);
}

Test(ev, eintr_is_retried)
{
	int rc = in_child(eintr_child, NULL);

	cr_expect_eq(rc, 0, "child failed check %d", rc);
}

/* ---------------------------------------------------------------------- */
/* ev_stop and loop termination */

enum stopsetup { STOP_TWO_READY, STOP_RUN_TWICE, STOP_NOTHING, STOP_LAST_ONESHOT };

struct stopstate {
	int	calls;
};

/* count_stop_cb - count and stop */
static void
count_stop_cb(struct ev *ev, int fd, int events, void *ctx)
{
	(void)fd;
	(void)events;
	((struct stopstate *)ctx)->calls++;
	ev_stop(ev);
}

/* count_timer_cb - count, do not stop */
static void
count_timer_cb(struct ev *ev, int id, void *ctx)
{
	(void)ev;
	(void)id;
	((struct stopstate *)ctx)->calls++;
}

Test(ev, stop)
{
	static const struct {
		const char *name;
		enum stopsetup setup;
		int	runs;
		int	want_calls;
	} tab[] = {
		{ "ev_stop finishes the round, then returns", STOP_TWO_READY, 1, 2 },
		{ "ev_run works again after ev_stop", STOP_RUN_TWICE, 2, 4 },
		{ "nothing registered: returns at once", STOP_NOTHING, 1, 0 },
		{ "last one-shot timer fired: returns", STOP_LAST_ONESHOT, 1, 1 },
	};
	size_t i;
	int k;

	for (i = 0; i < NROWS(tab); i++) {
		struct stopstate s = { 0 };
		struct ev *ev = ev_new();
		int a[2], b[2];

		cr_assert_not_null(ev);
		cr_assert_eq(pipe(a), 0);
		cr_assert_eq(pipe(b), 0);
		cr_assert_eq(write(a[1], "a", 1), 1);
		cr_assert_eq(write(b[1], "b", 1), 1);
		switch (tab[i].setup) {
		case STOP_TWO_READY:
		case STOP_RUN_TWICE:
			cr_assert_eq(ev_add_fd(ev, a[0], EV_READ, count_stop_cb, &s), 0);
			cr_assert_eq(ev_add_fd(ev, b[0], EV_READ, count_stop_cb, &s), 0);
			break;
		case STOP_LAST_ONESHOT:
			cr_assert_geq(ev_add_timer(ev, 10, 0, count_timer_cb, &s), 0);
			break;
		case STOP_NOTHING:
			break;
		}
		for (k = 0; k < tab[i].runs; k++)
			cr_expect_eq(ev_run(ev), 0, "%s: run %d", tab[i].name, k);
		cr_expect_eq(s.calls, tab[i].want_calls, "%s: %d calls", tab[i].name, s.calls);
		ev_free(ev);
		close(a[0]);
		close(a[1]);
		close(b[0]);
		close(b[1]);
	}
}

/* ---------------------------------------------------------------------- */
/* an idle loop sleeps */

Test(ev, idle_loop_uses_no_cpu)
{
	struct timespec c0, c1;
	struct rusage u0, u1;
	long wakeups;
	struct ev *ev = ev_new();
	int64_t t0, wall, cpu_ms;
	int p[2];

	cr_assert_not_null(ev);
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(ev_add_fd(ev, p[0], EV_READ, count_stop_cb, NULL), 0);
	cr_assert_geq(ev_add_timer(ev, 1000, 0, stop_cb, NULL), 0);
	t0 = now_ms();
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	getrusage(RUSAGE_THREAD, &u0);
	cr_assert_eq(ev_run(ev), 0);
	getrusage(RUSAGE_THREAD, &u1);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	wakeups = u1.ru_nvcsw - u0.ru_nvcsw;
	wall = now_ms() - t0;
	cpu_ms = (int64_t)(c1.tv_sec - c0.tv_sec) * 1000 + (c1.tv_nsec - c0.tv_nsec) / 1000000;
	cr_expect(wall >= 800 && wall <= 2000, "loop ran %lld ms, want about 1000", (long long)wall);
	cr_expect_lt(cpu_ms, 50, "idle loop used %lld ms of CPU in %lld ms", (long long)cpu_ms,
	    (long long)wall);
	/* no periodic wake-ups either: the thread slept about once */
	cr_expect_lt(wakeups, 20, "idle loop woke %ld times in %lld ms", wakeups, (long long)wall);
	ev_free(ev);
	close(p[0]);
	close(p[1]);
}

/* ---------------------------------------------------------------------- */
/* descriptors: the loop closes its own, never the caller's */

/* count_fds - open descriptors of this process */
static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return (n - 1);		/* the DIR's own descriptor */
}

Test(ev, descriptors)
{
	static const struct {
		const char *name;
		int	timers;
		int	signal;
		int	user_fd;
	} tab[] = {
		{ "empty loop", 0, 0, 0 },
		{ "timers are closed", 3, 0, 0 },
		{ "signalfd is closed", 0, 1, 0 },
		{ "caller's fd stays open", 1, 1, 1 },
	};
	size_t i;

	for (i = 0; i < NROWS(tab); i++) {
		int before, p[2] = { -1, -1 }, k;
		struct ev *ev;
		sigset_t saved;

		sigprocmask(SIG_BLOCK, NULL, &saved);
		if (tab[i].user_fd)
			cr_assert_eq(pipe(p), 0);
		before = count_fds();
		ev = ev_new();
		cr_assert_not_null(ev);
		for (k = 0; k < tab[i].timers; k++)
			cr_assert_geq(ev_add_timer(ev, 60000, 1, stop_cb, NULL), 0);
		if (tab[i].signal)
			cr_assert_eq(ev_add_signal(ev, SIGUSR1, noop_sig, NULL), 0);
		if (tab[i].user_fd)
			cr_assert_eq(ev_add_fd(ev, p[0], EV_READ, count_stop_cb, NULL), 0);
		cr_expect_gt(count_fds(), before, "%s: loop opened nothing", tab[i].name);
		ev_free(ev);
		cr_expect_eq(count_fds(), before, "%s: %d descriptors leaked", tab[i].name,
		    count_fds() - before);
		if (tab[i].user_fd) {
			cr_expect_neq(fcntl(p[0], F_GETFD), -1, "%s: caller's fd closed", tab[i].name);
			close(p[0]);
			close(p[1]);
		}
		sigprocmask(SIG_SETMASK, &saved, NULL);
	}
}

/* ---------------------------------------------------------------------- */
/* errors */

/* nop_fd - unused fd callback */
static void
nop_fd(struct ev *ev, int fd, int events, void *ctx)
{
	(void)ev;
	(void)fd;
	(void)events;
	(void)ctx;
}

static int e_fd_negative(struct ev *ev) { return (ev_add_fd(ev, -1, EV_READ, nop_fd, NULL)); }
static int e_fd_no_events(struct ev *ev) { return (ev_add_fd(ev, 0, 0, nop_fd, NULL)); }
static int e_fd_bad_events(struct ev *ev) { return (ev_add_fd(ev, 0, 0x10, nop_fd, NULL)); }
static int e_fd_closed(struct ev *ev) { return (ev_add_fd(ev, 999, EV_READ, nop_fd, NULL)); }
static int e_fd_no_cb(struct ev *ev) { return (ev_add_fd(ev, 0, EV_READ, NULL, NULL)); }
static int e_del_unknown(struct ev *ev) { return (ev_del_fd(ev, 0)); }
static int e_del_timer(struct ev *ev) { return (ev_del_timer(ev, 99)); }
static int e_reset_timer(struct ev *ev) { return (ev_reset_timer(ev, 99, 10)); }
static int e_periodic_zero(struct ev *ev) { return (ev_add_timer(ev, 0, 1, stop_cb, NULL)); }
static int e_sigkill(struct ev *ev) { return (ev_add_signal(ev, SIGKILL, noop_sig, NULL)); }
static int e_sig_zero(struct ev *ev) { return (ev_add_signal(ev, 0, noop_sig, NULL)); }
static int e_sig_huge(struct ev *ev) { return (ev_add_signal(ev, 1000, noop_sig, NULL)); }

/* e_regular_file - epoll cannot watch a regular file */
static int
e_regular_file(struct ev *ev)
{
	int fd = open("/proc/self/exe", O_RDONLY), rc, saved;

	rc = ev_add_fd(ev, fd, EV_READ, nop_fd, NULL);
	saved = errno;
	close(fd);
	errno = saved;
	return (rc);
}

static int e_del_negative(struct ev *ev) { return (ev_del_fd(ev, -5)); }

/* own_timer_fd - add a timer and return the number its timerfd got */
static int
own_timer_fd(struct ev *ev)
{
	int fd = dup(0);	/* the lowest free number, which the timerfd takes */

	close(fd);
	cr_assert_geq(ev_add_timer(ev, 60000, 0, stop_cb, NULL), 0);
	return (fd);
}

/* e_del_own_timerfd - the loop's timerfd is not a caller fd */
static int
e_del_own_timerfd(struct ev *ev)
{
	return (ev_del_fd(ev, own_timer_fd(ev)));
}

/* e_add_own_timerfd - nor can it be watched as one */
static int
e_add_own_timerfd(struct ev *ev)
{
	return (ev_add_fd(ev, own_timer_fd(ev), EV_READ, nop_fd, NULL));
}

Test(ev, errors)
{
	static const struct {
		const char *name;
		int	(*fn)(struct ev *);
		int	want_errno;
	} tab[] = {
		{ "negative fd", e_fd_negative, EBADF },
		{ "no events", e_fd_no_events, EINVAL },
		{ "unknown event bits", e_fd_bad_events, EINVAL },
		{ "closed fd", e_fd_closed, EBADF },
		{ "no callback", e_fd_no_cb, EINVAL },
		{ "regular file", e_regular_file, EPERM },
		{ "delete an unwatched fd", e_del_unknown, ENOENT },
		{ "delete a negative fd", e_del_negative, ENOENT },
		{ "delete the loop's own timerfd", e_del_own_timerfd, ENOENT },
		{ "watch the loop's own timerfd", e_add_own_timerfd, EEXIST },
		{ "delete an unknown timer", e_del_timer, EINVAL },
		{ "reset an unknown timer", e_reset_timer, EINVAL },
		{ "periodic timer of 0 ms", e_periodic_zero, EINVAL },
		{ "SIGKILL cannot be caught", e_sigkill, EINVAL },
		{ "signal 0", e_sig_zero, EINVAL },
		{ "signal 1000", e_sig_huge, EINVAL },
	};
	size_t i;

	for (i = 0; i < NROWS(tab); i++) {
		struct ev *ev = ev_new();
		int rc;

		cr_assert_not_null(ev);
		errno = 0;
		rc = tab[i].fn(ev);
		cr_expect_eq(rc, -1, "%s: rc %d", tab[i].name, rc);
		cr_expect_eq(errno, tab[i].want_errno, "%s: errno %s", tab[i].name, strerror(errno));
		ev_free(ev);
	}
}
