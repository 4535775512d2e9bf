/* filter.h - the flow filter of `flowctl flush` (and dump): parsed from
 * command-line words, matched against kernel keys and agent conversations.
 */
#ifndef FE_FILTER_H
#define FE_FILTER_H
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <linux/types.h>
#include "flowexp.h"

struct fe_filter {
	bool all;
	uint32_t ifindex; /* 0: any */
	int proto;	  /* -1: any */
	int family;	  /* 0: any (set by an address) */
	bool has_src, has_dst, has_host;
	uint8_t src[16], dst[16], host[16];
	int sport, dport, port; /* -1: any; port matches either */
};

/* Parses words such as: dev eth1 | proto tcp | src ADDR | dst ADDR |
 * host ADDR | sport N | dport N | port N | all. ifname lookup happens in
 * the caller's netns. Returns 0 or -EINVAL with a message in err.
 */
int fe_filter_parse(int argc, char **argv, struct fe_filter *f, char *err,
		    size_t errlen);
/* Renders the filter back to words (for the control socket). */
int fe_filter_format(const struct fe_filter *f, char *buf, size_t len);
bool fe_filter_empty(const struct fe_filter *f);
/* Matches a flow in one direction (src->dst, ports host order); ifindex
 * matches either observation or ingress interface. The port words (sport,
 * dport, port) match TCP, UDP, SCTP and UDP-Lite flows only: never ICMP
 * (whose type/code callers may pass as dport), nor a key whose kflags
 * (FE_KEY_*) say it has no ports (fragment, truncated, overflow).
 */
bool fe_filter_match_flags(const struct fe_filter *f, uint32_t ifindex,
			   uint32_t in_ifindex, int family, int proto,
			   const uint8_t *src, const uint8_t *dst, int sport,
			   int dport, unsigned int kflags);
/* fe_filter_match_flags() with kflags 0 (a flow with its ports parsed). */
bool fe_filter_match(const struct fe_filter *f, uint32_t ifindex,
		     uint32_t in_ifindex, int family, int proto,
		     const uint8_t *src, const uint8_t *dst, int sport,
		     int dport);
bool fe_filter_match_key(const struct fe_filter *f,
			 const struct fe_flow_key *k);
/* Matches a conversation of the flow cache (struct fe_conv) read in either
 * direction: one side matches src and sport, the other dst and dport;
 * ifindex matches a conversation with a path in or out of it.
 */
struct fe_conv;
bool fe_filter_match_conv(const struct fe_filter *f, const struct fe_conv *c);

/* Protocol names: "tcp", "udp", "icmp", "ipv6-icmp"/"icmp6", "sctp", ... */
int fe_proto_parse(const char *s);
const char *fe_proto_name(int proto, char *buf, size_t len);

#endif
