/* metrics.c - the Prometheus endpoint (see metrics.h): a listening socket
 * made in the agent's own namespace, libmicrohttpd in its external epoll
 * mode on it, and the snapshot of the agent each GET /metrics formats
 * (metrics_text.c).
 *
 * What a client can cost: at most METRICS_MAX_CONNS connections
 * (METRICS_MAX_PER_IP from one address), METRICS_CONN_MEMORY bytes of
 * request buffer each, closed after METRICS_TIMEOUT_S s without progress;
 * every call into MHD is non-blocking. A scrape reads counters the agent
 * keeps (one syscall per meter counter, none that grows with the maps:
 * their fill is what the last tick drained, not a key walk of the live
 * map) and formats a few kilobytes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <microhttpd.h>
#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "metrics_text.h"
#include "netns.h"

#define METRICS_MAX_CONNS 8
#define METRICS_MAX_PER_IP 4
#define METRICS_TIMEOUT_S 10
#define METRICS_CONN_MEMORY (16 * 1024)
#define METRICS_BACKLOG 16
#define METRICS_LOG_INTERVAL_S 10

struct metrics {
	struct MHD_Daemon *d;
	char listen[sizeof(((struct fe_config *)0)->metrics_listen)];
	const struct agent *a;		/* during metrics__serve() only */
	uint64_t logged_s, log_skipped; /* mhd_log()'s rate limit */
};

/* MHD's messages, at most one per METRICS_LOG_INTERVAL_S: a client that
 * opens connection after connection beyond the limits must not flood the
 * log with "connection limit reached".
 */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct metrics *m = cls;
	uint64_t now = fe_clock_mono_ms() / 1000;
	char msg[256];
	size_t n;

	if (m->logged_s && now - m->logged_s < METRICS_LOG_INTERVAL_S) {
		m->log_skipped++;
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	if (m->log_skipped)
		pr_warn("metrics %s: %s (%llu more since the last message "
			"not logged)\n",
			m->listen, msg, (unsigned long long)m->log_skipped);
	else
		pr_warn("metrics %s: %s\n", m->listen, msg);
	m->logged_s = now ? now : 1;
	m->log_skipped = 0;
}

static void take_snapshot(const struct agent *a, struct metrics_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->pin_path = a->cfg.pin_path;
	s->netns = a->cfg.netns;
	s->meter_ok = !meter__stats(a->m, s->meter);
	s->map_entries = a->tick_entries;
	s->map_capacity = meter__max_flows(a->m);
	s->sampling = a->cfg.sampling;
	flowcache__stats(a->fc, &s->cache);
	s->cache_capacity = a->cfg.max_flows;
	s->ticks = a->ticks;
	s->drained = a->drained;
	s->drain_errors = a->drain_errors;
	s->early_drains = a->early_drains;
	s->overflow_dup = a->overflow_dup;
	s->drain_store_failed = a->drain_store_failed;
	s->restart_replayed = a->restart_replayed;
	s->restart_uncertain = a->restart_uncertain;
	s->restart_staged = a->restart_staged;
	s->drain_time = a->drain_time;
	s->ncoll = a->nexp;
	for (int i = 0; i < a->nexp; i++)
		exporter__stats(a->exp[i], &s->coll[i]);
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status,
			     char *body, size_t len, const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn,
				  unsigned int status, const char *text)
{
	char *body = strdup(text);

	return body ? reply(conn, status, body, strlen(body),
			    "text/plain; charset=utf-8")
		    : MHD_NO;
}

/* MHD's access handler: called from MHD_run(), so inside
 * metrics__serve(), once the request's headers are in. A GET has no body
 * to wait for: the answer goes out on the first call.
 */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_len, void **req_ctx)
{
	struct metrics *m = cls;
	struct metrics_snapshot s;
	char *body = NULL;
	size_t len = 0;
	FILE *f;

	if (strcmp(method, MHD_HTTP_METHOD_GET) &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
				  "only GET and HEAD\n");
	if (strcmp(url, "/metrics"))
		return reply_text(conn, MHD_HTTP_NOT_FOUND,
				  "flowagent serves /metrics only\n");
	/* MHD closes a connection whose answer was queued on the first
	 * call, before the request was read to its end: answer on the second
	 * call, so that a scraper keeps its connection between scrapes
	 */
	if (!*req_ctx) {
		*req_ctx = m;
		return MHD_YES;
	}
	if (!m->a)
		return MHD_NO;
	take_snapshot(m->a, &s);
	f = open_memstream(&body, &len);
	if (!f)
		return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "out of memory\n");
	if (metrics_text_write(f, &s) | fclose(f)) {
		free(body);
		return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "out of memory\n");
	}
	return reply(conn, MHD_HTTP_OK, body, len, METRICS_CONTENT_TYPE);
}

/* Bound and listening, in host_ns's network namespace. */
static int listen_socket(const struct fe_config *c, int host_ns, int back_ns)
{
	int one = 1, fd, err;

	fd = fe_netns_socket(host_ns, back_ns, c->metrics_addr.ss_family,
			     SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fd;
	/* a restarted agent rebinds while old connections sit in TIME_WAIT */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&c->metrics_addr,
		 c->metrics_addrlen) ||
	    listen(fd, METRICS_BACKLOG)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static struct metrics *metrics_open(const struct agent *a)
{
	const struct fe_config *c = &a->cfg;
	struct metrics *m = calloc(1, sizeof(*m));
	int fd, err = -ENOMEM;

	if (!m)
		goto fail;
	snprintf(m->listen, sizeof(m->listen), "%s", c->metrics_listen);
	err = c->metrics_addrlen ? listen_socket(c, a->host_ns, a->meter_ns)
				 : -EDESTADDRREQ;
	if (err < 0)
		goto fail;
	fd = err;
	/* no MHD thread: MHD_USE_EPOLL without MHD_USE_INTERNAL_POLLING_THREAD
	 * leaves the polling to the agent's loop
	 */
	m->d = MHD_start_daemon(
		MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, m,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, m,
		MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned int)METRICS_MAX_CONNS,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		(unsigned int)METRICS_MAX_PER_IP, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned int)METRICS_TIMEOUT_S,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)METRICS_CONN_MEMORY,
		MHD_OPTION_END);
	if (!m->d) {
		err = errno ? -errno : -EINVAL;
		close(fd);
		goto fail;
	}
	pr_info("metrics: serving /metrics on %s\n", m->listen);
	return m;
fail:
	pr_warn("metrics_listen %s: %s\n", c->metrics_listen,
		err == -EDESTADDRREQ ? "the address was not resolved"
				     : strerror(-err));
	free(m);
	errno = -err;
	return NULL;
}

int metrics__sync(struct metrics **mp, const struct agent *a)
{
	const char *want = a->cfg.metrics_listen;
	struct metrics *m = *mp;

	if (m ? !strcmp(m->listen, want) : !*want)
		return 0;
	if (*want) {
		struct metrics *n = metrics_open(a);

		if (!n)
			return -errno;
		*mp = n;
	} else {
		pr_info("metrics: no longer serving on %s\n", m->listen);
		*mp = NULL;
	}
	metrics__free(m);
	return 0;
}

void metrics__free(struct metrics *m)
{
	if (!m)
		return;
	/* closes the connections and the listening socket */
	MHD_stop_daemon(m->d);
	free(m);
}

int metrics__fd(const struct metrics *m)
{
	const union MHD_DaemonInfo *i;

	if (!m)
		return -1;
	i = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_EPOLL_FD);
	return i ? i->epoll_fd : -1;
}

int metrics__timeout(const struct metrics *m, int timeout_ms)
{
	MHD_UNSIGNED_LONG_LONG t;

	if (m && MHD_get_timeout(m->d, &t) == MHD_YES &&
	    (timeout_ms < 0 || t < (MHD_UNSIGNED_LONG_LONG)timeout_ms))
		return (int)t;
	return timeout_ms;
}

void metrics__serve(struct metrics *m, const struct agent *a)
{
	if (!m)
		return;
	m->a = a;
	MHD_run(m->d);
	m->a = NULL;
}
