/*
 * NAME
 *	log - stderr or syslog (LOG_MAIL, ident "sendguard") diagnostics
 * SUMMARY
 *	Every log_* function formats its arguments through one path (LOG_ARGS
 *	into vlog), so they differ only in priority, suffix and what follows.
 *	A message longer than LOG_MSG_MAX keeps its start and ends in "...":
 *	it is cut where it shows, never silently.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "util/buf.h"
#include "util/esc.h"
#include "util/log.h"

#define LOG_MSG_MAX 2048 /* bytes of one message, its NUL included */

static int log_syslog;
static int log_verbose;

/*
 * log_vis - each byte through the escaper (ESC_VIS) while five bytes of
 * room are left: the cut that callers and tests have always had (no
 * marker; esc_vis() is the variant that marks its cut with "...").
 */
const char *
log_vis(const char *s, char *out, size_t len)
{
	struct buf b;

	if (len == 0)
		return (out);
	buf_fixed(&b, out, len);
	for (; s != NULL && *s != '\0' && b.len + 5 < len; s++)
		(void)esc_buf(&b, s, 1, ESC_VIS, 0);
	return (out);
}

void
log_init(int to_syslog, int verbose)
{
	log_syslog = to_syslog;
	log_verbose = verbose;
	if (to_syslog)
		openlog("sendguard", LOG_PID | LOG_NDELAY, LOG_MAIL);
}

/* vlog - one message; the text is always passed as an argument, never as a format */
static void
vlog(int pri, const char *fmt, va_list ap, const char *suffix)
{
	char msg[LOG_MSG_MAX];
	int n;

	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		memcpy(msg, "(bad log format)", sizeof("(bad log format)"));
	else if ((size_t)n >= sizeof(msg))
		memcpy(msg + sizeof(msg) - 4, "...", 4); /* cut, and it shows */
	if (log_syslog) {
		if (suffix)
			syslog(pri, "%s: %s", msg, suffix);
		else
			syslog(pri, "%s", msg);
	} else {
		if (suffix)
			fprintf(stderr, "sendguard: %s: %s\n", msg, suffix);
		else
			fprintf(stderr, "sendguard: %s\n", msg);
		fflush(stderr);
	}
}

/* LOG_ARGS - the caller's arguments after fmt as one message of priority pri */
#define LOG_ARGS(pri, suffix) \
	do { \
		va_list ap_; \
\
		va_start(ap_, fmt); \
		vlog((pri), fmt, ap_, (suffix)); \
		va_end(ap_); \
	} while (0)

void
log_warn(const char *fmt, ...)
{
	int saved = errno;

	LOG_ARGS(LOG_WARNING, strerror(saved));
}

void
log_warnx(const char *fmt, ...)
{
	LOG_ARGS(LOG_WARNING, NULL);
}

void
log_info(const char *fmt, ...)
{
	LOG_ARGS(LOG_INFO, NULL);
}

void
log_debug(const char *fmt, ...)
{
	if (log_verbose)
		LOG_ARGS(LOG_DEBUG, NULL);
}

void
fatal(const char *fmt, ...)
{
	int saved = errno;

	LOG_ARGS(LOG_CRIT, strerror(saved));
	exit(3);
}

void
fatalx(int code, const char *fmt, ...)
{
	LOG_ARGS(LOG_CRIT, NULL);
	exit(code);
}
