/*
 * pgtest.h - a throwaway PostgreSQL for the tests, header-only: initdb in
 * a temporary directory, the server on a Unix socket in that directory
 * only (listen_addresses = ''), trust authentication, no fsync; started,
 * stopped and started again, asked through psql, removed.  As root (CI)
 * the server runs as the postgres user (runuser), as PostgreSQL refuses
 * root; otherwise as the user running the test.  Uses runcmd.h to run
 * the programs.  Nothing here asserts: helpers return what they found.
 */
#ifndef SG_TEST_PGTEST_H
#define SG_TEST_PGTEST_H

#include <glob.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/runcmd.h"

struct sg_pg {
	char	dir[64];		/* the cluster's directory and socket directory */
	char	bin[256];		/* /usr/lib/postgresql/N/bin */
	char	runuser[64];		/* as root: the runuser program */
	char	conninfo[256];
};

/* sg_pg_why - why there is no PostgreSQL to test with, or NULL when there is (fills p->bin) */
static inline const char *
sg_pg_why(struct sg_pg *p)
{
	static const char *const ru[] = { "/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser" };
	glob_t g;
	size_t i;

	memset(p, 0, sizeof(*p));
	if (glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g) != 0 || g.gl_pathc == 0) {
		globfree(&g);
		return ("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb; "
		    "apt-get install postgresql)");
	}
	snprintf(p->bin, sizeof(p->bin), "%.*s", (int)(strlen(g.gl_pathv[g.gl_pathc - 1]) - 7),
	    g.gl_pathv[g.gl_pathc - 1]);
	globfree(&g);
	if (geteuid() != 0)
		return (NULL);
	if (getpwnam("postgres") == NULL)
		return ("running as root, and there is no postgres user to run PostgreSQL as");
	for (i = 0; i < sizeof(ru) / sizeof(ru[0]); i++)
		if (access(ru[i], X_OK) == 0) {
			snprintf(p->runuser, sizeof(p->runuser), "%s", ru[i]);
			return (NULL);
		}
	return ("running as root, and there is no runuser to run PostgreSQL as postgres");
}

/* sg_pg_run - a PostgreSQL program (as postgres when root) with up to 8 arguments; its exit */
static inline int
sg_pg_run(const struct sg_pg *p, const char *prog, const char *const args[])
{
	const char *argv[16];
	char path[320];
	struct cmdres r;
	int n = 0, i;

	snprintf(path, sizeof(path), "%s/%s", p->bin, prog);
	if (p->runuser[0] != '\0') {
		argv[n++] = p->runuser;
		argv[n++] = "-u";
		argv[n++] = "postgres";
		argv[n++] = "--";
	}
	argv[n++] = path;
	for (i = 0; args[i] != NULL && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	r = runcmd(argv, NULL);
	if (r.status != 0)
		fprintf(stderr, "%s: exit %d\n%s%s", prog, r.status, r.out, r.err);
	cmdres_free(&r);
	return (r.status);
}

/* sg_pg_start - the server, on the socket in p->dir only; 0 or -1 */
static inline int
sg_pg_start(const struct sg_pg *p)
{
	char data[128], logf[128], opts[256];
	const char *a[] = { "-D", data, "-l", logf, "-w", "-t", "60", "-o", opts, "start", NULL };

	snprintf(data, sizeof(data), "%s/data", p->dir);
	snprintf(logf, sizeof(logf), "%s/server.log", p->dir);
	snprintf(opts, sizeof(opts),
	    "-c listen_addresses='' -k %s -c fsync=off -c full_page_writes=off", p->dir);
	return (sg_pg_run(p, "pg_ctl", a) == 0 ? 0 : -1);
}

/* sg_pg_stop - stop it (fast: connections are cut); 0 or -1 */
static inline int
sg_pg_stop(const struct sg_pg *p)
{
	char data[128];
	const char *a[] = { "-D", data, "-m", "fast", "-w", "-t", "60", "stop", NULL };

	snprintf(data, sizeof(data), "%s/data", p->dir);
	return (sg_pg_run(p, "pg_ctl", a) == 0 ? 0 : -1);
}

/*
 * sg_pg_init - a new cluster in a new temporary directory, started; 0,
 * or -1 (the directory, if made, is in p->dir for sg_pg_destroy)
 */
static inline int
sg_pg_init(struct sg_pg *p)
{
	char data[128];
	const char *a[] = { "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8",
		"--locale=C", "--no-sync", NULL };
	struct passwd *pw;

	snprintf(p->dir, sizeof(p->dir), "/tmp/sg-pg-XXXXXX");
	if (mkdtemp(p->dir) == NULL)
		return (-1);
	if (p->runuser[0] != '\0' && ((pw = getpwnam("postgres")) == NULL ||
	    chown(p->dir, pw->pw_uid, pw->pw_gid) < 0))
		return (-1);
	snprintf(data, sizeof(data), "%s/data", p->dir);
	snprintf(p->conninfo, sizeof(p->conninfo), "host=%s dbname=postgres user=postgres", p->dir);
	if (sg_pg_run(p, "initdb", a) != 0)
		return (-1);
	return (sg_pg_start(p));
}

/* sg_pg_destroy - stop it (if it runs) and remove the directory */
static inline void
sg_pg_destroy(struct sg_pg *p)
{
	char pid[128];

	if (p->dir[0] == '\0')
		return;
	snprintf(pid, sizeof(pid), "%s/data/postmaster.pid", p->dir);
	if (access(pid, F_OK) == 0)
		(void)sg_pg_stop(p);
	sg_rm_tmpdir(p->dir);
	p->dir[0] = '\0';
}

/* sg_pg_query - psql's unaligned output of sql, trailing newline cut (caller frees); NULL on error */
static inline char *
sg_pg_query(const struct sg_pg *p, const char *sql)
{
	char psql[320];
	const char *argv[] = { psql, "-X", "-q", "-tA", "-h", p->dir, "-U", "postgres", "-d",
		"postgres", "-c", sql, NULL };
	struct cmdres r;
	size_t n;

	snprintf(psql, sizeof(psql), "%s/psql", p->bin);
	r = runcmd(argv, NULL);
	if (r.status != 0) {
		fprintf(stderr, "psql %s: %s", sql, r.err);
		cmdres_free(&r);
		return (NULL);
	}
	free(r.err);
	n = strlen(r.out);
	while (n > 0 && r.out[n - 1] == '\n')
		r.out[--n] = '\0';
	return (r.out);
}

/* sg_pg_num - the number sql returns, or -1 */
static inline long long
sg_pg_num(const struct sg_pg *p, const char *sql)
{
	char *o = sg_pg_query(p, sql);
	long long v = o != NULL && o[0] != '\0' ? strtoll(o, NULL, 10) : -1;

	free(o);
	return (v);
}

#endif
