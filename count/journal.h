/*
 * NAME
 *	journal - the systemd journal as a log source, read through sd-journal
 * SUMMARY
 *	journal_open() opens the local system journal (all its files:
 *	system and users, this machine only) or a journal file or directory
 *	named by journal:PATH, for one of two uses behind one interface:
 *	  replay (audit)  from its first entry, or from the first entry at or
 *	                  after a time (a seek, not a filter), to its end or
 *	                  to the first entry after a time;
 *	  follow (run)    from a stored position; journal_fd() is a
 *	                  descriptor for the caller's event loop that wakes it
 *	                  when the journal changes (sd_journal_get_fd(), set
 *	                  up before the first read, so no change is missed);
 *	                  nothing polls.
 *	journal_read() hands each entry to a callback, at most max at a time,
 *	as a struct journal_entry: its time (__REALTIME_TIMESTAMP, set by
 *	journald, microseconds, no year to guess), host (_HOSTNAME), program
 *	and pid (SYSLOG_IDENTIFIER, SYSLOG_PID) and text (MESSAGE), which
 *	pipeline_entry() reads with the same Postfix parser as a log line.
 *
 *	Trust.  An entry whose SYSLOG_IDENTIFIER names a Postfix program
 *	whose events the parser reads (pf_postfix_name(): "postfix/smtpd",
 *	"postfix-out/qmgr", ...) is JOURNAL_POSTFIX only when the fields
 *	journald sets from the sender's socket credentials, which the sender
 *	cannot forge, show a Postfix process: _UID is 0 or the uid of
 *	Postfix's mail_owner, and _COMM is one of the Postfix programs that
 *	run as those users (journal_postfix_comm()).  Otherwise it is
 *	JOURNAL_UNTRUSTED: `logger -t postfix/smtpd ...` by a local user.
 *	Every other entry is JOURNAL_OTHER.
 *
 *	Positions.  A struct journal_pos is the cursor of the last entry read
 *	and that entry's time.  Following resumes after the stored cursor's
 *	entry; when that entry is gone (the journal was vacuumed or rotated
 *	away while we were down), or the position has only a time, it
 *	resumes at the first entry after that time and says so through the
 *	note callback.  A journal never read starts at its end (the position
 *	is its last entry, or the time of opening when it is empty) or at its
 *	beginning.
 * RETURNS
 *	0 / -1 (or a count) with the caller's err buffer filled; never
 *	prints or exits.  Notes for the caller's log go to the note callback.
 * UNTRUSTED INPUT
 *	Every field an entry's sender chose (SYSLOG_IDENTIFIER, SYSLOG_PID,
 *	MESSAGE): copied with its length into fixed buffers (an identifier or
 *	host over 255 bytes makes the entry JOURNAL_OTHER or hostless, a
 *	MESSAGE over SOURCE_LINE_MAX bytes is skipped and counted), numbers
 *	read with strtol and checked.  The trusted fields (_UID, _COMM,
 *	_HOSTNAME, __REALTIME_TIMESTAMP) are journald's, but read as
 *	carefully; a journal copied from elsewhere is as good as its source.
 */
#ifndef SG_JOURNAL_H
#define SG_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "parsers/pf.h"

#define JOURNAL_CURSOR_MAX 256 /* systemd's cursors are about 150 bytes */

enum journal_trust {
	JOURNAL_OTHER = 0, /* no Postfix syslog name: a line, no event */
	JOURNAL_POSTFIX,   /* a Postfix name from a Postfix process */
	JOURNAL_UNTRUSTED  /* a Postfix name from another sender: never read */
};

/* One entry; its strings live until the next entry is read. */
struct journal_entry {
	int64_t time_us;         /* __REALTIME_TIMESTAMP */
	struct pf_origin origin; /* _HOSTNAME, SYSLOG_IDENTIFIER, SYSLOG_PID */
	const char *text;        /* MESSAGE (NULL when absent or JOURNAL_OTHER) */
	size_t len;
	long uid;           /* _UID, -1 when absent */
	struct pf_str comm; /* _COMM, p NULL when absent */
	enum journal_trust trust;
};

/* Where a follower stands: just after the entry of cursor. */
struct journal_pos {
	char cursor[JOURNAL_CURSOR_MAX]; /* "": no entry, only a time */
	int64_t time_us;                 /* that entry's time */
};

enum journal_start { JOURNAL_START_END = 0, JOURNAL_START_BEGINNING };

typedef int (*journal_entry_fn)(void *ctx, const struct journal_entry *);
typedef void (*journal_note_fn)(void *ctx, const char *msg);

struct journal_opts {
	const char *path;                 /* NULL: the local system journal */
	long postfix_uid;                 /* mail_owner's uid (journal_user_uid()) */
	int follow;                       /* 1 follow (run), 0 replay (audit) */
	const struct journal_pos *resume; /* follow: where we stopped; NULL: never read */
	enum journal_start start;         /* follow, resume NULL */
	int64_t from_us, to_us;           /* replay: INT64_MIN / INT64_MAX for none */
	journal_note_fn note;             /* may be NULL */
	void *nctx;
};

struct journal;

/* journal_open - 0, or -1 with err ("journal:PATH: reason") */
int journal_open(struct journal **out, const struct journal_opts *, char *err, size_t errlen);
void journal_close(struct journal *);

/* journal_fd - follow: the descriptor to wait on for reading (it stays the journal's) */
int journal_fd(const struct journal *);

/*
 * journal_read - call cb for each entry available, at most max (0: no
 * limit); follow: first take in what changed since the last wake
 * (sd_journal_process()).  Returns the number of entries handed out, 0
 * when none was available (replay: the end), -1 with err; stops early
 * when cb returns non-zero.
 */
long journal_read(struct journal *, journal_entry_fn cb, void *ctx, size_t max, char *err,
    size_t errlen);

/* journal_pos - follow: after the last entry read (or where it was opened) */
const struct journal_pos *journal_pos(const struct journal *);

/* journal_long - entries skipped for a MESSAGE longer than SOURCE_LINE_MAX */
uint64_t journal_long(const struct journal *);

/*
 * journal_spec - 1 when log names a journal: "journal" or "journal:"
 * (*path NULL, the local system journal) or "journal:PATH" (*path
 * points at PATH inside log); 0 for anything else (a file, "-")
 */
int journal_spec(const char *log, const char **path);

/*
 * journal_check - can the journal be read (check-config)?  0 yes; 1 yes
 * but it holds nothing yet (err says what); -1 no, err says why (a
 * missing path, files that cannot be read, not a journal).
 */
int journal_check(const char *path, char *err, size_t errlen);

/*
 * journal_user_uid - the uid of the Postfix mail owner named by user: a
 * decimal uid as it is, else the user's uid from the password database.
 * 0, or -1 with err.
 */
int journal_user_uid(const char *user, long *uid, char *err, size_t errlen);

/* journal_postfix_comm - 1 when p[0..n) is the _COMM of a trusted Postfix program */
int journal_postfix_comm(const char *p, size_t n);

/*
 * A limit of one report a minute (the untrusted entries): journal_limit()
 * returns 1 when a report is due at now_us, with *held the calls it said
 * 0 to since the last report; else 0 and the call is counted.  Zero it
 * to start.
 */
struct journal_limiter {
	int64_t next_us;
	uint64_t held;
};

#define JOURNAL_LIMIT_US (60 * (int64_t)1000000)

int journal_limit(struct journal_limiter *, int64_t now_us, uint64_t *held);

#endif
