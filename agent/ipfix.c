/* ipfix.c - the IPFIX encoder: family/biflow template derivation, record
 * encoding from struct fe_record, IPFIX's wire format, and the MTU-bounded
 * message writer (of IPFIX or NetFlow v9 messages: struct ipfix_wire).
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ie.h"
#include "ipfix.h"

static const uint16_t ipfix_defaults[] = {
	152, /* flowStartMilliseconds: nfdump reads only 152/153 as times */
	153, /* flowEndMilliseconds */
	1,   /* octetDeltaCount */
	2,   /* packetDeltaCount */
	8,   /* sourceIPv4Address (sourceIPv6Address in IPv6) */
	12,  /* destinationIPv4Address */
	7,   /* sourceTransportPort */
	11,  /* destinationTransportPort */
	4,   /* protocolIdentifier */
	6,   /* tcpControlBits */
	5,   /* ipClassOfService */
	60,  /* ipVersion */
	61,  /* flowDirection */
	10,  /* ingressInterface */
	14,  /* egressInterface */
	32,  /* icmpTypeCodeIPv4 */
	58,  /* vlanId */
	52,  /* minimumTTL */
	53,  /* maximumTTL */
	136, /* flowEndReason */
};

const uint16_t *ipfix_default_fields(int *n)
{
	*n = sizeof(ipfix_defaults) / sizeof(ipfix_defaults[0]);
	return ipfix_defaults;
}

int ipfix_template_add_field(struct ipfix_template *t, uint16_t id,
			     uint16_t len, uint32_t pen)
{
	if (t->nfields >= IPFIX_MAX_FIELDS || !len || len == IE_VARLEN ||
	    id & 0x8000)
		return -EINVAL;
	if ((uint32_t)t->rec_len + len >
	    65535 - IPFIX_MSG_HDR_LEN - IPFIX_SET_HDR_LEN)
		return -E2BIG;
	t->f[t->nfields].id = id;
	t->f[t->nfields].len = len;
	t->f[t->nfields].pen = pen;
	t->nfields++;
	t->rec_len += len;
	return 0;
}

static bool ipfix_template_has(const struct ipfix_template *t, uint16_t id,
			       uint32_t pen)
{
	int i;

	for (i = 0; i < t->nfields; i++)
		if (t->f[i].id == id && t->f[i].pen == pen)
			return true;
	return false;
}

int ipfix_template_build(struct ipfix_template *t, uint16_t id, int family,
			 bool biflow, const uint16_t *ies, int nies, char *err,
			 size_t errlen)
{
	const struct ie_def *d;
	uint16_t fid;
	int i, ret;

	memset(t, 0, sizeof(*t));
	if (id < IPFIX_MIN_TEMPLATE_ID) {
		snprintf(err, errlen, "template id %u: must be 256 or more",
			 id);
		return -EINVAL;
	}
	if (family != 4 && family != 6) {
		snprintf(err, errlen, "template %u: family %d is not 4 or 6",
			 id, family);
		return -EINVAL;
	}
	t->id = id;
	t->family = family;
	t->biflow = biflow;
	for (i = 0; i < nies; i++) {
		d = ie_by_id(ies[i]);
		if (!d) {
			snprintf(err, errlen,
				 "template %u: element %u is not in the "
				 "registry",
				 id, ies[i]);
			return -EINVAL;
		}
		if (!d->exportable) {
			snprintf(
				err, errlen,
				"template %u: %s cannot be exported by flowexp",
				id, d->name);
			return -EINVAL;
		}
		fid = ie_for_family(d->id, family);
		if (!fid)
			continue; /* e.g. flowLabelIPv6 in the IPv4 variant */
		d = ie_by_id(fid);
		if (!d || ipfix_template_has(t, fid, 0))
			continue;
		ret = 0;
		if (biflow && d->reversible)
			ret = ipfix_template_add_field(t, fid, d->len,
						       IPFIX_PEN_REVERSE);
		if (!ret)
			ret = ipfix_template_add_field(t, fid, d->len, 0);
		if (ret)
			goto too_many;
	}
	if (biflow && !ipfix_template_has(t, 239, 0) &&
	    ipfix_template_add_field(t, 239, 1, 0))
		goto too_many;
	if (!t->nfields) {
		snprintf(err, errlen, "template %u: no field for IPv%d", id,
			 family);
		return -EINVAL;
	}
	return 0;

too_many:
	snprintf(err, errlen, "template %u: more than %d fields%s", id,
		 IPFIX_MAX_FIELDS, biflow ? " with reverse fields" : "");
	return -EINVAL;
}

void ipfix_record_reverse(struct fe_record *out, const struct fe_record *in)
{
	*out = *in;
	memcpy(out->src, in->dst, sizeof(out->src));
	memcpy(out->dst, in->src, sizeof(out->dst));
	out->fwd = in->rev;
	memset(&out->rev, 0, sizeof(out->rev));
	out->has_rev = false;
	if (in->proto == 1 || in->proto == 58) {
		/* ICMP "ports" are the type/code of each direction */
		out->sport = 0;
		out->dport = in->rev.icmp_type_code;
	} else {
		out->sport = in->dport;
		out->dport = in->sport;
	}
	/* the source of the reversed record is the responder */
	if (in->biflow_dir == 1)
		out->biflow_dir = 2;
	else if (in->biflow_dir == 2)
		out->biflow_dir = 1;
}

static void put_uint(uint8_t *p, uint16_t len, uint64_t v)
{
	uint16_t v16;
	uint32_t v32;
	int i;

	/* the usual sizes in one store: this runs for every field of every
	 * record, and the byte loop was most of ipfix_encode_field's time
	 */
	switch (len) {
	case 1:
		p[0] = (uint8_t)v;
		return;
	case 2:
		v16 = htobe16((uint16_t)v);
		memcpy(p, &v16, 2);
		return;
	case 4:
		v32 = htobe32((uint32_t)v);
		memcpy(p, &v32, 4);
		return;
	case 8:
		v = htobe64(v);
		memcpy(p, &v, 8);
		return;
	}
	/* reduced-size encoding keeps the low-order octets (RFC 7011 6.2) */
	for (i = len - 1; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v = len - i < 8 ? v >> 8 : 0;
	}
}

/* NTP timestamp (RFC 7011 6.1.9/6.1.10) of a UNIX time in ms, with the
 * fraction rounded down to micro (lower 11 bits 0) or nanosecond units.
 */
static uint64_t ntp_time(uint64_t ms, bool micro)
{
	uint64_t sec = ms / 1000 + IPFIX_NTP_EPOCH_OFFSET;
	uint64_t frac = ((ms % 1000) << 32) / 1000;

	if (micro)
		frac &= ~0x7ffULL;
	return sec << 32 | frac;
}

/* flowDurationMilliseconds (or Microseconds), capped at 32 bits. */
static uint64_t ipfix_duration(const struct fe_rec_dir *d, bool micro)
{
	uint64_t v = d->end_ms > d->start_ms ? d->end_ms - d->start_ms : 0;

	if (micro)
		v *= 1000;
	return v > UINT32_MAX ? UINT32_MAX : v;
}

/* The value of a fixed-size numeric element: d is the direction (fwd, or
 * rev for a reverse element); 0 for an element flowexp does not fill.
 */
static uint64_t ipfix_field_value(uint16_t id, const struct fe_record *r,
				  const struct fe_rec_dir *d, uint32_t domain)
{
	switch (id) {
	case 1: /* octetDeltaCount */
		return d->octets;
	case 2:
		return d->packets;
	case 4: /* protocolIdentifier */
		return r->proto;
	case 5: /* ipClassOfService */
		return d->tos;
	case 6:
		return d->tcp_flags;
	case 7: /* sourceTransportPort */
		return r->sport;
	case 11:
		return r->dport;
	case 10: /* ingressInterface */
		return d->in_if;
	case 14:
		return d->out_if;
	case 31: /* flowLabelIPv6 */
		return d->flow_label;
	case 32: /* icmpTypeCodeIPv4 */
	case 139:
		return d->icmp_type_code;
	case 176: /* icmpTypeIPv4 */
	case 178:
		return d->icmp_type_code >> 8;
	case 177: /* icmpCodeIPv4 */
	case 179:
		return d->icmp_type_code & 0xff;
	case 52: /* minimumTTL */
		return d->ttl_min;
	case 53:
		return d->ttl_max;
	case 58: /* vlanId */
	case 243:
		return r->vlan;
	case 60: /* ipVersion */
		return r->family;
	case 61: /* flowDirection */
		return d->flow_dir;
	case 136: /* flowEndReason */
		return r->end_reason;
	case 239: /* biflowDirection */
		return r->biflow_dir;
	case 149: /* observationDomainId */
		return domain;
	case 150: /* flowStartSeconds */
		return d->start_ms / 1000;
	case 151:
		return d->end_ms / 1000;
	case 152: /* flowStartMilliseconds */
		return d->start_ms;
	case 153:
		return d->end_ms;
	case 154: /* flowStartMicroseconds */
	case 155:
		return ntp_time(id == 154 ? d->start_ms : d->end_ms, true);
	case 156: /* flowStartNanoseconds */
	case 157:
		return ntp_time(id == 156 ? d->start_ms : d->end_ms, false);
	case 161: /* flowDurationMilliseconds */
	case 162:
		return ipfix_duration(d, id == 162);
	case 195: /* ipDiffServCodePoint */
		return d->tos >> 2;
	case 196: /* ipPrecedence */
		return d->tos >> 5;
	}
	return 0;
}

/* sourceIPv4Address, destinationIPv4Address and their IPv6 twins. */
static bool ipfix_encode_address(uint8_t *p, const struct ipfix_field *f,
				 const struct fe_record *r)
{
	const uint8_t *a;
	size_t n = f->len < 16 ? f->len : 16;

	if (f->id != 8 && f->id != 12 && f->id != 27 && f->id != 28)
		return false;
	a = f->id == 8 || f->id == 27 ? r->src : r->dst;
	memset(p, 0, f->len);
	memcpy(p, a, n);
	return true;
}

void ipfix_encode_field(uint8_t *p, const struct ipfix_field *f,
			const struct fe_record *r, uint32_t domain)
{
	const struct fe_rec_dir *d =
		f->pen == IPFIX_PEN_REVERSE ? &r->rev : &r->fwd;

	if (f->pen && f->pen != IPFIX_PEN_REVERSE) {
		memset(p, 0, f->len);
		return;
	}
	if (ipfix_encode_address(p, f, r))
		return;
	put_uint(p, f->len, ipfix_field_value(f->id, r, d, domain));
}

static void ipfix_put_header(uint8_t *p, const struct ipfix_msg_hdr *h)
{
	ipfix_put16(p, IPFIX_VERSION);
	ipfix_put16(p + 2, h->len);
	ipfix_put32(p + 4, h->now_s);
	ipfix_put32(p + 8, h->seq);
	ipfix_put32(p + 12, h->domain);
}

/* Template: id, field count; options template: id, field count, scope
 * field count (RFC 7011 3.4.2).
 */
static void ipfix_put_template_header(uint8_t *p,
				      const struct ipfix_template *t)
{
	ipfix_put16(p, t->id);
	ipfix_put16(p + 2, t->nfields);
	if (t->scope)
		ipfix_put16(p + 4, t->scope);
}

const struct ipfix_wire ipfix_wire_v10 = {
	.name = "IPFIX",
	.version = IPFIX_VERSION,
	.hdr_len = IPFIX_MSG_HDR_LEN,
	.set_template = IPFIX_SET_TEMPLATE,
	.set_options = IPFIX_SET_OPTIONS_TEMPLATE,
	/* pmacct 1.7.7 steps over an IPFIX options template by a wrong
	 * length, so it reads only the first of a set right
	 */
	.options_set_each = true,
	.enterprise = true,
	.seq_off = 8,
	.put_header = ipfix_put_header,
	.put_template_header = ipfix_put_template_header,
};

/* Invariant: len is 0 (no message pending) or at least the header; set_off
 * is the offset of the open set's header (0: no open set), whose id is
 * set_id. msg counts what the pending message holds: data records (flow
 * and options), template records, and the flow records with their packets
 * and octets (not sent if the transport refuses it).
 */
struct ipfix_writer {
	const struct ipfix_wire *wire;
	uint32_t domain;
	uint16_t mtu;
	uint64_t boot_ms;
	ipfix_send_fn send;
	void *ctx;
	size_t len;
	size_t set_off;
	uint16_t set_id;
	struct ipfix_msg_counts msg;
	uint32_t seq;
	struct ipfix_writer_stats st;
	uint8_t *buf;
};

struct ipfix_writer *ipfix_writer__new_wire(const struct ipfix_wire *wire,
					    uint32_t domain, uint16_t mtu,
					    uint64_t boot_ms,
					    ipfix_send_fn send, void *ctx)
{
	struct ipfix_writer *w;

	if (!mtu)
		mtu = IPFIX_DEFAULT_MTU;
	if (mtu < IPFIX_MIN_MTU || !send || !wire) {
		errno = EINVAL;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->buf = malloc(mtu);
	if (!w->buf) {
		free(w);
		return NULL;
	}
	w->wire = wire;
	w->domain = domain;
	w->mtu = mtu;
	w->boot_ms = boot_ms;
	w->send = send;
	w->ctx = ctx;
	return w;
}

struct ipfix_writer *ipfix_writer__new(uint32_t domain, uint16_t mtu,
				       ipfix_send_fn send, void *ctx)
{
	return ipfix_writer__new_wire(&ipfix_wire_v10, domain, mtu, 0, send,
				      ctx);
}

void ipfix_writer__free(struct ipfix_writer *w)
{
	if (!w)
		return;
	free(w->buf);
	free(w);
}

static void ipfix_writer_close_set(struct ipfix_writer *w)
{
	if (!w->set_off)
		return;
	/* v9 wants every set 4-octet aligned; room() kept 3 octets for it */
	while (w->wire->pad_sets && (w->len - w->set_off) % 4)
		w->buf[w->len++] = 0;
	ipfix_put16(w->buf + w->set_off + 2, w->len - w->set_off);
	w->set_off = 0;
	w->set_id = 0;
}

/* Counts the message the transport took (ok) or refused. The sequence
 * number counts what was *sent* (RFC 7011 3.1, RFC 3954 5.1): a refused
 * message never left, so its flow records go to not_sent
 * (notSentFlowTotalCount) and do not advance it; the next message then
 * carries the number the collector expects, and a gap a collector reports
 * always means loss in the network.
 */
static void ipfix_writer_count(struct ipfix_writer *w, bool ok)
{
	if (!ok) {
		w->st.send_errors++;
		w->st.not_sent += w->msg.flows;
		w->st.not_sent_packets += w->msg.packets;
		w->st.not_sent_octets += w->msg.octets;
		return;
	}
	w->st.messages++;
	w->st.records += w->msg.flows;
	w->st.options += w->msg.data - w->msg.flows;
	w->st.templates += w->msg.templates;
	w->st.octets += w->len;
	w->seq += w->wire->seq_per_message ? 1 : w->msg.data;
}

static void ipfix_writer_reset_msg(struct ipfix_writer *w)
{
	w->len = 0;
	w->set_off = 0;
	w->set_id = 0;
	w->msg = (struct ipfix_msg_counts){ 0 };
}

int ipfix_writer__flush(struct ipfix_writer *w, uint32_t now_s)
{
	struct ipfix_msg_hdr h;
	int ret;

	if (!w->len)
		return 0;
	ipfix_writer_close_set(w);
	h = (struct ipfix_msg_hdr){
		.len = w->len,
		.count = w->msg.data + w->msg.templates,
		.now_s = now_s,
		.uptime_ms = (uint32_t)((uint64_t)now_s * 1000 - w->boot_ms),
		.seq = w->seq,
		.domain = w->domain,
	};
	w->wire->put_header(w->buf, &h);
	ret = w->send(w->ctx, w->buf, w->len);
	ipfix_writer_count(w, ret >= 0);
	ipfix_writer_reset_msg(w);
	return ret < 0 ? ret : 0;
}

/* Makes room for need octets in a set with id set_id, flushing the pending
 * message and opening a message and a set as needed. Returns 0 or the
 * -errno of the flush (the room is made either way).
 */
static int ipfix_writer_room(struct ipfix_writer *w, uint16_t set_id,
			     size_t need, uint32_t now_s)
{
	size_t pad = w->wire->pad_sets ? 3 : 0;
	int ret = 0;

	if (w->len && w->set_id == set_id && w->len + need + pad <= w->mtu)
		return 0;
	if (w->len && w->len + pad + IPFIX_SET_HDR_LEN + need + pad > w->mtu)
		ret = ipfix_writer__flush(w, now_s);
	if (!w->len)
		w->len = w->wire->hdr_len;
	ipfix_writer_close_set(w);
	w->set_off = w->len;
	w->set_id = set_id;
	ipfix_put16(w->buf + w->len, set_id);
	ipfix_put16(w->buf + w->len + 2, 0);
	w->len += IPFIX_SET_HDR_LEN;
	return ret;
}

/* Whether a set of need octets fits an empty message. */
static bool ipfix_writer_fits(const struct ipfix_writer *w, size_t need)
{
	size_t pad = w->wire->pad_sets ? 3 : 0;

	return w->wire->hdr_len + IPFIX_SET_HDR_LEN + need + pad <= w->mtu;
}

/* The octets of t's template record in w's format; 0 when the format
 * cannot express it (an enterprise field in NetFlow v9).
 */
static size_t ipfix_writer_template_len(const struct ipfix_writer *w,
					const struct ipfix_template *t)
{
	size_t n = t->scope ? 6 : 4;

	for (int i = 0; i < t->nfields; i++) {
		if (t->f[i].pen && !w->wire->enterprise)
			return 0;
		n += t->f[i].pen ? 8 : 4;
	}
	return n;
}

static void ipfix_writer_put_template(struct ipfix_writer *w,
				      const struct ipfix_template *t)
{
	uint8_t *p = w->buf + w->len;

	w->wire->put_template_header(p, t);
	p += t->scope ? 6 : 4;
	for (int i = 0; i < t->nfields; i++) {
		const struct ipfix_field *f = &t->f[i];
		uint16_t type = f->id;

		if (i < t->scope && w->wire->scope_type)
			type = w->wire->scope_type(type);
		ipfix_put16(p, type | (f->pen ? 0x8000 : 0));
		ipfix_put16(p + 2, f->len);
		p += 4;
		if (f->pen) {
			ipfix_put32(p, f->pen);
			p += 4;
		}
	}
}

int ipfix_writer__add_templates(struct ipfix_writer *w,
				const struct ipfix_template *const *t, int n,
				uint32_t now_s)
{
	int i, ret = 0, r;

	for (i = 0; i < n; i++) {
		size_t need = ipfix_writer_template_len(w, t[i]);

		if (!need || !t[i]->nfields ||
		    t[i]->nfields > IPFIX_MAX_FIELDS ||
		    t[i]->scope > t[i]->nfields || !ipfix_writer_fits(w, need))
			return -EINVAL;
		r = ipfix_writer_room(w,
				      t[i]->scope ? w->wire->set_options
						  : w->wire->set_template,
				      need, now_s);
		if (r && !ret)
			ret = r;
		ipfix_writer_put_template(w, t[i]);
		w->len += need;
		w->msg.templates++;
		if (t[i]->scope && w->wire->options_set_each)
			ipfix_writer_close_set(w);
	}
	return ret;
}

int ipfix_writer__add_record(struct ipfix_writer *w,
			     const struct ipfix_template *t,
			     const struct fe_record *r, uint32_t now_s)
{
	uint8_t *p;
	int i, ret;

	if (!t->nfields || !t->rec_len || !ipfix_writer_fits(w, t->rec_len))
		return -EINVAL;
	ret = ipfix_writer_room(w, t->id, t->rec_len, now_s);
	p = w->buf + w->len;
	for (i = 0; i < t->nfields; i++) {
		ipfix_encode_field(p, &t->f[i], r, w->domain);
		p += t->f[i].len;
	}
	w->len += t->rec_len;
	w->msg.data++;
	w->msg.flows++;
	w->msg.packets += r->fwd.packets + r->rev.packets;
	w->msg.octets += r->fwd.octets + r->rev.octets;
	return ret;
}

int ipfix_writer__add_options(struct ipfix_writer *w,
			      const struct ipfix_template *t,
			      const uint8_t *rec, uint32_t now_s)
{
	int ret;

	if (!t->scope || !t->rec_len || !ipfix_writer_fits(w, t->rec_len))
		return -EINVAL;
	ret = ipfix_writer_room(w, t->id, t->rec_len, now_s);
	memcpy(w->buf + w->len, rec, t->rec_len);
	w->len += t->rec_len;
	w->msg.data++;
	return ret;
}

uint32_t ipfix_writer__seq(const struct ipfix_writer *w)
{
	return w->seq;
}

const struct ipfix_msg_counts *
ipfix_writer__msg_counts(const struct ipfix_writer *w)
{
	return &w->msg;
}

size_t ipfix_writer__pending(const struct ipfix_writer *w)
{
	return w->len;
}

void ipfix_writer__stats(const struct ipfix_writer *w,
			 struct ipfix_writer_stats *s)
{
	*s = w->st;
}
