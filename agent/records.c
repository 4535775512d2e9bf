/* records.c - builds flow records from a conversation: the biflow or
 * uniflow view, merged over the links or one record per link (path).
 */
#include <string.h>
#include "records.h"

static bool rec_is_icmp(const struct fe_conv *c)
{
	return FE_PROTO_IS_ICMP(c->proto) && !c->kflags;
}

static bool rec_path_has_data(const struct fe_path *p)
{
	return p->packets > 0 || p->octets > 0 || p->dropped_packets ||
	       p->dropped_octets;
}

/* The tuple after the NAT of the packets from side d (ports 0 for ICMP):
 * the conversation's translation, else the tuple itself.
 */
static void rec_nat(const struct fe_conv *c, int d, struct fe_record *r)
{
	if (c->kflags & FE_KEY_OVERFLOW)
		return;
	r->nat = c->nat;
	memcpy(r->nat_src, c->nat ? c->nat_addr[d] : c->addr[d], 16);
	memcpy(r->nat_dst, c->nat ? c->nat_addr[!d] : c->addr[!d], 16);
	if (rec_is_icmp(c))
		return;
	r->nat_sport = c->nat ? c->nat_port[d] : c->port[d];
	r->nat_dport = c->nat ? c->nat_port[!d] : c->port[!d];
}

const struct fe_path *fe_conv_dominant_path(const struct fe_conv_dir *d)
{
	const struct fe_path *best = NULL;
	int i;

	for (i = 0; i < d->npaths; i++) {
		const struct fe_path *p = &d->paths[i];
		uint64_t pl = fe_path_life_packets(p), bl;

		if (!best) {
			best = p;
			continue;
		}
		bl = fe_path_life_packets(best);
		if (pl > bl || (pl == bl && (p->in_if < best->in_if ||
					     (p->in_if == best->in_if &&
					      p->out_if < best->out_if))))
			best = p;
	}
	return best;
}

static void rec_common(const struct fe_conv *c, uint8_t reason,
		       struct fe_record *r)
{
	memset(r, 0, sizeof(*r));
	r->family = c->family;
	r->proto = c->proto;
	r->vlan = c->vlan;
	r->end_reason = reason;
}

/* Addresses and ports of the packets of direction d (uniflow). */
static void rec_uni_tuple(const struct fe_conv *c, int d, uint16_t icmp_tc,
			  struct fe_record *r)
{
	if (c->kflags & FE_KEY_OVERFLOW)
		return;
	memcpy(r->src, c->addr[d], 16);
	memcpy(r->dst, c->addr[!d], 16);
	rec_nat(c, d, r);
	if (rec_is_icmp(c)) {
		r->sport = 0;
		r->dport = icmp_tc;
	} else {
		r->sport = c->port[d];
		r->dport = c->port[!d];
	}
}

static void rec_bi_tuple(const struct fe_conv *c, struct fe_record *r)
{
	memcpy(r->src, c->addr[0], 16);
	memcpy(r->dst, c->addr[1], 16);
	r->sport = c->port[0];
	r->dport = c->port[1];
	rec_nat(c, 0, r);
	r->has_rev = true;
	r->biflow_dir = c->init_known ? 1 : 0;
}

static void rec_dir_from_path(const struct fe_path *p, struct fe_rec_dir *rd)
{
	rd->packets = fe_pos(p->packets);
	rd->octets = fe_pos(p->octets);
	rd->start_ms = p->first_ms;
	rd->end_ms = p->last_ms;
	rd->in_if = p->in_if;
	rd->out_if = p->out_if;
	rd->flow_dir = p->flow_dir;
	rd->tcp_flags = p->tcp_flags;
	rd->icmp_type_code = p->icmp_type_code;
	rd->tos = p->tos;
	rd->ttl_min = p->ttl_min;
	rd->ttl_max = p->ttl_max;
	rd->flow_label = p->flow_label;
	rd->dropped_packets = p->dropped_packets;
	rd->dropped_octets = p->dropped_octets;
}

/* Whole direction; returns false (rd untouched) when it has no data. */
static bool rec_dir_from_dir(const struct fe_conv_dir *cd,
			     struct fe_rec_dir *rd)
{
	const struct fe_path *dom = fe_conv_dominant_path(cd);
	uint64_t pk = 0, oc = 0, dp = 0, dq = 0;
	int i;

	for (i = 0; i < cd->npaths; i++) {
		pk += fe_pos(cd->paths[i].packets);
		oc += fe_pos(cd->paths[i].octets);
		dp += cd->paths[i].dropped_packets;
		dq += cd->paths[i].dropped_octets;
	}
	if (!pk && !oc && !dp && !dq)
		return false;
	rd->packets = pk;
	rd->octets = oc;
	rd->dropped_packets = dp;
	rd->dropped_octets = dq;
	rd->start_ms = cd->first_ms;
	rd->end_ms = cd->last_ms;
	rd->in_if = dom->in_if;
	rd->out_if = dom->out_if;
	rd->flow_dir = dom->flow_dir;
	rd->tcp_flags = cd->tcp_flags;
	rd->icmp_type_code = cd->icmp_type_code;
	rd->tos = cd->tos;
	rd->ttl_min = cd->ttl_min;
	rd->ttl_max = cd->ttl_max;
	rd->flow_label = cd->flow_label;
	return true;
}

static void rec_put(struct fe_record *out, int max, int *n,
		    const struct fe_record *r)
{
	if (*n < max)
		out[*n] = *r;
	(*n)++;
}

int fe_conv_records(const struct fe_conv *c, enum fe_rec_mode mode,
		    bool split_links, uint8_t end_reason, struct fe_record *out,
		    int max)
{
	struct fe_record r;
	int n = 0, d, i;
	bool any;

	/* Overflow totals have no tuple to pair: uniflow, per path. */
	if (c->kflags & FE_KEY_OVERFLOW) {
		mode = FE_REC_UNIFLOW;
		split_links = true;
	}
	if (mode == FE_REC_BIFLOW && !split_links) {
		rec_common(c, end_reason, &r);
		rec_bi_tuple(c, &r);
		any = rec_dir_from_dir(&c->dir[0], &r.fwd);
		any |= rec_dir_from_dir(&c->dir[1], &r.rev);
		if (any)
			rec_put(out, max, &n, &r);
		return n;
	}
	for (d = 0; d < 2; d++) {
		const struct fe_conv_dir *cd = &c->dir[d];

		if (!split_links) { /* uniflow, merged */
			rec_common(c, end_reason, &r);
			if (!rec_dir_from_dir(cd, &r.fwd))
				continue;
			rec_uni_tuple(c, d, cd->icmp_type_code, &r);
			rec_put(out, max, &n, &r);
			continue;
		}
		for (i = 0; i < cd->npaths; i++) {
			const struct fe_path *p = &cd->paths[i];

			if (!rec_path_has_data(p))
				continue;
			rec_common(c, end_reason, &r);
			if (mode == FE_REC_BIFLOW) {
				rec_bi_tuple(c, &r);
				rec_dir_from_path(p, d ? &r.rev : &r.fwd);
			} else {
				rec_uni_tuple(c, d, p->icmp_type_code, &r);
				rec_dir_from_path(p, &r.fwd);
			}
			rec_put(out, max, &n, &r);
		}
	}
	return n;
}
