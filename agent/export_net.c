/* export_net.c - a network collector's output: IPFIX or NetFlow v9
 * messages (ipfix.c's writer, nfv9.c's wire format) through a bounded send
 * queue (sendq.c) over UDP or TCP, written as fast as the socket takes
 * them (the poll loop waits for POLLOUT); the templates and options
 * records (ipfix_options.c) with their refresh; a host name resolved off
 * the loop (resolve.c) and retried with backoff; TCP reconnects with
 * backoff; the accounting of what was dropped, which keeps metering
 * independent of the collector.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "backoff.h"
#include "clock.h"
#include "endpoint.h"
#include "ipfix_options.h"
#include "log.h"
#include "nfv9.h"
#include "output.h"
#include "resolve.h"
#include "sendq.h"

#define LOG_INTERVAL_MS 10000 /* between repeated messages of one kind */
#define BACKOFF_MIN_MS 1000   /* reconnects and lookups: 1 s .. 60 s */
#define BACKOFF_MAX_MS 60000
#define PUMP_ERRORS 64 /* UDP send errors dealt with per pump */

/* A message that may repeat: the first goes out, then one per interval
 * with the count of what happened meanwhile.
 */
struct ratelog {
	uint64_t last_ms;
	uint64_t since;
};

struct fe_output {
	const struct fe_collector_cfg *cc;
	const struct ipfix_template *tmpl; /* [0] IPv4, [1] IPv6 */
	struct fe_options opts;
	struct ipfix_writer *w;
	struct sendq *q;
	struct sockaddr_storage addr;
	socklen_t addrlen;	  /* 0: the name is not resolved yet */
	struct fe_resolve *res;	  /* the lookup under way */
	struct fe_backoff res_bo; /* the next lookup */
	int fd;
	bool connected;		   /* UDP: socket open; TCP: session up */
	bool blocked;		   /* the socket is full: wait for POLLOUT */
	bool front;		   /* flushes now open a TCP session */
	bool tmpl_in_writer;	   /* templates in the message being built */
	bool tmpl_ever;		   /* a message of templates went out */
	bool finished;		   /* the last statistics record is queued */
	uint64_t tmpl_msgs_seen;   /* sendq's template_msgs, last looked */
	uint32_t templates_s;	   /* when templates last went out */
	struct fe_backoff conn_bo; /* the next (re)open */
	struct ratelog errlog, droplog, reslog;
	uint64_t send_errors;
	uint64_t sessions;
	uint32_t options_s;    /* options records last sent (TCP refresh) */
	int host_ns, meter_ns; /* netns fds of the caller's, or -1 */
	struct fe_link *links; /* FE_OPT_MAX_LINKS, read at each refresh */
};

static void net_pump(struct fe_output *o);

static bool ratelog(struct ratelog *l, uint64_t n, uint64_t *since)
{
	uint64_t now = fe_clock_mono_ms();

	l->since += n;
	if (l->last_ms && now - l->last_ms < LOG_INTERVAL_MS)
		return false;
	*since = l->since;
	l->since = 0;
	l->last_ms = now;
	return true;
}

static void log_send_error(struct fe_output *o, int err)
{
	uint64_t n;

	o->send_errors++;
	if (!ratelog(&o->errlog, 1, &n))
		return;
	pr_warn("collector %s (%s): send failed: %s (%llu failed sends since "
		"last message; metering goes on)\n",
		o->cc->name, o->cc->address, strerror(err),
		(unsigned long long)n);
}

static void log_drop(struct fe_output *o, uint32_t flows)
{
	uint64_t n;

	if (!ratelog(&o->droplog, flows, &n))
		return;
	pr_warn("collector %s (%s): send queue full (queue_size %u): %llu "
		"records dropped since last message (counted not sent; "
		"metering goes on)\n",
		o->cc->name, o->cc->address, o->cc->queue_size,
		(unsigned long long)n);
}

/* The writer's send callback: a whole message into the queue, then as
 * much of the queue as the socket takes.
 */
static int queue_msg(void *ctx, const void *msg, size_t len)
{
	struct fe_output *o = ctx;
	const struct ipfix_msg_counts *c = ipfix_writer__msg_counts(o->w);
	int err;

	if (c->templates)
		o->tmpl_in_writer = false;
	err = o->front ? sendq__push_front(o->q, msg, len, c)
		       : sendq__push(o->q, msg, len, c);
	if (err) {
		log_drop(o, c->flows);
		return err;
	}
	if (!o->front)
		net_pump(o);
	return 0;
}

static ssize_t net_write(void *ctx, const struct iovec *iov, int n)
{
	struct fe_output *o = ctx;
	struct msghdr mh = { .msg_iov = (struct iovec *)iov, .msg_iovlen = n };
	ssize_t r = sendmsg(o->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);

	return r < 0 ? -errno : r;
}

static void net_disconnect(struct fe_output *o)
{
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	o->connected = false;
	o->blocked = false;
}

static void open_backoff(struct fe_output *o, int err)
{
	log_send_error(o, err);
	fe_backoff_fail(&o->conn_bo, fe_clock_mono_ms(), BACKOFF_MIN_MS,
			BACKOFF_MAX_MS);
}

/* A UDP send error. Returns true when the head was dealt with (send on),
 * false to wait for the next tick.
 */
static bool udp_error(struct fe_output *o, int err)
{
	log_send_error(o, err);
	switch (err) {
	case ECONNREFUSED:
		/* an earlier datagram's ICMP error, reported by this send,
		 * which did not go: it goes now
		 */
		return true;
	case ENOBUFS:
	case ENETUNREACH:
	case EHOSTUNREACH:
	case ENETDOWN:
	case EHOSTDOWN:
	case EPERM:
	case EACCES:
		return false; /* the way may come back: the queue waits */
	}
	sendq__drop_head(o->q); /* EMSGSIZE and the like: never will go */
	return true;
}

/* Sends from the queue until it is empty or the socket is full. A TCP
 * session ends only on a real error; what it had not taken whole stays
 * queued for the next session.
 */
static void net_pump(struct fe_output *o)
{
	for (int n = 0; n < PUMP_ERRORS && o->connected && !o->blocked; n++) {
		int err = sendq__send(o->q, net_write, o);

		if (!err)
			return;
		if (err == -EAGAIN) {
			o->blocked = true;
			return;
		}
		if (o->cc->transport == FE_TRANSPORT_TCP) {
			pr_warn("collector %s (%s): TCP session %llu lost: "
				"%s; %zu octets stay queued for the next "
				"session\n",
				o->cc->name, o->cc->address,
				(unsigned long long)o->sessions, strerror(-err),
				sendq__queued(o->q));
			net_disconnect(o);
			open_backoff(o, -err);
			return;
		}
		if (!udp_error(o, -err))
			return;
	}
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
	int fd = socket(o->addr.ss_family, type | SOCK_CLOEXEC, 0);
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
	if (connect(fd, (struct sockaddr *)&o->addr, o->addrlen) &&
	    errno != EINPROGRESS) {
		int err = -errno;

		close(fd);
		return err;
	}
	o->fd = fd;
	return 0;
}

/* The Exporting Process Reliability Statistics as the collector will see
 * them when this record arrives: what is queued ahead of it goes first.
 */
static void send_stats(struct fe_output *o, uint32_t now)
{
	const struct ipfix_msg_counts *c = ipfix_writer__msg_counts(o->w);
	uint8_t rec[FE_OPT_REC_MAX];
	struct ipfix_writer_stats st = { 0 };
	struct sendq_stats q;

	sendq__stats(o->q, &q);
	st.messages = q.messages + q.queued_msgs;
	st.records = q.records + q.queued_records + c->flows;
	st.octets = q.octets + q.queued;
	st.not_sent = q.not_sent;
	st.not_sent_packets = q.not_sent_packets;
	st.not_sent_octets = q.not_sent_octets;
	fe_options_stats_record(&o->opts, rec, o->cc->observation_domain, &st);
	ipfix_writer__add_options(o->w, &o->opts.stats, rec, now);
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
	o->tmpl_in_writer = true;
	send_options(o, now);
}

/* UDP: templates are due when none wait to go out and none went out for
 * template_refresh: a template counts as sent once send() took it.
 */
static bool templates_due(struct fe_output *o, uint32_t now_s)
{
	struct sendq_stats st;

	sendq__stats(o->q, &st);
	if (st.template_msgs != o->tmpl_msgs_seen) {
		o->tmpl_msgs_seen = st.template_msgs;
		o->templates_s = now_s;
		o->tmpl_ever = true;
	}
	if (o->tmpl_in_writer || st.tmpl_queued)
		return false;
	return !o->tmpl_ever ||
	       now_s - o->templates_s >= o->cc->template_refresh;
}

static void net_close(struct fe_output *o);
static void net_finish(struct fe_output *o);

static struct fe_output *net_open(const struct fe_output_args *a)
{
	struct fe_output *o = calloc(1, sizeof(*o));
	const struct ipfix_wire *wire;
	struct sendq_cfg qc;

	if (!o)
		return NULL;
	o->cc = a->cc;
	o->tmpl = a->tmpl;
	o->fd = -1;
	o->host_ns = a->host_ns;
	o->meter_ns = a->meter_ns;
	o->addr = o->cc->addr;
	o->addrlen = o->cc->addrlen;
	fe_options_init(&o->opts, o->tmpl[0].id, a->sampling,
			o->cc->version == NFV9_VERSION);
	o->links = calloc(FE_OPT_MAX_LINKS, sizeof(*o->links));
	wire = o->cc->version == NFV9_VERSION ? &nfv9_wire : &ipfix_wire_v10;
	qc = (struct sendq_cfg){ .limit = o->cc->queue_size,
				 .stream = o->cc->transport == FE_TRANSPORT_TCP,
				 .seq_off = wire->seq_off,
				 .seq_per_message = wire->seq_per_message };
	o->q = sendq__new(&qc);
	o->w = ipfix_writer__new_wire(wire, o->cc->observation_domain,
				      o->cc->mtu, fe_clock_boot_unix_ms(),
				      queue_msg, o);
	if (!o->w || !o->links || !o->q) {
		o->finished = true;
		net_close(o);
		errno = ENOMEM;
		return NULL;
	}
	/* a collector that cannot be reached yet (no route at boot) does
	 * not stop metering: the socket is retried every tick with backoff
	 */
	if (o->cc->transport == FE_TRANSPORT_UDP && o->addrlen &&
	    open_socket(o) == 0)
		o->connected = true;
	pr_info("collector %s: %s over %s, %s %s records, template %u/%u, "
		"queue %u octets\n",
		o->cc->name, o->cc->address,
		fe_transport_name(o->cc->transport), wire->name,
		o->cc->biflow ? "biflow" : "uniflow", o->tmpl[0].id,
		o->tmpl[1].id, o->cc->queue_size);
	return o;
}

static void net_close(struct fe_output *o)
{
	uint64_t lost;

	if (!o)
		return;
	net_finish(o);
	/* one last try, even if the socket was full at the last look */
	o->blocked = false;
	if (o->q)
		net_pump(o);
	lost = sendq__free(o->q);
	if (lost)
		pr_warn("collector %s (%s): %llu records still queued are lost "
			"at close\n",
			o->cc->name, o->cc->address, (unsigned long long)lost);
	ipfix_writer__free(o->w);
	fe_resolve__free(o->res);
	if (o->fd >= 0)
		close(o->fd);
	free(o->links);
	free(o);
}

static void net_record(struct fe_output *o, const struct fe_record *r,
		       uint32_t now_s)
{
	/* UDP: templates at start and every template_refresh; TCP: once per
	 * session, ahead of everything queued (tcp_session_up)
	 */
	if (o->cc->transport == FE_TRANSPORT_UDP && templates_due(o, now_s))
		send_templates(o, now_s);
	ipfix_writer__add_record(o->w, &o->tmpl[r->family == 6], r, now_s);
}

/* A session starts at sequence 0 with its templates and options records
 * ahead of whatever waits in the queue; records built meanwhile queue
 * behind what waits already.
 */
static void tcp_session_up(struct fe_output *o, uint32_t now)
{
	ipfix_writer__flush(o->w, now);
	sendq__new_session(o->q);
	o->connected = true;
	o->blocked = false;
	fe_backoff_reset(&o->conn_bo);
	o->sessions++;
	pr_info("collector %s: TCP session %llu up (%zu octets queued)\n",
		o->cc->name, (unsigned long long)o->sessions,
		sendq__queued(o->q));
	o->front = true;
	send_templates(o, now);
	ipfix_writer__flush(o->w, now);
	o->front = false;
	net_pump(o);
}

/* Drives the TCP session: a non-blocking connect is started, checked when
 * the socket polls writable or on the next ticks, and retried with
 * exponential backoff (1 s .. 60 s).
 */
static void tcp_connect(struct fe_output *o, uint32_t now)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (o->fd >= 0 && !o->connected) {
		struct sockaddr_storage ss;

		if (getsockopt(o->fd, SOL_SOCKET, SO_ERROR, &err, &len) ||
		    err) {
			net_disconnect(o);
			open_backoff(o, err ? err : errno);
			return;
		}
		len = sizeof(ss);
		if (getpeername(o->fd, (struct sockaddr *)&ss, &len))
			return; /* still in progress */
		tcp_session_up(o, now);
		return;
	}
	if (o->fd >= 0 || !fe_backoff_due(&o->conn_bo, fe_clock_mono_ms()))
		return;
	err = open_socket(o);
	if (err)
		open_backoff(o, -err);
}

static void tcp_tick(struct fe_output *o, uint32_t now_s)
{
	char c;

	/* a collector that closed its end: notice it before the next
	 * records wait on a dead session
	 */
	if (o->connected && recv(o->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0) {
		pr_warn("collector %s (%s): TCP session closed by the "
			"collector; reconnecting\n",
			o->cc->name, o->cc->address);
		net_disconnect(o);
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
	if (!o->connected && fe_backoff_due(&o->conn_bo, fe_clock_mono_ms())) {
		int err = open_socket(o);

		if (err) {
			open_backoff(o, -err);
			return;
		}
		pr_info("collector %s: UDP socket open\n", o->cc->name);
		o->connected = true;
		fe_backoff_reset(&o->conn_bo);
	}
	if (o->connected && templates_due(o, now_s))
		send_templates(o, now_s);
}

/* A name that does not resolve (DNS not up at boot) is looked up again
 * after 1, 2, 4 .. 60 s; records queue meanwhile.
 */
static void resolve_tick(struct fe_output *o)
{
	uint64_t now = fe_clock_mono_ms(), n;
	uint16_t port;
	const char *why = "";
	char host[256], a[80];
	int r;

	if (o->res) {
		r = fe_resolve__poll(o->res, &o->addr, &o->addrlen, &why);
		if (r > 0)
			pr_info("collector %s: %s resolved to %s\n",
				o->cc->name, o->cc->address,
				endpoint_format((struct sockaddr *)&o->addr, a,
						sizeof(a)));
		else if (r < 0 && ratelog(&o->reslog, 1, &n))
			pr_warn("collector %s: cannot resolve %s: %s (%llu "
				"failed lookups since last message; retried "
				"with backoff, metering goes on)\n",
				o->cc->name, o->cc->address, why,
				(unsigned long long)n);
		if (!r)
			return;
		fe_resolve__free(o->res);
		o->res = NULL;
		if (r > 0)
			fe_backoff_reset(&o->res_bo);
		else
			fe_backoff_fail(&o->res_bo, now, BACKOFF_MIN_MS,
					BACKOFF_MAX_MS);
		return;
	}
	if (!fe_backoff_due(&o->res_bo, now) ||
	    endpoint_host(o->cc->address, 0, 0, host, sizeof(host), &port))
		return;
	o->res = fe_resolve__start(
		host, port,
		o->cc->transport == FE_TRANSPORT_TCP ? SOCK_STREAM : SOCK_DGRAM,
		o->host_ns);
	if (!o->res) {
		pr_warn("collector %s: cannot start a lookup of %s: %s\n",
			o->cc->name, host, strerror(errno));
		fe_backoff_fail(&o->res_bo, now, BACKOFF_MAX_MS,
				BACKOFF_MAX_MS);
	}
}

static void net_tick(struct fe_output *o, uint32_t now_s)
{
	if (!o->addrlen)
		resolve_tick(o);
	if (o->addrlen && o->cc->transport == FE_TRANSPORT_TCP)
		tcp_tick(o, now_s);
	else if (o->addrlen)
		udp_tick(o, now_s);
	ipfix_writer__flush(o->w, now_s);
	/* a POLLOUT the loop missed costs one tick, never a stall */
	o->blocked = false;
	net_pump(o);
}

static int net_pollfd(const struct fe_output *o, struct pollfd *p)
{
	if (o->fd < 0 || (o->connected && !o->blocked))
		return 0;
	p->fd = o->fd;
	p->events = POLLOUT;
	return 1;
}

static void net_writable(struct fe_output *o, short revents)
{
	if (o->fd >= 0 && !o->connected) {
		tcp_connect(o, fe_clock_unix_s());
		return;
	}
	o->blocked = false;
	net_pump(o);
}

static size_t net_pending(const struct fe_output *o)
{
	if (!o->connected)
		return 0;
	return sendq__queued(o->q) + ipfix_writer__pending(o->w);
}

static void net_finish(struct fe_output *o)
{
	uint32_t now = fe_clock_unix_s();

	if (o->finished)
		return;
	o->finished = true;
	/* the last word: what this session sent, all told (once the
	 * collector has the templates)
	 */
	if (o->connected && o->options_s)
		send_stats(o, now);
	ipfix_writer__flush(o->w, now);
}

static void net_reopen(struct fe_output *o)
{
}

static void net_stats(const struct fe_output *o, struct exporter_stats *s)
{
	struct sendq_stats q;

	sendq__stats(o->q, &q);
	s->kind = o->cc->version == NFV9_VERSION ? "netflow-v9" : "ipfix";
	s->messages = q.messages;
	s->records = q.records;
	s->options = q.options;
	s->templates = q.templates;
	s->octets = q.octets;
	s->send_errors = o->send_errors;
	s->not_sent = q.not_sent;
	s->not_sent_packets = q.not_sent_packets;
	s->not_sent_octets = q.not_sent_octets;
	s->queue_drops = q.full_drops;
	s->queued_octets = q.queued + ipfix_writer__pending(o->w);
	s->queue_size = o->cc->queue_size;
	s->sessions = o->sessions;
	s->sequence = q.seq;
	s->up = o->connected;
	s->resolved = o->addrlen != 0;
}

const struct fe_output_ops fe_output_net = {
	.open = net_open,
	.record = net_record,
	.tick = net_tick,
	.pollfd = net_pollfd,
	.writable = net_writable,
	.pending = net_pending,
	.finish = net_finish,
	.reopen = net_reopen,
	.stats = net_stats,
	.close = net_close,
};
