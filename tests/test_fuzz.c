/*
 * test_fuzz - the libFuzzer targets' inputs worth keeping, replayed under
 * Criterion (ASan+UBSan in `make check`): every file in fuzz/regress/NAME/
 * goes through the target's own test function (fuzz/fuzz_NAME.c, built
 * here without libFuzzer's main), which aborts on a crash or a broken
 * property.  A crash `make fuzz` finds is fixed and its input put there,
 * so it stays fixed.  Each target also runs on a few inputs of its own
 * kind here, so a broken harness shows in `make check`, not only in a
 * fuzzing run.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NO_MAIN
#include "fuzz/fuzz_conf.c"
#include "fuzz/fuzz_control.c"
#include "fuzz/fuzz_parse.c"

typedef int (*one_fn)(const uint8_t *, size_t);

/* slurp - a file's bytes (caller frees); NULL when unreadable */
static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *b = NULL;
	long n;

	if (fp == NULL)
		return (NULL);
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 && fseek(fp, 0, SEEK_SET) == 0 &&
	    (b = malloc((size_t)n + 1)) != NULL && fread(b, 1, (size_t)n, fp) == (size_t)n)
		*len = (size_t)n;
	else {
		free(b);
		b = NULL;
	}
	fclose(fp);
	return (b);
}

/* replay - every file of fuzz/regress/name through fn; how many */
static int
replay(const char *name, one_fn fn)
{
	char d[512], p[1024];
	const char *src = getenv("SG_SRCDIR") ? getenv("SG_SRCDIR") : ".";
	struct dirent *e;
	DIR *dir;
	int n = 0;

	snprintf(d, sizeof(d), "%s/fuzz/regress/%s", src, name);
	if ((dir = opendir(d)) == NULL)
		return (0);
	while ((e = readdir(dir)) != NULL) {
		uint8_t *b;
		size_t len = 0;

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", d, e->d_name);
		cr_assert_not_null(b = slurp(p, &len), "%s", p);
		cr_log_info("replaying %s", p);
		fn(b, len);
		free(b);
		n++;
	}
	closedir(dir);
	return (n);
}

/* the line parser: hostile lines of samples/ and the kept inputs */
Test(fuzz, parse)
{
	static const char *const lines[] = {
		"Nov 20 09:00:01 mx postfix/submission/smtpd[100]: 1A2B3C4D5E: client=h[192.0.2.1], "
		"sasl_method=PLAIN, sasl_username=alice@example.com",
		"2026-11-20T09:00:01.5+01:00 mx postfix/qmgr[50]: 1A2B3C4D5E: from=<a@b>, size=1, "
		"nrcpt=1 (queue active)\n<13>1 - - - - - -\n-- Boot 123 --",
		"Nov 20 09:00:01 mx postfix/smtpd[1]: 1A2B3C4D5E: client=h[192.0.2.1], "
		"sasl_method=PLAIN, sasl_username=a\x01" "b",
		"",
	};
	size_t i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		fuzz_parse_one((const uint8_t *)lines[i], strlen(lines[i]));
	cr_log_info("%d kept inputs", replay("parse", fuzz_parse_one));
}

/* the configuration reader */
Test(fuzz, conf)
{
	static const char *const files[] = {
		"[agent]\nlog = -\n[limit s]\nby = sasl\nmessages = 3/1h\n",
		"[limit x]\nby = ip\nmatch = 203.0.113.0/33\n[exempt]\nip = ::/200\n",
		"\xef\xbb\xbf[agent\r\n=\n",
		"",
	};
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		fuzz_conf_one((const uint8_t *)files[i], strlen(files[i]));
	cr_log_info("%d kept inputs", replay("conf", fuzz_conf_one));
}

/* the control-socket request parser */
Test(fuzz, control)
{
	static const char *const reqs[] = {
		"status json", "block 7569643a3333 60", "unblock 7569643a3333 delete",
		"explain 7361736c3a41", "block 7569643a3333 9223372036854775808", "",
	};
	size_t i;

	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++)
		fuzz_control_one((const uint8_t *)reqs[i], strlen(reqs[i]));
	cr_log_info("%d kept inputs", replay("control", fuzz_control_one));
}
