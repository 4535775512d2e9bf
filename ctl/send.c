/* send.c - `flowctl send`: an IPFIX dummy-data transmitter for testing
 * collector pipelines. It sends COUNT synthetic, deterministic flow records
 * over UDP with flowexp's own encoder.
 */
#include <errno.h>
#include <getopt.h>
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

static void send_usage(FILE *f)
{
	fprintf(f,
		"Usage: flowctl send [-d ADDR:PORT] [-n COUNT] [--rate PPS] "
		"[--biflow]\n"
		"                    [--ipv6] [--domain N] [--mtu N] "
		"[--template-id N]\n"
		"                    [--fields 'NAME NAME...']\n"
		"Sends COUNT synthetic IPFIX flow records over UDP (templates "
		"first).\n"
		"  -d, --dest ADDR:PORT   collector (default %s, [IPv6]:PORT)\n"
		"  -n, --count COUNT      data records to send (default 10)\n"
		"  -r, --rate PPS         messages per second (default: no "
		"pacing)\n"
		"  -b, --biflow           RFC 5103 biflow records (reverse "
		"elements)\n"
		"  -6, --ipv6             IPv6 flows (default IPv4)\n"
		"  -D, --domain N         observation domain id (default 1)\n"
		"  -m, --mtu N            largest message in octets (default "
		"%d)\n"
		"  -T, --template-id N    template id (default 1024)\n"
		"  -f, --fields LIST      IANA element names (default: "
		"flowexp's default)\n"
		"Record i (from 0): source 10.0.0.0+i+1 (2001:db8::i+1), "
		"destination\n"
		"192.0.2.(i%%254+1) (2001:db8:1::(i%%254+1)); i%%4 picks "
		"TCP/443, UDP/53,\n"
		"TCP/80 or ICMP echo; source port 1024+i%%60000; packets "
		"i%%100+1,\n"
		"octets packets*100+i; reverse packets i%%50+1, octets "
		"packets*80.\n",
		SEND_DEFAULT_DEST, IPFIX_DEFAULT_MTU);
}

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

static bool send_parse_ulong(const char *s, unsigned long max,
			     unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return *s && !*end && !errno && *s != '-' && *out <= max;
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

#define BAD_ARG(name)                                                         \
	do {                                                                  \
		fprintf(stderr, "flowctl send: bad %s '%s'\n", name, optarg); \
		return 2;                                                     \
	} while (0)

int cmd_send(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dest", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'n' },
		{ "rate", required_argument, NULL, 'r' },
		{ "biflow", no_argument, NULL, 'b' },
		{ "ipv6", no_argument, NULL, '6' },
		{ "domain", required_argument, NULL, 'D' },
		{ "mtu", required_argument, NULL, 'm' },
		{ "template-id", required_argument, NULL, 'T' },
		{ "fields", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *dest = SEND_DEFAULT_DEST, *fields = NULL;
	unsigned long count = 10, rate = 0, domain = 1;
	unsigned long mtu = IPFIX_DEFAULT_MTU, tid = 1024;
	bool biflow = false, v6 = false;
	struct send_ctx s = { .fd = -1 };
	struct ipfix_writer *w = NULL;
	struct ipfix_writer_stats st;
	struct ipfix_template t;
	const struct ipfix_template *tp = &t;
	struct sockaddr_storage ss;
	struct timespec now;
	unsigned int sslen;
	uint16_t ies[IPFIX_MAX_FIELDS];
	const uint16_t *list;
	char err[256], addr[80];
	uint64_t now_ms;
	unsigned long i;
	int opt, n, ret = 1;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "d:n:r:b6D:m:T:f:h", opts,
				  NULL)) != -1) {
		switch (opt) {
		case 'd':
			dest = optarg;
			break;
		case 'n':
			if (!send_parse_ulong(optarg, UINT32_MAX, &count))
				BAD_ARG("--count");
			break;
		case 'r':
			if (!send_parse_ulong(optarg, 1000000000, &rate))
				BAD_ARG("--rate");
			break;
		case 'b':
			biflow = true;
			break;
		case '6':
			v6 = true;
			break;
		case 'D':
			if (!send_parse_ulong(optarg, UINT32_MAX, &domain))
				BAD_ARG("--domain");
			break;
		case 'm':
			if (!send_parse_ulong(optarg, 65535, &mtu) ||
			    mtu < IPFIX_MIN_MTU) {
				fprintf(stderr,
					"flowctl send: bad --mtu '%s': "
					"expected %d..65535\n",
					optarg, IPFIX_MIN_MTU);
				return 2;
			}
			break;
		case 'T':
			if (!send_parse_ulong(optarg, 65535, &tid) ||
			    tid < IPFIX_MIN_TEMPLATE_ID)
				BAD_ARG("--template-id (256..65535)");
			break;
		case 'f':
			fields = optarg;
			break;
		case 'h':
			send_usage(stdout);
			return 0;
		default:
			send_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "flowctl send: unexpected argument '%s'\n",
			argv[optind]);
		send_usage(stderr);
		return 2;
	}
	if (fields) {
		if (send_parse_fields(fields, ies, IPFIX_MAX_FIELDS, &n))
			return 2;
		list = ies;
	} else {
		list = ipfix_default_fields(&n);
	}
	if (ipfix_template_build(&t, tid, v6 ? 6 : 4, biflow, list, n, err,
				 sizeof(err))) {
		fprintf(stderr, "flowctl send: %s\n", err);
		return 2;
	}
	if (endpoint_parse(dest, IPFIX_DEFAULT_PORT, ENDPOINT_PORT_OPTIONAL,
			   &ss, &sslen, err, sizeof(err))) {
		fprintf(stderr, "flowctl send: %s\n", err);
		return 2;
	}
	endpoint_format((struct sockaddr *)&ss, addr, sizeof(addr));

	/* one socket for the whole run: collectors key exporters by port */
	s.fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s.fd < 0) {
		fprintf(stderr, "flowctl send: socket: %s\n", strerror(errno));
		return 1;
	}
	if (connect(s.fd, (struct sockaddr *)&ss, sslen)) {
		fprintf(stderr, "flowctl send: connect %s: %s\n", addr,
			strerror(errno));
		goto out;
	}
	if (rate)
		s.interval_ns = 1000000000ULL / rate;
	w = ipfix_writer__new(domain, mtu, send_msg, &s);
	if (!w) {
		fprintf(stderr, "flowctl send: writer: %s\n", strerror(errno));
		goto out;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	now_ms = now.tv_sec * 1000ULL + now.tv_nsec / 1000000;
	ipfix_writer__add_templates(w, &tp, 1, now.tv_sec);
	for (i = 0; i < count; i++) {
		struct fe_record r;

		send_fill(&r, i, v6, biflow, now_ms);
		ipfix_writer__add_record(w, &t, &r, time(NULL));
	}
	ipfix_writer__flush(w, time(NULL));
	ipfix_writer__stats(w, &st);
	printf("sent %llu records in %llu messages (%llu octets, template %lu, "
	       "domain %lu) to %s\n",
	       (unsigned long long)st.records, (unsigned long long)st.messages,
	       (unsigned long long)st.octets, tid, domain, addr);
	ret = 0;
	if (st.send_errors) {
		fprintf(stderr,
			"flowctl send: %llu messages (%llu records) could not "
			"be sent to %s\n",
			(unsigned long long)st.send_errors,
			(unsigned long long)st.not_sent, addr);
		ret = 1;
	}
out:
	ipfix_writer__free(w);
	close(s.fd);
	return ret;
}
