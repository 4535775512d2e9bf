/* statsfmt.c - the counters of `flowctl stats` as text or JSON. */
#include <stdarg.h>
#include "statsfmt.h"

static const char *const statsfmt_meter_names[] = FE_STAT_NAMES;

void statsfmt_begin(struct statsfmt *s, FILE *out, bool json, bool agent)
{
	s->out = out;
	s->json = json;
	s->items = 0;
	if (json)
		fprintf(out, "{\"agent\":%s", agent ? "true" : "false");
}

void statsfmt_heading(struct statsfmt *s, const char *fmt, ...)
{
	va_list ap;

	if (s->json)
		return;
	va_start(ap, fmt);
	vfprintf(s->out, fmt, ap);
	va_end(ap);
	fputc('\n', s->out);
}

static void statsfmt_u64(struct statsfmt *s, const char *prefix,
			 const char *name, uint64_t v)
{
	if (s->json)
		fprintf(s->out, ",\"%s%s\":%llu", prefix, name,
			(unsigned long long)v);
	else
		fprintf(s->out, "  %-22s %llu\n", name, (unsigned long long)v);
}

void statsfmt_meter(struct statsfmt *s, const __u64 st[FE_STAT_MAX],
		    unsigned int map_flows, unsigned int map_overflow,
		    unsigned int sampling)
{
	/* first: it says how the flow entries relate to the counters */
	statsfmt_u64(s, "", "sampling", sampling);
	for (int i = 0; i < FE_STAT_MAX; i++)
		statsfmt_u64(s, "meter_", statsfmt_meter_names[i], st[i]);
	statsfmt_u64(s, "", "map_flows", map_flows);
	statsfmt_u64(s, "", "map_overflow_entries", map_overflow);
}

void statsfmt_counters(struct statsfmt *s, const struct stats_counter *c, int n)
{
	for (int i = 0; i < n; i++)
		statsfmt_u64(s, "", c[i].name, c[i].value);
}

void statsfmt_list_begin(struct statsfmt *s, const char *name)
{
	s->items = 0;
	if (s->json)
		fprintf(s->out, ",\"%s\":[", name);
}

void statsfmt_list_item(struct statsfmt *s)
{
	if (s->json && s->items)
		fputc(',', s->out);
	s->items++;
}

void statsfmt_list_end(struct statsfmt *s)
{
	if (s->json)
		fputc(']', s->out);
}

void statsfmt_end(struct statsfmt *s)
{
	if (s->json)
		fputs("}\n", s->out);
}
