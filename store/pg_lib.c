/*
 * NAME
 *	pg_lib - libpq.so.5 loaded at run time (see pg_lib.h)
 * SUMMARY
 *	pg_lib_open() is dlopen(RTLD_NOW | RTLD_LOCAL), so a missing
 *	library or one of its dependencies fails here and not at a first
 *	call, and libpq's symbols stay out of the global namespace; then one
 *	dlsym per row of PG_LIB_FUNCS.  pg_lib_load() runs it once under
 *	pthread_once with PG_LIB_NAME and keeps the outcome, so that every
 *	later caller, on any thread, gets the same answer without a second
 *	dlopen.  dlopen is in glibc's libc since 2.34: no -ldl.
 * RETURNS
 *	0 / -1 with err (see pg_lib.h).  Never prints, never exits.
 * UNTRUSTED INPUT
 *	None.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define PG_LIB_IMPL
#include "store/pg_lib.h"

struct pg_lib pg_lib;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_rc = -1;
static char load_err[512];

/* why - the message for a library that cannot be used, with dlerror's text */
static void
why(const char *name, char *err, size_t errlen)
{
	const char *d = dlerror();

	snprintf(err, errlen,
	    "the cluster needs PostgreSQL's client library %s (Debian package %s): %s", name,
	    PG_LIB_PACKAGE, d != NULL ? d : "not loaded");
}

int
pg_lib_open(const char *name, struct pg_lib *t, char *err, size_t errlen)
{
	void *h, *s;

	memset(t, 0, sizeof(*t));
	if ((h = dlopen(name, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		why(name, err, errlen);
		return (-1);
	}
	/* dlsym's void * to the function's own type: POSIX guarantees the conversion */
#define PG_LIB_SYM(f) \
	if ((s = dlsym(h, #f)) == NULL) \
		goto missing; \
	t->f = (__typeof__(f) *)s;
	PG_LIB_FUNCS(PG_LIB_SYM)
#undef PG_LIB_SYM
	return (0);
missing:
	why(name, err, errlen);
	memset(t, 0, sizeof(*t));
	dlclose(h);
	return (-1);
}

/* load - pg_lib_load's one run */
static void
load(void)
{
	load_rc = pg_lib_open(PG_LIB_NAME, &pg_lib, load_err, sizeof(load_err));
}

int
pg_lib_load(char *err, size_t errlen)
{
	if (pthread_once(&load_once, load) != 0) {
		snprintf(err, errlen,
		    "the cluster needs PostgreSQL's client library %s: cannot load it",
		    PG_LIB_NAME);
		return (-1);
	}
	if (load_rc < 0) {
		snprintf(err, errlen, "%s", load_err);
		return (-1);
	}
	return (0);
}
