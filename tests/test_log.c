/*
 * test_log - diagnostics on stderr: the text as given (never a format), the
 * reason appended by log_warn, debug only when verbose.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <string.h>

#include "util/log.h"

static void
redirect(void)
{
	cr_redirect_stderr();
}

Test(log, text_is_data_not_a_format, .init = redirect)
{
	const char *hostile = "login %s%n%x with percent";

	log_init(0, 0);
	log_warnx("over limit: %s", hostile);
	fflush(stderr);
	cr_assert_stderr_eq_str("sendguard: over limit: login %s%n%x with percent\n");
}

Test(log, warn_appends_the_reason, .init = redirect)
{
	log_init(0, 0);
	errno = ENOENT;
	log_warn("%s", "/var/log/mail.log");
	fflush(stderr);
	cr_assert_stderr_eq_str("sendguard: /var/log/mail.log: No such file or directory\n");
}

Test(log, debug_only_when_verbose, .init = redirect)
{
	log_init(0, 0);
	log_debug("quiet");
	log_init(0, 1);
	log_debug("loud");
	fflush(stderr);
	cr_assert_stderr_eq_str("sendguard: loud\n");
}

Test(log, a_long_message_is_cut_where_it_shows, .init = redirect)
{
	static char big[3000], want[2100];

	memset(big, 'a', sizeof(big) - 1);
	memcpy(want, "sendguard: ", 11);
	memset(want + 11, 'a', 2044);		/* 2047 bytes of message: 2044 kept, "..." */
	memcpy(want + 11 + 2044, "...\n", 5);
	log_init(0, 0);
	log_warnx("%s", big);
	fflush(stderr);
	cr_assert_stderr_eq_str(want);
}

Test(log, fatalx_exits_with_the_code, .init = redirect, .exit_code = 2)
{
	log_init(0, 0);
	fatalx(2, "%s", "config: 3 errors");
}

Test(log, vis_makes_any_text_one_safe_line)
{
	static const struct {
		const char *in;
		size_t	len;
		const char *want;
	} tab[] = {
		{ "alice@example.com", 64, "alice@example.com" },
		{ "evil\nNov 28 mx forged: line", 64, "evil\\x0aNov 28 mx forged: line" },
		{ "\x1b[31mred", 64, "\\x1b[31mred" },
		{ "a\\b", 64, "a\\x5cb" },
		{ "caf\xc3\xa9", 64, "caf\\xc3\\xa9" },
		{ "abcdefghij", 8, "abc" },		/* cut to fit, never past len */
	};
	char buf[64];
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		cr_expect_str_eq(log_vis(tab[i].in, buf, tab[i].len), tab[i].want, "row %zu", i);
}
