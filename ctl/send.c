/* send.c - `flowctl send`: an IPFIX dummy-data transmitter for testing
 * collector pipelines. It sends COUNT synthetic, deterministic flow records
 * over UDP with flowexp's own encoder.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "commands.h"
#include "endpoint.h"
#include "ie.h"
#include "ipfix.h"

#define SEND_DEFAULT_DEST "127.0.0.1:4739"

struct send_ctx {
	int fd;
	uint64_t interval_ns; /* 0: as fast as possible */
	struct timespec next;
};

struct send_args {
	const char *dest, *fields;
	unsigned long count, rate, domain;
	unsigned int mtu;
	uint16_t template_id;
	bool biflow, ipv6;
};

static const struct send_args send_defaults = {
	.dest = SEND_DEFAULT_DEST,
	.count = 10,
	.domain = 1,
	.mtu = IPFIX_DEFAULT_MTU,
	.template_id = 1024,
};

static const struct opt_def send_opts[] = {
	DEFINE_OPTION("dest", OPT_ADDR, struct send_args, dest,
		      .short_name = 'd',
		      .help = "the collector; [IPv6]:PORT for IPv6",
		      .show_default = true),
	DEFINE_OPTION("count", OPT_UINT, struct send_args, count,
		      .short_name = 'n', .metavar = "COUNT",
		      .help = "data records to send", .max = UINT32_MAX,
		      .show_default = true),
	DEFINE_OPTION("rate", OPT_UINT, struct send_args, rate,
		      .short_name = 'r', .metavar = "PPS",
		      .help = "messages per second (default: no pacing)",
		      .max = 1000000000),
	DEFINE_OPTION("biflow", OPT_FLAG, struct send_args, biflow,
		      .short_name = 'b',
		      .help = "RFC 5103 biflow records (reverse elements)"),
	DEFINE_OPTION("ipv6", OPT_FLAG, struct send_args, ipv6,
		      .short_name = '6', .help = "IPv6 flows (default IPv4)"),
	DEFINE_OPTION("domain", OPT_UINT, struct send_args, domain,
		      .short_name = 'D', .help = "observation domain id",
		      .max = UINT32_MAX, .show_default = true),
	DEFINE_OPTION("mtu", OPT_UINT, struct send_args, mtu, .short_name = 'm',
		      .help = "largest message in octets", .min = IPFIX_MIN_MTU,
		      .max = 65535, .show_default = true),
	DEFINE_OPTION("template-id", OPT_UINT, struct send_args, template_id,
		      .short_name = 'T', .help = "template id",
		      .min = IPFIX_MIN_TEMPLATE_ID, .show_default = true),
	DEFINE_OPTION("fields", OPT_STRING, struct send_args, fields,
		      .short_name = 'f', .metavar = "LIST",
		      .help = "IANA element names, separated by spaces or "
			      "commas (default: flowexp's default list)"),
	END_OPTIONS
};

static void send_pace(struct send_ctx *s)
{
	if (!s->interval_ns)
		return;
	if (!s->next.tv_sec)
		clock_gettime(CLOCK_MONOTONIC, &s->next);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &s->next,
			       NULL) == EINTR)
		;
	s->next.tv_nsec += s->interval_ns % 1000000000ULL;
	s->next.tv_sec +=
		s->interval_ns / 1000000000ULL + s->next.tv_nsec / 1000000000L;
	s->next.tv_nsec %= 1000000000L;
}

static int send_msg(void *vctx, const void *msg, size_t len)
{
	struct send_ctx *s = vctx;

	send_pace(s);
	if (send(s->fd, msg, len, 0) < 0)
		return -errno;
	return 0;
}

/* The synthetic record #i; the usage text documents the pattern so that
 * tests can check what a collector received.
 */
static void send_fill(struct fe_record *r, uint32_t i, bool v6, bool biflow,
		      uint64_t now_ms)
{
	static const uint8_t proto[] = { 6, 17, 6, 1 };
	static const uint16_t port[] = { 443, 53, 80, 0 };
	uint32_t a = i + 1;

	memset(r, 0, sizeof(*r));
	r->family = v6 ? 6 : 4;
	r->proto = proto[i % 4];
	if (v6) {
		static const uint8_t pfx[] = { 0x20, 0x01, 0x0d, 0xb8 };

		memcpy(r->src, pfx, 4);
		memcpy(r->dst, pfx, 4);
		r->dst[5] = 1;
		r->src[12] = a >> 24;
		r->src[13] = a >> 16;
		r->src[14] = a >> 8;
		r->src[15] = a;
		r->dst[15] = i % 254 + 1;
		if (r->proto == 1)
			r->proto = 58;
	} else {
		r->src[0] = 10;
		r->src[1] = a >> 16;
		r->src[2] = a >> 8;
		r->src[3] = a;
		r->dst[0] = 192;
		r->dst[2] = 2;
		r->dst[3] = i % 254 + 1;
	}
	if (r->proto == 1 || r->proto == 58) {
		r->fwd.icmp_type_code = v6 ? 128 << 8 : 8 << 8;
		r->rev.icmp_type_code = v6 ? 129 << 8 : 0;
		r->dport = r->fwd.icmp_type_code;
	} else {
		r->sport = 1024 + i % 60000;
		r->dport = port[i % 4];
	}
	r->end_reason = i % 5 + 1;
	r->biflow_dir = biflow ? 1 : 0;
	r->has_rev = biflow;

	r->fwd.packets = i % 100 + 1;
	r->fwd.octets = r->fwd.packets * 100 + i;
	r->fwd.start_ms = now_ms - 10000 - i % 1000;
	r->fwd.end_ms = now_ms - i % 1000;
	r->fwd.in_if = 2;
	r->fwd.out_if = 3;
	r->fwd.flow_dir = 1;
	r->fwd.tcp_flags = r->proto == 6 ? 0x1b : 0;
	r->fwd.ttl_min = 63;
	r->fwd.ttl_max = 64;
	r->fwd.flow_label = v6 ? i & 0xfffff : 0;
	if (biflow) {
		r->rev.packets = i % 50 + 1;
		r->rev.octets = r->rev.packets * 80;
		r->rev.start_ms = r->fwd.start_ms + 1;
		r->rev.end_ms = r->fwd.end_ms;
		r->rev.in_if = 3;
		r->rev.out_if = 2;
		r->rev.flow_dir = 0;
		r->rev.tcp_flags = r->proto == 6 ? 0x1b : 0;
		r->rev.ttl_min = 60;
		r->rev.ttl_max = 60;
	}
}

/* Turns a list of names separated by spaces or commas into element ids. */
static int send_parse_fields(const char *list, uint16_t *ies, int max, int *n)
{
	char err[256];

	*n = 0;
	if (ie_parse_list(list, ies, max, n, err, sizeof(err))) {
		fprintf(stderr, "flowctl send: --fields: %s\n", err);
		return -EINVAL;
	}
	if (!*n) {
		fprintf(stderr, "flowctl send: --fields names no element\n");
		return -EINVAL;
	}
	return 0;
}

/* Template t for the records asked for. Returns 0 or 2 (usage error). */
static int send_template(const struct send_args *a, struct ipfix_template *t)
{
	uint16_t ies[IPFIX_MAX_FIELDS];
	const uint16_t *list;
	char err[256];
	int n;

	if (a->fields) {
		if (send_parse_fields(a->fields, ies, IPFIX_MAX_FIELDS, &n))
			return 2;
		list = ies;
	} else {
		list = ipfix_default_fields(&n);
	}
	if (ipfix_template_build(t, a->template_id, a->ipv6 ? 6 : 4, a->biflow,
				 list, n, err, sizeof(err))) {
		fprintf(stderr, "flowctl send: %s\n", err);
		return 2;
	}
	return 0;
}

/* s->fd connected to the collector (one socket for the whole run:
 * collectors key exporters by port). Returns 0, 1 or 2 (usage error).
 */
static int send_connect(const char *dest, struct send_ctx *s, char *addr,
			size_t addrlen)
{
	struct sockaddr_storage ss;
	unsigned int sslen;
	char err[256];

	if (endpoint_parse(dest, IPFIX_DEFAULT_PORT, ENDPOINT_PORT_OPTIONAL,
			   &ss, &sslen, err, sizeof(err))) {
		fprintf(stderr, "flowctl send: %s\n", err);
		return 2;
	}
	endpoint_format((struct sockaddr *)&ss, addr, addrlen);
	s->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		fprintf(stderr, "flowctl send: socket: %s\n", strerror(errno));
		return 1;
	}
	if (connect(s->fd, (struct sockaddr *)&ss, sslen)) {
		fprintf(stderr, "flowctl send: connect %s: %s\n", addr,
			strerror(errno));
		return 1;
	}
	return 0;
}

/* Templates, then the records, then the tally. Returns the exit status. */
static int send_records(struct send_ctx *s, const struct send_args *a,
			const struct ipfix_template *t, const char *addr)
{
	const struct ipfix_template *tp = t;
	struct ipfix_writer_stats st;
	struct ipfix_writer *w;
	struct timespec now;
	uint64_t now_ms;
	int ret = 0;

	if (a->rate)
		s->interval_ns = 1000000000ULL / a->rate;
	w = ipfix_writer__new(a->domain, a->mtu, send_msg, s);
	if (!w) {
		fprintf(stderr, "flowctl send: writer: %s\n", strerror(errno));
		return 1;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	now_ms = now.tv_sec * 1000ULL + now.tv_nsec / 1000000;
	ipfix_writer__add_templates(w, &tp, 1, now.tv_sec);
	for (unsigned long i = 0; i < a->count; i++) {
		struct fe_record r;

		send_fill(&r, i, a->ipv6, a->biflow, now_ms);
		ipfix_writer__add_record(w, t, &r, time(NULL));
	}
	ipfix_writer__flush(w, time(NULL));
	ipfix_writer__stats(w, &st);
	printf("sent %llu records in %llu messages (%llu octets, template %u, "
	       "domain %lu) to %s\n",
	       (unsigned long long)st.records, (unsigned long long)st.messages,
	       (unsigned long long)st.octets, a->template_id, a->domain, addr);
	if (st.send_errors) {
		fprintf(stderr,
			"flowctl send: %llu messages (%llu records) could not "
			"be sent to %s\n",
			(unsigned long long)st.send_errors,
			(unsigned long long)st.not_sent, addr);
		ret = 1;
	}
	ipfix_writer__free(w);
	return ret;
}

static int send_run(const struct ctl_ctx *ctx, int argc, char **argv)
{
	struct send_ctx s = { .fd = -1 };
	struct ipfix_template t;
	struct send_args a;
	char addr[80];
	int ret;

	ret = opts_parse(&send_command.opts, argc, argv, &a, NULL);
	if (ret)
		return opts_exit_code(ret);
	ret = send_template(&a, &t);
	if (!ret)
		ret = send_connect(a.dest, &s, addr, sizeof(addr));
	if (!ret)
		ret = send_records(&s, &a, &t, addr);
	if (s.fd >= 0)
		close(s.fd);
	return ret;
}

CTL_COMMAND(send, false,
	    .summary = "an IPFIX test transmitter [-d ADDR:PORT] [-n COUNT]",
	    .doc = "Sends COUNT synthetic IPFIX flow records over UDP "
		   "(templates first), for testing collector pipelines.",
	    .notes = "Record i (from 0): source 10.0.0.0+i+1 "
		     "(2001:db8::i+1), destination 192.0.2.(i%254+1) "
		     "(2001:db8:1::(i%254+1)); i%4 picks TCP/443, UDP/53, "
		     "TCP/80 or ICMP echo; source port 1024+i%60000; "
		     "packets i%100+1, octets packets*100+i; reverse "
		     "packets i%50+1, octets packets*80.");
