/* flowcache_log.c - the export log of a flow cache region that outlives
 * its process (flowcache_int.h, struct fc_log): every export of the cache
 * as a copy of the conversation's records, kept until each reader (a
 * collector) confirms it got it, and replayed to a reader after a
 * restart. The append is the commit of an export: the journal completes
 * an operation whose export is in the log, and undoes one whose is not.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "flowcache.h"
#include "flowcache_int.h"

#define HEAD_SET(l, v) __atomic_store_n(&(l)->head, (v), __ATOMIC_RELEASE)
#define TAIL_SET(l, v) __atomic_store_n(&(l)->tail, (v), __ATOMIC_RELEASE)

static char *log_base(const struct fc_store *s)
{
	return (char *)s->r + s->r->size;
}

static struct fc_log_entry *log_at(const struct fc_store *s, uint64_t pos)
{
	return (struct fc_log_entry *)(log_base(s) +
				       (pos % s->r->log.nslots) * FC_LOG_SLOT);
}

size_t flowcache__log_min_size(void)
{
	return (size_t)FC_LOG_MIN_SLOTS * FC_LOG_SLOT;
}

/* Drops the oldest entry (the ring is full). */
static void log_drop(struct fc_store *s)
{
	struct fc_log *l = &s->r->log;
	const struct fc_log_entry *e = log_at(s, l->tail);

	if (e->reason)
		l->dropped++;
	TAIL_SET(l, l->tail + (e->nslots ? e->nslots : 1));
}

uint64_t fcl_append(struct fc_store *s, struct fc_conv *c, uint8_t reason)
{
	struct fc_log *l = &s->r->log;
	uint32_t n = c->npaths[0] + c->npaths[1], k;
	uint32_t need = 3 + (n ? n - 1 : 0) + !!c->nat;
	uint64_t h = l->head, off = h % l->nslots;
	uint32_t fill = off + need > l->nslots ? l->nslots - (uint32_t)off : 0;
	struct fc_log_entry *e;
	struct fc_path *p;

	while (h + fill + need - l->tail > l->nslots)
		log_drop(s);
	if (fill) {
		e = log_at(s, h);
		e->pos = h;
		e->nslots = (uint16_t)fill;
		e->reason = 0;
	}
	e = log_at(s, h + fill);
	e->pos = h + fill;
	e->nslots = (uint16_t)need;
	e->reason = reason;
	e->npaths = (uint8_t)(n ? n - 1 : 0);
	e->conv = *c;
	k = 0;
	for (p = fcs_first(c) ? fcs_next(s, &c->path0) : NULL; p;
	     p = fcs_next(s, p))
		memcpy((char *)e + sizeof(*e) + (size_t)k++ * FC_LOG_SLOT, p,
		       FC_LOG_SLOT);
	/* the translation too: the store's record may be reused by then */
	e->nat = !!c->nat;
	if (c->nat)
		memcpy((char *)e + sizeof(*e) + (size_t)k * FC_LOG_SLOT,
		       fcs_nat(s, c), FC_LOG_SLOT);
	HEAD_SET(l, h + fill + need);
	return h + fill;
}

/* A conversation's view from a log entry: its records relinked in a
 * scratch store (paths at local indices 0..npaths-1, as fcs_path() finds
 * them from the scratch region's end).
 */
struct log_scratch {
	struct fc_region hdr;
	struct fc_path path[2 * FE_CONV_MAX_PATHS];
	struct fc_conv conv;
};

static const struct fe_conv *log_view(const struct fc_log_entry *e,
				      struct log_scratch *x,
				      struct fcc_view *buf)
{
	struct fc_store t = { .r = &x->hdr };
	uint32_t n = e->npaths;

	x->hdr.size = offsetof(struct log_scratch, conv);
	x->conv = e->conv;
	x->conv.path0.next = n ? 0 : FC_NIL;
	for (uint32_t k = 0; k < n; k++) {
		struct fc_path *p = fcs_path(&t, k);

		memcpy(p,
		       (const char *)e + sizeof(*e) + (size_t)k * FC_LOG_SLOT,
		       FC_LOG_SLOT);
		p->next = k + 1 < n ? k + 1 : FC_NIL;
	}
	x->conv.nat = 0;
	if (e->nat) {
		memcpy(fcs_path(&t, n),
		       (const char *)e + sizeof(*e) + (size_t)n * FC_LOG_SLOT,
		       FC_LOG_SLOT);
		x->conv.nat = n + 1;
	}
	return fcc_view(&t, &x->conv, buf);
}

static size_t log_replay(struct fc_store *s, int reader, struct fcc_view *buf,
			 flowcache_log_fn fn, void *ctx)
{
	const struct fc_log *l = &s->r->log;
	const struct fc_log_reader *rd = &l->reader[reader];
	uint64_t pos = rd->done > l->tail ? rd->done : l->tail;
	struct log_scratch x;
	size_t n = 0;

	while (pos < l->head) {
		const struct fc_log_entry *e = log_at(s, pos);
		uint64_t end = pos + (e->nslots ? e->nslots : 1);

		if (e->pos != pos)
			break; /* cannot be: an entry is where its pos says */
		if (e->reason) {
			fn(ctx, log_view(e, &x, buf), e->reason, end);
			n++;
		}
		pos = end;
	}
	return n;
}

/* The tail follows the slowest reader (none: nothing is kept). */
static void log_trim(struct fc_store *s)
{
	struct fc_log *l = &s->r->log;
	uint64_t min = l->head;

	for (int i = 0; i < FC_LOG_READERS; i++)
		if (l->reader[i].used && l->reader[i].done < min)
			min = l->reader[i].done;
	if (min > l->tail)
		TAIL_SET(l, min);
}

static void log_done(struct fc_store *s, int reader, uint64_t pos)
{
	struct fc_log_reader *rd = &s->r->log.reader[reader];

	if (pos > s->r->log.head)
		pos = s->r->log.head;
	if (pos > rd->done)
		__atomic_store_n(&rd->done, pos, __ATOMIC_RELEASE);
	log_trim(s);
}

static int log_readers(struct fc_store *s, const char *const *names, int n)
{
	struct fc_log *l = &s->r->log;
	struct fc_log_reader rd[FC_LOG_READERS];

	if (n > FC_LOG_READERS)
		return -EINVAL;
	memset(rd, 0, sizeof(rd));
	for (int i = 0; i < n; i++) {
		snprintf(rd[i].name, sizeof(rd[i].name), "%s", names[i]);
		rd[i].used = 1;
		rd[i].done = l->head; /* a new reader: nothing from before */
		for (int k = 0; k < FC_LOG_READERS; k++) {
			if (!l->reader[k].used ||
			    strcmp(l->reader[k].name, rd[i].name))
				continue;
			rd[i].done = l->reader[k].done;
			rd[i].sending = l->reader[k].sending;
		}
	}
	memcpy(l->reader, rd, sizeof(rd));
	log_trim(s);
	return 0;
}

/* ---- the public calls ---- */

uint64_t flowcache__log_head(const struct flowcache *fc)
{
	return fc->s.r->log.head;
}

int flowcache__log_readers(struct flowcache *fc, const char *const *names,
			   int n)
{
	return fc->s.journal ? log_readers(&fc->s, names, n) : -EINVAL;
}

void flowcache__log_done(struct flowcache *fc, int i, uint64_t pos)
{
	if (fc->s.journal && i >= 0 && i < FC_LOG_READERS)
		log_done(&fc->s, i, pos);
}

uint64_t flowcache__log_done_pos(const struct flowcache *fc, int i)
{
	return fc->s.r->log.reader[i].done;
}

void flowcache__log_mark(struct flowcache *fc, int i, bool on)
{
	if (fc->s.journal)
		fc->s.r->log.reader[i].sending = on;
}

bool flowcache__log_marked(const struct flowcache *fc, int i)
{
	return fc->s.journal && fc->s.r->log.reader[i].sending;
}

size_t flowcache__log_replay(struct flowcache *fc, int i, flowcache_log_fn fn,
			     void *ctx)
{
	if (!fc->s.journal || i < 0 || i >= FC_LOG_READERS ||
	    !fc->s.r->log.reader[i].used)
		return 0;
	return log_replay(&fc->s, i, &fc->view, fn, ctx);
}
