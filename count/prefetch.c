/*
 * NAME
 *	prefetch - read and parse a source's lines on a thread of their own
 * SUMMARY
 *	See prefetch.h.  The reader thread fills batch[head % NBATCH] and
 *	publishes it by moving head under the mutex; prefetch_next() takes
 *	batch[tail % NBATCH] and gives it back (tail moves) on its next call.
 *	A batch is owned by exactly one thread at a time: the reader's from
 *	head's slot until head moves past it, the caller's until tail does.
 *	The last batch carries the source's answer (0 end, -1 error with its
 *	message), after which the thread ends; the caller keeps taking that
 *	batch's answer.
 *	A source's lines stay in the windows lent to it (lend_window): wseq
 *	marks each window with the last batch that has lines in it, and a
 *	window goes out again once tail is past that batch; until then the
 *	reader waits, as for a free slot.  Measured on the 1M-line bench log
 *	against the copy into the batch (bench/RESULTS.md, branch i12r).
 * RETURNS
 *	See prefetch.h; never prints, never exits.
 * UNTRUSTED INPUT
 *	The lines: each at most SOURCE_LINE_MAX bytes (the source cuts
 *	them, and a feed's are cut there), with their length; a feed's copied
 *	into its batch's text.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hmap.h"
#include "count/pipeline.h"
#include "count/prefetch.h"
#include "count/track.h"

/* a parsed batch goes out early, when the caller waits for it, once it has this many lines */
#define PREFETCH_EARLY 64

/* a line always fits an empty batch: fill_batch() never hands out an empty one before the end */
_Static_assert(SOURCE_LINE_MAX <= PREFETCH_TEXT, "a line must fit a batch");
/* lend_window leaves out at most three windows: the batch being filled's two, the source's */
_Static_assert(PREFETCH_NWIN >= 4, "a window to lend is always there");

/* One batch of lines on its way from the reader thread to the caller. */
struct batch {
	char *text;  /* PREFETCH_TEXT bytes: tracker keys, and a feed's lines' copies before them */
	char *marks; /* a feed's: PREFETCH_LINES marks of mark_size bytes */
	struct prefetch_line lines[PREFETCH_LINES];
	size_t n;
	int parsed;   /* the lines' events hold their parse */
	int r;        /* 1 more follow, 0 the end of the input, -1 an error (err) */
	uint64_t pos; /* the source's pos after the batch */
	char err[512];
};

struct prefetch {
	struct source *src;       /* the lines' source, or */
	prefetch_feed_fn feed;    /* a feed of them, with */
	void *fctx;               /* its context, */
	size_t mark_size;         /* its lines' marks' size and */
	size_t line_max;          /* their longest */
	struct pf_parser *parser; /* the thread's own */
	pthread_t tid;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct batch *b[PREFETCH_NBATCH];
	char *win[PREFETCH_NWIN]; /* a source's window buffers, lent to it (source_lend) */
	unsigned
	    wseq[PREFETCH_NWIN]; /* 1 + the last batch with lines in each (head's count), 0 none */
	unsigned next_win;       /* the window lent next, unless its lines are still out */
	int cur_win;             /* the window the source reads into now, -1 its own */
	int moved;               /* the source took a window since fill_batch() looked */
	unsigned head, tail;     /* batches filled, batches given back */
	int taken;               /* the caller holds batch[tail % NBATCH] */
	int stop;                /* prefetch_stop() asks the thread to end */
	int done;                /* the thread has published its last batch */
	int starved;             /* the caller waited for a batch since the reader began one */
	atomic_int waiting;      /* the caller waits for a batch now (set under mu, read without) */
	enum prefetch_split split;
};

/* The batch a feed fills (prefetch_put). */
struct prefetch_sink {
	struct prefetch *pf;
	struct batch *b;
	size_t used; /* bytes of b->text taken */
	int full;    /* the last line filled it */
};

/*
 * take_line - line into b, parsed when b->parsed (with its tracker key);
 * its entry.  A source's line stays where it is (the window lent to the
 * source: lend_window), a feed's is copied to b->text at *used (its
 * buffer is the feed's); the keys go to b->text after the copies.
 */
static struct prefetch_line *
take_line(struct prefetch *pf, struct batch *b, const char *line, size_t len, size_t *used)
{
	struct prefetch_line *l = &b->lines[b->n++];
	char kbuf[TRACK_KEY_MAX], *kp;
	size_t kn;

	if (pf->feed != NULL) {
		memcpy(b->text + *used, line, len);
		line = b->text + *used;
		*used += len;
	}
	l->line = line;
	l->len = len;
	l->mark = NULL;
	if (!b->parsed)
		return (l);
	(void)pf_parse(pf->parser, l->line, len, &l->ev);
	/* the tracker's key and its hash, made here: the key in the text when it fits */
	kp = PREFETCH_TEXT - *used >= TRACK_KEY_MAX ? b->text + *used : kbuf;
	if ((kn = track_key(&l->ev, kp, TRACK_KEY_MAX)) > 0) {
		l->ev.hint = hmap_hash(kp, kn);
		if (kp != kbuf) {
			l->ev.hint_key = kp;
			l->ev.hint_kn = kn;
			*used += kn;
		}
	}
	return (l);
}

/*
 * lend_window - the source's next window (source_lend), on the reader
 * thread: the next in turn that is neither the one it reads into nor one
 * of the batch being filled (batch number head, which has lines in two
 * windows at most: fill_batch), once the batches with lines in it are all
 * given back (tail past them; or prefetch_stop() asks, when no line is
 * read again)
 */
static char *
lend_window(void *ctx)
{
	struct prefetch *pf = ctx;
	int w;

	pthread_mutex_lock(&pf->mu);
	do
		w = (int)(pf->next_win++ % PREFETCH_NWIN);
	while (w == pf->cur_win || pf->wseq[w] == pf->head + 1);
	while ((int)(pf->wseq[w] - pf->tail) > 0 && !pf->stop)
		pthread_cond_wait(&pf->cv, &pf->mu);
	pthread_mutex_unlock(&pf->mu);
	pf->cur_win = w;
	pf->moved = 1;
	return (pf->win[w]);
}

/*
 * fill_batch - lines from the source into b until it is full, the end,
 * an error, or the source moving to a third window (a batch's lines are
 * in two windows at most, marked with its number in wseq).  The line
 * that does not go in waits in *pend_line for the next batch: it stays in
 * the window (see lend_window).
 */
static void
fill_batch(struct prefetch *pf, struct batch *b, const char **pend_line, size_t *pend_len)
{
	const char *line;
	size_t len, used = 0;
	int r, moves = 0;

	for (;;) {
		if (*pend_line != NULL) {
			line = *pend_line;
			len = *pend_len;
			*pend_line = NULL;
		} else {
			pf->moved = 0;
			if ((r = source_next(pf->src, &line, &len, b->err, sizeof(b->err))) <= 0) {
				b->r = r;
				break;
			}
		}
		if (pf->moved && b->n > 0)
			moves++;
		if (b->n == PREFETCH_LINES || moves > 1) {
			*pend_line = line; /* the first of the next batch */
			*pend_len = len;
			break;
		}
		/* the line's window waits for the batch */
		if (pf->cur_win >= 0)
			pf->wseq[pf->cur_win] = pf->head + 1;
		(void)take_line(pf, b, line, len, &used);
		if (b->parsed && b->n >= PREFETCH_EARLY &&
		    atomic_load_explicit(&pf->waiting, memory_order_relaxed))
			break; /* the caller waits: the lines parsed so far go now */
	}
	b->pos = source_info(pf->src)->pos;
}

/* prefetch_put - see prefetch.h */
int
prefetch_put(struct prefetch_sink *k, const char *line, size_t len, const void *mark)
{
	struct prefetch *pf = k->pf;
	struct batch *b = k->b;
	struct prefetch_line *l;
	char *m = b->marks + b->n * pf->mark_size;

	if (len > pf->line_max) /* not within the feed's word: cut rather than overrun */
		len = pf->line_max;
	l = take_line(pf, b, line, len, &k->used);
	memcpy(m, mark, pf->mark_size);
	l->mark = m;
	/* full: no room left for another line of line_max bytes and its key */
	k->full = b->n == PREFETCH_LINES || PREFETCH_TEXT - k->used < pf->line_max + TRACK_KEY_MAX;
	return (k->full);
}

/* feed_batch - one batch from the feed: full (more follow), else the last */
static void
feed_batch(struct prefetch *pf, struct batch *b)
{
	struct prefetch_sink k = { pf, b, 0, 0 };
	long r = pf->feed(pf->fctx, &k, b->err, sizeof(b->err));

	b->r = r < 0 ? -1 : k.full;
	b->pos = 0;
}

/* reader_main - the reader thread: batches into free slots until the end, an error or stop */
static void *
reader_main(void *arg)
{
	struct prefetch *pf = arg;
	const char *pend_line = NULL;
	size_t pend_len = 0;
	struct batch *b;
	int last, parse;

	for (;;) {
		pthread_mutex_lock(&pf->mu);
		while (pf->head - pf->tail == PREFETCH_NBATCH && !pf->stop)
			pthread_cond_wait(&pf->cv, &pf->mu);
		if (pf->stop) {
			pthread_mutex_unlock(&pf->mu);
			return (NULL);
		}
		b = pf->b[pf->head % PREFETCH_NBATCH];
		/* the caller waited on us: this batch's parsing is its to do */
		parse = pf->split == PREFETCH_PARSE_ALL ||
		    (pf->split == PREFETCH_BALANCE && !pf->starved);
		pf->starved = 0;
		pthread_mutex_unlock(&pf->mu);
		b->n = 0;
		b->r = 1;
		b->parsed = parse;
		if (pf->feed != NULL)
			feed_batch(pf, b);
		else
			fill_batch(pf, b, &pend_line, &pend_len);
		last = b->r <= 0;
		pthread_mutex_lock(&pf->mu);
		pf->head++;
		pf->done = last;
		pthread_cond_broadcast(&pf->cv);
		pthread_mutex_unlock(&pf->mu);
		if (last)
			return (NULL);
	}
}

/* ring_free - the batches and the parser (the thread is not running) */
static void
ring_free(struct prefetch *pf)
{
	int i;

	for (i = 0; i < PREFETCH_NBATCH; i++)
		if (pf->b[i] != NULL) {
			free(pf->b[i]->text);
			free(pf->b[i]->marks);
			free(pf->b[i]);
		}
	for (i = 0; i < PREFETCH_NWIN; i++)
		free(pf->win[i]);
	if (pf->parser != NULL)
		pf_parser_free(pf->parser);
	free(pf);
}

/* start - the ring, the parser and the thread of pf (its input set); see prefetch.h */
static int
start(struct prefetch *pf, struct prefetch **out, char *err, size_t errlen)
{
	int i;

	for (i = 0; i < PREFETCH_NBATCH; i++)
		if ((pf->b[i] = calloc(1, sizeof(*pf->b[i]))) == NULL ||
		    (pf->b[i]->text = malloc(PREFETCH_TEXT)) == NULL ||
		    (pf->feed != NULL &&
			(pf->b[i]->marks = malloc(PREFETCH_LINES * pf->mark_size)) == NULL))
			goto oom;
	for (i = 0; i < PREFETCH_NWIN && pf->src != NULL; i++)
		if ((pf->win[i] = malloc(SOURCE_WIN_SIZE)) == NULL)
			goto oom;
	pf->cur_win = -1;
	if ((pf->parser = pipeline_parser_new(err, errlen)) == NULL) {
		ring_free(pf);
		return (-1);
	}
	if (pthread_mutex_init(&pf->mu, NULL) != 0)
		goto nothread;
	if (pthread_cond_init(&pf->cv, NULL) != 0) {
		pthread_mutex_destroy(&pf->mu);
		goto nothread;
	}
	(void)hmap_hash("", 0); /* the process's hash key, drawn before two threads may hash */
	if (pf->src != NULL)
		source_lend(pf->src, lend_window, pf); /* a batch's lines stay in its window */
	if (pthread_create(&pf->tid, NULL, reader_main, pf) != 0) {
		if (pf->src != NULL)
			source_lend(pf->src, NULL, NULL);
		pthread_cond_destroy(&pf->cv);
		pthread_mutex_destroy(&pf->mu);
		goto nothread;
	}
	*out = pf;
	return (0);
nothread:
	snprintf(err, errlen, "cannot start the reader thread");
	ring_free(pf);
	return (-1);
oom:
	snprintf(err, errlen, "out of memory");
	ring_free(pf);
	return (-1);
}

/* prefetch_start - see prefetch.h */
int
prefetch_start(struct prefetch **out, struct source *src, enum prefetch_split split, char *err,
    size_t errlen)
{
	struct prefetch *pf;

	*out = NULL;
	if ((pf = calloc(1, sizeof(*pf))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	pf->src = src;
	pf->split = split;
	return (start(pf, out, err, errlen));
}

/* prefetch_start_feed - see prefetch.h */
int
prefetch_start_feed(struct prefetch **out, prefetch_feed_fn feed, void *fctx, size_t mark_size,
    enum prefetch_split split, char *err, size_t errlen)
{
	struct prefetch *pf;

	*out = NULL;
	if (mark_size == 0 || mark_size > PREFETCH_MARK_MAX) {
		snprintf(err, errlen, "prefetch: a mark of %zu bytes", mark_size);
		return (-1);
	}
	if ((pf = calloc(1, sizeof(*pf))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	pf->feed = feed;
	pf->fctx = fctx;
	pf->mark_size = mark_size;
	pf->line_max = SOURCE_LINE_MAX;
	pf->split = split;
	return (start(pf, out, err, errlen));
}

/* prefetch_next - give back the batch taken last, take the next; see prefetch.h */
int
prefetch_next(struct prefetch *pf, const struct prefetch_line **lines, size_t *n, int *parsed,
    uint64_t *pos, char *err, size_t errlen)
{
	struct batch *b;

	pthread_mutex_lock(&pf->mu);
	if (pf->taken) {
		b = pf->b[pf->tail % PREFETCH_NBATCH];
		if (b->r <= 0 && b->n == 0) { /* the last answer: it stays */
			pthread_mutex_unlock(&pf->mu);
			goto answer;
		}
		if (b->r <= 0) { /* its lines are done: its answer comes next */
			b->n = 0;
			pthread_mutex_unlock(&pf->mu);
			goto answer;
		}
		pf->tail++;
		pf->taken = 0;
		pthread_cond_broadcast(&pf->cv);
	}
	if (pf->head == pf->tail) {
		pf->starved = 1;
		atomic_store_explicit(&pf->waiting, 1, memory_order_relaxed);
		while (pf->head == pf->tail)
			pthread_cond_wait(&pf->cv, &pf->mu);
		atomic_store_explicit(&pf->waiting, 0, memory_order_relaxed);
	}
	b = pf->b[pf->tail % PREFETCH_NBATCH];
	pf->taken = 1;
	pthread_mutex_unlock(&pf->mu);
	if (b->n > 0) {
		*lines = b->lines;
		*n = b->n;
		*parsed = b->parsed;
		*pos = b->pos;
		return (1);
	}
answer:
	*pos = b->pos;
	*n = 0;
	if (b->r < 0)
		snprintf(err, errlen, "%s", b->err);
	return (b->r < 0 ? -1 : 0);
}

/* prefetch_stop - see prefetch.h */
void
prefetch_stop(struct prefetch *pf)
{
	if (pf == NULL)
		return;
	pthread_mutex_lock(&pf->mu);
	pf->stop = 1;
	pthread_cond_broadcast(&pf->cv);
	pthread_mutex_unlock(&pf->mu);
	pthread_join(pf->tid, NULL);
	if (pf->src != NULL)
		source_lend(pf->src, NULL, NULL); /* its unread bytes back before the windows go */
	pthread_cond_destroy(&pf->cv);
	pthread_mutex_destroy(&pf->mu);
	ring_free(pf);
}
