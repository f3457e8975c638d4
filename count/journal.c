/*
 * NAME
 *	journal - the systemd journal as a log source (see journal.h)
 * SUMMARY
 *	One sd_journal per source: sd_journal_open(SD_JOURNAL_LOCAL_ONLY)
 *	for the local system journal (the system's files and every user's:
 *	an entry forged by a user lands in that user's file, and is counted
 *	as untrusted only if it is read), sd_journal_open_directory() or
 *	sd_journal_open_files() for journal:PATH.  An entry's fields are
 *	read in one pass (sd_journal_enumerate_available_data()) and the six
 *	that matter copied into the object's fixed buffers as they come,
 *	because sd-journal keeps a returned value valid only until its next
 *	call; the MESSAGE of an entry that is not trusted is never handed on.
 *
 *	Following.  journal_open() calls sd_journal_get_fd() before it
 *	seeks, so every change after it wakes the caller; journal_read()
 *	calls sd_journal_process() first, which drains that descriptor (a
 *	level-triggered wake that is not drained would spin) and takes in
 *	appended entries and added or removed files, then reads entries in
 *	the journal's order.  SD_JOURNAL_INVALIDATE (files rotated, added or
 *	vacuumed) is treated as an append: a follower reads on from its
 *	entry.  A journal on a file system without inotify (NFS) is not
 *	woken for; sendguard does not poll.
 *
 *	Resuming.  sd_journal_seek_cursor() moves to the cursor's entry or,
 *	when it is gone, to the entry closest in time; sd_journal_test_cursor()
 *	on the entry reached tells the two apart.  When it is gone the
 *	reader seeks to the first entry after the stored entry's time
 *	(sd_journal_seek_realtime_usec()) and says so.
 * RETURNS
 *	See journal.h.  sd-journal's negative errno values become
 *	strerror() text in err.
 * UNTRUSTED INPUT
 *	See journal.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "count/journal.h"
#include "count/source.h"
#include "util/json.h"

#define FIELD_MAX 256 /* SYSLOG_IDENTIFIER, _HOSTNAME, _COMM, numbers */

/* The fields an entry is read for (wanted[]), each copied into its slot. */
enum { F_IDENT, F_HOST, F_PID, F_UID, F_COMM, F_MESSAGE, F_COUNT };

/* The system journal's two homes (persistent, volatile). */
static const char *const sys_dirs[] = { "/var/log/journal", "/run/log/journal" };

struct journal {
	sd_journal *j;
	char label[PATH_MAX + 16]; /* "journal:PATH" or "the system journal", for messages */
	struct journal_opts o;
	int fd;     /* follow: sd_journal_get_fd() */
	int at_end; /* replay: an entry after to_us was met */
	struct journal_pos pos;
	uint64_t long_entries;
	char small[F_MESSAGE][FIELD_MAX]; /* the short fields, by F_ */
	char text[SOURCE_LINE_MAX + 1];   /* MESSAGE */
};

/* seterr - "label: what: strerror(-r)" into err; -1 */
static int
seterr(const struct journal *jr, char *err, size_t errlen, const char *what, int r)
{
	snprintf(err, errlen, "%s: %s: %s", jr->label, what, strerror(r < 0 ? -r : r));
	return (-1);
}

/* note - a message for the caller's log */
static void
note(const struct journal *jr, const char *msg)
{
	if (jr->o.note != NULL)
		jr->o.note(jr->o.nctx, msg);
}

/* journal_spec - "journal", "journal:" or "journal:PATH" */
int
journal_spec(const char *log, const char **path)
{
	*path = NULL;
	if (log == NULL || strncmp(log, "journal", 7) != 0)
		return (0);
	if (log[7] == '\0')
		return (1);
	if (log[7] != ':')
		return (0);
	if (log[8] != '\0')
		*path = log + 8;
	return (1);
}

/* journal_postfix_comm - the Postfix programs that run as root or mail_owner */
int
journal_postfix_comm(const char *p, size_t n)
{
	/*
	 * master and the daemons it starts (master.cf), and postsuper, which
	 * root runs.  Not sendmail, postdrop, postqueue or postlog: a local
	 * user runs those, under their own uid.
	 */
	static const char *const progs[] = { "anvil", "bounce", "cleanup", "discard", "dnsblog",
		"error", "flush", "lmtp", "local", "master", "nqmgr", "oqmgr", "pickup", "pipe",
		"postlogd", "postscreen", "postsuper", "proxymap", "qmgr", "qmqpd", "scache",
		"showq", "smtp", "smtpd", "spawn", "tlsmgr", "tlsproxy", "trivial-rewrite",
		"verify", "virtual" };
	size_t i;

	if (p == NULL)
		return (0);
	for (i = 0; i < sizeof(progs) / sizeof(progs[0]); i++)
		if (strlen(progs[i]) == n && memcmp(progs[i], p, n) == 0)
			return (1);
	return (0);
}

/* journal_limit - one report a minute */
int
journal_limit(struct journal_limiter *l, int64_t now_us, uint64_t *held)
{
	if (l->next_us != 0 && now_us < l->next_us) {
		l->held++;
		return (0);
	}
	*held = l->held;
	l->held = 0;
	l->next_us = now_us + JOURNAL_LIMIT_US;
	return (1);
}

/* decimal - s[0..n) as a non-negative decimal number below LONG_MAX; -1 if it is not one */
static long
decimal(const char *s, size_t n)
{
	char buf[32], *end;
	long v;

	if (n == 0 || n >= sizeof(buf) || s[0] < '0' || s[0] > '9')
		return (-1);
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	if (*end != '\0' || errno == ERANGE || v < 0)
		return (-1);
	return (v);
}

/* journal_user_uid - a decimal uid as it is, a name through the password database */
int
journal_user_uid(const char *user, long *uid, char *err, size_t errlen)
{
	struct passwd pw, *res = NULL;
	char buf[16384];
	int r;

	if ((*uid = decimal(user, strlen(user))) >= 0)
		return (0);
	r = getpwnam_r(user, &pw, buf, sizeof(buf), &res);
	if (res == NULL) {
		snprintf(err, errlen,
		    "postfix_user '%s' is not a user on this host%s%s (set postfix_user to the "
		    "uid of Postfix's mail_owner)",
		    user, r != 0 ? ": " : "", r != 0 ? strerror(r) : "");
		return (-1);
	}
	*uid = (long)pw.pw_uid;
	return (0);
}

/* The fields an entry is read for: their names, with the '='. */
static const struct {
	const char *name; /* with its '=' */
	size_t n;
} wanted[F_COUNT] = {
	[F_IDENT] = { "SYSLOG_IDENTIFIER=", 18 },
	[F_HOST] = { "_HOSTNAME=", 10 },
	[F_PID] = { "SYSLOG_PID=", 11 },
	[F_UID] = { "_UID=", 5 },
	[F_COMM] = { "_COMM=", 6 },
	[F_MESSAGE] = { "MESSAGE=", 8 },
};

/* slot - where field i is copied, and its room (NUL included) */
static char *
slot(struct journal *jr, int i, size_t *size)
{
	*size = i == F_MESSAGE ? sizeof(jr->text) : FIELD_MAX;
	return (i == F_MESSAGE ? jr->text : jr->small[i]);
}

/*
 * fields - one pass over the current entry's fields (cheaper than a
 * look-up per field): the first value of each wanted field is copied into
 * its slot, NUL-terminated, as much as fits; len[i] is its whole length,
 * SIZE_MAX when the entry has none (a value longer than its slot is not
 * used, except that the length of a long MESSAGE is).  0, or -errno.
 */
static int
fields(struct journal *jr, size_t len[F_COUNT])
{
	const void *d;
	const char *p;
	size_t n, size, k;
	char *buf;
	int i, r;

	for (i = 0; i < F_COUNT; i++)
		len[i] = SIZE_MAX;
	sd_journal_restart_data(jr->j);
	while ((r = sd_journal_enumerate_available_data(jr->j, &d, &n)) > 0) {
		p = d;
		for (i = 0; i < F_COUNT; i++) {
			if (n < wanted[i].n || len[i] != SIZE_MAX ||
			    memcmp(p, wanted[i].name, wanted[i].n) != 0)
				continue;
			buf = slot(jr, i, &size);
			len[i] = n - wanted[i].n;
			k = len[i] < size ? len[i] : 0;
			memcpy(buf, p + wanted[i].n, k);
			buf[k] = '\0';
			break;
		}
	}
	return (r);
}

/* str - field i as a pf_str: p NULL when absent or longer than its slot */
static struct pf_str
str(struct journal *jr, const size_t len[F_COUNT], int i)
{
	struct pf_str v = { NULL, 0 };
	size_t size;
	char *buf = slot(jr, i, &size);

	if (len[i] < size) {
		v.p = buf;
		v.n = len[i];
	}
	return (v);
}

/* number - field i as a decimal number, -1 when absent or not one */
static long
number(struct journal *jr, const size_t len[F_COUNT], int i)
{
	struct pf_str v = str(jr, len, i);

	return (v.p != NULL ? decimal(v.p, v.n) : -1);
}

/*
 * entry - the current entry into *e; 1 to hand out, 0 to skip (an
 * over-long MESSAGE, counted), -1 with err
 */
static int
entry(struct journal *jr, struct journal_entry *e, char *err, size_t errlen)
{
	size_t len[F_COUNT];
	uint64_t rt;
	int r;

	memset(e, 0, sizeof(*e));
	if ((r = sd_journal_get_realtime_usec(jr->j, &rt)) < 0)
		return (seterr(jr, err, errlen, "reading an entry's time", r));
	e->time_us = rt > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)rt;
	if ((r = fields(jr, len)) < 0)
		return (seterr(jr, err, errlen, "reading an entry", r));
	e->origin.ident = str(jr, len, F_IDENT);
	e->origin.pid = -1;
	e->uid = -1;
	if (!pf_postfix_name(e->origin.ident.p, e->origin.ident.n))
		return (1); /* JOURNAL_OTHER: a line, nothing more */
	e->origin.host = str(jr, len, F_HOST);
	e->origin.pid = number(jr, len, F_PID);
	e->uid = number(jr, len, F_UID);
	e->comm = str(jr, len, F_COMM);
	e->trust = (e->uid == 0 || (jr->o.postfix_uid >= 0 && e->uid == jr->o.postfix_uid)) &&
		journal_postfix_comm(e->comm.p, e->comm.n)
	    ? JOURNAL_POSTFIX
	    : JOURNAL_UNTRUSTED;
	if (e->trust != JOURNAL_POSTFIX)
		return (1); /* its MESSAGE is never read */
	if (len[F_MESSAGE] != SIZE_MAX && len[F_MESSAGE] > SOURCE_LINE_MAX) {
		jr->long_entries++;
		return (0);
	}
	e->text = str(jr, len, F_MESSAGE).p;
	e->len = e->text != NULL ? len[F_MESSAGE] : 0;
	return (1);
}

/* remember - follow: the current entry (time t) is the position */
static int
remember(struct journal *jr, int64_t t, char *err, size_t errlen)
{
	char *c = NULL;
	int r;

	if ((r = sd_journal_get_cursor(jr->j, &c)) < 0)
		return (seterr(jr, err, errlen, "reading a cursor", r));
	if (strlen(c) >= sizeof(jr->pos.cursor)) {
		free(c);
		snprintf(err, errlen, "%s: a cursor longer than %d bytes", jr->label,
		    JOURNAL_CURSOR_MAX - 1);
		return (-1);
	}
	snprintf(jr->pos.cursor, sizeof(jr->pos.cursor), "%s", c);
	free(c);
	jr->pos.time_us = t;
	return (0);
}

/* journal_read - hand out what is there, at most max */
long
journal_read(struct journal *jr, journal_entry_fn cb, void *ctx, size_t max, char *err,
    size_t errlen)
{
	struct journal_entry e;
	long n = 0;
	int r;

	if (jr->o.follow && (r = sd_journal_process(jr->j)) < 0)
		return (seterr(jr, err, errlen, "taking in changes", r));
	while (!jr->at_end && (max == 0 || (size_t)n < max)) {
		if ((r = sd_journal_next(jr->j)) < 0)
			return (seterr(jr, err, errlen, "moving to the next entry", r));
		if (r == 0)
			break;
		if ((r = entry(jr, &e, err, errlen)) < 0)
			return (-1);
		if (!jr->o.follow && e.time_us > jr->o.to_us) {
			jr->at_end = 1;
			break;
		}
		if (jr->o.follow && remember(jr, e.time_us, err, errlen) < 0)
			return (-1);
		if (r == 0)
			continue;
		n++;
		if (cb(ctx, &e) != 0)
			break;
	}
	return (n);
}

/*
 * resume - follow: move to just after the stored position, or to the
 * first entry after its time when its entry is gone; 0 or -1
 */
static int
resume(struct journal *jr, const struct journal_pos *p, char *err, size_t errlen)
{
	char tb[40], msg[sizeof(jr->label) + 200];
	int r, found = 0;

	jr->pos = *p;
	if (p->cursor[0] != '\0') {
		if ((r = sd_journal_seek_cursor(jr->j, p->cursor)) < 0)
			return (seterr(jr, err, errlen, "seeking the stored cursor", r));
		if ((r = sd_journal_next(jr->j)) < 0)
			return (seterr(jr, err, errlen, "seeking the stored cursor", r));
		found = r > 0 && sd_journal_test_cursor(jr->j, p->cursor) > 0;
		if (!found) {
			snprintf(msg, sizeof(msg),
			    "%s: the entry sendguard stopped at (%s) is no longer in the journal "
			    "(vacuumed or rotated away while it was down): resuming at the first "
			    "entry after that time",
			    jr->label, json_time(p->time_us, tb, sizeof(tb)));
			note(jr, msg);
		}
	}
	if (found)
		return (0);
	r = p->time_us == INT64_MIN
	    ? sd_journal_seek_head(jr->j)
	    : sd_journal_seek_realtime_usec(jr->j, (uint64_t)p->time_us + 1);
	if (r < 0)
		return (seterr(jr, err, errlen, "seeking a time", r));
	return (0);
}

/* start - follow, a journal never read: at its end (its last entry) or its beginning */
static int
start(struct journal *jr, char *err, size_t errlen)
{
	struct timeval tv;
	uint64_t rt;
	int r;

	if (jr->o.start == JOURNAL_START_BEGINNING) {
		if ((r = sd_journal_seek_head(jr->j)) < 0)
			return (seterr(jr, err, errlen, "seeking its head", r));
		jr->pos.time_us = INT64_MIN;
		return (0);
	}
	if ((r = sd_journal_seek_tail(jr->j)) < 0 || (r = sd_journal_previous(jr->j)) < 0)
		return (seterr(jr, err, errlen, "seeking its end", r));
	if (r > 0) {
		if ((r = sd_journal_get_realtime_usec(jr->j, &rt)) < 0)
			return (seterr(jr, err, errlen, "reading an entry's time", r));
		return (remember(jr, (int64_t)rt, err, errlen));
	}
	/* empty: a restart before its first entry resumes from now */
	gettimeofday(&tv, NULL);
	jr->pos.time_us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
	return (0);
}

/* The journal files of a directory this process can read, of those there are. */
struct files {
	int total, readable;
};

/*
 * count_files - dir's files NAME.journal (NAME starting with prefix) into
 * *f; with depth 1, those of its subdirectories (the machine IDs) instead.
 * A subdirectory that may not be read counts as one file not readable.
 */
static void
count_files(const char *dir, int depth, const char *prefix, struct files *f)
{
	char p[PATH_MAX];
	struct dirent *de;
	size_t n;
	DIR *d;
	int fd;

	if ((d = opendir(dir)) == NULL) {
		f->total += depth == 0 && errno == EACCES;
		return;
	}
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (de->d_name[0] == '.' ||
		    (size_t)snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) >= sizeof(p))
			continue;
		if (depth > 0) {
			count_files(p, depth - 1, prefix, f);
			continue;
		}
		if (n < 8 || strcmp(de->d_name + n - 8, ".journal") != 0 ||
		    strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		f->total++;
		if ((fd = open(p, O_RDONLY | O_CLOEXEC)) >= 0) {
			f->readable++;
			close(fd);
		}
	}
	closedir(d);
}

/*
 * readable - files there are, none of which this process can read: an
 * error (sd-journal would skip them in silence and show an empty journal)
 */
static int
readable(const struct journal *jr, const struct files *f, const char *where, char *err,
    size_t errlen)
{
	if (f->total == 0 || f->readable > 0)
		return (0);
	snprintf(err, errlen,
	    "%s: cannot read its files in %s: %s (run sendguard as root, or in group adm "
	    "or systemd-journal)",
	    jr->label, where, strerror(EACCES));
	return (-1);
}

/*
 * open_system - the local system journal; its own files (system*.journal
 * in /var/log/journal/MACHINE-ID and /run/log/journal/MACHINE-ID) must be
 * readable
 */
static int
open_system(struct journal *jr, char *err, size_t errlen)
{
	struct files f = { 0, 0 };
	size_t i;
	int r;

	for (i = 0; i < sizeof(sys_dirs) / sizeof(sys_dirs[0]); i++)
		count_files(sys_dirs[i], 1, "system", &f);
	if (readable(jr, &f, "/var/log/journal and /run/log/journal", err, errlen) < 0)
		return (-1);
	if ((r = sd_journal_open(&jr->j, SD_JOURNAL_LOCAL_ONLY)) < 0)
		return (seterr(jr, err, errlen, "cannot open", r));
	return (0);
}

/* open_path - sd_journal on a journal file or a directory of them */
static int
open_path(struct journal *jr, const char *path, char *err, size_t errlen)
{
	char abs[PATH_MAX];
	const char *files[2] = { abs, NULL };
	struct stat st;
	int r;

	if (realpath(path, abs) == NULL || stat(abs, &st) < 0)
		return (seterr(jr, err, errlen, "cannot open", errno));
	if (!S_ISDIR(st.st_mode) && access(abs, R_OK) < 0)
		return (seterr(jr, err, errlen, "cannot read", errno));
	if (S_ISDIR(st.st_mode)) {
		struct files f = { 0, 0 };

		count_files(abs, 0, "", &f);
		if (readable(jr, &f, abs, err, errlen) < 0)
			return (-1);
	}
	r = S_ISDIR(st.st_mode) ? sd_journal_open_directory(&jr->j, abs, 0)
				: sd_journal_open_files(&jr->j, files, 0);
	if (r < 0)
		return (seterr(jr, err, errlen, "cannot open", r));
	return (0);
}

/* journal_open - open, set up the wake-up, and move to where reading starts */
int
journal_open(struct journal **out, const struct journal_opts *o, char *err, size_t errlen)
{
	struct journal *jr;
	int r;

	*out = NULL;
	if ((jr = calloc(1, sizeof(*jr))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	jr->o = *o;
	jr->fd = -1;
	jr->pos.time_us = INT64_MIN;
	if (o->path != NULL)
		snprintf(jr->label, sizeof(jr->label), "journal:%s", o->path);
	else
		snprintf(jr->label, sizeof(jr->label), "the system journal");
	r = o->path != NULL ? open_path(jr, o->path, err, errlen) : open_system(jr, err, errlen);
	if (r < 0) {
		journal_close(jr);
		return (-1);
	}
	/* a MESSAGE longer than a line is skipped, so need not be read whole */
	(void)sd_journal_set_data_threshold(jr->j, sizeof("MESSAGE=") + SOURCE_LINE_MAX + 1);
	if (o->follow && (jr->fd = sd_journal_get_fd(jr->j)) < 0) {
		seterr(jr, err, errlen, "watching for changes", jr->fd);
		journal_close(jr);
		return (-1);
	}
	if (o->follow)
		r = o->resume != NULL ? resume(jr, o->resume, err, errlen) : start(jr, err, errlen);
	else if (o->from_us != INT64_MIN)
		r = sd_journal_seek_realtime_usec(jr->j, o->from_us < 0 ? 0 : (uint64_t)o->from_us);
	else
		r = sd_journal_seek_head(jr->j);
	if (r < 0) {
		if (!o->follow)
			seterr(jr, err, errlen, "seeking", r);
		journal_close(jr);
		return (-1);
	}
	*out = jr;
	return (0);
}

void
journal_close(struct journal *jr)
{
	if (jr == NULL)
		return;
	if (jr->j != NULL)
		sd_journal_close(jr->j);
	free(jr);
}

int
journal_fd(const struct journal *jr)
{
	return (jr->fd);
}

const struct journal_pos *
journal_pos(const struct journal *jr)
{
	return (&jr->pos);
}

uint64_t
journal_long(const struct journal *jr)
{
	return (jr->long_entries);
}

/* journal_check - for check-config: 0 readable, 1 readable but empty, -1 not */
int
journal_check(const char *path, char *err, size_t errlen)
{
	struct journal_opts o;
	struct journal *jr;
	int r;

	memset(&o, 0, sizeof(o));
	o.path = path;
	o.postfix_uid = -1;
	o.from_us = INT64_MIN;
	o.to_us = INT64_MAX;
	if (journal_open(&jr, &o, err, errlen) < 0)
		return (-1);
	if ((r = sd_journal_next(jr->j)) < 0) {
		seterr(jr, err, errlen, "reading", r);
		journal_close(jr);
		return (-1);
	}
	if (r == 0)
		snprintf(err, errlen, "%s holds no entry yet", jr->label);
	journal_close(jr);
	return (r == 0 ? 1 : 0);
}
