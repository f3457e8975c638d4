/*
 * NAME
 *	test_main - the command table of agent/main.c, through the binary
 * SUMMARY
 *	The commands are read back from `sendguard --help`, which prints the
 *	table: each must be one of those sendguard documents, and each must
 *	answer `--help` with a usage that names it, and exit 0.  A table of other
 *	command lines gives the exit code and a piece of stdout or stderr:
 *	the words for help and version, no word at all, unknown words.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "runcmd.h"

static const char *const documented[] = {
	"audit", "parse", "check-config", "run", "status", "block", "unblock", "explain",
};

#define NDOC	(sizeof(documented) / sizeof(documented[0]))

/* listed - the command words of the help text's "Commands:" section, in order */
static size_t
listed(const char *help, char words[][32], size_t max)
{
	const char *p = strstr(help, "\nCommands:\n"), *e;
	size_t n = 0;

	cr_assert_not_null(p, "no Commands: section in [%s]", help);
	for (p = strchr(p + 1, '\n') + 1; *p != '\0' && *p != '\n'; p = strchr(p, '\n') + 1) {
		/* "  WORD SYNOPSIS": two spaces, then the word; deeper lines continue it */
		if (p[0] == ' ' && p[1] == ' ' && p[2] != ' ') {
			e = p + 2 + strcspn(p + 2, " \n");
			cr_assert_lt(n, max);
			cr_assert_lt((size_t)(e - p - 2), sizeof(words[0]));
			memcpy(words[n], p + 2, (size_t)(e - p - 2));
			words[n][e - p - 2] = '\0';
			n++;
		}
		cr_assert_not_null(strchr(p, '\n'));
	}
	return (n);
}

Test(main, every_command_in_the_table_answers_help)
{
	const char *argv[] = { sg_bin(), "--help", NULL };
	struct cmdres h = runcmd(argv, NULL);
	char words[32][32], want[64];
	size_t n, i, k;

	cr_assert_eq(h.status, 0, "--help exits %d", h.status);
	n = listed(h.out, words, 32);
	cr_expect_eq(n, NDOC, "%zu commands listed, %zu documented", n, NDOC);
	for (k = 0; k < NDOC; k++) {
		for (i = 0; i < n && strcmp(words[i], documented[k]) != 0; i++)
			;
		cr_expect_lt(i, n, "%s is not in the table", documented[k]);
	}
	for (i = 0; i < n; i++) {
		const char *cargv[] = { sg_bin(), words[i], "--help", NULL };
		struct cmdres r = runcmd(cargv, NULL);

		snprintf(want, sizeof(want), "sendguard %s ", words[i]);
		cr_expect_eq(r.status, 0, "%s --help exits %d: %s", words[i], r.status, r.err);
		cr_expect_not_null(strstr(r.out, want), "%s --help: [%s]", words[i], r.out);
		cr_expect_str_eq(r.err, "", "%s --help wrote to stderr: %s", words[i], r.err);
		cmdres_free(&r);
	}
	cmdres_free(&h);
}

struct line_row {
	const char *why;
	const char *args[3];
	int	status;
	const char *out;		/* in stdout ("" : stdout empty) */
	const char *err;		/* in stderr ("" : stderr empty) */
};

Test(main, other_command_lines)
{
	static const struct line_row rows[] = {
		{ "--help", { "--help" }, 0, "usage: sendguard COMMAND", "" },
		{ "-h", { "-h" }, 0, "usage: sendguard COMMAND", "" },
		{ "help", { "help" }, 0, "usage: sendguard COMMAND", "" },
		{ "--version", { "--version" }, 0, "sendguard " SG_VERSION "\n", "" },
		{ "-V", { "-V" }, 0, "sendguard " SG_VERSION "\n", "" },
		{ "no command word: usage on stderr", { NULL }, 2, "", "usage: sendguard COMMAND" },
		{ "an unknown word", { "nope" }, 2, "", "unknown command 'nope'" },
		{ "an unknown option", { "--nope" }, 2, "", "unknown command '--nope'" },
		{ "words are case-sensitive", { "Audit" }, 2, "", "unknown command 'Audit'" },
		{ "an empty word", { "" }, 2, "", "unknown command ''" },
	};
	size_t i, k;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct line_row *r = &rows[i];
		const char *argv[5] = { sg_bin() };
		struct cmdres c;

		for (k = 0; k < 3 && r->args[k] != NULL; k++)
			argv[k + 1] = r->args[k];
		c = runcmd(argv, NULL);
		cr_expect_eq(c.status, r->status, "%s: exit %d", r->why, c.status);
		if (r->out[0] == '\0')
			cr_expect_str_eq(c.out, "", "%s: stdout [%s]", r->why, c.out);
		else
			cr_expect_not_null(strstr(c.out, r->out), "%s: stdout [%s]", r->why, c.out);
		if (r->err[0] == '\0')
			cr_expect_str_eq(c.err, "", "%s: stderr [%s]", r->why, c.err);
		else
			cr_expect_not_null(strstr(c.err, r->err), "%s: stderr [%s]", r->why, c.err);
		cmdres_free(&c);
	}
}
