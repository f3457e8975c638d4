/*
 * test_pg_lib - libpq is loaded at run time, only for a [cluster]
 * (store/pg_lib.c, issue 12): the binaries ($SG_BIN and build/sendguard)
 * do not link it nor what it pulls in (readelf's NEEDED, ldd); a
 * configuration without [cluster] never loads it and one with it does
 * (the dynamic loader's own trace, LD_DEBUG=files); the loader fills
 * every row of its table from libpq.so.5, and a library that is missing,
 * or is not libpq, gives the message that names the library and the
 * Debian package.  That each loaded function works is test_cluster's
 * part, against a real PostgreSQL.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/pg.h"
#define PG_LIB_IMPL /* the table's members by their names, not pg.c's redirections */
#include "store/pg_lib.h"
#include "tests/runcmd.h"

/* needs - the shared libraries `prog args path` lists (readelf -d, ldd), as text */
static char *
needs(const char *prog, const char *arg, const char *path)
{
	const char *argv[] = { prog, arg, path, NULL };
	const char *argv1[] = { prog, path, NULL };
	struct cmdres r;

	if (access(path, X_OK) != 0)
		cr_skip_test("no binary at %s", path);
	r = runcmd(arg != NULL ? argv : argv1, NULL);
	cr_assert_eq(r.status, 0, "%s %s: exit %d: %s", prog, path, r.status, r.err);
	free(r.err);
	return (r.out);
}

/* no_libpq - path neither needs libpq nor, through ldd, any library that only libpq pulled in */
static void
no_libpq(const char *path)
{
	static const char *const pulled[] = { "libpq.so", "libssl.so", "libcrypto.so",
		"libgssapi_krb5.so", "libkrb5.so", "libldap", "libgnutls.so" };
	char *d = needs("/usr/bin/readelf", "-d", path), *l;
	size_t i;

	cr_assert_not_null(strstr(d, "(NEEDED)"), "%s: no NEEDED at all?\n%s", path, d);
	cr_assert_null(strstr(d, "libpq"), "%s links libpq:\n%s", path, d);
	free(d);
	l = needs("/usr/bin/ldd", NULL, path);
	for (i = 0; i < sizeof(pulled) / sizeof(pulled[0]); i++)
		cr_assert_null(strstr(l, pulled[i]), "%s loads %s at exec:\n%s", path, pulled[i],
		    l);
	free(l);
}

Test(pg_lib, binaries_do_not_link_libpq)
{
	no_libpq(sg_bin());
	no_libpq("build/sendguard");
}

/* check_config - `check-config -c` of an agent.conf with extra, traced by the loader; its stderr */
static char *
check_config(const char *extra)
{
	char dir[] = "/tmp/sg-pglib-XXXXXX", conf[64];
	const char *argv[] = { sg_bin(), "check-config", "-c", conf, NULL };
	struct cmdres r;
	FILE *fp;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(conf, sizeof(conf), "%s/agent.conf", dir);
	cr_assert_not_null(fp = fopen(conf, "w"));
	fprintf(fp, "[agent]\nlog = %s/mail.log\nstate = %s/state.db\n%s", dir, dir, extra);
	fclose(fp);
	setenv("LD_DEBUG", "files", 1);
	r = runcmd(argv, NULL);
	unsetenv("LD_DEBUG");
	unlink(conf);
	rmdir(dir);
	cr_assert_eq(r.status, 0, "check-config: exit %d: %s", r.status, r.err);
	free(r.out);
	return (r.err);
}

Test(pg_lib, loaded_only_for_a_cluster)
{
	char *e = check_config("");

	cr_assert_null(strstr(e, "libpq.so.5"), "libpq loaded without [cluster]:\n%s", e);
	free(e);
	e = check_config("[cluster]\nconninfo = host=/nonexistent dbname=sendguard\nnode = a\n");
	cr_assert_not_null(strstr(e, "file=libpq.so.5"), "[cluster] did not load libpq:\n%s", e);
	free(e);
}

Test(pg_lib, every_function_from_libpq)
{
	char err[512] = "";
	int n = 0;

	cr_assert_eq(pg_lib_load(err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(pg_lib_load(err, sizeof(err)), 0, "%s", err); /* once, then the same answer */
#define ONE(f) \
	cr_assert_not_null(pg_lib.f, #f " not loaded"); \
	n++;
	PG_LIB_FUNCS(ONE)
#undef ONE
	cr_assert_eq(n, (int)(sizeof(struct pg_lib) / sizeof(void (*)(void))));
	/* the table answers as libpq: a conninfo it parses, one it does not */
	cr_assert_eq(pg_conninfo_check("host=db dbname=sendguard", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(pg_conninfo_check("host=db dbname='sendguard", err, sizeof(err)), -1);
}

/* The message for a library that cannot be used, one row per way. */
static const struct {
	const char *name;
	const char *says; /* what dlerror adds */
} bad[] = {
	{ "libnope.so.0", "libnope.so.0: cannot open shared object file" },
	{ "libz.so.1", "undefined symbol: PQ" }, /* a library, but not libpq */
};

Test(pg_lib, missing_library_says_what_to_install)
{
	struct pg_lib t;
	char err[512], want[128];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&t, 0xa5, sizeof(t));
		err[0] = '\0';
		cr_assert_eq(pg_lib_open(bad[i].name, &t, err, sizeof(err)), -1, "%s", bad[i].name);
		snprintf(want, sizeof(want),
		    "the cluster needs PostgreSQL's client library %s (Debian package libpq5): ",
		    bad[i].name);
		cr_assert_eq(strncmp(err, want, strlen(want)), 0, "%s: %s", bad[i].name, err);
		cr_assert_not_null(strstr(err, bad[i].says), "%s: %s", bad[i].name, err);
		cr_assert_null(t.PQclear, "%s: the table is left filled", bad[i].name);
		cr_assert_null(t.PQconninfoParse, "%s: the table is left filled", bad[i].name);
	}
}
