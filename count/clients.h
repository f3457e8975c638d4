/*
 * NAME
 *	clients - the client IP addresses each counted identity sent from
 * SUMMARY
 *	clients_add() notes that an identity sent a message from an address
 *	at a log time; per identity at most CLIENTS_MAX addresses are kept,
 *	each with its number of messages and the log times of its first and
 *	last.  A new address past that bound takes the place of the one seen
 *	least lately, and the identity remembers the newest time it forgot,
 *	so that a list of the addresses seen in a window can say it is cut.
 *	clients_list() gives the addresses an identity sent from in a window
 *	(an address is in it when its first message is at or before the
 *	window's end and its last after the window's start), most messages
 *	first; clients_join() writes such a list as "a,b,c" (",..." after
 *	the last one when it is cut).  clients_prune() forgets the
 *	identities whose every address was last seen before a time (the
 *	limits call it with the end of their longest window), so memory
 *	follows the identities inside the windows.
 * RETURNS
 *	-1 on ENOMEM where an int is returned; never prints, never exits.
 * UNTRUSTED INPUT
 *	Identities and addresses come from the log: only what ident_ip()
 *	takes for an IPv4 or IPv6 address is kept (a forged "client=" cannot
 *	put a comma-separated list into %a or the block line), at most
 *	CLIENTS_IP_MAX - 1 bytes; identities are map keys, never interpreted.
 */
#ifndef SG_CLIENTS_H
#define SG_CLIENTS_H

#include <stddef.h>
#include <stdint.h>

#define CLIENTS_MAX 16    /* addresses kept per identity */
#define CLIENTS_IP_MAX 48 /* bytes of one address with its NUL */
/* the longest text clients_join() writes, its NUL included */
#define CLIENTS_TEXT_MAX (CLIENTS_MAX * CLIENTS_IP_MAX + 8)

/* One address of an identity. */
struct clients_ip {
	char ip[CLIENTS_IP_MAX];
	long messages;
	int64_t first_us, last_us;
};

struct clients;

/* clients_new - NULL on ENOMEM */
struct clients *clients_new(void);
void clients_free(struct clients *);

/* clients_add - identity sent a message from ip at log time t_us; 0, or -1 on ENOMEM */
int clients_add(struct clients *, const char *identity, const char *ip, int64_t t_us);
/* clients_ip_ok - ip (NULL allowed) is an address clients_add() keeps: an IP, not "unknown" */
int clients_ip_ok(const char *ip);
/*
 * clients_ip_fits - clients_ip_ok() of an ip whose ident_ip() answer the
 * caller has already (parsed: 1 it took the ip), so that one parse of a
 * message's address serves its windows and its client list
 */
int clients_ip_fits(const char *ip, int parsed);
/*
 * clients_add_h - clients_add of an ip that clients_ip_ok() took, with
 * identity's length idn and its hash h (util/hmap's hmap_hash of it), for
 * a caller that has them already (a message's ip checked once for all its
 * identities)
 */
int clients_add_h(struct clients *, const char *identity, size_t idn, uint64_t h, const char *ip,
    int64_t t_us);

/*
 * struct clients_ref - where an identity's addresses are, noted by
 * clients_add_ref() for its next call with the same identity (the caller
 * keeps it beside the identity, zeroed at first): good until the set
 * forgets an identity (a generation of the set, never reused by another).
 */
struct clients_ref {
	void *cs;
	uint64_t gen;
};
/*
 * clients_add_ref - clients_add_h, the identity's addresses found through
 * ref (NULL: looked up) when it is still good, and noted in it; h 0: the
 * hash is taken here when needed
 */
int clients_add_ref(struct clients *, struct clients_ref *ref, const char *identity, size_t idn,
    uint64_t h, const char *ip, int64_t t_us);

/*
 * clients_list - the addresses of identity seen in the window (from_us,
 * to_us] into out (room for CLIENTS_MAX), most messages first, then the
 * one seen last; returns how many.  *cut is set to 1 when an address
 * the window may have seen was forgotten (see the top), else 0.
 */
size_t clients_list(const struct clients *, const char *identity, int64_t from_us, int64_t to_us,
    struct clients_ip *out, int *cut);

/*
 * clients_join - the n addresses of list as "a,b,c" into buf (len bytes,
 * at least CLIENTS_TEXT_MAX for a whole list), ",..." appended when cut;
 * returns buf
 */
const char *clients_join(const struct clients_ip *list, size_t n, int cut, char *buf, size_t len);

/* clients_prune - forget the identities whose addresses were all last seen at or before before_us */
void clients_prune(struct clients *, int64_t before_us);

/* clients_size - identities held */
size_t clients_size(const struct clients *);

#endif
