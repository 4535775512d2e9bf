/* flowcache_journal.c - a flow cache region that outlives its process
 * (flowcache_int.h, struct fc_journal): the before-image of the one
 * conversation an operation changes, the recovery of a region whose
 * process died midway, and the free lists, counts and expiry lists
 * rebuilt from the records (so that only records need to be consistent).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "flowcache_int.h"

#define OP_SET(j, v) __atomic_store_n(&(j)->op, (v), __ATOMIC_RELEASE)

/* FCJ_ADD once the conversation it creates exists: undone by freeing it. */
#define FCJ_ADD_NEW 5

void fcj_begin(struct fc_store *s, uint32_t op, uint32_t i, uint64_t tag,
	       uint64_t seq, uint64_t now)
{
	struct fc_journal *j = &s->r->journal;
	uint32_t n = 0;

	if (!s->journal)
		return;
	j->conv = i;
	j->tag = op == FCJ_ADD ? tag : j->last_tag;
	j->prev_tag = j->last_tag;
	j->seq = seq;
	j->now = now;
	if (i != FC_NIL) {
		const struct fc_conv *c = fcs_conv(s, i);
		uint32_t k =
			fcs_first((struct fc_conv *)c) ? c->path0.next : FC_NIL;

		j->conv_img = *c;
		for (; k != FC_NIL && n < 2 * FE_CONV_MAX_PATHS; n++) {
			j->path_idx[n] = k;
			j->path_img[n] = *fcs_path(s, k);
			k = j->path_img[n].next;
		}
		/* its translation too: a new one may reuse the record */
		if (c->nat) {
			j->path_idx[n] = c->nat - 1;
			j->path_img[n++] = *fcs_path(s, c->nat - 1);
		}
	}
	j->npaths = n;
	OP_SET(j, op);
}

/* op first, then conv: a death between the two stores leaves FCJ_ADD_NEW
 * on FC_NIL (nothing to undo: i is still free). conv first would leave
 * FCJ_ADD on i, and recovery would restore an older operation's image
 * into the free record: a second copy of another conversation.
 */
void fcj_created(struct fc_store *s, uint32_t i)
{
	struct fc_journal *j = &s->r->journal;

	if (!s->journal)
		return;
	OP_SET(j, FCJ_ADD_NEW);
	__atomic_store_n(&j->conv, i, __ATOMIC_RELEASE);
}

void fcj_end(struct fc_store *s)
{
	struct fc_journal *j = &s->r->journal;

	if (!s->journal)
		return;
	j->last_tag = j->tag;
	OP_SET(j, FCJ_NONE);
}

uint32_t fcj_restamp(uint32_t stamp, uint32_t old, uint64_t jump, uint64_t now)
{
	uint64_t age = (uint64_t)(uint32_t)(old - stamp) + jump;

	return (uint32_t)now - (uint32_t)(age > FC_NORM_MS ? FC_NORM_MS : age);
}

/* Restamps the live records not yet in epoch j->epoch: a pass cut by a
 * death goes on where it stopped.
 */
static void renorm_records(struct fc_store *s, const struct fc_journal *j)
{
	struct fc_region *r = s->r;
	uint32_t old = (uint32_t)j->old_clock;
	uint64_t jump = j->now - j->old_clock, now = j->now;
	uint8_t want = j->epoch & 1 ? FC_EPOCH : 0;

	for (uint32_t i = 0; i < r->nconv; i++) {
		struct fc_conv *c = fcs_conv(s, i);

		if (!(c->flags & FC_LIVE) || (c->flags & FC_EPOCH) == want)
			continue;
		c->active = fcj_restamp(c->active, old, jump, now);
		c->last_export = fcj_restamp(c->last_export, old, jump, now);
		c->end = fcj_restamp(c->end, old, jump, now);
		c->flags ^= FC_EPOCH;
	}
	r->epoch = j->epoch;
	r->norm_clock = now;
	r->clock = now;
}

void fcj_renorm(struct fc_store *s, uint64_t now)
{
	struct fc_journal *j = &s->r->journal;

	j->old_clock = s->r->clock;
	j->now = now;
	j->epoch = s->r->epoch + 1;
	if (s->journal)
		OP_SET(j, FCJ_RENORM);
	renorm_records(s, j);
	if (s->journal)
		OP_SET(j, FCJ_NONE);
}

static void restore(struct fc_store *s, const struct fc_journal *j)
{
	*fcs_conv(s, j->conv) = j->conv_img;
	for (uint32_t k = 0; k < j->npaths; k++)
		*fcs_path(s, j->path_idx[k]) = j->path_img[k];
}

/* Undoes the operation under way, then completes it if its export was
 * logged. Returns whether there was one.
 */
static bool recover_op(struct fc_store *s)
{
	struct fc_journal *j = &s->r->journal;
	bool logged = s->r->log.head > j->seq;
	struct fc_conv *c;

	if (j->op == FCJ_NONE)
		return false;
	if (j->op != FCJ_RENORM && j->conv >= s->r->nconv) {
		OP_SET(j, FCJ_NONE); /* cut before it touched a record */
		return true;
	}
	switch (j->op) {
	case FCJ_ADD:
	case FCJ_FINISH:
	case FCJ_ACTIVE:
		restore(s, j);
		break;
	case FCJ_ADD_NEW:
		fcs_conv(s, j->conv)->flags = 0;
		break;
	case FCJ_RENORM:
		renorm_records(s, j);
		break;
	}
	c = j->op == FCJ_RENORM ? NULL : fcs_conv(s, j->conv);
	if (j->op == FCJ_FINISH && logged)
		c->flags = 0;
	if (j->op == FCJ_ACTIVE && logged) {
		fcc_net(s, c);
		fcc_reset(s, c);
		c->flags |= FC_EXPORTED;
		c->last_export = (uint32_t)j->now;
	}
	if (j->op == FCJ_ADD || j->op == FCJ_ADD_NEW)
		j->last_tag = j->prev_tag;
	OP_SET(j, FCJ_NONE);
	return true;
}

/* Whether conversation c's path chain is sound: every index a path not
 * seen before (marked in used), and as many per direction as it counts.
 */
static bool chain_ok(struct fc_store *s, struct fc_conv *c, uint8_t *used)
{
	uint32_t n[2] = { 0, 0 }, k;
	struct fc_path *p = fcs_first(c);

	if (!p)
		return true;
	for (;;) {
		n[p->side]++;
		k = p->next;
		if (k == FC_NIL)
			break;
		if (k >= s->r->npath || (used[k / 8] & (1u << (k % 8))))
			return false;
		used[k / 8] |= (uint8_t)(1u << (k % 8));
		p = fcs_path(s, k);
	}
	return n[0] == c->npaths[0] && n[1] == c->npaths[1];
}

/* Sort keys: the oldest stamp first (ages against the clock), then by
 * record, in one 64-bit word.
 */
static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void relink(struct fc_store *s, uint64_t *keys, uint32_t n,
		   size_t stamp_off, size_t link_off, struct fe_ilist *l)
{
	struct fe_iarray a = { .base = (char *)s->r + FC_HDR_SIZE,
			       .stride = sizeof(struct fc_conv),
			       .off = link_off };
	uint32_t clock = (uint32_t)s->r->clock;

	for (uint32_t k = 0; k < n; k++) {
		uint32_t i = (uint32_t)keys[k];
		uint32_t st = *(uint32_t *)((char *)fcs_conv(s, i) + stamp_off);

		keys[k] = (uint64_t)(UINT32_MAX - (uint32_t)(clock - st))
				  << 32 |
			  i;
	}
	qsort(keys, n, sizeof(*keys), cmp_u64);
	fe_ilist_init(l);
	for (uint32_t k = 0; k < n; k++)
		fe_ilist_add_tail(l, &a, (uint32_t)keys[k]);
}

/* Free lists, count and the three lists, from the records alone. */
static int rebuild(struct fc_store *s, uint64_t *dropped)
{
	struct fc_region *r = s->r;
	uint8_t *used = calloc((size_t)r->npath / 8 + 1, 1);
	uint64_t *keys = malloc(((size_t)r->nconv + 1) * sizeof(*keys));
	uint32_t live = 0, ended = 0;

	if (!used || !keys) {
		free(used);
		free(keys);
		return -ENOMEM;
	}
	r->conv_free = FC_NIL;
	r->nconv_free = 0;
	for (uint32_t i = r->nconv; i-- > 0;) {
		struct fc_conv *c = fcs_conv(s, i);

		if ((c->flags & FC_LIVE) && !chain_ok(s, c, used)) {
			c->flags = 0; /* never seen: a record out of shape */
			(*dropped)++;
		}
		if (c->flags & FC_LIVE) {
			keys[live++] = i;
			continue;
		}
		c->lru.next = r->conv_free;
		r->conv_free = i;
		r->nconv_free++;
	}
	/* paths left unmarked by a chain_ok() that failed midway are free:
	 * that conversation is gone
	 */
	memset(used, 0, (size_t)r->npath / 8 + 1);
	for (uint32_t k = 0; k < live; k++) {
		struct fc_conv *c = fcs_conv(s, (uint32_t)keys[k]);

		chain_ok(s, c, used);
		/* a translated conversation's struct fc_nat lives among
		 * the paths: taken, though on no chain
		 */
		if (c->nat > r->npath)
			c->nat = 0;
		else if (c->nat)
			used[(c->nat - 1) / 8] |=
				(uint8_t)(1u << ((c->nat - 1) % 8));
	}
	r->path_free = FC_NIL;
	r->npath_free = 0;
	for (uint32_t k = r->npath; k-- > 0;) {
		if (used[k / 8] & (1u << (k % 8)))
			continue;
		fcs_path(s, k)->next = r->path_free;
		r->path_free = k;
		r->npath_free++;
	}
	r->count = live;
	relink(s, keys, live, offsetof(struct fc_conv, active),
	       offsetof(struct fc_conv, lru), &r->lru);
	relink(s, keys, live, offsetof(struct fc_conv, last_export),
	       offsetof(struct fc_conv, act), &r->act);
	for (uint32_t k = 0; k < live; k++)
		if (fcs_conv(s, (uint32_t)keys[k])->flags & FC_ENDED)
			keys[ended++] = (uint32_t)keys[k];
	relink(s, keys, ended, offsetof(struct fc_conv, end),
	       offsetof(struct fc_conv, ended), &r->ended);
	free(used);
	free(keys);
	return 0;
}

int fcj_recover(struct fc_store *s, uint64_t *redone, uint64_t *dropped)
{
	if (recover_op(s))
		(*redone)++;
	return rebuild(s, dropped);
}
