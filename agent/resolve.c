/* resolve.c - host names of collectors looked up off the drain loop (see
 * resolve.h). Why a thread of our own rather than glibc's getaddrinfo_a():
 * a lookup must run in the host's network namespace (its DNS servers, its
 * routes), and a thread's namespace is set per thread; getaddrinfo_a's
 * helper threads are pooled and inherit whatever namespace the thread that
 * first made them was in. Here each lookup's thread enters the namespace
 * itself, looks up, hands the answer back and ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "resolve.h"

/* Ownership: the thread writes err, why, addr and len, then sets done
 * (release) and never touches them again; the caller reads them only once
 * it saw done (acquire). Each side holds one of refs: whoever drops the
 * last frees r. ns_fd belongs to the thread.
 */
struct fe_resolve {
	atomic_int refs;
	atomic_bool done;
	char host[256];
	char port[8];
	int socktype;
	int ns_fd;
	int err; /* 0: found */
	char why[128];
	struct sockaddr_storage addr;
	socklen_t len;
};

static void resolve_put(struct fe_resolve *r)
{
	if (atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) == 1)
		free(r);
}

static void resolve_lookup(struct fe_resolve *r)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	int ret;

	if (r->ns_fd >= 0 && setns(r->ns_fd, CLONE_NEWNET)) {
		r->err = -1;
		snprintf(r->why, sizeof(r->why),
			 "enter the host's network namespace: %s",
			 strerror(errno));
		return;
	}
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = r->socktype;
	hints.ai_flags = AI_NUMERICSERV;
	ret = getaddrinfo(r->host, r->port, &hints, &res);
	if (ret) {
		r->err = -1;
		snprintf(r->why, sizeof(r->why), "%s",
			 ret == EAI_SYSTEM ? strerror(errno)
					   : gai_strerror(ret));
		return;
	}
	memcpy(&r->addr, res->ai_addr, res->ai_addrlen);
	r->len = res->ai_addrlen;
	freeaddrinfo(res);
}

static void *resolve_thread(void *arg)
{
	struct fe_resolve *r = arg;

	resolve_lookup(r);
	if (r->ns_fd >= 0)
		close(r->ns_fd);
	atomic_store_explicit(&r->done, true, memory_order_release);
	resolve_put(r);
	return NULL;
}

struct fe_resolve *fe_resolve__start(const char *host, uint16_t port,
				     int socktype, int ns_fd)
{
	struct fe_resolve *r = calloc(1, sizeof(*r));
	sigset_t all, old;
	pthread_attr_t at;
	pthread_t t;
	int err;

	if (!r)
		return NULL;
	snprintf(r->host, sizeof(r->host), "%s", host);
	snprintf(r->port, sizeof(r->port), "%u", port);
	r->socktype = socktype;
	r->ns_fd = ns_fd >= 0 ? fcntl(ns_fd, F_DUPFD_CLOEXEC, 0) : -1;
	if (ns_fd >= 0 && r->ns_fd < 0) {
		err = errno;
		free(r);
		errno = err;
		return NULL;
	}
	atomic_init(&r->refs, 2);
	atomic_init(&r->done, false);
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	/* signals stay with the main thread's signalfd */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&t, &at, resolve_thread, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&at);
	if (err) {
		if (r->ns_fd >= 0)
			close(r->ns_fd);
		free(r);
		errno = err;
		return NULL;
	}
	return r;
}

int fe_resolve__poll(const struct fe_resolve *r, struct sockaddr_storage *ss,
		     socklen_t *len, const char **why)
{
	if (!atomic_load_explicit(&r->done, memory_order_acquire))
		return 0;
	if (r->err) {
		*why = r->why;
		return -1;
	}
	memcpy(ss, &r->addr, r->len);
	*len = r->len;
	return 1;
}

void fe_resolve__free(struct fe_resolve *r)
{
	if (r)
		resolve_put(r);
}
