/* metrics_text.c - a metrics snapshot as Prometheus text (see
 * metrics_text.h); docs/metrics.md lists the series and their sources.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include "metrics_text.h"

#define NELEMS(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const char *const meter_names[] = FE_STAT_NAMES;
_Static_assert(NELEMS(meter_names) == FE_STAT_MAX, "a name per fe_stat");

/* A counter the meters gain without a line here still gets a series, with
 * a generic HELP.
 */
static const char *const meter_help[FE_STAT_MAX] = {
	[FE_STAT_PACKETS] = "Packets the meters saw, at every hook (a packet "
			    "metered at ingress and egress counts twice; a "
			    "GSO packet counts as its segments).",
	[FE_STAT_NON_IP] = "Frames that are not IPv4 or IPv6: in no flow.",
	[FE_STAT_MALFORMED] = "IP packets with a bad or truncated header.",
	[FE_STAT_FRAGMENTS] = "IP fragments, first and later.",
	[FE_STAT_OVERFLOW] = "Packets counted in an overflow entry because the "
			     "flow map was full.",
	[FE_STAT_OVF_LOST] = "Packets counted nowhere else because the "
			     "overflow map was full too.",
	[FE_STAT_IPV4] = "IPv4 packets.",
	[FE_STAT_IPV6] = "IPv6 packets.",
	[FE_STAT_GSO] = "GSO packets (each counted as its segments in "
			"flowexp_meter_packets_total).",
};

/* flowEndReason (IE 136) values as IANA names them, by FE_END_*. */
static const char *const end_names[FE_END_MAX] = {
	[FE_END_IDLE] = "idleTimeout",
	[FE_END_ACTIVE] = "activeTimeout",
	[FE_END_EOF] = "endOfFlowDetected",
	[FE_END_FORCED] = "forcedEnd",
	[FE_END_RESOURCES] = "lackOfResources",
};

/* One series without labels. */
struct scalar {
	const char *name, *type, *help;
	uint64_t v;
};

/* One series per collector; its value is read by coll_values(). */
struct coll_family {
	const char *name, *type, *help;
};

static const struct coll_family coll_families[] = {
	{ "flowexp_collector_up", "gauge",
	  "1 while the collector's UDP socket is open or its TCP session up "
	  "(0 while its name does not resolve)." },
	{ "flowexp_collector_messages_total", "counter",
	  "IPFIX messages sent to the collector." },
	{ "flowexp_collector_records_total", "counter",
	  "Flow records sent to the collector (or written, for JSON lines)." },
	{ "flowexp_collector_options_records_total", "counter",
	  "Options data records sent to the collector (link names, "
	  "exporter statistics)." },
	{ "flowexp_collector_template_records_total", "counter",
	  "Template records sent to the collector." },
	{ "flowexp_collector_sent_bytes_total", "counter",
	  "Octets of the IPFIX messages sent to the collector." },
	{ "flowexp_collector_send_errors_total", "counter",
	  "Sends the transport refused (metering goes on)." },
	{ "flowexp_collector_records_not_sent_total", "counter",
	  "Flow records dropped: the send queue was full, or the transport "
	  "refused their message (notSentFlowTotalCount)." },
	{ "flowexp_collector_queue_bytes", "gauge",
	  "Octets in the collector's send queue (queue_size), not sent yet." },
};
#define NCOLL_FAMILIES NELEMS(coll_families)

static void coll_values(const struct exporter_stats *c,
			uint64_t v[NCOLL_FAMILIES])
{
	const uint64_t vals[] = {
		c->up,		c->messages,  c->records,
		c->options,	c->templates, c->octets,
		c->send_errors, c->not_sent,  c->queued_octets,
	};
	_Static_assert(NELEMS(vals) == NCOLL_FAMILIES, "a value per family");

	memcpy(v, vals, sizeof(vals));
}

/* HELP text escapes backslash and newline; label values the quote too. */
static void put_escaped(FILE *f, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (quote && *s == '"')
			fputs("\\\"", f);
		else
			fputc(*s, f);
	}
}

void metrics_text_label(FILE *f, const char *v)
{
	put_escaped(f, v, true);
}

static void family(FILE *f, const char *name, const char *type,
		   const char *help)
{
	fprintf(f, "# HELP %s ", name);
	put_escaped(f, help, false);
	fprintf(f, "\n# TYPE %s %s\n", name, type);
}

/* name{k0="v0",k1="v1"} v; kv holds nkv name/value pairs. */
static void sample(FILE *f, const char *name, const char *const *kv, int nkv,
		   uint64_t v)
{
	fputs(name, f);
	for (int i = 0; i < nkv; i++) {
		fprintf(f, "%c%s=\"", i ? ',' : '{', kv[2 * i]);
		metrics_text_label(f, kv[2 * i + 1]);
		fputc('"', f);
	}
	fprintf(f, "%s %" PRIu64 "\n", nkv ? "}" : "", v);
}

static void scalars(FILE *f, const struct scalar *s, int n)
{
	for (int i = 0; i < n; i++) {
		family(f, s[i].name, s[i].type, s[i].help);
		sample(f, s[i].name, NULL, 0, s[i].v);
	}
}

/* ns as decimal seconds, exactly (no float rounding): 50000 -> 0.00005. */
static const char *seconds(char *buf, size_t len, uint64_t ns)
{
	char *e;

	snprintf(buf, len, "%" PRIu64 ".%09" PRIu64, ns / 1000000000,
		 ns % 1000000000);
	e = buf + strlen(buf) - 1;
	while (*e == '0')
		*e-- = '\0';
	if (*e == '.')
		*e = '\0';
	return buf;
}

static void write_meter(FILE *f, const struct metrics_snapshot *s)
{
	char name[96];

	for (int i = 0; s->meter_ok && i < FE_STAT_MAX; i++) {
		snprintf(name, sizeof(name), "flowexp_meter_%s_total",
			 meter_names[i]);
		family(f, name, "counter",
		       meter_help[i] ? meter_help[i]
				     : "A counter of the meters (fe_stats).");
		sample(f, name, NULL, 0, s->meter[i]);
	}
	family(f, "flowexp_map_entries", "gauge",
	       "Entries the last tick drained from the kernel's flow and "
	       "overflow maps: their fill when they were swapped out.");
	sample(f, "flowexp_map_entries", NULL, 0, s->map_entries);
	family(f, "flowexp_map_capacity", "gauge",
	       "Entries the kernel's flow map holds (kernel_max_flows of the "
	       "pinned set).");
	sample(f, "flowexp_map_capacity", NULL, 0, s->map_capacity);
	family(f, "flowexp_sampling_interval", "gauge",
	       "N of the meters' 1-in-N packet sampling (1: every packet): "
	       "flow records count the selected packets, the meters' "
	       "counters every packet.");
	sample(f, "flowexp_sampling_interval", NULL, 0, s->sampling);
}

static void write_cache(FILE *f, const struct metrics_snapshot *s)
{
	const struct scalar sc[] = {
		{ "flowexp_cache_flows", "gauge",
		  "Conversations in the agent's flow cache.", s->cache.flows },
		{ "flowexp_cache_capacity", "gauge",
		  "Conversations the flow cache holds at most (max_flows).",
		  s->cache_capacity },
		{ "flowexp_cache_created_total", "counter",
		  "Conversations created in the flow cache.",
		  s->cache.created },
		{ "flowexp_cache_dedup_packets_total", "counter",
		  "Forwarded packets seen at two meters and counted once.",
		  s->cache.dedup_packets },
		{ "flowexp_cache_log_used_slots", "gauge",
		  "64-octet slots of the pinned export log holding exports "
		  "not yet known sent.",
		  s->cache.log_used },
		{ "flowexp_cache_log_dropped_total", "counter",
		  "Exports dropped from the full export log before they were "
		  "known sent (a crash then would lose them).",
		  s->cache.log_dropped },
	};
	const char *name = "flowexp_cache_exported_flows_total";

	scalars(f, sc, NELEMS(sc));
	family(f, name, "counter",
	       "Conversations handed to the collectors, by flowEndReason "
	       "(each becomes one or more records per collector).");
	for (int r = 1; r < FE_END_MAX; r++)
		sample(f, name, (const char *[]){ "reason", end_names[r] }, 1,
		       s->cache.exported[r]);
}

static void write_agent(FILE *f, const struct metrics_snapshot *s)
{
	const struct scalar sc[] = {
		{ "flowexp_agent_ticks_total", "counter",
		  "Poll ticks (drain, expiry, export).", s->ticks },
		{ "flowexp_agent_drained_entries_total", "counter",
		  "Kernel map entries drained.", s->drained },
		{ "flowexp_agent_drain_errors_total", "counter",
		  "Drains that failed.", s->drain_errors },
		{ "flowexp_agent_drain_store_failed_total", "counter",
		  "Drained kernel entries the flow cache had no room for "
		  "(lost).",
		  s->drain_store_failed },
		{ "flowexp_agent_restart_replayed_total", "counter",
		  "Conversations exported before a restart, not known sent, "
		  "sent again after it.",
		  s->restart_replayed },
		{ "flowexp_agent_restart_uncertain_sends_total", "counter",
		  "Collectors the dead agent was sending to: the messages of "
		  "that send may come twice.",
		  s->restart_uncertain },
		{ "flowexp_agent_restart_staged_entries_total", "counter",
		  "Kernel entries a dead agent had drained and its successor "
		  "applied.",
		  s->restart_staged },
		{ "flowexp_agent_early_drains_total", "counter",
		  "Ticks brought forward because the flow map overflowed.",
		  s->early_drains },
		{ "flowexp_agent_overflow_dup_packets_total", "counter",
		  "Egress overflow packets not counted again because an "
		  "ingress meter counted them.",
		  s->overflow_dup },
	};
	const char *name = "flowexp_drain_duration_seconds";
	const struct fe_hist *h = &s->drain_time;
	char le[32], sum[32];
	uint64_t cum = 0;

	scalars(f, sc, NELEMS(sc));
	family(f, name, "histogram",
	       "Time each tick spends draining the kernel maps into the flow "
	       "cache.");
	for (int i = 0; i <= FE_HIST_NBOUNDS; i++) {
		cum += h->bucket[i];
		if (i < FE_HIST_NBOUNDS)
			seconds(le, sizeof(le), fe_hist_bounds_ns[i]);
		else
			strcpy(le, "+Inf");
		sample(f, "flowexp_drain_duration_seconds_bucket",
		       (const char *[]){ "le", le }, 1, cum);
	}
	fprintf(f, "%s_sum %s\n%s_count %" PRIu64 "\n", name,
		seconds(sum, sizeof(sum), h->sum_ns), name, h->count);
}

static void write_collectors(FILE *f, const struct metrics_snapshot *s)
{
	uint64_t v[FE_MAX_COLLECTORS][NCOLL_FAMILIES];
	const char *name = "flowexp_collector_info";

	if (!s->ncoll)
		return;
	for (int c = 0; c < s->ncoll; c++)
		coll_values(&s->coll[c], v[c]);
	for (int i = 0; i < NCOLL_FAMILIES; i++) {
		const struct coll_family *fa = &coll_families[i];

		family(f, fa->name, fa->type, fa->help);
		for (int c = 0; c < s->ncoll; c++)
			sample(f, fa->name,
			       (const char *[]){ "collector", s->coll[c].name },
			       1, v[c][i]);
	}
	family(f, name, "gauge",
	       "1 per collector: its address as configured, transport and "
	       "record shape.");
	for (int c = 0; c < s->ncoll; c++) {
		const struct exporter_stats *e = &s->coll[c];
		const char *kv[] = {
			"collector", e->name,
			"address",   e->target,
			"transport", e->transport,
			"records",   e->biflow ? "biflow" : "uniflow",
		};

		sample(f, name, kv, NELEMS(kv) / 2, 1);
	}
}

int metrics_text_write(FILE *f, const struct metrics_snapshot *s)
{
	const char *info[] = { "pin_path", s->pin_path, "netns", s->netns };

	family(f, "flowexp_agent_info", "gauge",
	       "1: the agent's meter set (pin_path) and metered namespace.");
	sample(f, "flowexp_agent_info", info, 2, 1);
	write_meter(f, s);
	write_cache(f, s);
	write_agent(f, s);
	write_collectors(f, s);
	return ferror(f) ? -EIO : 0;
}
