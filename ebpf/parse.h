/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* parse.h - the one packet parser of the meters, shared by tc and XDP: frame
 * -> flow key + what the counters need. Never writes to the packet.
 *
 * Headers are read like the kernel's skb_header_pointer(): straight from the
 * packet when they lie in the linear data (the common case, no helper call),
 * else copied to the stack with bpf_skb_load_bytes()/bpf_xdp_load_bytes()
 * (or, for an skb freed after the egress meter, bpf_probe_read_kernel()).
 *
 * Decisions worth knowing:
 * - Up to FE_MAX_VLAN tags in the data (0x8100, 0x88a8, 0x9100); a frame
 *   with more is not parsed further and counts as non-IP.
 * - Anything that is not IPv4/IPv6 by its (inner) ethertype, including a
 *   frame too short for its Ethernet/VLAN headers, is non-IP.
 * - A bad IP header (truncated, IHL < 5, options beyond the frame, an IPv4
 *   tot_len other than 0 below the IHL, version not matching the ethertype)
 *   is malformed: counted in stats, not a flow. tot_len 0 is what BIG TCP
 *   GSO packets carry: their length is the bytes present.
 * - Everything after a valid IP header is a flow. An IPv6 extension chain
 *   that is truncated, or longer than FE_MAX_EXT headers, stops there: the
 *   flow gets the last next-header seen as its proto and FE_KEY_TRUNC. Same
 *   for a truncated L4 header (ports 0, FE_KEY_TRUNC).
 * - "Present" bytes end at the IP length when that is sane, so Ethernet
 *   padding is never parsed as a header.
 * - At tc, a VLAN tag the stack holds out of the data (skb->vlan_tci) is
 *   the outermost one. Frames start with an Ethernet header: devices
 *   without L2 (tun, WireGuard) are not supported.
 */
#ifndef FE_PARSE_H
#define FE_PARSE_H

#define FE_MAX_VLAN 2
#define FE_MAX_EXT 10 /* IPv6 extension headers followed in one chain */
/* Headers are never read past this offset: it keeps packet pointer
 * arithmetic bounded for the verifier (a chain of FE_MAX_EXT maximal
 * extension headers fits).
 */
#define FE_MAX_OFF 0x6000

#define FE_ETH_P_IP 0x0800
#define FE_ETH_P_IPV6 0x86DD
#define FE_ETH_P_8021Q 0x8100
#define FE_ETH_P_8021AD 0x88A8
#define FE_ETH_P_QINQ1 0x9100

#define FE_TCP_SYN 0x002
#define FE_TCP_ACK 0x010

enum fe_parse_res {
	FE_PARSE_FLOW = 0,
	FE_PARSE_NON_IP,
	FE_PARSE_MALFORMED,
};

/* Where the parser reads from. xdp, slow and kern are compile-time
 * constants at every call site so the unused branches vanish.
 */
struct fe_src {
	void *ctx;
	void *data;
	void *data_end;
	__u32 len; /* bytes in the frame (linear + paged) */
	bool xdp;
	bool slow; /* never read the packet directly (tests the fallback) */
	/* an skb's linear data in kernel memory from kbase (the frame's
	 * first byte), read with bpf_probe_read_kernel() (fe_kfree_skb)
	 */
	bool kern;
	const __u8 *kbase;
};

/* Parse result. key is complete (zeroed first); ip_octets is the IP-level
 * size of this packet (non-GSO), hdr_len the L3+L4 header bytes that every
 * GSO segment repeats.
 */
struct fe_pkt {
	struct fe_flow_key key;
	__u32 l3off;
	__u32 ip_octets;
	__u32 hdr_len;
	__u32 flow_label;
	__u16 tcp_flags;
	__u8 tos;
	__u8 ttl;
	__u8 vflags;
	__u8 frag;
};

struct fe_ip4 {
	__u8 ver_ihl;
	__u8 tos;
	__be16 tot_len;
	__be16 id;
	__be16 frag_off;
	__u8 ttl;
	__u8 proto;
	__be16 check;
	__u8 saddr[4];
	__u8 daddr[4];
};

struct fe_ip6 {
	__be32 vtcfl; /* version, traffic class, flow label */
	__be16 payload_len;
	__u8 nexthdr;
	__u8 hop_limit;
	__u8 saddr[16];
	__u8 daddr[16];
};

/* Returns len bytes at off, in the packet or copied to buf; NULL when the
 * frame does not have them.
 */
static __always_inline const void *fe_hdr(const struct fe_src *s, __u32 off,
					  void *buf, const __u32 len)
{
	long err;

	if (off > FE_MAX_OFF)
		return NULL;
	if (s->kern)
		return bpf_probe_read_kernel(buf, len, s->kbase + off) ? NULL
								       : buf;
	if (!s->slow) {
		void *p = s->data + off;

		if (p + len <= s->data_end)
			return p;
	}
	if (s->xdp)
		err = bpf_xdp_load_bytes(s->ctx, off, buf, len);
	else
		err = bpf_skb_load_bytes(s->ctx, off, buf, len);
	return err ? NULL : buf;
}

/* Like fe_hdr() but only through the load helpers: used inside the IPv6
 * extension loop, where a packet pointer with a growing variable offset
 * would make the verifier walk every path separately.
 */
static __always_inline const void *
fe_hdr_copy(const struct fe_src *s, __u32 off, void *buf, const __u32 len)
{
	long err;

	if (off > FE_MAX_OFF)
		return NULL;
	if (s->kern)
		return bpf_probe_read_kernel(buf, len, s->kbase + off) ? NULL
								       : buf;
	if (s->xdp)
		err = bpf_xdp_load_bytes(s->ctx, off, buf, len);
	else
		err = bpf_skb_load_bytes(s->ctx, off, buf, len);
	return err ? NULL : buf;
}

/* L4 ports/flags of the header at off; the IP payload ends at l3end.
 * copy: read only through the load helpers (see fe_hdr_copy()).
 */
static __always_inline void fe_parse_l4(const struct fe_src *s,
					struct fe_pkt *p, __u32 off,
					__u32 l3end, bool copy)
{
	__u8 proto = p->key.proto, buf[20];
	const __u8 *h;
	__u32 need;

	if (proto == FE_IPPROTO_TCP) {
		__u32 doff;
		__u16 w;

		if (off + 20 > l3end)
			goto trunc;
		h = copy ? fe_hdr_copy(s, off, buf, 20)
			 : fe_hdr(s, off, buf, 20);
		if (!h)
			goto trunc;
		p->key.sport = (__u16)h[0] << 8 | h[1];
		p->key.dport = (__u16)h[2] << 8 | h[3];
		w = (__u16)h[12] << 8 | h[13];
		p->tcp_flags = w & 0x1ff;
		if ((w & (FE_TCP_SYN | FE_TCP_ACK)) == FE_TCP_SYN)
			p->vflags |= FE_VAL_SYN;
		doff = (w >> 12) * 4;
		p->hdr_len += doff < 20 ? 20 : doff;
		return;
	}

	if (proto == FE_IPPROTO_UDP || proto == FE_IPPROTO_UDPLITE)
		need = 8;
	else if (proto == FE_IPPROTO_SCTP)
		need = 12;
	else if ((proto == FE_IPPROTO_ICMP && p->key.family == 4) ||
		 (proto == FE_IPPROTO_ICMPV6 && p->key.family == 6))
		need = 8;
	else
		return; /* other protocols: no ports */
	if (off + need > l3end)
		goto trunc;
	/* what we use (ports, or type and code) is in the first 8 bytes */
	h = copy ? fe_hdr_copy(s, off, buf, 8) : fe_hdr(s, off, buf, 8);
	if (!h)
		goto trunc;
	if (proto == FE_IPPROTO_ICMP || proto == FE_IPPROTO_ICMPV6) {
		p->key.dport = (__u16)h[0] << 8 | h[1];
		/* an echo's identifier: two pings between the same hosts are
		 * two connections, as conntrack (and its NAT) sees them
		 */
		if (proto == FE_IPPROTO_ICMP ? h[0] == 8 || h[0] == 0
					     : h[0] == 128 || h[0] == 129)
			p->key.sport = (__u16)h[4] << 8 | h[5];
	} else {
		p->key.sport = (__u16)h[0] << 8 | h[1];
		p->key.dport = (__u16)h[2] << 8 | h[3];
	}
	p->hdr_len += need;
	return;
trunc:
	p->key.flags |= FE_KEY_TRUNC;
}

/* IPv4 header at l3off; avail = bytes from there to the frame's end.
 * l3off is passed (not read back from p) so the verifier keeps its bounds.
 */
static __always_inline int
fe_parse_ip4(const struct fe_src *s, struct fe_pkt *p, __u32 l3off, __u32 avail)
{
	struct fe_ip4 buf;
	const struct fe_ip4 *ip;
	__u32 ihl, tot, frag;

	ip = fe_hdr(s, l3off, &buf, sizeof(buf));
	if (!ip || (ip->ver_ihl >> 4) != 4)
		return FE_PARSE_MALFORMED;
	ihl = (ip->ver_ihl & 0xf) * 4;
	if (ihl < 20 || ihl > avail)
		return FE_PARSE_MALFORMED;
	tot = bpf_ntohs(ip->tot_len);
	/* 0: a BIG TCP GSO packet (or bogus): trust what is there */
	if (tot && tot < ihl)
		return FE_PARSE_MALFORMED;
	p->ip_octets = tot && tot <= avail ? tot : avail;
	p->hdr_len = ihl;
	p->key.family = 4;
	p->key.proto = ip->proto;
	p->tos = ip->tos;
	p->ttl = ip->ttl;
	__builtin_memcpy(p->key.src, ip->saddr, 4);
	__builtin_memcpy(p->key.dst, ip->daddr, 4);
	frag = bpf_ntohs(ip->frag_off);
	if (frag & 0x3fff) { /* MF or an offset: a fragment */
		p->frag = 1;
		if (frag & 0x1fff) {
			/* later fragments carry no L4 header */
			p->key.flags |= FE_KEY_FRAG;
			return FE_PARSE_FLOW;
		}
	}
	fe_parse_l4(s, p, l3off + ihl, l3off + p->ip_octets, false);
	return FE_PARSE_FLOW;
}

static __always_inline bool fe_ip6_is_ext(__u8 nh)
{
	return nh == FE_IPPROTO_HOPOPTS || nh == FE_IPPROTO_ROUTING ||
	       nh == FE_IPPROTO_DSTOPTS || nh == FE_IPPROTO_AH ||
	       nh == FE_IPPROTO_FRAGMENT;
}

/* Walks an IPv6 extension chain starting at l3off + 40 with next header
 * nh, then the L4 header. Only through the load helpers, and in a global
 * function (fe_ip6_ext_skb/_xdp below) that the verifier checks once: a
 * bounded loop inlined into the caller made it re-walk the rest of the
 * program for every iteration (seconds of load time).
 */
static __always_inline int fe_ip6_ext(const struct fe_src *s, struct fe_pkt *p,
				      __u32 l3off, __u32 l3end, __u8 nh)
{
	__u32 off = l3off + 40, i;
	__u8 ext[8];
	const __u8 *h;

	for (i = 0; i < FE_MAX_EXT; i++) {
		if (nh == FE_IPPROTO_HOPOPTS || nh == FE_IPPROTO_ROUTING ||
		    nh == FE_IPPROTO_DSTOPTS || nh == FE_IPPROTO_AH) {
			if (off + 8 > l3end)
				goto trunc;
			h = fe_hdr_copy(s, off, ext, 2);
			if (!h)
				goto trunc;
			if (nh == FE_IPPROTO_AH)
				off += ((__u32)h[1] + 2) * 4;
			else
				off += ((__u32)h[1] + 1) * 8;
			nh = h[0];
		} else if (nh == FE_IPPROTO_FRAGMENT) {
			if (off + 8 > l3end)
				goto trunc;
			h = fe_hdr_copy(s, off, ext, 8);
			if (!h)
				goto trunc;
			p->frag = 1;
			nh = h[0];
			off += 8;
			if (((__u16)h[2] << 8 | h[3]) & 0xfff8) {
				p->key.proto = nh;
				p->key.flags |= FE_KEY_FRAG;
				p->hdr_len = off - l3off;
				return FE_PARSE_FLOW;
			}
		} else {
			break;
		}
	}
	p->key.proto = nh;
	p->hdr_len = off - l3off;
	if (i == FE_MAX_EXT &&
	    fe_ip6_is_ext(nh)) /* chain longer than we follow */
		goto trunc_set;
	fe_parse_l4(s, p, off, l3end, true);
	return FE_PARSE_FLOW;
trunc:
	p->key.proto = nh;
	p->hdr_len = off - l3off;
trunc_set:
	p->key.flags |= FE_KEY_TRUNC;
	return FE_PARSE_FLOW;
}

__noinline int fe_ip6_ext_skb(struct __sk_buff *skb, struct fe_pkt *p,
			      __u32 l3off, __u32 l3end, __u8 nh)
{
	struct fe_src s = { .ctx = skb, .xdp = false };

	if (!p)
		return FE_PARSE_MALFORMED;
	return fe_ip6_ext(&s, p, l3off, l3end, nh);
}

__noinline int fe_ip6_ext_xdp(struct xdp_md *ctx, struct fe_pkt *p, __u32 l3off,
			      __u32 l3end, __u8 nh)
{
	struct fe_src s = { .ctx = ctx, .xdp = true };

	if (!p)
		return FE_PARSE_MALFORMED;
	return fe_ip6_ext(&s, p, l3off, l3end, nh);
}

__noinline int fe_ip6_ext_kern(__u64 kbase, struct fe_pkt *p, __u32 l3off,
			       __u32 l3end, __u8 nh)
{
	struct fe_src s = { .kern = true, .kbase = (const __u8 *)kbase };

	if (!p)
		return FE_PARSE_MALFORMED;
	return fe_ip6_ext(&s, p, l3off, l3end, nh);
}

/* IPv6 header and extension chain at l3off. */
static __always_inline int
fe_parse_ip6(const struct fe_src *s, struct fe_pkt *p, __u32 l3off, __u32 avail)
{
	struct fe_ip6 buf;
	const struct fe_ip6 *ip;
	__u32 w, plen, off, l3end;
	__u8 nh;

	ip = fe_hdr(s, l3off, &buf, sizeof(buf));
	if (!ip)
		return FE_PARSE_MALFORMED;
	w = bpf_ntohl(ip->vtcfl);
	if ((w >> 28) != 6)
		return FE_PARSE_MALFORMED;
	plen = bpf_ntohs(ip->payload_len);
	/* 0 is a jumbogram (or bogus): trust what is there */
	p->ip_octets = plen && plen + 40 <= avail ? plen + 40 : avail;
	p->key.family = 6;
	p->tos = (w >> 20) & 0xff;
	p->flow_label = w & 0xfffff;
	p->ttl = ip->hop_limit;
	__builtin_memcpy(p->key.src, ip->saddr, 16);
	__builtin_memcpy(p->key.dst, ip->daddr, 16);
	nh = ip->nexthdr;
	off = l3off + 40;
	l3end = l3off + p->ip_octets;

	if (!fe_ip6_is_ext(nh)) { /* the common case */
		p->key.proto = nh;
		p->hdr_len = 40;
		fe_parse_l4(s, p, off, l3end, false);
		return FE_PARSE_FLOW;
	}
	if (s->kern)
		return fe_ip6_ext_kern((__u64)s->kbase, p, l3off, l3end, nh);
	return s->xdp ? fe_ip6_ext_xdp(s->ctx, p, l3off, l3end, nh)
		      : fe_ip6_ext_skb(s->ctx, p, l3off, l3end, nh);
}

/* Parses the frame. key.ifindex/in_ifindex/dir, and key.vlan when a
 * hardware-accelerated tag was present (have_vlan), are set by the caller
 * after/before; everything else in p is filled here (p zeroed first by
 * the caller).
 */
static __always_inline int fe_parse(const struct fe_src *s, struct fe_pkt *p,
				    bool have_vlan)
{
	struct {
		__be16 tci;
		__be16 proto;
	} vbuf;
	__u8 ebuf[14];
	const __u8 *eth;
	__u32 off = 14, i;
	__u16 proto;

	eth = fe_hdr(s, 0, ebuf, 14);
	if (!eth)
		return FE_PARSE_NON_IP;
	proto = (__u16)eth[12] << 8 | eth[13];
#pragma unroll
	for (i = 0; i < FE_MAX_VLAN; i++) {
		const typeof(vbuf) *v;

		if (proto != FE_ETH_P_8021Q && proto != FE_ETH_P_8021AD &&
		    proto != FE_ETH_P_QINQ1)
			break;
		v = fe_hdr(s, off, &vbuf, sizeof(vbuf));
		if (!v)
			return FE_PARSE_NON_IP;
		if (!have_vlan) {
			p->key.vlan = bpf_ntohs(v->tci) & 0xfff;
			have_vlan = true;
		}
		proto = bpf_ntohs(v->proto);
		off += 4;
	}
	p->l3off = off;
	if (proto == FE_ETH_P_IP)
		return fe_parse_ip4(s, p, off, s->len > off ? s->len - off : 0);
	if (proto == FE_ETH_P_IPV6)
		return fe_parse_ip6(s, p, off, s->len > off ? s->len - off : 0);
	return FE_PARSE_NON_IP;
}

#endif /* FE_PARSE_H */
