/*
 * NAME
 *	arr - room for one more element in a growing array (see arr.h)
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "util/arr.h"

/* arr_grow - double the room of a full array; see arr.h */
void *
arr_grow(void *p, size_t n, size_t *cap, size_t size, size_t first)
{
	size_t nc;
	void *np;

	if (n < *cap)
		return (p);
	nc = *cap ? *cap * 2 : first;
	if (nc < *cap || size == 0 || nc > SIZE_MAX / size) {
		errno = ENOMEM;
		return (NULL);
	}
	if ((np = realloc(p, nc * size)) == NULL)
		return (NULL);
	*cap = nc;
	return (np);
}
