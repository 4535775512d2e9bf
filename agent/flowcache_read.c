/* flowcache_read.c - the flow cache (see flowcache.h) as its readers and
 * the agent's link knowledge see it: walks, statistics, the region, which
 * links are metered at ingress and which are VRF (bridge, bond) masters.
 */
#include "flowcache_int.h"

void flowcache__foreach(struct flowcache *fc,
			void (*fn)(void *ctx, const struct fe_conv *c),
			void *ctx)
{
	uint32_t i;

	fc_settle(fc);
	for (i = fc->s.r->lru.head; i != FC_NIL;) {
		struct fc_conv *c = fcs_conv(&fc->s, i);

		i = c->lru.next;
		fn(ctx, fcc_view(&fc->s, c, &fc->view));
	}
}

bool flowcache__walk(struct flowcache *fc, uint32_t *cursor, size_t max,
		     void (*fn)(void *ctx, const struct fe_conv *c), void *ctx)
{
	uint32_t i = *cursor;
	size_t n = 0;

	fc_settle(fc);
	for (; i < fc->s.r->nconv && n < max; i++) {
		struct fc_conv *c = fcs_conv(&fc->s, i);

		if (!(c->flags & FC_LIVE))
			continue;
		fn(ctx, fcc_view(&fc->s, c, &fc->view));
		n++;
	}
	*cursor = i;
	return i < fc->s.r->nconv;
}

uint32_t flowcache__obs_hash(const struct flowcache *fc, const struct fe_obs *o)
{
	struct fc_tuple t;
	struct fc_key k;

	fcc_key(o, &k, &t);
	return fcs_hash(&fc->s, &k);
}

void flowcache__stats(const struct flowcache *fc, struct flowcache_stats *st)
{
	const struct fc_region *r = fc->s.r;

	*st = fc->st;
	st->flows = r->count;
	st->buckets = fc->s.nslots;
	st->paths = r->npath - r->npath_free;
	st->region_bytes = r->size + r->log_size;
	st->log_slots = r->log.nslots;
	st->log_used = r->log.head - r->log.tail;
	st->log_dropped = r->log.dropped;
}

void *flowcache__region(const struct flowcache *fc, size_t *size)
{
	*size = fc->s.r->size + fc->s.r->log_size;
	return fc->s.r;
}

bool flowcache__ingress_metered(const struct flowcache *fc, uint32_t ifindex)
{
	return fcd_counted(&fc->links, ifindex);
}

int flowcache__set_ingress_metered(struct flowcache *fc, uint32_t ifindex,
				   bool on)
{
	return fcd_set_metered(&fc->links, ifindex, on);
}

int flowcache__set_masters(struct flowcache *fc, const uint32_t (*pairs)[2],
			   size_t n)
{
	return fcd_set_masters(&fc->links, pairs, n);
}
