/* collect.c - `flowctl collect`: a small IPFIX collector over UDP that
 * prints every decoded data record as a text or JSON line.
 */
#include <errno.h>
#include <getopt.h>
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

#define COLLECT_DEFAULT_ADDR "127.0.0.1:4739"
#define COLLECT_LINE_MAX (256 * 1024) /* a 64 KiB record as hex + names */

static volatile sig_atomic_t collect_stop;

static void collect_on_signal(int sig)
{
	collect_stop = 1;
}

struct collect_ctx {
	bool json;
	unsigned long count; /* 0: unlimited */
	unsigned long records;
	char *line;
};

static void collect_usage(FILE *f)
{
	fprintf(f,
		"Usage: flowctl collect [-l ADDR:PORT] [--json] [-c COUNT] "
		"[--timeout SEC]\n"
		"Receives IPFIX over UDP and prints one line per data record.\n"
		"  -l, --listen ADDR:PORT  address to listen on (default %s;\n"
		"                          [IPv6]:PORT for IPv6, port 0 picks "
		"one)\n"
		"  -j, --json              one JSON object per record (keys: "
		"IANA names)\n"
		"  -c, --count COUNT       exit after COUNT data records (exit "
		"1 if the\n"
		"                          timeout comes first)\n"
		"  -t, --timeout SEC       exit after SEC seconds\n"
		"  -h, --help              this text\n"
		"Records go to stdout; \"listening on ADDR:PORT\", warnings "
		"(malformed\n"
		"messages, unknown templates, sequence gaps) and a summary to "
		"stderr.\n",
		COLLECT_DEFAULT_ADDR);
}

static int collect_record(void *vctx, const struct ipfix_dec_record *r)
{
	struct collect_ctx *c = vctx;
	int n;

	n = c->json ? ipfix_format_json(r, c->line, COLLECT_LINE_MAX)
		    : ipfix_format_text(r, c->line, COLLECT_LINE_MAX);
	if (n < 0)
		fprintf(stderr,
			"flowctl collect: record of template %u too long to "
			"print\n",
			r->template_id);
	else
		printf("%s\n", c->line);
	c->records++;
	return c->count && c->records >= c->count ? 1 : 0;
}

static long long collect_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static bool collect_parse_ulong(const char *s, unsigned long max,
				unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return *s && !*end && !errno && *s != '-' && *out <= max;
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

int cmd_collect(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "count", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *listen_addr = COLLECT_DEFAULT_ADDR;
	struct collect_ctx c = { 0 };
	unsigned long timeout = 0;
	struct ipfix_decoder_stats st;
	struct ipfix_decoder *dec = NULL;
	struct sockaddr_storage ss;
	struct sigaction sa = { .sa_handler = collect_on_signal };
	unsigned int sslen;
	socklen_t alen;
	long long deadline = 0;
	char err[256], addr[80];
	uint8_t *buf = NULL;
	int opt, fd = -1, ret = 1, rcvbuf = 4 << 20;
	bool timed_out = false;

	collect_stop = 0;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "l:jc:t:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'l':
			listen_addr = optarg;
			break;
		case 'j':
			c.json = true;
			break;
		case 'c':
			if (!collect_parse_ulong(optarg, ULONG_MAX, &c.count) ||
			    !c.count) {
				fprintf(stderr,
					"flowctl collect: bad --count '%s': "
					"expected a positive integer\n",
					optarg);
				return 2;
			}
			break;
		case 't':
			if (!collect_parse_ulong(optarg, 86400 * 365,
						 &timeout) ||
			    !timeout) {
				fprintf(stderr,
					"flowctl collect: bad --timeout '%s': "
					"expected seconds (a positive "
					"integer)\n",
					optarg);
				return 2;
			}
			break;
		case 'h':
			collect_usage(stdout);
			return 0;
		default:
			collect_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "flowctl collect: unexpected argument '%s'\n",
			argv[optind]);
		collect_usage(stderr);
		return 2;
	}
	if (endpoint_parse(listen_addr, IPFIX_DEFAULT_PORT,
			   ENDPOINT_PORT_OPTIONAL | ENDPOINT_PASSIVE, &ss,
			   &sslen, err, sizeof(err))) {
		fprintf(stderr, "flowctl collect: %s\n", err);
		return 2;
	}

	setvbuf(stdout, NULL, _IOLBF, 0);
	c.line = malloc(COLLECT_LINE_MAX);
	buf = malloc(65536);
	dec = ipfix_decoder__new();
	if (!c.line || !buf || !dec) {
		fprintf(stderr, "flowctl collect: out of memory\n");
		goto out;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "flowctl collect: socket: %s\n",
			strerror(errno));
		goto out;
	}
	/* bursts of messages arrive faster than lines are printed */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)&ss, sslen)) {
		fprintf(stderr, "flowctl collect: bind %s: %s\n", listen_addr,
			strerror(errno));
		goto out;
	}
	alen = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &alen);
	fprintf(stderr, "listening on %s\n",
		endpoint_format((struct sockaddr *)&ss, addr, sizeof(addr)));

	/* no SA_RESTART: a signal must interrupt poll() */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (timeout)
		deadline = collect_now_ms() + timeout * 1000LL;

	ret = 0;
	while (!collect_stop) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		struct ipfix_dec_msg m;
		int wait_ms = -1, r;
		ssize_t n;

		if (deadline) {
			long long left = deadline - collect_now_ms();

			if (left <= 0) {
				timed_out = true;
				break;
			}
			wait_ms = left > INT_MAX ? INT_MAX : (int)left;
		}
		r = poll(&pfd, 1, wait_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "flowctl collect: poll: %s\n",
				strerror(errno));
			ret = 1;
			break;
		}
		if (!r)
			continue;
		n = recvfrom(fd, buf, 65536, MSG_DONTWAIT,
			     (struct sockaddr *)&from, &flen);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fprintf(stderr, "flowctl collect: recv: %s\n",
				strerror(errno));
			ret = 1;
			break;
		}
		endpoint_format((struct sockaddr *)&from, addr, sizeof(addr));
		r = ipfix_decoder__parse(dec, &from, flen, buf, n,
					 collect_record, &c, &m, err,
					 sizeof(err));
		if (r == -EINVAL)
			fprintf(stderr,
				"flowctl collect: warning: malformed message "
				"from %s (%zd octets): %s\n",
				addr, n, err);
		collect_warn_msg(addr, &m);
		if (r == 1)
			break; /* --count reached */
	}
	ipfix_decoder__stats(dec, &st);
	fprintf(stderr,
		"flowctl collect: %lu data records, %llu messages (%llu "
		"malformed), %llu templates, %llu sequence gaps\n",
		c.records, (unsigned long long)st.messages,
		(unsigned long long)st.malformed,
		(unsigned long long)st.templates,
		(unsigned long long)st.seq_gaps);
	if (timed_out && c.count && c.records < c.count) {
		fprintf(stderr,
			"flowctl collect: timeout after %lu s with %lu of %lu "
			"records\n",
			timeout, c.records, c.count);
		ret = 1;
	}
out:
	if (fd >= 0)
		close(fd);
	ipfix_decoder__free(dec);
	free(buf);
	free(c.line);
	return ret;
}
