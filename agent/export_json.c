/* export_json.c - a collector that is a file: one JSON object per flow
 * record per line, keyed by IANA names exactly as `flowctl collect --json`
 * prints them (the record is encoded with the collector's template and
 * rendered by ipfix_format.c). SIGHUP reopens the file for logrotate.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ipfix_decode.h"
#include "log.h"
#include "output.h"

#define JSON_LINE_MAX (64 * 1024)

/* pending: lines written since the last successful flush (lost, and
 * counted not sent, if it fails), with their packets and octets.
 */
struct fe_output {
	const struct fe_collector_cfg *cc;
	const struct ipfix_template *tmpl; /* [0] IPv4, [1] IPv6 */
	FILE *f;
	uint64_t lines, bytes, errors, not_sent, not_sent_packets,
		not_sent_octets;
	uint64_t pending, pending_bytes, pending_packets, pending_octets;
	uint8_t rec[65536];
	char line[JSON_LINE_MAX];
	struct ipfix_dec_record dec;
};

static FILE *json_fopen(const struct fe_output *o)
{
	FILE *f;

	if (!strcmp(o->cc->path, "-"))
		return stdout;
	/* append: a restart must not truncate what was written */
	f = fopen(o->cc->path, "ae");
	if (!f)
		pr_warn("collector %s: open %s: %s\n", o->cc->name, o->cc->path,
			strerror(errno));
	return f;
}

/* Hands the buffered lines to the file; counts them lost on failure. */
static void json_flush(struct fe_output *o)
{
	if (!o->f || !o->pending)
		return;
	if (fflush(o->f) == 0) {
		o->lines += o->pending;
		o->bytes += o->pending_bytes;
	} else {
		pr_warn("collector %s: write %s: %s (%llu records lost)\n",
			o->cc->name, o->cc->path, strerror(errno),
			(unsigned long long)o->pending);
		clearerr(o->f);
		o->errors++;
		o->not_sent += o->pending;
		o->not_sent_packets += o->pending_packets;
		o->not_sent_octets += o->pending_octets;
	}
	o->pending = o->pending_bytes = 0;
	o->pending_packets = o->pending_octets = 0;
}

static struct fe_output *json_open(const struct fe_output_args *a)
{
	struct fe_output *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->cc = a->cc;
	o->tmpl = a->tmpl;
	o->f = json_fopen(o);
	if (!o->f) {
		int err = errno;

		free(o);
		errno = err;
		return NULL;
	}
	pr_info("collector %s: JSON lines to %s, %s records\n", o->cc->name,
		strcmp(o->cc->path, "-") ? o->cc->path : "standard output",
		o->cc->biflow ? "biflow" : "uniflow");
	return o;
}

static void json_close(struct fe_output *o)
{
	if (!o)
		return;
	json_flush(o);
	if (o->f && o->f != stdout)
		fclose(o->f);
	free(o);
}

/* The record as a decoder would see it after receiving it with t. */
static void json_decoded(struct fe_output *o, const struct ipfix_template *t,
			 const struct fe_record *r, uint32_t now_s)
{
	struct ipfix_dec_record *d = &o->dec;
	uint8_t *p = o->rec;

	d->domain = o->cc->observation_domain;
	d->export_time = now_s;
	d->template_id = t->id;
	d->nvalues = t->nfields;
	for (int i = 0; i < t->nfields; i++) {
		ipfix_encode_field(p, &t->f[i], r, d->domain);
		d->v[i] = (struct ipfix_dec_value){ .id = t->f[i].id,
						    .len = t->f[i].len,
						    .pen = t->f[i].pen,
						    .data = p };
		p += t->f[i].len;
	}
}

static void json_record(struct fe_output *o, const struct fe_record *r,
			uint32_t now_s)
{
	int n;

	json_decoded(o, &o->tmpl[r->family == 6], r, now_s);
	n = ipfix_format_json(&o->dec, o->line, sizeof(o->line));
	if (n < 0 || !o->f || fprintf(o->f, "%s\n", o->line) < 0) {
		o->errors++;
		o->not_sent++;
		o->not_sent_packets += r->fwd.packets + r->rev.packets;
		o->not_sent_octets += r->fwd.octets + r->rev.octets;
		return;
	}
	o->pending++;
	o->pending_bytes += n + 1;
	o->pending_packets += r->fwd.packets + r->rev.packets;
	o->pending_octets += r->fwd.octets + r->rev.octets;
}

static void json_tick(struct fe_output *o, uint32_t now_s)
{
	json_flush(o);
}

/* logrotate renamed the file: what was written stays in the renamed one,
 * what follows goes to a new file at path. When the new one cannot be
 * opened, the old one is kept.
 */
static void json_reopen(struct fe_output *o)
{
	FILE *f;

	if (o->f == stdout)
		return;
	json_flush(o);
	f = json_fopen(o);
	if (!f)
		return;
	if (o->f)
		fclose(o->f);
	o->f = f;
	pr_info("collector %s: reopened %s\n", o->cc->name, o->cc->path);
}

static void json_stats(const struct fe_output *o, struct exporter_stats *s)
{
	s->kind = "json";
	s->messages = o->lines;
	s->records = o->lines;
	s->octets = o->bytes;
	s->send_errors = o->errors;
	s->not_sent = o->not_sent;
	s->not_sent_packets = o->not_sent_packets;
	s->not_sent_octets = o->not_sent_octets;
	s->queued_octets = o->pending_bytes;
	s->up = o->f != NULL;
}

const struct fe_output_ops fe_output_json = {
	.open = json_open,
	.record = json_record,
	.tick = json_tick,
	.reopen = json_reopen,
	.stats = json_stats,
	.close = json_close,
};
