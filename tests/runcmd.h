/*
 * runcmd.h - what the tests share, header-only: run the sendguard binary
 * (fork + execve, stdin from a file or /dev/null, stdout and stderr
 * captured into memory); a daemon started, asked for its status, waited
 * for; the stand-in Postfix programs and the record of their calls; log
 * lines in the formats Postfix writes; the parts of status JSON.
 * Nothing here asserts: helpers return what they found, the tests judge.
 */
#ifndef SG_TEST_RUNCMD_H
#define SG_TEST_RUNCMD_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"

extern char **environ;

struct cmdres {
	int	status;			/* exit code, or 128 + signal */
	char   *out, *err;		/* NUL-terminated, caller frees */
};

static inline const char *
sg_bin(void)
{
	const char *b = getenv("SG_BIN");

	return (b ? b : "build/san/sendguard");
}

static inline const char *
sg_shared(void)
{
	const char *s = getenv("SG_SHARED");

	return (s ? s : "../shared");
}

static inline char *
slurp_fd(int fd)
{
	size_t cap = 4096, n = 0;
	char *b = malloc(cap);
	ssize_t r;

	lseek(fd, 0, SEEK_SET);
	while ((r = read(fd, b + n, cap - n - 1)) > 0) {
		n += (size_t)r;
		if (cap - n < 2)
			b = realloc(b, cap *= 2);
	}
	b[n] = '\0';
	return (b);
}

/* runcmd - argv[0] is the program path; infile NULL means /dev/null */
static inline struct cmdres
runcmd(const char *const argv[], const char *infile)
{
	struct cmdres r = { -1, NULL, NULL };
	char *av[64];
	int i;
	FILE *o = tmpfile(), *e = tmpfile();
	pid_t pid;
	int st;

	if (o == NULL || e == NULL)
		return (r);
	for (i = 0; i < 63 && argv[i] != NULL; i++)
		av[i] = (char *)(uintptr_t)argv[i];	/* execve's prototype predates const */
	av[i] = NULL;
	if ((pid = fork()) == 0) {
		int in = open(infile ? infile : "/dev/null", O_RDONLY);

		dup2(in, 0);
		dup2(fileno(o), 1);
		dup2(fileno(e), 2);
		execve(av[0], av, environ);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r.out = slurp_fd(fileno(o));
	r.err = slurp_fd(fileno(e));
	fclose(o);
	fclose(e);
	return (r);
}

static inline void
cmdres_free(struct cmdres *r)
{
	free(r->out);
	free(r->err);
}

/* sg_msleep - sleep ms milliseconds, through signals */
static inline void
sg_msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* sg_jnum - the number after key in a JSON text (0 when absent) */
static inline unsigned long long
sg_jnum(const char *js, const char *key)
{
	const char *p = strstr(js, key);

	return (p ? strtoull(p + strlen(key), NULL, 10) : 0);
}

/* sg_spawn_daemon - `sendguard run -f -c conf`, stdout and stderr appended to errpath */
static inline pid_t
sg_spawn_daemon(const char *conf, const char *errpath)
{
	pid_t pid;

	if ((pid = fork()) == 0) {
		int e = open(errpath, O_WRONLY | O_CREAT | O_APPEND, 0644);
		int n = open("/dev/null", O_RDONLY);

		dup2(n, 0);
		dup2(e, 1);
		dup2(e, 2);
		execl(sg_bin(), sg_bin(), "run", "-f", "-c", conf, (char *)NULL);
		_exit(127);
	}
	return (pid);
}

/* sg_kill_wait - send sig and reap; the wait status, or -1 */
static inline int
sg_kill_wait(pid_t pid, int sig)
{
	int st;

	kill(pid, sig);
	return (waitpid(pid, &st, 0) == pid ? st : -1);
}

/*
 * sg_stopped - send sig, reap, and say whether it went as it should: 1
 * when it was reaped and, for SIGTERM, exited 0 (a clean stop); else 0
 */
static inline int
sg_stopped(pid_t pid, int sig)
{
	int st = sg_kill_wait(pid, sig);

	if (st == -1)
		return (0);
	return (sig != SIGTERM || (WIFEXITED(st) && WEXITSTATUS(st) == 0));
}

/* sg_status_json - `status --json -c conf` output (caller frees), NULL if it failed */
static inline char *
sg_status_json(const char *conf)
{
	const char *argv[] = { sg_bin(), "status", "--json", "-c", conf, NULL };
	struct cmdres r = runcmd(argv, NULL);

	if (r.status != 0) {
		cmdres_free(&r);
		return (NULL);
	}
	free(r.err);
	return (r.out);
}

/* sg_status_running - the running daemon's status JSON (caller frees); NULL while none answers */
static inline char *
sg_status_running(const char *conf)
{
	char *js = sg_status_json(conf);

	if (js != NULL && strstr(js, "\"running\": true") == NULL) {
		free(js);
		return (NULL);
	}
	return (js);
}

/* sg_caught_up - the daemon of conf has read path (its current inode) to its end */
static inline int
sg_caught_up(const char *conf, const char *path)
{
	struct stat st;
	char *js = sg_status_running(conf);
	int ok;

	if (js == NULL)
		return (0);
	ok = stat(path, &st) == 0 && sg_jnum(js, "\"ino\": ") == (unsigned long long)st.st_ino &&
	    sg_jnum(js, "\"offset\": ") == (unsigned long long)st.st_size;
	free(js);
	return (ok);
}

/* sg_wait_caught_up - sg_caught_up, tried every 50 ms up to tries times; the last answer */
static inline int
sg_wait_caught_up(const char *conf, const char *path, int tries)
{
	int i;

	for (i = 0; i < tries && !sg_caught_up(conf, path); i++)
		sg_msleep(50);
	return (sg_caught_up(conf, path));
}

/* sg_wait_running - 1 once the daemon of conf answers (10 s at most) */
static inline int
sg_wait_running(const char *conf)
{
	char *js = NULL;
	int i, ok;

	for (i = 0; i < 400 && (js = sg_status_running(conf)) == NULL; i++)
		sg_msleep(25);
	ok = js != NULL;
	free(js);
	return (ok);
}

/*
 * sg_lower_tmpdir - a new temporary directory "/tmp/PREFIX-XXXXXX" into
 * dir whose name has no upper case letter (sendguard folds SASL logins to
 * lower case, and tests' logins name files in it, which must be the same
 * path after folding); 0, or -1
 */
static inline int
sg_lower_tmpdir(char *dir, size_t size, const char *prefix)
{
	int i, j, lower = 0;

	for (i = 0; i < 2000 && !lower; i++) {
		snprintf(dir, size, "/tmp/%s-XXXXXX", prefix);
		if (mkdtemp(dir) == NULL)
			return (-1);
		for (lower = 1, j = 0; dir[j]; j++)
			if (dir[j] >= 'A' && dir[j] <= 'Z')
				lower = 0;
		if (!lower)
			rmdir(dir);
	}
	return (lower ? 0 : -1);
}

/* sg_rm_tmpdir - rm -rf dir, unless SG_KEEP is set (to look at it after a failure) */
static inline void
sg_rm_tmpdir(const char *dir)
{
	const char *argv[] = { getenv("SG_KEEP") ? "/bin/true" : "/bin/rm", "-rf", dir, NULL };
	struct cmdres r = runcmd(argv, NULL);

	cmdres_free(&r);
}

/* sg_path - DIR/NAME in one of 8 static buffers that take turns (so a call may use several) */
static inline char *
sg_path(const char *dir, const char *name)
{
	static char bufs[8][512];
	static int i;

	i = (i + 1) % 8;
	snprintf(bufs[i], sizeof(bufs[i]), "%s/%s", dir, name);
	return (bufs[i]);
}

/* sg_slurp_path - the file's bytes, NUL-terminated (caller frees); NULL when it does not exist */
static inline char *
sg_slurp_path(const char *path)
{
	int fd = open(path, O_RDONLY);
	char *b;

	if (fd < 0)
		return (NULL);
	b = slurp_fd(fd);
	close(fd);
	return (b);
}

/* sg_file_has - path exists and contains needle */
static inline int
sg_file_has(const char *path, const char *needle)
{
	char *b = sg_slurp_path(path);
	int ok = b != NULL && strstr(b, needle) != NULL;

	free(b);
	return (ok);
}

/*
 * sg_standin - DIR/bin/NAME, a stand-in for a Postfix program: it appends
 * "== NAME", its argv one element a line, "-- stdin", its standard input
 * and "-- end" to DIR/calls.log; then it hangs while DIR/hang-NAME exists
 * (60 s at most), prints DIR/say-NAME on stderr, and fails (exit 1) while
 * DIR/fail-NAME exists.  0, or -1 when it cannot be written.
 */
static inline int
sg_standin(const char *dir, const char *name)
{
	char p[512];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/bin/%s", dir, name);
	if ((fp = fopen(p, "w")) == NULL)
		return (-1);
	fprintf(fp, "#!/bin/sh\n"
	    "D='%s'\nN='%s'\n"
	    "t=\"$D/rec.$$\"\n"
	    "{ printf '== %%s\\n' \"$N\"; printf '%%s\\n' \"$@\"; echo '-- stdin'; cat; echo '-- end'; } > \"$t\"\n"
	    "cat \"$t\" >> \"$D/calls.log\"; rm -f \"$t\"\n"
	    "i=0\n"
	    "while [ -e \"$D/hang-$N\" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done\n"
	    "if [ -e \"$D/say-$N\" ]; then cat \"$D/say-$N\" >&2; fi\n"
	    "if [ -e \"$D/fail-$N\" ]; then echo \"stand-in $N refuses: fail flag set\" >&2; exit 1; fi\n"
	    "exit 0\n", dir, name);
	return (fclose(fp) == 0 && chmod(p, 0755) == 0 ? 0 : -1);
}

/* sg_standins - DIR/bin with every stand-in sendguard runs, and DIR/etc for the maps; 0 or -1 */
static inline int
sg_standins(const char *dir)
{
	static const char *const prog[] = { "postsuper", "postmap", "postfix", "sendmail", "exec" };
	char p[512];
	size_t i;

	snprintf(p, sizeof(p), "%s/bin", dir);
	if (mkdir(p, 0755) < 0)
		return (-1);
	snprintf(p, sizeof(p), "%s/etc", dir);
	if (mkdir(p, 0755) < 0)
		return (-1);
	for (i = 0; i < sizeof(prog) / sizeof(prog[0]); i++)
		if (sg_standin(dir, prog[i]) < 0)
			return (-1);
	return (0);
}

/* One call recorded by a stand-in. */
struct sg_call {
	char   *name;
	char  **arg;
	int	narg;
	char  **in;
	int	nin;
};

struct sg_calls {
	struct sg_call *c;
	int	n;
	char   *buf;
};

static inline void
sg_push(char ***v, int *n, char *s)
{
	*v = realloc(*v, (size_t)(*n + 1) * sizeof(**v));
	(*v)[(*n)++] = s;
}

/* sg_calls_load - the calls recorded in path from byte offset from on */
static inline void
sg_calls_load(struct sg_calls *cs, const char *path, long from)
{
	char *all = sg_slurp_path(path), *p, *nl;
	int state = 0;			/* 0 between, 1 args, 2 stdin */
	struct sg_call *c = NULL;

	memset(cs, 0, sizeof(*cs));
	if (all == NULL)
		return;
	if (from > (long)strlen(all))
		from = (long)strlen(all);
	cs->buf = strdup(all + from);
	free(all);
	for (p = cs->buf; *p; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		*nl = '\0';
		if (state == 0 && strncmp(p, "== ", 3) == 0) {
			cs->c = realloc(cs->c, (size_t)(cs->n + 1) * sizeof(*cs->c));
			c = &cs->c[cs->n++];
			memset(c, 0, sizeof(*c));
			c->name = p + 3;
			state = 1;
		} else if (state == 1 && strcmp(p, "-- stdin") == 0)
			state = 2;
		else if (state == 1)
			sg_push(&c->arg, &c->narg, p);
		else if (state == 2 && strcmp(p, "-- end") == 0)
			state = 0;
		else if (state == 2)
			sg_push(&c->in, &c->nin, p);
	}
}

static inline void
sg_calls_free(struct sg_calls *cs)
{
	int i;

	for (i = 0; i < cs->n; i++) {
		free(cs->c[i].arg);
		free(cs->c[i].in);
	}
	free(cs->c);
	free(cs->buf);
}

/* sg_has_arg - some argv element of c is a */
static inline int
sg_has_arg(const struct sg_call *c, const char *a)
{
	int i;

	for (i = 0; i < c->narg; i++)
		if (strcmp(c->arg[i], a) == 0)
			return (1);
	return (0);
}

/* sg_ncalls - calls of name (with argument flag if not NULL) in path since offset from */
static inline int
sg_ncalls(const char *path, const char *name, const char *flag, long from)
{
	struct sg_calls cs;
	int i, n = 0;

	sg_calls_load(&cs, path, from);
	for (i = 0; i < cs.n; i++)
		if (strcmp(cs.c[i].name, name) == 0 && (flag == NULL || sg_has_arg(&cs.c[i], flag)))
			n++;
	sg_calls_free(&cs);
	return (n);
}

static inline int
sg_cmp_str(const void *a, const void *b)
{
	return (strcmp(*(const char *const *)a, *(const char *const *)b));
}

/*
 * sg_stdin_union - the sorted set of standard input lines fed to name
 * calls having argument flag, since offset from, one a line (caller frees)
 */
static inline char *
sg_stdin_union(const char *path, const char *name, const char *flag, long from)
{
	struct sg_calls cs;
	char **v = NULL, *out;
	int i, j, n = 0;
	size_t len = 1, o = 0;

	sg_calls_load(&cs, path, from);
	for (i = 0; i < cs.n; i++)
		if (strcmp(cs.c[i].name, name) == 0 && sg_has_arg(&cs.c[i], flag))
			for (j = 0; j < cs.c[i].nin; j++)
				sg_push(&v, &n, cs.c[i].in[j]);
	if (n > 0)
		qsort(v, (size_t)n, sizeof(*v), sg_cmp_str);
	for (i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	out = malloc(len);
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0 && strcmp(v[i], v[i - 1]) == 0)
			continue;
		memcpy(out + o, v[i], strlen(v[i]));
		o += strlen(v[i]);
		out[o++] = '\n';
		out[o] = '\0';
	}
	free(v);
	sg_calls_free(&cs);
	return (out);
}

/* sg_call_is - some call of name since offset from has exactly the argv want (NULL-terminated) */
static inline int
sg_call_is(const char *path, long from, const char *name, const char *const want[])
{
	struct sg_calls cs;
	int i, j, nw = 0, ok = 0;

	while (want[nw] != NULL)
		nw++;
	sg_calls_load(&cs, path, from);
	for (i = 0; i < cs.n && !ok; i++) {
		if (strcmp(cs.c[i].name, name) != 0 || cs.c[i].narg != nw)
			continue;
		for (j = 0; j < nw && strcmp(cs.c[i].arg[j], want[j]) == 0; j++)
			;
		ok = j == nw;
	}
	sg_calls_free(&cs);
	return (ok);
}

/* sg_call_order - the names of the calls since offset from, space-separated (caller frees) */
static inline char *
sg_call_order(const char *path, long from)
{
	struct sg_calls cs;
	char *out = calloc(1, 4096);
	size_t o = 0;
	int i;

	sg_calls_load(&cs, path, from);
	for (i = 0; i < cs.n; i++)
		o += (size_t)snprintf(out + o, 4096 - o, "%s%s", o ? " " : "", cs.c[i].name);
	sg_calls_free(&cs);
	return (out);
}

/* sg_map_entries - the map's lines after its '#' header (caller frees), NULL without a map */
static inline char *
sg_map_entries(const char *path, int *headers)
{
	char *b = sg_slurp_path(path), *p;
	int h = 0;

	if (b == NULL)
		return (NULL);
	for (p = b; *p == '#'; h++) {
		char *nl = strchr(p, '\n');

		p = nl ? nl + 1 : p + strlen(p);
	}
	if (headers)
		*headers = h;
	memmove(b, p, strlen(p) + 1);
	return (b);
}

/*
 * sg_section - the text of status JSON from key up to the next array key
 * that begins a line (a top-level one: not an entry's "ips": [...]);
 * caller frees
 */
static inline char *
sg_section(const char *js, const char *key)
{
	const char *p = strstr(js, key), *e, *b;

	if (p == NULL)
		return (strdup(""));
	for (e = p + strlen(key); (e = strstr(e, "\": [")) != NULL; e++) {
		for (b = e; b > p && b[-1] != '\n'; b--)
			;
		if (b[strspn(b, " ")] == '"' && b + strspn(b, " ") < e &&
		    memchr(b + strspn(b, " ") + 1, '"', (size_t)(e - b - strspn(b, " ") - 1)) == NULL)
			break;
	}
	if (e == NULL)
		e = p + strlen(p);
	return (strndup(p, (size_t)(e - p)));
}

/* sg_blocked_entry - the status "blocked" object of identity (caller frees; NULL if none) */
static inline char *
sg_blocked_entry(const char *js, const char *identity)
{
	char *sec = sg_section(js, "\"blocked\": ["), want[1200], *p, *e, *r = NULL;

	snprintf(want, sizeof(want), "{\"identity\": \"%s\"", identity);
	if ((p = strstr(sec, want)) != NULL && (e = strchr(p, '}')) != NULL)
		r = strndup(p, (size_t)(e - p + 1));
	free(sec);
	return (r);
}

/* sg_stamp - log time t as RFC 3339 with microseconds that count up (each line its own) */
static inline void
sg_stamp(char *buf, size_t len, time_t t)
{
	static unsigned us;
	struct tm tm;
	char tb[32];

	gmtime_r(&t, &tm);
	strftime(tb, sizeof(tb), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%06u+00:00", tb, us++ % 1000000);
}

/*
 * sg_log_msg_ip - an accepted message of login from envelope sender from,
 * sent from client address ip: the submission smtpd line and the qmgr
 * line where it counts
 */
static inline void
sg_log_msg_ip(FILE *fp, time_t t, const char *qid, const char *login, const char *from,
    const char *ip)
{
	char tb[64];

	sg_stamp(tb, sizeof(tb), t);
	fprintf(fp, "%s mx postfix/submission/smtpd[100]: %s: client=h.example.net[%s], "
	    "sasl_method=PLAIN, sasl_username=%s\n", tb, qid, ip, login);
	sg_stamp(tb, sizeof(tb), t);
	fprintf(fp, "%s mx postfix/qmgr[50]: %s: from=<%s>, size=100, nrcpt=1 (queue active)\n",
	    tb, qid, from);
}

/* sg_log_msg - sg_log_msg_ip() from 192.0.2.10 */
static inline void
sg_log_msg(FILE *fp, time_t t, const char *qid, const char *login, const char *from)
{
	sg_log_msg_ip(fp, t, qid, login, from, "192.0.2.10");
}

/* sg_log_line - any other line of a Postfix daemon: "removed", "placed on hold" */
static inline void
sg_log_line(FILE *fp, time_t t, const char *daemon, const char *qid, const char *what)
{
	char tb[64];

	sg_stamp(tb, sizeof(tb), t);
	fprintf(fp, "%s mx postfix/%s: %s: %s\n", tb, daemon, qid, what);
}

/* sg_cpu_ticks - utime + stime of pid from /proc (clock ticks), or -1 */
static inline long
sg_cpu_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	long ut;
	int i;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return (-1);
	p = fgets(buf, sizeof(buf), fp);
	fclose(fp);
	if (p == NULL || (p = strrchr(buf, ')')) == NULL)
		return (-1);
	/* fields after ")": state(3) ... utime(14) stime(15) */
	for (i = 3, p += 2; i < 14 && p; i++)
		p = strchr(p, ' ') ? strchr(p, ' ') + 1 : NULL;
	if (p == NULL)
		return (-1);
	ut = strtol(p, &p, 10);
	return (ut + strtol(p, NULL, 10));
}

/*
 * sg_lock_hold - a child process that holds db's write lock (a batch
 * begun, as a backup or sqlite3 by hand would) until sg_lock_release();
 * its pid with the releasing descriptor in *release, or -1
 */
static inline pid_t
sg_lock_hold(const char *db, int *release)
{
	int go[2], ready[2];
	pid_t pid;
	char c;

	if (pipe2(go, O_CLOEXEC) < 0)
		return (-1);
	if (pipe2(ready, O_CLOEXEC) < 0) {
		close(go[0]);
		close(go[1]);
		return (-1);
	}
	if ((pid = fork()) < 0) {
		close(go[0]);
		close(go[1]);
		close(ready[0]);
		close(ready[1]);
		return (-1);
	}
	if (pid == 0) {
		struct store *o = NULL;
		char err[512];

		close(go[1]);
		close(ready[0]);
		if (store_open(&o, db, 0, err, sizeof(err)) < 0 || store_begin(o, err, sizeof(err)) < 0)
			_exit(1);
		(void)!write(ready[1], "r", 1);
		(void)!read(go[0], &c, 1); /* until the other end closes */
		store_rollback(o);
		store_close(o);
		_exit(0);
	}
	close(go[0]);
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1) { /* it could not take the lock */
		close(ready[0]);
		close(go[1]);
		(void)waitpid(pid, NULL, 0);
		return (-1);
	}
	close(ready[0]);
	*release = go[1];
	return (pid);
}

/* sg_lock_release - let sg_lock_hold()'s child go and reap it; 1 when it exited 0 */
static inline int
sg_lock_release(pid_t pid, int release)
{
	int st;

	close(release);
	return (waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/*
 * sg_idle_ticks - the clock ticks pid used in 10 s of idleness, measured
 * from 1.5 s on (past the daemon's retention timer, whose first run is
 * 1 s after its start), or -1 when /proc does not tell
 */
static inline long
sg_idle_ticks(pid_t pid)
{
	long before, after;

	sg_msleep(1500);
	if ((before = sg_cpu_ticks(pid)) < 0)
		return (-1);
	sg_msleep(10000);
	if ((after = sg_cpu_ticks(pid)) < 0)
		return (-1);
	return (after - before);
}

/*
 * SG_COUNT_ALL - rules whose 30-day windows count every identity of each
 * kind, so that `status --json` lists every count (none is ever reached)
 */
#define SG_COUNT_ALL \
	"[limit s]\nby = sasl\nmessages = 100000000/30d\nrecipients = 100000000/30d\n" \
	"bounces = 100000000/30d\n" \
	"[limit u]\nby = uid\nmessages = 100000000/30d\nrecipients = 100000000/30d\n" \
	"[limit f]\nby = sender\nmessages = 100000000/30d\nrecipients = 100000000/30d\n" \
	"bounces = 100000000/30d\n" \
	"[limit i]\nby = ip\nmessages = 100000000/30d\nrecipients = 100000000/30d\n" \
	"bounces = 100000000/30d\n"

/* sg_count_rule - the SG_COUNT_ALL rule of identity id: s, u, f or i */
static inline char
sg_count_rule(const char *id)
{
	return (strncmp(id, "sasl:", 5) == 0 ? 's'
		: id[0] == 'u'		    ? 'u'
		: id[0] == 's'		    ? 'f'
					    : 'i');
}

/*
 * sg_truth_mismatches - status JSON js (under SG_COUNT_ALL) against the
 * identity lines of loggen's truth file: each identity's messages and
 * recipients in its 30-day window, its bounced recipients (logins, senders
 * and clients that had any), and no other row.  Prints each
 * mismatch on stderr; returns how many there were (-1: no truth file),
 * and the truth's identities in *ids.
 */
static inline int
sg_truth_mismatches(const char *js, const char *truthp, int *ids)
{
	char *truth = sg_slurp_path(truthp), *line, *save = NULL;
	int rows = 0, brows = 0, bad = 0, k;
	const char *p;

	*ids = 0;
	if (truth == NULL)
		return (-1);
	for (line = strtok_r(truth, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		static const char *const lim[3] = { "messages", "recipients", "bounces" };
		char *f2, *f3, *f4, want[700];
		long n[3];

		if (strncmp(line, "identity\t", 9) != 0 || (f2 = strchr(line + 9, '\t')) == NULL ||
		    (f3 = strchr(f2 + 1, '\t')) == NULL || (f4 = strchr(f3 + 1, '\t')) == NULL)
			continue;
		*f2++ = '\0';
		*f3++ = '\0';
		*f4++ = '\0';
		n[0] = strtol(f2, NULL, 10);
		n[1] = strtol(f3, NULL, 10);
		n[2] = strtol(f4, NULL, 10);
		for (k = 0; k < 3; k++) {
			if (k == 2 && (n[2] == 0 || sg_count_rule(line + 9) == 'u'))
				break; /* no bounces window for uids; none listed at 0 */
			snprintf(want, sizeof(want), "{\"identity\": \"%s\", \"rule\": \"%c\", "
			    "\"limit\": \"%s\", \"window\": \"30d\", \"count\": %ld,", line + 9,
			    sg_count_rule(line + 9), lim[k], n[k]);
			if (strstr(js, want) == NULL && ++bad <= 20)
				fprintf(stderr, "status lacks %s\n", want);
			brows += k == 2;
		}
		(*ids)++;
	}
	for (p = js; (p = strstr(p, "{\"identity\": ")) != NULL; p++)
		rows++;
	if (rows != 2 * *ids + brows) {
		fprintf(stderr, "status has %d rows for %d identities, %d with bounces\n", rows,
		    *ids, brows);
		bad++;
	}
	if (*ids > 100 && brows < 10) {
		fprintf(stderr, "only %d identities with bounces: is loggen's truth old?\n", brows);
		bad++;
	}
	free(truth);
	return (bad);
}

#endif
