/*
 * NAME
 *	ev - the daemon's event loop: one epoll over file descriptors,
 *	timers (timerfd) and signals (signalfd)
 * SUMMARY
 *	A small loop in the manner of Redis's ae: register callbacks on file
 *	descriptors, one-shot or periodic timers, and signals; ev_run() waits
 *	and dispatches until ev_stop().  No polling: an idle loop sleeps in
 *	epoll_wait with no timeout.
 *	Ownership: the loop never closes a descriptor it did not create
 *	(ev_del_fd only unregisters); timers and the signalfd are the loop's.
 *	Callbacks may add and delete fds and timers, including their own.
 * RETURNS
 *	0 / -1 with errno set; the library never prints or exits.
 */
#ifndef SG_EV_H
#define SG_EV_H

#include <stdint.h>

#define EV_READ 0x01
#define EV_WRITE 0x02

struct ev;

/* fd callback: events is EV_READ|EV_WRITE (errors and hang-ups come as EV_READ) */
typedef void (*ev_fd_fn)(struct ev *, int fd, int events, void *ctx);
/* timer callback: a periodic timer keeps running until ev_del_timer */
typedef void (*ev_timer_fn)(struct ev *, int id, void *ctx);
/* signal callback, run from the loop (not in signal context) */
typedef void (*ev_signal_fn)(struct ev *, int signo, void *ctx);

struct ev *ev_new(void);
void ev_free(struct ev *);

/* ev_add_fd - watch fd for events (EV_READ and/or EV_WRITE); re-adding modifies */
int ev_add_fd(struct ev *, int fd, int events, ev_fd_fn cb, void *ctx);
int ev_del_fd(struct ev *, int fd);

/*
 * ev_add_timer - run cb after ms milliseconds, then every ms if periodic.
 * Returns a timer id >= 0, or -1.
 */
int ev_add_timer(struct ev *, uint64_t ms, int periodic, ev_timer_fn cb, void *ctx);
/* ev_reset_timer - re-arm timer id to fire after ms (periodic keeps its period) */
int ev_reset_timer(struct ev *, int id, uint64_t ms);
int ev_del_timer(struct ev *, int id);

/*
 * ev_add_signal - block signo and deliver it through the loop's signalfd.
 * SIGCHLD may be registered too.
 */
int ev_add_signal(struct ev *, int signo, ev_signal_fn cb, void *ctx);

/* ev_run - dispatch until ev_stop(); 0, or -1 if epoll fails */
int ev_run(struct ev *);
void ev_stop(struct ev *);

#endif
