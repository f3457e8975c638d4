/*
 * NAME
 *	store_ckpt - the WAL's checkpoints on a thread of their own
 * SUMMARY
 *	Exports store_ckpt_thread() and store_ckpt_count() of store.h and,
 *	to store.c (store_priv.h), store_ckpt_stop().
 *
 *	SQLite copies the WAL back into the database (with an
 *	fsync of each) at the first commit after the WAL holds 1,000 pages:
 *	the committing thread waits for it, 10 to 60 ms at a daemon's pace.
 *	store_ckpt_thread() moves that onto a thread with a connection of
 *	its own: a WAL hook (after every commit) wakes it at every
 *	CKPT_PAGES new pages and it runs a PASSIVE checkpoint, which never
 *	blocks the writer nor waits for it; the writer restarts the WAL at
 *	its next transaction once everything was copied.  Should the WAL
 *	still reach CKPT_HARD_PAGES (the thread cannot keep up, or a
 *	reader holds old pages), the committer checkpoints itself, as
 *	without the thread, so the WAL stays bounded.  Durability is
 *	unchanged: a commit is in the WAL either way, and a checkpoint cut
 *	short by a crash is done again from the WAL at the next open.
 * RETURNS
 *	0, or -1 with "path: checkpoint thread: why" in the caller's err
 *	buffer.  Never prints, never exits.
 * UNTRUSTED INPUT
 *	None: no log text reaches this file.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/store_priv.h"

#define CKPT_PAGES 4000       /* new WAL pages that wake the thread (16 MiB) */
#define CKPT_HARD_PAGES 20000 /* a WAL this long: the committer checkpoints too */

struct store_ckpt {
	sqlite3 *db; /* the thread's own connection */
	pthread_t tid;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int want, running, stop; /* under mu */
	long done;               /* checkpoints the thread ran, under mu */
	long seen;               /* the last of them the committer finished */
	int last;                /* WAL pages at the last wake (the committer's thread only) */
};

/* ckpt_main - the thread: a PASSIVE checkpoint each time it is woken */
static void *
ckpt_main(void *arg)
{
	struct store_ckpt *c = arg;

	(void)pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->want && !c->stop)
			(void)pthread_cond_wait(&c->cv, &c->mu);
		if (c->stop)
			break;
		c->want = 0;
		c->running = 1;
		(void)pthread_mutex_unlock(&c->mu);
		(void)sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		(void)pthread_mutex_lock(&c->mu);
		c->running = 0;
		c->done++;
	}
	(void)pthread_mutex_unlock(&c->mu);
	return NULL;
}

/*
 * ckpt_hook - SQLite's WAL hook, after every commit of the store's own
 * connection, with the pages the WAL holds (fewer than last time: the
 * WAL was restarted).  The WAL is restarted only by a transaction that
 * begins when every page of it was copied, and the daemon begins its
 * next batch right after a commit, while the thread is still copying: so
 * once the thread is done, this thread copies the few pages committed
 * since (no waiting for the long fsync of the whole WAL) and the next
 * batch restarts the WAL.  Else the thread is woken at every CKPT_PAGES
 * new pages.
 */
static int
ckpt_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct store_ckpt *c = arg;
	long done;
	int idle;

	if (pages < c->last)
		c->last = 0;
	(void)pthread_mutex_lock(&c->mu);
	idle = !c->want && !c->running;
	done = c->done;
	(void)pthread_mutex_unlock(&c->mu);
	if (idle && done != c->seen) {
		c->seen = done;
		(void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		return SQLITE_OK;
	}
	if (pages - c->last < CKPT_PAGES)
		return SQLITE_OK;
	c->last = pages;
	if (pages >= CKPT_HARD_PAGES) {
		(void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		return SQLITE_OK;
	}
	(void)pthread_mutex_lock(&c->mu);
	c->want = 1;
	(void)pthread_cond_signal(&c->cv);
	(void)pthread_mutex_unlock(&c->mu);
	return SQLITE_OK;
}

/* store_ckpt_stop - end the thread, close its connection, give the checkpoints back to SQLite */
void
store_ckpt_stop(struct store *s)
{
	struct store_ckpt *c = s->ckpt;

	if (c == NULL)
		return;
	(void)pthread_mutex_lock(&c->mu);
	c->stop = 1;
	(void)pthread_cond_signal(&c->cv);
	(void)pthread_mutex_unlock(&c->mu);
	(void)pthread_join(c->tid, NULL);
	(void)sqlite3_wal_autocheckpoint(s->db, CKPT_PAGES); /* the hook goes with it */
	(void)sqlite3_close(c->db);
	(void)pthread_cond_destroy(&c->cv);
	(void)pthread_mutex_destroy(&c->mu);
	free(c);
	s->ckpt = NULL;
}

/* store_ckpt_thread - see store.h and the header */
int
store_ckpt_thread(struct store *s, char *err, size_t errlen)
{
	struct store_ckpt *c;
	sigset_t all, was;
	int rc;

	if (s->memory || s->readonly || s->ckpt != NULL)
		return store_seterr(err, errlen,
		    "%s: checkpoint thread: not a file open for writing", s->path);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return store_seterr(err, errlen, "%s: checkpoint thread: %s", s->path,
		    strerror(errno));
	rc = sqlite3_open_v2(s->fpath, &c->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK) {
		/* a first read opens the WAL: a checkpoint before it does nothing */
		(void)sqlite3_busy_timeout(c->db, STORE_BUSY_MS);
		rc = sqlite3_exec(c->db, "PRAGMA schema_version", NULL, NULL, NULL);
	}
	if (rc != SQLITE_OK) {
		(void)store_seterr(err, errlen, "%s: checkpoint thread: %s", s->path,
		    c->db != NULL ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		(void)sqlite3_close(c->db);
		free(c);
		return -1;
	}
	(void)pthread_mutex_init(&c->mu, NULL);
	(void)pthread_cond_init(&c->cv, NULL);
	/* the thread takes no signal: they stay the caller's (the daemon's signalfd) */
	(void)sigfillset(&all);
	(void)pthread_sigmask(SIG_SETMASK, &all, &was);
	rc = pthread_create(&c->tid, NULL, ckpt_main, c);
	(void)pthread_sigmask(SIG_SETMASK, &was, NULL);
	if (rc != 0) {
		(void)sqlite3_close(c->db);
		(void)pthread_cond_destroy(&c->cv);
		(void)pthread_mutex_destroy(&c->mu);
		free(c);
		return store_seterr(err, errlen, "%s: checkpoint thread: %s", s->path,
		    strerror(rc));
	}
	s->ckpt = c;
	(void)sqlite3_wal_hook(s->db, ckpt_hook, c); /* instead of SQLite's autocheckpoint */
	return 0;
}

/* store_ckpt_count - checkpoints the thread has run */
long
store_ckpt_count(const struct store *s)
{
	long n;

	if (s->ckpt == NULL)
		return 0;
	(void)pthread_mutex_lock(&s->ckpt->mu);
	n = s->ckpt->done;
	(void)pthread_mutex_unlock(&s->ckpt->mu);
	return n;
}
