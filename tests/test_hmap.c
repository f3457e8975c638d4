/*
 * test_hmap - the string map: insert, find, delete with probe chains
 * intact, a sweep that removes what it picks; SipHash against the test
 * vectors of its authors, and the map's hash keyed afresh in every
 * process (no precomputed flood of colliding keys works twice).
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/hmap.h"
#include "util/siphash.h"

Test(hmap, add_get_del_many)
{
	struct hmap *m = hmap_new();
	char k[32];
	int i, added;
	void **slot;

	cr_assert_not_null(m);
	for (i = 0; i < 50000; i++) {
		snprintf(k, sizeof(k), "key%d", i);
		slot = hmap_get_or_add(m, k, strlen(k), &added);
		cr_assert(slot != NULL && added);
		*slot = (void *)(intptr_t)(i + 1);
	}
	cr_expect_eq(hmap_count(m), 50000);
	for (i = 0; i < 50000; i += 2) {
		snprintf(k, sizeof(k), "key%d", i);
		cr_assert_eq((intptr_t)hmap_del(m, k, strlen(k)), i + 1);
	}
	for (i = 0; i < 50000; i++) {
		snprintf(k, sizeof(k), "key%d", i);
		if (i % 2)
			cr_assert_eq((intptr_t)hmap_get(m, k, strlen(k)), i + 1, "lost key%d", i);
		else
			cr_assert_null(hmap_get(m, k, strlen(k)));
	}
	slot = hmap_get_or_add(m, "key1", 4, &added);
	cr_expect_eq(added, 0);
	cr_expect_eq((intptr_t)*slot, 2);
	hmap_free(m, NULL);
}

Test(hmap, keys_with_nul_bytes_are_distinct)
{
	struct hmap *m = hmap_new();
	int added;

	*hmap_get_or_add(m, "a\0b", 3, &added) = (void *)1;
	*hmap_get_or_add(m, "a\0c", 3, &added) = (void *)2;
	cr_expect_eq((intptr_t)hmap_get(m, "a\0b", 3), 1);
	cr_expect_eq((intptr_t)hmap_get(m, "a\0c", 3), 2);
	cr_expect_null(hmap_get(m, "a", 1));
	hmap_free(m, NULL);
}

/*
 * SipHash-2-4 of the messages 00, 00 01, ... 00..3e (0 to 63 bytes) under
 * the key 00 01 .. 0f: the 64 vectors published with the reference
 * implementation; vector 15 is the worked example of the paper's appendix.
 */
static const uint64_t sip24_vectors[64] = {
	0x726fdb47dd0e0e31ULL, 0x74f839c593dc67fdULL, 0x0d6c8009d9a94f5aULL, 0x85676696d7fb7e2dULL,
	0xcf2794e0277187b7ULL, 0x18765564cd99a68dULL, 0xcbc9466e58fee3ceULL, 0xab0200f58b01d137ULL,
	0x93f5f5799a932462ULL, 0x9e0082df0ba9e4b0ULL, 0x7a5dbbc594ddb9f3ULL, 0xf4b32f46226bada7ULL,
	0x751e8fbc860ee5fbULL, 0x14ea5627c0843d90ULL, 0xf723ca908e7af2eeULL, 0xa129ca6149be45e5ULL,
	0x3f2acc7f57c29bdbULL, 0x699ae9f52cbe4794ULL, 0x4bc1b3f0968dd39cULL, 0xbb6dc91da77961bdULL,
	0xbed65cf21aa2ee98ULL, 0xd0f2cbb02e3b67c7ULL, 0x93536795e3a33e88ULL, 0xa80c038ccd5ccec8ULL,
	0xb8ad50c6f649af94ULL, 0xbce192de8a85b8eaULL, 0x17d835b85bbb15f3ULL, 0x2f2e6163076bcfadULL,
	0xde4daaaca71dc9a5ULL, 0xa6a2506687956571ULL, 0xad87a3535c49ef28ULL, 0x32d892fad841c342ULL,
	0x7127512f72f27cceULL, 0xa7f32346f95978e3ULL, 0x12e0b01abb051238ULL, 0x15e034d40fa197aeULL,
	0x314dffbe0815a3b4ULL, 0x027990f029623981ULL, 0xcadcd4e59ef40c4dULL, 0x9abfd8766a33735cULL,
	0x0e3ea96b5304a7d0ULL, 0xad0c42d6fc585992ULL, 0x187306c89bc215a9ULL, 0xd4a60abcf3792b95ULL,
	0xf935451de4f21df2ULL, 0xa9538f0419755787ULL, 0xdb9acddff56ca510ULL, 0xd06c98cd5c0975ebULL,
	0xe612a3cb9ecba951ULL, 0xc766e62cfcadaf96ULL, 0xee64435a9752fe72ULL, 0xa192d576b245165aULL,
	0x0a8787bf8ecb74b2ULL, 0x81b3e73d20b49b6fULL, 0x7fa8220ba3b2eceaULL, 0x245731c13ca42499ULL,
	0xb78dbfaf3a8d83bdULL, 0xea1ad565322a1a0bULL, 0x60e61c23a3795013ULL, 0x6606d7e446282b93ULL,
	0x6ca4ecb15c5f91e1ULL, 0x9f626da15c9625f3ULL, 0xe51b38608ef25f57ULL, 0x958a324ceb064572ULL,
};

/*
 * SipHash-1-3 of the messages of 0 to 36 bytes 00 01 02 .. under the key
 * of sixteen zero bytes, as computed with the reference implementation
 * (c = 1, d = 3).
 */
static const uint64_t sip13_vectors[] = {
	0xd1fba762150c532cULL, 0x68a914128e01e473ULL, 0x010bac45c41e3669ULL, 0x4d4c9a4a8ef6e0adULL,
	0x7cc43f98813e4dbdULL, 0x5abe2169dff36275ULL, 0xe3c25f87624f1cdbULL, 0x2f098ab0c751325aULL,
	0xead411e67ebe2eeaULL, 0x75927f9d95124362ULL, 0xaf9f77a65ab51a1dULL, 0xfe64ce8b6617fcffULL,
	0xa6baf4fb0f9fe1c2ULL, 0xa0cf3211850f8e0dULL, 0x7f86049379fbfe67ULL, 0xf30eb725bb91c9eaULL,
	0x8972188433a5c5b7ULL, 0x4883c49a2c009c1dULL, 0xadc2c0b63044067dULL, 0x091f4a3329f87d19ULL,
	0x639e355ae68c0100ULL, 0xb17bef2cb5213239ULL, 0xf8aeb1066236ccfeULL, 0x37332b1389daa4ffULL,
	0x31185a47af932f3aULL, 0xebf352e82ae23e2fULL, 0xed36ff242fe478b2ULL, 0x2454d97d299299dfULL,
	0x8cd57fe8130d0ac7ULL, 0xbe98eb2faf0a0e85ULL, 0xd427c34ee09470c6ULL, 0x169739443111d49bULL,
	0x31ef8061c910629bULL, 0x7fb71d24dfa4c9f6ULL, 0x92771f49e836d389ULL, 0x3c393cf6f0853bc3ULL,
	0xac77921fcc642bd3ULL,
};

Test(siphash, reference_vectors_2_4)
{
	unsigned char key[16], msg[64];
	size_t i;

	for (i = 0; i < 16; i++)
		key[i] = (unsigned char)i;
	for (i = 0; i < 64; i++)
		msg[i] = (unsigned char)i;
	for (i = 0; i < 64; i++)
		cr_expect_eq(siphash24(key, msg, i), sip24_vectors[i],
		    "SipHash-2-4 of %zu bytes: %016llx, want %016llx", i,
		    (unsigned long long)siphash24(key, msg, i), (unsigned long long)sip24_vectors[i]);
}

Test(siphash, reference_vectors_1_3)
{
	unsigned char key[16] = { 0 }, msg[64];
	size_t i;

	for (i = 0; i < 64; i++)
		msg[i] = (unsigned char)i;
	for (i = 0; i < sizeof(sip13_vectors) / sizeof(sip13_vectors[0]); i++)
		cr_expect_eq(siphash13(key, msg, i), sip13_vectors[i],
		    "SipHash-1-3 of %zu bytes: %016llx, want %016llx", i,
		    (unsigned long long)siphash13(key, msg, i), (unsigned long long)sip13_vectors[i]);
}

/* fnv1a - the map's former hash (FNV-1a 64 and a final shift), which anyone could compute */
static uint64_t
fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	h ^= h >> 29;
	return (h == 0 ? 1 : h);
}

/* child_hash - hmap_hash of s computed in a new process (as each daemon start is one) */
static uint64_t
child_hash(const char *s)
{
	uint64_t h = 0;
	int p[2], st;
	pid_t pid;

	cr_assert_eq(pipe(p), 0);
	if ((pid = fork()) == 0) {
		h = hmap_hash(s, strlen(s));
		_exit(write(p[1], &h, sizeof(h)) == (ssize_t)sizeof(h) ? 0 : 1);
	}
	cr_assert_gt(pid, 0);
	close(p[1]);
	cr_assert_eq(read(p[0], &h, sizeof(h)), (ssize_t)sizeof(h));
	close(p[0]);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return (h);
}

Test(hmap, hash_is_keyed_per_process)
{
	const char *id = "sasl:alice@example.com";
	uint64_t a = child_hash(id), b = child_hash(id);

	cr_expect_neq(a, b, "two processes hash alike: the map's key is not random");
	cr_expect_neq(a, fnv1a(id), "the map still hashes with unkeyed FNV-1a");
	cr_expect_neq(b, fnv1a(id), "the map still hashes with unkeyed FNV-1a");
}

/* drop_odd - hmap_sweep's predicate: drop the entries whose value is odd */
static int
drop_odd(void *ctx, const char *key, size_t n, void *val)
{
	int *dropped = ctx;

	(void)key;
	(void)n;
	if ((intptr_t)val % 2 == 0)
		return (0);
	(*dropped)++;
	return (1);
}

Test(hmap, sweep_removes_what_it_picks_and_keeps_the_rest)
{
	struct hmap *m = hmap_new();
	char k[32];
	int i, added, dropped = 0;

	cr_assert_not_null(m);
	for (i = 1; i <= 20000; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		*hmap_get_or_add(m, k, strlen(k), &added) = (void *)(intptr_t)i;
	}
	cr_expect_eq(hmap_sweep(m, drop_odd, &dropped), 10000);
	cr_expect_eq(dropped, 10000, "dropped %d, each once", dropped);
	cr_expect_eq(hmap_count(m), 10000);
	for (i = 1; i <= 20000; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		if (i % 2)
			cr_expect_null(hmap_get(m, k, strlen(k)), "k%d still there", i);
		else
			cr_expect_eq((intptr_t)hmap_get(m, k, strlen(k)), i, "k%d lost", i);
	}
	hmap_free(m, NULL);
}


/*
 * Keys "r \0 id" hashed as hmap_hash_mix(hmap_hash(id), r), the way
 * count/limits.c keys its states: every (r, id) is its own entry, found
 * again through growth and after deletions shift the chains, and the
 * mixed hashes of one id differ (so its rules do not share a chain).
 */
Test(hmap, given_hashes_through_growth_and_deletion)
{
	struct hmap *m = hmap_new();
	char k[48];
	int i, r, added, n;
	uint64_t h;
	void **slot;

	cr_assert_not_null(m);
	for (i = 0; i < 5000; i++)
		for (r = 0; r < 3; r++) {
			n = snprintf(k, sizeof(k), "%d%csasl:user%d@example.com", r, '\0', i);
			h = hmap_hash_mix(hmap_hash(k + 2, (size_t)n - 2), (uint64_t)r);
			slot = hmap_get_or_add_h(m, h, k, (size_t)n, &added);
			cr_assert(slot != NULL && added, "(%d, %d) not new", r, i);
			*slot = (void *)(intptr_t)(i * 3 + r + 1);
		}
	cr_expect_eq(hmap_count(m), 15000);
	for (i = 0; i < 5000; i += 2) {
		n = snprintf(k, sizeof(k), "%d%csasl:user%d@example.com", 1, '\0', i);
		h = hmap_hash_mix(hmap_hash(k + 2, (size_t)n - 2), 1);
		cr_assert_eq((intptr_t)hmap_del_h(m, h, k, (size_t)n), i * 3 + 2);
	}
	for (i = 0; i < 5000; i++)
		for (r = 0; r < 3; r++) {
			n = snprintf(k, sizeof(k), "%d%csasl:user%d@example.com", r, '\0', i);
			h = hmap_hash_mix(hmap_hash(k + 2, (size_t)n - 2), (uint64_t)r);
			if (r == 1 && i % 2 == 0)
				cr_assert_null(hmap_get_h(m, h, k, (size_t)n));
			else
				cr_assert_eq((intptr_t)hmap_get_h(m, h, k, (size_t)n), i * 3 + r + 1,
				    "lost (%d, %d)", r, i);
		}
	h = hmap_hash("sasl:a", 6);
	cr_expect_neq(hmap_hash_mix(h, 0), hmap_hash_mix(h, 1));
	cr_expect_neq(hmap_hash_mix(h, 0), h);
	hmap_free(m, NULL);
}

/*
 * A map of hmap_new_ref() keeps the callers' key pointers: entries whose
 * keys live in their values (as the tracker's records do) are found
 * through growth and deletions, a key put again takes the new value and
 * the new key pointer (the old value's memory may go), it copies no key
 * (hmap_get_or_add refuses it) and frees none (the keys here are one
 * array on the stack: freeing one would be an ASan error).
 */
Test(hmap, ref_map_keeps_the_callers_keys)
{
	struct hmap *m = hmap_new_ref();
	char keys[3000][16], again[16];
	void *old;
	int i, added;
	size_t n;

	cr_assert_not_null(m);
	for (i = 0; i < 3000; i++) {
		n = (size_t)snprintf(keys[i], sizeof(keys[i]), "mx%cQ%05X", '\0', i);
		cr_assert_eq(hmap_put_ref_h(m, hmap_hash(keys[i], n), keys[i], n,
				 (void *)(intptr_t)(i + 1), &old),
		    0);
		cr_assert_null(old, "key %d not new", i);
	}
	cr_expect_eq(hmap_count(m), 3000);
	for (i = 0; i < 3000; i += 3)
		cr_expect_eq((intptr_t)hmap_del(m, keys[i], 9), i + 1);
	for (i = 0; i < 3000; i++)
		if (i % 3 == 0)
			cr_expect_null(hmap_get(m, keys[i], 9), "key %d still there", i);
		else
			cr_expect_eq((intptr_t)hmap_get(m, keys[i], 9), i + 1, "key %d lost", i);
	/* the same bytes again at another address: value and key pointer replaced */
	memcpy(again, keys[1], 9);
	cr_assert_eq(hmap_put_ref_h(m, hmap_hash(again, 9), again, 9, (void *)(intptr_t)-1, &old), 0);
	cr_expect_eq((intptr_t)old, 2);
	memset(keys[1], 'x', 9); /* the first holder's bytes are no longer the key's */
	cr_expect_eq((intptr_t)hmap_get(m, again, 9), -1);
	cr_expect_eq(hmap_count(m), 2000);
	cr_expect_null(hmap_get_or_add(m, "new", 3, &added), "a ref map copied a key");
	cr_expect_eq(hmap_count(m), 2000);
	hmap_free(m, NULL);
	/* and a copying map takes no key pointer */
	m = hmap_new();
	cr_assert_not_null(m);
	cr_expect_eq(hmap_put_ref_h(m, hmap_hash("k", 1), "k", 1, (void *)1, &old), -1);
	cr_expect_eq(hmap_count(m), 0);
	hmap_free(m, NULL);
}

/* each_key_cb - hmap_each: the key handed over is the value's own text, NUL-terminated */
static int
each_key_cb(void *ctx, const char *key, size_t n, void *val)
{
	char want[200];

	snprintf(want, sizeof(want), "key-%ld", (long)(intptr_t)val);
	(*(int *)ctx) += n == strlen(want) && strcmp(key, want) == 0;
	return (0);
}

/*
 * A map of hmap_new_arena() (keys copied into its blocks): 20,000 keys
 * over several 64 KiB blocks and a key longer than a block keep their
 * bytes and their NUL through growth; a removed key can be added again;
 * hmap_free frees every block (ASan: no leak) and no key on its own (no
 * double free).
 */
Test(hmap, arena_map_keeps_its_keys_in_blocks)
{
	struct hmap *m = hmap_new_arena();
	static char big[70000];
	char key[64];
	void **slot;
	int i, added, seen = 0;

	cr_assert_not_null(m);
	for (i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "key-%d", i);
		cr_assert_not_null(slot = hmap_get_or_add(m, key, strlen(key), &added));
		cr_assert_eq(added, 1);
		*slot = (void *)(intptr_t)i;
	}
	memset(big, 'b', sizeof(big) - 1);
	cr_assert_not_null(slot = hmap_get_or_add(m, big, sizeof(big) - 1, &added));
	*slot = (void *)(intptr_t)-1;
	cr_expect_eq(hmap_del(m, big, sizeof(big) - 1), (void *)(intptr_t)-1);
	cr_expect_eq(hmap_del(m, "key-7", 5), (void *)(intptr_t)7);
	cr_expect_null(hmap_get(m, "key-7", 5));
	cr_assert_not_null(slot = hmap_get_or_add(m, "key-7", 5, &added));
	cr_expect_eq(added, 1);
	*slot = (void *)(intptr_t)7;
	cr_expect_eq(hmap_count(m), 20000);
	hmap_each(m, each_key_cb, &seen);
	cr_expect_eq(seen, 20000, "%d keys with their text", seen);
	hmap_free(m, NULL);
}
