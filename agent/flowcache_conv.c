/* flowcache_conv.c - one conversation record of the flow cache
 * (flowcache_int.h): its key from an observation, its chain of paths, the
 * netting of double sightings before an export, and the struct fe_conv
 * view of it that callbacks get.
 */
#include <errno.h>
#include <string.h>
#include "flowcache_int.h"

#define FC_MS_MAX ((1ULL << 48) - 1)

static void fc_key_icmp(const struct fe_flow_key *ok, struct fc_key *k,
			struct fc_tuple *t)
{
	uint8_t type = ok->dport >> 8;
	uint8_t req = ok->proto == FE_IPPROTO_ICMP ? 8 : 128;
	uint8_t rep = ok->proto == FE_IPPROTO_ICMP ? 0 : 129;
	uint16_t tc = ok->dport;

	if (type == req) {
		t->forced_dir = 0;
	} else if (type == rep) {
		t->forced_dir = 1;
		tc = (uint16_t)(req << 8 | (ok->dport & 0xff));
	}
	k->port[1] = tc;
	/* echo: the requester first, so A pinging B and B pinging A are two
	 * conversations, and one per identifier (the kernel's sport), as
	 * conntrack and its NAT see them; other types: sorted
	 */
	if (t->forced_dir >= 0)
		k->port[0] = ok->sport;
	if (t->forced_dir >= 0)
		t->side = t->forced_dir;
	else
		t->side = memcmp(ok->src, ok->dst, 16) > 0;
	memcpy(k->addr[0], t->side ? ok->dst : ok->src, 16);
	memcpy(k->addr[1], t->side ? ok->src : ok->dst, 16);
}

int fcc_key(const struct fe_obs *o, struct fc_key *k, struct fc_tuple *t)
{
	const struct fe_flow_key *ok = &o->key;
	uint16_t sp = 0, dp = 0;
	int c;

	memset(k, 0, sizeof(*k));
	t->side = 0;
	t->forced_dir = -1;
	if (ok->flags & FE_KEY_OVERFLOW) {
		k->kflags = FE_KEY_OVERFLOW;
		k->family = 4;
		memcpy(k->addr[0], &ok->ifindex, 4);
		memcpy(k->addr[0] + 4, &ok->in_ifindex, 4);
		k->ovf_dir = ok->dir;
		return 0;
	}
	if (ok->family != 4 && ok->family != 6)
		return -EINVAL;
	k->family = ok->family;
	k->proto = ok->proto;
	k->vlan = ok->vlan;
	k->kflags = ok->flags & (FE_KEY_FRAG | FE_KEY_TRUNC);
	if (!k->kflags && FE_PROTO_IS_ICMP(ok->proto)) {
		fc_key_icmp(ok, k, t);
		return 0;
	}
	if (!k->kflags) { /* else no ports: its own conversation */
		sp = ok->sport;
		dp = ok->dport;
	}
	c = memcmp(ok->src, ok->dst, 16);
	t->side = c > 0 || (!c && sp > dp);
	memcpy(k->addr[0], t->side ? ok->dst : ok->src, 16);
	memcpy(k->addr[1], t->side ? ok->src : ok->dst, 16);
	k->port[0] = t->side ? dp : sp;
	k->port[1] = t->side ? sp : dp;
	return 0;
}

/* The paths of direction d in creation order; returns how many. */
int fcc_dir_paths(const struct fc_store *s, struct fc_conv *c, int d,
		  struct fc_path **out)
{
	struct fc_path *p;
	int n = 0;

	fcs_for_each_path(s, c, p) if (p->side == d) out[n++] = p;
	return n;
}

/* A new path of direction d at the chain's tail (room reserved). */
static struct fc_path *fcc_path_new(struct fc_store *s, struct fc_conv *c,
				    int d, const struct fcc_want *w)
{
	struct fc_path *p = fcs_first(c), *q;

	if (!p) {
		q = &c->path0;
		memset(q, 0, sizeof(*q));
	} else {
		uint32_t k = fcs_take_path(s);

		while (p->next != FC_NIL)
			p = fcs_path(s, p->next);
		p->next = k;
		q = fcs_path(s, k);
	}
	q->next = FC_NIL;
	q->in_if = w->in_if;
	q->out_if = w->out_if;
	q->flow_dir = w->flow_dir;
	q->drop = w->drop;
	q->side = (unsigned)d;
	c->npaths[d]++;
	return q;
}

static bool fcc_is(const struct fc_path *p, uint32_t in_if, uint32_t out_if,
		   bool drop)
{
	return p->in_if == in_if && p->out_if == out_if && p->drop == drop;
}

/* Finds or makes path w of direction d. The last slot is kept for the
 * catch-all (0,0) so a direction with too many paths still counts every
 * packet.
 */
struct fc_path *fcc_path_get(struct fc_store *s, struct fc_conv *c, int d,
			     const struct fcc_want *w, uint64_t *merged)
{
	struct fc_path *ps[FE_CONV_MAX_PATHS];
	struct fcc_want all = *w;
	int n = fcc_dir_paths(s, c, d, ps), i;

	for (i = 0; i < n; i++)
		if (fcc_is(ps[i], w->in_if, w->out_if, w->drop))
			return ps[i];
	if (n < FE_CONV_MAX_PATHS - 1)
		return fcc_path_new(s, c, d, w);
	(*merged)++;
	for (i = 0; i < n; i++)
		if (fcc_is(ps[i], 0, 0, w->drop))
			return ps[i];
	all.in_if = all.out_if = 0;
	return fcc_path_new(s, c, d, &all);
}

int fcc_paths_to_make(const struct fc_store *s, struct fc_conv *c, int d,
		      const struct fcc_want *w, int nw)
{
	struct fc_path *ps[FE_CONV_MAX_PATHS];
	int have_n = fcc_dir_paths(s, c, d, ps), n = have_n, make = 0, i, j;
	bool any[2] = { false, false };

	for (i = 0; i < have_n; i++)
		any[ps[i]->drop] |= !ps[i]->in_if && !ps[i]->out_if;
	for (j = 0; j < nw; j++) {
		bool have = false;

		for (i = 0; i < have_n; i++)
			have |= fcc_is(ps[i], w[j].in_if, w[j].out_if,
				       w[j].drop);
		for (i = 0; i < j; i++) /* the same one twice */
			have |= w[i].in_if == w[j].in_if &&
				w[i].out_if == w[j].out_if &&
				w[i].drop == w[j].drop;
		if (have)
			continue;
		if (n < FE_CONV_MAX_PATHS - 1) {
			n++;
			make++;
		} else if (!any[w[j].drop]) { /* the catch-all */
			any[w[j].drop] = true;
			make++;
		}
	}
	/* the first path of a conversation is its inline one */
	return make && !fcs_first(c) ? make - 1 : make;
}

uint64_t fcc_ms(uint64_t ms)
{
	return ms > FC_MS_MAX ? FC_MS_MAX : ms;
}

void fcc_path_observe(struct fc_path *p, const struct fe_obs *o)
{
	uint64_t first = fcc_ms(o->first_ms), last = fcc_ms(o->last_ms);

	p->packets += (int64_t)o->packets;
	p->octets += (int64_t)o->octets;
	if (!p->seen || first < p->first_ms)
		p->first_ms = first;
	if (!p->seen || last > p->last_ms)
		p->last_ms = last;
	if (!p->seen || o->ttl_min < p->ttl_min)
		p->ttl_min = o->ttl_min;
	if (!p->seen || o->ttl_max > p->ttl_max)
		p->ttl_max = o->ttl_max;
	p->tcp_flags |= o->tcp_flags;
	p->tos = o->tos;
	p->flow_label = o->flow_label & 0xfffff;
	p->seen = 1;
}

/* ---- netting and export ---- */

static bool fc_same_group(const struct fc_path *a, const struct fc_path *b)
{
	bool any = (!a->in_if && !a->out_if) || (!b->in_if && !b->out_if);

	return a->in_if == b->in_if || any;
}

static int64_t *fc_count(struct fc_path *p, int which)
{
	return which ? &p->octets : &p->packets;
}

static uint64_t *fc_total(struct fc_path *p, int which)
{
	return which ? &p->total_octets : &p->total_packets;
}

/* Nets one counter (0 packets, 1 octets) of a direction. A negative
 * ingress path (X,0), once the take-backs are settled (flowcache_dedup.c),
 * stands for packets its meter counted and (X,0) exported already whose
 * egress sightings came later: they are taken back from the positive
 * paths entering by X, which exported nothing of them, and their totals
 * move there with them (a packet is counted once, on the path it took);
 * what those paths no longer hold because it was dropped since comes off
 * (X,0)'s own total, up to the drops in the records. What is left (an
 * egress sighting whose take-back went to the catch-all) is carried, and
 * so is a negative egress path: a drop taken back after the packet was
 * exported.
 */
static void fc_dir_net(struct fc_path **ps, int n, int which)
{
	for (int i = 0; i < n; i++) {
		int64_t *nv = fc_count(ps[i], which);
		uint64_t *nt = fc_total(ps[i], which);

		if (ps[i]->drop || ps[i]->out_if)
			continue;
		for (int j = 0; j < n && *nv < 0; j++) {
			int64_t *pv = fc_count(ps[j], which), m;
			uint64_t mt;

			if (j == i || ps[j]->drop || *pv <= 0 ||
			    !fc_same_group(ps[i], ps[j]))
				continue;
			m = -*nv < *pv ? -*nv : *pv;
			mt = (uint64_t)m < *nt ? (uint64_t)m : *nt;
			*nv += m;
			*pv -= m;
			*nt -= mt;
			*fc_total(ps[j], which) += mt;
		}
		/* egress sightings gone to drop records: their packets were
		 * exported on (X,0) and are now dropped ones, no new packets
		 */
		for (int j = 0; j < n && *nv < 0 && *nt; j++) {
			int64_t dv = *fc_count(ps[j], which), m;

			if (!ps[j]->drop || dv <= 0 ||
			    !fc_same_group(ps[i], ps[j]))
				continue;
			m = -*nv < dv ? -*nv : dv;
			if ((uint64_t)m > *nt)
				m = (int64_t)*nt;
			*nv += m;
			*nt -= (uint64_t)m;
		}
	}
}

/* Nets both directions; returns whether anything is left to export. */
bool fcc_net(const struct fc_store *s, struct fc_conv *c)
{
	struct fc_path *ps[2][FE_CONV_MAX_PATHS], *p;
	int n[2] = { 0, 0 };
	bool has = false;

	fcs_for_each_path(s, c, p) ps[p->side][n[p->side]++] = p;
	for (int d = 0; d < 2; d++) {
		if (n[d] > 1) {
			fc_dir_net(ps[d], n[d], 0);
			fc_dir_net(ps[d], n[d], 1);
		}
		for (int i = 0; i < n[d]; i++)
			has |= ps[d][i]->packets > 0 || ps[d][i]->octets > 0;
	}
	return has;
}

uint64_t fcc_negative_packets(const struct fc_store *s, struct fc_conv *c)
{
	struct fc_path *p;
	uint64_t neg = 0;

	fcs_for_each_path(s, c, p) if (p->packets < 0 && !p->drop) neg +=
		(uint64_t)-p->packets;
	return neg;
}

void fcc_reset(const struct fc_store *s, struct fc_conv *c)
{
	struct fc_path *p;

	fcs_for_each_path(s, c, p)
	{
		if (p->packets > 0) {
			p->total_packets += (uint64_t)p->packets;
			p->packets = 0;
		}
		if (p->octets > 0) {
			p->total_octets += (uint64_t)p->octets;
			p->octets = 0;
		}
	}
}

static void fc_view_path(const struct fc_conv *c, const struct fc_path *p,
			 struct fe_path *q)
{
	q->in_if = p->in_if;
	q->out_if = p->out_if;
	q->flow_dir = p->flow_dir;
	q->tos = p->tos;
	q->ttl_min = p->ttl_min;
	q->ttl_max = p->ttl_max;
	q->tcp_flags = p->tcp_flags;
	q->icmp_type_code = p->seen && FE_PROTO_IS_ICMP(c->key.proto)
				    ? c->icmp_tc[p->side]
				    : 0;
	q->flow_label = p->flow_label;
	q->seen = p->seen;
	q->packets = p->packets;
	q->octets = p->octets;
	q->total_packets = p->total_packets;
	q->total_octets = p->total_octets;
	q->first_ms = p->first_ms;
	q->last_ms = p->last_ms;
	q->dropped_packets = 0; /* its drop record's, folded in after */
	q->dropped_octets = 0;
}

/* A direction's times, TTLs and flags: those of its paths combined. */
static void fc_view_dir(struct fe_conv_dir *d, const struct fe_path *q)
{
	if (!q->seen)
		return;
	if (!d->seen || q->first_ms < d->first_ms)
		d->first_ms = q->first_ms;
	if (!d->seen || q->last_ms > d->last_ms)
		d->last_ms = q->last_ms;
	if (!d->seen || q->ttl_min < d->ttl_min)
		d->ttl_min = q->ttl_min;
	if (!d->seen || q->ttl_max > d->ttl_max)
		d->ttl_max = q->ttl_max;
	d->tcp_flags |= q->tcp_flags;
	d->seen = true;
}

static void fc_view_tuple(const struct fc_conv *c, struct fe_conv *v)
{
	const struct fc_key *k = &c->key;
	int s = !!(c->flags & FC_SIDE);

	v->family = k->family;
	v->proto = k->proto;
	v->kflags = k->kflags;
	v->vlan = k->vlan;
	if (k->kflags & FE_KEY_OVERFLOW) {
		memcpy(&v->ovf_if, k->addr[0], 4);
		memcpy(&v->ovf_in_if, k->addr[0] + 4, 4);
		v->ovf_dir = k->ovf_dir;
		return;
	}
	memcpy(v->addr[0], k->addr[s], 16);
	memcpy(v->addr[1], k->addr[!s], 16);
	if (FE_PROTO_IS_ICMP(k->proto) && !k->kflags) {
		v->port[1] = k->port[1];
	} else {
		v->port[0] = k->port[s];
		v->port[1] = k->port[!s];
	}
}

/* The translated tuple, in the view's side order (side 0 initiator). */
static void fc_view_nat(const struct fc_store *s, const struct fc_conv *c,
			struct fe_conv *v)
{
	const struct fc_nat *n = fcs_nat(s, c);
	int k = !!(c->flags & FC_SIDE) ^ n->flip;

	v->nat = true;
	memcpy(v->nat_addr[0], n->akey.addr[k], 16);
	memcpy(v->nat_addr[1], n->akey.addr[!k], 16);
	if (FE_PROTO_IS_ICMP(c->key.proto))
		return; /* an echo's identifier is no port */
	v->nat_port[0] = n->akey.port[k];
	v->nat_port[1] = n->akey.port[!k];
}

/* A drop record into the view path it belongs to (the same interfaces),
 * or a path of its own when that one merged into the catch-all.
 */
static void fc_view_drop(const struct fc_path *p, struct fe_conv_dir *d)
{
	struct fe_path *q = NULL;

	for (int i = 0; i < d->npaths && !q; i++)
		if (d->paths[i].in_if == p->in_if &&
		    d->paths[i].out_if == p->out_if)
			q = &d->paths[i];
	if (!q) {
		q = &d->paths[d->npaths++];
		memset(q, 0, sizeof(*q));
		q->in_if = p->in_if;
		q->out_if = p->out_if;
		q->flow_dir = FE_DIR_EGRESS;
	}
	q->dropped_packets += fe_pos(p->packets);
	q->dropped_octets += fe_pos(p->octets);
}

/* The struct fe_conv of a record, in fc's scratch space. */
const struct fe_conv *fcc_view(const struct fc_store *s, struct fc_conv *c,
			       struct fcc_view *buf)
{
	struct fe_conv *v = &buf->conv;
	struct fc_path *p;

	memset(v, 0, sizeof(*v));
	fc_view_tuple(c, v);
	if (c->nat)
		fc_view_nat(s, c, v);
	v->init_known = c->flags & FC_INIT;
	v->exported = c->flags & FC_EXPORTED;
	v->ended = c->flags & FC_ENDED;
	for (int d = 0; d < 2; d++) {
		v->dir[d].paths = buf->path[d];
		v->dir[d].tos = c->tos[d];
		v->dir[d].flow_label = c->flow_label[d];
		v->dir[d].icmp_type_code = c->icmp_tc[d];
		v->dir[d].syn = c->flags & (d ? FC_SYN1 : FC_SYN0);
	}
	fcs_for_each_path(s, c, p)
	{
		struct fe_conv_dir *d = &v->dir[p->side];
		struct fe_path *q = &buf->path[p->side][d->npaths];

		if (p->drop)
			continue;
		d->npaths++;
		fc_view_path(c, p, q);
		fc_view_dir(d, q);
	}
	fcs_for_each_path(s, c, p) if (p->drop)
		fc_view_drop(p, &v->dir[p->side]);
	for (int d = 0; d < 2; d++) {
		if (!v->dir[d].seen)
			continue;
		if (!v->start_ms || v->dir[d].first_ms < v->start_ms)
			v->start_ms = v->dir[d].first_ms;
		if (v->dir[d].last_ms > v->last_ms)
			v->last_ms = v->dir[d].last_ms;
	}
	return v;
}

void fcc_swap(const struct fc_store *s, struct fc_conv *c)
{
	struct fc_path *p;
	uint8_t t8, syn = c->flags & (FC_SYN0 | FC_SYN1);
	uint16_t t16;
	uint32_t t32;

	c->flags ^= FC_SIDE;
	c->flags &= (uint8_t) ~(FC_SYN0 | FC_SYN1);
	if (syn & FC_SYN0)
		c->flags |= FC_SYN1;
	if (syn & FC_SYN1)
		c->flags |= FC_SYN0;
	t8 = c->npaths[0], c->npaths[0] = c->npaths[1], c->npaths[1] = t8;
	t8 = c->tos[0], c->tos[0] = c->tos[1], c->tos[1] = t8;
	t16 = c->icmp_tc[0], c->icmp_tc[0] = c->icmp_tc[1], c->icmp_tc[1] = t16;
	t32 = c->flow_label[0], c->flow_label[0] = c->flow_label[1],
	c->flow_label[1] = t32;
	fcs_for_each_path(s, c, p) p->side ^= 1;
}
