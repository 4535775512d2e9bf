/* flowcache.c - the conversation cache: conversations keyed by the
 * canonical 5-tuple, per-direction per-path counters with the dedup of
 * double sightings, drops and translations, the initiator, and the expiry
 * lists (idle, active, end of flow). The records and their index are
 * flowcache_store.c's, the take-back ledger flowcache_dedup.c's, the
 * translated conversations flowcache_nat.c's, walks, statistics and
 * link knowledge flowcache_read.c's.
 *
 * Clock stamps (active, last_export, end) keep the low 32 bits of the
 * cache clock: an age is (uint32_t)(clock - stamp). That holds while every
 * live stamp is younger than 2^31 ms, which fc_now() keeps: when the clock
 * has moved 2^30 ms since it last did, it clamps every age to 2^30, more
 * than any timeout (FLOWCACHE_MAX_TIMEOUT_MS), so what was due stays due.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "dedup.h"
#include "flowcache.h"
#include "flowcache_int.h"

#define TCP_FIN 0x01
#define TCP_RST 0x04

#define LRU(fc) FCS_LINKS(&(fc)->s, lru)
#define ACT(fc) FCS_LINKS(&(fc)->s, act)
#define ENDED(fc) FCS_LINKS(&(fc)->s, ended)

static bool fc_cfg_valid(const struct flowcache_cfg *cfg)
{
	return cfg && cfg->idle_timeout_ms && cfg->active_timeout_ms &&
	       cfg->max_flows &&
	       cfg->idle_timeout_ms <= FLOWCACHE_MAX_TIMEOUT_MS &&
	       cfg->active_timeout_ms <= FLOWCACHE_MAX_TIMEOUT_MS &&
	       cfg->end_grace_ms <= FLOWCACHE_MAX_TIMEOUT_MS;
}

static struct flowcache *fc_alloc(const struct flowcache_cfg *cfg)
{
	struct flowcache *fc;

	if (!fc_cfg_valid(cfg)) {
		errno = EINVAL;
		return NULL;
	}
	fc = calloc(1, sizeof(*fc));
	if (fc)
		fc->cfg = *cfg;
	return fc;
}

struct flowcache *flowcache__new_in(const struct flowcache_cfg *cfg,
				    const struct flowcache_mem *mem)
{
	struct flowcache *fc = fc_alloc(cfg);
	int err;

	if (!fc)
		return NULL;
	err = fcs_init(&fc->s, mem, mem ? mem->log_size : 0);
	if (err) {
		free(fc);
		errno = -err;
		return NULL;
	}
	return fc;
}

struct flowcache *flowcache__new(const struct flowcache_cfg *cfg)
{
	return flowcache__new_in(cfg, NULL);
}

static void fc_nat_leftovers(struct flowcache *fc);

struct flowcache *flowcache__adopt(const struct flowcache_cfg *cfg,
				   const struct flowcache_mem *mem,
				   void *region, size_t size)
{
	struct flowcache *fc = fc_alloc(cfg);
	int err;

	if (!fc)
		return NULL;
	err = fcs_adopt(&fc->s, mem, region, size);
	/* a journaled region may have been left by a death at any instant:
	 * its records are made consistent and everything else rebuilt
	 */
	if (!err && fc->s.journal)
		err = fcj_recover(&fc->s, &fc->s.redone, &fc->s.dropped);
	if (!err)
		err = fcs_reindex_records(&fc->s);
	if (!err && fcn_rebuild(&fc->nat, &fc->s))
		err = -ENOMEM;
	if (!err)
		fc_nat_leftovers(fc);
	if (err) {
		fc->s.r = NULL; /* the caller's */
		fcs_free(&fc->s);
		free(fc);
		errno = -err;
		return NULL;
	}
	fc->st.recovered_ops = fc->s.redone;
	fc->st.recovered_dropped = fc->s.dropped;
	return fc;
}

void flowcache__free(struct flowcache *fc)
{
	if (!fc)
		return;
	fcs_free(&fc->s);
	fcd_free(&fc->links, &fc->pend);
	fcd_orphans_free(&fc->orph);
	fcn_free(&fc->nat);
	free(fc);
}

int flowcache__set_cfg(struct flowcache *fc, const struct flowcache_cfg *cfg)
{
	if (!fc_cfg_valid(cfg))
		return -EINVAL;
	fc->cfg = *cfg;
	return 0;
}

/* The clock stamps: low 32 bits of the cache clock, aged modulo 2^32. */
static uint32_t fc_age(const struct flowcache *fc, uint32_t stamp)
{
	return (uint32_t)fc->s.r->clock - stamp;
}

static uint64_t fc_now(struct flowcache *fc, uint64_t now_ms)
{
	struct fc_region *r = fc->s.r;

	if (now_ms > r->clock) {
		if (now_ms - r->norm_clock >= FC_NORM_MS)
			fcj_renorm(&fc->s, now_ms);
		r->clock = now_ms;
	}
	return r->clock;
}

static void fc_prefetch(const struct flowcache *fc, uint32_t i)
{
	char *c = (char *)fcs_conv(&fc->s, i);

	__builtin_prefetch(c);
	__builtin_prefetch(c + 64, 1);
	__builtin_prefetch(c + 128, 1);
}

/* Expiry takes conversations off the lru head one by one: while c goes,
 * what its successor's removal will touch (its index slot and act list
 * neighbours, and the record after it) is fetched. The successor itself
 * was fetched by the previous call.
 */
static void fc_prefetch_after(const struct flowcache *fc,
			      const struct fc_conv *c)
{
	const struct fc_store *s = &fc->s;
	const struct fc_conv *x;

	if (c->lru.next == FC_NIL)
		return;
	x = fcs_conv(s, c->lru.next);
	__builtin_prefetch(&s->slots[x->hash & (s->nslots - 1)], 1);
	if (x->lru.next != FC_NIL)
		fc_prefetch(fc, x->lru.next);
	if (x->act.prev != FC_NIL)
		__builtin_prefetch(&fcs_conv(s, x->act.prev)->act, 1);
	if (x->act.next != FC_NIL)
		__builtin_prefetch(&fcs_conv(s, x->act.next)->act, 1);
}

static void fc_remove(struct flowcache *fc, uint32_t i)
{
	struct fc_conv *c = fcs_conv(&fc->s, i);
	struct fc_region *r = fc->s.r;

	fe_ilist_del(&r->lru, &LRU(fc), i);
	fe_ilist_del(&r->act, &ACT(fc), i);
	if (c->flags & FC_ENDED)
		fe_ilist_del(&r->ended, &ENDED(fc), i);
	if (c->nat)
		fcn_remove(&fc->nat, &fc->s, c);
	fcs_remove(&fc->s, i);
}

/* An export: logged first (a journaled cache), then emitted. */
static void fc_export(struct flowcache *fc, struct fc_conv *c, uint8_t reason,
		      flowcache_emit_fn emit, void *ctx)
{
	if (fc->s.journal)
		fcl_append(&fc->s, c, reason);
	if (emit)
		emit(ctx, fcc_view(&fc->s, c, &fc->view), reason);
	fc->st.exported[reason]++;
}

/* The last export of a conversation; returns whether it emitted. */
static bool fc_finish(struct flowcache *fc, uint32_t i, uint8_t reason,
		      flowcache_emit_fn emit, void *ctx)
{
	struct fc_conv *c = fcs_conv(&fc->s, i);
	bool has;

	fcj_begin(&fc->s, FCJ_FINISH, i, 0, fc->s.r->log.head, 0);
	has = fcc_net(&fc->s, c);
	if (has)
		fc_export(fc, c, reason, emit, ctx);
	else
		fc->st.removed_empty++;
	fc->st.dedup_clamped_packets += fcc_negative_packets(&fc->s, c);
	fcd_orphans_note(&fc->orph, &fc->s, c);
	fc_remove(fc, i);
	fcj_end(&fc->s);
	return has;
}

/* Active timeout: export the deltas and keep the conversation. */
static bool fc_active_export(struct flowcache *fc, uint32_t i, uint64_t now,
			     flowcache_emit_fn emit, void *ctx)
{
	struct fc_conv *c = fcs_conv(&fc->s, i);
	bool has;

	fcj_begin(&fc->s, FCJ_ACTIVE, i, 0, fc->s.r->log.head, now);
	has = fcc_net(&fc->s, c);
	if (has) {
		fc_export(fc, c, FE_END_ACTIVE, emit, ctx);
		fcc_reset(&fc->s, c);
		c->flags |= FC_EXPORTED;
	} else {
		fc->st.active_skipped++;
	}
	c->last_export = (uint32_t)now;
	fe_ilist_move_tail(&fc->s.r->act, &ACT(fc), i);
	fcj_end(&fc->s);
	return has;
}

/* Evicts least recently active conversations until at most max remain. */
static size_t fc_shrink(struct flowcache *fc, size_t max,
			flowcache_emit_fn emit, void *ctx)
{
	struct fc_region *r = fc->s.r;
	size_t n = 0;

	while (r->count > max && r->lru.head != FC_NIL) {
		fc_prefetch_after(fc, fcs_conv(&fc->s, r->lru.head));
		n += fc_finish(fc, r->lru.head, FE_END_RESOURCES, emit, ctx);
	}
	return n;
}

/* Room for nconv conversations and npath paths. A fixed region that is
 * full makes it by exporting the least recently active conversations
 * (reason 5) but keep; one that cannot grow loses the observation.
 */
static int fc_room(struct flowcache *fc, uint32_t keep, uint32_t nconv,
		   uint32_t npath, flowcache_emit_fn emit, void *ctx)
{
	struct fc_region *r = fc->s.r;
	uint32_t v;

	while (fcs_reserve(&fc->s, nconv, npath)) {
		v = r->lru.head;
		if (v == keep && v != FC_NIL)
			v = fcs_conv(&fc->s, v)->lru.next;
		if (!r->fixed || v == FC_NIL)
			return -ENOMEM;
		fc_finish(fc, v, FE_END_RESOURCES, emit, ctx);
		fc->st.evicted_full++;
		r = fc->s.r;
	}
	return 0;
}

/* ---- the initiator ---- */

/* Conversations made in this drain: the side that sent the first packet
 * is the initiator (as if the drain had been sorted by first packet).
 */
static int fc_conv_first(struct flowcache *fc, struct fc_conv *c, int d,
			 const struct fe_obs *o, const struct fc_tuple *t)
{
	struct fc_path *ps[FE_CONV_MAX_PATHS];
	uint64_t first = UINT64_MAX;
	int n, s = !!(c->flags & FC_SIDE);
	bool client0 = c->key.port[s] > c->key.port[!s];
	bool client = o->key.sport > o->key.dport;

	if (d != 1 || !fc->s.r->batch || c->batch != (uint8_t)fc->s.r->batch ||
	    (c->flags & (FC_INIT | FC_EXPORTED)) || t->forced_dir >= 0 ||
	    (c->key.kflags & FE_KEY_OVERFLOW))
		return d;
	n = fcc_dir_paths(&fc->s, c, 0, ps);
	for (int i = 0; i < n; i++)
		if (ps[i]->seen && ps[i]->first_ms < first)
			first = ps[i]->first_ms;
	if (fcc_ms(o->first_ms) < first ||
	    (fcc_ms(o->first_ms) == first && client && !client0)) {
		fcc_swap(&fc->s, c);
		fc->st.reoriented++;
		return 0;
	}
	return d;
}

/* The initiator is the side that sent a SYN; a conversation first seen
 * from the responder is turned round, unless it was already exported
 * under the other orientation.
 */
static int fc_conv_syn(struct flowcache *fc, struct fc_conv *c, int d,
		       const struct fe_obs *o)
{
	if (c->key.proto != 6 || c->key.kflags || !(o->vflags & FE_VAL_SYN))
		return d;
	if (d == 1 && !(c->flags & (FC_INIT | FC_EXPORTED))) {
		fcc_swap(&fc->s, c);
		fc->st.swapped++;
		d = 0;
	}
	c->flags |= d ? FC_SYN1 : FC_SYN0;
	if (d == 0)
		c->flags |= FC_INIT;
	return d;
}

static void fc_conv_check_end(struct flowcache *fc, struct fc_conv *c,
			      uint64_t now)
{
	struct fc_path *p;
	uint16_t f[2] = { 0, 0 };

	if ((c->flags & FC_ENDED) || c->key.proto != 6 ||
	    (c->key.kflags & FE_KEY_OVERFLOW))
		return;
	fcs_for_each_path(&fc->s, c, p) f[p->side] |= p->tcp_flags;
	if (((f[0] | f[1]) & TCP_RST) || ((f[0] & f[1]) & TCP_FIN)) {
		c->flags |= FC_ENDED;
		c->end = (uint32_t)now;
		fe_ilist_add_tail(&fc->s.r->ended, &ENDED(fc),
				  fcs_index(&fc->s, c));
	}
}

/* A new conversation for key k (room reserved), by index: side 0 is the
 * source of the first observation, except that an echo reply's
 * destination is the requester.
 */
static uint32_t fc_create(struct flowcache *fc, const struct fc_key *k,
			  uint32_t h, const struct fc_tuple *t, uint64_t now)
{
	uint32_t i = fcs_take_conv(&fc->s);
	struct fc_conv *c = fcs_conv(&fc->s, i);
	struct fc_region *r = fc->s.r;
	int init = t->forced_dir == 1 ? !t->side : t->side;

	fcj_created(&fc->s, i);
	c->key = *k;
	c->hash = h;
	c->flags =
		FC_LIVE | (init ? FC_SIDE : 0) | (r->epoch & 1 ? FC_EPOCH : 0);
	if (FE_PROTO_IS_ICMP(k->proto) && !k->kflags && t->forced_dir >= 0)
		c->flags |= FC_INIT;
	c->batch = (uint8_t)r->batch;
	c->last_export = c->active = (uint32_t)now;
	c->path0.next = FC_NIL;
	fe_ilist_add_tail(&r->lru, &LRU(fc), i);
	fe_ilist_add_tail(&r->act, &ACT(fc), i);
	fcs_insert(&fc->s, i);
	fc->st.created++;
	return i;
}

/* The direction of an observation: the key side of its source, relative
 * to the initiator's.
 */
static int fc_obs_dir(const struct fc_conv *c, const struct fc_tuple *t)
{
	if (c->key.kflags & FE_KEY_OVERFLOW)
		return 0;
	if (t->forced_dir >= 0)
		return t->forced_dir;
	return t->side ^ !!(c->flags & FC_SIDE);
}

void flowcache__batch(struct flowcache *fc)
{
	struct fc_region *r = fc->s.r;

	fc_settle(fc);
	fcd_orphans_age(&fc->orph);
	r->batch = (uint8_t)(r->batch + 1) ? (uint8_t)(r->batch + 1) : 1;
}

/* Where o goes: path (in_if, out_if), and the take-back (in_if, 0) of a
 * packet the ingress meter of in_if already counted (back); or, for a
 * drop (FE_KIND_DROP), from path (in_if, out_if) to its drop record.
 */
struct fc_where {
	uint32_t in_if, out_if;
	bool back;
	bool drop;
};

static struct fc_where fc_where(const struct flowcache *fc,
				const struct fe_obs *o)
{
	const struct fe_flow_key *ok = &o->key;
	struct fc_where w;

	w.in_if = ok->dir == FE_DIR_INGRESS ? ok->ifindex : ok->in_ifindex;
	w.out_if = ok->dir == FE_DIR_INGRESS ? 0 : ok->ifindex;
	w.drop = ok->kind == FE_KIND_DROP;
	w.back = !w.drop && !(ok->flags & FE_KEY_OVERFLOW) &&
		 fe_dedup_counted_at_ingress(
			 ok->dir, w.in_if,
			 flowcache__ingress_metered(fc, w.in_if));
	return w;
}

/* The path records w needs in direction d, for fcc_paths_to_make(). */
static int fc_wants(const struct fc_where *w, uint8_t dir, struct fcc_want *out)
{
	out[0] = (struct fcc_want){ w->in_if, w->out_if, dir, false };
	if (w->drop)
		out[1] = (struct fcc_want){ w->in_if, w->out_if, dir, true };
	else if (w->back)
		out[1] =
			(struct fcc_want){ w->in_if, 0, FE_DIR_INGRESS, false };
	return w->drop || w->back ? 2 : 1;
}

/* The paths of o (room for them reserved): the take-back after the path
 * o lands on, since the catch-all may be both. A take-back beyond what
 * the ingress path's ledger holds waits for the drain to be settled.
 */
static void fc_obs_paths(struct flowcache *fc, struct fc_conv *c, int d,
			 const struct fe_obs *o, const struct fc_where *w)
{
	struct fcc_want want[2];
	struct fc_path *p, *back;

	fc_wants(w, o->key.dir, want);
	p = fcc_path_get(&fc->s, c, d, &want[0], &fc->st.path_merged);
	if (w->drop) {
		/* packets the egress meter counted and the stack dropped:
		 * from the path to its drop record
		 */
		back = fcc_path_get(&fc->s, c, d, &want[1],
				    &fc->st.path_merged);
		p->packets -= (int64_t)o->packets;
		p->octets -= (int64_t)o->octets;
		back->packets += (int64_t)o->packets;
		back->octets += (int64_t)o->octets;
		fc->st.obs_dropped++;
		return;
	}
	fcc_path_observe(p, o);
	if (!w->back)
		return;
	back = fcc_path_get(&fc->s, c, d, &want[1], &fc->st.path_merged);
	back->packets -= (int64_t)o->packets;
	back->octets -= (int64_t)o->octets;
	fc->st.dedup_packets += o->packets;
	if ((int64_t)back->total_packets + back->packets < 0 ||
	    (int64_t)back->total_octets + back->octets < 0)
		fcd_pend(&fc->pend, fcs_index(&fc->s, c));
}

/* An observation with its key and hash worked out ahead (ok: valid and
 * with packets), and the record it is likely to land on.
 */
struct fc_ahead {
	struct fc_key k;
	struct fc_tuple t;
	uint32_t h;
	uint32_t conv;
	int err; /* of the key: -EINVAL, or 1 for "nothing to add" */
};

static void fc_ahead_key(struct flowcache *fc, const struct fe_obs *o,
			 struct fc_ahead *a)
{
	a->conv = FC_NIL;
	a->err = fcc_key(o, &a->k, &a->t);
	if (!a->err && !o->packets)
		a->err = 1; /* the kernel's "no data on this CPU" */
	if (a->err)
		return;
	a->h = fcs_hash(&fc->s, &a->k);
	__builtin_prefetch(&fc->s.slots[a->h & (fc->s.nslots - 1)]);
}

/* Reads the (prefetched) index slots: the record to prefetch. */
static void fc_ahead_slot(struct flowcache *fc, struct fc_ahead *a)
{
	const struct fc_store *s = &fc->s;
	uint32_t mask = s->nslots - 1, i;

	if (a->err)
		return;
	for (i = a->h & mask; s->slots[i].conv != FC_NIL; i = (i + 1) & mask) {
		if (s->slots[i].hash == a->h) {
			a->conv = s->slots[i].conv;
			break;
		}
	}
	if (a->conv != FC_NIL && a->conv < s->r->nconv)
		fc_prefetch(fc, a->conv);
}

/* Reads the (prefetched) record: its lru neighbours to prefetch, which
 * the move to the lru tail writes.
 */
static void fc_ahead_links(struct flowcache *fc, const struct fc_ahead *a)
{
	const struct fc_store *s = &fc->s;
	const struct fc_conv *c;

	if (a->conv == FC_NIL || a->conv >= s->r->nconv)
		return;
	c = fcs_conv(s, a->conv);
	if (c->lru.prev < s->r->nconv)
		__builtin_prefetch(&fcs_conv(s, c->lru.prev)->lru, 1);
	if (c->lru.next < s->r->nconv)
		__builtin_prefetch(&fcs_conv(s, c->lru.next)->lru, 1);
}

/* A packet that came in by a VRF's (bridge's, bond's) master was counted
 * by the ingress meter of its slave: the take-back or drop is that one's.
 * d is the direction before any swap, which only relabels the ledger.
 */
static void fc_vrf_in(const struct flowcache *fc, struct fc_conv *c, int d,
		      struct fc_where *w)
{
	if ((w->back || w->drop) && !fcd_metered(&fc->links, w->in_if) &&
	    fcd_counted(&fc->links, w->in_if))
		w->in_if = fcd_take_from(&fc->links, &fc->s, c, d, w->in_if);
}

/* Makes the conversation of o (room found first, then journaled) and
 * returns its index, or FC_NIL.
 */
static uint32_t fc_add_new(struct flowcache *fc, const struct fc_ahead *a,
			   const struct fc_where *w, uint64_t tag, uint64_t now,
			   flowcache_emit_fn emit, void *ctx)
{
	fc_shrink(fc, fc->cfg.max_flows - 1, emit, ctx);
	if (fc_room(fc, FC_NIL, 1, w->back || w->drop, emit, ctx))
		return FC_NIL;
	fcj_begin(&fc->s, FCJ_ADD, FC_NIL, tag, 0, 0);
	return fc_create(fc, &a->k, a->h, &a->t, now);
}

static int fc_add(struct flowcache *fc, const struct fe_obs *o,
		  const struct fc_ahead *a, uint64_t tag, uint64_t now,
		  flowcache_emit_fn emit, void *ctx)
{
	struct fcc_want want[2];
	struct fc_where w;
	struct fc_tuple t;
	struct fc_conv *c;
	uint32_t i, need;
	int d, nw;

	fc->st.obs++;
	if (o->key.flags & FE_KEY_OVERFLOW)
		fc->st.obs_overflow++;
	if (a->err < 0)
		fc->st.obs_invalid++;
	if (a->err)
		return a->err < 0 ? a->err : 0;
	w = fc_where(fc, o);
	t = a->t;
	/* room first, so that one observation updates all or nothing (and
	 * the journal saves the record before any change); the region may
	 * move when it grows: c is found again by its index. The paths to
	 * make are counted before a swap, which only relabels them. A packet
	 * metered on the translated side of a NAT finds its conversation
	 * under the alias.
	 */
	c = fcs_lookup(&fc->s, &a->k, a->h);
	if (!c) {
		c = fcn_lookup(&fc->nat, &fc->s, &a->k, a->h);
		if (c)
			t.side ^= fcs_nat(&fc->s, c)->flip;
	}
	if (c) {
		i = fcs_index(&fc->s, c);
		d = fc_obs_dir(c, &t);
		fc_vrf_in(fc, c, d, &w);
		nw = fc_wants(&w, o->key.dir, want);
		need = fcc_paths_to_make(&fc->s, c, d, want, nw);
		if (need && fc_room(fc, i, 0, need, emit, ctx))
			goto nomem;
		fcj_begin(&fc->s, FCJ_ADD, i, tag, 0, 0);
	} else {
		i = fc_add_new(fc, a, &w, tag, now, emit, ctx);
		if (i == FC_NIL)
			goto nomem;
		c = fcs_conv(&fc->s, i);
		d = fc_obs_dir(c, &t);
		fc_vrf_in(fc, c, d, &w);
		nw = fc_wants(&w, o->key.dir, want);
		/* within what fc_add_new() made room for */
		need = fcc_paths_to_make(&fc->s, c, d, want, nw);
		if (need && fcs_reserve(&fc->s, 0, need)) {
			fcj_end(&fc->s);
			goto nomem;
		}
	}
	c = fcs_conv(&fc->s, i);
	d = fc_obs_dir(c, &t);
	if (!w.drop)
		d = fc_conv_syn(fc, c, fc_conv_first(fc, c, d, o, &t), o);
	fc_obs_paths(fc, c, d, o, &w);
	c->active = (uint32_t)now;
	fe_ilist_move_tail(&fc->s.r->lru, &LRU(fc), fcs_index(&fc->s, c));
	if (!w.drop) {
		c->tos[d] = o->tos;
		c->flow_label[d] = o->flow_label;
		c->icmp_tc[d] =
			FE_PROTO_IS_ICMP(o->key.proto) ? o->key.dport : 0;
		fc_conv_check_end(fc, c, now);
	}
	fcj_end(&fc->s);
	return 0;
nomem:
	fc->st.obs_nomem++;
	return -ENOMEM;
}

int flowcache__add(struct flowcache *fc, const struct fe_obs *o,
		   uint64_t now_ms, flowcache_emit_fn emit, void *ctx)
{
	uint64_t now = fc_now(fc, now_ms);
	struct fc_ahead a;

	fc_ahead_key(fc, o, &a);
	return fc_add(fc, o, &a, fc->s.r->journal.last_tag, now, emit, ctx);
}

/* How far ahead of the observation being added its successors' index
 * slots, records and lru neighbours are prefetched: a conversation is a
 * few cache misses (slot, record, neighbours) that, one observation at a
 * time, come one after the other; this way several are in flight.
 */
#define FC_AHEAD 16 /* ring size, a power of two */
#define FC_KEY_AHEAD 8
#define FC_SLOT_AHEAD 4
#define FC_LINK_AHEAD 2

size_t flowcache__add_many(struct flowcache *fc, const struct fe_obs *o,
			   size_t n, uint64_t now_ms, flowcache_emit_fn emit,
			   void *ctx)
{
	return flowcache__add_tagged(fc, o, NULL, n, now_ms, emit, ctx);
}

uint64_t flowcache__last_tag(const struct flowcache *fc)
{
	return fc->s.r->journal.last_tag;
}

size_t flowcache__add_tagged(struct flowcache *fc, const struct fe_obs *o,
			     const uint64_t *tags, size_t n, uint64_t now_ms,
			     flowcache_emit_fn emit, void *ctx)
{
	struct fc_ahead a[FC_AHEAD];
	uint64_t now = fc_now(fc, now_ms);
	size_t i, lost = 0;

	for (i = 0; i < n && i < FC_KEY_AHEAD; i++)
		fc_ahead_key(fc, &o[i], &a[i]);
	for (i = 0; i < n && i < FC_SLOT_AHEAD; i++)
		fc_ahead_slot(fc, &a[i]);
	for (i = 0; i < n; i++) {
		if (i + FC_KEY_AHEAD < n)
			fc_ahead_key(fc, &o[i + FC_KEY_AHEAD],
				     &a[(i + FC_KEY_AHEAD) % FC_AHEAD]);
		if (i + FC_SLOT_AHEAD < n)
			fc_ahead_slot(fc, &a[(i + FC_SLOT_AHEAD) % FC_AHEAD]);
		if (i + FC_LINK_AHEAD < n)
			fc_ahead_links(fc, &a[(i + FC_LINK_AHEAD) % FC_AHEAD]);
		if (fc_add(fc, &o[i], &a[i % FC_AHEAD],
			   tags ? tags[i] : fc->s.r->journal.last_tag, now,
			   emit, ctx) == -ENOMEM)
			lost++;
	}
	return lost;
}

/* Files conversation i under the translated key ak (room for the record
 * reserved); a translation it had before gives way.
 */
/* A NAT join commits the original conversation, then removes the one the
 * translated packets made: a death between the two leaves that one live
 * beside the alias that now leads to the original. It is a duplicate of
 * counts the original holds: removed, counted as redone.
 */
static void fc_nat_leftovers(struct flowcache *fc)
{
	for (uint32_t i = 0; i < fc->s.r->nconv; i++) {
		struct fc_conv *c = fcs_conv(&fc->s, i), *p;
		const struct fc_nat *n;

		if (!(c->flags & FC_LIVE) || !c->nat)
			continue;
		n = fcs_nat(&fc->s, c);
		p = fcs_lookup(&fc->s, &n->akey, n->hash);
		if (p && p != c) {
			fc_remove(fc, fcs_index(&fc->s, p));
			fc->s.redone++;
		}
	}
}

static int fc_nat_file(struct flowcache *fc, uint32_t i,
		       const struct fc_key *ak, uint32_t ah, uint8_t flip)
{
	struct fc_conv *c = fcs_conv(&fc->s, i);
	struct fc_nat *n;
	uint32_t k;

	if (c->nat)
		fcn_remove(&fc->nat, &fc->s, c);
	k = fcs_take_path(&fc->s);
	n = (struct fc_nat *)fcs_path(&fc->s, k);
	n->akey = *ak;
	n->flip = flip;
	n->hash = ah;
	c->nat = k + 1;
	if (fcn_insert(&fc->nat, &fc->s, i)) {
		fcs_put_path(&fc->s, k);
		c->nat = 0;
		return -ENOMEM;
	}
	fc->st.nat_learnt++;
	return 0;
}

int flowcache__nat(struct flowcache *fc, const struct fe_flow_key *orig,
		   const struct fe_nat_val *post, uint64_t now_ms,
		   flowcache_emit_fn emit, void *ctx)
{
	uint64_t now = fc_now(fc, now_ms);
	struct fc_key ok, ak;
	struct fc_conv *c, *p;
	struct fc_tuple ot;
	uint32_t h, ah, i, need;
	uint64_t tag;
	uint8_t flip;

	if (fcn_keys(orig, post, &ok, &ot, &ak, &flip)) {
		fc->st.obs_invalid++;
		return -EINVAL;
	}
	h = fcs_hash(&fc->s, &ok);
	ah = fcs_hash(&fc->s, &ak);
	c = fcs_lookup(&fc->s, &ok, h);
	if (c && c->nat && !memcmp(&fcs_nat(&fc->s, c)->akey, &ak, sizeof(ak)))
		return 0; /* known: every drain notes it again */
	i = c ? fcs_index(&fc->s, c) : FC_NIL; /* the region may move */
	if (!c)
		fc_shrink(fc, fc->cfg.max_flows - 1, emit, ctx);
	/* what the translated packets made meanwhile joins it */
	p = fcs_lookup(&fc->s, &ak, ah);
	need = 1 + (p ? p->npaths[0] + p->npaths[1] : 0);
	if (fc_room(fc, i, !c, need, emit, ctx))
		goto nomem;
	/* one journaled operation on the original conversation: its
	 * translation and what it takes from p; p goes after the commit
	 * (a death between leaves p a duplicate: fc_nat_leftovers())
	 */
	tag = fc->s.r->journal.last_tag;
	if (i != FC_NIL) {
		fcj_begin(&fc->s, FCJ_ADD, i, tag, 0, 0);
	} else {
		fcj_begin(&fc->s, FCJ_ADD, FC_NIL, tag, 0, 0);
		i = fc_create(fc, &ok, h, &ot, now);
	}
	if (fc_nat_file(fc, i, &ak, ah, flip)) {
		fcj_end(&fc->s);
		goto nomem;
	}
	p = fcs_lookup(&fc->s, &ak, ah);
	if (p) {
		c = fcs_conv(&fc->s, i);
		fcn_merge(&fc->s, c, p, flip, &fc->st.path_merged);
		fc_conv_check_end(fc, c, now);
	}
	fcj_end(&fc->s);
	if (p) {
		fc_remove(fc, fcs_index(&fc->s, p));
		fc->st.nat_merged++;
		fcd_pend(&fc->pend, i);
	}
	return 0;
nomem:
	fc->st.obs_nomem++;
	return -ENOMEM;
}

size_t flowcache__expire(struct flowcache *fc, uint64_t now_ms,
			 flowcache_emit_fn emit, void *ctx)
{
	struct fc_region *r;
	uint64_t now = fc_now(fc, now_ms);
	size_t n;

	fc_settle(fc);
	n = fc_shrink(fc, fc->cfg.max_flows, emit, ctx);
	r = fc->s.r;
	while (r->ended.head != FC_NIL) {
		if (fc_age(fc, fcs_conv(&fc->s, r->ended.head)->end) <
		    fc->cfg.end_grace_ms)
			break;
		n += fc_finish(fc, r->ended.head, FE_END_EOF, emit, ctx);
	}
	/* Idle before active: a conversation due for both ends now. */
	while (r->lru.head != FC_NIL) {
		struct fc_conv *c = fcs_conv(&fc->s, r->lru.head);

		if (fc_age(fc, c->active) < fc->cfg.idle_timeout_ms)
			break;
		fc_prefetch_after(fc, c);
		n += fc_finish(fc, r->lru.head, FE_END_IDLE, emit, ctx);
	}
	while (r->act.head != FC_NIL) {
		if (fc_age(fc, fcs_conv(&fc->s, r->act.head)->last_export) <
		    fc->cfg.active_timeout_ms)
			break;
		n += fc_active_export(fc, r->act.head, now, emit, ctx);
	}
	return n;
}

/* Exports every conversation (reason 4) and empties the cache at once, in
 * record order: no list or index update per conversation.
 */
static size_t fc_flush_all(struct flowcache *fc, flowcache_emit_fn emit,
			   void *ctx)
{
	struct fc_region *r = fc->s.r;
	size_t n = 0;

	for (uint32_t i = 0; i < r->nconv; i++) {
		struct fc_conv *c = fcs_conv(&fc->s, i);

		if (!(c->flags & FC_LIVE))
			continue;
		n++;
		/* journaled one by one; a record goes by its flags alone (a
		 * restart rebuilds lists and index from the records)
		 */
		fcj_begin(&fc->s, FCJ_FINISH, i, 0, r->log.head, 0);
		if (fcc_net(&fc->s, c))
			fc_export(fc, c, FE_END_FORCED, emit, ctx);
		else
			fc->st.removed_empty++;
		fc->st.dedup_clamped_packets += fcc_negative_packets(&fc->s, c);
		if (fc->s.journal)
			c->flags = 0;
		fcj_end(&fc->s);
	}
	fcs_clear(&fc->s);
	fcn_clear(&fc->nat);
	return n;
}

size_t flowcache__flush(struct flowcache *fc,
			bool (*match)(void *mctx, const struct fe_conv *c),
			void *mctx, uint64_t now_ms, flowcache_emit_fn emit,
			void *ctx)
{
	size_t removed = 0;

	fc_now(fc, now_ms);
	fc_settle(fc);
	if (!match)
		return fc_flush_all(fc, emit, ctx);
	/* record order: memory in sequence, and nothing moves meanwhile */
	for (uint32_t i = 0; i < fc->s.r->nconv; i++) {
		struct fc_conv *c = fcs_conv(&fc->s, i);

		if (!(c->flags & FC_LIVE) ||
		    !match(mctx, fcc_view(&fc->s, c, &fc->view)))
			continue;
		fc_finish(fc, i, FE_END_FORCED, emit, ctx);
		removed++;
	}
	return removed;
}
