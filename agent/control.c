/*
 * NAME
 *	control - the control socket: listening, the client side, the request
 *	parser and the server's clients (see control.h)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "agent/control.h"
#include "util/log.h"
#include "util/priv.h"

/* mkaddr - fill sun from path; -1 if it does not fit */
static int
mkaddr(struct sockaddr_un *sun, const char *path)
{
	size_t n = strlen(path);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (n == 0 || n >= sizeof(sun->sun_path))
		return (-1);
	memcpy(sun->sun_path, path, n + 1);
	return (0);
}

int
control_listen(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	int fd, probe;
	mode_t old;

	if (mkaddr(&sun, path) < 0) {
		snprintf(err, errlen, "%s: socket path empty or too long", path);
		return (-1);
	}
	/* its directory: made 0700, or one that nobody else may write */
	if (priv_dir_of(path, NULL, err, errlen) < 0)
		return (-1);
	/* a socket file nobody answers on is stale: replace it */
	if ((probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0) {
		if (connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			close(probe);
			snprintf(err, errlen, "%s: another sendguard is running", path);
			return (-1);
		}
		close(probe);
	}
	(void)unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) {
		snprintf(err, errlen, "%s: socket: %s", path, strerror(errno));
		return (-1);
	}
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		umask(old);
		snprintf(err, errlen, "%s: bind: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	umask(old);
	if (chmod(path, 0600) < 0 || listen(fd, 16) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	return (fd);
}

int
control_request(const char *path, const char *req, FILE *out, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct timeval tv = { 60, 0 }; /* a block by hand answers when its programs ran */
	char buf[8192];
	size_t n = strlen(req);
	ssize_t r;
	int fd;

	if (mkaddr(&sun, path) < 0) {
		snprintf(err, errlen, "%s: socket path empty or too long", path);
		return (-1);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return (-1);
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;

		close(fd);
		if (e == ENOENT || e == ECONNREFUSED)
			return (1);
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return (-1);
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (write(fd, req, n) != (ssize_t)n || write(fd, "\n", 1) != 1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)r, out);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	close(fd);
	return (0);
}

/* ------------------------------------------------------- the requests */

/* hexval - the value of a lower-case hex digit, -1 for another byte */
static int
hexval(char c)
{
	return (c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1);
}

/* unhex - n hex digits at h as bytes into out (NUL-terminated); 0 or -1 */
static int
unhex(const char *h, size_t n, char *out, size_t outlen)
{
	size_t i;

	if (n == 0 || n % 2 != 0 || n / 2 + 1 > outlen)
		return (-1);
	for (i = 0; i < n / 2; i++) {
		int hi = hexval(h[2 * i]), lo = hexval(h[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return (-1);
		out[i] = (char)(hi * 16 + lo);
	}
	out[n / 2] = '\0';
	return (0);
}

/* word_is - the n bytes at p are the word w */
static int
word_is(const char *p, size_t n, const char *w)
{
	return (n == strlen(w) && memcmp(p, w, n) == 0);
}

/* parse_arg - the argument of block (seconds) or unblock (mode); 0 or -1 + why */
static int
parse_arg(const char *p, size_t n, struct control_req *r, char *why, size_t whylen)
{
	static const char *const modes[] = { [ACT_UNBLOCK_KEEP] = "keep",
		[ACT_UNBLOCK_RELEASE] = "release",
		[ACT_UNBLOCK_DELETE] = "delete" };
	char num[32], *end;
	size_t i;

	if (r->verb == CONTROL_UNBLOCK) {
		for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
			if (word_is(p, n, modes[i])) {
				r->mode = (enum act_unblock_mode)i;
				return (0);
			}
		snprintf(why, whylen, "bad unblock mode");
		return (-1);
	}
	if (n == 0 || n >= sizeof(num) || p[0] < '0' || p[0] > '9') {
		snprintf(why, whylen, "bad duration");
		return (-1);
	}
	memcpy(num, p, n);
	num[n] = '\0';
	errno = 0;
	r->secs = strtoll(num, &end, 10);
	if (errno == ERANGE || *end != '\0') {
		snprintf(why, whylen, "bad duration");
		return (-1);
	}
	return (0);
}

/* control_parse - see control.h */
int
control_parse(const char *line, size_t len, struct control_req *r, char *why, size_t whylen)
{
	static const char *const verbs[] = { [CONTROL_STATUS] = "status",
		[CONTROL_BLOCK] = "block",
		[CONTROL_UNBLOCK] = "unblock",
		[CONTROL_EXPLAIN] = "explain" };
	char raw[IDENT_MAX];
	const char *sp1, *sp2, *hex, *bad = NULL;
	size_t vn, hn, i;

	memset(r, 0, sizeof(*r));
	if (len >= CONTROL_REQ_MAX) {
		snprintf(why, whylen, "request too long");
		return (-1);
	}
	sp1 = memchr(line, ' ', len);
	vn = sp1 != NULL ? (size_t)(sp1 - line) : len;
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]) && !word_is(line, vn, verbs[i]); i++)
		;
	if (i == sizeof(verbs) / sizeof(verbs[0]) || memchr(line, '\0', len) != NULL) {
		snprintf(why, whylen, "unknown request");
		return (-1);
	}
	r->verb = (enum control_verb)i;
	if (r->verb == CONTROL_STATUS) {
		if (sp1 == NULL || word_is(sp1 + 1, len - vn - 1, "text"))
			return (0);
		if (word_is(sp1 + 1, len - vn - 1, "json")) {
			r->json = 1;
			return (0);
		}
		snprintf(why, whylen, "unknown request");
		return (-1);
	}
	hex = sp1 != NULL ? sp1 + 1 : line + len;
	sp2 = memchr(hex, ' ', (size_t)(line + len - hex));
	hn = sp2 != NULL ? (size_t)(sp2 - hex) : (size_t)(line + len - hex);
	if ((r->verb == CONTROL_EXPLAIN) != (sp2 == NULL)) {
		snprintf(why, whylen, "%s",
		    r->verb == CONTROL_EXPLAIN     ? "unknown request"
			: r->verb == CONTROL_BLOCK ? "bad duration"
						   : "bad unblock mode");
		return (-1);
	}
	if (unhex(hex, hn, raw, sizeof(raw)) < 0) {
		snprintf(why, whylen, "bad identity: not hex");
		return (-1);
	}
	if (!ident_fold(raw, r->id, sizeof(r->id), &bad)) {
		snprintf(why, whylen, "bad identity: %s", bad);
		return (-1);
	}
	if (sp2 != NULL)
		return (parse_arg(sp2 + 1, (size_t)(line + len - sp2 - 1), r, why, whylen));
	return (0);
}

/* ----------------------------------------------------- the server side */

struct control_client {
	struct control *ctl;
	struct control_client *prev, *next;
	int fd;
	int timer;    /* the idle time limit, -1 when none */
	int deferred; /* waits for its answer, not read any more */
	size_t n;
	char buf[CONTROL_REQ_MAX];
};

struct control {
	struct ev *ev;
	int lfd;
	control_answer_fn answer;
	void *ctx;
	struct control_client *clients;
	size_t n;
	time_t refused_at;     /* when a refusal was last logged */
	unsigned long refused; /* refusals not logged since */
};

/*
 * say - a short answer to a client we do not keep (best effort: never
 * blocks).  What it already sent is read and dropped first: closing a
 * socket with unread data resets the connection, and the client would
 * lose the answer.
 */
static void
say(int fd, const char *msg)
{
	char sink[1024];
	int i;

	for (i = 0; i < 16 && recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0; i++)
		;
	(void)send(fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* client_close - forget c */
static void
client_close(struct control_client *c)
{
	struct control *ctl = c->ctl;

	if (!c->deferred)
		(void)ev_del_fd(ctl->ev, c->fd);
	if (c->timer >= 0)
		(void)ev_del_timer(ctl->ev, c->timer);
	(void)close(c->fd);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		ctl->clients = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	ctl->n--;
	free(c);
}

void
control_reply(struct control_client *c, const char *text, size_t len)
{
	struct timeval tv = { 2, 0 };
	size_t off = 0;
	int fd = c->fd;

	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	while (off < len) {
		ssize_t w = send(fd, text + off, len - off, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	client_close(c);
}

void
control_defer(struct control_client *c)
{
	if (c->deferred)
		return;
	c->deferred = 1;
	(void)ev_del_fd(c->ctl->ev, c->fd);
	if (c->timer >= 0)
		(void)ev_del_timer(c->ctl->ev, c->timer);
	c->timer = -1;
}

/* reply_error - "error: WHY" to c, then close it */
static void
reply_error(struct control_client *c, const char *why)
{
	char msg[256];
	int n = snprintf(msg, sizeof(msg), "error: %s\n", why);

	control_reply(c, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
}

/* on_idle - c sent no whole request in time */
static void
on_idle(struct ev *ev, int id, void *ctx)
{
	struct control_client *c = ctx;
	char why[64];

	(void)ev;
	(void)id;
	c->timer = -1; /* a one-shot timer: the loop deletes it after this */
	snprintf(why, sizeof(why), "timeout: no request within %d s", CONTROL_IDLE_MS / 1000);
	log_info("control: closed a client that sent no request within %d s",
	    CONTROL_IDLE_MS / 1000);
	reply_error(c, why);
}

/* on_client_fd - gather one request line, hand it on (c may be gone after) */
static void
on_client_fd(struct ev *ev, int fd, int events, void *ctx)
{
	struct control_client *c = ctx;
	struct control_req req;
	char why[128];
	ssize_t r;
	size_t len;
	char *nl;

	(void)ev;
	(void)events;
	r = read(fd, c->buf + c->n, sizeof(c->buf) - 1 - c->n);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		client_close(c);
		return;
	}
	c->n += (size_t)r;
	if ((nl = memchr(c->buf, '\n', c->n)) == NULL) {
		if (c->n >= sizeof(c->buf) - 1)
			reply_error(c, "request too long");
		return;
	}
	len = (size_t)(nl - c->buf);
	if (len > 0 && c->buf[len - 1] == '\r')
		len--;
	if (control_parse(c->buf, len, &req, why, sizeof(why)) < 0) {
		reply_error(c, why);
		return;
	}
	c->ctl->answer(c->ctl->ctx, c, &req);
}

/* refuse_log - log a refused client, at most one line a second (with the count since) */
static void
refuse_log(struct control *ctl, const char *what)
{
	time_t now = time(NULL);

	if (now == ctl->refused_at) {
		ctl->refused++;
		return;
	}
	if (ctl->refused > 0)
		log_warnx("control: %s (and %lu more refused in the second before)", what,
		    ctl->refused);
	else
		log_warnx("control: %s", what);
	ctl->refused_at = now;
	ctl->refused = 0;
}

/* peer_ok - the peer of fd is root or our own uid; else it is told, logged, 0 */
static int
peer_ok(struct control *ctl, int fd)
{
	struct ucred uc;
	socklen_t n = sizeof(uc);
	char what[160];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &n) < 0 || n != sizeof(uc)) {
		refuse_log(ctl, "refused a client whose credentials cannot be read");
		say(fd, "error: not allowed\n");
		return (0);
	}
	if (uc.uid == 0 || uc.uid == geteuid())
		return (1);
	snprintf(what, sizeof(what), "refused a client of uid %lu (pid %ld): not allowed",
	    (unsigned long)uc.uid, (long)uc.pid);
	refuse_log(ctl, what);
	say(fd, "error: not allowed\n");
	return (0);
}

/* on_accept - every waiting connection: checked, then served or told why not */
static void
on_accept(struct ev *ev, int fd, int events, void *ctx)
{
	struct control *ctl = ctx;
	struct control_client *c;
	int cfd;

	(void)events;
	while ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (!peer_ok(ctl, cfd)) {
			close(cfd);
			continue;
		}
		if (ctl->n >= CONTROL_CLIENTS_MAX) {
			char what[80];

			snprintf(what, sizeof(what),
			    "refused a client: %d clients are being served", CONTROL_CLIENTS_MAX);
			refuse_log(ctl, what);
			say(cfd, "error: busy: too many clients, try again\n");
			close(cfd);
			continue;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			close(cfd);
			continue;
		}
		c->ctl = ctl;
		c->fd = cfd;
		if (ev_add_fd(ev, cfd, EV_READ, on_client_fd, c) < 0) {
			close(cfd);
			free(c);
			continue;
		}
		if ((c->timer = ev_add_timer(ev, CONTROL_IDLE_MS, 0, on_idle, c)) < 0) {
			(void)ev_del_fd(ev, cfd);
			close(cfd);
			free(c);
			continue;
		}
		c->next = ctl->clients;
		if (c->next != NULL)
			c->next->prev = c;
		ctl->clients = c;
		ctl->n++;
	}
}

struct control *
control_new(struct ev *ev, int lfd, control_answer_fn answer, void *ctx)
{
	struct control *ctl = calloc(1, sizeof(*ctl));

	if (ctl == NULL)
		return (NULL);
	ctl->ev = ev;
	ctl->lfd = lfd;
	ctl->answer = answer;
	ctl->ctx = ctx;
	if (ev_add_fd(ev, lfd, EV_READ, on_accept, ctl) < 0) {
		free(ctl);
		return (NULL);
	}
	return (ctl);
}

void
control_free(struct control *ctl)
{
	struct control_client *c, *next;

	if (ctl == NULL)
		return;
	(void)ev_del_fd(ctl->ev, ctl->lfd);
	for (c = ctl->clients; c != NULL; c = next) {
		next = c->next;
		client_close(c);
	}
	free(ctl);
}
