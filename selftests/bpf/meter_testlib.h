/* meter_testlib.h - helpers shared by the meter tests and the datapath
 * bench: load the meter skeleton with inner maps of a chosen size, build
 * packets, run them through a program with BPF_PROG_TEST_RUN, read flows
 * and stats (summed over CPUs: fe_stats is the one per-CPU map).
 * Header-only (static inline): each test is one translation unit.
 */
#ifndef MT_METER_TESTLIB_H
#define MT_METER_TESTLIB_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "flowexp.h"
#include "meter.skel.h"

_Static_assert(sizeof(struct fe_flow_key) == 48, "fe_flow_key layout");
_Static_assert(sizeof(struct fe_flow_val) == 48, "fe_flow_val layout");

#define MT_ETH_P_IP 0x0800
#define MT_ETH_P_IPV6 0x86DD
#define MT_ETH_P_ARP 0x0806

enum mt_hook { MT_TC_EGRESS, MT_TC_INGRESS, MT_XDP, MT_NR_HOOKS };

static const char *const mt_hook_names[MT_NR_HOOKS] = { "tc-egress",
							"tc-ingress", "xdp" };

/* A loaded meter with the inner maps of both generations in place, as the
 * product creates them; generation 0 is live unless a test flips fe_gen.
 */
struct mt_meter {
	struct meter_bpf *skel;
	int outer_fd;
	int gen_fd;
	int stats_fd;
	int flows_fd;		/* in slot FE_SLOT_FLOWS(0) */
	int ovf_fd;		/* in slot FE_SLOT_OVERFLOW(0) */
	int flows1_fd, ovf1_fd; /* generation 1 */
	int ncpus;
	__u32 max_entries;
};

static inline int mt_libbpf_print(enum libbpf_print_level level,
				  const char *fmt, va_list ap)
{
	/* only warnings, prefixed so TAP output stays parseable */
	if (level != LIBBPF_WARN && !getenv("MT_VERBOSE"))
		return 0;
	fputs("# ", stderr);
	return vfprintf(stderr, fmt, ap);
}

/* An inner map as agent/meter.c makes them: a preallocated shared hash. */
static inline int mt_inner_create(__u32 max_entries)
{
	int fd;

	fd = bpf_map_create(BPF_MAP_TYPE_HASH, "fe_flows_t",
			    sizeof(struct fe_flow_key),
			    sizeof(struct fe_flow_val), max_entries, NULL);
	return fd < 0 ? -errno : fd;
}

/* Overflow maps are smaller, as in the product. */
static inline __u32 mt_ovf_entries(__u32 max_entries)
{
	return max_entries < FE_OVF_MAX_ENTRIES ? max_entries
						: FE_OVF_MAX_ENTRIES;
}

/* Deletes every entry of an inner map; 0 or -errno. */
static inline int mt_map_empty(int fd)
{
	struct fe_flow_key key;

	while (!bpf_map_get_next_key(fd, NULL, &key))
		if (bpf_map_delete_elem(fd, &key))
			return -errno;
	return 0;
}

/* Empties every inner map, puts back a map a test took out of its slot,
 * makes generation 0 live and zeroes the stats: every test starts from
 * nothing. A map-in-map update (a grace period) only for a slot found
 * empty, so it is cheap enough to run before every case.
 */
static inline int mt_meter_reset(struct mt_meter *m)
{
	int fds[4] = { m->flows_fd, m->ovf_fd, m->flows1_fd, m->ovf1_fd };
	struct fe_stats *zero = calloc(m->ncpus, sizeof(*zero));
	__u32 i, g = 0, id;
	int err = 0;

	if (!zero)
		return -ENOMEM;
	for (i = 0; i < 4 && !err; i++) {
		err = mt_map_empty(fds[i]);
		if (!err && bpf_map_lookup_elem(m->outer_fd, &i, &id) &&
		    bpf_map_update_elem(m->outer_fd, &i, &fds[i], BPF_ANY))
			err = -errno;
	}
	if (!err && bpf_map_update_elem(m->gen_fd, &g, &g, BPF_ANY))
		err = -errno;
	if (!err && bpf_map_update_elem(m->stats_fd, &g, zero, BPF_ANY))
		err = -errno;
	free(zero);
	return err;
}

/* Creates the four inner maps; mt_meter_reset() puts them in their
 * slots (in slot order: flows 0, overflow 0, flows 1, overflow 1).
 */
static inline int mt_meter_fill(struct mt_meter *m)
{
	int *fds[4] = { &m->flows_fd, &m->ovf_fd, &m->flows1_fd, &m->ovf1_fd };
	__u32 slot;

	for (slot = 0; slot < FE_NR_SLOTS; slot++) {
		*fds[slot] = mt_inner_create(
			slot & 1 ? mt_ovf_entries(m->max_entries)
				 : m->max_entries);
		if (*fds[slot] < 0)
			return *fds[slot];
	}
	return mt_meter_reset(m);
}

static inline void mt_meter_close(struct mt_meter *m)
{
	int fds[4] = { m->flows_fd, m->ovf_fd, m->flows1_fd, m->ovf1_fd };

	for (int i = 0; i < 4; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	meter_bpf__destroy(m->skel);
	memset(m, 0, sizeof(*m));
	m->flows_fd = m->ovf_fd = m->flows1_fd = m->ovf1_fd = -1;
}

#define MT_SLOW_LOAD 0x1  /* parser reads only through the load helpers */
#define MT_PRECISE_TS 0x2 /* bpf_ktime_get_ns() timestamps */

/* Opens and loads the meter with inner maps of max_entries, MT_* flags
 * and 1-in-sampling packet sampling (0, 1: every packet). On failure
 * returns -errno and puts a reason in why (for skip()).
 */
static inline int mt_meter_open_sampled(struct mt_meter *m, __u32 max_entries,
					unsigned int flags, __u32 sampling,
					char *why, size_t whylen)
{
	int tmpl, err;

	memset(m, 0, sizeof(*m));
	m->flows_fd = m->ovf_fd = m->flows1_fd = m->ovf1_fd = -1;
	m->max_entries = max_entries;
	m->ncpus = libbpf_num_possible_cpus();
	if (m->ncpus <= 0) {
		snprintf(why, whylen, "libbpf_num_possible_cpus: %d", m->ncpus);
		return -EINVAL;
	}
	libbpf_set_print(mt_libbpf_print);
	m->skel = meter_bpf__open();
	if (!m->skel) {
		err = -errno;
		snprintf(why, whylen, "open meter skeleton: %s",
			 strerror(-err));
		return err;
	}
	m->skel->rodata->fe_cfg_slow_load = !!(flags & MT_SLOW_LOAD);
	m->skel->rodata->fe_cfg_precise_ts = !!(flags & MT_PRECISE_TS);
	m->skel->rodata->fe_cfg_sampling = sampling;
	/* inner maps must be shaped like the template: type, key and value
	 * size and flags (max_entries too for arrays, not for hashes)
	 */
	tmpl = mt_inner_create(max_entries);
	if (tmpl < 0) {
		err = tmpl;
		snprintf(why, whylen,
			 "create HASH inner map (BPF not allowed?): %s",
			 strerror(-err));
		goto fail;
	}
	err = bpf_map__set_inner_map_fd(m->skel->maps.fe_outer, tmpl);
	if (!err)
		err = meter_bpf__load(m->skel);
	close(tmpl);
	if (err) {
		snprintf(why, whylen, "load meter skeleton: %s",
			 strerror(-err));
		goto fail;
	}
	m->outer_fd = bpf_map__fd(m->skel->maps.fe_outer);
	m->gen_fd = bpf_map__fd(m->skel->maps.fe_gen);
	m->stats_fd = bpf_map__fd(m->skel->maps.fe_stats);
	err = mt_meter_fill(m);
	if (err) {
		snprintf(why, whylen, "fill fe_outer slots: %s",
			 strerror(-err));
		goto fail;
	}
	return 0;
fail:
	mt_meter_close(m);
	return err;
}

static inline int mt_meter_open(struct mt_meter *m, __u32 max_entries,
				unsigned int flags, char *why, size_t whylen)
{
	return mt_meter_open_sampled(m, max_entries, flags, 1, why, whylen);
}

static inline int mt_prog_fd(const struct mt_meter *m, enum mt_hook hook)
{
	switch (hook) {
	case MT_TC_EGRESS:
		return bpf_program__fd(m->skel->progs.fe_tc_egress);
	case MT_TC_INGRESS:
		return bpf_program__fd(m->skel->progs.fe_tc_ingress);
	default:
		return bpf_program__fd(m->skel->progs.fe_xdp);
	}
}

/* What a test run passes in the context (0: the kernel's default). */
struct mt_ctx {
	__u32 ifindex;	       /* tc: 0/1 = lo; xdp: ingress_ifindex */
	__u32 ingress_ifindex; /* tc only */
	__u32 gso_segs;	       /* tc only */
	__u32 gso_size;	       /* tc only */
};

/* BPF_PROG_TEST_RUN of a tc program refuses (EINVAL) a frame whose
 * Ethernet type is IPv4/IPv6 but that is shorter than Ethernet plus the
 * fixed IP header: such frames can be run only through XDP.
 */
static inline bool mt_tc_runnable(const __u8 *pkt, __u32 len)
{
	__u16 et = (__u16)pkt[12] << 8 | pkt[13];

	if (et == MT_ETH_P_IP)
		return len >= 14 + 20;
	if (et == MT_ETH_P_IPV6)
		return len >= 14 + 40;
	return true;
}

/* Runs pkt once through prog_fd of kind hook (tc or xdp). 0 or -errno;
 * -EBADMSG when the program changed the packet.
 */
static inline int mt_run_fd(int prog_fd, bool xdp, const void *pkt, __u32 len,
			    const struct mt_ctx *c, __u32 repeat, __u32 *retval,
			    __u32 *duration)
{
	static __thread __u8 out[8192]; /* per thread: tests fill from two */
	struct __sk_buff skb;
	struct xdp_md xmd;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = len,
		    .data_out = out, .data_size_out = sizeof(out),
		    .repeat = repeat);

	if (xdp) {
		if (c && c->ifindex) {
			memset(&xmd, 0, sizeof(xmd));
			xmd.data_end = len;
			xmd.ingress_ifindex = c->ifindex;
			o.ctx_in = &xmd;
			o.ctx_size_in = sizeof(xmd);
		}
	} else {
		memset(&skb, 0, sizeof(skb));
		if (c) {
			skb.ifindex = c->ifindex;
			skb.ingress_ifindex = c->ingress_ifindex;
			skb.gso_segs = c->gso_segs;
			skb.gso_size = c->gso_size;
		}
		o.ctx_in = &skb;
		o.ctx_size_in = sizeof(skb);
	}
	if (bpf_prog_test_run_opts(prog_fd, &o))
		return -errno;
	if (retval)
		*retval = o.retval;
	if (duration)
		*duration = o.duration;
	if (o.data_size_out != len || memcmp(out, pkt, len))
		return -EBADMSG;
	return 0;
}

static inline int mt_run(const struct mt_meter *m, enum mt_hook hook,
			 const void *pkt, __u32 len, const struct mt_ctx *c,
			 __u32 *retval)
{
	return mt_run_fd(mt_prog_fd(m, hook), hook == MT_XDP, pkt, len, c, 1,
			 retval, NULL);
}

/* The verdict every meter program must return. */
static inline __u32 mt_pass_verdict(enum mt_hook hook)
{
	return hook == MT_XDP ? XDP_PASS : (__u32)TC_ACT_UNSPEC;
}

/* A flow entry as the drain delivers it. */
struct mt_flow {
	struct fe_flow_key key;
	struct fe_flow_val val;
};

/* Reads every entry of an inner map (at most max) into out; the count or
 * -errno.
 */
static inline int mt_flows_read(const struct mt_meter *m, int map_fd,
				struct mt_flow *out, int max)
{
	struct fe_flow_key key, next;
	struct fe_flow_val v;
	void *prev = NULL;
	int n = 0;

	while (!bpf_map_get_next_key(map_fd, prev, &next)) {
		if (bpf_map_lookup_elem(map_fd, &next, &v))
			return -errno;
		if (n >= max)
			return -E2BIG;
		out[n].key = next;
		out[n].val = v;
		n++;
		key = next;
		prev = &key;
	}
	return n;
}

/* Sum of packets (and octets) over all entries of an inner map; -errno on
 * failure.
 */
static inline long long mt_map_sum(const struct mt_meter *m, int map_fd,
				   long long *entries, __u64 *octets)
{
	struct fe_flow_key key, next;
	struct fe_flow_val v;
	void *prev = NULL;
	long long sum = 0, n = 0;
	__u64 oct = 0;

	while (!bpf_map_get_next_key(map_fd, prev, &next)) {
		if (bpf_map_lookup_elem(map_fd, &next, &v))
			return -errno;
		sum += v.packets;
		oct += v.octets;
		n++;
		key = next;
		prev = &key;
	}
	if (entries)
		*entries = n;
	if (octets)
		*octets = oct;
	return sum;
}

static inline long long mt_map_packets(const struct mt_meter *m, int map_fd,
				       long long *entries)
{
	return mt_map_sum(m, map_fd, entries, NULL);
}

static inline int mt_stats_read(const struct mt_meter *m, __u64 st[FE_STAT_MAX])
{
	struct fe_stats *v;
	__u32 zero = 0;
	int c, i, err = 0;

	for (i = 0; i < FE_STAT_MAX; i++)
		st[i] = 0;
	v = calloc(m->ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(m->stats_fd, &zero, v))
		err = -errno;
	for (c = 0; c < m->ncpus && !err; c++)
		for (i = 0; i < FE_STAT_MAX; i++)
			st[i] += v[c].n[i];
	free(v);
	return err;
}

/* ---- packet builder ---- */

#define MT_IP6_HOP 0
#define MT_IP6_ROUTING 43
#define MT_IP6_FRAG 44
#define MT_IP6_AH 51
#define MT_IP6_DST 60

/* A packet to build. family 0 builds a bare frame of ethertype with
 * payload bytes. IPv6 extension headers are given in order in ext[]; their
 * lengths are fixed per type (see mt_ext_len()).
 */
struct mt_pkt_spec {
	int nvlan;
	__u16 vlan_tpid[2];
	__u16 vlan_id[2];
	__u16 ethertype; /* family 0 only */
	int family;	 /* 4, 6 or 0 */
	__u8 proto;
	__u8 src[16];
	__u8 dst[16];
	__u8 tos;
	__u8 ttl;
	__u32 flow_label;
	int ip4_optlen;	   /* bytes of IPv4 options, multiple of 4 */
	__u16 frag_offset; /* fragment offset in 8-byte units */
	bool frag_mf;	   /* IPv4 MF, or the IPv6 fragment header's M */
	int n_ext;	   /* IPv6 extension headers */
	__u8 ext[16];
	__u16 sport;
	__u16 dport;
	__u16 tcp_flags; /* 9 bits */
	int tcp_optlen;	 /* multiple of 4 */
	__u8 icmp_type;
	__u8 icmp_code;
	int payload; /* bytes after the L4 header */
};

/* Where things ended up in a built packet. */
struct mt_pkt_info {
	__u32 len;
	__u32 l3off;
	__u32 ip_len; /* IPv4 tot_len / IPv6 payload_len + 40 */
	__u32 l4off;  /* == len - payload when there is no L4 header */
	__u32 l4len;  /* L4 header bytes in the packet (0: none) */
	__u32 ext_off[16];
	bool ip4_frag_later; /* non-first fragment (either family) */
};

static inline __u32 mt_ext_len(__u8 type)
{
	switch (type) {
	case MT_IP6_HOP:
		return 8;
	case MT_IP6_ROUTING:
		return 24;
	case MT_IP6_DST:
		return 16;
	case MT_IP6_AH:
		return 24;
	default: /* fragment */
		return 8;
	}
}

static inline __u32 mt_l4_len(const struct mt_pkt_spec *s)
{
	if (s->frag_offset)
		return 0;
	switch (s->proto) {
	case IPPROTO_TCP:
		return 20 + s->tcp_optlen;
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
		return 8;
	case IPPROTO_SCTP:
		return 12;
	case IPPROTO_ICMP:
		return s->family == 4 ? 8 : 0;
	case IPPROTO_ICMPV6:
		return s->family == 6 ? 8 : 0;
	default:
		return 0;
	}
}

static inline void mt_put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static inline void mt_put32(__u8 *p, __u32 v)
{
	mt_put16(p, v >> 16);
	mt_put16(p + 2, v & 0xffff);
}

/* Builds s into buf (cap bytes); the length, or 0 when it does not fit. */
static inline __u32 mt_pkt_build(const struct mt_pkt_spec *s, __u8 *buf,
				 __u32 cap, struct mt_pkt_info *info)
{
	struct mt_pkt_info inf;
	__u32 off = 12, l4len = mt_l4_len(s), iplen, hlen, i;
	__u16 et;
	__u8 *ip;

	memset(&inf, 0, sizeof(inf));
	if (cap < 1600)
		return 0;
	memset(buf, 0, cap);
	/* dst 02:00:00:00:00:02, src 02:00:00:00:00:01 */
	buf[0] = 0x02;
	buf[5] = 0x02;
	buf[6] = 0x02;
	buf[11] = 0x01;
	et = s->family == 4   ? MT_ETH_P_IP
	     : s->family == 6 ? MT_ETH_P_IPV6
			      : s->ethertype;
	for (i = 0; i < (__u32)s->nvlan && i < 2; i++) {
		mt_put16(buf + off, s->vlan_tpid[i] ? s->vlan_tpid[i] : 0x8100);
		mt_put16(buf + off + 2, s->vlan_id[i]);
		off += 4;
	}
	mt_put16(buf + off, et);
	off += 2;
	inf.l3off = off;
	ip = buf + off;
	if (s->family == 0) {
		if (off + s->payload > cap)
			return 0;
		for (i = 0; i < (__u32)s->payload; i++)
			ip[i] = i;
		inf.len = off + s->payload;
		if (info)
			*info = inf;
		return inf.len;
	}
	if (s->family == 4) {
		hlen = 20 + s->ip4_optlen;
		iplen = hlen + l4len + s->payload;
		if (off + iplen > cap)
			return 0;
		ip[0] = 0x40 | (hlen / 4);
		ip[1] = s->tos;
		mt_put16(ip + 2, iplen);
		mt_put16(ip + 4, 0x1234);
		mt_put16(ip + 6,
			 (s->frag_mf ? 0x2000 : 0) | (s->frag_offset & 0x1fff));
		ip[8] = s->ttl;
		ip[9] = s->proto;
		memcpy(ip + 12, s->src, 4);
		memcpy(ip + 16, s->dst, 4);
		/* options: NOPs then an end-of-list */
		for (i = 0; i < (__u32)s->ip4_optlen; i++)
			ip[20 + i] = i + 1 < (__u32)s->ip4_optlen ? 1 : 0;
		off += hlen;
	} else {
		__u8 nh = s->n_ext ? s->ext[0] : s->proto;
		__u32 ext_total = 0;

		for (i = 0; i < (__u32)s->n_ext; i++)
			ext_total += mt_ext_len(s->ext[i]);
		iplen = 40 + ext_total + l4len + s->payload;
		if (off + iplen > cap)
			return 0;
		mt_put32(ip, 6u << 28 | (__u32)s->tos << 20 |
				     (s->flow_label & 0xfffff));
		mt_put16(ip + 4, iplen - 40);
		ip[6] = nh;
		ip[7] = s->ttl;
		memcpy(ip + 8, s->src, 16);
		memcpy(ip + 24, s->dst, 16);
		off += 40;
		for (i = 0; i < (__u32)s->n_ext; i++) {
			__u8 *h = buf + off, t = s->ext[i];
			__u32 l = mt_ext_len(t);

			inf.ext_off[i] = off;
			h[0] = i + 1 < (__u32)s->n_ext ? s->ext[i + 1]
						       : s->proto;
			if (t == MT_IP6_FRAG)
				mt_put16(h + 2, (s->frag_offset << 3) |
							(s->frag_mf ? 1 : 0));
			else if (t == MT_IP6_AH)
				h[1] = l / 4 - 2;
			else
				h[1] = l / 8 - 1;
			off += l;
		}
	}
	inf.ip_len = iplen;
	inf.l4off = off;
	inf.l4len = l4len;
	inf.ip4_frag_later = s->frag_offset != 0;
	if (l4len) {
		__u8 *l4 = buf + off;

		switch (s->proto) {
		case IPPROTO_TCP:
			mt_put16(l4, s->sport);
			mt_put16(l4 + 2, s->dport);
			mt_put32(l4 + 4, 1000);
			mt_put16(l4 + 12, (__u16)(l4len / 4) << 12 |
						  (s->tcp_flags & 0x1ff));
			mt_put16(l4 + 14, 65535);
			for (i = 20; i < l4len; i++)
				l4[i] = 1; /* NOP options */
			break;
		case IPPROTO_ICMP:
		case IPPROTO_ICMPV6:
			l4[0] = s->icmp_type;
			l4[1] = s->icmp_code;
			break;
		default: /* UDP, UDP-Lite, SCTP: ports first */
			mt_put16(l4, s->sport);
			mt_put16(l4 + 2, s->dport);
			if (s->proto != IPPROTO_SCTP)
				mt_put16(l4 + 4, l4len + s->payload);
			break;
		}
		off += l4len;
	}
	for (i = 0; i < (__u32)s->payload; i++)
		buf[off + i] = 0xa0 + (i & 0x1f);
	inf.len = off + s->payload;
	if (info)
		*info = inf;
	return inf.len;
}

/* A typical spec: IPv4 TCP ACK 10.0.0.1:40000 -> 10.0.0.2:80 (IPv6:
 * fd00::1 -> fd00::2), 100 bytes of payload.
 */
static inline void mt_spec_default(struct mt_pkt_spec *s, int family,
				   __u8 proto)
{
	memset(s, 0, sizeof(*s));
	s->family = family;
	s->proto = proto;
	s->ttl = 64;
	s->sport = 40000;
	s->dport = 80;
	s->tcp_flags = 0x010;
	s->icmp_type = family == 6 ? 128 : 8;
	s->payload = 100;
	if (family == 4) {
		s->src[0] = 10, s->src[3] = 1;
		s->dst[0] = 10, s->dst[3] = 2;
	} else {
		s->src[0] = 0xfd, s->src[15] = 1;
		s->dst[0] = 0xfd, s->dst[15] = 2;
	}
}

#endif /* MT_METER_TESTLIB_H */
