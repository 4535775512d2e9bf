/* ipfix_table.c - decoded records as an aligned table: time, protocol,
 * endpoints, packets and octets of each direction, interfaces (by name
 * once an options record named them), flowDirection and flowEndReason;
 * options records as "#" lines; the noise filter of `make demo`.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ie.h"
#include "ipfix_table.h"

#define W_TIME 12
#define W_PROTO 5
#define W_ADDR 24
#define W_PKTS 8
#define W_OCTETS 10
#define W_IF 15

struct table_if {
	uint32_t domain, ifindex;
	char name[64];
	char desc[128];
};

struct ipfix_table {
	struct table_if ifs[IPFIX_TABLE_MAX_IFS];
	int nifs;
};

struct ipfix_table *ipfix_table__new(void)
{
	return calloc(1, sizeof(struct ipfix_table));
}

void ipfix_table__free(struct ipfix_table *t)
{
	free(t);
}

const char *ipfix_table_header(char *buf, size_t len)
{
	snprintf(buf, len,
		 "%-*s %-*s %-*s    %-*s %*s %*s %*s %*s %-*s %-3s %s", W_TIME,
		 "TIME", W_PROTO, "PROTO", W_ADDR, "SRC", W_ADDR, "DST", W_PKTS,
		 "PKTS", W_OCTETS, "BYTES", W_PKTS, "RPKTS", W_OCTETS, "RBYTES",
		 W_IF, "IN>OUT", "DIR", "END");
	return buf;
}

static bool rec_uint(const struct ipfix_dec_record *r, uint16_t id,
		     uint32_t pen, uint64_t *v)
{
	const struct ipfix_dec_value *x = ipfix_dec_find(r, id, pen);

	return x && ipfix_dec_uint(x, v);
}

/* A string value without its zero padding (fixed-length fields). */
static void rec_string(const struct ipfix_dec_record *r, uint16_t id, char *out,
		       size_t cap)
{
	const struct ipfix_dec_value *x = ipfix_dec_find(r, id, 0);
	size_t n = 0;

	if (x) {
		n = strnlen((const char *)x->data, x->len);
		if (n >= cap)
			n = cap - 1;
		for (size_t i = 0; i < n; i++) {
			unsigned char c = x->data[i];

			out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
		}
	}
	out[n] = 0;
}

/* Address family (4, 6, 0: none) and octets of the source or destination. */
static int rec_addr(const struct ipfix_dec_record *r, bool dst, uint8_t *a)
{
	const struct ipfix_dec_value *v4 = ipfix_dec_find(r, dst ? 12 : 8, 0);
	const struct ipfix_dec_value *v6 = ipfix_dec_find(r, dst ? 28 : 27, 0);

	if (v4 && v4->len == 4) {
		memcpy(a, v4->data, 4);
		return 4;
	}
	if (v6 && v6->len == 16) {
		memcpy(a, v6->data, 16);
		return 6;
	}
	return 0;
}

static bool is_icmp(uint64_t proto)
{
	return proto == 1 || proto == 58;
}

/* "10.0.0.1:443", "[fd00::1]:443", ICMP "10.0.0.1 8/0" (type/code). */
static void fmt_endpoint(const struct ipfix_dec_record *r, bool dst,
			 uint64_t proto, char *out, size_t cap)
{
	uint8_t a[16];
	char s[INET6_ADDRSTRLEN];
	int fam = rec_addr(r, dst, a);
	uint64_t port = 0, tc = 0;
	bool has_port = rec_uint(r, dst ? 11 : 7, 0, &port);

	if (!fam) {
		snprintf(out, cap, "-");
		return;
	}
	inet_ntop(fam == 4 ? AF_INET : AF_INET6, a, s, sizeof(s));
	if (is_icmp(proto)) {
		if (dst && (rec_uint(r, 32, 0, &tc) ||
			    rec_uint(r, 139, 0, &tc) || has_port))
			snprintf(out, cap, "%s %u/%u", s,
				 (unsigned)((tc ? tc : port) >> 8),
				 (unsigned)((tc ? tc : port) & 0xff));
		else
			snprintf(out, cap, "%s", s);
	} else if (has_port) {
		snprintf(out, cap, fam == 6 ? "[%s]:%u" : "%s:%u", s,
			 (unsigned)port);
	} else {
		snprintf(out, cap, "%s", s);
	}
}

static const char *proto_name(uint64_t p, char *buf, size_t len)
{
	static const struct {
		uint8_t p;
		const char *name;
	} names[] = { { 1, "icmp" },   { 2, "igmp" },	{ 6, "tcp" },
		      { 17, "udp" },   { 47, "gre" },	{ 50, "esp" },
		      { 58, "icmp6" }, { 132, "sctp" }, { 136, "udpl" } };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].p == p)
			return names[i].name;
	snprintf(buf, len, "%llu", (unsigned long long)p);
	return buf;
}

/* HH:MM:SS.mmm of the flow's start (local time), else of the export. */
static void fmt_time(const struct ipfix_dec_record *r, char *out, size_t cap)
{
	uint64_t ms;
	struct tm tm;
	time_t s;

	if (!rec_uint(r, 152, 0, &ms)) {
		uint64_t sec;

		ms = (rec_uint(r, 150, 0, &sec) ? sec : r->export_time) * 1000;
	}
	s = (time_t)(ms / 1000);
	localtime_r(&s, &tm);
	snprintf(out, cap, "%02d:%02d:%02d.%03u", tm.tm_hour, tm.tm_min,
		 tm.tm_sec, (unsigned)(ms % 1000));
}

static const struct table_if *table_if_find(const struct ipfix_table *t,
					    uint32_t domain, uint32_t ifindex)
{
	for (int i = 0; i < t->nifs; i++)
		if (t->ifs[i].domain == domain && t->ifs[i].ifindex == ifindex)
			return &t->ifs[i];
	return NULL;
}

static void fmt_if(const struct ipfix_table *t, uint32_t domain, bool has,
		   uint64_t ifindex, char *out, size_t cap)
{
	const struct table_if *i = table_if_find(t, domain, ifindex);

	if (!has)
		snprintf(out, cap, "-");
	else if (i && i->name[0])
		snprintf(out, cap, "%s", i->name);
	else
		snprintf(out, cap, "%llu", (unsigned long long)ifindex);
}

static void fmt_count(const struct ipfix_dec_record *r, uint16_t id,
		      uint32_t pen, char *out, size_t cap)
{
	uint64_t v;

	if (rec_uint(r, id, pen, &v))
		snprintf(out, cap, "%llu", (unsigned long long)v);
	else
		snprintf(out, cap, "-");
}

static int table_flow(const struct ipfix_table *t,
		      const struct ipfix_dec_record *r, char *buf, size_t len)
{
	static const char *const reasons[] = { "-",   "idle",	"active",
					       "end", "forced", "lack" };
	char tm[16], pb[8], src[64], dst[64], pk[24], oc[24], rpk[24], roc[24],
		in[64], out[64], ifs[130];
	uint64_t proto = 0, in_if = 0, out_if = 0, dir = 9, end = 0;
	bool has_in = rec_uint(r, 10, 0, &in_if);
	bool has_out = rec_uint(r, 14, 0, &out_if);
	int n;

	rec_uint(r, 4, 0, &proto);
	rec_uint(r, 61, 0, &dir);
	rec_uint(r, 136, 0, &end);
	fmt_time(r, tm, sizeof(tm));
	fmt_endpoint(r, false, proto, src, sizeof(src));
	fmt_endpoint(r, true, proto, dst, sizeof(dst));
	fmt_count(r, 2, 0, pk, sizeof(pk));
	fmt_count(r, 1, 0, oc, sizeof(oc));
	fmt_count(r, 2, IPFIX_PEN_REVERSE, rpk, sizeof(rpk));
	fmt_count(r, 1, IPFIX_PEN_REVERSE, roc, sizeof(roc));
	fmt_if(t, r->domain, has_in, in_if, in, sizeof(in));
	fmt_if(t, r->domain, has_out, out_if, out, sizeof(out));
	snprintf(ifs, sizeof(ifs), "%s>%s", in, out);
	n = snprintf(buf, len,
		     "%-*s %-*s %-*s -> %-*s %*s %*s %*s %*s %-*s %-3s %s",
		     W_TIME, tm, W_PROTO, proto_name(proto, pb, sizeof(pb)),
		     W_ADDR, src, W_ADDR, dst, W_PKTS, pk, W_OCTETS, oc, W_PKTS,
		     rpk, W_OCTETS, roc, W_IF, ifs,
		     dir == 0	? "in"
		     : dir == 1 ? "out"
				: "-",
		     end < 6 ? reasons[end] : "?");
	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

/* An interface-name record: remembered; printed when new or changed. */
static int table_iface(struct ipfix_table *t, const struct ipfix_dec_record *r,
		       uint64_t ifindex, char *buf, size_t len)
{
	struct table_if nw = { .domain = r->domain,
			       .ifindex = (uint32_t)ifindex };
	struct table_if *old;
	int n;

	rec_string(r, 82, nw.name, sizeof(nw.name));
	rec_string(r, 83, nw.desc, sizeof(nw.desc));
	old = (struct table_if *)table_if_find(t, nw.domain, nw.ifindex);
	if (old && !strcmp(old->name, nw.name) && !strcmp(old->desc, nw.desc))
		return 0;
	if (old)
		*old = nw;
	else if (t->nifs < IPFIX_TABLE_MAX_IFS)
		t->ifs[t->nifs++] = nw;
	n = snprintf(buf, len, "# domain %u interface %u: %s%s%s%s", nw.domain,
		     nw.ifindex, nw.name, nw.desc[0] ? " \"" : "", nw.desc,
		     nw.desc[0] ? "\"" : "");
	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

/* The Exporting Process Reliability Statistics, or any other options
 * record as name=value pairs.
 */
static int table_options(struct ipfix_table *t,
			 const struct ipfix_dec_record *r, char *buf,
			 size_t len)
{
	uint64_t v[6], ifindex;
	int n;

	if (ipfix_dec_find(r, 82, 0) &&
	    (rec_uint(r, 10, 0, &ifindex) || rec_uint(r, 14, 0, &ifindex)))
		return table_iface(t, r, ifindex, buf, len);
	if (rec_uint(r, 41, 0, &v[0]) && rec_uint(r, 42, 0, &v[1]) &&
	    rec_uint(r, 40, 0, &v[2])) {
		v[3] = v[4] = v[5] = 0;
		rec_uint(r, 166, 0, &v[3]);
		rec_uint(r, 167, 0, &v[4]);
		rec_uint(r, 168, 0, &v[5]);
		n = snprintf(buf, len,
			     "# domain %u exporter: %llu messages, %llu flow "
			     "records, %llu octets sent; %llu records (%llu "
			     "packets, %llu octets) not sent",
			     r->domain, (unsigned long long)v[0],
			     (unsigned long long)v[1], (unsigned long long)v[2],
			     (unsigned long long)v[3], (unsigned long long)v[4],
			     (unsigned long long)v[5]);
		return n < 0 || (size_t)n >= len ? -ENOSPC : n;
	}
	if (len < 3)
		return -ENOSPC;
	memcpy(buf, "# ", 2);
	n = ipfix_format_text(r, buf + 2, len - 2);
	return n < 0 ? n : n + 2;
}

int ipfix_table__format(struct ipfix_table *t, const struct ipfix_dec_record *r,
			char *buf, size_t len)
{
	if (!len)
		return -ENOSPC;
	buf[0] = 0;
	return r->options ? table_options(t, r, buf, len)
			  : table_flow(t, r, buf, len);
}

static bool addr_is_noise(int fam, const uint8_t *a)
{
	static const uint8_t zero[16];

	if (fam == 4)
		return a[0] >= 224 || (a[0] == 169 && a[1] == 254) ||
		       !memcmp(a, zero, 4);
	if (fam == 6)
		return a[0] == 0xff ||
		       (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) ||
		       !memcmp(a, zero, 16);
	return false;
}

bool ipfix_record_is_noise(const struct ipfix_dec_record *r)
{
	uint8_t s[16], d[16];
	int fs = rec_addr(r, false, s), fd = rec_addr(r, true, d);
	uint64_t proto = 0, tc = 0, type;

	if (r->options)
		return false;
	if (addr_is_noise(fs, s) || addr_is_noise(fd, d))
		return true;
	rec_uint(r, 4, 0, &proto);
	if (proto != 58)
		return false;
	if (!rec_uint(r, 139, 0, &tc))
		rec_uint(r, 11, 0, &tc); /* exporters that put it in the port */
	type = tc >> 8;
	/* MLD 130-132 and 143, router and neighbour discovery 133-137 */
	return (type >= 130 && type <= 137) || type == 143;
}
