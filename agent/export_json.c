/* export_json.c - a collector that is a file: one JSON object per flow
 * record per line, keyed by IANA names exactly as `flowctl collect --json`
 * prints them (the record is encoded with the collector's template and
 * rendered by ipfix_format.c). Lines go out in batches through a bounded
 * send queue (sendq.c): a pipe or socket on standard output whose reader
 * is slow is written as it takes them (POLLOUT), never waited on, and
 * lines are dropped (counted) only when the queue is full. SIGHUP reopens
 * the file for logrotate.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "clock.h"
#include "ipfix_decode.h"
#include "log.h"
#include "output.h"
#include "sendq.h"

#define JSON_LINE_MAX (64 * 1024) /* a line and its newline fill a batch */
#define ERR_LOG_INTERVAL_MS 10000

/* batch holds whole lines not queued yet (blen octets, counted in bc);
 * bad counts the records that could not be rendered.
 */
struct fe_output {
	const struct fe_collector_cfg *cc;
	const struct ipfix_template *tmpl; /* [0] IPv4, [1] IPv6 */
	struct sendq *q;
	int fd;	      /* -1: the file could not be opened */
	bool sock;    /* a socket: send() without blocking */
	bool blocked; /* the reader is slow: wait for POLLOUT */
	uint64_t errors, bad, bad_packets, bad_octets;
	uint64_t last_log_ms, drops_since_log;
	size_t blen;
	struct ipfix_msg_counts bc;
	char batch[JSON_LINE_MAX];
	char line[JSON_LINE_MAX];
	uint8_t rec[65536];
	struct ipfix_dec_record dec;
};

static int json_open_fd(const struct fe_output *o)
{
	int fd;

	if (!strcmp(o->cc->path, "-"))
		return STDOUT_FILENO;
	/* append: a restart must not truncate what was written */
	fd = open(o->cc->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0)
		pr_warn("collector %s: open %s: %s\n", o->cc->name, o->cc->path,
			strerror(errno));
	return fd;
}

/* A pipe must not block the loop: O_NONBLOCK (a socket gets
 * MSG_DONTWAIT instead); a regular file never waits on a reader.
 */
static void json_use_fd(struct fe_output *o, int fd)
{
	struct stat st;

	o->fd = fd;
	o->sock = false;
	if (fd < 0 || fstat(fd, &st))
		return;
	o->sock = S_ISSOCK(st.st_mode);
	if (S_ISFIFO(st.st_mode))
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static ssize_t json_write(void *ctx, const struct iovec *iov, int n)
{
	struct fe_output *o = ctx;
	struct msghdr mh = { .msg_iov = (struct iovec *)iov, .msg_iovlen = n };
	ssize_t r = o->sock ? sendmsg(o->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL)
			    : writev(o->fd, iov, n);

	return r < 0 ? -errno : r;
}

static void json_log(struct fe_output *o, const char *what, int err)
{
	uint64_t now = fe_clock_mono_ms();

	if (o->last_log_ms && now - o->last_log_ms < ERR_LOG_INTERVAL_MS)
		return;
	o->last_log_ms = now;
	pr_warn("collector %s: %s %s: %s (%llu records dropped since last "
		"message; metering goes on)\n",
		o->cc->name, what, o->cc->path, strerror(err),
		(unsigned long long)o->drops_since_log);
	o->drops_since_log = 0;
}

/* Writes what the queue holds until the reader stops taking it. Another
 * error keeps the lines queued for the next tick (a full disk may empty).
 */
static void json_pump(struct fe_output *o)
{
	int err;

	if (o->fd < 0 || o->blocked)
		return;
	err = sendq__send(o->q, json_write, o);
	if (err == -EAGAIN) {
		o->blocked = true;
	} else if (err) {
		o->errors++;
		json_log(o, "write", -err);
	}
}

/* The batch into the queue (dropped, counted, when the queue is full). */
static void json_queue(struct fe_output *o)
{
	if (!o->blen)
		return;
	if (sendq__push(o->q, o->batch, o->blen, &o->bc)) {
		o->drops_since_log += o->bc.flows;
		json_log(o, "send queue full for", ENOBUFS);
	}
	o->blen = 0;
	o->bc = (struct ipfix_msg_counts){ 0 };
	json_pump(o);
}

static void json_close(struct fe_output *o);

static struct fe_output *json_open(const struct fe_output_args *a)
{
	struct fe_output *o = calloc(1, sizeof(*o));
	struct sendq_cfg qc = { .stream = true, .seq_off = -1 };
	int err;

	if (!o)
		return NULL;
	o->cc = a->cc;
	o->tmpl = a->tmpl;
	qc.limit = o->cc->queue_size;
	o->q = sendq__new(&qc);
	json_use_fd(o, o->q ? json_open_fd(o) : -1);
	if (o->fd < 0) {
		err = o->q ? errno : ENOMEM;
		json_close(o);
		errno = err;
		return NULL;
	}
	pr_info("collector %s: JSON lines to %s, %s records\n", o->cc->name,
		strcmp(o->cc->path, "-") ? o->cc->path : "standard output",
		o->cc->biflow ? "biflow" : "uniflow");
	return o;
}

static void json_finish(struct fe_output *o)
{
	json_queue(o);
}

static void json_close(struct fe_output *o)
{
	uint64_t lost;

	if (!o)
		return;
	if (o->q)
		json_queue(o);
	if (o->fd > STDERR_FILENO)
		close(o->fd);
	lost = sendq__free(o->q);
	if (lost)
		pr_warn("collector %s: %llu records still queued for %s are "
			"lost at close\n",
			o->cc->name, (unsigned long long)lost, o->cc->path);
	free(o);
}

/* The record as a decoder would see it after receiving it with t. */
static void json_decoded(struct fe_output *o, const struct ipfix_template *t,
			 const struct fe_record *r, uint32_t now_s)
{
	struct ipfix_dec_record *d = &o->dec;
	uint8_t *p = o->rec;

	d->domain = o->cc->observation_domain;
	d->export_time = now_s;
	d->template_id = t->id;
	d->nvalues = t->nfields;
	for (int i = 0; i < t->nfields; i++) {
		ipfix_encode_field(p, &t->f[i], r, d->domain);
		d->v[i] = (struct ipfix_dec_value){ .id = t->f[i].id,
						    .len = t->f[i].len,
						    .pen = t->f[i].pen,
						    .data = p };
		p += t->f[i].len;
	}
}

static void json_record(struct fe_output *o, const struct fe_record *r,
			uint32_t now_s)
{
	uint64_t packets = r->fwd.packets + r->rev.packets;
	uint64_t octets = r->fwd.octets + r->rev.octets;
	int n;

	json_decoded(o, &o->tmpl[r->family == 6], r, now_s);
	n = ipfix_format_json(&o->dec, o->line, sizeof(o->line));
	if (n < 0) {
		o->errors++;
		o->bad++;
		o->bad_packets += packets;
		o->bad_octets += octets;
		return;
	}
	if (o->blen + n + 1 > sizeof(o->batch))
		json_queue(o);
	memcpy(o->batch + o->blen, o->line, n);
	o->batch[o->blen + n] = '\n';
	o->blen += n + 1;
	o->bc.data++;
	o->bc.flows++;
	o->bc.packets += packets;
	o->bc.octets += octets;
}

static void json_tick(struct fe_output *o, uint32_t now_s)
{
	o->blocked = false;
	json_queue(o);
}

static int json_pollfd(const struct fe_output *o, struct pollfd *p)
{
	if (o->fd < 0 || !o->blocked)
		return 0;
	p->fd = o->fd;
	p->events = POLLOUT;
	return 1;
}

static void json_writable(struct fe_output *o, short revents)
{
	o->blocked = false;
	json_pump(o);
}

static size_t json_pending(const struct fe_output *o)
{
	return o->fd < 0 ? 0 : sendq__queued(o->q) + o->blen;
}

/* logrotate renamed the file: what was written stays in the renamed one,
 * what follows goes to a new file at path. When the new one cannot be
 * opened, the old one is kept.
 */
static void json_reopen(struct fe_output *o)
{
	int fd;

	if (o->fd == STDOUT_FILENO)
		return;
	json_queue(o);
	fd = json_open_fd(o);
	if (fd < 0)
		return;
	if (o->fd >= 0)
		close(o->fd);
	json_use_fd(o, fd);
	o->blocked = false;
	json_pump(o);
	pr_info("collector %s: reopened %s\n", o->cc->name, o->cc->path);
}

static void json_stats(const struct fe_output *o, struct exporter_stats *s)
{
	struct sendq_stats q;

	sendq__stats(o->q, &q);
	s->kind = "json";
	s->messages = q.records;
	s->records = q.records;
	s->octets = q.octets;
	s->send_errors = o->errors;
	s->not_sent = q.not_sent + o->bad;
	s->not_sent_packets = q.not_sent_packets + o->bad_packets;
	s->not_sent_octets = q.not_sent_octets + o->bad_octets;
	s->queue_drops = q.full_drops;
	s->queued_octets = q.queued + o->blen;
	s->queue_size = o->cc->queue_size;
	s->up = o->fd >= 0;
	s->resolved = true;
}

const struct fe_output_ops fe_output_json = {
	.open = json_open,
	.record = json_record,
	.tick = json_tick,
	.pollfd = json_pollfd,
	.writable = json_writable,
	.pending = json_pending,
	.finish = json_finish,
	.reopen = json_reopen,
	.stats = json_stats,
	.close = json_close,
};
