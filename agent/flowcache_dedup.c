/* flowcache_dedup.c - the rule of dedup.h inside the flow cache: which
 * links have an ingress meter and which are masters of which, the ingress
 * path an egress sighting takes its packet back from, and the settling of
 * those take-backs once a drain is in.
 *
 * The ledger: for an ingress path (X,0), total + delta is what X's ingress
 * meter counted for its direction minus what egress sightings took back,
 * since the conversation began. A forwarded packet's ingress sighting is
 * drained with its egress sighting or before it (it was counted first),
 * so once a drain is in, a negative ledger means egress sightings whose
 * ingress sighting is not in this conversation: it went to the ingress
 * overflow record (that record gives it up), to another conversation, or
 * the ingress meter was not there yet. Settling undoes those take-backs:
 * such a packet counts at egress alone, never cancelling data. Within a
 * drain the two sightings come in any order, so only then.
 *
 * One more place an ingress sighting can be: an earlier record of the
 * same conversation, removed (ended, evicted) after its ingress sighting
 * and before a late egress sighting made it anew. A removed conversation
 * leaves its unclaimed ingress packets as orphans for two drains; the new one's take-back claims them instead, and its egress
 * counts of them are cancelled (they were exported).
 *
 * A packet forwarded out of a VRF (or routed off a bridge or bond) names
 * the master as the interface it came in by (vrf_ip_rcv sets skb_iif to
 * it), where the ingress meter sits on a slave: it takes back from the
 * slave path whose ledger has the packet, and settling moves a take-back
 * between the slaves of one master when it guessed wrong.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "flowcache_int.h"

static struct fcd_link *fcd_find(const struct fcd_links *l, uint32_t ifindex)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->l[i].ifindex == ifindex)
			return &l->l[i];
	return NULL;
}

static struct fcd_link *fcd_get(struct fcd_links *l, uint32_t ifindex)
{
	struct fcd_link *k = fcd_find(l, ifindex);

	if (k)
		return k;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct fcd_link *m = realloc(l->l, cap * sizeof(*m));

		if (!m)
			return NULL;
		l->l = m;
		l->cap = cap;
	}
	k = &l->l[l->n++];
	memset(k, 0, sizeof(*k));
	k->ifindex = ifindex;
	return k;
}

/* Forgets the links that are neither metered nor a master's. */
static void fcd_compact(struct fcd_links *l)
{
	size_t i = 0;

	while (i < l->n) {
		if (l->l[i].metered || l->l[i].master)
			i++;
		else
			l->l[i] = l->l[--l->n];
	}
}

int fcd_set_metered(struct fcd_links *l, uint32_t ifindex, bool on)
{
	struct fcd_link *k;

	if (!ifindex)
		return 0;
	k = on ? fcd_get(l, ifindex) : fcd_find(l, ifindex);
	if (!k)
		return on ? -ENOMEM : 0;
	k->metered = on;
	fcd_compact(l);
	return 0;
}

int fcd_set_masters(struct fcd_links *l, const uint32_t (*pairs)[2], size_t n)
{
	int err = 0;

	for (size_t i = 0; i < l->n; i++)
		l->l[i].master = 0;
	for (size_t i = 0; i < n && !err; i++) {
		struct fcd_link *k =
			pairs[i][1] ? fcd_get(l, pairs[i][0]) : NULL;

		if (pairs[i][1] && !k)
			err = -ENOMEM;
		else if (k)
			k->master = pairs[i][1];
	}
	fcd_compact(l);
	return err;
}

void fcd_free(struct fcd_links *l, struct fcd_pending *p)
{
	free(l->l);
	free(p->v);
	memset(l, 0, sizeof(*l));
	memset(p, 0, sizeof(*p));
}

bool fcd_metered(const struct fcd_links *l, uint32_t ifindex)
{
	const struct fcd_link *k = fcd_find(l, ifindex);

	return k && k->metered;
}

static uint32_t fcd_master(const struct fcd_links *l, uint32_t ifindex)
{
	const struct fcd_link *k = fcd_find(l, ifindex);

	return k ? k->master : 0;
}

/* A metered link whose master is m: the first, or 0. */
static uint32_t fcd_metered_slave(const struct fcd_links *l, uint32_t m)
{
	for (size_t i = 0; m && i < l->n; i++)
		if (l->l[i].master == m && l->l[i].metered)
			return l->l[i].ifindex;
	return 0;
}

bool fcd_counted(const struct fcd_links *l, uint32_t ifindex)
{
	return fcd_metered(l, ifindex) || fcd_metered_slave(l, ifindex);
}

static bool fcd_is_ingress(const struct fc_path *p)
{
	return !p->drop && !p->out_if && p->in_if;
}

static int64_t fcd_ledger(const struct fc_path *p, int which)
{
	return which ? (int64_t)p->total_octets + p->octets
		     : (int64_t)p->total_packets + p->packets;
}

uint32_t fcd_take_from(const struct fcd_links *l, const struct fc_store *s,
		       struct fc_conv *c, int d, uint32_t in_if)
{
	struct fc_path *p;
	uint32_t best = 0;
	int64_t bv = 0;

	if (fcd_metered(l, in_if))
		return in_if;
	/* a master: the slave whose ingress path holds the most */
	fcs_for_each_path(s, c, p)
	{
		if (p->side != d || !fcd_is_ingress(p) ||
		    fcd_master(l, p->in_if) != in_if ||
		    !fcd_metered(l, p->in_if))
			continue;
		if (!best || fcd_ledger(p, 0) > bv) {
			best = p->in_if;
			bv = fcd_ledger(p, 0);
		}
	}
	return best ? best : fcd_metered_slave(l, in_if);
}

int fcd_pend(struct fcd_pending *p, uint32_t conv)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 256;
		uint32_t *v = realloc(p->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		p->v = v;
		p->cap = cap;
	}
	p->v[p->n++] = conv;
	return 0;
}

static int64_t *fcd_delta(struct fc_path *p, int which)
{
	return which ? &p->octets : &p->packets;
}

/* Up to want of what the ingress overflow record of ifindex holds and
 * has not exported (the packets whose ingress sightings it took because
 * the flow map was full): given up, returned.
 */
static int64_t fcd_claim_overflow(const struct fc_store *s, uint32_t ifindex,
				  int which, int64_t want)
{
	struct fe_obs o;
	struct fc_tuple t;
	struct fc_key k;
	struct fc_conv *c;
	struct fc_path *p;

	memset(&o, 0, sizeof(o));
	o.key.flags = FE_KEY_OVERFLOW;
	o.key.ifindex = o.key.in_ifindex = ifindex;
	o.key.dir = FE_DIR_INGRESS;
	fcc_key(&o, &k, &t);
	c = fcs_lookup(s, &k, fcs_hash(s, &k));
	if (!c)
		return 0;
	fcs_for_each_path(s, c, p)
	{
		int64_t *v = fcd_delta(p, which), m;

		if (p->drop || p->in_if != ifindex || p->out_if || *v <= 0)
			continue;
		m = want < *v ? want : *v;
		*v -= m;
		return m;
	}
	return 0;
}

void fcd_orphans_note(struct fcd_orphans *o, const struct fc_store *s,
		      const struct fc_conv *c)
{
	const struct fc_path *p;

	fcs_for_each_path(s, (struct fc_conv *)c, p)
	{
		bool all = !p->drop && !p->in_if && !p->out_if;

		/* the catch-all may hold ingress sightings of any link */
		if (!all && (!fcd_is_ingress(p) || fcd_ledger(p, 0) <= 0))
			continue;
		if (o->n == o->cap) {
			size_t cap = o->cap ? o->cap * 2 : 64;
			struct fcd_orphan *v = realloc(o->v, cap * sizeof(*v));

			if (!v)
				return;
			o->v = v;
			o->cap = cap;
		}
		o->v[o->n++] = (struct fcd_orphan){
			.key = c->key,
			.side = (uint8_t)(p->side ^ !!(c->flags & FC_SIDE)),
			.hash = c->hash,
			.in_if = p->in_if,
			.packets = all ? INT64_MAX : fcd_ledger(p, 0),
		};
	}
}

void fcd_orphans_age(struct fcd_orphans *o)
{
	memmove(o->v, o->v + o->old, (o->n - o->old) * sizeof(*o->v));
	o->n -= o->old;
	o->old = o->n;
}

void fcd_orphans_free(struct fcd_orphans *o)
{
	free(o->v);
	memset(o, 0, sizeof(*o));
}

/* Up to want of the packets orphans of c's key left on ingress path p. */
static int64_t fcd_claim_orphan(struct fcd_orphans *o, const struct fc_conv *c,
				const struct fc_path *p, int64_t want)
{
	uint8_t side = (uint8_t)(p->side ^ !!(c->flags & FC_SIDE));
	int64_t got = 0;

	for (size_t i = 0; i < o->n && got < want; i++) {
		struct fcd_orphan *x = &o->v[i];
		int64_t m;

		if (x->hash != c->hash || x->side != side ||
		    (x->in_if && x->in_if != p->in_if) || x->packets <= 0 ||
		    memcmp(&x->key, &c->key, sizeof(c->key)))
			continue;
		m = want - got < x->packets ? want - got : x->packets;
		x->packets -= m;
		got += m;
	}
	return got;
}

/* A wrong slave of one master: the take-back moves to the slave whose
 * ledger has the packet (one counter).
 */
static void fcd_settle_slaves(const struct fcd_links *l, struct fc_path **ps,
			      int n, int which)
{
	for (int i = 0; i < n; i++) {
		uint32_t m = fcd_master(l, ps[i]->in_if);

		for (int j = 0; m && j < n && fcd_ledger(ps[i], which) < 0;
		     j++) {
			int64_t need = -fcd_ledger(ps[i], which);
			int64_t have = fcd_ledger(ps[j], which), mv;

			if (j == i || have <= 0 ||
			    fcd_master(l, ps[j]->in_if) != m)
				continue;
			mv = need < have ? need : have;
			*fcd_delta(ps[i], which) += mv;
			*fcd_delta(ps[j], which) -= mv;
		}
	}
}

/* One direction's ingress paths ps[0..n). Packets decide, octets follow:
 * an octet ledger can look whole (another packet's octets cover it) while
 * the packet ledger is not, so netting alone handles octets, as it always
 * did, unless packets are undone.
 */
static void fcd_settle_dir(const struct fcd_ctx *x, struct fc_conv *c,
			   struct fc_path **ps, int n)
{
	fcd_settle_slaves(x->l, ps, n, 0);
	fcd_settle_slaves(x->l, ps, n, 1);
	for (int i = 0; i < n; i++) {
		int64_t e = -fcd_ledger(ps[i], 0), eo = -fcd_ledger(ps[i], 1);
		int64_t late, u, uo, ovf;

		if (e <= 0)
			continue;
		/* exported by an earlier record: cancelled */
		late = fcd_claim_orphan(x->o, c, ps[i], e);
		ovf = fcd_claim_overflow(x->s, ps[i]->in_if, 0, e - late);
		/* never an ingress sighting here: none to match */
		u = ovf + (ps[i]->seen ? 0 : e - late - ovf);
		/* the rest matches sightings exported before (by an earlier
		 * record, or where the meters disagree): netting cancels
		 * their egress counts, as if this path had exported them
		 */
		ps[i]->total_packets += (uint64_t)(e - u);
		x->st->dedup_late_packets += (uint64_t)late;
		x->st->dedup_overflow_packets += (uint64_t)ovf;
		x->st->dedup_unmatched_packets += (uint64_t)(u - ovf);
		x->st->dedup_packets -= (uint64_t)u;
		if (!u)
			continue;
		eo = eo > 0 ? eo : 0;
		uo = u < e ? eo * u / e : eo;
		fcd_claim_overflow(x->s, ps[i]->in_if, 1, uo * ovf / u);
		*fcd_delta(ps[i], 0) += u;
		*fcd_delta(ps[i], 1) += uo;
	}
}

static void fcd_settle_conv(const struct fcd_ctx *x, struct fc_conv *c)
{
	struct fc_path *ps[2][FE_CONV_MAX_PATHS], *p;
	int n[2] = { 0, 0 };

	fcs_for_each_path(x->s, c, p) if (fcd_is_ingress(p))
		ps[p->side][n[p->side]++] = p;
	for (int d = 0; d < 2; d++)
		fcd_settle_dir(x, c, ps[d], n[d]);
}

void fcd_settle(const struct fcd_ctx *x, struct fcd_pending *p)
{
	for (size_t i = 0; i < p->n; i++) {
		struct fc_conv *c;

		if (p->v[i] >= x->s->r->nconv)
			continue;
		c = fcs_conv(x->s, p->v[i]);
		if (!(c->flags & FC_LIVE))
			continue;
		/* one conversation's paths change: journaled, so that a
		 * death midway leaves it settled or not at all
		 */
		fcj_begin(x->s, FCJ_ADD, p->v[i], x->s->r->journal.last_tag, 0,
			  0);
		fcd_settle_conv(x, c);
		fcj_end(x->s);
	}
	p->n = 0;
}
