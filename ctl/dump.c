/* dump.c - flowctl dump, flush and stats: from flowagent's cache over its
 * control socket when an agent serves this meter set, else from the pinned
 * kernel maps.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "ctlsock.h"
#include "clock.h"
#include "dumpfmt.h"
#include "filter.h"
#include "meter.h"

/* Asks the agent; returns -ENOENT when no agent serves our pin path. */
static int ask_agent(const char *req)
{
	char line[1024];

	snprintf(line, sizeof(line), "%s", req);
	return ctlsock_request(ctl_globals.control_socket, line, stdout);
}

static struct meter *open_meter(const char *cmd)
{
	struct meter *m = meter__open(ctl_globals.pin_path, 0, 0);

	if (!m)
		fprintf(stderr, "flowctl %s: meter set %s: %s%s\n", cmd,
			ctl_globals.pin_path, strerror(errno),
			errno == ENOENT ? " (nothing attached yet?)" : "");
	return m;
}

struct collect {
	struct dump_row *rows;
	size_t n, cap;
	const struct fe_filter *f;
	int64_t off;
};

static int collect_row(void *ctx, const struct fe_flow_key *k,
		       const struct fe_flow_val *v)
{
	struct collect *c = ctx;

	if (c->f && !fe_filter_empty(c->f) && !fe_filter_match_key(c->f, k))
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 1024;
		struct dump_row *r = realloc(c->rows, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		c->rows = r;
		c->cap = cap;
	}
	dump_row_from_key(&c->rows[c->n++], k, v, c->off);
	return 0;
}

static void dump_usage(FILE *f)
{
	fprintf(f,
		"Usage: flowctl dump [--by-ifindex] [--json] [FILTER]\n"
		"Prints the live flow table. Without --by-ifindex one row per "
		"flow\n"
		"direction, summed over interfaces and observation directions "
		"(a\n"
		"forwarded packet metered at ingress and egress counts once; "
		"these rows\n"
		"show ifindex 0 and dir \"all\"); with it one row per "
		"interface,\n"
		"direction (ingress|egress) and ingress interface: the "
		"multipath view.\n"
		"With flowagent running, rows come from its flow cache (whole "
		"flow\n"
		"lifetimes); else from the kernel maps (since the last "
		"drain).\n"
		"--json writes one object per row per line (times: UNIX ns).\n"
		"FILTER: dev DEV | proto P | src A | dst A | host A | sport N "
		"| dport N | port N\n");
}

int cmd_dump(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "by-ifindex", no_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	bool by_if = false, json = false;
	struct collect c = { 0 };
	struct fe_filter f;
	char err[256], req[1024], words[512];
	struct meter *m;
	int ch, r;

	while ((ch = getopt_long(argc, argv, "ijh", opts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			by_if = true;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			dump_usage(stdout);
			return 0;
		default:
			dump_usage(stderr);
			return 2;
		}
	}
	if (fe_filter_parse(argc - optind, argv + optind, &f, err,
			    sizeof(err))) {
		fprintf(stderr, "flowctl dump: %s\n", err);
		return 2;
	}
	fe_filter_format(&f, words, sizeof(words));
	snprintf(req, sizeof(req), "dump %s%s%s%s", ctl_globals.pin_path,
		 by_if ? " by_ifindex" : "", json ? " json" : "", words);
	r = ask_agent(req);
	if (r != -ENOENT)
		return r ? 1 : 0;
	m = open_meter("dump");
	if (!m)
		return 1;
	c.f = &f;
	c.off = fe_clock_mono_to_unix_ns();
	r = meter__read(m, collect_row, &c);
	meter__close(m);
	if (r < 0) {
		fprintf(stderr, "flowctl dump: read flow maps: %s\n",
			strerror(-r));
		free(c.rows);
		return 1;
	}
	if (!by_if)
		c.n = dump_summarize(c.rows, c.n);
	dump_sort(c.rows, c.n);
	dump_print(stdout, c.rows, c.n, by_if, json);
	free(c.rows);
	return 0;
}

static bool match_key(void *ctx, const struct fe_flow_key *k)
{
	return fe_filter_match_key(ctx, k);
}

static void flush_usage(FILE *f)
{
	fprintf(f, "Usage: flowctl flush --all | FILTER\n"
		   "Drops flows: from flowagent's cache (each exported first "
		   "as a forced\n"
		   "end) when an agent runs, else from the kernel maps.\n"
		   "FILTER: dev DEV | proto P | src A | dst A | host A | sport "
		   "N | dport N | port N\n"
		   "(words combine with AND; src/dst match the flow "
		   "direction's source\n"
		   "and destination, host and port either side).\n");
}

int cmd_flush(int argc, char **argv)
{
	static const struct option opts[] = { { "all", no_argument, NULL, 'a' },
					      { "help", no_argument, NULL,
						'h' },
					      {} };
	char err[256], req[1024], words[512];
	struct fe_filter f;
	bool all = false;
	struct meter *m;
	int ch, r;

	while ((ch = getopt_long(argc, argv, "ah", opts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			all = true;
			break;
		case 'h':
			flush_usage(stdout);
			return 0;
		default:
			flush_usage(stderr);
			return 2;
		}
	}
	if (fe_filter_parse(argc - optind, argv + optind, &f, err,
			    sizeof(err))) {
		fprintf(stderr, "flowctl flush: %s\n", err);
		return 2;
	}
	f.all |= all;
	if (fe_filter_empty(&f)) {
		fprintf(stderr, "flowctl flush: give --all or a filter "
				"(refusing to guess)\n");
		flush_usage(stderr);
		return 2;
	}
	fe_filter_format(&f, words, sizeof(words));
	snprintf(req, sizeof(req), "flush %s%s", ctl_globals.pin_path, words);
	r = ask_agent(req);
	if (r != -ENOENT)
		return r ? 1 : 0;
	m = open_meter("flush");
	if (!m)
		return 1;
	r = meter__delete(m, f.all ? NULL : match_key, &f);
	meter__close(m);
	if (r < 0) {
		fprintf(stderr, "flowctl flush: %s\n", strerror(-r));
		return 1;
	}
	printf("flushed %d kernel flow entries\n", r);
	return 0;
}

static void stats_usage(FILE *f)
{
	fprintf(f, "Usage: flowctl stats [--json]\n"
		   "Counters of the meters (packets, non-IP, malformed, "
		   "overflow...) and,\n"
		   "when flowagent runs, of its cache and exporters (records, "
		   "messages,\n"
		   "send errors, records not sent).\n");
}

int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	static const char *const names[] = FE_STAT_NAMES;
	__u64 st[FE_STAT_MAX];
	unsigned int nf = 0, no = 0;
	char req[1024];
	bool json = false;
	struct meter *m;
	int ch, r;

	while ((ch = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = true;
			break;
		case 'h':
			stats_usage(stdout);
			return 0;
		default:
			stats_usage(stderr);
			return 2;
		}
	}
	snprintf(req, sizeof(req), "stats %s%s", ctl_globals.pin_path,
		 json ? " json" : "");
	r = ask_agent(req);
	if (r != -ENOENT)
		return r ? 1 : 0;
	m = open_meter("stats");
	if (!m)
		return 1;
	r = meter__stats(m, st);
	meter__count(m, &nf, &no);
	meter__close(m);
	if (r) {
		fprintf(stderr, "flowctl stats: read fe_stats: %s\n",
			strerror(-r));
		return 1;
	}
	if (json)
		printf("{\"agent\":false");
	else
		printf("meter (no flowagent running for %s)\n",
		       ctl_globals.pin_path);
	for (int i = 0; i < FE_STAT_MAX; i++) {
		if (json)
			printf(",\"meter_%s\":%llu", names[i],
			       (unsigned long long)st[i]);
		else
			printf("  %-22s %llu\n", names[i],
			       (unsigned long long)st[i]);
	}
	if (json)
		printf(",\"map_flows\":%u,\"map_overflow_entries\":%u}\n", nf,
		       no);
	else
		printf("  %-22s %u\n  %-22s %u\n", "map_flows", nf,
		       "map_overflow_entries", no);
	return 0;
}
