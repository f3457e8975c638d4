/*
 * NAME
 *	siphash - SipHash-1-3 and SipHash-2-4 (see siphash.h)
 * SUMMARY
 *	The state is four words v0..v3, set from the key k0, k1 (its two
 *	halves, little-endian) xor the constants of the paper ("somepseudo
 *	randomlygeneratedbytes").  Every full 8-byte block m (little-endian)
 *	is absorbed as v3 ^= m, c SipRounds, v0 ^= m.  The last block holds
 *	the 0..7 remaining bytes and, in its top byte, the message length
 *	mod 256.  Then v2 ^= 0xff, d SipRounds, and the hash is
 *	v0 ^ v1 ^ v2 ^ v3.  A SipRound is the paper's ARX network of
 *	additions, rotations by 13, 16, 21, 17, 32 and xors.
 *	Byte order is read explicitly, so the result does not depend on the
 *	machine's.
 * RETURNS
 *	See siphash.h.
 * UNTRUSTED INPUT
 *	The message bytes; nothing is read past msg + n.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "util/siphash.h"

/* rotl - rotate x left by b bits (0 < b < 64) */
static inline uint64_t
rotl(uint64_t x, int b)
{
	return ((x << b) | (x >> (64 - b)));
}

/* le64 - 8 bytes at p, little-endian */
static inline uint64_t
le64(const unsigned char *p)
{
	return ((uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
	    (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
	    (uint64_t)p[7] << 56);
}

/* put64 - v as 8 bytes at p, little-endian */
static void
put64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/*
 * SIP_INLINE - sipround() and sip() are made inline wherever they are
 * used: sip() once per (c, d), inside siphash13() and siphash24(), so its
 * rounds are unrolled and the state stays in registers (an out-of-line
 * sip() with c and d as arguments ran them as loops)
 */
#if defined(__GNUC__)
#define SIP_INLINE static inline __attribute__((always_inline))
#else
#define SIP_INLINE static inline
#endif

/* sipround - one SipRound on the state v0..v3 */
SIP_INLINE void
sipround(uint64_t *v0, uint64_t *v1, uint64_t *v2, uint64_t *v3)
{
	*v0 += *v1;
	*v1 = rotl(*v1, 13);
	*v1 ^= *v0;
	*v0 = rotl(*v0, 32);
	*v2 += *v3;
	*v3 = rotl(*v3, 16);
	*v3 ^= *v2;
	*v0 += *v3;
	*v3 = rotl(*v3, 21);
	*v3 ^= *v0;
	*v2 += *v1;
	*v1 = rotl(*v1, 17);
	*v1 ^= *v2;
	*v2 = rotl(*v2, 32);
}

/* sip - SipHash-c-d of msg under key; c is 1 or 2, d 3 or 4 (the two variants made) */
SIP_INLINE uint64_t
sip(const unsigned char *key, const unsigned char *p, size_t n, int c, int d)
{
	uint64_t k0 = le64(key), k1 = le64(key + 8), m;
	uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
	size_t left = n & 7, i;
	const unsigned char *end = p + (n - left);

	for (; p != end; p += 8) {
		m = le64(p);
		v3 ^= m;
		sipround(&v0, &v1, &v2, &v3);
		if (c == 2)
			sipround(&v0, &v1, &v2, &v3);
		v0 ^= m;
	}
	/*
	 * the 0..7 bytes left: of a message of 8 bytes or more, the top
	 * ones of its last 8 (one load); of a shorter one, 4, 2 and 1 at a
	 * time
	 */
	m = (uint64_t)(n & 0xff) << 56;
	i = 0;
	if (n >= 8) {
		if (left != 0)
			m |= le64(p + left - 8) >> (8 * (8 - left));
		left = 0;
	}
	if (left & 4) {
		m |= (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
		    (uint64_t)p[3] << 24;
		i = 4;
	}
	if (left & 2) {
		m |= ((uint64_t)p[i] | (uint64_t)p[i + 1] << 8) << (8 * i);
		i += 2;
	}
	if (left & 1)
		m |= (uint64_t)p[i] << (8 * i);
	v3 ^= m;
	sipround(&v0, &v1, &v2, &v3);
	if (c == 2)
		sipround(&v0, &v1, &v2, &v3);
	v0 ^= m;
	v2 ^= 0xff;
	sipround(&v0, &v1, &v2, &v3);
	sipround(&v0, &v1, &v2, &v3);
	sipround(&v0, &v1, &v2, &v3);
	if (d == 4)
		sipround(&v0, &v1, &v2, &v3);
	return (v0 ^ v1 ^ v2 ^ v3);
}

/* siphash13 - SipHash-1-3 of msg (n bytes) under key */
uint64_t
siphash13(const unsigned char key[SIPHASH_KEY_LEN], const void *msg, size_t n)
{
	return (sip(key, msg, n, 1, 3));
}

/* siphash24 - SipHash-2-4 of msg (n bytes) under key */
uint64_t
siphash24(const unsigned char key[SIPHASH_KEY_LEN], const void *msg, size_t n)
{
	return (sip(key, msg, n, 2, 4));
}

/*
 * siphash_key_random - 16 bytes from getrandom(2) (it blocks only until
 * the kernel's pool is first initialised, early at boot); failing that
 * /dev/urandom; failing both, the real and the monotonic clock and the
 * pid mixed through SipHash, which is unpredictable enough to spoil precomputed
 * collisions but not a secret: -1 then.
 */
int
siphash_key_random(unsigned char key[SIPHASH_KEY_LEN])
{
	struct timespec ts = { 0, 0 }, mono = { 0, 0 };
	size_t got = 0;
	ssize_t r;
	unsigned char mix[32];
	uint64_t h;
	int fd;

	memset(key, 0, SIPHASH_KEY_LEN);
	while (got < SIPHASH_KEY_LEN) {
		r = getrandom(key + got, SIPHASH_KEY_LEN - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (got == SIPHASH_KEY_LEN)
		return (0);
	if ((fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) >= 0) {
		got = 0;
		while (got < SIPHASH_KEY_LEN &&
		    ((r = read(fd, key + got, SIPHASH_KEY_LEN - got)) > 0 ||
			(r < 0 && errno == EINTR)))
			got += r > 0 ? (size_t)r : 0;
		close(fd);
		if (got == SIPHASH_KEY_LEN)
			return (0);
	}
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	(void)clock_gettime(CLOCK_MONOTONIC, &mono);
	put64(mix, (uint64_t)ts.tv_sec);
	put64(mix + 8, (uint64_t)ts.tv_nsec);
	put64(mix + 16, (uint64_t)getpid());
	put64(mix + 24, (uint64_t)mono.tv_sec << 30 ^ (uint64_t)mono.tv_nsec);
	h = siphash24(key, mix, sizeof(mix));
	put64(key, h);
	h = siphash24(key, mix, sizeof(mix));
	put64(key + 8, h);
	return (-1);
}
