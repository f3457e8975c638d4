/*
 * NAME
 *	ev - the daemon's event loop (see ev.h)
 * SUMMARY
 *	One epoll instance watches three kinds of descriptor, all kept in one
 *	table indexed by descriptor number:
 *	- caller descriptors (ev_add_fd), never closed by the loop;
 *	- one timerfd per timer (CLOCK_MONOTONIC), owned by the loop; timer
 *	  ids index a second table and are reused lowest-first;
 *	- one signalfd for every registered signal, owned by the loop; the
 *	  signals are blocked with sigprocmask, which suits a single-threaded
 *	  process (another thread that leaves them unblocked would take them).
 *	Each registration gets a fresh generation number that epoll hands back
 *	with the event, so an event collected before a callback deleted (or
 *	deleted and re-created) a registration is dropped, not dispatched to
 *	the wrong callback.
 *	A one-shot timer stays valid while its callback runs (the callback may
 *	re-arm it with ev_reset_timer or delete it); unless re-armed it is
 *	deleted when the callback returns.
 *	ev_run() returns 0 when nothing at all is registered, since nothing
 *	could ever wake it.  ev_run() may not be nested, and ev_free() may not
 *	be called from a callback.
 * UNTRUSTED INPUT
 *	None: descriptors, delays and signal numbers come from the daemon.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "util/ev.h"

#define EV_MAXEVENTS 64

enum kind {
	K_FREE = 0,
	K_USER,  /* caller's descriptor */
	K_TIMER, /* our timerfd */
	K_SIGNAL /* our signalfd */
};

struct reg {
	enum kind kind;
	uint32_t gen; /* matches the epoll data */
	int events;   /* K_USER: EV_READ|EV_WRITE */
	int timer;    /* K_TIMER: timer id */
	ev_fd_fn cb;
	void *ctx;
};

struct timer {
	int fd; /* -1: slot free */
	int periodic;
	int rearmed;  /* ev_reset_timer ran during its callback */
	uint32_t gen; /* generation of its fd registration */
	uint64_t ms;
	ev_timer_fn cb;
	void *ctx;
};

struct sig {
	ev_signal_fn cb;
	void *ctx;
};

struct ev {
	int epfd;
	int sigfd; /* -1 until the first ev_add_signal */
	int stop;
	int running;
	uint32_t gen;     /* last generation handed out */
	size_t nreg;      /* live registrations, all kinds */
	struct reg *regs; /* indexed by fd */
	size_t nregs;
	struct timer *timers; /* indexed by timer id */
	size_t ntimers;
	sigset_t sigmask; /* signals routed through sigfd */
	sigset_t blocked; /* of those, the ones we blocked */
	struct sig sigs[NSIG];
	struct epoll_event evs[EV_MAXEVENTS];
};

/* pack - epoll data for fd with generation gen */
static uint64_t
pack(int fd, uint32_t gen)
{
	return (((uint64_t)gen << 32) | (uint32_t)fd);
}

/* next_gen - a fresh generation number, never 0 */
static uint32_t
next_gen(struct ev *ev)
{
	if (++ev->gen == 0)
		ev->gen = 1;
	return (ev->gen);
}

/* reg_grow - make regs[fd] addressable; new slots are K_FREE */
static int
reg_grow(struct ev *ev, int fd)
{
	size_t n;
	struct reg *r;

	if ((size_t)fd < ev->nregs)
		return (0);
	n = ev->nregs ? ev->nregs : 64;
	while (n <= (size_t)fd)
		n *= 2;
	if ((r = realloc(ev->regs, n * sizeof(*r))) == NULL)
		return (-1);
	memset(r + ev->nregs, 0, (n - ev->nregs) * sizeof(*r));
	ev->regs = r;
	ev->nregs = n;
	return (0);
}

/* reg_find - the live registration of fd, or NULL */
static struct reg *
reg_find(struct ev *ev, int fd)
{
	if (fd < 0 || (size_t)fd >= ev->nregs || ev->regs[fd].kind == K_FREE)
		return (NULL);
	return (&ev->regs[fd]);
}

/* epoll_mask - epoll event bits for EV_READ|EV_WRITE */
static uint32_t
epoll_mask(int events)
{
	uint32_t m = 0;

	if (events & EV_READ)
		m |= EPOLLIN;
	if (events & EV_WRITE)
		m |= EPOLLOUT;
	return (m);
}

/*
 * reg_add - add fd to the epoll set as a new registration of kind k and
 * fill in its table slot; the caller completes the kind-specific fields.
 * Returns the slot, or NULL with errno set.
 */
static struct reg *
reg_add(struct ev *ev, int fd, enum kind k, int events)
{
	struct epoll_event ee;
	struct reg *r;
	uint32_t gen;

	if (reg_grow(ev, fd) < 0)
		return (NULL);
	gen = next_gen(ev);
	memset(&ee, 0, sizeof(ee));
	ee.events = epoll_mask(events);
	ee.data.u64 = pack(fd, gen);
	if (epoll_ctl(ev->epfd, EPOLL_CTL_ADD, fd, &ee) < 0)
		return (NULL);
	r = &ev->regs[fd];
	if (r->kind != K_FREE)
		ev->nreg--; /* stale: the caller closed it without ev_del_fd */
	memset(r, 0, sizeof(*r));
	r->kind = k;
	r->gen = gen;
	r->events = events;
	ev->nreg++;
	return (r);
}

/*
 * reg_del - take fd out of the epoll set and free its slot.  A descriptor
 * the caller already closed has left the epoll set by itself, so EBADF and
 * ENOENT are not errors here.
 */
static void
reg_del(struct ev *ev, int fd)
{
	struct epoll_event ee;

	memset(&ee, 0, sizeof(ee));
	(void)epoll_ctl(ev->epfd, EPOLL_CTL_DEL, fd, &ee);
	memset(&ev->regs[fd], 0, sizeof(ev->regs[fd]));
	ev->nreg--;
}

/* ev_new - an empty loop, or NULL with errno set */
struct ev *
ev_new(void)
{
	struct ev *ev;

	if ((ev = calloc(1, sizeof(*ev))) == NULL)
		return (NULL);
	ev->sigfd = -1;
	sigemptyset(&ev->sigmask);
	sigemptyset(&ev->blocked);
	if ((ev->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		free(ev);
		return (NULL);
	}
	return (ev);
}

/*
 * ev_free - close the epoll descriptor, every timerfd and the signalfd,
 * and unblock the signals this loop blocked (signals that were already
 * blocked before ev_add_signal stay blocked).  Signals still pending on
 * the signalfd are discarded first, so that a late SIGHUP or SIGTERM does
 * not take its default action while the daemon shuts down.  Caller
 * descriptors are left open.  Not to be called from a callback.
 */
void
ev_free(struct ev *ev)
{
	struct signalfd_siginfo si;
	size_t i;
	int saved = errno;

	if (ev == NULL)
		return;
	for (i = 0; i < ev->ntimers; i++)
		if (ev->timers[i].fd >= 0)
			(void)close(ev->timers[i].fd);
	if (ev->sigfd >= 0) {
		while (read(ev->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			continue;
		(void)close(ev->sigfd);
		(void)sigprocmask(SIG_UNBLOCK, &ev->blocked, NULL);
	}
	(void)close(ev->epfd);
	free(ev->timers);
	free(ev->regs);
	free(ev);
	errno = saved;
}

/*
 * ev_add_fd - watch the caller's fd for events (EV_READ and/or EV_WRITE).
 * Adding an fd that is already watched replaces its events, callback and
 * context.  The loop never closes fd; the caller must ev_del_fd before
 * closing it (or at least before re-using the number).
 */
int
ev_add_fd(struct ev *ev, int fd, int events, ev_fd_fn cb, void *ctx)
{
	struct epoll_event ee;
	struct reg *r;

	if (ev == NULL || cb == NULL || events == 0 || (events & ~(EV_READ | EV_WRITE))) {
		errno = EINVAL;
		return (-1);
	}
	if (fd < 0) {
		errno = EBADF;
		return (-1);
	}
	if ((r = reg_find(ev, fd)) != NULL) {
		if (r->kind != K_USER) {
			errno = EEXIST;
			return (-1);
		}
		memset(&ee, 0, sizeof(ee));
		ee.events = epoll_mask(events);
		ee.data.u64 = pack(fd, r->gen);
		if (epoll_ctl(ev->epfd, EPOLL_CTL_MOD, fd, &ee) < 0) {
			if (errno != ENOENT)
				return (-1);
			/* closed and re-opened behind our back: start afresh */
			reg_del(ev, fd);
			return (ev_add_fd(ev, fd, events, cb, ctx));
		}
		r->events = events;
	} else if ((r = reg_add(ev, fd, K_USER, events)) == NULL)
		return (-1);
	r->cb = cb;
	r->ctx = ctx;
	return (0);
}

/*
 * ev_del_fd - stop watching the caller's fd; a pending event for it in the
 * current dispatch round is dropped.  -1 with ENOENT if fd is not watched.
 */
int
ev_del_fd(struct ev *ev, int fd)
{
	struct reg *r;

	if (ev == NULL) {
		errno = EINVAL;
		return (-1);
	}
	if ((r = reg_find(ev, fd)) == NULL || r->kind != K_USER) {
		errno = ENOENT;
		return (-1);
	}
	reg_del(ev, fd);
	return (0);
}

/* timer_find - the live timer id, or NULL */
static struct timer *
timer_find(struct ev *ev, int id)
{
	if (ev == NULL || id < 0 || (size_t)id >= ev->ntimers || ev->timers[id].fd < 0)
		return (NULL);
	return (&ev->timers[id]);
}

/* timer_arm - start t's timerfd: first expiry after ms, then its period */
static int
timer_arm(struct timer *t, uint64_t ms)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = (time_t)(ms / 1000);
	its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
	if (ms == 0)
		its.it_value.tv_nsec = 1; /* 0 would disarm: fire at once */
	if (t->periodic) {
		its.it_interval.tv_sec = (time_t)(t->ms / 1000);
		its.it_interval.tv_nsec = (long)(t->ms % 1000) * 1000000L;
	}
	return (timerfd_settime(t->fd, 0, &its, NULL));
}

/*
 * ev_add_timer - run cb after ms milliseconds (0: on the next round), and
 * then every ms if periodic (a periodic timer needs ms > 0).  Returns the
 * lowest free timer id, or -1 with errno set.
 */
int
ev_add_timer(struct ev *ev, uint64_t ms, int periodic, ev_timer_fn cb, void *ctx)
{
	struct timer *t;
	struct reg *r;
	size_t id, n;
	int fd;

	if (ev == NULL || cb == NULL || (periodic && ms == 0)) {
		errno = EINVAL;
		return (-1);
	}
	for (id = 0; id < ev->ntimers; id++)
		if (ev->timers[id].fd < 0)
			break;
	if (id == ev->ntimers) {
		n = ev->ntimers ? ev->ntimers * 2 : 8;
		if (n > (size_t)1 << 20) {
			errno = ENOMEM;
			return (-1);
		}
		if ((t = realloc(ev->timers, n * sizeof(*t))) == NULL)
			return (-1);
		for (; ev->ntimers < n; ev->ntimers++)
			t[ev->ntimers].fd = -1;
		ev->timers = t;
	}
	if ((fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK)) < 0)
		return (-1);
	t = &ev->timers[id];
	memset(t, 0, sizeof(*t));
	t->fd = fd;
	t->periodic = periodic != 0;
	t->ms = ms;
	t->cb = cb;
	t->ctx = ctx;
	if ((r = reg_add(ev, fd, K_TIMER, EV_READ)) == NULL)
		goto fail;
	r->timer = (int)id;
	t->gen = r->gen;
	if (timer_arm(t, ms) < 0) {
		reg_del(ev, fd);
		goto fail;
	}
	return ((int)id);

fail : {
	int saved = errno;

	(void)close(fd);
	t->fd = -1;
	errno = saved;
}
	return (-1);
}

/*
 * ev_reset_timer - re-arm timer id to fire after ms (0: on the next round);
 * a periodic timer then keeps its period.  An expiry not yet dispatched is
 * forgotten.  Works on a one-shot timer from inside its own callback, which
 * keeps it alive.  -1 with EINVAL for an unknown id.
 */
int
ev_reset_timer(struct ev *ev, int id, uint64_t ms)
{
	struct timer *t;

	if ((t = timer_find(ev, id)) == NULL) {
		errno = EINVAL;
		return (-1);
	}
	if (timer_arm(t, ms) < 0)
		return (-1);
	t->rearmed = 1;
	return (0);
}

/*
 * ev_del_timer - stop timer id and free the id for re-use; a pending expiry
 * in the current round is dropped.  -1 with EINVAL for an unknown id.
 */
int
ev_del_timer(struct ev *ev, int id)
{
	struct timer *t;

	if ((t = timer_find(ev, id)) == NULL) {
		errno = EINVAL;
		return (-1);
	}
	reg_del(ev, t->fd);
	(void)close(t->fd);
	t->fd = -1;
	t->cb = NULL;
	return (0);
}

/*
 * ev_add_signal - block signo and deliver it through the loop's signalfd;
 * registering it again replaces the callback.  SIGKILL and SIGSTOP cannot
 * be caught (EINVAL).  Standard signals coalesce while pending: a SIGCHLD
 * callback must reap every exited child (waitpid with WNOHANG in a loop).
 */
int
ev_add_signal(struct ev *ev, int signo, ev_signal_fn cb, void *ctx)
{
	sigset_t one, old, mask;
	int fd, we_blocked;

	if (ev == NULL || cb == NULL || signo <= 0 || signo >= NSIG || signo == SIGKILL ||
	    signo == SIGSTOP) {
		errno = EINVAL;
		return (-1);
	}
	if (sigismember(&ev->sigmask, signo) == 1) {
		ev->sigs[signo].cb = cb;
		ev->sigs[signo].ctx = ctx;
		return (0);
	}
	sigemptyset(&one);
	if (sigaddset(&one, signo) < 0 || sigprocmask(SIG_BLOCK, &one, &old) < 0)
		return (-1);
	we_blocked = sigismember(&old, signo) == 0;
	mask = ev->sigmask;
	sigaddset(&mask, signo);
	if (ev->sigfd < 0) {
		fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
		if (fd < 0)
			goto fail;
		if (reg_add(ev, fd, K_SIGNAL, EV_READ) == NULL) {
			int saved = errno;

			(void)close(fd);
			errno = saved;
			goto fail;
		}
		ev->sigfd = fd;
	} else if (signalfd(ev->sigfd, &mask, 0) < 0)
		goto fail;
	ev->sigmask = mask;
	if (we_blocked)
		sigaddset(&ev->blocked, signo);
	ev->sigs[signo].cb = cb;
	ev->sigs[signo].ctx = ctx;
	return (0);

fail:
	if (we_blocked) {
		int saved = errno;

		(void)sigprocmask(SIG_UNBLOCK, &one, NULL);
		errno = saved;
	}
	return (-1);
}

/*
 * run_timer - a timerfd is readable: take the expiration count, then call
 * the timer's callback once.  A zero count (the timer was reset after
 * epoll reported it) calls nothing.  A one-shot timer that its callback
 * neither re-armed nor deleted is deleted afterwards.
 */
static void
run_timer(struct ev *ev, int id)
{
	struct timer *t = &ev->timers[id];
	uint64_t count;
	uint32_t gen;
	ssize_t n;

	n = read(t->fd, &count, sizeof(count));
	if (n != (ssize_t)sizeof(count) || count == 0)
		return;
	gen = t->gen;
	t->rearmed = 0;
	t->cb(ev, id, t->ctx);
	/* the callback may have grown (moved) the table or freed the id */
	t = timer_find(ev, id);
	if (t != NULL && t->gen == gen && !t->periodic && !t->rearmed)
		(void)ev_del_timer(ev, id);
}

/*
 * run_signals - drain every pending signalfd record and call the callback
 * of each signal still registered.
 */
static void
run_signals(struct ev *ev)
{
	struct signalfd_siginfo si;
	struct sig *s;
	ssize_t n;

	while (ev->sigfd >= 0) {
		n = read(ev->sigfd, &si, sizeof(si));
		if (n != (ssize_t)sizeof(si))
			break; /* EAGAIN: drained */
		if (si.ssi_signo == 0 || si.ssi_signo >= (uint32_t)NSIG)
			continue;
		s = &ev->sigs[si.ssi_signo];
		if (s->cb != NULL)
			s->cb(ev, (int)si.ssi_signo, s->ctx);
	}
}

/*
 * dispatch - one event from epoll_wait.  The registration is looked up
 * afresh: an event whose registration was deleted or replaced earlier in
 * this round no longer matches its generation and is dropped.
 */
static void
dispatch(struct ev *ev, const struct epoll_event *ee)
{
	int fd = (int)(uint32_t)ee->data.u64;
	uint32_t gen = (uint32_t)(ee->data.u64 >> 32);
	struct reg *r;
	int events = 0;

	if ((r = reg_find(ev, fd)) == NULL || r->gen != gen)
		return;
	switch (r->kind) {
	case K_USER:
		if (ee->events & EPOLLIN)
			events |= EV_READ;
		if (ee->events & EPOLLOUT)
			events |= EV_WRITE;
		events &= r->events;
		/* an error or hang-up is reported as EV_READ, and to a writer */
		if (ee->events & (EPOLLERR | EPOLLHUP))
			events |= EV_READ | (r->events & EV_WRITE);
		if (events != 0)
			r->cb(ev, fd, events, r->ctx);
		break;
	case K_TIMER:
		run_timer(ev, r->timer);
		break;
	case K_SIGNAL:
		run_signals(ev);
		break;
	case K_FREE:
		break;
	}
}

/*
 * ev_run - wait in epoll_wait with no timeout and dispatch each ready
 * registration, until a callback calls ev_stop (the round in progress is
 * finished first) or nothing is registered any more.  Returns 0, or -1
 * with errno set if epoll_wait fails (EINTR is retried) or if called from
 * a callback (EBUSY).
 */
int
ev_run(struct ev *ev)
{
	int i, n, rc = 0;

	if (ev == NULL) {
		errno = EINVAL;
		return (-1);
	}
	if (ev->running) {
		errno = EBUSY;
		return (-1);
	}
	ev->running = 1;
	while (!ev->stop && ev->nreg > 0) {
		n = epoll_wait(ev->epfd, ev->evs, EV_MAXEVENTS, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -1;
			break;
		}
		for (i = 0; i < n; i++)
			dispatch(ev, &ev->evs[i]);
	}
	ev->stop = 0;
	ev->running = 0;
	return (rc);
}

/* ev_stop - make ev_run return once the current dispatch round is done */
void
ev_stop(struct ev *ev)
{
	if (ev != NULL)
		ev->stop = 1;
}
