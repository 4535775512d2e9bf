/* collect.c - `flowctl collect`: a small IPFIX collector over UDP that
 * prints every decoded data record as a table row, a name=value line or a
 * JSON line.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "commands.h"
#include "endpoint.h"
#include "ipfix.h"
#include "ipfix_decode.h"
#include "ipfix_table.h"

#define COLLECT_DEFAULT_ADDR "127.0.0.1:4739"
#define COLLECT_LINE_MAX (256 * 1024) /* a 64 KiB record as hex + names */

static volatile sig_atomic_t collect_stop;

static void collect_on_signal(int sig)
{
	collect_stop = 1;
}

enum collect_format { COLLECT_TABLE, COLLECT_KV, COLLECT_JSON };

struct collect_ctx {
	enum collect_format format;
	bool hide_noise, header_done;
	unsigned long count; /* 0: unlimited */
	unsigned long records, hidden;
	struct ipfix_table *table;
	char *line;
};

struct collect_args {
	const char *listen;
	int format;
	bool json, hide_noise;
	unsigned long count, timeout;
};

static const struct collect_args collect_defaults = {
	.listen = COLLECT_DEFAULT_ADDR,
	.format = COLLECT_TABLE,
};

static const struct opt_word collect_formats[] = {
	{ .word = "table", .value = COLLECT_TABLE },
	{ .word = "kv", .value = COLLECT_KV },
	{ .word = "text", .value = COLLECT_KV, .hidden = true },
	{ .word = "json", .value = COLLECT_JSON },
	{ .word = NULL },
};

static const struct opt_def collect_opts[] = {
	DEFINE_OPTION("listen", OPT_ADDR, struct collect_args, listen,
		      .short_name = 'l',
		      .help = "address to listen on; [IPv6]:PORT for IPv6, "
			      "port 0 picks one",
		      .show_default = true),
	DEFINE_OPTION("format", OPT_ENUM, struct collect_args, format,
		      .short_name = 'f', .show_default = true,
		      .words = collect_formats,
		      .help = "table: aligned columns for a person (options "
			      "records as # lines, interfaces by the names "
			      "they carry); kv: one line of name=value per "
			      "record; json: one JSON object per record, keyed "
			      "by IANA names"),
	DEFINE_OPTION("json", OPT_FLAG, struct collect_args, json,
		      .short_name = 'j', .help = "the same as --format json"),
	DEFINE_OPTION("hide-noise", OPT_FLAG, struct collect_args, hide_noise,
		      .help = "skip flow records of link-local, multicast and "
			      "broadcast addresses and IPv6 neighbour "
			      "discovery and MLD (counted in the summary)"),
	DEFINE_OPTION("count", OPT_UINT, struct collect_args, count,
		      .short_name = 'c', .metavar = "COUNT",
		      .help = "exit after COUNT data records (exit 1 if the "
			      "timeout comes first)",
		      .min = 1),
	DEFINE_OPTION("timeout", OPT_UINT, struct collect_args, timeout,
		      .short_name = 't', .metavar = "SEC",
		      .help = "exit after SEC seconds", .min = 1,
		      .max = 86400 * 365),
	END_OPTIONS
};

static int collect_format(struct collect_ctx *c,
			  const struct ipfix_dec_record *r)
{
	switch (c->format) {
	case COLLECT_JSON:
		return ipfix_format_json(r, c->line, COLLECT_LINE_MAX);
	case COLLECT_KV:
		return ipfix_format_text(r, c->line, COLLECT_LINE_MAX);
	default:
		return ipfix_table__format(c->table, r, c->line,
					   COLLECT_LINE_MAX);
	}
}

static int collect_record(void *vctx, const struct ipfix_dec_record *r)
{
	struct collect_ctx *c = vctx;
	int n;

	c->records++;
	if (c->hide_noise && ipfix_record_is_noise(r)) {
		c->hidden++;
		return c->count && c->records >= c->count ? 1 : 0;
	}
	n = collect_format(c, r);
	if (n < 0) {
		fprintf(stderr,
			"flowctl collect: record of template %u too long to "
			"print\n",
			r->template_id);
	} else if (n > 0 || c->format != COLLECT_TABLE) {
		if (c->format == COLLECT_TABLE && !c->header_done) {
			char h[256];

			printf("%s\n", ipfix_table_header(h, sizeof(h)));
			c->header_done = true;
		}
		printf("%s\n", c->line);
	}
	return c->count && c->records >= c->count ? 1 : 0;
}

static long long collect_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void collect_warn_msg(const char *from, const struct ipfix_dec_msg *m)
{
	if (m->seq_gap)
		fprintf(stderr,
			"flowctl collect: warning: %s domain %u: sequence "
			"number %u, expected %u (%d data records lost or "
			"reordered)\n",
			from, m->domain, m->seq, m->seq_expected,
			(int)(m->seq - m->seq_expected));
	if (m->unknown_sets)
		fprintf(stderr,
			"flowctl collect: warning: %s domain %u: skipped %u "
			"data set(s) for unknown template %u\n",
			from, m->domain, m->unknown_sets, m->unknown_template);
}

/* A bound UDP socket; says where it listens. Returns the fd or -1. */
static int collect_bind(const char *listen_addr, struct sockaddr_storage *ss,
			unsigned int sslen)
{
	int fd, rcvbuf = 32 << 20;
	socklen_t alen = sizeof(*ss);
	char addr[80];

	fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "flowctl collect: socket: %s\n",
			strerror(errno));
		return -1;
	}
	/* bursts of messages arrive faster than lines are printed, and a
	 * datagram that finds the buffer full is dropped without a word to
	 * the sender: ask for 32 MiB past net.core.rmem_max when allowed
	 * (CAP_NET_ADMIN), else what rmem_max gives
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)ss, sslen)) {
		fprintf(stderr, "flowctl collect: bind %s: %s\n", listen_addr,
			strerror(errno));
		close(fd);
		return -1;
	}
	getsockname(fd, (struct sockaddr *)ss, &alen);
	fprintf(stderr, "listening on %s\n",
		endpoint_format((struct sockaddr *)ss, addr, sizeof(addr)));
	return fd;
}

/* Waits up to the deadline (0: none) for a message, with SIGINT and
 * SIGTERM let through only inside ppoll() (unblock: the mask to wait
 * with), so a signal that comes between the loop's check and the wait
 * ends the wait instead of being missed until the next message. Returns 1
 * when one is there, 0 on a timeout, a signal or a spurious wake-up, -1 on
 * an error.
 */
static int collect_wait(int fd, long long deadline, const sigset_t *unblock,
			bool *timed_out)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct timespec ts, *tsp = NULL;
	int r;

	if (deadline) {
		long long left = deadline - collect_now_ms();

		if (left <= 0) {
			*timed_out = true;
			return 0;
		}
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000L;
		tsp = &ts;
	}
	r = ppoll(&pfd, 1, tsp, unblock);
	if (r < 0 && errno == EINTR)
		return 0;
	if (r < 0) {
		fprintf(stderr, "flowctl collect: poll: %s\n", strerror(errno));
		return -1;
	}
	return r ? 1 : 0;
}

/* Receives and decodes one message. Returns 0, 1 when --count is
 * reached, -1 on a receive error.
 */
static int collect_one(int fd, struct ipfix_decoder *dec, struct collect_ctx *c,
		       uint8_t *buf)
{
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	struct ipfix_dec_msg m;
	char err[256], addr[80];
	ssize_t n;
	int r;

	n = recvfrom(fd, buf, 65536, MSG_DONTWAIT, (struct sockaddr *)&from,
		     &flen);
	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return 0;
		fprintf(stderr, "flowctl collect: recv: %s\n", strerror(errno));
		return -1;
	}
	endpoint_format((struct sockaddr *)&from, addr, sizeof(addr));
	r = ipfix_decoder__parse(dec, &from, flen, buf, n, collect_record, c,
				 &m, err, sizeof(err));
	if (r == -EINVAL)
		fprintf(stderr,
			"flowctl collect: warning: malformed message from %s "
			"(%zd octets): %s\n",
			addr, n, err);
	collect_warn_msg(addr, &m);
	return r == 1 ? 1 : 0;
}

/* The messages queued on the socket now, without waiting for more (at
 * most 65536). Returns 0, 1 when --count is reached, -1 on an error.
 */
static int collect_drain(int fd, struct ipfix_decoder *dec,
			 struct collect_ctx *c, uint8_t *buf)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int r = 0;

	/* bounded: an exporter that goes on sending does not hold the stop
	 * (the 32 MiB buffer holds fewer messages than this)
	 */
	for (int n = 0; !r && n < 65536; n++) {
		if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLIN))
			break;
		r = collect_one(fd, dec, c, buf);
	}
	return r;
}

/* Until a signal, the deadline or --count. Returns 0 or -1 (an error). */
static int collect_loop(int fd, struct ipfix_decoder *dec,
			struct collect_ctx *c, uint8_t *buf,
			unsigned long timeout, bool *timed_out)
{
	struct sigaction sa = { .sa_handler = collect_on_signal };
	sigset_t stop_sigs, unblock;
	long long deadline = 0;
	int r = 0;

	/* no SA_RESTART: a signal must interrupt ppoll() */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&stop_sigs);
	sigaddset(&stop_sigs, SIGINT);
	sigaddset(&stop_sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop_sigs, &unblock);
	sigdelset(&unblock, SIGINT);
	sigdelset(&unblock, SIGTERM);
	if (timeout)
		deadline = collect_now_ms() + timeout * 1000LL;
	while (!collect_stop && !*timed_out) {
		r = collect_wait(fd, deadline, &unblock, timed_out);
		if (r > 0)
			r = collect_one(fd, dec, c, buf);
		if (r)
			break; /* an error, or --count reached */
	}
	/* a stop signal: what the socket already holds was sent before it,
	 * and is read too (an exporter's last messages are often there)
	 */
	if (collect_stop && !r)
		r = collect_drain(fd, dec, c, buf);
	sigprocmask(SIG_UNBLOCK, &stop_sigs, NULL);
	return r < 0 ? -1 : 0;
}

static void collect_summary(const struct ipfix_decoder *dec,
			    const struct collect_ctx *c)
{
	struct ipfix_decoder_stats st;
	char hidden[48];

	snprintf(hidden, sizeof(hidden), " (%lu hidden as noise)", c->hidden);
	ipfix_decoder__stats(dec, &st);
	fprintf(stderr,
		"flowctl collect: %lu data records%s, %llu messages (%llu "
		"malformed), %llu templates, %llu sequence gaps\n",
		c->records, c->hide_noise ? hidden : "",
		(unsigned long long)st.messages,
		(unsigned long long)st.malformed,
		(unsigned long long)st.templates,
		(unsigned long long)st.seq_gaps);
}

static int collect_run(const struct ctl_ctx *ctx, int argc, char **argv)
{
	struct ipfix_decoder *dec = NULL;
	struct sockaddr_storage ss;
	struct collect_args a;
	struct collect_ctx c = { 0 };
	unsigned int sslen;
	bool timed_out = false;
	char err[256];
	uint8_t *buf = NULL;
	int fd = -1, ret;

	collect_stop = 0;
	ret = opts_parse(&collect_command.opts, argc, argv, &a, NULL);
	if (ret)
		return opts_exit_code(ret);
	const char *listen_addr = a.listen;
	if (endpoint_parse(listen_addr, IPFIX_DEFAULT_PORT,
			   ENDPOINT_PORT_OPTIONAL | ENDPOINT_PASSIVE, &ss,
			   &sslen, err, sizeof(err))) {
		fprintf(stderr, "flowctl collect: %s\n", err);
		return 2;
	}

	setvbuf(stdout, NULL, _IOLBF, 0);
	c.format = a.json ? COLLECT_JSON : (enum collect_format)a.format;
	c.hide_noise = a.hide_noise;
	c.count = a.count;
	c.line = malloc(COLLECT_LINE_MAX);
	c.table = ipfix_table__new();
	buf = malloc(65536);
	dec = ipfix_decoder__new();
	if (!c.line || !buf || !dec || !c.table)
		fprintf(stderr, "flowctl collect: out of memory\n");
	else
		fd = collect_bind(listen_addr, &ss, sslen);
	ret = 1;
	if (fd >= 0) {
		ret = collect_loop(fd, dec, &c, buf, a.timeout, &timed_out) ? 1
									    : 0;
		collect_summary(dec, &c);
		close(fd);
	}
	if (timed_out && c.count && c.records < c.count) {
		fprintf(stderr,
			"flowctl collect: timeout after %lu s with %lu of %lu "
			"records\n",
			a.timeout, c.records, c.count);
		ret = 1;
	}
	ipfix_decoder__free(dec);
	ipfix_table__free(c.table);
	free(buf);
	free(c.line);
	return ret;
}

CTL_COMMAND(collect, false,
	    .summary = "a small IPFIX collector [-l ADDR:PORT] "
		       "[--format table|kv|json]",
	    .doc = "Receives IPFIX over UDP and prints one line per data "
		   "record: by default an aligned table (time, protocol, "
		   "source and destination, packets and octets of each "
		   "direction, interfaces, flowDirection, flowEndReason), "
		   "options records (interface names, the exporter's "
		   "statistics) as lines starting with #.",
	    .notes = "Records go to stdout; \"listening on ADDR:PORT\", "
		     "warnings (malformed messages, unknown templates, "
		     "sequence gaps) and a summary to stderr. SIGINT or "
		     "SIGTERM ends it (exit 0) after it has read the "
		     "messages already queued on its socket (at most 65536), "
		     "so an exporter's last messages before the stop are "
		     "printed too.");
