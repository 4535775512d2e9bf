/* dumprows.c - the rows of `flowctl dump` from the kernel's flow entries:
 * one row per entry, merged per flow direction (a forwarded packet seen at
 * two meters counted once) and sorted for display.
 */
#include <stdlib.h>
#include <string.h>
#include "dedup.h"
#include "dumpfmt.h"

void dump_row_from_key(struct dump_row *r, const struct fe_flow_key *k,
		       const struct fe_flow_val *v, int64_t off)
{
	memset(r, 0, sizeof(*r));
	r->ifindex = k->ifindex;
	r->in_ifindex = k->in_ifindex;
	r->dir = k->dir;
	r->family = k->family;
	r->proto = k->proto;
	r->flags = k->flags;
	r->sport = k->sport;
	r->dport = k->dport;
	r->vlan = k->vlan;
	memcpy(r->src, k->src, 16);
	memcpy(r->dst, k->dst, 16);
	r->packets = v->packets;
	r->bytes = v->octets;
	r->tcp_flags = v->tcp_flags;
	r->first_ns = v->first_ns + off;
	r->last_ns = v->last_ns + off;
}

static bool same_flow(const struct dump_row *a, const struct dump_row *b)
{
	return a->family == b->family && a->proto == b->proto &&
	       a->sport == b->sport && a->dport == b->dport &&
	       a->vlan == b->vlan &&
	       (a->flags & FE_KEY_OVERFLOW) == (b->flags & FE_KEY_OVERFLOW) &&
	       !memcmp(a->src, b->src, 16) && !memcmp(a->dst, b->dst, 16) &&
	       (!(a->flags & FE_KEY_OVERFLOW) || a->ifindex == b->ifindex);
}

static int cmp_flow(const void *pa, const void *pb)
{
	const struct dump_row *a = pa, *b = pb;
	int c = memcmp(a->src, b->src, 16);

	if (!c)
		c = memcmp(a->dst, b->dst, 16);
	if (!c)
		c = (int)a->family * 65536 + a->proto -
		    ((int)b->family * 65536 + b->proto);
	if (!c)
		c = (int)a->sport - b->sport;
	if (!c)
		c = (int)a->dport - b->dport;
	if (!c)
		c = (int)a->vlan - b->vlan;
	if (!c)
		c = (int)(a->flags & FE_KEY_OVERFLOW) -
		    (b->flags & FE_KEY_OVERFLOW);
	if (!c && (a->flags & FE_KEY_OVERFLOW))
		c = (a->ifindex > b->ifindex) - (a->ifindex < b->ifindex);
	return c;
}

/* Per flow, the rule of dedup.h: egress rows count as they are; ingress
 * rows of X add only what no egress row with in_ifindex X already holds
 * (packets delivered locally or leaving unmetered).
 */
size_t dump_summarize(struct dump_row *rows, size_t n)
{
	size_t out = 0, i, j;

	qsort(rows, n, sizeof(*rows), cmp_flow);
	for (i = 0; i < n; i = j) {
		struct dump_row sum = rows[i];
		uint64_t pk = 0, by = 0;

		for (j = i; j < n && same_flow(&rows[i], &rows[j]); j++)
			;
		sum.first_ns = UINT64_MAX;
		sum.last_ns = 0;
		sum.tcp_flags = 0;
		for (size_t a = i; a < j; a++) {
			const struct dump_row *r = &rows[a];

			if (r->first_ns < sum.first_ns)
				sum.first_ns = r->first_ns;
			if (r->last_ns > sum.last_ns)
				sum.last_ns = r->last_ns;
			sum.tcp_flags |= r->tcp_flags;
			if (r->dir == FE_DIR_EGRESS) {
				pk += r->packets;
				by += r->bytes;
				continue;
			}
			/* ingress row on X: minus egress rows from X */
			uint64_t ep = 0, eb = 0;
			for (size_t b = i; b < j; b++)
				if (fe_dedup_counted_at_ingress(
					    rows[b].dir, rows[b].in_ifindex,
					    rows[b].in_ifindex == r->ifindex)) {
					ep += rows[b].packets;
					eb += rows[b].bytes;
				}
			pk += r->packets > ep ? r->packets - ep : 0;
			by += r->bytes > eb ? r->bytes - eb : 0;
		}
		sum.packets = pk;
		sum.bytes = by;
		if (!(sum.flags & FE_KEY_OVERFLOW))
			sum.ifindex = 0;
		sum.in_ifindex = 0;
		sum.dir = DUMP_DIR_ALL;
		rows[out++] = sum;
	}
	return out;
}

static int cmp_bytes(const void *pa, const void *pb)
{
	const struct dump_row *a = pa, *b = pb;

	if (a->bytes != b->bytes)
		return a->bytes < b->bytes ? 1 : -1;
	if (a->ifindex != b->ifindex)
		return a->ifindex < b->ifindex ? -1 : 1;
	return cmp_flow(pa, pb);
}

void dump_sort(struct dump_row *rows, size_t n)
{
	qsort(rows, n, sizeof(*rows), cmp_bytes);
}
