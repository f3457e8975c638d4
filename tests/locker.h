/*
 * locker.h - another process holding a state database's write lock, for
 * the tests of a busy database (a backup, sqlite3 by hand), header-only:
 * sg_locker_start() forks a child that opens the database, begins a write
 * transaction and waits; sg_locker_stop() lets it roll back and reaps it.
 * Nothing here asserts: the functions return what happened.
 */
#ifndef SG_TEST_LOCKER_H
#define SG_TEST_LOCKER_H

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"

/* A child holding a write lock, and the pipe that lets it go. */
struct sg_locker {
	pid_t pid;
	int go; /* write end: a byte, or its close, lets the child go */
};

/* sg_locker_start - a child holding path's write lock once this returns; 0, or -1 */
static inline int
sg_locker_start(struct sg_locker *l, const char *path)
{
	int go[2], ready[2];
	char c;

	l->pid = -1;
	l->go = -1;
	if (pipe(go) < 0)
		return (-1);
	if (pipe(ready) < 0) {
		close(go[0]);
		close(go[1]);
		return (-1);
	}
	if ((l->pid = fork()) == 0) {
		struct store *o = NULL;
		char err[512];

		close(go[1]);
		close(ready[0]);
		if (store_open(&o, path, 0, err, sizeof(err)) < 0 ||
		    store_begin(o, err, sizeof(err)) < 0)
			_exit(1);
		(void)!write(ready[1], "r", 1);
		(void)!read(go[0], &c, 1);
		store_rollback(o);
		store_close(o);
		_exit(0);
	}
	close(go[0]);
	close(ready[1]);
	l->go = go[1];
	if (l->pid < 0 || read(ready[0], &c, 1) != 1) { /* the child failed to take it */
		close(ready[0]);
		return (-1);
	}
	close(ready[0]);
	return (0);
}

/* sg_locker_stop - let the child roll back, and reap it; its exit status, or -1 */
static inline int
sg_locker_stop(struct sg_locker *l)
{
	int st;

	if (l->go >= 0) {
		(void)!write(l->go, "g", 1);
		close(l->go);
		l->go = -1;
	}
	if (l->pid <= 0 || waitpid(l->pid, &st, 0) != l->pid)
		return (-1);
	l->pid = -1;
	return (WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

#endif
