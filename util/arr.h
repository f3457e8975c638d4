/*
 * NAME
 *	arr - room for one more element in a growing array
 * SUMMARY
 *	The one way the project grows an array it appends to: arr_grow()
 *	doubles the room when the array is full, with the multiplication
 *	checked.  The caller keeps the array, its count and its room.
 *	Uses nothing of the project (the lower floor).
 * RETURNS
 *	The array, or NULL on ENOMEM; never prints, never exits.
 */
#ifndef SG_ARR_H
#define SG_ARR_H

#include <stddef.h>

/*
 * arr_grow - the array p of *cap elements of size bytes, n of them in
 * use, with room for one more: as it is while n < *cap, else reallocated
 * to twice *cap elements (first when *cap is 0) and *cap updated.  NULL
 * on ENOMEM, with p and *cap left as they were (p is still the caller's).
 */
void *arr_grow(void *p, size_t n, size_t *cap, size_t size, size_t first);

#endif
