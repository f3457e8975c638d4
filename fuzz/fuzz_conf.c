/*
 * NAME
 *	fuzz_conf - libFuzzer target: the configuration reader, conf_load()
 *	and conf_load_lenient() (count/conf*.c)
 * SUMMARY
 *	The input is the file: it is written to a memfd once per run and
 *	read through /proc/self/fd/N, the path conf_load() opens like any
 *	other.  Both readers run on it.  Besides not crashing, a load must
 *	keep its contract: 0 with a configuration and no errors, or -1 with
 *	at least one "file:line: message"; the lenient reader always gives
 *	a configuration for a file it could read.
 *	Seeds: the files of samples/conf/, agent.conf.example (fuzz/run.sh).
 * UNTRUSTED INPUT
 *	Every byte of the file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "count/conf.h"
#include "fuzz/fuzz.h"

/* fuzz_conf_one - data as agent.conf, through both readers */
static int
fuzz_conf_one(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	struct conf_errs errs = { NULL, 0 };
	struct conf *c = NULL;
	int rc;

	if (fd < 0) {
		if ((fd = memfd_create("agent.conf", MFD_CLOEXEC)) < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) < 0 || (size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	rc = conf_load(path, &c, &errs);
	FUZZ_CHECK(rc == 0 ? c != NULL && errs.n == 0 : c == NULL && errs.n > 0);
	conf_free(c);
	conf_errs_free(&errs);
	c = NULL;
	rc = conf_load_lenient(path, &c, &errs);
	FUZZ_CHECK(rc == 0 && c != NULL);
	conf_free(c);
	conf_errs_free(&errs);
	return (0);
}

FUZZ_MAIN(fuzz_conf_one)
