/*
 * test_source - line replay from plain and gzip files: every line once,
 * in order, a last line without a newline, over-long lines skipped.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "agent/source.h"

static char dir[] = "/tmp/sg-source-XXXXXX";

static void
setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void
teardown(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "%s", dir);
	/* files are removed by each test; the directory last */
	rmdir(cmd);
}

static void
write_file(const char *path, const char *data, size_t n, int gz)
{
	if (gz) {
		gzFile g = gzopen(path, "wb");

		cr_assert_not_null(g);
		cr_assert_eq(gzwrite(g, data, (unsigned)n), (int)n);
		gzclose(g);
	} else {
		FILE *fp = fopen(path, "wb");

		cr_assert_not_null(fp);
		cr_assert_eq(fwrite(data, 1, n, fp), n);
		fclose(fp);
	}
}

/* read_all - lines joined with '|', and the over-long count */
static void
read_all(const char *path, char *out, size_t outlen, uint64_t *longs)
{
	struct source *s;
	const char *line;
	size_t len, o = 0;
	char err[256];
	int r;

	cr_assert_eq(source_open(&s, path, err, sizeof(err)), 0, "%s", err);
	out[0] = '\0';
	while ((r = source_next(s, &line, &len, err, sizeof(err))) > 0) {
		cr_assert_lt(o + len + 2, outlen);
		if (o > 0)
			out[o++] = '|';
		memcpy(out + o, line, len);
		o += len;
		out[o] = '\0';
	}
	cr_assert_eq(r, 0, "%s", err);
	*longs = source_long_lines(s);
	source_close(s);
}

struct row {
	const char *name;
	const char *data;
	const char *want;
	uint64_t longs;
};

Test(source, lines, .init = setup, .fini = teardown)
{
	static const struct row tab[] = {
		{ "plain lines", "a\nb\nc\n", "a|b|c", 0 },
		{ "last line without newline", "a\nb", "a|b", 0 },
		{ "empty lines are lines", "a\n\nb\n", "a||b", 0 },
		{ "empty file", "", "", 0 },
		{ "CR kept", "a\r\nb\n", "a\r|b", 0 },
	};
	char path[512], got[4096];
	size_t i;
	int gz;
	uint64_t longs;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		for (gz = 0; gz < 2; gz++) {
			snprintf(path, sizeof(path), "%s/f%zu%s", dir, i, gz ? ".gz" : "");
			write_file(path, tab[i].data, strlen(tab[i].data), gz);
			read_all(path, got, sizeof(got), &longs);
			cr_expect_str_eq(got, tab[i].want, "%s (%s): got [%s]", tab[i].name,
			    gz ? "gzip" : "plain", got);
			cr_expect_eq(longs, tab[i].longs);
			unlink(path);
		}
	}
}

Test(source, over_long_lines_skipped_and_counted, .init = setup, .fini = teardown)
{
	size_t n = SOURCE_LINE_MAX * 3 + 100, o = 0;
	char *data = malloc(n + 64), path[512], got[256];
	uint64_t longs;
	int gz;

	cr_assert_not_null(data);
	o += (size_t)snprintf(data + o, 64, "first\n");
	memset(data + o, 'x', SOURCE_LINE_MAX * 3);
	o += SOURCE_LINE_MAX * 3;
	o += (size_t)snprintf(data + o, 64, "\nlast\n");
	for (gz = 0; gz < 2; gz++) {
		snprintf(path, sizeof(path), "%s/long%d", dir, gz);
		write_file(path, data, o, gz);
		read_all(path, got, sizeof(got), &longs);
		cr_expect_str_eq(got, "first|last");
		cr_expect_eq(longs, 1);
		unlink(path);
	}
	free(data);
}

Test(source, many_lines_across_buffer_boundaries, .init = setup, .fini = teardown)
{
	char path[512], err[256], want[32];
	struct source *s;
	const char *line;
	size_t len, o = 0, cap = 4 << 20;
	char *data = malloc(cap);
	int i, gz;

	cr_assert_not_null(data);
	for (i = 0; i < 200000; i++)
		o += (size_t)snprintf(data + o, cap - o, "line %d\n", i);
	for (gz = 0; gz < 2; gz++) {
		snprintf(path, sizeof(path), "%s/many%d", dir, gz);
		write_file(path, data, o, gz);
		cr_assert_eq(source_open(&s, path, err, sizeof(err)), 0);
		for (i = 0; source_next(s, &line, &len, err, sizeof(err)) > 0; i++) {
			snprintf(want, sizeof(want), "line %d", i);
			cr_assert(len == strlen(want) && memcmp(line, want, len) == 0,
			    "line %d wrong", i);
		}
		cr_expect_eq(i, 200000);
		source_close(s);
		unlink(path);
	}
	free(data);
}

Test(source, errors_name_the_file, .init = setup, .fini = teardown)
{
	struct source *s;
	char err[256], path[512];

	snprintf(path, sizeof(path), "%s/missing.log", dir);
	cr_expect_eq(source_open(&s, path, err, sizeof(err)), -1);
	cr_expect_not_null(strstr(err, "missing.log"));
	cr_expect_not_null(strstr(err, "No such file"));
	cr_expect_eq(source_open(&s, dir, err, sizeof(err)), -1);
	cr_expect_not_null(strstr(err, "directory"));
}
