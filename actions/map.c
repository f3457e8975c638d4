/*
 * NAME
 *	map - the block action: access(5) maps written from the store (see map.h)
 * SUMMARY
 *	map_key_ok() decides whether an identity value may become an
 *	access(5) key: 1..255 printable ASCII bytes, no whitespace, not
 *	starting with '#'.  '$', '`', ';' and other printable punctuation are
 *	allowed: postmap reads the file itself and no shell ever sees it.
 *	map_ident_ok() adds what each kind needs, the one key check the
 *	decisions and the rewrite both use: a sender is a whole address
 *	(local@dotted.domain), a sender_domain a dotted domain, since
 *	check_sender_access also looks up the domain and the bare local part.
 *
 *	map_write() rewrites a map: the complete text goes to a temporary
 *	".NAME.XXXXXX" in the target's directory, which is flushed,
 *	fsync()ed, chmod 0644 and rename()d over the target; then the
 *	directory is fsync()ed.  A reader (postmap, a Postfix daemon, a
 *	person) sees the old file or the new one, never a part.  Any bad key
 *	or reply refuses the whole write and leaves the old file alone.
 *
 *	The rewrite: map_later() marks the maps dirty and (re)arms the
 *	debounce; when it fires map_sync() reads the blocks in force from the
 *	store, writes both maps, and queues one postmap job per map; when
 *	the last postmap has ended well, one postfix reload.  While postmap
 *	or reload runs (busy) no other rewrite starts; the one asked for
 *	meanwhile starts when they end.  Generations: gen_want counts the
 *	asks, gen_running is the last ask the running rewrite serves,
 *	gen_done and gen_ok the last served by a rewrite that ended, and
 *	that ended in force.
 * RETURNS
 *	0 / -1 (err filled; err must not be NULL when errlen > 0); never
 *	prints or exits.
 * UNTRUSTED INPUT
 *	Identity values (from the log), reply text (from the configuration).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actions/act_int.h"
#include "actions/map.h"
#include "util/esc.h"
#include "util/ident.h"

#define MAP_RETRY_MS 60000 /* a failed rewrite is tried again after this */

/* unprintable - why byte c may not stand in a key or reply (NULL: it may) */
static const char *
unprintable(unsigned char c)
{
	if (c < 0x20 || c == 0x7f)
		return ("contains a control character");
	if (c >= 0x80)
		return ("contains a non-ASCII byte");
	return (NULL);
}

/* map_key_ok - 1 when value is a safe access(5) key, else 0 + why */
int
map_key_ok(const char *value, const char **why)
{
	const char *dummy;
	size_t i;

	if (why == NULL)
		why = &dummy;
	if (value == NULL || value[0] == '\0') {
		*why = "empty";
		return (0);
	}
	if (value[0] == '#') {
		*why = "starts with '#' (a comment in access(5))";
		return (0);
	}
	for (i = 0; value[i] != '\0'; i++) {
		unsigned char c = (unsigned char)value[i];

		if (i >= MAP_KEY_MAX) {
			*why = "longer than 255 bytes";
			return (0);
		}
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
			*why = "contains whitespace";
			return (0);
		}
		if ((*why = unprintable(c)) != NULL)
			return (0);
	}
	*why = NULL;
	return (1);
}

/*
 * dotted_domain - 1 when d is a domain name of two labels or more: each
 * label one or more letters, digits, '-' or '_', separated by single dots
 * ("example.com"; not "localhost", ".example.com", "example..com", a
 * domain literal "[192.0.2.1]" or an empty string)
 */
static int
dotted_domain(const char *d)
{
	size_t i, label = 0, dots = 0;

	for (i = 0; d[i] != '\0'; i++) {
		unsigned char c = (unsigned char)d[i];

		if (c == '.') {
			if (label == 0)
				return (0);
			dots++;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_')
			label++;
		else
			return (0);
	}
	return (dots > 0 && label > 0);
}

/*
 * whole_address - 1 when v is local@domain with a non-empty local part
 * without '@' and a dotted domain; else 0 and why.  check_sender_access
 * looks a sender up as user@domain, then as domain (and its parents),
 * then as user@: a key "example.com", "@example.com" or "alice@" would
 * refuse a whole domain or a local part at every domain.
 */
static int
whole_address(const char *v, const char **why)
{
	const char *at = strrchr(v, '@');

	if (at == NULL) {
		*why = "not a whole address (no @): as a sender_map key it would refuse a whole "
		       "domain or a local part everywhere";
		return (0);
	}
	if (at == v) {
		*why = "no local part before the @: as a sender_map key it would refuse a whole "
		       "domain";
		return (0);
	}
	if (memchr(v, '@', (size_t)(at - v)) != NULL) {
		*why = "more than one @";
		return (0);
	}
	if (at[1] == '\0') {
		*why = "no domain after the @: as a sender_map key it would refuse that local part "
		       "at every domain";
		return (0);
	}
	if (!dotted_domain(at + 1)) {
		*why = "the domain is not a dotted domain name";
		return (0);
	}
	return (1);
}

/* reply_ok - 1 when reply is non-empty printable ASCII (spaces allowed) */
static int
reply_ok(const char *reply, const char **why)
{
	size_t i;

	if (reply == NULL || reply[0] == '\0') {
		*why = "empty";
		return (0);
	}
	if (reply[0] == ' ') {
		*why = "starts with a space";
		return (0);
	}
	for (i = 0; reply[i] != '\0'; i++)
		if ((*why = unprintable((unsigned char)reply[i])) != NULL)
			return (0);
	return (1);
}

/* cmp_str - qsort comparison of two const char * by bytes */
static int
cmp_str(const void *a, const void *b)
{
	const char *const *x = a;
	const char *const *y = b;

	return (strcmp(*x, *y));
}

/* write_all - write n bytes to fd, retrying short writes and EINTR */
static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		p += w;
		n -= (size_t)w;
	}
	return (0);
}

/* build_map - the complete map text (sorted, duplicates once); NULL on ENOMEM */
static char *
build_map(const char *const keys[], size_t nkeys, const char *reply, size_t *lenp)
{
	static const char hdr[] =
	    "# Written by sendguard: identities over a sending limit.\n"
	    "# Do not edit: sendguard rewrites this file on every block and unblock.\n";
	const char **sorted = NULL;
	size_t total = sizeof(hdr) - 1, rlen = strlen(reply), i, off;
	char *buf;

	if (nkeys > 0) {
		sorted = calloc(nkeys, sizeof(*sorted));
		if (sorted == NULL)
			return (NULL);
		memcpy(sorted, keys, nkeys * sizeof(*sorted));
		qsort(sorted, nkeys, sizeof(*sorted), cmp_str);
	}
	for (i = 0; i < nkeys; i++)
		total += strlen(sorted[i]) + 1 + rlen + 1;
	if ((buf = malloc(total + 1)) == NULL) {
		free(sorted);
		return (NULL);
	}
	memcpy(buf, hdr, sizeof(hdr) - 1);
	off = sizeof(hdr) - 1;
	for (i = 0; i < nkeys; i++) {
		size_t klen = strlen(sorted[i]);

		if (i > 0 && strcmp(sorted[i], sorted[i - 1]) == 0)
			continue;
		memcpy(buf + off, sorted[i], klen);
		off += klen;
		buf[off++] = ' ';
		memcpy(buf + off, reply, rlen);
		off += rlen;
		buf[off++] = '\n';
	}
	buf[off] = '\0';
	free(sorted);
	*lenp = off;
	return (buf);
}

/* map_check - every key safe, the reply printable; 0, or -1 with err */
static int
map_check(const char *path, const char *const keys[], size_t nkeys, const char *reply, char *err,
    size_t errlen)
{
	const char *why;
	size_t i;

	if (path == NULL || path[0] == '\0') {
		snprintf(err, errlen, "map path is empty");
		return (-1);
	}
	if (nkeys > 0 && keys == NULL) {
		snprintf(err, errlen, "no key array");
		return (-1);
	}
	for (i = 0; i < nkeys; i++)
		if (!map_key_ok(keys[i], &why)) {
			snprintf(err, errlen, "%s: key %zu is not a safe map key: %s", path, i,
			    why);
			return (-1);
		}
	if (!reply_ok(reply, &why)) {
		snprintf(err, errlen, "%s: reply text %s", path, why);
		return (-1);
	}
	return (0);
}

/*
 * tmp_name - the directory of path into dir and a mkstemp template next
 * to it into tmp (both PATH_MAX), so that rename() is atomic
 */
static int
tmp_name(const char *path, char *dir, char *tmp, char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/'), *base;
	size_t dlen;
	int n;

	if (slash == NULL) {
		memcpy(dir, ".", 2);
		base = path;
	} else {
		dlen = (size_t)(slash - path);
		if (dlen == 0)
			dlen = 1; /* "/name": the root directory */
		if (dlen >= PATH_MAX) {
			snprintf(err, errlen, "%s: path too long", path);
			return (-1);
		}
		memcpy(dir, path, dlen);
		dir[dlen] = '\0';
		base = slash + 1;
	}
	if (base[0] == '\0') {
		snprintf(err, errlen, "%s: path names a directory", path);
		return (-1);
	}
	n = snprintf(tmp, PATH_MAX, "%s/.%s.XXXXXX", dir, base);
	if (n < 0 || n >= PATH_MAX) {
		snprintf(err, errlen, "%s: path too long", path);
		return (-1);
	}
	return (0);
}

/* write_tmp - text into a new temporary file tmp, made durable and renamed over path */
static int
write_tmp(const char *path, const char *dir, char *tmp, const char *text, size_t len, char *err,
    size_t errlen)
{
	const char *what;
	int fd;

	if ((fd = mkstemp(tmp)) < 0) {
		snprintf(err, errlen, "%s: create temporary file in %s: %s", path, dir,
		    strerror(errno));
		return (-1);
	}
	if ((what = "write", write_all(fd, text, len) < 0) ||
	    (what = "chmod", fchmod(fd, 0644) < 0) || (what = "fsync", fsync(fd) < 0)) {
		snprintf(err, errlen, "%s: %s %s: %s", path, what, tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return (-1);
	}
	if ((what = "close", close(fd) < 0) || (what = "rename", rename(tmp, path) < 0)) {
		snprintf(err, errlen, "%s: %s %s: %s", path, what, tmp, strerror(errno));
		unlink(tmp);
		return (-1);
	}
	return (0);
}

/* map_write - replace path atomically with "KEY REPLY" lines */
int
map_write(const char *path, const char *const keys[], size_t nkeys, const char *reply, char *err,
    size_t errlen)
{
	char dir[PATH_MAX], tmp[PATH_MAX];
	size_t len = 0;
	char *text;
	int dfd, r;

	if (map_check(path, keys, nkeys, reply, err, errlen) < 0 ||
	    tmp_name(path, dir, tmp, err, errlen) < 0)
		return (-1);
	if ((text = build_map(keys, nkeys, reply, &len)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return (-1);
	}
	r = write_tmp(path, dir, tmp, text, len, err, errlen);
	free(text);
	if (r < 0)
		return (-1);
	/* Make the rename itself durable. */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "%s: written, but open directory %s: %s", path, dir,
		    strerror(errno));
		return (-1);
	}
	if (fsync(dfd) < 0 && errno != EINVAL) {
		snprintf(err, errlen, "%s: written, but fsync directory %s: %s", path, dir,
		    strerror(errno));
		close(dfd);
		return (-1);
	}
	close(dfd);
	return (0);
}

/* ---------------------------------------------------------------------- */
/* the rewrites */

static void on_debounce(void *);

void
map_init(struct act *a)
{
	memset(&a->maps, 0, sizeof(a->maps));
	run_timer_init(&a->maps.debounce, a->runner, on_debounce, a);
}

void
map_fini(struct act *a)
{
	run_timer_stop(&a->maps.debounce);
}

/* value_of - the part after "kind:" */
static const char *
value_of(const char *identity)
{
	const char *c = strchr(identity, ':');

	return (c ? c + 1 : identity);
}

const char *
map_of(const struct act *a, const char *identity, int *is_sasl)
{
	enum ident_kind k;
	const char *v, *why;

	*is_sasl = 0;
	if (ident_parse(identity, &k, &v, &why) < 0)
		return (NULL);
	if (k == IDENT_SASL) {
		*is_sasl = 1;
		return (a->conf->sasl_map);
	}
	return (k == IDENT_SENDER || k == IDENT_SENDER_DOMAIN ? a->conf->sender_map : NULL);
}

int
map_ident_ok(const char *identity, const char **why)
{
	enum ident_kind k;
	const char *v, *dummy;

	if (why == NULL)
		why = &dummy;
	if (identity == NULL || ident_parse(identity, &k, &v, why) < 0)
		return (0);
	if (k != IDENT_SASL && k != IDENT_SENDER && k != IDENT_SENDER_DOMAIN) {
		*why = "only sasl, sender and sender_domain identities can be blocked through an "
		       "access map";
		return (0);
	}
	if (!map_key_ok(v, why))
		return (0);
	if (k == IDENT_SENDER)
		return (whole_address(v, why));
	if (k == IDENT_SENDER_DOMAIN && !dotted_domain(v)) {
		*why = "not a dotted domain name: as a sender_map key it would refuse more than "
		       "that domain";
		return (0);
	}
	return (1);
}

int
map_mappable(const struct act *a, const char *identity, const char **why)
{
	int is_sasl;

	if (map_of(a, identity, &is_sasl) == NULL && !is_sasl) {
		*why = "only sasl, sender and sender_domain identities can be blocked through an "
		       "access map";
		return (0);
	}
	return (map_ident_ok(identity, why));
}

uint64_t
map_later(struct act *a)
{
	a->maps.dirty = 1;
	a->maps.gen_want++;
	run_timer_set(&a->maps.debounce, ACT_DEBOUNCE_MS, RUN_SOON);
	return (a->maps.gen_want);
}

int
map_gen_done(const struct act *a, uint64_t gen)
{
	return (a->maps.gen_done >= gen);
}

int
map_gen_ok(const struct act *a, uint64_t gen)
{
	return (a->maps.gen_ok >= gen);
}

/* The keys of both maps, from the blocks in force. */
struct mapkeys {
	const struct act *a;
	const char **sasl, **sender;
	size_t ns, nf, cap;
	char **own;
	size_t nown;
};

/* keys_grow - room for one more key in every array */
static int
keys_grow(struct mapkeys *mk)
{
	size_t nc = mk->cap ? mk->cap * 2 : 32;
	char **no;
	const char **ns, **nf;

	if ((no = realloc(mk->own, nc * sizeof(*no))) == NULL)
		return (-1);
	mk->own = no;
	if ((ns = realloc(mk->sasl, nc * sizeof(*ns))) == NULL)
		return (-1);
	mk->sasl = ns;
	if ((nf = realloc(mk->sender, nc * sizeof(*nf))) == NULL)
		return (-1);
	mk->sender = nf;
	mk->cap = nc;
	return (0);
}

static int
keys_cb(void *ctx, const struct store_block *b)
{
	struct mapkeys *mk = ctx;
	const char *why;
	char *v;
	int is_sasl;

	if (b->identity == NULL || !act_state_mapped(b->state) ||
	    !map_mappable(mk->a, b->identity, &why))
		return (0);
	if (b->until_us != 0 && b->until_us <= act_now())
		return (0);
	if (mk->nown == mk->cap && keys_grow(mk) < 0)
		return (1);
	if ((v = strdup(value_of(b->identity))) == NULL)
		return (1);
	mk->own[mk->nown++] = v;
	(void)map_of(mk->a, b->identity, &is_sasl);
	if (is_sasl)
		mk->sasl[mk->ns++] = v;
	else
		mk->sender[mk->nf++] = v;
	return (0);
}

/* map_write_one - write one map and queue its postmap */
static void
map_write_one(struct act *a, const char *path, const char *const *keys, size_t n)
{
	char err[512], spec[4200];
	const char *rest[] = { spec, NULL };

	if (map_write(path, keys, n, a->conf->reply, err, sizeof(err)) < 0) {
		act_say(a, ACT_WARN, "%s", err);
		return;
	}
	snprintf(spec, sizeof(spec), "%s:%s", a->conf->map_type ? a->conf->map_type : "hash", path);
	a->maps.busy = 1;
	a->maps.postmaps_left++;
	job_queue(a, JOB_POSTMAP, "postmap", NULL, job_prog(a, a->conf->postmap, "-c", rest), NULL,
	    0);
}

/* map_sync - write the map files from the store's blocks, then postmap */
static void
map_sync(struct act *a)
{
	struct maps *m = &a->maps;
	struct mapkeys mk;
	char err[512];
	size_t i;

	if (!m->dirty || act_monitor(a) || m->busy)
		return; /* busy: again when the running postmap/reload ends */
	m->dirty = 0;
	m->gen_running = m->gen_want;
	memset(&mk, 0, sizeof(mk));
	mk.a = a;
	if (store_each_block(a->store, NULL, keys_cb, &mk, err, sizeof(err)) != 0) {
		act_say(a, ACT_WARN, "reading blocks: %s", err);
		m->dirty = 1;
	} else {
		if (a->conf->sasl_map != NULL)
			map_write_one(a, a->conf->sasl_map, (const char *const *)mk.sasl, mk.ns);
		if (a->conf->sender_map != NULL)
			map_write_one(a, a->conf->sender_map, (const char *const *)mk.sender,
			    mk.nf);
	}
	if (m->postmaps_left == 0 && !m->dirty) {
		/* nothing to run (no map configured, or writing failed): as far as it goes */
		m->busy = 0;
		m->gen_done = m->gen_running;
	}
	for (i = 0; i < mk.nown; i++)
		free(mk.own[i]);
	free(mk.own);
	free(mk.sasl);
	free(mk.sender);
}

/* on_debounce - the asks have stopped for a while: rewrite */
static void
on_debounce(void *ctx)
{
	struct act *a = ctx;

	map_sync(a);
	job_kick(a);
}

void
map_heal(struct act *a, int nblocked)
{
	struct stat st;

	if (nblocked > 0 || (a->conf->sasl_map && stat(a->conf->sasl_map, &st) == 0) ||
	    (a->conf->sender_map && stat(a->conf->sender_map, &st) == 0)) {
		a->maps.dirty = 1;
		map_sync(a);
	}
}

/* reload_job - postfix reload, one at a time */
static void
reload_job(struct act *a)
{
	const char *rest[] = { "reload", NULL };

	if (a->maps.reload_running) {
		a->maps.reload_wanted = 1;
		return;
	}
	a->maps.reload_running = 1;
	a->maps.busy = 1;
	job_queue(a, JOB_RELOAD, "reload", NULL, job_prog(a, a->conf->postfix, "-c", rest), NULL,
	    0);
}

/* map_failed - the rewrite did not put the maps in force: the runs after it go on, retry later */
static void
map_failed(struct act *a)
{
	a->maps.gen_done = a->maps.gen_running;
	a->maps.busy = 0;
	a->maps.dirty = 1;
	run_timer_set(&a->maps.debounce, MAP_RETRY_MS, 0);
}

/*
 * map_run_ended - after the last postmap, reload if all went well; after
 * the reload, the rewrite has ended.  A rewrite asked for meanwhile starts
 * at once; a failed one is tried again after MAP_RETRY_MS (at once only
 * when something new was asked while it ran, so that a failing program
 * is not run again and again without a pause).
 */
void
map_run_ended(struct act *a, int reload, int ok)
{
	struct maps *m = &a->maps;

	if (!reload) {
		if (!ok)
			m->postmap_failed = 1;
		if (--m->postmaps_left == 0) {
			if (!m->postmap_failed)
				reload_job(a);
			else
				map_failed(a);
			m->postmap_failed = 0;
		}
		return;
	}
	m->reload_running = 0;
	if (!ok) {
		map_failed(a);
		if (m->gen_want == m->gen_running)
			return;
	} else {
		m->busy = 0;
		m->gen_done = m->gen_ok = m->gen_running;
		if (m->reload_wanted) {
			m->reload_wanted = 0;
			reload_job(a);
		}
	}
	if (m->dirty && !m->busy)
		map_sync(a);
}

/* map_block - the block step of a decision (monitor: what it would do) */
void
map_block(struct act *a, const char *identity)
{
	const struct conf *c = a->conf;
	int is_sasl;
	const char *map = map_of(a, identity, &is_sasl), *v[] = { "map", map ? map : "-", NULL };
	char idv[ACT_ID_VIS];

	if (!act_monitor(a)) {
		job_queue(a, JOB_MAP, "map", identity, job_argv_dup(v), NULL, 0);
		return;
	}
	act_say(a, ACT_INFO,
	    "monitor: block for %s: would write \"%s %s\" to %s, then run %s -c %s "
	    "%s:%s and %s -c %s reload",
	    esc_vis(identity, idv, sizeof(idv)), value_of(identity), c->reply, map ? map : "-",
	    c->postmap, c->postfix_config_dir, c->map_type ? c->map_type : "hash", map ? map : "-",
	    c->postfix, c->postfix_config_dir);
}
