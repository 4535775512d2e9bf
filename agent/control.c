/* control.c - flowagent's answers to flowctl over the control socket:
 * dump (rows from the flow cache), stats, flush.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "control.h"
#include "ctlsock.h"
#include "dumpfmt.h"
#include "filter.h"
#include "log.h"
#include "statsfmt.h"

struct rows {
	struct dump_row *r;
	size_t n, cap;
	bool by_if;
	const struct fe_filter *f;
};

static struct dump_row *row_new(struct rows *rs)
{
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 256;
		struct dump_row *r = realloc(rs->r, cap * sizeof(*r));

		if (!r)
			return NULL;
		rs->r = r;
		rs->cap = cap;
	}
	memset(&rs->r[rs->n], 0, sizeof(rs->r[0]));
	return &rs->r[rs->n++];
}

/* One row per direction (summary) or per direction and path (by_if), with
 * the lifetime totals of the conversation.
 */
static void conv_rows(void *ctx, const struct fe_conv *c)
{
	struct rows *rs = ctx;

	for (int d = 0; d < 2; d++) {
		const struct fe_conv_dir *cd = &c->dir[d];
		struct dump_row base = { 0 }, *sum = NULL;

		if (!cd->seen)
			continue;
		base.family = c->family;
		base.proto = c->proto;
		base.flags = c->kflags;
		base.vlan = c->vlan;
		memcpy(base.src, c->addr[d], 16);
		memcpy(base.dst, c->addr[!d], 16);
		base.sport = c->port[d];
		base.dport = c->port[!d];
		if (FE_PROTO_IS_ICMP(c->proto)) {
			base.sport = 0;
			base.dport = cd->icmp_type_code;
		}
		if (c->kflags & FE_KEY_OVERFLOW) {
			base.ifindex = c->ovf_if;
			base.in_ifindex = c->ovf_in_if;
		}
		for (int p = 0; p < cd->npaths; p++) {
			const struct fe_path *pa = &cd->paths[p];
			uint64_t pk = fe_path_life_packets(pa);

			if (!pk)
				continue;
			if (rs->f &&
			    !fe_filter_match_flags(
				    rs->f,
				    pa->flow_dir ? pa->out_if : pa->in_if,
				    pa->in_if, base.family, base.proto,
				    base.src, base.dst, base.sport, base.dport,
				    c->kflags))
				continue;
			if (rs->by_if || !sum) {
				sum = row_new(rs);
				if (!sum)
					return;
				*sum = base;
				sum->dir =
					rs->by_if ? pa->flow_dir : DUMP_DIR_ALL;
				if (rs->by_if) {
					sum->ifindex = pa->flow_dir ? pa->out_if
								    : pa->in_if;
					sum->in_ifindex = pa->in_if;
				}
				sum->first_ns = pa->first_ms * 1000000;
			}
			sum->packets += pk;
			sum->bytes += pa->total_octets + fe_pos(pa->octets);
			sum->tcp_flags |= pa->tcp_flags;
			if (pa->first_ms * 1000000 < sum->first_ns)
				sum->first_ns = pa->first_ms * 1000000;
			if (pa->last_ms * 1000000 > sum->last_ns)
				sum->last_ns = pa->last_ms * 1000000;
		}
	}
}

static void do_dump(struct agent *a, FILE *out, bool by_if, bool json,
		    const struct fe_filter *f)
{
	struct rows rs = { .by_if = by_if, .f = fe_filter_empty(f) ? NULL : f };

	agent__drain(a); /* include what the kernel holds right now */
	flowcache__foreach(a->fc, conv_rows, &rs);
	dump_sort(rs.r, rs.n);
	fputs("OK\n", out);
	dump_print(out, rs.r, rs.n, by_if, json);
	free(rs.r);
}

static bool conv_match(void *ctx, const struct fe_conv *c)
{
	return fe_filter_match_conv(ctx, c);
}

static void do_flush(struct agent *a, FILE *out, const struct fe_filter *f)
{
	size_t n = agent__flush(a, f->all ? NULL : conv_match, (void *)f);

	fprintf(out, "OK\nflushed %zu flows (exported as forced end)\n", n);
	pr_info("control: flushed %zu flows\n", n);
}

static void do_stats(struct agent *a, FILE *out, bool json)
{
	struct flowcache_stats cs;
	__u64 st[FE_STAT_MAX] = { 0 };
	unsigned int nf = 0, no = 0;
	struct statsfmt s;

	meter__stats(a->m, st);
	meter__count(a->m, &nf, &no);
	flowcache__stats(a->fc, &cs);
	const struct stats_counter agent[] = {
		{ "ticks", a->ticks },
		{ "drained_entries", a->drained },
		{ "drain_errors", a->drain_errors },
		{ "early_drains", a->early_drains },
		{ "overflow_dup_packets", a->overflow_dup },
		{ "cache_flows", cs.flows },
		{ "cache_created", cs.created },
		{ "exported_idle", cs.exported[1] },
		{ "exported_active", cs.exported[2] },
		{ "exported_end", cs.exported[3] },
		{ "exported_forced", cs.exported[4] },
		{ "exported_resources", cs.exported[5] },
		{ "dedup_packets", cs.dedup_packets },
		{ "dedup_clamped_packets", cs.dedup_clamped_packets },
	};
	fputs("OK\n", out);
	statsfmt_begin(&s, out, json, true);
	statsfmt_heading(&s, "meter (%s)", a->cfg.pin_path);
	statsfmt_meter(&s, st, nf, no);
	statsfmt_heading(&s, "agent");
	statsfmt_counters(&s, agent, sizeof(agent) / sizeof(agent[0]));
	statsfmt_list_begin(&s, "collectors");
	for (int i = 0; i < a->nexp; i++) {
		statsfmt_list_item(&s);
		exporter__print_stats(a->exp[i], out, json);
	}
	statsfmt_list_end(&s);
	statsfmt_end(&s);
}

void control_handle(struct agent *a, int fd, const char *line)
{
	char buf[1024], *words[64], *save = NULL, *w;
	char err[256];
	struct fe_filter f;
	int n = 0;
	char *reply = NULL;
	size_t rlen = 0;
	/* the reply is built in memory and sent with a deadline: a client
	 * that does not read it cannot hold the agent
	 */
	FILE *out = open_memstream(&reply, &rlen);

	if (!out) {
		close(fd);
		return;
	}
	snprintf(buf, sizeof(buf), "%s", line);
	for (w = strtok_r(buf, " ", &save); w && n < 64;
	     w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	if (n < 2) {
		fprintf(out, "ERR malformed request\n");
		goto out;
	}
	if (strcmp(words[1], a->cfg.pin_path)) {
		fprintf(out, "ERR other-pin %s\n", a->cfg.pin_path);
		goto out;
	}
	bool by_if = false, json = false;
	int first = 2;
	while (first < n && (!strcmp(words[first], "by_ifindex") ||
			     !strcmp(words[first], "json"))) {
		by_if |= words[first][0] == 'b';
		json |= words[first][0] == 'j';
		first++;
	}
	/* filter words name interfaces by index: parsed here unchanged */
	if (fe_filter_parse(n - first, words + first, &f, err, sizeof(err))) {
		fprintf(out, "ERR %s\n", err);
		goto out;
	}
	if (!strcmp(words[0], "dump"))
		do_dump(a, out, by_if, json, &f);
	else if (!strcmp(words[0], "stats"))
		do_stats(a, out, json);
	else if (!strcmp(words[0], "flush"))
		do_flush(a, out, &f);
	else
		fprintf(out, "ERR unknown request '%s'\n", words[0]);
out:
	fclose(out);
	ctlsock_reply(fd, reply, rlen);
	free(reply);
}
