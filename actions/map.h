/*
 * NAME
 *	map - the block action: access(5) map files for check_sasl_access
 *	and check_sender_access, rewritten from the store, then postmap and
 *	one postfix reload
 * SUMMARY
 *	map_key_ok() decides whether an identity value can be a map key
 *	safely, map_ident_ok() whether an identity of its kind may be one
 *	(a sender only as a whole address); map_write() rewrites a map file atomically (a temporary
 *	file in the same directory, fsync, rename, fsync of the directory) so
 *	that a concurrent reader (postmap, a Postfix daemon) never sees a
 *	partial map.
 *	The maps are derived, never edited: map_later() asks for a rewrite
 *	(debounced, ACT_DEBOUNCE_MS after the last ask), map_sync() writes
 *	every map from the store's blocks in force and queues one postmap
 *	run per map, then one postfix reload; asks that come while that runs
 *	are served by one more rewrite after it.  Each ask gets a generation
 *	number; map_gen_done() and map_gen_ok() tell whether the rewrite that
 *	served it has ended, and whether it put the map in force.  A failed
 *	rewrite is tried again after a minute.
 * RETURNS
 *	0 / -1 with err filled; never prints or exits.
 * UNTRUSTED INPUT
 *	Identity values come from the log.  A value that is not a safe key is
 *	never written (the caller logs why); the reply text is checked too.
 */
#ifndef SG_MAP_H
#define SG_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "actions/run.h"

#define MAP_KEY_MAX 255

struct act;

/* The rewrites' state, in struct act. */
struct maps {
	int dirty; /* a rewrite is asked for */
	int busy;  /* postmap or reload runs */
	int postmaps_left, postmap_failed;
	int reload_wanted, reload_running;
	uint64_t gen_want, gen_running, gen_done; /* rewrites: asked, started, ended */
	uint64_t gen_ok;                          /* the last one put in force */
	struct run_timer debounce;
};

/*
 * map_key_ok - 1 when value (the part after "sasl:"/"sender:") is a
 * safe access-map key: 1..MAP_KEY_MAX bytes, no whitespace, no control
 * characters (< 0x20, 0x7f), no byte >= 0x80, not starting with '#'.
 * Otherwise 0 and, if why is not NULL, a reason ("contains whitespace",
 * "empty", "longer than 255 bytes", ...).
 */
int map_key_ok(const char *value, const char **why);

/*
 * map_ident_ok - the one key check of an identity by its kind: 1 when it
 * may become a key of its access map, else 0 and why.  sasl: a safe key
 * (map_key_ok); sender: also a whole address, a non-empty local part
 * without '@', an '@' and a dotted domain ("alice@example.com"; never
 * "example.com", "@example.com", "alice@", "alice@localhost", "<>");
 * sender_domain: a dotted domain ("example.com"); other kinds: 0.
 */
int map_ident_ok(const char *identity, const char **why);

/*
 * map_write - replace path with one line "KEY REPLY\n" per key (keys as
 * given, which must all pass map_key_ok; sorted; a header comment names
 * sendguard).  reply must contain no control characters.  Mode 0644.
 * Atomic: readers see the old or the new file, never a mix.
 */
int map_write(const char *path, const char *const keys[], size_t nkeys, const char *reply,
    char *err, size_t errlen);

/* map_init - no rewrite asked for yet (the debounce timer on a's runner) */
void map_init(struct act *);
/* map_fini - stop the debounce timer */
void map_fini(struct act *);

/*
 * map_of - the access map an identity's kind goes into: sasl logins into
 * sasl_map (check_sasl_access), senders and sender domains into
 * sender_map (check_sender_access looks up the address, then its domain);
 * NULL for the kinds no Postfix access map can hold, and for a kind whose
 * map is not configured (*is_sasl tells the sasl kind apart then)
 */
const char *map_of(const struct act *, const char *identity, int *is_sasl);
/* map_mappable - 1 when identity can go into an access map (why filled otherwise) */
int map_mappable(const struct act *, const char *identity, const char **why);

/* map_later - ask for the maps to be rewritten; the ask's generation */
uint64_t map_later(struct act *);
/* map_gen_done - the rewrite that serves generation gen has ended */
int map_gen_done(const struct act *, uint64_t gen);
/* map_gen_ok - ... and put the maps in force */
int map_gen_ok(const struct act *, uint64_t gen);
/* map_heal - at start: the maps say what the store says (a rewrite now, when there are maps) */
void map_heal(struct act *, int nblocked);
/*
 * map_block - a decision's block step for identity: queue it (JOB_MAP);
 * in monitor mode, log what it would write and run instead
 */
void map_block(struct act *, const char *identity);
/* map_run_ended - a postmap (reload 0) or postfix reload (reload 1) run ended, ok or not */
void map_run_ended(struct act *, int reload, int ok);

#endif
