/*
 * test_hmap - the string map: insert, find, delete with probe chains intact.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "util/hmap.h"

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
