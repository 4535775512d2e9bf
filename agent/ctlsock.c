/* ctlsock.c - the unix control socket between flowctl and flowagent: the
 * client's request and framed reply, and the server's non-blocking
 * connections (see ctlsock.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "ctlsock.h"
#include "log.h"

static int fill_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

/* The reply as it is read: a small buffer over the socket. */
struct reader {
	int fd;
	char buf[65536];
	size_t len, off;
	uint64_t total; /* octets read */
};

/* Makes n octets available at r->buf + r->off; false at end of stream. */
static bool reader_fill(struct reader *r, size_t n)
{
	if (r->off && r->len - r->off < n) {
		memmove(r->buf, r->buf + r->off, r->len - r->off);
		r->len -= r->off;
		r->off = 0;
	}
	while (r->len - r->off < n) {
		ssize_t k =
			read(r->fd, r->buf + r->len, sizeof(r->buf) - r->len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		r->len += (size_t)k;
		r->total += (uint64_t)k;
	}
	return true;
}

static int cut_off(const struct reader *r, const char *what)
{
	fprintf(stderr,
		"flowctl: the reply of flowagent was cut off (%s after %llu "
		"octets): the agent dropped this client or stopped\n",
		what, (unsigned long long)r->total);
	return -EPIPE;
}

/* The status line: 0 (OK), -ENOENT (another pin path) or -EIO. */
static int read_status(struct reader *r)
{
	char status[512];
	char *nl;

	for (;;) {
		nl = memchr(r->buf + r->off, '\n', r->len - r->off);
		if (nl || r->len - r->off >= sizeof(status) - 1)
			break;
		if (!reader_fill(r, r->len - r->off + 1))
			return cut_off(r, "no status line");
	}
	snprintf(status, sizeof(status), "%.*s",
		 nl ? (int)(nl - (r->buf + r->off)) : (int)(r->len - r->off),
		 r->buf + r->off);
	r->off = nl ? (size_t)(nl + 1 - r->buf) : r->len;
	if (!strcmp(status, "OK"))
		return 0;
	if (!strncmp(status, "ERR other-pin", 13))
		return -ENOENT;
	fprintf(stderr, "flowagent: %s\n",
		strncmp(status, "ERR ", 4) ? status : status + 4);
	return -EIO;
}

static int read_frames(struct reader *r, ctlsock_body_fn body, void *ctx)
{
	char *frame = NULL, *p;
	int err = 0;

	for (;;) {
		uint32_t n;

		if (!reader_fill(r, 4)) {
			err = cut_off(r, "no end frame");
			break;
		}
		memcpy(&n, r->buf + r->off, 4);
		r->off += 4;
		n = ntohl(n);
		if (!n)
			break;
		p = realloc(frame, n);
		if (!p) {
			err = -ENOMEM;
			break;
		}
		frame = p;
		for (uint32_t got = 0; got < n;) {
			size_t k;

			if (!reader_fill(r, 1)) {
				free(frame);
				return cut_off(r, "in a frame");
			}
			k = r->len - r->off < n - got ? r->len - r->off
						      : n - got;
			memcpy(frame + got, r->buf + r->off, k);
			r->off += k;
			got += (uint32_t)k;
		}
		err = body(ctx, frame, n);
		if (err)
			break;
	}
	free(frame);
	return err;
}

int ctlsock_request(const char *path, const char *line, ctlsock_body_fn body,
		    void *ctx)
{
	struct sockaddr_un sa;
	struct reader *r;
	int err;

	if (fill_addr(&sa, path))
		return -ENOENT;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (r->fd < 0) {
		err = -errno;
		goto out;
	}
	if (connect(r->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = errno == ECONNREFUSED || errno == ENOENT ? -ENOENT
							       : -errno;
		goto out_close;
	}
	/* one send, without SIGPIPE: an agent may answer and close early */
	snprintf(r->buf, sizeof(r->buf), "%s\n", line);
	if (send(r->fd, r->buf, strlen(r->buf), MSG_NOSIGNAL) < 0) {
		err = -errno;
		goto out_close;
	}
	err = read_status(r);
	if (!err)
		err = read_frames(r, body, ctx);
out_close:
	close(r->fd);
out:
	free(r);
	return err;
}

int ctlsock_print(void *ctx, const void *data, size_t len)
{
	return fwrite(data, 1, len, ctx) == len ? 0 : -EIO;
}

int ctlsock_listen(const char *path)
{
	struct sockaddr_un sa;
	char dir[sizeof(sa.sun_path)];
	char *slash;
	int fd, err;

	if (fill_addr(&sa, path)) {
		pr_warn("control socket %s: path too long\n", path);
		return -ENAMETOOLONG;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		if (mkdir(dir, 0700) && errno != EEXIST) {
			err = -errno;
			pr_warn("create %s: %s\n", dir, strerror(errno));
			return err;
		}
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* a stale socket of a dead agent: refuse to steal a live one */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		pr_warn("control socket %s: another flowagent is running\n",
			path);
		close(fd);
		return -EADDRINUSE;
	}
	unlink(path);
	mode_t old = umask(0177);
	err = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (err || listen(fd, 8)) {
		err = -errno;
		pr_warn("control socket %s: %s\n", path, strerror(errno));
		close(fd);
		return err;
	}
	chmod(path, 0600);
	return fd;
}

/* A client. out[off..len) is queued; state: reading the request, then
 * replying, then (ended) closing once out is sent.
 */
struct ctlconn {
	int fd;
	enum { CONN_REQUEST, CONN_REPLY, CONN_ENDED } state;
	char req[1024];
	size_t reqlen;
	char *out;
	size_t off, len, cap;
	uint64_t deadline; /* request by; or some progress by (0: not armed) */
};

struct ctlconn *ctlconn__accept(int lfd, uint64_t now_ms)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	struct ctlconn *c;

	if (fd < 0)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	c->fd = fd;
	c->deadline = now_ms + CTLSOCK_REQUEST_MS;
	return c;
}

void ctlconn__free(struct ctlconn *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c->out);
	free(c);
}

int ctlconn__fd(const struct ctlconn *c)
{
	return c->fd;
}

short ctlconn__events(const struct ctlconn *c)
{
	if (c->state == CONN_REQUEST)
		return POLLIN;
	return c->len > c->off ? POLLOUT : 0;
}

const char *ctlconn__request(const struct ctlconn *c)
{
	return c->req;
}

static int conn_read(struct ctlconn *c)
{
	ssize_t n =
		read(c->fd, c->req + c->reqlen, sizeof(c->req) - 1 - c->reqlen);
	char *nl;

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (n == 0)
		return -ECONNRESET;
	c->reqlen += (size_t)n;
	c->req[c->reqlen] = 0;
	nl = strchr(c->req, '\n');
	if (!nl)
		return c->reqlen == sizeof(c->req) - 1 ? -EPROTO : 0;
	*nl = 0;
	c->state = CONN_REPLY;
	return 1;
}

static int conn_write(struct ctlconn *c, uint64_t now_ms)
{
	if (!c->deadline)
		c->deadline = now_ms + CTLSOCK_STALL_MS;
	while (c->off < c->len) {
		ssize_t n = send(c->fd, c->out + c->off, c->len - c->off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		c->off += (size_t)n;
		c->deadline = now_ms + CTLSOCK_STALL_MS;
	}
	c->off = c->len = 0;
	return 0;
}

int ctlconn__io(struct ctlconn *c, uint64_t now_ms)
{
	if (c->state == CONN_REQUEST)
		return conn_read(c);
	return conn_write(c, now_ms);
}

static int conn_queue(struct ctlconn *c, const void *data, size_t len)
{
	if (c->off && c->len + len > c->cap) {
		memmove(c->out, c->out + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	if (c->len + len > c->cap) {
		size_t cap = c->cap ? c->cap : 65536;
		char *p;

		while (cap < c->len + len)
			cap *= 2;
		p = realloc(c->out, cap);
		if (!p)
			return -ENOMEM;
		c->out = p;
		c->cap = cap;
	}
	/* the stall clock runs from when there is something to take: it is
	 * armed by the next ctlconn__stalled() or write
	 */
	if (c->len == c->off)
		c->deadline = 0;
	memcpy(c->out + c->len, data, len);
	c->len += len;
	return 0;
}

int ctlconn__status(struct ctlconn *c, const char *status)
{
	int err = conn_queue(c, status, strlen(status));

	if (!err)
		err = conn_queue(c, "\n", 1);
	if (!strncmp(status, "ERR", 3))
		c->state = CONN_ENDED;
	return err;
}

int ctlconn__frame(struct ctlconn *c, const void *data, size_t len)
{
	uint32_t n = htonl((uint32_t)len);
	int err;

	if (!len)
		return 0;
	err = conn_queue(c, &n, 4);
	return err ? err : conn_queue(c, data, len);
}

int ctlconn__end(struct ctlconn *c)
{
	uint32_t zero = 0;

	c->state = CONN_ENDED;
	return conn_queue(c, &zero, 4);
}

size_t ctlconn__queued(const struct ctlconn *c)
{
	return c->len - c->off;
}

bool ctlconn__done(const struct ctlconn *c)
{
	return c->state == CONN_ENDED && c->len == c->off;
}

uint64_t ctlconn__deadline(const struct ctlconn *c)
{
	if (c->state != CONN_REQUEST && c->len == c->off)
		return UINT64_MAX;
	return c->deadline;
}

bool ctlconn__stalled(struct ctlconn *c, uint64_t now_ms)
{
	uint64_t d = ctlconn__deadline(c);

	if (!d) /* queued since the last look: the clock starts now */
		d = c->deadline = now_ms + CTLSOCK_STALL_MS;
	return d != UINT64_MAX && now_ms >= d;
}
