/* exporter.c - a collector: UDP or TCP transport, IPFIX writer, templates,
 * and the error accounting that keeps metering independent of it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "clock.h"
#include "exporter.h"
#include "ipfix.h"
#include "log.h"
#include "records.h"

#define MAX_RECS (2 * FE_CONV_MAX_PATHS + 2)
#define ERR_LOG_INTERVAL 10 /* s between repeated send-error messages */
#define TCP_BACKOFF_MAX 60

struct exporter {
	struct fe_collector_cfg cc;
	struct fe_template_cfg tc; /* copy of the collector's template */
	bool has_tc;
	struct ipfix_template tmpl[2]; /* [0] IPv4, [1] IPv6 */
	struct ipfix_writer *w;
	int fd;
	bool connected;	       /* UDP: socket open; TCP: session up */
	uint32_t next_connect; /* earliest (re)open attempt */
	unsigned int backoff;  /* s, doubling to TCP_BACKOFF_MAX */
	uint32_t last_err_log; /* s */
	uint64_t errs_since_log;
	uint64_t sessions;
	int host_ns, meter_ns; /* netns fds of the caller's, or -1 */
	struct fe_record recs[MAX_RECS];
};

const char *exporter__name(const struct exporter *e)
{
	return e->cc.name;
}

static void log_send_error(struct exporter *e, int err)
{
	uint32_t now = fe_clock_unix_s();

	e->errs_since_log++;
	if (now - e->last_err_log < ERR_LOG_INTERVAL && e->last_err_log)
		return;
	pr_warn("collector %s (%s): send failed: %s (%llu failed sends since "
		"last message; metering goes on)\n",
		e->cc.name, e->cc.address, strerror(err),
		(unsigned long long)e->errs_since_log);
	e->last_err_log = now;
	e->errs_since_log = 0;
}

static int send_msg(void *ctx, const void *msg, size_t len)
{
	struct exporter *e = ctx;
	ssize_t n;

	if (e->fd < 0 || !e->connected)
		return -ENOTCONN;
	n = send(e->fd, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n == (ssize_t)len)
		return 0;
	int err = n < 0 ? errno : EMSGSIZE;
	log_send_error(e, err);
	if (e->cc.transport == FE_TRANSPORT_TCP) {
		/* a partial message breaks the stream: start a new session */
		close(e->fd);
		e->fd = -1;
		e->connected = false;
	}
	return -err;
}

/* Collectors are reached from the host's network namespace while the
 * agent lives in the metered one: sockets are made in the host's.
 */
static int open_socket(struct exporter *e)
{
	if (e->host_ns >= 0 && setns(e->host_ns, CLONE_NEWNET))
		return -errno;
	int type =
		e->cc.transport == FE_TRANSPORT_TCP ? SOCK_STREAM : SOCK_DGRAM;
	int fd = socket(e->cc.addr.ss_family, type | SOCK_CLOEXEC, 0);
	int serr = errno;

	if (e->meter_ns >= 0 && setns(e->meter_ns, CLONE_NEWNET))
		pr_warn("return to the metered network namespace: %s\n",
			strerror(errno));
	if (fd < 0)
		return -serr;
	if (type == SOCK_STREAM)
		fcntl(fd, F_SETFL, O_NONBLOCK);
	/* connected UDP: one source port for the whole run (collectors key
	 * exporters by it), and ICMP errors come back as send errors
	 */
	if (connect(fd, (struct sockaddr *)&e->cc.addr, e->cc.addrlen) &&
	    errno != EINPROGRESS) {
		int err = -errno;

		close(fd);
		return err;
	}
	e->fd = fd;
	return 0;
}

static int build_templates(struct exporter *e, const struct fe_config *cfg)
{
	const uint16_t *ies;
	char err[256];
	int n, id;

	if (e->cc.tmpl >= 0) {
		e->tc = cfg->tmpl[e->cc.tmpl];
		e->has_tc = true;
		ies = e->tc.ies;
		n = e->tc.nies;
		id = e->tc.id;
	} else {
		ies = ipfix_default_fields(&n);
		id = 1024;
	}
	for (int f = 0; f < 2; f++) {
		if (ipfix_template_build(&e->tmpl[f], id + f, f ? 6 : 4,
					 e->cc.biflow, ies, n, err,
					 sizeof(err))) {
			pr_warn("collector %s: template %d: %s\n", e->cc.name,
				id + f, err);
			return -EINVAL;
		}
	}
	return 0;
}

struct exporter *exporter__new(const struct fe_config *cfg, int idx,
			       int host_ns, int meter_ns)
{
	struct exporter *e = calloc(1, sizeof(*e));
	int err;

	if (!e)
		return NULL;
	e->cc = cfg->coll[idx];
	e->fd = -1;
	e->host_ns = host_ns;
	e->meter_ns = meter_ns;
	err = build_templates(e, cfg);
	if (err)
		goto fail;
	e->w = ipfix_writer__new(e->cc.observation_domain, e->cc.mtu, send_msg,
				 e);
	if (!e->w) {
		err = -ENOMEM;
		goto fail;
	}
	/* a collector that cannot be reached yet (no route at boot) does
	 * not stop metering: the socket is retried every tick with backoff
	 */
	if (e->cc.transport == FE_TRANSPORT_UDP && open_socket(e) == 0)
		e->connected = true;
	pr_info("collector %s: %s over %s, %s records, template %u/%u\n",
		e->cc.name, e->cc.address, fe_transport_name(e->cc.transport),
		e->cc.biflow ? "biflow" : "uniflow", e->tmpl[0].id,
		e->tmpl[1].id);
	return e;
fail:
	exporter__free(e);
	errno = -err;
	return NULL;
}

void exporter__free(struct exporter *e)
{
	if (!e)
		return;
	if (e->w) {
		ipfix_writer__flush(e->w, fe_clock_unix_s());
		ipfix_writer__free(e->w);
	}
	if (e->fd >= 0)
		close(e->fd);
	free(e);
}

/* What a collector's socket, sequence and templates depend on (not the
 * section's line or name: a comment added above it must not reset it).
 */
int exporter__differs(const struct exporter *e, const struct fe_config *cfg,
		      int idx)
{
	const struct fe_collector_cfg *a = &e->cc, *b = &cfg->coll[idx];
	const struct fe_template_cfg *t =
		b->tmpl >= 0 ? &cfg->tmpl[b->tmpl] : NULL;

	if (a->addrlen != b->addrlen ||
	    memcmp(&a->addr, &b->addr, a->addrlen) ||
	    a->transport != b->transport || a->biflow != b->biflow ||
	    a->split_links != b->split_links || a->mtu != b->mtu ||
	    a->template_refresh != b->template_refresh ||
	    a->observation_domain != b->observation_domain ||
	    strcmp(a->name, b->name))
		return 1;
	if (!t != !e->has_tc)
		return 1;
	return t && (t->id != e->tc.id || t->nies != e->tc.nies ||
		     memcmp(t->ies, e->tc.ies, t->nies * sizeof(t->ies[0])));
}

static void send_templates(struct exporter *e, uint32_t now)
{
	const struct ipfix_template *t[2] = { &e->tmpl[0], &e->tmpl[1] };

	ipfix_writer__add_templates(e->w, t, 2, now);
}

void exporter__conv(struct exporter *e, const struct fe_conv *c,
		    uint8_t end_reason, uint32_t now_s)
{
	int n = fe_conv_records(
		c, e->cc.biflow ? FE_REC_BIFLOW : FE_REC_UNIFLOW,
		e->cc.split_links, end_reason, e->recs, MAX_RECS);

	/* UDP: templates at start and every template_refresh; TCP: once per
	 * session, when it comes up (tcp_connect)
	 */
	if (e->cc.transport == FE_TRANSPORT_UDP &&
	    ipfix_writer__templates_due(e->w, now_s, e->cc.template_refresh))
		send_templates(e, now_s);
	for (int i = 0; i < n; i++)
		ipfix_writer__add_record(e->w, &e->tmpl[e->recs[i].family == 6],
					 &e->recs[i], now_s);
}

static void open_backoff(struct exporter *e, uint32_t now, int err)
{
	log_send_error(e, err);
	e->backoff = e->backoff ? e->backoff * 2 : 1;
	if (e->backoff > TCP_BACKOFF_MAX)
		e->backoff = TCP_BACKOFF_MAX;
	e->next_connect = now + e->backoff;
}

/* Drives the TCP session: a non-blocking connect is started, checked on
 * the next ticks, and retried with exponential backoff (1 s .. 60 s).
 */
static void tcp_connect(struct exporter *e, uint32_t now)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (e->fd >= 0 && !e->connected) {
		struct sockaddr_storage ss;

		if (getsockopt(e->fd, SOL_SOCKET, SO_ERROR, &err, &len) ||
		    err) {
			close(e->fd);
			e->fd = -1;
			open_backoff(e, now, err ? err : errno);
			return;
		}
		len = sizeof(ss);
		if (getpeername(e->fd, (struct sockaddr *)&ss, &len))
			return; /* still in progress */
		/* records queued while there was no session are lost (counted
		 * not sent); the session starts at sequence 0 with templates
		 */
		ipfix_writer__new_session(e->w);
		e->connected = true;
		e->backoff = 0;
		e->sessions++;
		pr_info("collector %s: TCP session %llu up\n", e->cc.name,
			(unsigned long long)e->sessions);
		send_templates(e, now);
		return;
	}
	if (e->fd >= 0 || now < e->next_connect)
		return;
	err = open_socket(e);
	if (err)
		open_backoff(e, now, -err);
}

void exporter__tick(struct exporter *e, uint32_t now_s)
{
	if (e->cc.transport == FE_TRANSPORT_TCP) {
		char c;

		/* a collector that closed its end: notice it before the next
		 * records are lost in a dead session
		 */
		if (e->connected &&
		    recv(e->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0) {
			pr_warn("collector %s (%s): TCP session closed by the "
				"collector; reconnecting\n",
				e->cc.name, e->cc.address);
			close(e->fd);
			e->fd = -1;
			e->connected = false;
		}
		if (!e->connected)
			tcp_connect(e, now_s);
	} else {
		if (!e->connected && now_s >= e->next_connect) {
			int err = open_socket(e);

			if (err) {
				open_backoff(e, now_s, -err);
			} else {
				pr_info("collector %s: UDP socket open\n",
					e->cc.name);
				e->connected = true;
				e->backoff = 0;
				send_templates(e, now_s);
			}
		}
		if (e->cc.template_refresh &&
		    ipfix_writer__templates_due(e->w, now_s,
						e->cc.template_refresh))
			send_templates(e, now_s);
	}
	ipfix_writer__flush(e->w, now_s);
}

void exporter__print_stats(const struct exporter *e, FILE *out, bool json)
{
	struct ipfix_writer_stats s;

	ipfix_writer__stats(e->w, &s);
	if (json) {
		fprintf(out,
			"{\"name\":\"%s\",\"address\":\"%s\",\"transport\":\"%"
			"s\",\"messages\":%llu,\"records\":%llu,\"template_"
			"records\":%llu,\"octets\":%llu,\"send_errors\":%llu,"
			"\"records_not_sent\":%llu,\"sequence\":%u}",
			e->cc.name, e->cc.address,
			fe_transport_name(e->cc.transport),
			(unsigned long long)s.messages,
			(unsigned long long)s.records,
			(unsigned long long)s.templates,
			(unsigned long long)s.octets,
			(unsigned long long)s.send_errors,
			(unsigned long long)s.not_sent,
			ipfix_writer__seq(e->w));
		return;
	}
	fprintf(out, "collector %s (%s, %s, %s)\n", e->cc.name, e->cc.address,
		fe_transport_name(e->cc.transport),
		e->cc.biflow ? "biflow" : "uniflow");
	fprintf(out, "  %-22s %llu\n  %-22s %llu\n  %-22s %llu\n", "messages",
		(unsigned long long)s.messages, "records",
		(unsigned long long)s.records, "template_records",
		(unsigned long long)s.templates);
	fprintf(out, "  %-22s %llu\n  %-22s %llu\n  %-22s %llu\n  %-22s %u\n",
		"octets", (unsigned long long)s.octets, "send_errors",
		(unsigned long long)s.send_errors, "records_not_sent",
		(unsigned long long)s.not_sent, "sequence",
		ipfix_writer__seq(e->w));
}

void exporter__stats(const struct exporter *e, struct exporter_stats *s)
{
	s->name = e->cc.name;
	s->address = e->cc.address;
	s->transport = e->cc.transport;
	s->biflow = e->cc.biflow;
	s->up = e->connected;
	s->queued_bytes = ipfix_writer__pending(e->w);
	ipfix_writer__stats(e->w, &s->w);
}
