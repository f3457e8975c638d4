/*
 * NAME
 *	store_bulk.h - what a bulk load and the daemon's batches keep in
 *	memory (private to store/store_bulk.c)
 * SUMMARY
 *	struct bulk_load: the messages kept back of a batch (struct
 *	bulk_msg, oldest first and by key), the writes queued for the writer
 *	thread (struct bulk_op) and the thread's state.  See store_bulk.c.
 * UNTRUSTED INPUT
 *	None here: see store_bulk.c.
 */
#ifndef SG_STORE_BULK_H
#define SG_STORE_BULK_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store_priv.h"

#define BULK_PEND_MAX 4096 /* messages kept back at most */
#define BULK_KEY_MAX 768   /* host, instance, queue ID and their NULs */
#define BULK_OPS_MAX 65536 /* writes queued in a batch at most */

/* One write queued while the writer thread has the connection: a statement and its values. */
struct bulk_op {
	struct bulk_op *next;
	enum store_st which;
	size_t nv;
	struct store_val v[]; /* then the bytes of the text and blob values */
};

/* One message kept back: its row as it will be written. */
struct bulk_msg {
	struct bulk_msg *prev, *next; /* kept back, oldest first */
	struct store_msg m;           /* strings in data */
	int64_t n[3];                 /* delivered, deferred, bounced (enum store_status) */
	int64_t id;
	uint64_t h;  /* hmap_hash() of the key, */
	size_t klen; /* data[0..klen) (the index keeps a pointer to it) */
	char data[]; /* host\0instance\0queue_id\0, sasl\0, sender\0, client_ip\0 */
};

/* What a bulk load keeps back. */
struct bulk_load {
	struct hmap *ix; /* key (host\0instance\0queue_id) -> struct bulk_msg */
	struct bulk_msg *head, *tail;
	size_t n;
	int64_t next_id; /* the id of the next message; 0: to be read from the file */
	int64_t max_us;  /* the newest time of a message written (INT64_MIN: none) */
	int keep;        /* the daemon's (store_bulk_keep): indexes kept, a writer when behind */
	int max_known;   /* keep: max_us read from the file in this batch */
	int carried;     /* keep: next_id and max_us carried over from a batch handed over */
	int behind;      /* keep: this commit goes to the writer (store_commit_behind) */
	/* the batch, as the parsing thread sees it */
	int in_batch;                /* store_begin() was called, store_commit() not yet */
	int deferred;                /* its BEGIN and its writes (ops) wait for a commit */
	int handed;                  /* a commit is with the writer */
	struct bulk_op *ops, **opt;  /* the batch's writes */
	struct bulk_op *pre, **pret; /* writes outside a batch, after the commit handed */
	size_t nops;
	/* the writer thread */
	int thread; /* started */
	pthread_t tid;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct bulk_job {
		struct bulk_op *pre;   /* first these, each its own transaction */
		int begin;             /* then BEGIN */
		struct bulk_op *ops;   /* in their order */
		struct bulk_msg *held; /* then these, oldest first, and COMMIT */
		int index;             /* none of those: make the indexes (store_bulk_index) */
		int behind;            /* the daemon's commit behind: hook before the COMMIT */
	} job;
	void (*hook)(void *); /* store_commit_hook() */
	void *hook_ctx;
	int busy, stop, wfailed; /* under mu */
	int indexed;             /* set under mu: the writer made the indexes */
	char werr[512];          /* written by the writer when it sets wfailed */
	int failed;              /* the parsing thread's copy of wfailed, and its error: */
	char ferr[512];
};

#endif
