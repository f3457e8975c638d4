/*
 * NAME
 *	log - the agent's diagnostics: stderr (foreground, commands) or syslog
 * SUMMARY
 *	log_warn appends strerror(errno); fatal/fatalx exit 3 / the given code.
 *	Only agent/ calls these; libraries return errors to it.
 */
#ifndef SG_LOG_H
#define SG_LOG_H

#include <stdarg.h>
#include <stddef.h>

void	log_init(int to_syslog, int verbose);
/*
 * log_vis - s made safe for one log line (or a terminal): control bytes,
 * bytes >= 0x7f and backslash as \xNN; cut to fit len.  Returns buf.
 * Pure: libraries may use it to build their messages.
 */
const char *log_vis(const char *s, char *buf, size_t len);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(int code, const char *, ...) __attribute__((format(printf, 2, 3), noreturn));

#endif
