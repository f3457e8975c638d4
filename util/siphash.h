/*
 * NAME
 *	siphash - SipHash-1-3 and SipHash-2-4, keyed 64-bit hashes
 * SUMMARY
 *	SipHash (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
 *	2012) written from the paper's description: a 128-bit key, four
 *	64-bit words of state, c SipRounds per 8-byte message block and d
 *	SipRounds at the end.  siphash24() is the variant of the paper
 *	(c = 2, d = 4) and is checked against its test vectors;
 *	siphash13() (c = 1, d = 3) is the faster one the hash maps use: an
 *	attacker who does not know the key cannot choose keys that collide.
 *	siphash_key_random() fills a key from getrandom(2).
 *	Uses nothing of the project (the lower floor).
 * RETURNS
 *	The 64-bit hash; siphash_key_random() 0, or -1 when the kernel gave
 *	no randomness (the key is then filled from weaker sources, see
 *	siphash.c).  Never prints, never exits, never allocates.
 * UNTRUSTED INPUT
 *	The message: any bytes, any length.
 */
#ifndef SG_SIPHASH_H
#define SG_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEY_LEN 16

/* siphash13 - SipHash-1-3 of msg (n bytes) under key */
uint64_t siphash13(const unsigned char key[SIPHASH_KEY_LEN], const void *msg, size_t n);

/* siphash24 - SipHash-2-4 of msg (n bytes) under key */
uint64_t siphash24(const unsigned char key[SIPHASH_KEY_LEN], const void *msg, size_t n);

/* siphash_key_random - a fresh random key; 0, or -1 if it is not from the kernel */
int siphash_key_random(unsigned char key[SIPHASH_KEY_LEN]);

#endif
