/*
 * test_run - the external-program runner: argv passed byte-exact with no
 * shell, the exact environment, descriptors closed, cwd "/", large stdin,
 * bounded capture of stdout/stderr, exit status, signals, the time limit
 * (with grandchildren), exec failures, several children at once, a loop
 * that keeps serving while children run, runner_free with children
 * running, run_sync, and the log text of results and argv.
 *
 * The stand-in programs are small #!/bin/sh scripts written into a mkdtemp
 * directory: they are the program being run (as postsuper would be), not
 * a shell run by the runner.  Each script gets that directory as $1.
 *
 * Asynchronous rows run in a forked child: the Criterion worker has a
 * second thread that does not block SIGCHLD, which could take the signal
 * instead of the loop's signalfd; fork() copies only the calling thread,
 * as in the single-threaded daemon.  That child also blocks SIGTERM,
 * SIGHUP and SIGINT and ignores SIGUSR1, as a daemon might, so the rows
 * show the program gets clean signal state.  A failing row reports its
 * reason through a shared page.  Every loop has a guard timer (10 s).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "actions/run.h"
#include "util/ev.h"

#define NROWS(t)	(sizeof(t) / sizeof((t)[0]))
#define MSG_MAX		2048
#define GUARD_MS	10000
#define BIG_IN		(1024 * 1024)

static char *msg;			/* shared with forked children */

/* now_ms - monotonic milliseconds */
static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* fail - record why a row failed; returns 1 */
static int __attribute__((format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, MSG_MAX, fmt, ap);
	va_end(ap);
	return (1);
}

/* shared_msg - map the shared failure-message page once per test process */
static void
shared_msg(void)
{
	if (msg == NULL) {
		msg = mmap(NULL, MSG_MAX, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		cr_assert(msg != MAP_FAILED);
	}
	msg[0] = '\0';
}

/* in_child - run fn(arg) in a forked child; its exit code, or 100 + signal */
static int
in_child(int (*fn)(const void *), const void *arg)
{
	pid_t pid;
	int st;

	shared_msg();
	fflush(NULL);
	if ((pid = fork()) < 0)
		return (-1);
	if (pid == 0)
		_exit(fn(arg));
	if (waitpid(pid, &st, 0) != pid)
		return (-1);
	return (WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st));
}

/* daemon_like - signal state like the daemon's: blocked for a signalfd, one ignored */
static void
daemon_like(void)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGTERM);
	sigaddset(&s, SIGHUP);
	sigaddset(&s, SIGINT);
	sigprocmask(SIG_BLOCK, &s, NULL);
	signal(SIGUSR1, SIG_IGN);
}

/* ---------------------------------------------------------------------- */
/* files */

/* make_dir - a fresh temporary directory (caller frees the name) */
static char *
make_dir(void)
{
	char tmpl[] = "/tmp/sg_run_XXXXXX";

	cr_assert(mkdtemp(tmpl) != NULL);
	return (strdup(tmpl));
}

/* rm_one - nftw callback: remove one entry */
static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	remove(path);
	return (0);
}

/* rm_dir - remove the directory and what is in it */
static void
rm_dir(char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

/* write_file - create path with data and mode */
static void
write_file(const char *path, const char *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	cr_assert(fd >= 0, "open %s: %s", path, strerror(errno));
	cr_assert(write(fd, data, len) == (ssize_t)len);
	close(fd);
	chmod(path, mode);
}

/* read_all - the contents of path (malloc'd, NUL added), NULL if missing */
static char *
read_all(const char *path, size_t *len)
{
	struct stat st;
	char *b;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return (NULL);
	fstat(fd, &st);
	b = malloc((size_t)st.st_size + 1);
	*len = (size_t)read(fd, b, (size_t)st.st_size);
	b[*len] = '\0';
	close(fd);
	return (b);
}

/* write_script - DIR/name as a #!/bin/sh script with body */
static void
write_script(const char *dir, const char *name, const char *body, mode_t mode)
{
	char path[512], text[2048];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(text, sizeof(text), "#!/bin/sh\n%s\n", body);
	write_file(path, text, strlen(text), mode);
}

/* pattern - n bytes of a pattern with every byte value, NULs included */
static char *
pattern(size_t n)
{
	char *b = malloc(n);
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (char)((i * 7 + i / 251) & 0xff);
	return (b);
}

/* expand - s with every "%D" replaced by dir, into buf */
static const char *
expand(const char *s, const char *dir, char *buf, size_t len)
{
	size_t o = 0, dl = strlen(dir);

	for (; *s != '\0' && o + dl + 1 < len; s++) {
		if (s[0] == '%' && s[1] == 'D') {
			memcpy(buf + o, dir, dl);
			o += dl;
			s++;
		} else
			buf[o++] = *s;
	}
	buf[o] = '\0';
	return (buf);
}

/*
 * pid_gone - process pid has ended (gone, or a zombie) within ~5 s: a
 * loaded machine may take a while to end a killed process
 */
static int
pid_gone(pid_t pid)
{
	char path[64], *stat;
	size_t len;
	int i, gone;

	for (i = 0; i < 250; i++) {
		if (kill(pid, 0) < 0 && errno == ESRCH)
			return (1);
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		if ((stat = read_all(path, &len)) == NULL)
			return (1);
		gone = strstr(stat, ") Z ") != NULL;
		free(stat);
		if (gone)
			return (1);
		usleep(20000);
	}
	return (0);
}

/* pid_from - the pid a script wrote to DIR/name, or 0 */
static pid_t
pid_from(const char *dir, const char *name)
{
	char path[512], *b, *end;
	size_t len;
	long v;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((b = read_all(path, &len)) == NULL)
		return (0);
	v = strtol(b, &end, 10);
	if (end == b)
		v = 0;
	free(b);
	return ((pid_t)v);
}

/* ---------------------------------------------------------------------- */
/* the loop harness */

struct waiter {
	struct ev *ev;
	int	want;			/* stop after this many done calls */
	int	calls;
	int	order[16];		/* ctx index of each done call */
	struct run_result res[16];
	struct runner *free_in_done;	/* runner_free from the first done */
};

struct slot {
	struct waiter *w;
	int	idx;
};

/* slot_done - done callback: copy the result into the waiter */
static void
slot_done(void *ctx, const struct run_result *r)
{
	struct slot *s = ctx;
	struct waiter *w = s->w;

	if (w->calls < 16) {
		w->order[w->calls] = s->idx;
		w->res[s->idx] = *r;
	}
	w->calls++;
	if (w->free_in_done != NULL) {
		runner_free(w->free_in_done);
		w->free_in_done = NULL;
	}
	if (w->calls >= w->want)
		ev_stop(w->ev);
}

/* guard_cb - the loop ran too long: flag it and stop */
static void
guard_cb(struct ev *ev, int id, void *ctx)
{
	(void)id;
	*(int *)ctx = 1;
	ev_stop(ev);
}

/* stop_cb - stop the loop */
static void
stop_cb(struct ev *ev, int id, void *ctx)
{
	(void)id;
	(void)ctx;
	ev_stop(ev);
}

/*
 * run_one - run argv through a fresh loop and runner until done; 0 with
 * *res filled, or 1 with msg set.
 */
static int
run_one(const char *const argv[], const char *in, size_t inlen, unsigned tmo,
	struct run_result *res)
{
	struct waiter *w = calloc(1, sizeof(*w));
	struct slot s = { w, 0 };
	struct runner *r;
	char err[256];
	int guard = 0, rc = 0;

	w->ev = ev_new();
	w->want = 1;
	r = runner_new(w->ev);
	if (w->ev == NULL || r == NULL)
		return (fail("ev_new/runner_new failed"));
	if (run_start(r, argv, in, inlen, tmo, slot_done, &s, err, sizeof(err)) < 0)
		rc = fail("run_start: %s", err);
	else {
		if (runner_active(r) != 1)
			rc = fail("runner_active %d after start", runner_active(r));
		ev_add_timer(w->ev, GUARD_MS, 0, guard_cb, &guard);
		ev_run(w->ev);
		if (guard)
			rc = fail("no done callback within %d ms", GUARD_MS);
		else if (w->calls != 1)
			rc = fail("done called %d times", w->calls);
		else if (runner_active(r) != 0)
			rc = fail("runner_active %d after done", runner_active(r));
		*res = w->res[0];
	}
	runner_free(r);
	ev_free(w->ev);
	free(w);
	return (rc);
}

/* ---------------------------------------------------------------------- */
/* one program per row */

enum in_kind { IN_NONE, IN_TEXT, IN_EMPTY, IN_BIG };

struct arow;
typedef int (*check_fn)(const struct arow *, const char *dir, const struct run_result *);

struct arow {
	const char *name;
	const char *script;		/* body of DIR/prog, or NULL */
	mode_t	mode;			/* of the script (0: 0755) */
	const char *prog;		/* no script: absolute, or a name in DIR */
	const char *args[10];		/* after the dir (scripts) or prog; %D = dir */
	enum in_kind in;
	unsigned tmo;
	int	exited, status, signaled, sig, timed_out, exec_errno;
	const char *out, *err;		/* exact; NULL: not checked */
	size_t	out_dropped, err_dropped;
	long	max_ms;			/* 0: GUARD_MS */
	long	min_ms;
	check_fn check;
	int	ign_chld;		/* the process ignores SIGCHLD before runner_new */
};

/* row_argv - the argv of row a (strings in bufs) */
static void
row_argv(const struct arow *a, const char *dir, const char *argv[], char bufs[][512])
{
	int n = 0, i;

	if (a->script != NULL) {
		argv[n++] = expand("%D/prog", dir, bufs[0], 512);
		argv[n++] = dir;
	} else if (a->prog[0] == '/')
		argv[n++] = a->prog;
	else {
		snprintf(bufs[0], 512, "%s/%s", dir, a->prog);
		argv[n++] = bufs[0];
	}
	for (i = 0; a->args[i] != NULL; i++, n++)
		argv[n] = expand(a->args[i], dir, bufs[i + 1], 512);
	argv[n] = NULL;
}

/* check_argv - DIR/argv (the script's /proc cmdline) holds each element exactly, nothing ran */
static int
check_argv(const struct arow *a, const char *dir, const struct run_result *r)
{
	const char *argv[16];
	char bufs[12][512], path[600], want[8192], *got;
	size_t wl = 0, gl, i, l;

	(void)r;
	row_argv(a, dir, argv, bufs);
	memcpy(want, "/bin/sh", 8);
	wl = 8;
	for (i = 0; argv[i] != NULL; i++) {
		l = strlen(argv[i]) + 1;
		memcpy(want + wl, argv[i], l);
		wl += l;
	}
	snprintf(path, sizeof(path), "%s/argv", dir);
	if ((got = read_all(path, &gl)) == NULL)
		return (fail("script wrote no argv file"));
	if (gl != wl || memcmp(got, want, wl) != 0) {
		free(got);
		return (fail("argv differs: got %zu bytes, want %zu", gl, wl));
	}
	free(got);
	snprintf(path, sizeof(path), "%s/X", dir);
	if (access(path, F_OK) == 0)
		return (fail("an argument was run as a command: %s exists", path));
	return (0);
}

/* check_big_in - DIR/in is the 1 MiB input, byte for byte */
static int
check_big_in(const struct arow *a, const char *dir, const struct run_result *r)
{
	char path[600], *got, *want;
	size_t gl;
	int bad;

	(void)a;
	(void)r;
	snprintf(path, sizeof(path), "%s/in", dir);
	if ((got = read_all(path, &gl)) == NULL)
		return (fail("script wrote no input copy"));
	want = pattern(BIG_IN);
	bad = gl != BIG_IN || memcmp(got, want, BIG_IN) != 0;
	free(got);
	free(want);
	return (bad ? fail("input copy has %zu bytes, want %d, or differs", gl, BIG_IN) : 0);
}

/* check_fds - `ls /proc/self/fd` saw 0, 1, 2 and its own directory (3) only */
static int
check_fds(const struct arow *a, const char *dir, const struct run_result *r)
{
	(void)a;
	(void)dir;
	if (strcmp(r->out, "0\n1\n2\n3\n") != 0)
		return (fail("descriptors open in the child: %s", r->out));
	return (0);
}

/* check_big_out - 8192 '?' (NULs replaced), the excess counted */
static int
check_big_out(const struct arow *a, const char *dir, const struct run_result *r)
{
	size_t i;

	(void)a;
	(void)dir;
	if (strlen(r->out) != RUN_OUT_MAX)
		return (fail("stdout kept %zu bytes, want %d", strlen(r->out), RUN_OUT_MAX));
	for (i = 0; i < RUN_OUT_MAX; i++)
		if (r->out[i] != '?')
			return (fail("stdout byte %zu is 0x%02x, want '?'", i, (unsigned char)r->out[i]));
	return (0);
}

/* check_grandchild_dead - the pid in DIR/pid was killed with its parent */
static int
check_grandchild_dead(const struct arow *a, const char *dir, const struct run_result *r)
{
	pid_t pid = pid_from(dir, "pid");

	(void)a;
	(void)r;
	if (pid <= 0)
		return (fail("script wrote no grandchild pid"));
	if (!pid_gone(pid)) {
		kill(pid, SIGKILL);
		return (fail("grandchild %d survived the time limit", (int)pid));
	}
	return (0);
}

/* check_grandchild_reap - clean-up: kill the grandchild left holding the pipe */
static int
check_grandchild_reap(const struct arow *a, const char *dir, const struct run_result *r)
{
	pid_t pid = pid_from(dir, "pid");

	(void)a;
	(void)r;
	if (pid <= 0)
		return (fail("script wrote no grandchild pid"));
	kill(pid, SIGKILL);
	return (0);
}

static const struct arow arows[] = {
	{ .name = "argv elements arrive byte-exact and are never run",
	  .script = "cat /proc/$$/cmdline > \"$1/argv\"",
	  .args = { "a b", ";", "$(touch %D/X)", "`touch %D/X`", "'\"", "one\ntwo",
		    "; touch %D/X", "", "\x01\xff", NULL },
	  .exited = 1, .status = 0, .out = "", .err = "", .check = check_argv },
	{ .name = "environment is exactly PATH and LANG",
	  .prog = "/usr/bin/env", .exited = 1,
	  .out = "PATH=/usr/sbin:/usr/bin:/sbin:/bin\nLANG=C\n", .err = "" },
	{ .name = "descriptors above 2 are closed",
	  .prog = "/bin/ls", .args = { "/proc/self/fd", NULL }, .exited = 1,
	  .check = check_fds },
	{ .name = "working directory is /",
	  .prog = "/bin/pwd", .exited = 1, .out = "/\n" },
	{ .name = "stdin text reaches the program",
	  .prog = "/bin/cat", .in = IN_TEXT, .exited = 1, .out = "hello\n" },
	{ .name = "no stdin data: /dev/null",
	  .prog = "/bin/cat", .in = IN_NONE, .exited = 1, .out = "" },
	{ .name = "empty stdin data: end of file at once",
	  .prog = "/bin/cat", .in = IN_EMPTY, .exited = 1, .out = "" },
	{ .name = "1 MiB of stdin arrives complete",
	  .script = "cat > \"$1/in\"", .in = IN_BIG, .exited = 1, .check = check_big_in },
	{ .name = "stdout and stderr captured, exit 3",
	  .script = "printf 'to out\\n'; printf 'to err\\n' >&2; exit 3",
	  .exited = 1, .status = 3, .out = "to out\n", .err = "to err\n" },
	{ .name = "output beyond RUN_OUT_MAX counted, NULs as '?'",
	  .script = "head -c 20000 /dev/zero; printf 'e\\000r' >&2",
	  .exited = 1, .err = "e?r", .out_dropped = 20000 - RUN_OUT_MAX,
	  .check = check_big_out },
	{ .name = "killed by SIGTERM although the runner's process blocks it",
	  .script = "kill -TERM $$; exit 0", .signaled = 1, .sig = SIGTERM },
	{ .name = "killed by SIGUSR1 although the runner's process ignores it",
	  .script = "kill -USR1 $$; exit 0", .signaled = 1, .sig = SIGUSR1 },
	{ .name = "killed by SIGKILL of its own: not a time-out",
	  .script = "kill -KILL $$; exit 0", .signaled = 1, .sig = SIGKILL },
	{ .name = "time limit: killed after 300 ms",
	  .script = "exec sleep 30", .tmo = 300, .signaled = 1, .sig = SIGKILL,
	  .timed_out = 1, .min_ms = 250, .max_ms = 5000 },
	{ .name = "time limit kills grandchildren too",
	  .script = "sleep 30 & echo $! > \"$1/pid\"; wait", .tmo = 300, .signaled = 1,
	  .sig = SIGKILL, .timed_out = 1, .min_ms = 250, .max_ms = 5000,
	  .check = check_grandchild_dead },
	{ .name = "a grandchild holding stdout does not hold up the result",
	  .script = "sleep 30 & echo $! > \"$1/pid\"; echo bye; exit 0", .tmo = 20000,
	  .exited = 1, .out = "bye\n", .max_ms = 3000, .check = check_grandchild_reap },
	{ .name = "SIGCHLD ignored by the process: the exit status still arrives",
	  .script = "exit 3", .exited = 1, .status = 3, .ign_chld = 1 },
	{ .name = "missing program: ENOENT, status 127",
	  .prog = "missing", .exited = 1, .status = 127, .exec_errno = ENOENT, .out = "" },
	{ .name = "program not executable: EACCES, status 127",
	  .script = "exit 0", .mode = 0644, .exited = 1, .status = 127, .exec_errno = EACCES },
	{ .name = "a directory as program: EACCES",
	  .prog = "/", .exited = 1, .status = 127, .exec_errno = EACCES },
};

/* arow_run - one row, in a forked child */
static int
arow_run(const void *arg)
{
	const struct arow *a = arg;
	struct run_result *res = calloc(1, sizeof(*res));
	const char *argv[16];
	char bufs[12][512];
	char *dir = make_dir(), *in = NULL;
	size_t inlen = 0;
	long max_ms = a->max_ms ? a->max_ms : GUARD_MS;
	int rc, keep;

	daemon_like();
	/* an inherited descriptor without close-on-exec, which must not reach the child */
	keep = open("/dev/null", O_RDONLY);
	if (keep < 0 || dup2(keep, 77) < 0)
		return (fail("cannot open the test descriptor"));
	if (a->script != NULL)
		write_script(dir, "prog", a->script, a->mode ? a->mode : 0755);
	if (a->in == IN_TEXT) {
		in = strdup("hello\n");
		inlen = 6;
	} else if (a->in == IN_EMPTY)
		in = strdup("");
	else if (a->in == IN_BIG) {
		in = pattern(BIG_IN);
		inlen = BIG_IN;
	}
	if (a->ign_chld)
		signal(SIGCHLD, SIG_IGN);
	row_argv(a, dir, argv, bufs);
	rc = run_one(argv, in, inlen, a->tmo, res);
	if (rc == 0) {
		if (res->exited != a->exited || (a->exited && res->status != a->status))
			rc = fail("exited %d status %d, want %d %d (err: %s)", res->exited,
				  res->status, a->exited, a->status, res->err);
		else if (res->signaled != a->signaled || res->sig != a->sig)
			rc = fail("signaled %d sig %d, want %d %d", res->signaled, res->sig,
				  a->signaled, a->sig);
		else if (res->timed_out != a->timed_out)
			rc = fail("timed_out %d, want %d", res->timed_out, a->timed_out);
		else if (res->exec_errno != a->exec_errno)
			rc = fail("exec_errno %d, want %d", res->exec_errno, a->exec_errno);
		else if (a->out != NULL && strcmp(res->out, a->out) != 0)
			rc = fail("stdout \"%s\", want \"%s\"", res->out, a->out);
		else if (a->err != NULL && strcmp(res->err, a->err) != 0)
			rc = fail("stderr \"%s\", want \"%s\"", res->err, a->err);
		else if (res->out_dropped != a->out_dropped || res->err_dropped != a->err_dropped)
			rc = fail("dropped %zu/%zu, want %zu/%zu", res->out_dropped,
				  res->err_dropped, a->out_dropped, a->err_dropped);
		else if (res->ms < a->min_ms || res->ms > max_ms)
			rc = fail("took %ld ms, want %ld..%ld", res->ms, a->min_ms, max_ms);
		else if (res->limit_ms != a->tmo)
			rc = fail("limit_ms %u, want %u", res->limit_ms, a->tmo);
		else if (a->check != NULL)
			rc = a->check(a, dir, res);
	}
	free(in);
	free(res);
	rm_dir(dir);
	return (rc);
}

Test(run, programs)
{
	size_t i;
	int rc;

	for (i = 0; i < NROWS(arows); i++) {
		rc = in_child(arow_run, &arows[i]);
		cr_expect_eq(rc, 0, "%s: %s (rc %d)", arows[i].name, msg, rc);
	}
}

/* ---------------------------------------------------------------------- */
/* several children at once */

struct prow {
	const char *delay;		/* seconds the script sleeps */
	int	status;
	unsigned tmo;
	int	timed_out;
};

static const struct prow prows[] = {
	{ "0.5", 1, 0, 0 },
	{ "0.5", 2, 0, 0 },
	{ "0", 3, 0, 0 },
	{ "0.5", 4, 0, 0 },
	{ "30", 0, 300, 1 },
	{ "0.5", 5, 0, 0 },
};

/* parallel_child - all rows at once; each gets its own result; no foreign child reaped */
static int
parallel_child(const void *arg)
{
	struct waiter *w = calloc(1, sizeof(*w));
	struct slot s[NROWS(prows)];
	char *dir = make_dir(), err[256];
	struct runner *r;
	pid_t other;
	int64_t t0;
	size_t i;
	int guard = 0, st, rc = 0;

	(void)arg;
	daemon_like();
	/* a child of the process that the runner must not reap */
	if ((other = fork()) == 0) {
		usleep(100000);
		_exit(42);
	}
	write_script(dir, "prog", "sleep $2; exit $3", 0755);
	w->ev = ev_new();
	w->want = NROWS(prows);
	r = runner_new(w->ev);
	t0 = now_ms();
	for (i = 0; i < NROWS(prows); i++) {
		char path[512], code[16];
		const char *argv[] = { path, dir, prows[i].delay, code, NULL };

		snprintf(path, sizeof(path), "%s/prog", dir);
		snprintf(code, sizeof(code), "%d", prows[i].status);
		s[i].w = w;
		s[i].idx = (int)i;
		if (run_start(r, argv, NULL, 0, prows[i].tmo, slot_done, &s[i], err,
			      sizeof(err)) < 0)
			return (fail("run_start %zu: %s", i, err));
	}
	if (runner_active(r) != (int)NROWS(prows))
		rc = fail("runner_active %d, want %zu", runner_active(r), NROWS(prows));
	ev_add_timer(w->ev, GUARD_MS, 0, guard_cb, &guard);
	ev_run(w->ev);
	if (guard)
		return (fail("only %d of %zu done", w->calls, NROWS(prows)));
	if (now_ms() - t0 > 2000)
		rc = fail("took %ld ms: children ran one after another",
			  (long)(now_ms() - t0));
	for (i = 0; i < NROWS(prows) && rc == 0; i++) {
		const struct run_result *res = &w->res[i];

		if (res->timed_out != prows[i].timed_out)
			rc = fail("child %zu: timed_out %d", i, res->timed_out);
		else if (!prows[i].timed_out && (!res->exited || res->status != prows[i].status))
			rc = fail("child %zu: exited %d status %d, want %d", i, res->exited,
				  res->status, prows[i].status);
	}
	if (rc == 0 && w->order[0] != 2)
		rc = fail("the child that did not sleep finished as number %d", w->order[0]);
	if (rc == 0 && (waitpid(other, &st, 0) != other || !WIFEXITED(st) ||
			WEXITSTATUS(st) != 42))
		rc = fail("the runner reaped a child that was not its own");
	runner_free(r);
	ev_free(w->ev);
	free(w);
	rm_dir(dir);
	return (rc);
}

Test(run, parallel)
{
	int rc = in_child(parallel_child, NULL);

	cr_assert_eq(rc, 0, "%s (rc %d)", msg, rc);
}

/* ---------------------------------------------------------------------- */
/* the loop keeps serving while a child runs */

struct ticker {
	int	wfd, rfd;
	int	written, read;
};

/* tick_cb - periodic: write one byte into the test pipe */
static void
tick_cb(struct ev *ev, int id, void *ctx)
{
	struct ticker *t = ctx;

	(void)ev;
	(void)id;
	if (write(t->wfd, "x", 1) == 1)
		t->written++;
}

/* tick_read_cb - the other end of the test pipe is readable */
static void
tick_read_cb(struct ev *ev, int fd, int events, void *ctx)
{
	struct ticker *t = ctx;
	char b[64];
	ssize_t n;

	(void)ev;
	(void)events;
	if ((n = read(fd, b, sizeof(b))) > 0)
		t->read += (int)n;
}

/* serving_child - 1 MiB to a child that sleeps before reading: ticks go on */
static int
serving_child(const void *arg)
{
	struct waiter *w = calloc(1, sizeof(*w));
	struct slot s = { w, 0 };
	struct ticker t = { -1, -1, 0, 0 };
	char *dir = make_dir(), path[512], err[256], *in = pattern(BIG_IN);
	const char *argv[] = { path, dir, NULL };
	struct runner *r;
	int p[2], guard = 0, rc = 0, tick;
	int64_t t0;

	(void)arg;
	daemon_like();
	write_script(dir, "prog", "sleep 0.6; cat > \"$1/in\"", 0755);
	snprintf(path, sizeof(path), "%s/prog", dir);
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return (fail("pipe"));
	t.rfd = p[0];
	t.wfd = p[1];
	w->ev = ev_new();
	w->want = 1;
	r = runner_new(w->ev);
	ev_add_fd(w->ev, t.rfd, EV_READ, tick_read_cb, &t);
	tick = ev_add_timer(w->ev, 30, 1, tick_cb, &t);
	t0 = now_ms();
	if (run_start(r, argv, in, BIG_IN, 0, slot_done, &s, err, sizeof(err)) < 0)
		return (fail("run_start: %s", err));
	if (now_ms() - t0 > 300)
		rc = fail("run_start took %ld ms: it waited on the child",
			  (long)(now_ms() - t0));
	ev_add_timer(w->ev, GUARD_MS, 0, guard_cb, &guard);
	ev_run(w->ev);
	if (rc == 0 && (guard || w->calls != 1))
		rc = fail("no result");
	else if (rc == 0 && !run_ok(&w->res[0]))
		rc = fail("child failed: %s", w->res[0].err);
	else if (rc == 0 && t.read < 10)
		rc = fail("only %d ticks served while the child ran %ld ms", t.read,
			  w->res[0].ms);
	if (rc == 0)
		rc = check_big_in(NULL, dir, &w->res[0]);
	ev_del_timer(w->ev, tick);
	ev_del_fd(w->ev, t.rfd);
	close(p[0]);
	close(p[1]);
	runner_free(r);
	ev_free(w->ev);
	free(in);
	free(w);
	rm_dir(dir);
	return (rc);
}

Test(run, loop_keeps_serving)
{
	int rc = in_child(serving_child, NULL);

	cr_assert_eq(rc, 0, "%s (rc %d)", msg, rc);
}

/* ---------------------------------------------------------------------- */
/* runner_free with children running */

struct frow {
	const char *name;
	int	from_done;		/* 0: from a timer; 1: from the done of a quick child */
};

static const struct frow frows[] = {
	{ "runner_free from outside: child killed, no callback", 0 },
	{ "runner_free from a done callback: the other child killed, no callback", 1 },
};

struct freer {
	struct runner *r;
	const char *pidfile;
	int	freed;
};

/* free_poll_cb - periodic: once the child wrote its pid, free the runner and stop soon */
static void
free_poll_cb(struct ev *ev, int id, void *ctx)
{
	struct freer *f = ctx;

	if (access(f->pidfile, F_OK) != 0 || f->freed)
		return;
	runner_free(f->r);
	f->freed = 1;
	ev_del_timer(ev, id);
	ev_add_timer(ev, 300, 0, stop_cb, NULL);
}

/* free_child - start a long child (and a quick one), free the runner, see what happens */
static int
free_child(const void *arg)
{
	const struct frow *fr = arg;
	struct waiter *w = calloc(1, sizeof(*w));
	struct slot s[2] = { { w, 0 }, { w, 1 } };
	char *dir = make_dir(), path[512], quick[512], pidfile[512], err[256];
	const char *argv[] = { path, dir, NULL };
	const char *qargv[] = { quick, dir, NULL };
	struct freer f;
	pid_t pid;
	int guard = 0, rc = 0;

	(void)arg;
	daemon_like();
	write_script(dir, "prog", "echo $$ > \"$1/pid.tmp\"; mv \"$1/pid.tmp\" \"$1/pid\"; exec sleep 30",
		     0755);
	write_script(dir, "quick", "while [ ! -f \"$1/pid\" ]; do sleep 0.05; done; exit 0", 0755);
	snprintf(path, sizeof(path), "%s/prog", dir);
	snprintf(quick, sizeof(quick), "%s/quick", dir);
	snprintf(pidfile, sizeof(pidfile), "%s/pid", dir);
	w->ev = ev_new();
	w->want = 99;
	f.r = runner_new(w->ev);
	f.pidfile = pidfile;
	f.freed = 0;
	if (run_start(f.r, argv, NULL, 0, 0, slot_done, &s[0], err, sizeof(err)) < 0)
		return (fail("run_start: %s", err));
	if (fr->from_done) {
		w->free_in_done = f.r;
		if (run_start(f.r, qargv, NULL, 0, 0, slot_done, &s[1], err, sizeof(err)) < 0)
			return (fail("run_start: %s", err));
		ev_add_timer(w->ev, 1500, 0, stop_cb, NULL);
	} else
		ev_add_timer(w->ev, 20, 1, free_poll_cb, &f);
	ev_add_timer(w->ev, GUARD_MS, 0, guard_cb, &guard);
	ev_run(w->ev);
	pid = pid_from(dir, "pid");
	if (guard)
		rc = fail("loop did not stop");
	else if (pid <= 0)
		rc = fail("the long child never started");
	else if (kill(pid, 0) == 0) {
		kill(pid, SIGKILL);
		rc = fail("the long child %d is still there after runner_free", (int)pid);
	} else if (w->calls != fr->from_done)
		rc = fail("%d done callbacks, want %d", w->calls, fr->from_done);
	else if (fr->from_done && (w->order[0] != 1 || !run_ok(&w->res[1])))
		rc = fail("the quick child's result is wrong");
	if (!fr->from_done && !f.freed)
		runner_free(f.r);
	ev_free(w->ev);
	free(w);
	rm_dir(dir);
	return (rc);
}

Test(run, runner_free_kills)
{
	size_t i;
	int rc;

	for (i = 0; i < NROWS(frows); i++) {
		rc = in_child(free_child, &frows[i]);
		cr_expect_eq(rc, 0, "%s: %s (rc %d)", frows[i].name, msg, rc);
	}
}

/* ---------------------------------------------------------------------- */
/* arguments refused before anything runs */

static const char *long_argv[RUN_ARGV_MAX + 2];

struct brow {
	const char *name;
	const char *argv[4];
	int	use_long;
	const char *errpart;
};

static const struct brow brows[] = {
	{ "relative program", { "postsuper", "-h", "-", NULL }, 0, "not absolute" },
	{ "dot-relative program", { "./postsuper", NULL }, 0, "not absolute" },
	{ "empty program", { "", NULL }, 0, "not absolute" },
	{ "no program", { NULL }, 0, "empty" },
	{ "too many arguments", { NULL }, 1, "more than" },
};

/* A result of the synchronous runner. */
struct sres_got {
	int	calls;
	struct run_result res;
};

/* res_done - done callback of the synchronous rows: keep the result */
static void
res_done(void *ctx, const struct run_result *r)
{
	struct sres_got *g = ctx;

	g->calls++;
	g->res = *r;
}

Test(run, bad_argv_refused)
{
	struct ev *ev = ev_new();
	struct runner *r = runner_new(ev), *sr = runner_new_sync();
	struct sres_got *res = calloc(1, sizeof(*res));
	char err[256];
	size_t i;
	int n;

	for (i = 0; i < RUN_ARGV_MAX + 1; i++)
		long_argv[i] = i == 0 ? "/bin/true" : "x";
	long_argv[RUN_ARGV_MAX + 1] = NULL;
	cr_assert(r != NULL);
	for (i = 0; i < NROWS(brows); i++) {
		const char *const *argv = brows[i].use_long ? long_argv : brows[i].argv;

		err[0] = '\0';
		n = run_start(r, argv, NULL, 0, 1000, slot_done, NULL, err, sizeof(err));
		cr_expect_eq(n, -1, "%s: run_start accepted it", brows[i].name);
		cr_expect(strstr(err, brows[i].errpart) != NULL, "%s: run_start err \"%s\"",
			  brows[i].name, err);
		cr_expect_eq(runner_active(r), 0, "%s: a child was counted", brows[i].name);
		err[0] = '\0';
		n = run_start(sr, argv, NULL, 0, 1000, res_done, res, err, sizeof(err));
		cr_expect_eq(n, -1, "%s: the synchronous runner accepted it", brows[i].name);
		cr_expect(strstr(err, brows[i].errpart) != NULL, "%s: synchronous err \"%s\"",
			  brows[i].name, err);
		cr_expect_eq(runner_active(sr), 0, "%s: a synchronous child was counted",
			     brows[i].name);
	}
	free(res);
	runner_free(r);
	runner_free(sr);
	ev_free(ev);
}

/* ---------------------------------------------------------------------- */
/* the synchronous runner */

struct srow {
	const char *name;
	const char *script;		/* DIR/prog body, or NULL */
	const char *prog;		/* else this */
	const char *arg;
	int	big_in;
	unsigned tmo;
	int	exited, status, timed_out, exec_errno;
	const char *out;
	long	min_ms, max_ms;
	int	grandchild;		/* kill the pid in DIR/pid afterwards */
};

static const struct srow srows[] = {
	{ "success with output", NULL, "/bin/echo", "hi", 0, 5000, 1, 0, 0, 0, "hi\n", 0, 5000, 0 },
	{ "failure exit 3", "echo no >&2; exit 3", NULL, NULL, 0, 5000, 1, 3, 0, 0, "", 0, 5000, 0 },
	{ "1 MiB stdin", NULL, "/usr/bin/wc", "-c", 1, 5000, 1, 0, 0, 0, "1048576\n", 0, 5000, 0 },
	{ "time limit with a grandchild", "sleep 30 & echo $! > \"$1/pid\"; wait", NULL, NULL, 0, 300,
	  0, 0, 1, 0, "", 250, 5000, 2 },
	{ "grandchild holding stdout after exit", "sleep 30 & echo $! > \"$1/pid\"; exit 0", NULL,
	  NULL, 0, 20000, 1, 0, 0, 0, "", 0, 3000, 1 },
	{ "missing program", NULL, "/nonexistent/postsuper", NULL, 0, 5000, 1, 127, 0, ENOENT, "",
	  0, 5000, 0 },
};

Test(run, sync)
{
	struct sres_got *got = calloc(1, sizeof(*got));
	struct run_result *res = &got->res;
	struct runner *r = runner_new_sync();
	char *dir = make_dir(), path[512], err[256];
	const char *argv[4];
	char *in = pattern(BIG_IN);
	size_t i;
	pid_t gc;
	int n;

	cr_assert(r != NULL && got != NULL);
	for (i = 0; i < NROWS(srows); i++) {
		const struct srow *s = &srows[i];

		if (s->script != NULL) {
			write_script(dir, "prog", s->script, 0755);
			snprintf(path, sizeof(path), "%s/prog", dir);
			argv[0] = path;
			argv[1] = dir;
		} else {
			argv[0] = s->prog;
			argv[1] = s->arg;
		}
		argv[2] = NULL;
		unlink(expand("%D/pid", dir, path + 256, 256));
		got->calls = 0;
		n = run_start(r, argv, s->big_in ? in : NULL, s->big_in ? BIG_IN : 0, s->tmo,
			      res_done, got, err, sizeof(err));
		cr_expect_eq(n, 0, "%s: run_start: %s", s->name, err);
		cr_expect_eq(got->calls, 0, "%s: done called inside run_start", s->name);
		cr_expect_eq(runner_active(r), 1, "%s: the result is not kept", s->name);
		runner_settle(r);
		cr_expect_eq(got->calls, 1, "%s: runner_settle called done %d times", s->name,
			     got->calls);
		cr_expect_eq(runner_active(r), 0, "%s: still counted after done", s->name);
		cr_expect_eq(res->exited, s->exited, "%s: exited %d", s->name, res->exited);
		if (s->exited)
			cr_expect_eq(res->status, s->status, "%s: status %d", s->name, res->status);
		cr_expect_eq(res->timed_out, s->timed_out, "%s: timed_out %d", s->name,
			     res->timed_out);
		cr_expect_eq(res->exec_errno, s->exec_errno, "%s: exec_errno %d", s->name,
			     res->exec_errno);
		cr_expect_str_eq(res->out, s->out, "%s: stdout \"%s\"", s->name, res->out);
		cr_expect(res->ms >= s->min_ms && res->ms <= s->max_ms, "%s: took %ld ms",
			  s->name, res->ms);
		if (s->grandchild) {
			gc = pid_from(dir, "pid");
			cr_expect(gc > 0, "%s: no grandchild pid", s->name);
			if (gc > 0 && s->grandchild == 2)
				cr_expect(pid_gone(gc), "%s: grandchild %d survived", s->name,
					  (int)gc);
			if (gc > 0)
				kill(gc, SIGKILL);
		}
	}
	runner_free(r);
	free(in);
	free(got);
	rm_dir(dir);
}

/* The order things happen in, for the synchronous runner's callbacks. */
struct seq {
	struct runner *r;
	char	log[256];
	struct run_timer soon, late, again;
	int	more;			/* runs still to start from a done */
};

static void
seq_put(struct seq *q, const char *what)
{
	size_t n = strlen(q->log);

	snprintf(q->log + n, sizeof(q->log) - n, "%s%s", n ? " " : "", what);
}

static void
seq_done(void *ctx, const struct run_result *res)
{
	static const char *const echo[] = { "/bin/echo", "next", NULL };
	struct seq *q = ctx;
	char err[256];

	seq_put(q, res->out[0] == 'n' ? "done-next" : "done");
	if (q->more-- > 0)
		cr_expect_eq(run_start(q->r, echo, NULL, 0, 5000, seq_done, q, err, sizeof(err)), 0,
			     "%s", err);
}

static void
seq_soon(void *ctx)
{
	seq_put(ctx, "soon");
}

static void
seq_late(void *ctx)
{
	seq_put(ctx, "late");
}

static void
seq_again(void *ctx)
{
	struct seq *q = ctx;

	seq_put(q, "again");
	run_timer_set(&q->soon, 1000, RUN_SOON);	/* armed from a timer: fires in the same settle */
}

/*
 * The synchronous runner delivers results in order, one done may start
 * another run (delivered in the same runner_settle), RUN_SOON timers fire
 * once no result is left, other timers never, and re-arming a RUN_SOON
 * timer without RUN_SOON disarms it.
 */
Test(run, sync_settle_order_and_timers)
{
	static const char *const t[] = { "/bin/true", NULL };
	struct seq *q = calloc(1, sizeof(*q));
	char err[256];

	cr_assert_not_null(q);
	cr_assert_not_null(q->r = runner_new_sync());
	run_timer_init(&q->soon, q->r, seq_soon, q);
	run_timer_init(&q->late, q->r, seq_late, q);
	run_timer_init(&q->again, q->r, seq_again, q);
	q->more = 1;
	cr_assert_eq(run_timer_set(&q->soon, 1000, RUN_SOON), 0);
	cr_assert_eq(run_timer_set(&q->late, 1, 0), 0);
	cr_assert_eq(run_timer_set(&q->again, 1000, RUN_SOON), 0);
	cr_assert_eq(run_start(q->r, t, NULL, 0, 5000, seq_done, q, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(q->log, "", "nothing happens before runner_settle");
	runner_settle(q->r);
	cr_expect_str_eq(q->log, "done done-next soon again soon",
	    "results in order, a done's run in the same settle, then the RUN_SOON timers: %s",
	    q->log);
	q->log[0] = '\0';
	run_timer_set(&q->soon, 1000, RUN_SOON);
	run_timer_set(&q->soon, 60000, 0);		/* re-armed as a plain timer: never */
	runner_settle(q->r);
	cr_expect_str_eq(q->log, "", "a plain timer never fires: %s", q->log);
	run_timer_set(&q->soon, 1000, RUN_SOON);
	run_timer_stop(&q->soon);
	runner_settle(q->r);
	cr_expect_str_eq(q->log, "", "a stopped timer does not fire: %s", q->log);
	run_timer_set(&q->soon, 1000, RUN_SOON);
	runner_free(q->r);			/* with a timer armed */
	free(q);
}

/* The loop's timers: fired ones forget their id, so re-arming never touches another timer. */
struct tl {
	struct ev *ev;
	struct run_timer a;
	int	fired_a, fired_other;
};

static void
tl_a(void *ctx)
{
	((struct tl *)ctx)->fired_a++;
}

static void
tl_other(struct ev *ev, int id, void *ctx)
{
	(void)id;
	((struct tl *)ctx)->fired_other++;
	ev_stop(ev);
}

static void
tl_step(struct ev *ev, int id, void *ctx)
{
	(void)id;
	(void)ctx;
	ev_stop(ev);
}

static int
timer_loop_row(const void *arg)
{
	struct tl t;
	struct runner *r;
	int other;

	(void)arg;
	memset(&t, 0, sizeof(t));
	if ((t.ev = ev_new()) == NULL || (r = runner_new(t.ev)) == NULL)
		return (fail("no loop"));
	run_timer_init(&t.a, r, tl_a, &t);
	run_timer_set(&t.a, 1, 0);
	ev_add_timer(t.ev, 50, 0, tl_step, &t);
	ev_run(t.ev);				/* a fires, and the loop deletes it */
	if (t.fired_a != 1)
		return (fail("the timer fired %d times", t.fired_a));
	other = ev_add_timer(t.ev, 300, 0, tl_other, &t);	/* may take a's old id */
	run_timer_set(&t.a, 60000, 0);		/* must not re-arm that other timer */
	ev_add_timer(t.ev, 2000, 0, tl_step, &t);
	ev_run(t.ev);
	if (other < 0 || t.fired_other != 1)
		return (fail("re-arming a fired timer took over another one (%d)", t.fired_other));
	run_timer_stop(&t.a);
	runner_free(r);
	ev_free(t.ev);
	return (0);
}

Test(run, loop_timer_forgets_fired_id)
{
	cr_expect_eq(in_child(timer_loop_row, NULL), 0, "%s", msg);
}

/* ---------------------------------------------------------------------- */
/* text */

struct drow {
	struct run_result r;
	const char *want;
};

static const struct drow drows[] = {
	{ { .exited = 1, .status = 0 }, "exit 0" },
	{ { .exited = 1, .status = 1 }, "exit 1" },
	{ { .signaled = 1, .sig = 9 }, "killed by signal 9" },
	{ { .signaled = 1, .sig = 9, .timed_out = 1, .limit_ms = 30000 }, "timed out after 30 s" },
	{ { .signaled = 1, .sig = 9, .timed_out = 1, .limit_ms = 300 }, "timed out after 300 ms" },
	{ { .exited = 1, .status = 127, .exec_errno = ENOENT },
	  "cannot execute: No such file or directory" },
	{ { .exited = 1, .status = 127, .exec_errno = EACCES }, "cannot execute: Permission denied" },
	{ { .exited = 0 }, "ended with unknown status" },
};

Test(run, describe)
{
	char buf[128];
	size_t i;

	for (i = 0; i < NROWS(drows); i++)
		cr_expect_str_eq(run_describe(&drows[i].r, buf, sizeof(buf)), drows[i].want,
				 "row %zu", i);
}

struct trow {
	const char *argv[5];
	size_t	len;			/* buffer size; 0: 256 */
	const char *want;
};

static const struct trow trows[] = {
	{ { "/usr/sbin/postsuper", "-h", "-", NULL }, 0, "/usr/sbin/postsuper -h -" },
	{ { "/bin/x", "a b", NULL }, 0, "/bin/x 'a b'" },
	{ { "/bin/x", "", NULL }, 0, "/bin/x ''" },
	{ { "/bin/x", "evil\nsendguard: unblocked", NULL }, 0,
	  "/bin/x 'evil\\x0asendguard: unblocked'" },
	{ { "/bin/x", "tab\there", NULL }, 0, "/bin/x tab\\x09here" },
	{ { "/bin/x", "it's", NULL }, 0, "/bin/x it\\x27s" },
	{ { "/bin/x", "a 'b' c", NULL }, 0, "/bin/x 'a \\x27b\\x27 c'" },
	{ { "/bin/x", "back\\slash", NULL }, 0, "/bin/x back\\x5cslash" },
	{ { "/bin/x", "caf\xc3\xa9", "\x7f\x1b[2J", NULL }, 0, "/bin/x caf\\xc3\\xa9 \\x7f\\x1b[2J" },
	{ { "/bin/x", "$(id);`id`", NULL }, 0, "/bin/x $(id);`id`" },
	{ { "/bin/x", "a b", "cdef", NULL }, 12, "/bin/x '..." },
	{ { "/bin/x", "\x01\x02", NULL }, 12, "/bin/x ..." },
	{ { "/bin/x", NULL }, 3, "" },
	{ { NULL }, 0, "" },
};

Test(run, argv_text)
{
	char buf[300];
	size_t i, len;
	const char *got;

	for (i = 0; i < NROWS(trows); i++) {
		len = trows[i].len ? trows[i].len : 256;
		memset(buf, 'Z', sizeof(buf));
		got = run_argv_text(trows[i].argv, buf, len);
		cr_expect_str_eq(got, trows[i].want, "row %zu: \"%s\"", i, got);
		cr_expect(strlen(got) < len, "row %zu: overflow", i);
		cr_expect_eq(buf[len], 'Z', "row %zu: wrote past the buffer", i);
	}
}
