/*
 * NAME
 *	log - the agent's diagnostics: stderr (foreground, commands) or syslog
 * SUMMARY
 *	log_warn appends strerror(errno); fatal/fatalx exit 3 / the given code.
 *	A message is at most 2047 bytes; a longer one is cut and ends in
 *	"...".  Only agent/ calls these; libraries return errors to it (and
 *	may use log_vis, which is pure, to build them).
 */
#ifndef SG_LOG_H
#define SG_LOG_H

#include <stdarg.h>
#include <stddef.h>

void log_init(int to_syslog, int verbose);
/*
 * log_vis - s (NULL: "") made safe for one log line (or a terminal) by
 * util/esc's ESC_VIS: control bytes, bytes >= 0x7f and backslash as \xNN.
 * Escapes are added while at least five bytes of out (len bytes) are
 * left, so a long s is cut without a marker at a whole escape, at most
 * len - 2 bytes kept.  Returns out.
 */
const char *log_vis(const char *s, char *out, size_t len);
void log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(int code, const char *, ...) __attribute__((format(printf, 2, 3), noreturn));

#endif
