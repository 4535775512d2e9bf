/* flowcache.c - the conversation cache: a hash table of conversations keyed
 * by the canonical 5-tuple, per-direction per-path counters with the dedup
 * of double sightings, and the expiry lists (idle, active, end of flow).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "dedup.h"
#include "flowcache.h"
#include "list.h"
#include "siphash.h"

#define TCP_FIN 0x01
#define TCP_RST 0x04

#define FC_MIN_BUCKETS 1024

#define fc_entry_of(ptr, member) \
	((struct fc_entry *)((char *)(ptr)-offsetof(struct fc_entry, member)))

/* The hash key: the conversation with its two sides in canonical order
 * (the lower {addr, port} first; for ICMP the addresses sorted and the
 * ports {0, type/code with echo replies folded onto requests}). No holes:
 * it is hashed and compared as bytes.
 */
struct fc_key {
	uint8_t addr[2][16];
	uint16_t port[2];
	uint16_t vlan;
	uint8_t family;
	uint8_t proto;
	uint32_t ovf_if;
	uint32_t ovf_in_if;
	uint8_t kflags;
	uint8_t ovf_dir;
	uint16_t pad;
	uint32_t pad2;
};
_Static_assert(sizeof(struct fc_key) == 56, "fc_key must have no holes");

/* Invariants: an entry is in the hash chain of its key's bucket, in fc->lru
 * (ordered by c.active_ms) and fc->act (ordered by c.last_export_ms), and
 * in fc->ended (ordered by c.end_ms) iff c.ended. Orders hold because
 * every stamp is the cache clock, which never goes backwards, and an entry
 * is moved to the tail whenever its stamp is set.
 */
struct fc_entry {
	struct fe_conv c;
	struct fc_key key;
	uint64_t hash;
	struct fc_entry *hnext;
	struct fe_list lru;
	struct fe_list act;
	struct fe_list end;
};

struct flowcache {
	struct flowcache_cfg cfg;
	struct fc_entry **buckets;
	size_t nbuckets; /* power of two */
	size_t count;
	struct fe_list lru;
	struct fe_list act;
	struct fe_list ended;
	uint64_t clock; /* latest now_ms seen */
	uint64_t sipkey[2];
	uint32_t *metered; /* ifindexes with an ingress meter, unordered */
	size_t nmetered;
	size_t metered_cap;
	struct flowcache_stats st;
};

static uint64_t fc_hash(const struct flowcache *fc, const struct fc_key *k)
{
	return siphash13(fc->sipkey, k, sizeof(*k));
}

static bool fc_cfg_valid(const struct flowcache_cfg *cfg)
{
	return cfg && cfg->idle_timeout_ms && cfg->active_timeout_ms &&
	       cfg->max_flows;
}

struct flowcache *flowcache__new(const struct flowcache_cfg *cfg)
{
	struct flowcache *fc;

	if (!fc_cfg_valid(cfg)) {
		errno = EINVAL;
		return NULL;
	}
	fc = calloc(1, sizeof(*fc));
	if (!fc)
		return NULL;
	fc->nbuckets = FC_MIN_BUCKETS;
	fc->buckets = calloc(fc->nbuckets, sizeof(*fc->buckets));
	if (!fc->buckets) {
		free(fc);
		errno = ENOMEM;
		return NULL;
	}
	fc->cfg = *cfg;
	fe_list_init(&fc->lru);
	fe_list_init(&fc->act);
	fe_list_init(&fc->ended);
	siphash_key_init(fc->sipkey);
	return fc;
}

static void fc_entry_free(struct fc_entry *e)
{
	free(e->c.dir[0].paths);
	free(e->c.dir[1].paths);
	free(e);
}

void flowcache__free(struct flowcache *fc)
{
	struct fe_list *n, *next;

	if (!fc)
		return;
	for (n = fc->lru.next; n != &fc->lru; n = next) {
		next = n->next;
		fc_entry_free(fc_entry_of(n, lru));
	}
	free(fc->buckets);
	free(fc->metered);
	free(fc);
}

int flowcache__set_cfg(struct flowcache *fc, const struct flowcache_cfg *cfg)
{
	if (!fc_cfg_valid(cfg))
		return -EINVAL;
	fc->cfg = *cfg;
	return 0;
}

bool flowcache__ingress_metered(const struct flowcache *fc, uint32_t ifindex)
{
	size_t i;

	for (i = 0; i < fc->nmetered; i++)
		if (fc->metered[i] == ifindex)
			return true;
	return false;
}

int flowcache__set_ingress_metered(struct flowcache *fc, uint32_t ifindex,
				   bool on)
{
	size_t i;

	for (i = 0; i < fc->nmetered; i++)
		if (fc->metered[i] == ifindex)
			break;
	if (!on) {
		if (i < fc->nmetered)
			fc->metered[i] = fc->metered[--fc->nmetered];
		return 0;
	}
	if (i < fc->nmetered || !ifindex)
		return 0;
	if (fc->nmetered == fc->metered_cap) {
		size_t cap = fc->metered_cap ? fc->metered_cap * 2 : 8;
		uint32_t *m = realloc(fc->metered, cap * sizeof(*m));

		if (!m)
			return -ENOMEM;
		fc->metered = m;
		fc->metered_cap = cap;
	}
	fc->metered[fc->nmetered++] = ifindex;
	return 0;
}

/* An observation with its addresses in packet order and, for an ICMP
 * echo, which side is the requester (forced_dir 0: the source).
 */
struct fc_tuple {
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	int forced_dir; /* -1: decided by addresses */
};

static int fc_key_from_obs(const struct fe_obs *o, struct fc_key *k,
			   struct fc_tuple *t)
{
	const struct fe_flow_key *ok = &o->key;
	size_t alen;
	bool swap;

	memset(k, 0, sizeof(*k));
	memset(t, 0, sizeof(*t));
	t->forced_dir = -1;
	if (ok->flags & FE_KEY_OVERFLOW) {
		k->kflags = FE_KEY_OVERFLOW;
		k->family = 4;
		k->ovf_if = ok->ifindex;
		k->ovf_in_if = ok->in_ifindex;
		k->ovf_dir = ok->dir;
		return 0;
	}
	if (ok->family != 4 && ok->family != 6)
		return -EINVAL;
	alen = ok->family == 4 ? 4 : 16;
	memcpy(t->src, ok->src, alen);
	memcpy(t->dst, ok->dst, alen);
	k->family = ok->family;
	k->proto = ok->proto;
	k->vlan = ok->vlan;
	k->kflags = ok->flags & (FE_KEY_FRAG | FE_KEY_TRUNC);
	if (k->kflags)
		goto sort; /* no ports: its own conversation */
	t->sport = ok->sport;
	t->dport = ok->dport;
	if (FE_PROTO_IS_ICMP(ok->proto)) {
		uint8_t type = ok->dport >> 8;
		uint8_t req = ok->proto == FE_IPPROTO_ICMP ? 8 : 128;
		uint8_t rep = ok->proto == FE_IPPROTO_ICMP ? 0 : 129;

		t->sport = 0;
		if (type == req) {
			t->forced_dir = 0;
		} else if (type == rep) {
			t->forced_dir = 1;
			t->dport = (uint16_t)(req << 8 | (ok->dport & 0xff));
		}
		k->port[1] = t->dport;
		/* echo: the requester first, so A pinging B and B pinging A
		 * are two conversations; other types: sorted
		 */
		if (t->forced_dir >= 0)
			swap = t->forced_dir == 1;
		else
			swap = memcmp(t->src, t->dst, 16) > 0;
		memcpy(k->addr[0], swap ? t->dst : t->src, 16);
		memcpy(k->addr[1], swap ? t->src : t->dst, 16);
		return 0;
	}
sort:
	swap = memcmp(t->src, t->dst, 16) > 0 ||
	       (!memcmp(t->src, t->dst, 16) && t->sport > t->dport);
	memcpy(k->addr[0], swap ? t->dst : t->src, 16);
	memcpy(k->addr[1], swap ? t->src : t->dst, 16);
	k->port[0] = swap ? t->dport : t->sport;
	k->port[1] = swap ? t->sport : t->dport;
	return 0;
}

static struct fc_entry *fc_lookup(struct flowcache *fc, const struct fc_key *k,
				  uint64_t h)
{
	struct fc_entry *e;

	for (e = fc->buckets[h & (fc->nbuckets - 1)]; e; e = e->hnext)
		if (e->hash == h && !memcmp(&e->key, k, sizeof(*k)))
			return e;
	return NULL;
}

/* Doubles the table when it averages more than one entry per bucket; on
 * allocation failure the old table stays (longer chains, still correct).
 */
static void fc_maybe_grow(struct flowcache *fc)
{
	size_t n = fc->nbuckets * 2, i;
	struct fc_entry **b, *e, *next;

	if (fc->count <= fc->nbuckets)
		return;
	b = calloc(n, sizeof(*b));
	if (!b)
		return;
	for (i = 0; i < fc->nbuckets; i++) {
		for (e = fc->buckets[i]; e; e = next) {
			next = e->hnext;
			e->hnext = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(fc->buckets);
	fc->buckets = b;
	fc->nbuckets = n;
}

static void fc_unhash(struct flowcache *fc, struct fc_entry *e)
{
	struct fc_entry **pp = &fc->buckets[e->hash & (fc->nbuckets - 1)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
}

static void fc_remove(struct flowcache *fc, struct fc_entry *e)
{
	fc_unhash(fc, e);
	fe_list_del(&e->lru);
	fe_list_del(&e->act);
	fe_list_del(&e->end);
	fc->count--;
	fc_entry_free(e);
}

static bool fc_same_group(const struct fe_path *a, const struct fe_path *b)
{
	bool any = (!a->in_if && !a->out_if) || (!b->in_if && !b->out_if);

	return a->in_if == b->in_if || any;
}

/* Nets one counter (0 packets, 1 octets) of a direction: a negative (X,0)
 * takes back from the positive paths entering by X. Their sum is what
 * entered by X and was not yet exported, which is never negative unless
 * the meters disagree, so after this the negative balances are only such
 * disagreements (carried, clamped at the final export).
 */
static void fc_dir_net(struct fe_conv_dir *d, int which)
{
	int i, j;

	for (i = 0; i < d->npaths; i++) {
		struct fe_path *n = &d->paths[i];
		int64_t *nv = which ? &n->octets : &n->packets;

		for (j = 0; j < d->npaths && *nv < 0; j++) {
			struct fe_path *p = &d->paths[j];
			int64_t *pv = which ? &p->octets : &p->packets;
			int64_t m;

			if (j == i || *pv <= 0 || !fc_same_group(n, p))
				continue;
			m = -*nv < *pv ? -*nv : *pv;
			*nv += m;
			*pv -= m;
		}
	}
}

static void fc_conv_net(struct fe_conv *c)
{
	int d;

	for (d = 0; d < 2; d++) {
		fc_dir_net(&c->dir[d], 0);
		fc_dir_net(&c->dir[d], 1);
	}
}

static bool fc_conv_has_data(const struct fe_conv *c)
{
	int d, i;

	for (d = 0; d < 2; d++)
		for (i = 0; i < c->dir[d].npaths; i++)
			if (c->dir[d].paths[i].packets > 0 ||
			    c->dir[d].paths[i].octets > 0)
				return true;
	return false;
}

static uint64_t fc_conv_negative_packets(const struct fe_conv *c)
{
	uint64_t neg = 0;
	int d, i;

	for (d = 0; d < 2; d++)
		for (i = 0; i < c->dir[d].npaths; i++)
			if (c->dir[d].paths[i].packets < 0)
				neg += (uint64_t)-c->dir[d].paths[i].packets;
	return neg;
}

/* The last export of a conversation; returns whether it emitted. */
static bool fc_finish(struct flowcache *fc, struct fc_entry *e, uint8_t reason,
		      flowcache_emit_fn emit, void *ctx)
{
	bool has;

	fc_conv_net(&e->c);
	has = fc_conv_has_data(&e->c);
	if (has) {
		if (emit)
			emit(ctx, &e->c, reason);
		fc->st.exported[reason]++;
	} else {
		fc->st.removed_empty++;
	}
	fc->st.dedup_clamped_packets += fc_conv_negative_packets(&e->c);
	fc_remove(fc, e);
	return has;
}

static void fc_conv_reset(struct fe_conv *c)
{
	int d, i;

	for (d = 0; d < 2; d++) {
		for (i = 0; i < c->dir[d].npaths; i++) {
			struct fe_path *p = &c->dir[d].paths[i];

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
}

/* Active timeout: export the deltas and keep the conversation. */
static bool fc_active_export(struct flowcache *fc, struct fc_entry *e,
			     uint64_t now, flowcache_emit_fn emit, void *ctx)
{
	bool has;

	fc_conv_net(&e->c);
	has = fc_conv_has_data(&e->c);
	if (has) {
		if (emit)
			emit(ctx, &e->c, FE_END_ACTIVE);
		fc->st.exported[FE_END_ACTIVE]++;
		fc_conv_reset(&e->c);
		e->c.exported = true;
	} else {
		fc->st.active_skipped++;
	}
	e->c.last_export_ms = now;
	fe_list_move_tail(&fc->act, &e->act);
	return has;
}

/* Evicts least recently active conversations until at most max remain. */
static size_t fc_shrink(struct flowcache *fc, size_t max,
			flowcache_emit_fn emit, void *ctx)
{
	size_t n = 0;

	while (fc->count > max && !fe_list_empty(&fc->lru))
		n += fc_finish(fc, fc_entry_of(fc->lru.next, lru),
			       FE_END_RESOURCES, emit, ctx);
	return n;
}

static uint64_t fc_now(struct flowcache *fc, uint64_t now_ms)
{
	if (now_ms > fc->clock)
		fc->clock = now_ms;
	return fc->clock;
}

static struct fc_entry *fc_create(struct flowcache *fc, const struct fc_key *k,
				  uint64_t h, const struct fc_tuple *t,
				  uint64_t now)
{
	struct fc_entry *e = calloc(1, sizeof(*e));
	struct fe_conv *c;
	bool flip;

	if (!e)
		return NULL;
	e->key = *k;
	e->hash = h;
	c = &e->c;
	c->family = k->family;
	c->proto = k->proto;
	c->kflags = k->kflags;
	c->vlan = k->vlan;
	c->ovf_if = k->ovf_if;
	c->ovf_in_if = k->ovf_in_if;
	c->ovf_dir = k->ovf_dir;
	/* Side 0 is the source of the first observation, except that an echo
	 * reply's destination is the requester.
	 */
	flip = t->forced_dir == 1;
	memcpy(c->addr[0], flip ? t->dst : t->src, 16);
	memcpy(c->addr[1], flip ? t->src : t->dst, 16);
	if (FE_PROTO_IS_ICMP(k->proto) && !k->kflags) {
		c->port[0] = 0;
		c->port[1] = t->dport;
		c->init_known = t->forced_dir >= 0;
	} else {
		c->port[0] = t->sport;
		c->port[1] = t->dport;
	}
	c->last_export_ms = now;
	c->active_ms = now;
	fe_list_init(&e->end);
	fe_list_add_tail(&fc->lru, &e->lru);
	fe_list_add_tail(&fc->act, &e->act);
	e->hnext = fc->buckets[h & (fc->nbuckets - 1)];
	fc->buckets[h & (fc->nbuckets - 1)] = e;
	fc->count++;
	fc->st.created++;
	fc_maybe_grow(fc);
	return e;
}

static int fc_obs_dir(const struct fe_conv *c, const struct fc_tuple *t)
{
	if (c->kflags & FE_KEY_OVERFLOW)
		return 0;
	if (t->forced_dir >= 0)
		return t->forced_dir;
	if (!memcmp(t->src, c->addr[0], 16) && t->sport == c->port[0])
		return 0;
	return 1;
}

static void fc_conv_swap(struct fe_conv *c)
{
	struct fe_conv_dir d = c->dir[0];
	uint8_t a[16];
	uint16_t p = c->port[0];

	memcpy(a, c->addr[0], 16);
	memcpy(c->addr[0], c->addr[1], 16);
	memcpy(c->addr[1], a, 16);
	c->port[0] = c->port[1];
	c->port[1] = p;
	c->dir[0] = c->dir[1];
	c->dir[1] = d;
}

/* Room for two more paths, so one observation updates all or nothing. */
static int fc_dir_reserve(struct fe_conv_dir *d)
{
	uint16_t cap;
	struct fe_path *p;

	if (d->npaths + 2 <= d->cap || d->cap >= FE_CONV_MAX_PATHS)
		return 0;
	cap = d->cap ? d->cap * 2 : 2;
	if (cap > FE_CONV_MAX_PATHS)
		cap = FE_CONV_MAX_PATHS;
	p = realloc(d->paths, cap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	d->paths = p;
	d->cap = cap;
	return 0;
}

static struct fe_path *fc_path_new(struct fe_conv_dir *d, uint32_t in_if,
				   uint32_t out_if, uint8_t flow_dir)
{
	struct fe_path *p = &d->paths[d->npaths++];

	memset(p, 0, sizeof(*p));
	p->in_if = in_if;
	p->out_if = out_if;
	p->flow_dir = flow_dir;
	return p;
}

/* Finds or makes path (in_if, out_if). The last slot is kept for the
 * catch-all (0,0) so a direction with too many paths still counts every
 * packet.
 */
static struct fe_path *fc_path_get(struct flowcache *fc, struct fe_conv_dir *d,
				   uint32_t in_if, uint32_t out_if,
				   uint8_t flow_dir)
{
	int i;

	for (i = 0; i < d->npaths; i++)
		if (d->paths[i].in_if == in_if && d->paths[i].out_if == out_if)
			return &d->paths[i];
	if (d->npaths < FE_CONV_MAX_PATHS - 1)
		return fc_path_new(d, in_if, out_if, flow_dir);
	fc->st.path_merged++;
	for (i = 0; i < d->npaths; i++)
		if (!d->paths[i].in_if && !d->paths[i].out_if)
			return &d->paths[i];
	return fc_path_new(d, 0, 0, flow_dir);
}

static void fc_path_observe(struct fe_path *p, const struct fe_obs *o)
{
	p->packets += (int64_t)o->packets;
	p->octets += (int64_t)o->octets;
	if (!p->seen || o->first_ms < p->first_ms)
		p->first_ms = o->first_ms;
	if (!p->seen || o->last_ms > p->last_ms)
		p->last_ms = o->last_ms;
	if (!p->seen || o->ttl_min < p->ttl_min)
		p->ttl_min = o->ttl_min;
	if (!p->seen || o->ttl_max > p->ttl_max)
		p->ttl_max = o->ttl_max;
	p->tcp_flags |= o->tcp_flags;
	p->tos = o->tos;
	p->flow_label = o->flow_label;
	p->icmp_type_code = FE_PROTO_IS_ICMP(o->key.proto) ? o->key.dport : 0;
	p->seen = true;
}

static void fc_dir_observe(struct fe_conv_dir *d, const struct fe_obs *o)
{
	if (!d->seen || o->first_ms < d->first_ms)
		d->first_ms = o->first_ms;
	if (!d->seen || o->last_ms > d->last_ms)
		d->last_ms = o->last_ms;
	if (!d->seen || o->ttl_min < d->ttl_min)
		d->ttl_min = o->ttl_min;
	if (!d->seen || o->ttl_max > d->ttl_max)
		d->ttl_max = o->ttl_max;
	d->tcp_flags |= o->tcp_flags;
	d->tos = o->tos;
	d->flow_label = o->flow_label;
	d->icmp_type_code = FE_PROTO_IS_ICMP(o->key.proto) ? o->key.dport : 0;
	d->seen = true;
}

/* The initiator is the side that sent a SYN; a conversation first seen
 * from the responder is turned round, unless it was already exported
 * under the other orientation.
 */
static int fc_conv_syn(struct flowcache *fc, struct fe_conv *c, int d,
		       const struct fe_obs *o)
{
	if (c->proto != 6 || c->kflags || !(o->vflags & FE_VAL_SYN))
		return d;
	if (d == 1 && !c->init_known && !c->exported) {
		fc_conv_swap(c);
		fc->st.swapped++;
		d = 0;
	}
	c->dir[d].syn = true;
	if (d == 0)
		c->init_known = true;
	return d;
}

static void fc_conv_check_end(struct flowcache *fc, struct fc_entry *e,
			      uint64_t now)
{
	struct fe_conv *c = &e->c;
	uint16_t f0 = c->dir[0].tcp_flags, f1 = c->dir[1].tcp_flags;

	if (c->ended || c->proto != 6 || (c->kflags & FE_KEY_OVERFLOW))
		return;
	if (((f0 | f1) & TCP_RST) || ((f0 & f1) & TCP_FIN)) {
		c->ended = true;
		c->end_ms = now;
		fe_list_add_tail(&fc->ended, &e->end);
	}
}

int flowcache__add(struct flowcache *fc, const struct fe_obs *o,
		   uint64_t now_ms, flowcache_emit_fn emit, void *ctx)
{
	const struct fe_flow_key *ok = &o->key;
	struct fe_conv_dir *cd;
	struct fe_path *p, *back = NULL;
	struct fc_entry *e;
	struct fc_tuple t;
	struct fc_key k;
	struct fe_conv *c;
	uint32_t in_if, out_if;
	uint64_t now = fc_now(fc, now_ms), h;
	int d;

	fc->st.obs++;
	if (ok->flags & FE_KEY_OVERFLOW)
		fc->st.obs_overflow++;
	if (fc_key_from_obs(o, &k, &t)) {
		fc->st.obs_invalid++;
		return -EINVAL;
	}
	if (!o->packets)
		return 0; /* the kernel's "no data on this CPU" */
	h = fc_hash(fc, &k);
	e = fc_lookup(fc, &k, h);
	if (!e) {
		fc_shrink(fc, fc->cfg.max_flows - 1, emit, ctx);
		e = fc_create(fc, &k, h, &t, now);
		if (!e) {
			fc->st.obs_nomem++;
			return -ENOMEM;
		}
	}
	c = &e->c;
	d = fc_conv_syn(fc, c, fc_obs_dir(c, &t), o);
	cd = &c->dir[d];
	if (fc_dir_reserve(cd)) {
		fc->st.obs_nomem++;
		return -ENOMEM;
	}
	if (ok->dir == FE_DIR_INGRESS) {
		in_if = ok->ifindex;
		out_if = 0;
	} else {
		in_if = ok->in_ifindex;
		out_if = ok->ifindex;
	}
	p = fc_path_get(fc, cd, in_if, out_if, ok->dir);
	fc_path_observe(p, o);
	/* The packet was already counted at in_if's ingress meter: take it
	 * back from there (after p: the catch-all may be both).
	 */
	if (!(ok->flags & FE_KEY_OVERFLOW) &&
	    fe_dedup_counted_at_ingress(
		    ok->dir, in_if, flowcache__ingress_metered(fc, in_if))) {
		back = fc_path_get(fc, cd, in_if, 0, FE_DIR_INGRESS);
		back->packets -= (int64_t)o->packets;
		back->octets -= (int64_t)o->octets;
		fc->st.dedup_packets += o->packets;
	}
	fc_dir_observe(cd, o);
	if (!c->start_ms || o->first_ms < c->start_ms)
		c->start_ms = o->first_ms;
	if (o->last_ms > c->last_ms)
		c->last_ms = o->last_ms;
	c->active_ms = now;
	fe_list_move_tail(&fc->lru, &e->lru);
	fc_conv_check_end(fc, e, now);
	return 0;
}

size_t flowcache__expire(struct flowcache *fc, uint64_t now_ms,
			 flowcache_emit_fn emit, void *ctx)
{
	uint64_t now = fc_now(fc, now_ms);
	struct fc_entry *e;
	size_t n;

	n = fc_shrink(fc, fc->cfg.max_flows, emit, ctx);
	while (!fe_list_empty(&fc->ended)) {
		e = fc_entry_of(fc->ended.next, end);
		if (e->c.end_ms + fc->cfg.end_grace_ms > now)
			break;
		n += fc_finish(fc, e, FE_END_EOF, emit, ctx);
	}
	/* Idle before active: a conversation due for both ends now. */
	while (!fe_list_empty(&fc->lru)) {
		e = fc_entry_of(fc->lru.next, lru);
		if (e->c.active_ms + fc->cfg.idle_timeout_ms > now)
			break;
		n += fc_finish(fc, e, FE_END_IDLE, emit, ctx);
	}
	while (!fe_list_empty(&fc->act)) {
		e = fc_entry_of(fc->act.next, act);
		if (e->c.last_export_ms + fc->cfg.active_timeout_ms > now)
			break;
		n += fc_active_export(fc, e, now, emit, ctx);
	}
	return n;
}

size_t flowcache__flush(struct flowcache *fc,
			bool (*match)(void *mctx, const struct fe_conv *c),
			void *mctx, uint64_t now_ms, flowcache_emit_fn emit,
			void *ctx)
{
	struct fe_list *n, *next;
	size_t removed = 0;

	fc_now(fc, now_ms);
	for (n = fc->lru.next; n != &fc->lru; n = next) {
		struct fc_entry *e = fc_entry_of(n, lru);

		next = n->next;
		if (match && !match(mctx, &e->c))
			continue;
		fc_finish(fc, e, FE_END_FORCED, emit, ctx);
		removed++;
	}
	return removed;
}

void flowcache__foreach(struct flowcache *fc,
			void (*fn)(void *ctx, const struct fe_conv *c),
			void *ctx)
{
	struct fe_list *n;

	for (n = fc->lru.next; n != &fc->lru; n = n->next)
		fn(ctx, &fc_entry_of(n, lru)->c);
}

void flowcache__stats(const struct flowcache *fc, struct flowcache_stats *st)
{
	*st = fc->st;
	st->flows = fc->count;
	st->buckets = fc->nbuckets;
}
