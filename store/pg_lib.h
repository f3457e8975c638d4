/*
 * NAME
 *	pg_lib - PostgreSQL's client library (libpq.so.5), loaded at run
 *	time and only by a host whose configuration has a [cluster]
 * SUMMARY
 *	sendguard does not link libpq: linked, it and the 22 libraries it
 *	pulls in (libssl, libcrypto, libgssapi_krb5, libldap, ...) cost
 *	every exec about 3 ms, and every command (audit, status, the
 *	control commands, check-config) paid that although only the
 *	cluster calls libpq.  pg_lib_load() dlopens PG_LIB_NAME once per
 *	process (pthread_once) and takes each function store/pg.c uses
 *	into the table pg_lib, whose types come from libpq-fe.h itself.
 *	Including this header in store/pg.c redirects each PQ name to its
 *	entry, so pg.c reads as plain libpq calls; a PQ function pg.c uses
 *	without a row in PG_LIB_FUNCS is an undefined reference when
 *	build/sendguard is linked, never a silent miss.  The library is
 *	never unloaded.
 *	Every entry point of store/pg.h that can reach libpq calls
 *	pg_lib_load() first: pg_conninfo_check() (reading a [cluster]
 *	section) and pg_connect(); the others reach libpq only through a
 *	connection that pg_connect() made.
 * RETURNS
 *	0 / -1 with err: "the cluster needs PostgreSQL's client library
 *	libpq.so.5 (Debian package libpq5): " and dlerror()'s text.  Never
 *	prints, never exits.
 * UNTRUSTED INPUT
 *	None: the library's name is a constant (pg_lib_open() takes one for
 *	the tests).
 */
#ifndef SG_PG_LIB_H
#define SG_PG_LIB_H

#include <stddef.h>

#include <libpq-fe.h>

#define PG_LIB_NAME "libpq.so.5"
#define PG_LIB_PACKAGE "libpq5"

/* Every libpq function store/pg.c calls, one X(name) each. */
#define PG_LIB_FUNCS(X) \
	X(PQclear) \
	X(PQconnectPoll) \
	X(PQconnectStartParams) \
	X(PQconninfoFree) \
	X(PQconninfoParse) \
	X(PQconsumeInput) \
	X(PQerrorMessage) \
	X(PQfinish) \
	X(PQflush) \
	X(PQfreemem) \
	X(PQgetResult) \
	X(PQgetisnull) \
	X(PQgetvalue) \
	X(PQisBusy) \
	X(PQnotifies) \
	X(PQntuples) \
	X(PQresStatus) \
	X(PQresultErrorField) \
	X(PQresultErrorMessage) \
	X(PQresultStatus) \
	X(PQsendQuery) \
	X(PQsendQueryParams) \
	X(PQsetNoticeProcessor) \
	X(PQsetnonblocking) \
	X(PQsocket) \
	X(PQstatus)

/* The table: one pointer per function, typed from libpq-fe.h's prototype. */
#define PG_LIB_PTR(f) __typeof__(f) *f;
struct pg_lib {
	PG_LIB_FUNCS(PG_LIB_PTR)
};
#undef PG_LIB_PTR

/* Filled by pg_lib_load(); read only after it returned 0. */
extern struct pg_lib pg_lib;

/*
 * pg_lib_load - PG_LIB_NAME loaded and pg_lib filled, once per process
 * (thread-safe); 0, or -1 with why in err (the same why on every call)
 */
int pg_lib_load(char *err, size_t errlen);

/*
 * pg_lib_open - dlopen name and fill t with its functions (for
 * pg_lib_load() and the tests); 0, or -1 with why in err and nothing
 * left open
 */
int pg_lib_open(const char *name, struct pg_lib *t, char *err, size_t errlen);

/* store/pg.c's calls go through the table (pg_lib.c defines PG_LIB_IMPL). */
#ifndef PG_LIB_IMPL
#define PQclear (pg_lib.PQclear)
#define PQconnectPoll (pg_lib.PQconnectPoll)
#define PQconnectStartParams (pg_lib.PQconnectStartParams)
#define PQconninfoFree (pg_lib.PQconninfoFree)
#define PQconninfoParse (pg_lib.PQconninfoParse)
#define PQconsumeInput (pg_lib.PQconsumeInput)
#define PQerrorMessage (pg_lib.PQerrorMessage)
#define PQfinish (pg_lib.PQfinish)
#define PQflush (pg_lib.PQflush)
#define PQfreemem (pg_lib.PQfreemem)
#define PQgetResult (pg_lib.PQgetResult)
#define PQgetisnull (pg_lib.PQgetisnull)
#define PQgetvalue (pg_lib.PQgetvalue)
#define PQisBusy (pg_lib.PQisBusy)
#define PQnotifies (pg_lib.PQnotifies)
#define PQntuples (pg_lib.PQntuples)
#define PQresStatus (pg_lib.PQresStatus)
#define PQresultErrorField (pg_lib.PQresultErrorField)
#define PQresultErrorMessage (pg_lib.PQresultErrorMessage)
#define PQresultStatus (pg_lib.PQresultStatus)
#define PQsendQuery (pg_lib.PQsendQuery)
#define PQsendQueryParams (pg_lib.PQsendQueryParams)
#define PQsetNoticeProcessor (pg_lib.PQsetNoticeProcessor)
#define PQsetnonblocking (pg_lib.PQsetnonblocking)
#define PQsocket (pg_lib.PQsocket)
#define PQstatus (pg_lib.PQstatus)
#endif

#endif
