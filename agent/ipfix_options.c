/* ipfix_options.c - the options templates of a network collector and the
 * encoding of their records: interface names scoped by ingressInterface,
 * the Exporting Process Reliability Statistics scoped by
 * exportingProcessId, and the (still empty) sampling hook.
 */
#include <string.h>
#include "ipfix_options.h"

#define OPT_IDS 3 /* iface, stats, sampling */

static void opt_add(struct ipfix_template *t, uint16_t id, uint16_t len)
{
	/* fixed, small templates: cannot overflow IPFIX_MAX_FIELDS */
	ipfix_template_add_field(t, id, len, 0);
}

void fe_options_init(struct fe_options *o, uint16_t data_id,
		     unsigned int sampling)
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
	/* sampling > 1 (item 2) adds its template here; none until then */
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
				unsigned int sampling)
{
	return sampling > 1 && o->sampling.nfields;
}
