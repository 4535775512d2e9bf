/* ctlsock.c - the unix control socket between flowctl and flowagent. */
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

int ctlsock_request(const char *path, const char *line, FILE *out)
{
	struct sockaddr_un sa;
	char buf[4096], status[512];
	size_t sn = 0;
	bool in_body = false;
	ssize_t n;
	int fd, err;

	if (fill_addr(&sa, path))
		return -ENOENT;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = errno == ECONNREFUSED || errno == ENOENT ? -ENOENT
							       : -errno;
		close(fd);
		return err;
	}
	if (write(fd, line, strlen(line)) < 0 || write(fd, "\n", 1) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		char *p = buf;

		if (!in_body) {
			char *nl = memchr(buf, '\n', n);
			size_t take = nl ? (size_t)(nl - buf) : (size_t)n;

			if (sn + take >= sizeof(status))
				take = sizeof(status) - 1 - sn;
			memcpy(status + sn, buf, take);
			sn += take;
			if (!nl)
				continue;
			status[sn] = 0;
			in_body = true;
			p = nl + 1;
			n -= p - buf;
		}
		fwrite(p, 1, n, out);
	}
	close(fd);
	if (!in_body)
		return -EIO;
	if (!strcmp(status, "OK"))
		return 0;
	if (!strncmp(status, "ERR other-pin", 13))
		return -ENOENT;
	fprintf(stderr, "flowagent: %s\n",
		strncmp(status, "ERR ", 4) ? status : status + 4);
	return -EIO;
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

static long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

int ctlsock_accept(int lfd, char *line, size_t len)
{
	/* the agent serves clients between ticks: a client has 1 s to send
	 * its request line, and one that stops reading its reply holds the
	 * agent 2 s at most before it is cut off
	 */
	long deadline = ms_now() + 1000, left;
	struct pollfd p;
	size_t n = 0;
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return -errno;
	p.fd = fd;
	p.events = POLLIN;
	while (n < len - 1 && (left = deadline - ms_now()) > 0 &&
	       poll(&p, 1, (int)left) == 1) {
		ssize_t r = read(fd, line + n, len - 1 - n);

		if (r <= 0)
			break;
		n += r;
		if (memchr(line, '\n', n))
			break;
	}
	line[n] = 0;
	char *nl = strchr(line, '\n');
	if (!nl) {
		close(fd);
		return -EPROTO;
	}
	*nl = 0;
	return fd;
}

void ctlsock_reply(int fd, const char *buf, size_t len)
{
	long deadline = ms_now() + 2000, left;
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	size_t off = 0;

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	while (off < len && (left = deadline - ms_now()) > 0) {
		ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL);

		if (n > 0) {
			off += n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			break;
		if (poll(&p, 1, (int)left) <= 0)
			break;
	}
	if (off < len)
		pr_warn("control: client did not take its reply (%zu of %zu "
			"bytes sent in 2 s); dropped\n",
			off, len);
	close(fd);
}
