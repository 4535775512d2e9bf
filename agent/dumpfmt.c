/* dumpfmt.c - prints the rows of `flowctl dump`: an aligned table or JSON
 * lines.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include "dumpfmt.h"
#include "filter.h"

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
	return FE_PROTO_IS_ICMP(r->proto);
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
		 !FE_PROTO_HAS_PORTS(r->proto))
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

/* Interface names, looked up once per dump (if_indextoname() costs a
 * netlink round trip; a million rows name a handful of interfaces).
 */
#define IFNAMES 64

struct ifnames {
	uint32_t ifindex[IFNAMES];
	char name[IFNAMES][IF_NAMESIZE];
	int n, next; /* full: replaced round-robin */
};

static const char *ifname(struct ifnames *c, uint32_t ifindex)
{
	int i;

	for (i = 0; i < c->n; i++)
		if (c->ifindex[i] == ifindex)
			return c->name[i][0] ? c->name[i] : NULL;
	if (c->n < IFNAMES)
		i = c->n++;
	else
		i = c->next++ % IFNAMES;
	c->ifindex[i] = ifindex;
	if (!if_indextoname(ifindex, c->name[i]))
		c->name[i][0] = 0;
	return c->name[i][0] ? c->name[i] : NULL;
}

/* "7(eth2)", or "7" when the index has no name (any more). */
static void if_col(struct ifnames *c, uint32_t ifindex, char *buf, size_t len)
{
	const char *name = ifname(c, ifindex);

	if (name)
		snprintf(buf, len, "%u(%s)", ifindex, name);
	else
		snprintf(buf, len, "%u", ifindex);
}

void dump_print(FILE *out, const struct dump_row *rows, size_t n,
		bool by_ifindex, bool json)
{
	struct ifnames names = { .n = 0 };
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

		if (by_ifindex) {
			if_col(&names, r->ifindex, ifn, sizeof(ifn));
			fprintf(out, "%-12s %-7s ", ifn, dir_name(r->dir));
			if (!r->in_ifindex)
				snprintf(ifn, sizeof(ifn), "local");
			else
				if_col(&names, r->in_ifindex, ifn, sizeof(ifn));
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
