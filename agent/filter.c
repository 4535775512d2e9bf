/* filter.c - parses and matches the flow filter of flowctl flush/dump. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "filter.h"
#include "flowcache.h"

static const struct {
	int num;
	const char *name;
} protos[] = {
	{ 1, "icmp" },	    { 2, "igmp" },  { 6, "tcp" },    { 17, "udp" },
	{ 47, "gre" },	    { 50, "esp" },  { 51, "ah" },    { 58, "icmp6" },
	{ 89, "ospf" },	    { 103, "pim" }, { 112, "vrrp" }, { 132, "sctp" },
	{ 136, "udplite" },
};

int fe_proto_parse(const char *s)
{
	char *end;
	long v;

	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (!strcasecmp(s, protos[i].name))
			return protos[i].num;
	if (!strcasecmp(s, "ipv6-icmp") || !strcasecmp(s, "icmpv6"))
		return 58;
	v = strtol(s, &end, 10);
	if (*s && !*end && v >= 0 && v <= 255)
		return (int)v;
	return -1;
}

const char *fe_proto_name(int proto, char *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (protos[i].num == proto)
			return protos[i].name;
	snprintf(buf, len, "%d", proto);
	return buf;
}

static int parse_addr(const char *s, uint8_t *out, int *family)
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, out) == 1) {
		*family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out) == 1) {
		*family = 6;
		return 0;
	}
	return -EINVAL;
}

static int parse_port(const char *s, int *port)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < 0 || v > 65535)
		return -EINVAL;
	*port = (int)v;
	return 0;
}

bool fe_filter_empty(const struct fe_filter *f)
{
	return !f->all && !f->ifindex && f->proto < 0 && !f->has_src &&
	       !f->has_dst && !f->has_host && f->sport < 0 && f->dport < 0 &&
	       f->port < 0;
}

int fe_filter_parse(int argc, char **argv, struct fe_filter *f, char *err,
		    size_t errlen)
{
	memset(f, 0, sizeof(*f));
	f->proto = f->sport = f->dport = f->port = -1;
	for (int i = 0; i < argc; i++) {
		const char *w = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int fam = 0;

		if (!strcmp(w, "all") || !strcmp(w, "--all")) {
			f->all = true;
			continue;
		}
		if (!v) {
			snprintf(err, errlen, "filter word '%s' needs a value",
				 w);
			return -EINVAL;
		}
		i++;
		if (!strcmp(w, "dev")) {
			f->ifindex = if_nametoindex(v);
			if (!f->ifindex) {
				char *end;
				long n = strtol(v, &end, 10);

				if (*end || n <= 0) {
					snprintf(err, errlen, "dev %s: %s", v,
						 strerror(errno));
					return -EINVAL;
				}
				f->ifindex = (uint32_t)n;
			}
		} else if (!strcmp(w, "proto")) {
			f->proto = fe_proto_parse(v);
			if (f->proto < 0) {
				snprintf(err, errlen,
					 "proto %s: not a protocol name or "
					 "number 0-255",
					 v);
				return -EINVAL;
			}
		} else if (!strcmp(w, "src") || !strcmp(w, "dst") ||
			   !strcmp(w, "host")) {
			uint8_t *a = w[0] == 's'   ? f->src
				     : w[0] == 'd' ? f->dst
						   : f->host;

			if (parse_addr(v, a, &fam)) {
				snprintf(err, errlen,
					 "%s %s: not an IPv4 or IPv6 address",
					 w, v);
				return -EINVAL;
			}
			if (f->family && f->family != fam) {
				snprintf(err, errlen,
					 "%s %s: mixes IPv4 and IPv6", w, v);
				return -EINVAL;
			}
			f->family = fam;
			*(w[0] == 's'	? &f->has_src
			  : w[0] == 'd' ? &f->has_dst
					: &f->has_host) = true;
		} else if (!strcmp(w, "sport") || !strcmp(w, "dport") ||
			   !strcmp(w, "port")) {
			int *p = w[0] == 's'   ? &f->sport
				 : w[0] == 'd' ? &f->dport
					       : &f->port;

			if (parse_port(v, p)) {
				snprintf(err, errlen,
					 "%s %s: not a port number 0-65535", w,
					 v);
				return -EINVAL;
			}
		} else {
			snprintf(err, errlen,
				 "unknown filter word '%s' (dev, proto, src, "
				 "dst, host, sport, dport, port, all)",
				 w);
			return -EINVAL;
		}
	}
	return 0;
}

static void put_addr(char *buf, size_t len, int family, const uint8_t *a)
{
	inet_ntop(family == 6 ? AF_INET6 : AF_INET, a, buf, len);
}

int fe_filter_format(const struct fe_filter *f, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	size_t n = 0;

	buf[0] = 0;
#define ADD(...) n += snprintf(buf + n, n < len ? len - n : 0, __VA_ARGS__)
	if (f->all)
		ADD(" all");
	if (f->ifindex)
		ADD(" dev %u", f->ifindex);
	if (f->proto >= 0)
		ADD(" proto %d", f->proto);
	if (f->has_src) {
		put_addr(a, sizeof(a), f->family, f->src);
		ADD(" src %s", a);
	}
	if (f->has_dst) {
		put_addr(a, sizeof(a), f->family, f->dst);
		ADD(" dst %s", a);
	}
	if (f->has_host) {
		put_addr(a, sizeof(a), f->family, f->host);
		ADD(" host %s", a);
	}
	if (f->sport >= 0)
		ADD(" sport %d", f->sport);
	if (f->dport >= 0)
		ADD(" dport %d", f->dport);
	if (f->port >= 0)
		ADD(" port %d", f->port);
#undef ADD
	return n < len ? 0 : -ENOSPC;
}

/* Port words name transport ports: ICMP's type/code (carried as dport)
 * and the zero ports of fragments, truncated headers and overflow entries
 * are not ports.
 */
static bool has_ports(int proto, unsigned int kflags)
{
	if (kflags & (FE_KEY_FRAG | FE_KEY_TRUNC | FE_KEY_OVERFLOW))
		return false;
	return FE_PROTO_HAS_PORTS(proto);
}

bool fe_filter_match_flags(const struct fe_filter *f, uint32_t ifindex,
			   uint32_t in_ifindex, int family, int proto,
			   const uint8_t *src, const uint8_t *dst, int sport,
			   int dport, unsigned int kflags)
{
	size_t alen = family == 6 ? 16 : 4;

	if (f->all)
		return true;
	if (f->ifindex && f->ifindex != ifindex && f->ifindex != in_ifindex)
		return false;
	if (f->proto >= 0 && f->proto != proto)
		return false;
	if (f->family && f->family != family)
		return false;
	if (f->has_src && memcmp(f->src, src, alen))
		return false;
	if (f->has_dst && memcmp(f->dst, dst, alen))
		return false;
	if (f->has_host && memcmp(f->host, src, alen) &&
	    memcmp(f->host, dst, alen))
		return false;
	if (f->sport < 0 && f->dport < 0 && f->port < 0)
		return true;
	if (!has_ports(proto, kflags))
		return false;
	if (f->sport >= 0 && f->sport != sport)
		return false;
	if (f->dport >= 0 && f->dport != dport)
		return false;
	if (f->port >= 0 && f->port != sport && f->port != dport)
		return false;
	return true;
}

bool fe_filter_match(const struct fe_filter *f, uint32_t ifindex,
		     uint32_t in_ifindex, int family, int proto,
		     const uint8_t *src, const uint8_t *dst, int sport,
		     int dport)
{
	return fe_filter_match_flags(f, ifindex, in_ifindex, family, proto, src,
				     dst, sport, dport, 0);
}

bool fe_filter_match_key(const struct fe_filter *f, const struct fe_flow_key *k)
{
	return fe_filter_match_flags(f, k->ifindex, k->in_ifindex, k->family,
				     k->proto, k->src, k->dst, k->sport,
				     k->dport, k->flags);
}

/* Whether a path of c enters or leaves by ifindex. */
static bool conv_uses_if(const struct fe_conv *c, uint32_t ifindex)
{
	if (c->kflags & FE_KEY_OVERFLOW)
		return c->ovf_if == ifindex || c->ovf_in_if == ifindex;
	for (int d = 0; d < 2; d++)
		for (int i = 0; i < c->dir[d].npaths; i++)
			if (c->dir[d].paths[i].in_if == ifindex ||
			    c->dir[d].paths[i].out_if == ifindex)
				return true;
	return false;
}

bool fe_filter_match_conv(const struct fe_filter *f, const struct fe_conv *c)
{
	struct fe_filter tuple = *f;

	if (f->all)
		return true;
	if (f->ifindex && !conv_uses_if(c, f->ifindex))
		return false;
	tuple.ifindex = 0;
	for (int s = 0; s < 2; s++) {
		int sp = c->port[s], dp = c->port[!s];

		if (FE_PROTO_IS_ICMP(c->proto)) {
			sp = 0;
			dp = c->dir[s].icmp_type_code;
		}
		if (fe_filter_match_flags(&tuple, 0, 0, c->family, c->proto,
					  c->addr[s], c->addr[!s], sp, dp,
					  c->kflags))
			return true;
	}
	return false;
}
