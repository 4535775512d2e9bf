/* flowcache_nat.c - conversations the router translates (NAT): the keys
 * of a translation, the alias index that files a conversation under its
 * translated key too (a chained hash whose links sit in the translation
 * records; rebuilt, like the main index, when a region is adopted), and
 * the merge of a conversation that translated packets made before the
 * translation was known.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "flowcache_int.h"

#define FCN_MIN_BUCKETS 256

static void fcn_tuple(struct fe_obs *o, const struct fe_flow_key *k,
		      const uint8_t *src, const uint8_t *dst, uint16_t sport,
		      uint16_t dport)
{
	memset(o, 0, sizeof(*o));
	o->key.family = k->family;
	o->key.proto = k->proto;
	memcpy(o->key.src, src, 16);
	memcpy(o->key.dst, dst, 16);
	o->key.sport = sport;
	o->key.dport = dport;
}

int fcn_keys(const struct fe_flow_key *orig, const struct fe_nat_val *post,
	     struct fc_key *ok, struct fc_tuple *ot, struct fc_key *ak,
	     uint8_t *flip)
{
	struct fc_tuple at;
	struct fe_obs o;
	int err;

	fcn_tuple(&o, orig, orig->src, orig->dst, orig->sport, orig->dport);
	err = fcc_key(&o, ok, ot);
	if (err)
		return err;
	fcn_tuple(&o, orig, post->src, post->dst, post->sport, post->dport);
	err = fcc_key(&o, ak, &at);
	if (err)
		return err;
	/* the original source sits on side ot->side of ok, its translation
	 * on side at.side of ak
	 */
	*flip = (uint8_t)(ot->side ^ at.side);
	return memcmp(ok, ak, sizeof(*ok)) ? 0 : -EINVAL;
}

void fcn_free(struct fcn_index *x)
{
	free(x->head);
	memset(x, 0, sizeof(*x));
}

void fcn_clear(struct fcn_index *x)
{
	if (x->head)
		memset(x->head, 0xff, x->nb * sizeof(*x->head));
	x->count = 0;
}

struct fc_conv *fcn_lookup(const struct fcn_index *x, const struct fc_store *s,
			   const struct fc_key *k, uint32_t h)
{
	uint32_t i;

	if (!x->count)
		return NULL;
	for (i = x->head[h & (x->nb - 1)]; i != FC_NIL;) {
		struct fc_conv *c = fcs_conv(s, i);
		const struct fc_nat *n = fcs_nat(s, c);

		if (n->hash == h && !memcmp(&n->akey, k, sizeof(*k)))
			return c;
		i = n->anext;
	}
	return NULL;
}

static void fcn_link(struct fcn_index *x, struct fc_store *s, uint32_t conv)
{
	struct fc_nat *n = fcs_nat(s, fcs_conv(s, conv));
	uint32_t *b = &x->head[n->hash & (x->nb - 1)];

	n->anext = *b;
	*b = conv;
}

/* A bucket array of nb (a power of two) with every record relinked. */
static int fcn_resize(struct fcn_index *x, struct fc_store *s, uint32_t nb)
{
	uint32_t *head = malloc(nb * sizeof(*head));

	if (!head)
		return -ENOMEM;
	memset(head, 0xff, nb * sizeof(*head));
	free(x->head);
	x->head = head;
	x->nb = nb;
	for (uint32_t i = 0; i < s->r->nconv; i++) {
		struct fc_conv *c = fcs_conv(s, i);

		if ((c->flags & FC_LIVE) && c->nat)
			fcn_link(x, s, i);
	}
	return 0;
}

int fcn_insert(struct fcn_index *x, struct fc_store *s, uint32_t conv)
{
	x->count++;
	if (x->head && x->count <= x->nb) {
		fcn_link(x, s, conv);
		return 0;
	}
	/* growing relinks every translated conversation, this one too (its
	 * record is filled); a failed growth leaves longer chains
	 */
	if (!fcn_resize(x, s, x->nb ? x->nb * 2 : FCN_MIN_BUCKETS))
		return 0;
	if (!x->head) {
		x->count--;
		return -ENOMEM;
	}
	fcn_link(x, s, conv);
	return 0;
}

void fcn_remove(struct fcn_index *x, struct fc_store *s, struct fc_conv *c)
{
	struct fc_nat *n = fcs_nat(s, c);
	uint32_t me = fcs_index(s, c), *p;

	for (p = &x->head[n->hash & (x->nb - 1)]; *p != FC_NIL;
	     p = &fcs_nat(s, fcs_conv(s, *p))->anext) {
		if (*p == me) {
			*p = n->anext;
			x->count--;
			break;
		}
	}
	fcs_put_path(s, c->nat - 1);
	c->nat = 0;
}

int fcn_rebuild(struct fcn_index *x, struct fc_store *s)
{
	uint32_t nb = FCN_MIN_BUCKETS;

	x->count = 0;
	for (uint32_t i = 0; i < s->r->nconv; i++) {
		struct fc_conv *c = fcs_conv(s, i);

		if (!(c->flags & FC_LIVE) || !c->nat)
			continue;
		/* an adopted region: this process hashes with its own key */
		fcs_nat(s, c)->hash = fcs_hash(s, &fcs_nat(s, c)->akey);
		x->count++;
	}
	while (nb < x->count)
		nb *= 2;
	return fcn_resize(x, s, nb);
}

/* q's counters, times and flags into t (same path of one conversation). */
static void fcn_merge_path(struct fc_path *t, const struct fc_path *q)
{
	t->packets += q->packets;
	t->octets += q->octets;
	t->total_packets += q->total_packets;
	t->total_octets += q->total_octets;
	if (!q->seen)
		return;
	if (!t->seen || q->first_ms < t->first_ms)
		t->first_ms = q->first_ms;
	if (!t->seen || q->last_ms > t->last_ms)
		t->last_ms = q->last_ms;
	if (!t->seen || q->ttl_min < t->ttl_min)
		t->ttl_min = q->ttl_min;
	if (!t->seen || q->ttl_max > t->ttl_max)
		t->ttl_max = q->ttl_max;
	t->tcp_flags |= q->tcp_flags;
	t->tos = q->tos;
	t->flow_label = q->flow_label;
	t->seen = 1;
}

void fcn_merge(struct fc_store *s, struct fc_conv *o, struct fc_conv *p,
	       uint8_t flip, uint64_t *merged)
{
	int turn = !!(p->flags & FC_SIDE) ^ flip ^ !!(o->flags & FC_SIDE);
	struct fc_path *q;

	fcs_for_each_path(s, p, q)
	{
		struct fcc_want w = { q->in_if, q->out_if, q->flow_dir,
				      q->drop };
		int d = q->side ^ turn;

		fcn_merge_path(fcc_path_get(s, o, d, &w, merged), q);
	}
	for (int d = 0; d < 2; d++) {
		if (!p->npaths[d])
			continue;
		o->tos[d ^ turn] = p->tos[d];
		o->icmp_tc[d ^ turn] = p->icmp_tc[d];
		o->flow_label[d ^ turn] = p->flow_label[d];
		if (p->flags & (d ? FC_SYN1 : FC_SYN0))
			o->flags |= (d ^ turn) ? FC_SYN1 : FC_SYN0;
	}
}
