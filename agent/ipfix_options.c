/* ipfix_options.c - the options templates of a network collector and the
 * encoding of their records: interface names scoped by ingressInterface,
 * the Exporting Process Reliability Statistics scoped by
 * exportingProcessId, and the sampling parameters scoped by
 * meteringProcessId.
 */
#include <string.h>
#include "ipfix_options.h"

#define OPT_IDS 3 /* iface, stats, sampling */

static void opt_add(struct ipfix_template *t, uint16_t id, uint16_t len)
{
	/* fixed, small templates: cannot overflow IPFIX_MAX_FIELDS */
	ipfix_template_add_field(t, id, len, 0);
}

/* The sampling record's fields, laid out for the collectors that read
 * them (nfdump 1.7 and akvorado read sampling from options records only):
 * - IPFIX: selectorAlgorithm 3 (random n-out-of-N) with its parameters
 *   samplingSize 1 and samplingPopulation N (RFC 5477 8.2.3), then the
 *   pairs other collectors compute N from: samplingInterval and
 *   samplerRandomInterval N (akvorado), samplingPacketInterval 1 and
 *   samplingPacketSpace N - 1 (akvorado, nfdump: (1 + (N-1)) / 1). nfdump
 *   1.7.1 reads 34, 50 and 306 into one slot, the last one in the record
 *   winning, so 306 comes last; it takes the template for a sampler only
 *   without samplingAlgorithm (35), so that is not sent.
 * - NetFlow v9 (RFC 3954): SAMPLING_INTERVAL N, SAMPLING_ALGORITHM 2
 *   (random), and FLOW_SAMPLER_RANDOM_INTERVAL N, without which nfdump
 *   1.7.1 takes a template of 34 and 35 for no sampler at all.
 * No selectorId/samplerId: both collectors then apply the rate to every
 * record of the observation domain, whose records carry no selector id.
 */
static void opt_sampling_init(struct ipfix_template *t, bool nfv9)
{
	t->scope = 1;
	opt_add(t, 143, 4); /* meteringProcessId */
	opt_add(t, 34, 4);  /* samplingInterval */
	if (nfv9) {
		opt_add(t, 35, 1); /* samplingAlgorithm */
		opt_add(t, 50, 4); /* samplerRandomInterval */
		return;
	}
	opt_add(t, 50, 4);  /* samplerRandomInterval */
	opt_add(t, 304, 2); /* selectorAlgorithm */
	opt_add(t, 309, 4); /* samplingSize */
	opt_add(t, 310, 4); /* samplingPopulation */
	opt_add(t, 305, 4); /* samplingPacketInterval */
	opt_add(t, 306, 4); /* samplingPacketSpace */
}

void fe_options_init(struct fe_options *o, uint16_t data_id,
		     unsigned int sampling, bool nfv9)
{
	uint16_t base = IPFIX_MIN_TEMPLATE_ID;

	/* the data templates take data_id and data_id + 1 */
	if (data_id + 1 >= base && data_id < base + OPT_IDS)
		base = data_id + 2;
	memset(o, 0, sizeof(*o));
	o->iface.id = base;
	o->iface.scope = 1;
	opt_add(&o->iface, 10, 4); /* ingressInterface */
	opt_add(&o->iface, 82, FE_OPT_IFNAME_LEN);
	opt_add(&o->iface, 83, FE_OPT_IFDESC_LEN);
	o->stats.id = base + 1;
	o->stats.scope = 1;
	opt_add(&o->stats, 144, 4); /* exportingProcessId */
	opt_add(&o->stats, 41, 8);  /* exportedMessageTotalCount */
	opt_add(&o->stats, 42, 8);  /* exportedFlowRecordTotalCount */
	opt_add(&o->stats, 40, 8);  /* exportedOctetTotalCount */
	opt_add(&o->stats, 166, 8); /* notSentFlowTotalCount */
	opt_add(&o->stats, 167, 8); /* notSentPacketTotalCount */
	opt_add(&o->stats, 168, 8); /* notSentOctetTotalCount */
	o->sampling.id = base + 2;
	o->rate = sampling > 1 ? sampling : 1;
	o->nfv9 = nfv9;
	if (o->rate > 1)
		opt_sampling_init(&o->sampling, nfv9);
}

int fe_options_templates(const struct fe_options *o,
			 const struct ipfix_template **t)
{
	int n = 0;

	t[n++] = &o->iface;
	t[n++] = &o->stats;
	if (o->sampling.nfields)
		t[n++] = &o->sampling;
	return n;
}

static uint8_t *opt_put(uint8_t *p, uint64_t v, int len)
{
	for (int i = len - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
	return p + len;
}

/* A string in a fixed field, zero-padded, cut before a UTF-8
 * continuation octet so that what is left stays valid UTF-8.
 */
static uint8_t *opt_string(uint8_t *p, const char *s, size_t len)
{
	size_t n = strnlen(s, len);

	if (n == len && s[n])
		while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	memset(p, 0, len);
	memcpy(p, s, n);
	return p + len;
}

void fe_options_iface_record(const struct fe_options *o, uint8_t *rec,
			     const struct fe_link *l)
{
	uint8_t *p = opt_put(rec, l->ifindex, 4);

	p = opt_string(p, l->name, FE_OPT_IFNAME_LEN);
	opt_string(p, l->alias, FE_OPT_IFDESC_LEN);
}

void fe_options_stats_record(const struct fe_options *o, uint8_t *rec,
			     uint32_t process_id,
			     const struct ipfix_writer_stats *s)
{
	uint8_t *p = opt_put(rec, process_id, 4);

	p = opt_put(p, s->messages, 8);
	p = opt_put(p, s->records, 8);
	p = opt_put(p, s->octets, 8);
	p = opt_put(p, s->not_sent, 8);
	p = opt_put(p, s->not_sent_packets, 8);
	opt_put(p, s->not_sent_octets, 8);
}

bool fe_options_sampling_record(const struct fe_options *o, uint8_t *rec,
				uint32_t process_id)
{
	uint8_t *p;

	if (!o->sampling.nfields)
		return false;
	p = opt_put(rec, process_id, 4);
	p = opt_put(p, o->rate, 4);
	if (o->nfv9) {
		p = opt_put(p, FE_OPT_NFV9_RANDOM, 1);
		opt_put(p, o->rate, 4);
		return true;
	}
	p = opt_put(p, o->rate, 4);
	p = opt_put(p, FE_OPT_SELECTOR_RANDOM_N_OF_N, 2);
	p = opt_put(p, 1, 4);
	p = opt_put(p, o->rate, 4);
	p = opt_put(p, 1, 4);
	opt_put(p, o->rate - 1, 4);
	return true;
}
