/* export_net.c - a network collector's output: IPFIX or NetFlow v9
 * messages (ipfix.c's writer, nfv9.c's wire format) over UDP or TCP, the
 * templates and options records (ipfix_options.c) with their refresh, TCP
 * reconnects with backoff, and the error accounting that keeps metering
 * independent of the collector.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "clock.h"
#include "ipfix_options.h"
#include "log.h"
#include "nfv9.h"
#include "output.h"

#define ERR_LOG_INTERVAL 10 /* s between repeated send-error messages */
#define TCP_BACKOFF_MAX 60

struct fe_output {
	const struct fe_collector_cfg *cc;
	const struct ipfix_template *tmpl; /* [0] IPv4, [1] IPv6 */
	struct fe_options opts;
	struct ipfix_writer *w;
	int fd;
	bool connected;	       /* UDP: socket open; TCP: session up */
	uint32_t next_connect; /* earliest (re)open attempt */
	unsigned int backoff;  /* s, doubling to TCP_BACKOFF_MAX */
	uint32_t last_err_log; /* s */
	uint64_t errs_since_log;
	uint64_t sessions;
	uint32_t options_s;    /* options records last sent (TCP refresh) */
	int host_ns, meter_ns; /* netns fds of the caller's, or -1 */
	struct fe_link *links; /* FE_OPT_MAX_LINKS, read at each refresh */
};

static void log_send_error(struct fe_output *o, int err)
{
	uint32_t now = fe_clock_unix_s();

	o->errs_since_log++;
	if (now - o->last_err_log < ERR_LOG_INTERVAL && o->last_err_log)
		return;
	pr_warn("collector %s (%s): send failed: %s (%llu failed sends since "
		"last message; metering goes on)\n",
		o->cc->name, o->cc->address, strerror(err),
		(unsigned long long)o->errs_since_log);
	o->last_err_log = now;
	o->errs_since_log = 0;
}

static int send_msg(void *ctx, const void *msg, size_t len)
{
	struct fe_output *o = ctx;
	ssize_t n;

	if (o->fd < 0 || !o->connected)
		return -ENOTCONN;
	n = send(o->fd, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n == (ssize_t)len)
		return 0;
	int err = n < 0 ? errno : EMSGSIZE;
	log_send_error(o, err);
	if (o->cc->transport == FE_TRANSPORT_TCP) {
		/* a partial message breaks the stream: start a new session */
		close(o->fd);
		o->fd = -1;
		o->connected = false;
	}
	return -err;
}

/* Collectors are reached from the host's network namespace while the
 * agent lives in the metered one: sockets are made in the host's.
 */
static int open_socket(struct fe_output *o)
{
	if (o->host_ns >= 0 && setns(o->host_ns, CLONE_NEWNET))
		return -errno;
	int type =
		o->cc->transport == FE_TRANSPORT_TCP ? SOCK_STREAM : SOCK_DGRAM;
	int fd = socket(o->cc->addr.ss_family, type | SOCK_CLOEXEC, 0);
	int serr = errno;

	if (o->meter_ns >= 0 && setns(o->meter_ns, CLONE_NEWNET))
		pr_warn("return to the metered network namespace: %s\n",
			strerror(errno));
	if (fd < 0)
		return -serr;
	if (type == SOCK_STREAM)
		fcntl(fd, F_SETFL, O_NONBLOCK);
	/* connected UDP: one source port for the whole run (collectors key
	 * exporters by it), and ICMP errors come back as send errors
	 */
	if (connect(fd, (struct sockaddr *)&o->cc->addr, o->cc->addrlen) &&
	    errno != EINPROGRESS) {
		int err = -errno;

		close(fd);
		return err;
	}
	o->fd = fd;
	return 0;
}

static void send_stats(struct fe_output *o, uint32_t now)
{
	uint8_t rec[FE_OPT_REC_MAX];
	struct ipfix_writer_stats st;

	ipfix_writer__stats(o->w, &st);
	fe_options_stats_record(&o->opts, rec, o->cc->observation_domain, &st);
	ipfix_writer__add_options(o->w, &o->opts.stats, rec, now);
}

static void net_close(struct fe_output *o)
{
	if (!o)
		return;
	if (o->w) {
		uint32_t now = fe_clock_unix_s();

		/* the last word: what this session sent, all told (once
		 * the collector has the templates)
		 */
		if (o->connected && o->options_s)
			send_stats(o, now);
		ipfix_writer__flush(o->w, now);
		ipfix_writer__free(o->w);
	}
	if (o->fd >= 0)
		close(o->fd);
	free(o->links);
	free(o);
}

static struct fe_output *net_open(const struct fe_output_args *a)
{
	struct fe_output *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->cc = a->cc;
	o->tmpl = a->tmpl;
	o->fd = -1;
	o->host_ns = a->host_ns;
	o->meter_ns = a->meter_ns;
	fe_options_init(&o->opts, o->tmpl[0].id, a->sampling,
			o->cc->version == NFV9_VERSION);
	o->links = calloc(FE_OPT_MAX_LINKS, sizeof(*o->links));
	if (o->cc->version == NFV9_VERSION)
		o->w = nfv9_writer__new(o->cc->observation_domain, o->cc->mtu,
					fe_clock_boot_unix_ms(), send_msg, o);
	else
		o->w = ipfix_writer__new(o->cc->observation_domain, o->cc->mtu,
					 send_msg, o);
	if (!o->w || !o->links) {
		net_close(o);
		errno = ENOMEM;
		return NULL;
	}
	/* a collector that cannot be reached yet (no route at boot) does
	 * not stop metering: the socket is retried every tick with backoff
	 */
	if (o->cc->transport == FE_TRANSPORT_UDP && open_socket(o) == 0)
		o->connected = true;
	pr_info("collector %s: %s over %s, %s %s records, template %u/%u\n",
		o->cc->name, o->cc->address,
		fe_transport_name(o->cc->transport),
		o->cc->version == NFV9_VERSION ? "NetFlow v9" : "IPFIX",
		o->cc->biflow ? "biflow" : "uniflow", o->tmpl[0].id,
		o->tmpl[1].id);
	return o;
}

/* The options records: one per link of the metered namespace (every
 * ifindex a record can carry), the exporting process's statistics and,
 * with sampling, its parameters.
 */
static void send_options(struct fe_output *o, uint32_t now)
{
	uint8_t rec[FE_OPT_REC_MAX];
	int n = fe_links_read(o->links, FE_OPT_MAX_LINKS);

	if (n < 0)
		pr_debug("collector %s: interface names: %s\n", o->cc->name,
			 strerror(-n));
	for (int i = 0; i < n; i++) {
		fe_options_iface_record(&o->opts, rec, &o->links[i]);
		ipfix_writer__add_options(o->w, &o->opts.iface, rec, now);
	}
	send_stats(o, now);
	if (fe_options_sampling_record(&o->opts, rec,
				       o->cc->observation_domain))
		ipfix_writer__add_options(o->w, &o->opts.sampling, rec, now);
	o->options_s = now;
}

static void send_templates(struct fe_output *o, uint32_t now)
{
	const struct ipfix_template *t[5] = { &o->tmpl[0], &o->tmpl[1] };
	int n = 2 + fe_options_templates(&o->opts, t + 2);

	ipfix_writer__add_templates(o->w, t, n, now);
	send_options(o, now);
}

static void net_record(struct fe_output *o, const struct fe_record *r,
		       uint32_t now_s)
{
	/* UDP: templates at start and every template_refresh; TCP: once per
	 * session, when it comes up (tcp_connect)
	 */
	if (o->cc->transport == FE_TRANSPORT_UDP &&
	    ipfix_writer__templates_due(o->w, now_s, o->cc->template_refresh))
		send_templates(o, now_s);
	ipfix_writer__add_record(o->w, &o->tmpl[r->family == 6], r, now_s);
}

static void open_backoff(struct fe_output *o, uint32_t now, int err)
{
	log_send_error(o, err);
	o->backoff = o->backoff ? o->backoff * 2 : 1;
	if (o->backoff > TCP_BACKOFF_MAX)
		o->backoff = TCP_BACKOFF_MAX;
	o->next_connect = now + o->backoff;
}

/* Drives the TCP session: a non-blocking connect is started, checked on
 * the next ticks, and retried with exponential backoff (1 s .. 60 s).
 */
static void tcp_connect(struct fe_output *o, uint32_t now)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (o->fd >= 0 && !o->connected) {
		struct sockaddr_storage ss;

		if (getsockopt(o->fd, SOL_SOCKET, SO_ERROR, &err, &len) ||
		    err) {
			close(o->fd);
			o->fd = -1;
			open_backoff(o, now, err ? err : errno);
			return;
		}
		len = sizeof(ss);
		if (getpeername(o->fd, (struct sockaddr *)&ss, &len))
			return; /* still in progress */
		/* records queued while there was no session are lost (counted
		 * not sent); the session starts at sequence 0 with templates
		 */
		ipfix_writer__new_session(o->w);
		o->connected = true;
		o->backoff = 0;
		o->sessions++;
		pr_info("collector %s: TCP session %llu up\n", o->cc->name,
			(unsigned long long)o->sessions);
		send_templates(o, now);
		return;
	}
	if (o->fd >= 0 || now < o->next_connect)
		return;
	err = open_socket(o);
	if (err)
		open_backoff(o, now, -err);
}

static void tcp_tick(struct fe_output *o, uint32_t now_s)
{
	char c;

	/* a collector that closed its end: notice it before the next
	 * records are lost in a dead session
	 */
	if (o->connected && recv(o->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0) {
		pr_warn("collector %s (%s): TCP session closed by the "
			"collector; reconnecting\n",
			o->cc->name, o->cc->address);
		close(o->fd);
		o->fd = -1;
		o->connected = false;
	}
	if (!o->connected)
		tcp_connect(o, now_s);
	/* templates stay for the session; the options records' values
	 * change, so they are refreshed
	 */
	else if (o->cc->template_refresh &&
		 now_s - o->options_s >= o->cc->template_refresh)
		send_options(o, now_s);
}

static void udp_tick(struct fe_output *o, uint32_t now_s)
{
	if (!o->connected && now_s >= o->next_connect) {
		int err = open_socket(o);

		if (err) {
			open_backoff(o, now_s, -err);
		} else {
			pr_info("collector %s: UDP socket open\n", o->cc->name);
			o->connected = true;
			o->backoff = 0;
			send_templates(o, now_s);
		}
	}
	if (o->cc->template_refresh &&
	    ipfix_writer__templates_due(o->w, now_s, o->cc->template_refresh))
		send_templates(o, now_s);
}

static void net_tick(struct fe_output *o, uint32_t now_s)
{
	if (o->cc->transport == FE_TRANSPORT_TCP)
		tcp_tick(o, now_s);
	else
		udp_tick(o, now_s);
	ipfix_writer__flush(o->w, now_s);
}

static void net_reopen(struct fe_output *o)
{
}

static void net_stats(const struct fe_output *o, struct exporter_stats *s)
{
	struct ipfix_writer_stats w;

	ipfix_writer__stats(o->w, &w);
	s->kind = o->cc->version == NFV9_VERSION ? "netflow-v9" : "ipfix";
	s->messages = w.messages;
	s->records = w.records;
	s->options = w.options;
	s->templates = w.templates;
	s->octets = w.octets;
	s->send_errors = w.send_errors;
	s->not_sent = w.not_sent;
	s->not_sent_packets = w.not_sent_packets;
	s->not_sent_octets = w.not_sent_octets;
	s->queued_octets = ipfix_writer__pending(o->w);
	s->sessions = o->sessions;
	s->sequence = ipfix_writer__seq(o->w);
	s->up = o->connected;
}

const struct fe_output_ops fe_output_net = {
	.open = net_open,
	.record = net_record,
	.tick = net_tick,
	.reopen = net_reopen,
	.stats = net_stats,
	.close = net_close,
};
