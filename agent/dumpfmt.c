/* dumpfmt.c - builds, merges and prints the rows of `flowctl dump`. */
#include <arpa/inet.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "dumpfmt.h"
#include "filter.h"

int64_t fe_mono_to_unix_ns(void)
{
	struct timespec r, m1, m2;

	/* bracket the realtime read to halve the error */
	clock_gettime(CLOCK_MONOTONIC, &m1);
	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m2);
	int64_t mono = ((int64_t)m1.tv_sec * 1000000000 + m1.tv_nsec +
			(int64_t)m2.tv_sec * 1000000000 + m2.tv_nsec) /
		       2;
	return (int64_t)r.tv_sec * 1000000000 + r.tv_nsec - mono;
}

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

/* A forwarded packet is seen at the ingress meter of X and at the egress
 * meter of Y, which records in_ifindex X. Per flow: egress rows count as
 * they are; ingress rows of X add only what no egress row with in_ifindex X
 * already holds (packets delivered locally or leaving unmetered).
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
				if (rows[b].dir == FE_DIR_EGRESS &&
				    rows[b].in_ifindex == r->ifindex) {
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

static const char *dir_name(int dir)
{
	return dir == FE_DIR_INGRESS  ? "ingress"
	       : dir == FE_DIR_EGRESS ? "egress"
				      : "all";
}

static void addr_str(const struct dump_row *r, const uint8_t *a, char *buf,
		     size_t len)
{
	inet_ntop(r->family == 6 ? AF_INET6 : AF_INET, a, buf, len);
}

static bool is_icmp(const struct dump_row *r)
{
	return r->proto == 1 || r->proto == 58;
}

/* "addr:port", "[v6]:port", "addr" (ICMP: the type/code is a column) */
static void endpoint(const struct dump_row *r, const uint8_t *a, int port,
		     char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN];

	addr_str(r, a, s, sizeof(s));
	if (r->flags & FE_KEY_OVERFLOW)
		snprintf(buf, len, "(overflow)");
	else if (is_icmp(r) || (r->flags & (FE_KEY_FRAG | FE_KEY_TRUNC)) ||
		 (r->proto != 6 && r->proto != 17 && r->proto != 132 &&
		  r->proto != 136))
		snprintf(buf, len, "%s", s);
	else if (r->family == 6)
		snprintf(buf, len, "[%s]:%d", s, port);
	else
		snprintf(buf, len, "%s:%d", s, port);
}

static void flags_str(uint16_t f, char *buf)
{
	const char *names = "FSRPAUECN";
	int n = 0;

	for (int i = 0; i < 9; i++)
		if (f & (1 << i))
			buf[n++] = names[i];
	if (!n)
		buf[n++] = '-';
	buf[n] = 0;
}

static void print_json(FILE *out, const struct dump_row *r)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

	addr_str(r, r->src, s, sizeof(s));
	addr_str(r, r->dst, d, sizeof(d));
	fprintf(out,
		"{\"ifindex\":%u,\"dir\":\"%s\",\"in_ifindex\":%u,\"family\":%"
		"u,\"proto\":%u,\"src\":\"%s\",\"dst\":\"%s\",\"sport\":%u,"
		"\"dport\":%u,\"vlan\":%u,",
		r->ifindex, dir_name(r->dir), r->in_ifindex, r->family,
		r->proto, s, d, r->sport, r->dport, r->vlan);
	if (is_icmp(r))
		fprintf(out, "\"icmp_type\":%u,\"icmp_code\":%u,",
			(unsigned)(r->dport >> 8), (unsigned)(r->dport & 0xff));
	fprintf(out,
		"\"overflow\":%s,\"fragment\":%s,\"packets\":%llu,\"bytes\":%"
		"llu,\"tcp_flags\":%u,\"first_ns\":%llu,\"last_ns\":%llu}\n",
		r->flags & FE_KEY_OVERFLOW ? "true" : "false",
		r->flags & FE_KEY_FRAG ? "true" : "false",
		(unsigned long long)r->packets, (unsigned long long)r->bytes,
		r->tcp_flags, (unsigned long long)r->first_ns,
		(unsigned long long)r->last_ns);
}

void dump_print(FILE *out, const struct dump_row *rows, size_t n,
		bool by_ifindex, bool json)
{
	int wsrc = 3, wdst = 3;
	char a[64], b[64], p[16], f[16], ifn[IF_NAMESIZE + 16];

	if (json) {
		for (size_t i = 0; i < n; i++)
			print_json(out, &rows[i]);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		endpoint(&rows[i], rows[i].src, rows[i].sport, a, sizeof(a));
		endpoint(&rows[i], rows[i].dst, rows[i].dport, b, sizeof(b));
		if ((int)strlen(a) > wsrc)
			wsrc = strlen(a);
		if ((int)strlen(b) > wdst)
			wdst = strlen(b);
	}
	if (by_ifindex)
		fprintf(out, "%-12s %-7s %-12s ", "IFINDEX", "DIR", "IN_IF");
	fprintf(out, "%-6s %-*s %-*s %-7s %12s %15s %-9s\n", "PROTO", wsrc,
		"SRC", wdst, "DST", "TYPE", "PKTS", "BYTES", "FLAGS");
	for (size_t i = 0; i < n; i++) {
		const struct dump_row *r = &rows[i];
		char ifname[IF_NAMESIZE];

		if (by_ifindex) {
			snprintf(ifn, sizeof(ifn), "%u%s%s%s", r->ifindex,
				 if_indextoname(r->ifindex, ifname) ? "(" : "",
				 if_indextoname(r->ifindex, ifname) ? ifname
								    : "",
				 if_indextoname(r->ifindex, ifname) ? ")" : "");
			fprintf(out, "%-12s %-7s ", ifn, dir_name(r->dir));
			if (!r->in_ifindex)
				snprintf(ifn, sizeof(ifn), "local");
			else
				snprintf(ifn, sizeof(ifn), "%u%s%s%s",
					 r->in_ifindex,
					 if_indextoname(r->in_ifindex, ifname)
						 ? "("
						 : "",
					 if_indextoname(r->in_ifindex, ifname)
						 ? ifname
						 : "",
					 if_indextoname(r->in_ifindex, ifname)
						 ? ")"
						 : "");
			fprintf(out, "%-12s ", ifn);
		}
		endpoint(r, r->src, r->sport, a, sizeof(a));
		endpoint(r, r->dst, r->dport, b, sizeof(b));
		if (is_icmp(r))
			snprintf(p, sizeof(p), "%u/%u",
				 (unsigned)(r->dport >> 8),
				 (unsigned)(r->dport & 0xff));
		else if (r->flags & FE_KEY_FRAG)
			snprintf(p, sizeof(p), "frag");
		else
			snprintf(p, sizeof(p), "-");
		flags_str(r->tcp_flags, f);
		char pn[16];
		fprintf(out, "%-6s %-*s %-*s %-7s %12llu %15llu %-9s\n",
			r->flags & FE_KEY_OVERFLOW
				? "-"
				: fe_proto_name(r->proto, pn, sizeof(pn)),
			wsrc, a, wdst, b, p, (unsigned long long)r->packets,
			(unsigned long long)r->bytes, r->proto == 6 ? f : "-");
	}
}
