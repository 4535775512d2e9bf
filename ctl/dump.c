/* dump.c - flowctl dump, flush and stats: from flowagent's cache over its
 * control socket when an agent serves this meter set, else from the pinned
 * kernel maps.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "ctlsock.h"
#include "clock.h"
#include "dumpfmt.h"
#include "filter.h"
#include "meter.h"
#include "statsfmt.h"

/* Asks the agent, its reply's body to stdout; returns -ENOENT when no
 * agent serves our pin path.
 */
static int ask_agent(const struct ctl_ctx *ctx, const char *req)
{
	return ctlsock_request(ctx->control_socket, req, ctlsock_print, stdout);
}

static struct meter *open_meter(const struct ctl_ctx *ctx, const char *cmd)
{
	struct meter *m = meter__open(ctx->pin_path, 0, 0);

	if (!m)
		fprintf(stderr, "flowctl %s: meter set %s: %s%s\n", cmd,
			ctx->pin_path, strerror(errno),
			errno == ENOENT ? " (nothing attached yet?)" : "");
	return m;
}

/* The rows of the kernel maps that pass the filter, as meter__read()
 * hands them over.
 */
struct map_rows {
	struct dump_row *rows;
	size_t n, cap;
	const struct fe_filter *f;
	int64_t off; /* CLOCK_MONOTONIC -> UNIX, ns */
};

static struct dump_row *map_rows_new(struct map_rows *c)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 1024;
		struct dump_row *r = realloc(c->rows, cap * sizeof(*r));

		if (!r)
			return NULL;
		c->rows = r;
		c->cap = cap;
	}
	return &c->rows[c->n++];
}

static int map_rows_add(void *ctx, const struct fe_flow_key *k,
			const struct fe_flow_val *v)
{
	struct map_rows *c = ctx;
	struct dump_row *r;

	/* a NAT translation or a drop record is no flow: the agent folds
	 * them into its conversations
	 */
	if (k->kind != FE_KIND_PKT)
		return 0;
	if (c->f && !fe_filter_empty(c->f) && !fe_filter_match_key(c->f, k))
		return 0;
	r = map_rows_new(c);
	if (!r)
		return -ENOMEM;
	dump_row_from_key(r, k, v, c->off);
	return 0;
}

/* A frame of the agent's rows (whole struct dump_row each). */
static int agent_rows_add(void *ctx, const void *data, size_t len)
{
	struct map_rows *c = ctx;
	const struct dump_row *in = data;

	if (len % sizeof(*in)) {
		fprintf(stderr,
			"flowctl dump: a frame of %zu octets is not "
			"whole rows\n",
			len);
		return -EPROTO;
	}
	for (size_t i = 0; i < len / sizeof(*in); i++) {
		struct dump_row *r = map_rows_new(c);

		if (!r)
			return -ENOMEM;
		*r = in[i];
	}
	return 0;
}

#define FILTER_WORDS                                                        \
	"FILTER: dev DEV | proto P | src ADDR | dst ADDR | host ADDR | "    \
	"sport N | dport N | port N, combined with AND; src and dst match " \
	"the flow direction's source and destination, host and port "       \
	"either side. The port words match TCP, UDP, SCTP and UDP-Lite "    \
	"flows only (not ICMP, nor fragments or truncated packets, which "  \
	"carry no ports)."

struct dump_args {
	bool by_ifindex, json;
};

static const struct dump_args dump_defaults;

static const struct opt_def dump_opts[] = {
	DEFINE_OPTION("by-ifindex", OPT_FLAG, struct dump_args, by_ifindex,
		      .short_name = 'i',
		      .help = "one row per interface, direction (ingress or "
			      "egress) and ingress interface: the multipath "
			      "view"),
	DEFINE_OPTION("json", OPT_FLAG, struct dump_args, json,
		      .short_name = 'j',
		      .help = "one object per row per line, with ifindex, dir, "
			      "in_ifindex, family, proto, src, dst, sport, "
			      "dport, vlan, packets, bytes, tcp_flags, "
			      "first_ns, last_ns (UNIX ns)"),
	END_OPTIONS
};

/* The rows of the kernel maps, since the last drain, when no agent runs. */
static int dump_from_maps(const struct ctl_ctx *ctx, const struct dump_args *a,
			  const struct fe_filter *f)
{
	struct map_rows c = { .f = f, .off = fe_clock_mono_to_unix_ns() };
	struct meter *m = open_meter(ctx, "dump");
	int r;

	if (!m)
		return 1;
	r = meter__read(m, map_rows_add, &c);
	meter__close(m);
	if (r < 0) {
		fprintf(stderr, "flowctl dump: read flow maps: %s\n",
			strerror(-r));
		free(c.rows);
		return 1;
	}
	if (!a->by_ifindex)
		c.n = dump_summarize(c.rows, c.n);
	dump_sort(c.rows, c.n);
	dump_print(stdout, c.rows, c.n, a->by_ifindex, a->json);
	free(c.rows);
	return 0;
}

/* The rows of the agent's cache, streamed (sorted and printed here, so
 * the agent neither holds them nor looks up interface names).
 */
static int dump_from_agent(const struct ctl_ctx *ctx, const struct dump_args *a,
			   const char *words)
{
	struct map_rows c = { 0 };
	char req[1024];
	int r;

	snprintf(req, sizeof(req), "rows %s %zu%s%s", ctx->pin_path,
		 sizeof(struct dump_row), a->by_ifindex ? " by_ifindex" : "",
		 words);
	r = ctlsock_request(ctx->control_socket, req, agent_rows_add, &c);
	if (r == -ENOMEM)
		fprintf(stderr, "flowctl dump: out of memory for %zu rows\n",
			c.n);
	if (!r) {
		dump_sort(c.rows, c.n);
		dump_print(stdout, c.rows, c.n, a->by_ifindex, a->json);
	}
	free(c.rows);
	return r;
}

static int dump_run(const struct ctl_ctx *ctx, int argc, char **argv)
{
	const struct opt_cmd *c = &dump_command.opts;
	char err[256], words[512];
	struct dump_args a;
	struct fe_filter f;
	int i, r;

	r = opts_parse(c, argc, argv, &a, &i);
	if (!r && fe_filter_parse(argc - i, argv + i, &f, err, sizeof(err)))
		r = opts_error(c, "%s", err);
	if (r)
		return opts_exit_code(r);
	fe_filter_format(&f, words, sizeof(words));
	r = dump_from_agent(ctx, &a, words);
	if (r != -ENOENT)
		return r ? 1 : 0;
	return dump_from_maps(ctx, &a, &f);
}

CTL_COMMAND(dump, true, .args = "[FILTER]",
	    .summary = "the live flow table [--by-ifindex] [--json]",
	    .doc = "Prints the live flow table. Without --by-ifindex one "
		   "row per flow direction, summed over interfaces and "
		   "observation directions (a forwarded packet metered at "
		   "ingress and egress counts once; these rows show "
		   "ifindex 0 and dir \"all\"). With flowagent running, "
		   "rows come from its flow cache (whole flow lifetimes) "
		   "after its next poll, streamed; a reply cut off (the "
		   "agent stopped, or dropped this client for taking none "
		   "of it for 5 s) is an error (exit 1). Without an agent, "
		   "rows come from the kernel maps (since the last drain; "
		   "packets a qdisc dropped after the egress meter count "
		   "there as sent, the agent takes them back). "
		   "Rows are sorted by bytes.",
	    .notes = FILTER_WORDS);

static bool match_key(void *ctx, const struct fe_flow_key *k)
{
	return fe_filter_match_key(ctx, k);
}

struct flush_args {
	bool all;
};

static const struct flush_args flush_defaults;

static const struct opt_def flush_opts[] = {
	DEFINE_OPTION("all", OPT_FLAG, struct flush_args, all,
		      .short_name = 'a', .help = "every flow"),
	END_OPTIONS
};

static int flush_run(const struct ctl_ctx *ctx, int argc, char **argv)
{
	const struct opt_cmd *c = &flush_command.opts;
	char err[256], req[1024], words[512];
	struct flush_args a;
	struct fe_filter f;
	struct meter *m;
	int i, r;

	r = opts_parse(c, argc, argv, &a, &i);
	if (!r && fe_filter_parse(argc - i, argv + i, &f, err, sizeof(err)))
		r = opts_error(c, "%s", err);
	if (!r) {
		f.all |= a.all;
		if (fe_filter_empty(&f))
			r = opts_error(c, "give --all or a filter (refusing "
					  "to guess)");
	}
	if (r)
		return opts_exit_code(r);
	fe_filter_format(&f, words, sizeof(words));
	snprintf(req, sizeof(req), "flush %s%s", ctx->pin_path, words);
	r = ask_agent(ctx, req);
	if (r != -ENOENT)
		return r ? 1 : 0;
	m = open_meter(ctx, "flush");
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

CTL_COMMAND(flush, true, .args = "[FILTER]",
	    .summary = "drop flows: --all | FILTER",
	    .doc = "Drops flows, given --all or a filter: from flowagent's "
		   "cache (each exported first as a forced end) when an "
		   "agent runs, else from the kernel maps.",
	    .notes = FILTER_WORDS);

struct stats_args {
	bool json;
};

static const struct stats_args stats_defaults;

static const struct opt_def stats_opts[] = {
	DEFINE_OPTION("json", OPT_FLAG, struct stats_args, json,
		      .short_name = 'j', .help = "one JSON object"),
	END_OPTIONS
};

static int stats_run(const struct ctl_ctx *ctx, int argc, char **argv)
{
	__u64 st[FE_STAT_MAX];
	unsigned int nf = 0, no = 0, sampling;
	struct stats_args a;
	struct statsfmt s;
	char req[1024];
	struct meter *m;
	int r;

	r = opts_parse(&stats_command.opts, argc, argv, &a, NULL);
	if (r)
		return opts_exit_code(r);
	snprintf(req, sizeof(req), "stats %s%s", ctx->pin_path,
		 a.json ? " json" : "");
	r = ask_agent(ctx, req);
	if (r != -ENOENT)
		return r ? 1 : 0;
	m = open_meter(ctx, "stats");
	if (!m)
		return 1;
	r = meter__stats(m, st);
	meter__count(m, &nf, &no);
	sampling = meter__sampling(m);
	meter__close(m);
	if (r) {
		fprintf(stderr, "flowctl stats: read fe_stats: %s\n",
			strerror(-r));
		return 1;
	}
	statsfmt_begin(&s, stdout, a.json, false);
	statsfmt_heading(&s, "meter (no flowagent running for %s)",
			 ctx->pin_path);
	statsfmt_meter(&s, st, nf, no, sampling);
	statsfmt_end(&s);
	return 0;
}

CTL_COMMAND(stats, true, .summary = "meter and exporter counters",
	    .doc = "The meters' sampling rate (N of 1-in-N sampling, 1: every "
		   "packet) and counters (packets, non_ip, malformed, "
		   "fragments, overflow...: every packet, sampled or not) and "
		   "the map fill, and when "
		   "flowagent runs, of its cache and of each collector "
		   "(messages, records, send errors, records not sent).");
