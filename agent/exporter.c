/* exporter.c - a collector: its template's family variants, the records of
 * each expired conversation in the shape it wants, handed to its output
 * (output.h), and the counters `flowctl stats` prints.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "exporter.h"
#include "json.h"
#include "ipfix.h"
#include "log.h"
#include "output.h"
#include "records.h"

#define MAX_RECS (2 * FE_CONV_MAX_PATHS + 2)

struct exporter {
	struct fe_collector_cfg cc;
	struct fe_template_cfg tc; /* copy of the collector's template */
	bool has_tc;
	struct ipfix_template tmpl[2]; /* [0] IPv4, [1] IPv6 */
	const struct fe_output_ops *ops;
	struct fe_output *out;
	uint64_t by_reason[8];
	struct fe_record recs[MAX_RECS];
};

const char *exporter__name(const struct exporter *e)
{
	return e->cc.name;
}

static int build_templates(struct exporter *e, const struct fe_config *cfg)
{
	const uint16_t *ies;
	char err[256];
	int n, id;

	if (e->cc.tmpl >= 0) {
		e->tc = cfg->tmpl[e->cc.tmpl];
		e->has_tc = true;
		ies = e->tc.ies;
		n = e->tc.nies;
		id = e->tc.id;
	} else {
		ies = ipfix_default_fields(&n);
		id = 1024;
	}
	for (int f = 0; f < 2; f++) {
		if (ipfix_template_build(&e->tmpl[f], id + f, f ? 6 : 4,
					 e->cc.biflow, ies, n, err,
					 sizeof(err))) {
			pr_warn("collector %s: template %d: %s\n", e->cc.name,
				id + f, err);
			return -EINVAL;
		}
	}
	return 0;
}

struct exporter *exporter__new(const struct fe_config *cfg, int idx,
			       int host_ns, int meter_ns)
{
	struct exporter *e = calloc(1, sizeof(*e));
	struct fe_output_args oa;
	int err;

	if (!e)
		return NULL;
	e->cc = cfg->coll[idx];
	e->ops = e->cc.format == FE_FORMAT_JSON ? &fe_output_json
						: &fe_output_net;
	err = build_templates(e, cfg);
	if (err)
		goto fail;
	oa = (struct fe_output_args){ .cc = &e->cc,
				      .tmpl = e->tmpl,
				      .host_ns = host_ns,
				      .meter_ns = meter_ns,
				      .sampling = cfg->sampling };
	e->out = e->ops->open(&oa);
	if (!e->out) {
		err = -errno;
		goto fail;
	}
	return e;
fail:
	exporter__free(e);
	errno = -err;
	return NULL;
}

void exporter__free(struct exporter *e)
{
	if (!e)
		return;
	if (e->out)
		e->ops->close(e->out);
	free(e);
}

/* What a collector's socket or file, sequence and templates depend on (not
 * the section's line: a comment added above it must not reset it).
 */
int exporter__differs(const struct exporter *e, const struct fe_config *cfg,
		      int idx)
{
	const struct fe_collector_cfg *a = &e->cc, *b = &cfg->coll[idx];
	const struct fe_template_cfg *t =
		b->tmpl >= 0 ? &cfg->tmpl[b->tmpl] : NULL;

	/* the address as written: a name is resolved by the output */
	if (a->format != b->format || a->version != b->version ||
	    strcmp(a->path, b->path) || strcmp(a->address, b->address) ||
	    a->queue_size != b->queue_size || a->transport != b->transport ||
	    a->biflow != b->biflow || a->split_links != b->split_links ||
	    a->mtu != b->mtu || a->template_refresh != b->template_refresh ||
	    a->observation_domain != b->observation_domain ||
	    strcmp(a->name, b->name))
		return 1;
	if (!t != !e->has_tc)
		return 1;
	return t && (t->id != e->tc.id || t->nies != e->tc.nies ||
		     memcmp(t->ies, e->tc.ies, t->nies * sizeof(t->ies[0])));
}

void exporter__conv(struct exporter *e, const struct fe_conv *c,
		    uint8_t end_reason, uint32_t now_s)
{
	int n = fe_conv_records(
		c, e->cc.biflow ? FE_REC_BIFLOW : FE_REC_UNIFLOW,
		e->cc.split_links, end_reason, e->recs, MAX_RECS);

	if (n > MAX_RECS)
		n = MAX_RECS;
	for (int i = 0; i < n; i++)
		e->ops->record(e->out, &e->recs[i], now_s);
	e->by_reason[end_reason & 7] += n > 0 ? n : 0;
}

void exporter__tick(struct exporter *e, uint32_t now_s)
{
	e->ops->tick(e->out, now_s);
}

int exporter__pollfd(const struct exporter *e, struct pollfd *p)
{
	return e->ops->pollfd(e->out, p);
}

void exporter__on_writable(struct exporter *e, short revents)
{
	e->ops->writable(e->out, revents);
}

size_t exporter__pending(const struct exporter *e)
{
	return e->ops->pending(e->out);
}

void exporter__finish(struct exporter *e)
{
	e->ops->finish(e->out);
}

void exporter__reopen(struct exporter *e)
{
	e->ops->reopen(e->out);
}

static const char *exporter_target(const struct exporter *e)
{
	return e->cc.format == FE_FORMAT_JSON ? e->cc.path : e->cc.address;
}

static const char *exporter_transport(const struct exporter *e)
{
	return e->cc.format == FE_FORMAT_JSON
		       ? "file"
		       : fe_transport_name(e->cc.transport);
}

void exporter__stats(const struct exporter *e, struct exporter_stats *s)
{
	memset(s, 0, sizeof(*s));
	e->ops->stats(e->out, s);
	s->name = e->cc.name;
	s->target = exporter_target(e);
	s->transport = exporter_transport(e);
	s->biflow = e->cc.biflow;
	memcpy(s->by_reason, e->by_reason, sizeof(s->by_reason));
}

void exporter__print_stats(const struct exporter *e, FILE *out, bool json)
{
	const char *tr = exporter_transport(e);
	struct exporter_stats s;

	exporter__stats(e, &s);
	const struct {
		const char *name;
		uint64_t v;
	} c[] = {
		{ "messages", s.messages },
		{ "records", s.records },
		{ "options_records", s.options },
		{ "template_records", s.templates },
		{ "octets", s.octets },
		{ "send_errors", s.send_errors },
		{ "records_not_sent", s.not_sent },
		{ "packets_not_sent", s.not_sent_packets },
		{ "octets_not_sent", s.not_sent_octets },
		{ "queue_full_drops", s.queue_drops },
		{ "queued_octets", s.queued_octets },
		{ "queue_size", s.queue_size },
		{ "sessions", s.sessions },
		{ "sequence", s.sequence },
	};
	/* unresolved: the name is looked up again with backoff */
	const char *state = !s.resolved ? "unresolved" : s.up ? "up" : "down";

	if (json) {
		/* names and file paths are the user's text: escaped */
		fputs("{\"name\":", out);
		json_fputs(out, e->cc.name);
		fprintf(out, ",\"format\":\"%s\",\"address\":", s.kind);
		json_fputs(out, exporter_target(e));
		fprintf(out, ",\"transport\":\"%s\",\"state\":\"%s\"", tr,
			state);
	} else {
		fprintf(out, "collector %s (%s, %s, %s, %s)\n", e->cc.name,
			exporter_target(e), s.kind, tr,
			e->cc.biflow ? "biflow" : "uniflow");
		fprintf(out, "  %-22s %s\n", "state", state);
	}
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		if (json)
			fprintf(out, ",\"%s\":%llu", c[i].name,
				(unsigned long long)c[i].v);
		else
			fprintf(out, "  %-22s %llu\n", c[i].name,
				(unsigned long long)c[i].v);
	}
	if (json)
		fputc('}', out);
}
