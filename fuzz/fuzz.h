/*
 * NAME
 *	fuzz - what the libFuzzer targets share (header-only)
 * SUMMARY
 *	Each fuzz/fuzz_NAME.c defines fuzz_NAME_one(data, size), the whole
 *	test of one input, and FUZZ_MAIN(fuzz_NAME_one): libFuzzer's
 *	LLVMFuzzerTestOneInput() calling it, unless FUZZ_NO_MAIN is defined.  tests/test_fuzz.c includes
 *	the targets with FUZZ_NO_MAIN and replays every input kept in
 *	fuzz/regress/NAME/ through the very same function under Criterion,
 *	so a crash once found stays a test.
 *	FUZZ_CHECK(cond) is the targets' assertion: a property the code
 *	promises (a field points into the line, a queue ID is valid) that
 *	does not hold aborts, which libFuzzer reports as a crash with the
 *	input that caused it.
 * UNTRUSTED INPUT
 *	All of it: that is the point.
 */
#ifndef SG_FUZZ_H
#define SG_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "%s:%d: property does not hold: %s\n", __FILE__, __LINE__, \
			    #cond); \
			abort(); \
		} \
	} while (0)

#ifndef FUZZ_NO_MAIN
#define FUZZ_MAIN(fn) \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size); \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) \
	{ \
		return (fn(data, size)); \
	}
#else
#define FUZZ_MAIN(fn)
#endif

#endif
