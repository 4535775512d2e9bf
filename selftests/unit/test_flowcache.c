/* test_flowcache.c - unit tests of the conversation cache: expiry reasons
 * at exact times on a fake clock, initiator detection, ICMP pairing,
 * multipath merge, dedup of double sightings, eviction, flush, overflow,
 * and a randomized property test of exact totals.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>
#include "filter.h"
#include "flowcache.h"
#include "records.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

static const uint8_t A4[16] = { 10, 0, 0, 1 };
static const uint8_t B4[16] = { 10, 0, 1, 2 };
static const uint8_t C4[16] = { 10, 0, 2, 3 };
static const uint8_t R4[16] = { 10, 0, 0, 254 };
static const uint8_t A6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t B6[16] = { 0x20, 0x01, 0x0d, 0xb8, [14] = 1, [15] = 2 };

struct tup {
	uint8_t family, proto;
	const uint8_t *src, *dst;
	uint16_t sport, dport;
};

static struct tup rev(struct tup t)
{
	struct tup r = { t.family, t.proto, t.dst, t.src, t.dport, t.sport };

	return r;
}

static struct fe_obs mkobs(uint8_t dir, uint32_t ifindex, uint32_t in_if,
			   struct tup t, uint64_t pk, uint64_t ms)
{
	struct fe_obs o;

	memset(&o, 0, sizeof(o));
	o.key.ifindex = ifindex;
	o.key.in_ifindex = dir == FE_DIR_INGRESS ? ifindex : in_if;
	o.key.dir = dir;
	o.key.family = t.family;
	o.key.proto = t.proto;
	o.key.sport = t.sport;
	o.key.dport = t.dport;
	memcpy(o.key.src, t.src, 16);
	memcpy(o.key.dst, t.dst, 16);
	o.packets = pk;
	o.octets = pk * 100;
	o.first_ms = ms;
	o.last_ms = ms;
	o.ttl_min = 60;
	o.ttl_max = 64;
	return o;
}

static struct fe_obs EG(uint32_t ifx, uint32_t in_if, struct tup t, uint64_t pk,
			uint64_t ms) {
	return mkobs(FE_DIR_EGRESS, ifx, in_if, t, pk, ms);
}

static struct fe_obs
IN(uint32_t ifx, struct tup t, uint64_t pk, uint64_t ms) {
	return mkobs(FE_DIR_INGRESS, ifx, ifx, t, pk, ms);
}

/* What one emit produced, in every record mode. */
struct emitted {
	uint8_t reason;
	bool init_known;
	uint8_t side0[16];
	int nbi, nuni, nsplit, nbisplit;
	struct fe_record bi[1];
	struct fe_record uni[2];
	struct fe_record split[40];
	struct fe_record bisplit[40];
};

#define MAX_EMITS 64
struct sink {
	int n;
	struct emitted e[MAX_EMITS];
};

static void on_emit(void *ctx, const struct fe_conv *c, uint8_t reason)
{
	struct sink *s = ctx;
	struct emitted *e;

	assert_true(s->n < MAX_EMITS);
	e = &s->e[s->n++];
	e->reason = reason;
	e->init_known = c->init_known;
	memcpy(e->side0, c->addr[0], 16);
	e->nbi = fe_conv_records(c, FE_REC_BIFLOW, false, reason, e->bi, 1);
	e->nuni = fe_conv_records(c, FE_REC_UNIFLOW, false, reason, e->uni, 2);
	e->nsplit =
		fe_conv_records(c, FE_REC_UNIFLOW, true, reason, e->split, 40);
	e->nbisplit =
		fe_conv_records(c, FE_REC_BIFLOW, true, reason, e->bisplit, 40);
	assert_true(e->nbi <= 1 && e->nuni <= 2);
	assert_true(e->nsplit <= 40 && e->nbisplit <= 40);
}

static struct flowcache *mkfc(uint64_t idle, uint64_t active, uint64_t grace,
			      size_t max)
{
	struct flowcache_cfg cfg = { idle, active, grace, max };
	struct flowcache *fc = flowcache__new(&cfg);

	assert_non_null(fc);
	return fc;
}

static void add(struct flowcache *fc, struct fe_obs o, uint64_t now,
		struct sink *s)
{
	assert_int_equal(flowcache__add(fc, &o, now, on_emit, s), 0);
}

static uint64_t nflows(struct flowcache *fc)
{
	struct flowcache_stats st;

	flowcache__stats(fc, &st);
	return st.flows;
}

static struct flowcache_stats stats(struct flowcache *fc)
{
	struct flowcache_stats st;

	flowcache__stats(fc, &st);
	return st;
}

static const struct tup UDP_AB = { 4, 17, A4, B4, 40000, 53 };
static const struct tup TCP_AB = { 4, 6, A4, B4, 40000, 80 };

static void test_cfg_invalid(void **state)
{
	struct flowcache_cfg bad[] = { { 0, 1, 0, 1 },
				       { 1, 0, 0, 1 },
				       { 1, 1, 0, 0 } };
	struct flowcache_cfg good = { 1, 1, 0, 1 };
	struct flowcache *fc;
	size_t i;

	for (i = 0; i < 3; i++) {
		errno = 0;
		assert_null(flowcache__new(&bad[i]));
		assert_int_equal(errno, EINVAL);
	}
	fc = flowcache__new(&good);
	assert_non_null(fc);
	assert_int_equal(flowcache__set_cfg(fc, &bad[0]), -EINVAL);
	assert_int_equal(flowcache__set_cfg(fc, &good), 0);
	flowcache__free(fc);
}

static void test_idle_timeout(void **state)
{
	struct flowcache *fc = mkfc(15000, 60000, 2000, 100);
	static struct sink s;

	memset(&s, 0, sizeof(s));
	add(fc, EG(2, 1, UDP_AB, 5, 900), 1000, &s);
	add(fc, EG(1, 2, rev(UDP_AB), 2, 950), 1000, &s);
	assert_int_equal(flowcache__expire(fc, 15999, on_emit, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(flowcache__expire(fc, 16000, on_emit, &s), 1);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.e[0].reason, FE_END_IDLE);
	assert_int_equal(s.e[0].nbi, 1);
	assert_int_equal(s.e[0].bi[0].end_reason, FE_END_IDLE);
	assert_int_equal(s.e[0].bi[0].fwd.packets, 5);
	assert_int_equal(s.e[0].bi[0].fwd.octets, 500);
	assert_int_equal(s.e[0].bi[0].rev.packets, 2);
	assert_int_equal(s.e[0].bi[0].fwd.start_ms, 900);
	assert_int_equal(s.e[0].bi[0].rev.start_ms, 950);
	assert_int_equal(nflows(fc), 0);
	assert_int_equal(stats(fc).exported[FE_END_IDLE], 1);
	flowcache__free(fc);
}

/* Activity at 1000 and 9000: idle counts from the last one. */
static void test_idle_refreshed(void **state)
{
	struct flowcache *fc = mkfc(15000, 600000, 2000, 100);
	static struct sink s;

	memset(&s, 0, sizeof(s));
	add(fc, EG(2, 1, UDP_AB, 1, 1000), 1000, &s);
	add(fc, EG(2, 1, UDP_AB, 1, 9000), 9000, &s);
	assert_int_equal(flowcache__expire(fc, 16000, on_emit, &s), 0);
	assert_int_equal(flowcache__expire(fc, 23999, on_emit, &s), 0);
	assert_int_equal(flowcache__expire(fc, 24000, on_emit, &s), 1);
	assert_int_equal(s.e[0].bi[0].fwd.packets, 2);
	assert_int_equal(s.e[0].bi[0].fwd.start_ms, 1000);
	assert_int_equal(s.e[0].bi[0].fwd.end_ms, 9000);
	flowcache__free(fc);
}

static void test_active_timeout(void **state)
{
	struct flowcache *fc = mkfc(1000000, 60000, 2000, 100);
	static struct sink s;

	memset(&s, 0, sizeof(s));
	add(fc, EG(2, 1, UDP_AB, 3, 900), 1000, &s);
	assert_int_equal(flowcache__expire(fc, 60999, on_emit, &s), 0);
	assert_int_equal(flowcache__expire(fc, 61000, on_emit, &s), 1);
	assert_int_equal(s.e[0].reason, FE_END_ACTIVE);
	assert_int_equal(s.e[0].bi[0].fwd.packets, 3);
	assert_int_equal(s.e[0].bi[0].end_reason, FE_END_ACTIVE);
	assert_int_equal(nflows(fc), 1);

	/* Deltas reset, true start kept. */
	add(fc, EG(2, 1, UDP_AB, 2, 61900), 62000, &s);
	add(fc, EG(1, 2, rev(UDP_AB), 4, 61950), 62000, &s);
	assert_int_equal(flowcache__expire(fc, 120999, on_emit, &s), 0);
	assert_int_equal(flowcache__expire(fc, 121000, on_emit, &s), 1);
	assert_int_equal(s.e[1].reason, FE_END_ACTIVE);
	assert_int_equal(s.e[1].bi[0].fwd.packets, 2);
	assert_int_equal(s.e[1].bi[0].fwd.octets, 200);
	assert_int_equal(s.e[1].bi[0].fwd.start_ms, 900);
	assert_int_equal(s.e[1].bi[0].fwd.end_ms, 61900);
	assert_int_equal(s.e[1].bi[0].rev.packets, 4);
	assert_int_equal(s.e[1].bi[0].rev.start_ms, 61950);

	/* Nothing new: no export at the next active tick. */
	assert_int_equal(flowcache__expire(fc, 181000, on_emit, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(stats(fc).active_skipped, 1);
	assert_int_equal(nflows(fc), 1);
	/* Idle expiry still removes it; nothing left to say. */
	assert_int_equal(flowcache__expire(fc, 1062000, on_emit, &s), 0);
	assert_int_equal(nflows(fc), 0);
	assert_int_equal(stats(fc).removed_empty, 1);
	assert_int_equal(stats(fc).exported[FE_END_ACTIVE], 2);
	flowcache__free(fc);
}

static struct fe_obs tcp(struct fe_obs o, uint16_t flags, bool syn)
{
	o.tcp_flags = flags;
	o.vflags = syn ? FE_VAL_SYN : 0;
	return o;
}

static void test_end_of_flow_fin(void **state)
{
	struct flowcache *fc = mkfc(15000, 60000, 2000, 100);
	static struct sink s;

	memset(&s, 0, sizeof(s));
	add(fc, tcp(EG(2, 1, TCP_AB, 1, 1000), TCP_SYN, true), 1000, &s);
	add(fc, tcp(EG(1, 2, rev(TCP_AB), 1, 1001), TCP_SYN | TCP_ACK, false),
	    1000, &s);
	add(fc, tcp(EG(2, 1, TCP_AB, 3, 2000), TCP_ACK | TCP_FIN, false), 2000,
	    &s);
	assert_int_equal(flowcache__expire(fc, 2000, on_emit, &s), 0);
	add(fc, tcp(EG(1, 2, rev(TCP_AB), 2, 3000), TCP_ACK | TCP_FIN, false),
	    3000, &s);
	/* The last ACK arrives inside the grace period and joins. */
	add(fc, tcp(EG(2, 1, TCP_AB, 1, 4000), TCP_ACK, false), 4000, &s);
	assert_int_equal(flowcache__expire(fc, 4999, on_emit, &s), 0);
	assert_int_equal(flowcache__expire(fc, 5000, on_emit, &s), 1);
	assert_int_equal(s.e[0].reason, FE_END_EOF);
	assert_int_equal(s.e[0].bi[0].fwd.packets, 5);
	assert_int_equal(s.e[0].bi[0].rev.packets, 3);
	assert_int_equal(s.e[0].bi[0].biflow_dir, 1);
	assert_int_equal(s.e[0].bi[0].fwd.tcp_flags,
			 TCP_SYN | TCP_ACK | TCP_FIN);
	assert_int_equal(s.e[0].bi[0].end_reason, FE_END_EOF);
	assert_int_equal(nflows(fc), 0);
	assert_int_equal(stats(fc).exported[FE_END_EOF], 1);
	flowcache__free(fc);
}

static void test_end_of_flow_rst(void **state)
{
	struct flowcache *fc = mkfc(15000, 60000, 2000, 100);
	static struct sink s;

	memset(&s, 0, sizeof(s));
	add(fc, tcp(EG(2, 1, TCP_AB, 1, 1000), TCP_SYN, true), 1000, &s);
	add(fc, tcp(EG(1, 2, rev(TCP_AB), 1, 2000), TCP_RST | TCP_ACK, false),
	    2000, &s);
	assert_int_equal(flowcache__expire(fc, 3999, on_emit, &s), 0);
	assert_int_equal(flowcache__expire(fc, 4000, on_emit, &s), 1);
	assert_int_equal(s.e[0].reason, FE_END_EOF);
	assert_int_equal(s.e[0].bi[0].rev.tcp_flags, TCP_RST | TCP_ACK);
	/* FIN one way only is not the end. */
	add(fc, tcp(EG(2, 1, TCP_AB, 1, 5000), TCP_FIN, false), 5000, &s);
	assert_int_equal(flowcache__expire(fc, 19999, on_emit, &s), 0);
	assert_int_equal(flowcache__expire(fc, 20000, on_emit, &s), 1);
	assert_int_equal(s.e[1].reason, FE_END_IDLE);
	flowcache__free(fc);
}

/* A flowctl filter that matches everything, as fe_filter_parse() leaves
 * it before the words narrow it.
 */
static void filter_init(struct fe_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->proto = f->sport = f->dport = f->port = -1;
}

static bool match_filter(void *f, const struct fe_conv *c)
{
	return fe_filter_match_conv(f, c);
}

static size_t flush_filter(struct flowcache *fc, struct fe_filter *f,
			   struct sink *s)
{
	return flowcache__flush(fc, match_filter, f, 2000, on_emit, s);
}

static void test_forced_flush_filters(void **state)
{
	struct flowcache *fc = mkfc(15000, 60000, 2000, 100);
	struct tup udp_cb = { 4, 17, C4, B4, 5353, 53 };
	struct tup v6 = { 6, 17, A6, B6, 1000, 2000 };
	struct fe_filter f;
	static struct sink s;

	memset(&s, 0, sizeof(s));
	add(fc, EG(2, 1, TCP_AB, 1, 1000), 1000, &s);
	add(fc, EG(3, 1, udp_cb, 1, 1000), 1000, &s);
	add(fc, EG(4, 1, v6, 1, 1000), 1000, &s);
	add(fc, EG(2, 1, UDP_AB, 1, 1000), 1000, &s);
	assert_int_equal(nflows(fc), 4);

	/* dst B port 80 matches A->B:80 (read forward)... */
	filter_init(&f);
	f.has_dst = true;
	memcpy(f.dst, B4, 16);
	f.dport = 80;
	f.proto = 6;
	assert_int_equal(flush_filter(fc, &f, &s), 1);
	assert_int_equal(s.e[0].reason, FE_END_FORCED);
	assert_int_equal(s.e[0].bi[0].proto, 6);
	assert_int_equal(s.e[0].bi[0].end_reason, FE_END_FORCED);
	/* ...and src B sport 53 matches C->B:53 read backwards. */
	filter_init(&f);
	f.has_src = true;
	memcpy(f.src, B4, 16);
	f.sport = 53;
	f.has_dst = true;
	memcpy(f.dst, C4, 16);
	assert_int_equal(flush_filter(fc, &f, &s), 1);
	assert_int_equal(s.e[1].bi[0].sport, 5353);
	/* Interface and family. */
	filter_init(&f);
	f.ifindex = 9;
	assert_int_equal(flush_filter(fc, &f, &s), 0);
	f.ifindex = 4;
	assert_int_equal(flush_filter(fc, &f, &s), 1);
	assert_int_equal(s.e[2].bi[0].family, 6);
	filter_init(&f);
	f.family = 6;
	assert_int_equal(flush_filter(fc, &f, &s), 0);
	assert_int_equal(nflows(fc), 1);
	assert_int_equal(flowcache__flush(fc, NULL, NULL, 2000, on_emit, &s), 1);
	assert_int_equal(nflows(fc), 0);
	assert_int_equal(s.n, 4);
	assert_int_equal(stats(fc).exported[FE_END_FORCED], 4);
	flowcache__free(fc);
}

static void test_resources_lru(void **state)
{
	struct flowcache *fc = mkfc(150000, 600000, 2000, 3);
	struct tup t1 = UDP_AB, t2 = UDP_AB, t3 = UDP_AB, t4 = UDP_AB;
	struct flowcache_cfg cfg = { 150000, 600000, 2000, 1 };
	static struct sink s;

	memset(&s, 0, sizeof(s));
	t2.sport = 2;
	t3.sport = 3;
	t4.sport = 4;
	add(fc, EG(2, 1, t1, 1, 1000), 1000, &s);
	add(fc, EG(2, 1, t2, 2, 2000), 2000, &s);
	add(fc, EG(2, 1, t3, 3, 3000), 3000, &s);
	add(fc, EG(2, 1, t1, 1, 4000), 4000, &s); /* t1 active again */
	assert_int_equal(s.n, 0);
	add(fc, EG(2, 1, t4, 4, 5000), 5000, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.e[0].reason, FE_END_RESOURCES);
	assert_int_equal(s.e[0].bi[0].sport, 2);
	assert_int_equal(s.e[0].bi[0].fwd.packets, 2);
	assert_int_equal(s.e[0].bi[0].end_reason, FE_END_RESOURCES);
	assert_int_equal(nflows(fc), 3);
	/* A smaller cache evicts at the next expire, LRU first. */
	assert_int_equal(flowcache__set_cfg(fc, &cfg), 0);
	assert_int_equal(flowcache__expire(fc, 6000, on_emit, &s), 2);
	assert_int_equal(s.e[1].bi[0].sport, 3);
	assert_int_equal(s.e[2].bi[0].sport, 40000);
	assert_int_equal(s.e[2].bi[0].fwd.packets, 2);
	assert_int_equal(nflows(fc), 1);
	assert_int_equal(stats(fc).exported[FE_END_RESOURCES], 3);
	flowcache__free(fc);
}

static void test_initiator_syn_first(void **state)
{
	struct flowcache *fc = mkfc(15000, 60000, 2000, 100);
	static struct sink s;

	memset(&s, 0, sizeof(s));
	add(fc, tcp(EG(2, 1, TCP_AB, 1, 1000), TCP_SYN, true), 1000, &s);
	add(fc, tcp(EG(1, 2, rev(TCP_AB), 1, 1001), TCP_SYN | TCP_ACK, false),
	    1000, &s);
	flowcache__flush(fc, NULL, NULL, 2000, on_emit, &s);
	assert_true(s.e[0].init_known);
	assert_memory_equal(s.e[0].bi[0].src, A4, 16);
	assert_int_equal(s.e[0].bi[0].sport, 40000);
	assert_int_equal(s.e[0].bi[0].dport, 80);
	assert_int_equal(s.e[0].bi[0].biflow_dir, 1);
	assert_int_equal(stats(fc).swapped, 0);
	flowcache__free(fc);
}

/* The drain delivered the SYN-ACK before the SYN. */
static void test_initiator_swapped(void **state)
{
	struct flowcache *fc = mkfc(15000, 60000, 2000, 100);
	static struct sink s;

	memset(&s, 0, sizeof(s));
	add(fc, tcp(EG(1, 2, rev(TCP_AB), 1, 1001), TCP_SYN | TCP_ACK, false),
	    1000, &s);
	add(fc, tcp(EG(1, 2, rev(TCP_AB), 2, 1002), TCP_ACK, false), 1000, &s);
	add(fc, tcp(EG(2, 1, TCP_AB, 3, 1000), TCP_SYN | TCP_ACK, true), 1000,
	    &s);
	flowcache__flush(fc, NULL, NULL, 2000, on_emit, &s);
	assert_int_equal(stats(fc).swapped, 1);
	assert_memory_equal(s.e[0].bi[0].src, A4, 16);
	assert_memory_equal(s.e[0].bi[0].dst, B4, 16);
	assert_int_equal(s.e[0].bi[0].sport, 40000);
	assert_int_equal(s.e[0].bi[0].fwd.packets, 3);
	assert_int_equal(s.e[0].bi[0].rev.packets, 3);
	assert_int_equal(s.e[0].bi[0].fwd.in_if, 1);
	assert_int_equal(s.e[0].bi[0].fwd.out_if, 2);
	assert_int_equal(s.e[0].bi[0].rev.in_if, 2);
	assert_int_equal(s.e[0].bi[0].rev.out_if, 1);
	assert_int_equal(s.e[0].bi[0].fwd.start_ms, 1000);
	assert_int_equal(s.e[0].bi[0].biflow_dir, 1);
	flowcache__free(fc);
}

/* Once exported the orientation stays: collectors already have it. */
static void test_initiator_no_swap_after_export(void **state)
{
	struct flowcache *fc = mkfc(150000, 60000, 2000, 100);
	static struct sink s;

	memset(&s, 0, sizeof(s));
	add(fc, EG(1, 2, rev(TCP_AB), 1, 1000), 1000, &s);
	assert_int_equal(flowcache__expire(fc, 61000, on_emit, &s), 1);
	add(fc, tcp(EG(2, 1, TCP_AB, 1, 62000), TCP_SYN, true), 62000, &s);
	flowcache__flush(fc, NULL, NULL, 63000, on_emit, &s);
	assert_int_equal(s.n, 2);
	assert_int_equal(stats(fc).swapped, 0);
	assert_memory_equal(s.e[1].bi[0].src, B4, 16);
	assert_int_equal(s.e[1].bi[0].fwd.packets, 0);
	assert_int_equal(s.e[1].bi[0].rev.packets, 1);
	assert_int_equal(s.e[1].bi[0].biflow_dir, 0);
	flowcache__free(fc);
}

static void test_initiator_udp_first_seen(void **state)
{
	struct flowcache *fc = mkfc(15000, 60000, 2000, 100);
	static struct sink s;

	memset(&s, 0, sizeof(s));
	add(fc, EG(1, 2, rev(UDP_AB), 1, 1000), 1000, &s);
	add(fc, EG(2, 1, UDP_AB, 7, 999), 1000, &s);
	flowcache__flush(fc, NULL, NULL, 2000, on_emit, &s);
	assert_false(s.e[0].init_known);
	assert_memory_equal(s.e[0].bi[0].src, B4, 16);
	assert_int_equal(s.e[0].bi[0].sport, 53);
	assert_int_equal(s.e[0].bi[0].fwd.packets, 1);
	assert_int_equal(s.e[0].bi[0].rev.packets, 7);
	assert_int_equal(s.e[0].bi[0].biflow_dir, 0);
	flowcache__free(fc);
}

/* A pings B while B pings A: two conversations, each requester on side 0,
 * each direction's packets where they belong.
 */
static void test_icmp_echo_both_ways(void **state)
{
	struct flowcache *fc = mkfc(15000, 60000, 2000, 100);
	struct tup ab = { 4, 1, A4, B4, 0, 8 << 8 };  /* A asks B */
	struct tup ba = { 4, 1, B4, A4, 0, 0 };       /* B answers A */
	struct tup ba2 = { 4, 1, B4, A4, 0, 8 << 8 }; /* B asks A */
	struct tup ab2 = { 4, 1, A4, B4, 0, 0 };      /* A answers B */
	static struct sink s;

	(void)state;
	memset(&s, 0, sizeof(s));
	add(fc, EG(2, 1, ab, 3, 1000), 1000, &s);
	add(fc, EG(1, 2, ba, 3, 1001), 1000, &s);
	add(fc, EG(1, 3, ba2, 7, 1000), 1000, &s);
	add(fc, EG(3, 1, ab2, 7, 1001), 1000, &s);
	assert_int_equal(nflows(fc), 2);
	flowcache__flush(fc, NULL, NULL, 2000, on_emit, &s);
	assert_int_equal(s.n, 2);
	for (int i = 0; i < 2; i++) {
		struct fe_record *r = &s.e[i].bi[0];
		bool a_asks = !memcmp(r->src, A4, 16);

		assert_int_equal(r->dport, 8 << 8);
		assert_int_equal(r->fwd.packets, a_asks ? 3 : 7);
		assert_int_equal(r->rev.packets, a_asks ? 3 : 7);
		assert_int_equal(r->fwd.out_if, a_asks ? 2 : 1);
		assert_int_equal(r->rev.out_if, a_asks ? 1 : 3);
	}
	flowcache__free(fc);
}

static void test_icmp_echo_pairing(void **state)
{
	struct flowcache *fc = mkfc(15000, 60000, 2000, 100);
	struct tup req = { 4, 1, A4, B4, 0, 8 << 8 };
	struct tup rep = { 4, 1, B4, A4, 0, 0 };
	struct tup unr = { 4, 1, R4, A4, 0, 3 << 8 | 3 };
	struct tup req6 = { 6, 58, A6, B6, 0, 128 << 8 };
	struct tup rep6 = { 6, 58, B6, A6, 0, 129 << 8 };
	struct fe_record *r;
	static struct sink s;
	int i;

	memset(&s, 0, sizeof(s));
	/* Reply drained first: the requester is still side 0. */
	add(fc, EG(1, 2, rep, 4, 1001), 1000, &s);
	add(fc, EG(2, 1, req, 5, 1000), 1000, &s);
	add(fc, EG(1, 0, unr, 1, 1000), 1000, &s);
	add(fc, EG(1, 2, rep6, 2, 1001), 1000, &s);
	add(fc, EG(2, 1, req6, 2, 1000), 1000, &s);
	assert_int_equal(nflows(fc), 3);
	flowcache__flush(fc, NULL, NULL, 2000, on_emit, &s);
	assert_int_equal(s.n, 3);
	for (i = 0; i < 3; i++) {
		r = &s.e[i].bi[0];
		if (r->family == 4 && r->dport == (8 << 8)) {
			assert_memory_equal(r->src, A4, 16);
			assert_int_equal(r->sport, 0);
			assert_int_equal(r->fwd.packets, 5);
			assert_int_equal(r->rev.packets, 4);
			assert_int_equal(r->fwd.icmp_type_code, 8 << 8);
			assert_int_equal(r->rev.icmp_type_code, 0);
			assert_int_equal(r->biflow_dir, 1);
			/* uniflow: each direction its own type */
			assert_int_equal(s.e[i].nuni, 2);
			assert_int_equal(s.e[i].uni[0].dport, 8 << 8);
			assert_memory_equal(s.e[i].uni[1].src, B4, 16);
			assert_int_equal(s.e[i].uni[1].dport, 0);
		} else if (r->family == 4) {
			assert_int_equal(r->dport, 3 << 8 | 3);
			assert_memory_equal(r->src, R4, 16);
			assert_int_equal(r->fwd.packets, 1);
			assert_int_equal(r->rev.packets, 0);
			assert_int_equal(r->fwd.out_if, 1);
			assert_int_equal(r->fwd.in_if, 0);
		} else {
			assert_memory_equal(r->src, A6, 16);
			assert_int_equal(r->dport, 128 << 8);
			assert_int_equal(r->fwd.packets, 2);
			assert_int_equal(r->rev.packets, 2);
			assert_int_equal(s.e[i].uni[1].dport, 129 << 8);
		}
	}
	flowcache__free(fc);
}

static void test_fragments_own_conv(void **state)
{
	struct flowcache *fc = mkfc(15000, 60000, 2000, 100);
	struct fe_obs frag = EG(2, 1, UDP_AB, 3, 1000);
	static struct sink s;

	memset(&s, 0, sizeof(s));
	frag.key.flags = FE_KEY_FRAG;
	frag.key.sport = 0;
	frag.key.dport = 0;
	add(fc, EG(2, 1, UDP_AB, 1, 1000), 1000, &s);
	add(fc, frag, 1000, &s);
	assert_int_equal(nflows(fc), 2);
	/* Same tuple with another VLAN: another conversation. */
	frag = EG(2, 1, UDP_AB, 1, 1000);
	frag.key.vlan = 7;
	add(fc, frag, 1000, &s);
	assert_int_equal(nflows(fc), 3);
	flowcache__flush(fc, NULL, NULL, 2000, on_emit, &s);
	assert_int_equal(s.n, 3);
	flowcache__free(fc);
}

/* Forward packets leave by links 2 and 3, replies come back by 4 and go
 * out by 1; egress meters only.
 */
static void test_links_merged(void **state)
{
	struct flowcache *fc = mkfc(15000, 60000, 2000, 100);
	struct emitted *e;
	static struct sink s;
	uint64_t sum = 0;
	int i;

	memset(&s, 0, sizeof(s));
	add(fc, tcp(EG(2, 1, TCP_AB, 7, 1000), TCP_SYN, true), 1000, &s);
	add(fc, EG(3, 1, TCP_AB, 5, 1100), 1000, &s);
	add(fc, EG(1, 4, rev(TCP_AB), 9, 1050), 1000, &s);
	assert_int_equal(nflows(fc), 1);
	add(fc, EG(3, 1, TCP_AB, 1, 2100), 2000, &s); /* 7 vs 6 */
	flowcache__flush(fc, NULL, NULL, 3000, on_emit, &s);
	e = &s.e[0];
	assert_int_equal(e->nbi, 1);
	assert_int_equal(e->bi[0].fwd.packets, 13);
	assert_int_equal(e->bi[0].fwd.octets, 1300);
	assert_int_equal(e->bi[0].fwd.in_if, 1);
	assert_int_equal(e->bi[0].fwd.out_if, 2);
	assert_int_equal(e->bi[0].fwd.flow_dir, FE_DIR_EGRESS);
	assert_int_equal(e->bi[0].fwd.start_ms, 1000);
	assert_int_equal(e->bi[0].fwd.end_ms, 2100);
	assert_int_equal(e->bi[0].rev.packets, 9);
	assert_int_equal(e->bi[0].rev.in_if, 4);
	assert_int_equal(e->bi[0].rev.out_if, 1);
	assert_int_equal(e->nsplit, 3);
	for (i = 0; i < e->nsplit; i++) {
		sum += e->split[i].fwd.packets;
		if (e->split[i].fwd.out_if == 3) {
			assert_int_equal(e->split[i].fwd.packets, 6);
			assert_int_equal(e->split[i].fwd.start_ms, 1100);
			assert_int_equal(e->split[i].fwd.end_ms, 2100);
		}
	}
	assert_int_equal(sum, 22);
	flowcache__free(fc);
}

/* Both meters: ingress on 1 and 4, egress everywhere, all in one tick. */
static void test_dedup_both_meters(void **state)
{
	struct flowcache *fc = mkfc(15000, 60000, 2000, 100);
	struct emitted *e;
	static struct sink s;
	int i;

	memset(&s, 0, sizeof(s));
	assert_int_equal(flowcache__set_ingress_metered(fc, 1, true), 0);
	assert_int_equal(flowcache__set_ingress_metered(fc, 4, true), 0);
	/* egress drained before ingress: the balance dips below 0 a while */
	add(fc, EG(2, 1, TCP_AB, 6, 1000), 1000, &s);
	add(fc, EG(3, 1, TCP_AB, 4, 1000), 1000, &s);
	add(fc, IN(1, TCP_AB, 12, 1000), 1000, &s); /* 2 delivered locally */
	add(fc, IN(4, rev(TCP_AB), 9, 1000), 1000, &s);
	add(fc, EG(1, 4, rev(TCP_AB), 9, 1000), 1000, &s);
	flowcache__flush(fc, NULL, NULL, 2000, on_emit, &s);
	e = &s.e[0];
	assert_int_equal(e->bi[0].fwd.packets, 12);
	assert_int_equal(e->bi[0].fwd.octets, 1200);
	assert_int_equal(e->bi[0].rev.packets, 9);
	assert_int_equal(e->bi[0].fwd.in_if, 1);
	assert_int_equal(e->bi[0].fwd.out_if, 2);
	assert_int_equal(e->bi[0].rev.in_if, 4);
	assert_int_equal(e->bi[0].rev.out_if, 1);
	assert_int_equal(e->nsplit, 4);
	for (i = 0; i < e->nsplit; i++) {
		struct fe_rec_dir *d = &e->split[i].fwd;

		if (d->out_if == 0) {
			assert_int_equal(d->in_if, 1);
			assert_int_equal(d->flow_dir, FE_DIR_INGRESS);
			assert_int_equal(d->packets, 2);
		} else if (d->out_if == 2) {
			assert_int_equal(d->packets, 6);
		} else if (d->out_if == 3) {
			assert_int_equal(d->packets, 4);
		} else {
			assert_int_equal(d->out_if, 1);
			assert_int_equal(d->packets, 9);
		}
	}
	assert_int_equal(stats(fc).dedup_packets, 19);
	assert_int_equal(stats(fc).dedup_clamped_packets, 0);
	flowcache__flush(fc, NULL, NULL, 2000, on_emit, &s);
	flowcache__free(fc);
}

/* Ingress sighting in tick 1, egress sighting in tick 2. */
static void test_dedup_cross_tick(void **state)
{
	struct flowcache *fc = mkfc(15000, 60000, 2000, 100);
	static struct sink s;

	memset(&s, 0, sizeof(s));
	flowcache__set_ingress_metered(fc, 1, true);
	add(fc, IN(1, UDP_AB, 10, 1000), 1000, &s);
	add(fc, EG(2, 1, UDP_AB, 6, 1000), 1000, &s);
	assert_int_equal(flowcache__expire(fc, 1000, on_emit, &s), 0);
	add(fc, EG(2, 1, UDP_AB, 4, 1990), 2000, &s);
	flowcache__flush(fc, NULL, NULL, 3000, on_emit, &s);
	assert_int_equal(s.e[0].bi[0].fwd.packets, 10);
	assert_int_equal(s.e[0].nsplit, 1);
	assert_int_equal(s.e[0].split[0].fwd.in_if, 1);
	assert_int_equal(s.e[0].split[0].fwd.out_if, 2);
	assert_int_equal(s.e[0].split[0].fwd.packets, 10);
	flowcache__free(fc);
}

/* An active export between the two sightings: the packets were already
 * exported as ingress on 1 and must not be exported again.
 */
static void test_dedup_cross_export(void **state)
{
	struct flowcache *fc = mkfc(150000, 60000, 2000, 100);
	static struct sink s;
	uint64_t total = 0;
	int i, j;

	memset(&s, 0, sizeof(s));
	flowcache__set_ingress_metered(fc, 1, true);
	add(fc, IN(1, UDP_AB, 10, 1000), 1000, &s);
	add(fc, EG(2, 1, UDP_AB, 6, 1000), 1000, &s);
	assert_int_equal(flowcache__expire(fc, 61000, on_emit, &s), 1);
	assert_int_equal(s.e[0].nsplit, 2);
	add(fc, EG(2, 1, UDP_AB, 4, 61500), 62000, &s);
	assert_int_equal(flowcache__expire(fc, 121000, on_emit, &s), 0);
	assert_int_equal(stats(fc).active_skipped, 1);
	add(fc, IN(1, UDP_AB, 1, 122000), 122000, &s);
	add(fc, EG(3, 1, UDP_AB, 1, 122000), 122000, &s);
	flowcache__flush(fc, NULL, NULL, 123000, on_emit, &s);
	for (i = 0; i < s.n; i++) {
		for (j = 0; j < s.e[i].nsplit; j++)
			total += s.e[i].split[j].fwd.packets;
		assert_int_equal(s.e[i].bi[0].fwd.packets,
				 s.e[i].uni[0].fwd.packets);
	}
	assert_int_equal(total, 11);
	assert_int_equal(s.e[1].split[0].fwd.out_if, 3);
	assert_int_equal(stats(fc).dedup_clamped_packets, 0);
	flowcache__free(fc);
}

static void test_egress_only(void **state)
{
	struct flowcache *fc = mkfc(15000, 60000, 2000, 100);
	static struct sink s;

	memset(&s, 0, sizeof(s));
	/* ingress meter elsewhere does not matter */
	flowcache__set_ingress_metered(fc, 7, true);
	add(fc, EG(2, 1, UDP_AB, 6, 1000), 1000, &s);
	add(fc, EG(2, 0, UDP_AB, 3, 1000), 1000, &s); /* local origin */
	add(fc, EG(1, 2, rev(UDP_AB), 5, 1000), 1000, &s);
	flowcache__flush(fc, NULL, NULL, 2000, on_emit, &s);
	assert_int_equal(s.e[0].bi[0].fwd.packets, 9);
	assert_int_equal(s.e[0].bi[0].rev.packets, 5);
	assert_int_equal(s.e[0].nsplit, 3);
	assert_int_equal(stats(fc).dedup_packets, 0);
	flowcache__free(fc);
}

static void test_ingress_only(void **state)
{
	struct flowcache *fc = mkfc(15000, 60000, 2000, 100);
	static struct sink s;

	memset(&s, 0, sizeof(s));
	flowcache__set_ingress_metered(fc, 1, true);
	flowcache__set_ingress_metered(fc, 2, true);
	add(fc, IN(1, UDP_AB, 6, 1000), 1000, &s);
	add(fc, IN(2, rev(UDP_AB), 5, 1000), 1000, &s);
	flowcache__flush(fc, NULL, NULL, 2000, on_emit, &s);
	assert_int_equal(s.e[0].bi[0].fwd.packets, 6);
	assert_int_equal(s.e[0].bi[0].fwd.in_if, 1);
	assert_int_equal(s.e[0].bi[0].fwd.out_if, 0);
	assert_int_equal(s.e[0].bi[0].fwd.flow_dir, FE_DIR_INGRESS);
	assert_int_equal(s.e[0].bi[0].rev.packets, 5);
	assert_int_equal(s.e[0].bi[0].rev.in_if, 2);
	/* un-metering works */
	flowcache__set_ingress_metered(fc, 2, false);
	assert_false(flowcache__ingress_metered(fc, 2));
	assert_true(flowcache__ingress_metered(fc, 1));
	flowcache__free(fc);
}

/* The ingress map of 1 was full: those packets' ingress sightings went to
 * 1's overflow entry, their egress sightings to the conversation. Each
 * packet is counted once, by the conversation: the overflow record gives
 * them up (it exports nothing, so the first expiry emits one record).
 */
static void test_dedup_ingress_overflow(void **state)
{
	struct flowcache *fc = mkfc(150000, 60000, 2000, 100);
	struct fe_obs ovf;
	static struct sink s;
	uint64_t total = 0;
	int i;

	memset(&s, 0, sizeof(s));
	flowcache__set_ingress_metered(fc, 1, true);
	memset(&ovf, 0, sizeof(ovf));
	ovf.key.flags = FE_KEY_OVERFLOW;
	ovf.key.dir = FE_DIR_INGRESS;
	ovf.key.ifindex = 1;
	ovf.key.in_ifindex = 1;
	ovf.packets = 3;
	ovf.octets = 300;
	ovf.first_ms = ovf.last_ms = 1000;
	add(fc, IN(1, UDP_AB, 4, 1000), 1000, &s);
	add(fc, EG(2, 1, UDP_AB, 4, 1000), 1000, &s);
	add(fc, ovf, 1000, &s);
	add(fc, EG(2, 1, UDP_AB, 3, 1000), 1000, &s);
	assert_int_equal(flowcache__expire(fc, 61000, on_emit, &s), 1);
	assert_int_equal(s.e[0].bi[0].fwd.packets, 7);
	assert_int_equal(s.e[0].bi[0].fwd.octets, 700);
	assert_int_equal(s.e[0].bi[0].fwd.out_if, 2);
	add(fc, IN(1, UDP_AB, 2, 62000), 62000, &s);
	add(fc, EG(2, 1, UDP_AB, 2, 62000), 62000, &s);
	flowcache__flush(fc, NULL, NULL, 63000, on_emit, &s);
	for (i = 0; i < s.n; i++)
		total += s.e[i].bi[0].fwd.packets;
	assert_int_equal(total, 9);
	assert_int_equal(stats(fc).dedup_clamped_packets, 0);
	assert_int_equal(stats(fc).dedup_overflow_packets, 3);
	assert_int_equal(stats(fc).dedup_unmatched_packets, 0);
	flowcache__free(fc);
}

/* A translation (an FE_KIND_NAT entry) of orig (t) to post. */
static void nat(struct flowcache *fc, struct tup t, const uint8_t *psrc,
		const uint8_t *pdst, uint16_t psport, uint16_t pdport,
		struct sink *s)
{
	struct fe_flow_key k;
	struct fe_nat_val v;

	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.kind = FE_KIND_NAT;
	k.family = t.family;
	k.proto = t.proto;
	memcpy(k.src, t.src, 16);
	memcpy(k.dst, t.dst, 16);
	k.sport = t.sport;
	k.dport = t.dport;
	memcpy(v.src, psrc, 16);
	memcpy(v.dst, pdst, 16);
	v.sport = psport;
	v.dport = pdport;
	assert_int_equal(flowcache__nat(fc, &k, &v, 1000, on_emit, s), 0);
}

/* The router masquerades A:40000 -> B:53 as R:40001 on link 2 and meters
 * both links at ingress and egress: the four sightings, two of them with
 * the translated tuple, are one conversation, each direction exact, with
 * the translation in its records; the translation may come first or last
 * in the drain.
 */
static void nat_masquerade(bool nat_first)
{
	struct flowcache *fc = mkfc(15000, 60000, 2000, 100);
	struct tup post = { 4, 17, R4, B4, 40001, 53 };
	static struct sink s;
	struct fe_record *r;

	memset(&s, 0, sizeof(s));
	flowcache__set_ingress_metered(fc, 1, true);
	flowcache__set_ingress_metered(fc, 2, true);
	flowcache__batch(fc);
	if (nat_first)
		nat(fc, UDP_AB, R4, B4, 40001, 53, &s);
	add(fc, EG(2, 1, post, 5, 1000), 1000, &s);
	add(fc, IN(2, rev(post), 3, 1001), 1000, &s);
	add(fc, IN(1, UDP_AB, 5, 1000), 1000, &s);
	add(fc, EG(1, 2, rev(UDP_AB), 3, 1001), 1000, &s);
	if (!nat_first)
		nat(fc, UDP_AB, R4, B4, 40001, 53, &s);
	assert_int_equal(nflows(fc), 1);
	flowcache__flush(fc, NULL, NULL, 2000, on_emit, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.e[0].nbi, 1);
	r = &s.e[0].bi[0];
	assert_memory_equal(r->src, A4, 16);
	assert_memory_equal(r->dst, B4, 16);
	assert_int_equal(r->sport, 40000);
	assert_int_equal(r->fwd.packets, 5);
	assert_int_equal(r->fwd.octets, 500);
	assert_int_equal(r->fwd.in_if, 1);
	assert_int_equal(r->fwd.out_if, 2);
	assert_int_equal(r->rev.packets, 3);
	assert_int_equal(r->rev.in_if, 2);
	assert_int_equal(r->rev.out_if, 1);
	assert_true(r->nat);
	assert_memory_equal(r->nat_src, R4, 16);
	assert_memory_equal(r->nat_dst, B4, 16);
	assert_int_equal(r->nat_sport, 40001);
	assert_int_equal(r->nat_dport, 53);
	/* uniflow: the reply's own translation, reversed */
	assert_int_equal(s.e[0].nuni, 2);
	assert_memory_equal(s.e[0].uni[1].src, B4, 16);
	assert_memory_equal(s.e[0].uni[1].nat_dst, R4, 16);
	assert_int_equal(s.e[0].uni[1].nat_dport, 40001);
	assert_int_equal(stats(fc).nat_learnt, 1);
	assert_int_equal(stats(fc).nat_merged, nat_first ? 0 : 1);
	assert_int_equal(stats(fc).dedup_unmatched_packets, 0);
	flowcache__free(fc);
}

static void test_nat_masquerade(void **state)
{
	nat_masquerade(true);
	nat_masquerade(false);
}

/* An echo masqueraded with a new identifier (the kernel's sport) joins
 * its reply; another ping between the same hosts stays apart.
 */
static void test_nat_icmp(void **state)
{
	struct flowcache *fc = mkfc(15000, 60000, 2000, 100);
	struct tup req = { 4, 1, A4, B4, 7, 8 << 8 };
	struct tup treq = { 4, 1, R4, B4, 9, 8 << 8 };
	struct tup trep = { 4, 1, B4, R4, 9, 0 };
	struct tup rep = { 4, 1, B4, A4, 7, 0 };
	struct tup other = { 4, 1, A4, B4, 8, 8 << 8 };
	static struct sink s;

	memset(&s, 0, sizeof(s));
	flowcache__set_ingress_metered(fc, 1, true);
	flowcache__set_ingress_metered(fc, 2, true);
	nat(fc, req, R4, B4, 9, 8 << 8, &s);
	add(fc, IN(1, req, 4, 1000), 1000, &s);
	add(fc, EG(2, 1, treq, 4, 1000), 1000, &s);
	add(fc, IN(2, trep, 4, 1001), 1000, &s);
	add(fc, EG(1, 2, rep, 4, 1001), 1000, &s);
	add(fc, IN(1, other, 1, 1002), 1000, &s);
	assert_int_equal(nflows(fc), 2);
	flowcache__flush(fc, NULL, NULL, 2000, on_emit, &s);
	assert_int_equal(s.n, 2);
	for (int i = 0; i < 2; i++) {
		struct fe_record *r = &s.e[i].bi[0];

		if (r->fwd.packets == 1)
			continue; /* the other ping */
		assert_int_equal(r->fwd.packets, 4);
		assert_int_equal(r->rev.packets, 4);
		assert_int_equal(r->fwd.out_if, 2);
		assert_int_equal(r->rev.out_if, 1);
		assert_int_equal(r->sport, 0);
		assert_true(r->nat);
		assert_memory_equal(r->nat_src, R4, 16);
		assert_int_equal(r->nat_sport, 0);
	}
	flowcache__free(fc);
}

/* An egress sighting whose ingress sighting this conversation never had
 * (here: translated, and the translation lost) counts on its own; it used
 * to cancel itself against an ingress path it never had.
 */
static void test_dedup_unmatched(void **state)
{
	struct flowcache *fc = mkfc(15000, 60000, 2000, 100);
	struct tup post = { 4, 17, R4, B4, 40001, 53 };
	static struct sink s;

	memset(&s, 0, sizeof(s));
	flowcache__set_ingress_metered(fc, 1, true);
	flowcache__batch(fc);
	add(fc, IN(1, UDP_AB, 5, 1000), 1000, &s);
	add(fc, EG(2, 1, post, 5, 1000), 1000, &s);
	flowcache__flush(fc, NULL, NULL, 2000, on_emit, &s);
	assert_int_equal(s.n, 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(s.e[i].bi[0].fwd.packets, 5);
		assert_int_equal(s.e[i].bi[0].fwd.octets, 500);
	}
	assert_int_equal(stats(fc).dedup_unmatched_packets, 5);
	assert_int_equal(stats(fc).dedup_clamped_packets, 0);
	flowcache__free(fc);
}

static struct fe_obs drop(struct fe_obs o, uint64_t pk)
{
	o.key.kind = FE_KIND_DROP;
	o.packets = pk;
	o.octets = pk * 100;
	return o;
}

/* The egress meter of 2 counted 10 packets, its qdisc dropped 6: 4 leave,
 * 6 are dropped, on path (1,2), whatever meters link 1 has; a drop after
 * the packets' export comes off the next export.
 */
static void test_drops(void **state)
{
	for (int ing = 0; ing < 2; ing++) {
		struct flowcache *fc = mkfc(15000, 1000, 2000, 100);
		static struct sink s;

		memset(&s, 0, sizeof(s));
		flowcache__set_ingress_metered(fc, 1, ing);
		flowcache__batch(fc);
		add(fc, drop(EG(2, 1, UDP_AB, 0, 1000), 6), 1000, &s);
		if (ing)
			add(fc, IN(1, UDP_AB, 10, 1000), 1000, &s);
		add(fc, EG(2, 1, UDP_AB, 10, 1000), 1000, &s);
		flowcache__expire(fc, 2000, on_emit, &s);
		assert_int_equal(s.n, 1);
		assert_int_equal(s.e[0].bi[0].fwd.packets, 4);
		assert_int_equal(s.e[0].bi[0].fwd.octets, 400);
		assert_int_equal(s.e[0].bi[0].fwd.dropped_packets, 6);
		assert_int_equal(s.e[0].bi[0].fwd.dropped_octets, 600);
		assert_int_equal(s.e[0].bi[0].fwd.out_if, 2);
		assert_int_equal(s.e[0].nsplit, 1);
		assert_int_equal(s.e[0].split[0].fwd.packets, 4);
		assert_int_equal(s.e[0].split[0].fwd.dropped_packets, 6);
		assert_int_equal(s.e[0].split[0].fwd.in_if, 1);
		/* dropped after the export: off the next one */
		flowcache__batch(fc);
		add(fc, drop(EG(2, 1, UDP_AB, 0, 2000), 3), 2000, &s);
		flowcache__expire(fc, 3000, on_emit, &s);
		assert_int_equal(s.n, 2);
		assert_int_equal(s.e[1].bi[0].fwd.packets, 0);
		assert_int_equal(s.e[1].bi[0].fwd.dropped_packets, 3);
		flowcache__batch(fc);
		if (ing)
			add(fc, IN(1, UDP_AB, 5, 3000), 3000, &s);
		add(fc, EG(2, 1, UDP_AB, 5, 3000), 3000, &s);
		flowcache__flush(fc, NULL, NULL, 4000, on_emit, &s);
		assert_int_equal(s.n, 3);
		assert_int_equal(s.e[2].bi[0].fwd.packets, 2);
		assert_int_equal(s.e[2].bi[0].fwd.dropped_packets, 0);
		assert_int_equal(stats(fc).obs_dropped, 2);
		flowcache__free(fc);
	}
}

/* A VRF: link 5 is a slave of master 9, metered at ingress; the egress
 * meter of 2 names 9 as the interface the packet came in by. Each packet
 * counts once, on the slave's path.
 */
static void test_dedup_vrf(void **state)
{
	const uint32_t masters[][2] = { { 5, 9 }, { 6, 9 } };
	struct flowcache *fc = mkfc(15000, 60000, 2000, 100);
	static struct sink s;

	memset(&s, 0, sizeof(s));
	flowcache__set_ingress_metered(fc, 5, true);
	flowcache__set_ingress_metered(fc, 6, true);
	assert_false(flowcache__ingress_metered(fc, 9));
	assert_int_equal(flowcache__set_masters(fc, masters, 2), 0);
	assert_true(flowcache__ingress_metered(fc, 9));
	assert_false(flowcache__ingress_metered(fc, 7));
	flowcache__batch(fc);
	/* the egress sighting first: the slave is guessed, then settled */
	add(fc, EG(2, 9, UDP_AB, 4, 1000), 1000, &s);
	add(fc, IN(6, UDP_AB, 4, 1000), 1000, &s);
	add(fc, IN(6, UDP_AB, 1, 1000), 1000, &s); /* delivered locally */
	flowcache__expire(fc, 1500, on_emit, &s);
	flowcache__flush(fc, NULL, NULL, 2000, on_emit, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.e[0].bi[0].fwd.packets, 5);
	assert_int_equal(s.e[0].nsplit, 2);
	for (int i = 0; i < 2; i++) {
		struct fe_rec_dir *d = &s.e[0].split[i].fwd;

		assert_int_equal(d->in_if, d->out_if ? 5 : 6);
		assert_int_equal(d->packets, d->out_if ? 4 : 1);
	}
	/* without the masters the packets counted twice */
	assert_int_equal(flowcache__set_masters(fc, masters, 0), 0);
	assert_false(flowcache__ingress_metered(fc, 9));
	flowcache__free(fc);
}

static void test_overflow_entries(void **state)
{
	struct flowcache *fc = mkfc(15000, 60000, 2000, 100);
	struct fe_obs o1, o2, o3;
	static struct sink s;
	int i;

	memset(&s, 0, sizeof(s));
	flowcache__set_ingress_metered(fc, 1, true);
	memset(&o1, 0, sizeof(o1));
	o1.key.flags = FE_KEY_OVERFLOW;
	o1.key.dir = FE_DIR_EGRESS;
	o1.key.ifindex = 2;
	o1.key.in_ifindex = 1;
	o1.packets = 50;
	o1.octets = 5000;
	o1.first_ms = 900;
	o1.last_ms = 990;
	o2 = o1;
	o2.key.dir = FE_DIR_INGRESS;
	o2.key.ifindex = 1;
	o2.packets = 30;
	o3 = o1;
	o3.packets = 1;
	add(fc, o1, 1000, &s);
	add(fc, o2, 1000, &s);
	add(fc, o3, 1000, &s);
	assert_int_equal(nflows(fc), 2);
	assert_int_equal(stats(fc).obs_overflow, 3);
	assert_int_equal(stats(fc).dedup_packets, 0);
	flowcache__flush(fc, NULL, NULL, 2000, on_emit, &s);
	assert_int_equal(s.n, 2);
	for (i = 0; i < 2; i++) {
		struct fe_record *r = &s.e[i].bi[0];

		/* uniflow whatever the mode */
		assert_int_equal(s.e[i].nbi, 1);
		assert_false(r->has_rev);
		assert_int_equal(r->family, 4);
		assert_int_equal(r->proto, 0);
		assert_int_equal(r->sport, 0);
		assert_memory_equal(r->src, (uint8_t[16]){ 0 }, 16);
		if (r->fwd.flow_dir == FE_DIR_EGRESS) {
			assert_int_equal(r->fwd.packets, 51);
			assert_int_equal(r->fwd.in_if, 1);
			assert_int_equal(r->fwd.out_if, 2);
		} else {
			assert_int_equal(r->fwd.packets, 30);
			assert_int_equal(r->fwd.in_if, 1);
			assert_int_equal(r->fwd.out_if, 0);
		}
		assert_int_equal(s.e[i].nbisplit, 1);
		assert_false(s.e[i].bisplit[0].has_rev);
	}
	flowcache__free(fc);
}

static void test_catchall_path(void **state)
{
	struct flowcache *fc = mkfc(15000, 60000, 2000, 100);
	static struct sink s;
	uint64_t sum = 0;
	uint32_t i;

	memset(&s, 0, sizeof(s));
	for (i = 1; i <= 20; i++)
		add(fc, EG(100 + i, i, UDP_AB, i, 1000), 1000, &s);
	flowcache__flush(fc, NULL, NULL, 2000, on_emit, &s);
	assert_int_equal(s.e[0].bi[0].fwd.packets, 210);
	assert_int_equal(s.e[0].nsplit, FE_CONV_MAX_PATHS);
	for (i = 0; i < (uint32_t)s.e[0].nsplit; i++)
		sum += s.e[0].split[i].fwd.packets;
	assert_int_equal(sum, 210);
	/* the catch-all (0,0) got paths 16..20 */
	assert_int_equal(s.e[0].split[15].fwd.in_if, 0);
	assert_int_equal(s.e[0].split[15].fwd.out_if, 0);
	assert_int_equal(s.e[0].split[15].fwd.packets, 16 + 17 + 18 + 19 + 20);
	assert_int_equal(stats(fc).path_merged, 5);
	flowcache__free(fc);
}

static void count_conv(void *ctx, const struct fe_conv *c)
{
	(*(int *)ctx)++;
}

static void test_many_flows(void **state)
{
	struct flowcache *fc = mkfc(15000, 60000, 2000, 100000);
	struct flowcache_stats st;
	struct tup t = UDP_AB;
	int i, n = 0;

	for (i = 0; i < 20000; i++) {
		struct fe_obs o;

		t.sport = (uint16_t)i;
		t.dport = (uint16_t)(i >> 16);
		o = EG(2, 1, t, 1, 1000);
		assert_int_equal(flowcache__add(fc, &o, 1000, NULL, NULL), 0);
		o = EG(1, 2, rev(t), 1, 1000);
		assert_int_equal(flowcache__add(fc, &o, 1000, NULL, NULL), 0);
	}
	flowcache__stats(fc, &st);
	assert_int_equal(st.flows, 20000);
	assert_int_equal(st.created, 20000);
	assert_true(st.buckets >= 16384);
	flowcache__foreach(fc, count_conv, &n);
	assert_int_equal(n, 20000);
	assert_int_equal(flowcache__flush(fc, NULL, NULL, 2000, NULL, NULL), 20000);
	flowcache__stats(fc, &st);
	assert_int_equal(st.exported[FE_END_FORCED], 20000);
	flowcache__free(fc);
}

static void test_invalid_obs(void **state)
{
	struct flowcache *fc = mkfc(15000, 60000, 2000, 100);
	struct fe_obs o = EG(2, 1, UDP_AB, 1, 1000);

	o.key.family = 5;
	assert_int_equal(flowcache__add(fc, &o, 1000, NULL, NULL), -EINVAL);
	o = EG(2, 1, UDP_AB, 0, 1000);
	assert_int_equal(flowcache__add(fc, &o, 1000, NULL, NULL), 0);
	assert_int_equal(nflows(fc), 0);
	assert_int_equal(stats(fc).obs_invalid, 1);
	flowcache__free(fc);
}

/* Randomized property: random packets of random conversations over random
 * paths, both meters on a random subset of links, egress sightings late
 * by one tick at random, random timeouts and a small cache. Every mode's
 * exported packets and octets per direction equal the ground truth.
 */
#define RP_CONVS 12
#define RP_IFS 4
#define RP_MODES 4

struct rp_acc {
	uint64_t pk[RP_MODES][RP_CONVS][2];
	uint64_t oc[RP_MODES][RP_CONVS][2];
	uint64_t emits;
};

static uint64_t rp_reasons[FE_END_MAX]; /* over all seeds: coverage */

static void rp_addr(uint8_t *a, int k, int side)
{
	memset(a, 0, 16);
	a[0] = 10;
	a[1] = (uint8_t)side;
	a[2] = (uint8_t)k;
	a[3] = (uint8_t)(side + 1);
}

static void rp_add_rec(struct rp_acc *acc, int mode, const struct fe_record *r)
{
	int k = r->src[2], side = r->src[1];

	assert_true(k < RP_CONVS && side < 2);
	assert_true(r->fwd.packets < (1ULL << 40));
	assert_true(r->rev.packets < (1ULL << 40));
	acc->pk[mode][k][side] += r->fwd.packets;
	acc->oc[mode][k][side] += r->fwd.octets;
	if (r->has_rev) {
		acc->pk[mode][k][!side] += r->rev.packets;
		acc->oc[mode][k][!side] += r->rev.octets;
	}
}

static void rp_emit(void *ctx, const struct fe_conv *c, uint8_t reason)
{
	static struct fe_record recs[2 * FE_CONV_MAX_PATHS];
	struct rp_acc *acc = ctx;
	int mode, n, i;

	acc->emits++;
	rp_reasons[reason]++;
	for (mode = 0; mode < RP_MODES; mode++) {
		n = fe_conv_records(
			c, mode & 1 ? FE_REC_UNIFLOW : FE_REC_BIFLOW, mode & 2,
			reason, recs, 2 * FE_CONV_MAX_PATHS);
		assert_true(n <= 2 * FE_CONV_MAX_PATHS);
		for (i = 0; i < n; i++)
			rp_add_rec(acc, mode, &recs[i]);
	}
}

/* One tick's sightings, summed per kernel key like the kernel map does. */
struct rp_sight {
	int k, side;
	uint8_t dir;
	uint32_t ifindex, in_if;
	uint64_t pk, oc;
	bool syn;
	uint16_t flags;
};

#define RP_MAX_SIGHT 4096

struct rp_tick {
	int n;
	struct rp_sight s[RP_MAX_SIGHT];
};

static void rp_sight(struct rp_tick *t, int k, int side, uint8_t dir,
		     uint32_t ifindex, uint32_t in_if, uint64_t oc, bool syn,
		     uint16_t flags)
{
	struct rp_sight *s;
	int i;

	for (i = 0; i < t->n; i++) {
		s = &t->s[i];
		if (s->k == k && s->side == side && s->dir == dir &&
		    s->ifindex == ifindex && s->in_if == in_if) {
			s->pk++;
			s->oc += oc;
			s->syn |= syn;
			s->flags |= flags;
			return;
		}
	}
	assert_true(t->n < RP_MAX_SIGHT);
	s = &t->s[t->n++];
	*s =
		(struct rp_sight){ k, side, dir, ifindex, in_if,
				   1, oc,   syn, flags };
}

static uint8_t rp_proto(int k)
{
	return k % 3 == 0 ? 6 : k % 3 == 1 ? 17 : 1;
}

static void rp_feed(struct flowcache *fc, struct rp_tick *t, uint64_t now,
		    struct rp_acc *acc)
{
	int i, j;

	/* the kernel drains in hash order: shuffle */
	for (i = t->n - 1; i > 0; i--) {
		struct rp_sight tmp;

		j = rand() % (i + 1);
		tmp = t->s[i];
		t->s[i] = t->s[j];
		t->s[j] = tmp;
	}
	for (i = 0; i < t->n; i++) {
		struct rp_sight *s = &t->s[i];
		uint8_t proto = rp_proto(s->k);
		struct fe_obs o;

		memset(&o, 0, sizeof(o));
		o.key.ifindex = s->ifindex;
		o.key.in_ifindex = s->in_if;
		o.key.dir = s->dir;
		o.key.family = 4;
		o.key.proto = proto;
		rp_addr(o.key.src, s->k, s->side);
		rp_addr(o.key.dst, s->k, !s->side);
		if (proto == 1) {
			o.key.dport = s->side ? 0 : 8 << 8;
		} else {
			o.key.sport = s->side ? 80 : (uint16_t)(1000 + s->k);
			o.key.dport = s->side ? (uint16_t)(1000 + s->k) : 80;
		}
		o.packets = s->pk;
		o.octets = s->oc;
		o.first_ms = now - 500;
		o.last_ms = now - 1;
		o.tcp_flags = proto == 6 ? s->flags : 0;
		o.vflags = proto == 6 && s->syn ? FE_VAL_SYN : 0;
		assert_int_equal(flowcache__add(fc, &o, now, rp_emit, acc), 0);
	}
	t->n = 0;
}

static void rp_run(unsigned seed)
{
	static struct rp_tick cur, next;
	static struct rp_acc acc;
	static uint64_t tpk[RP_CONVS][2], toc[RP_CONVS][2];
	struct flowcache_stats st;
	struct flowcache *fc;
	bool metered[RP_IFS + 1] = { false };
	bool on[RP_CONVS];
	int tick, ticks, i, k, side, mode, non;

	srand(seed);
	memset(&acc, 0, sizeof(acc));
	memset(tpk, 0, sizeof(tpk));
	memset(toc, 0, sizeof(toc));
	cur.n = next.n = 0;
	fc = mkfc(2000 + rand() % 8000, 1000 + rand() % 5000, rand() % 3000,
		  3 + rand() % 12);
	for (i = 1; i <= RP_IFS; i++) {
		metered[i] = rand() % 2;
		flowcache__set_ingress_metered(fc, i, metered[i]);
	}
	for (k = 0; k < RP_CONVS; k++)
		on[k] = rand() % 2;
	ticks = 20 + rand() % 30;
	for (tick = 1; tick <= ticks; tick++) {
		int npk = rand() % 200;

		/* conversations come and go, so some go idle */
		for (k = non = 0; k < RP_CONVS; k++) {
			if (rand() % 6 == 0)
				on[k] = !on[k];
			non += on[k];
		}
		for (i = 0; i < npk && non; i++) {
			uint32_t x = rand() % (RP_IFS + 1);
			uint32_t y = rand() % (RP_IFS + 1);
			uint64_t oc = 40 + rand() % 1460;
			bool syn = rand() % 50 == 0;
			uint16_t flags = rand() % 400 == 0 ? 0x04 : 0x10;
			bool late = rand() % 3 == 0;
			bool seen = false;

			do
				k = rand() % RP_CONVS;
			while (!on[k]);
			side = rand() % 2;
			if (x) { /* came in by x */
				if (metered[x]) {
					rp_sight(&cur, k, side, FE_DIR_INGRESS,
						 x, x, oc, syn, flags);
					seen = true;
				}
			}
			if (y) { /* left by y */
				rp_sight(late ? &next : &cur, k, side,
					 FE_DIR_EGRESS, y, x, oc, syn, flags);
				seen = true;
			}
			if (seen) {
				tpk[k][side]++;
				toc[k][side] += oc;
			}
		}
		rp_feed(fc, &cur, tick * 1000ULL, &acc);
		flowcache__expire(fc, tick * 1000ULL, rp_emit, &acc);
		cur = next;
		next.n = 0;
	}
	rp_feed(fc, &cur, (ticks + 1) * 1000ULL, &acc);
	flowcache__expire(fc, (ticks + 1) * 1000ULL, rp_emit, &acc);
	flowcache__flush(fc, NULL, NULL, (ticks + 2) * 1000ULL, rp_emit, &acc);
	flowcache__stats(fc, &st);
	assert_int_equal(st.flows, 0);
	assert_int_equal(st.dedup_clamped_packets, 0);
	for (mode = 0; mode < RP_MODES; mode++) {
		for (k = 0; k < RP_CONVS; k++) {
			for (side = 0; side < 2; side++) {
				if (acc.pk[mode][k][side] != tpk[k][side] ||
				    acc.oc[mode][k][side] != toc[k][side])
					fail_msg("seed %u mode %d conv %d side "
						 "%d: "
						 "%llu/%llu packets, %llu/%llu "
						 "octets exported/true",
						 seed, mode, k, side,
						 (unsigned long long)
							 acc.pk[mode][k][side],
						 (unsigned long long)
							 tpk[k][side],
						 (unsigned long long)
							 acc.oc[mode][k][side],
						 (unsigned long long)
							 toc[k][side]);
			}
		}
	}
	flowcache__free(fc);
}

static void test_random_property(void **state)
{
	unsigned seed;

	memset(rp_reasons, 0, sizeof(rp_reasons));
	for (seed = 1; seed <= 300; seed++)
		rp_run(seed);
	/* the runs went through every way out of the cache */
	for (seed = FE_END_IDLE; seed < FE_END_MAX; seed++)
		if (!rp_reasons[seed])
			fail_msg("no emit with reason %u", seed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cfg_invalid),
		cmocka_unit_test(test_idle_timeout),
		cmocka_unit_test(test_idle_refreshed),
		cmocka_unit_test(test_active_timeout),
		cmocka_unit_test(test_end_of_flow_fin),
		cmocka_unit_test(test_end_of_flow_rst),
		cmocka_unit_test(test_forced_flush_filters),
		cmocka_unit_test(test_resources_lru),
		cmocka_unit_test(test_initiator_syn_first),
		cmocka_unit_test(test_initiator_swapped),
		cmocka_unit_test(test_initiator_no_swap_after_export),
		cmocka_unit_test(test_initiator_udp_first_seen),
		cmocka_unit_test(test_icmp_echo_pairing),
		cmocka_unit_test(test_icmp_echo_both_ways),
		cmocka_unit_test(test_fragments_own_conv),
		cmocka_unit_test(test_links_merged),
		cmocka_unit_test(test_dedup_both_meters),
		cmocka_unit_test(test_dedup_cross_tick),
		cmocka_unit_test(test_dedup_cross_export),
		cmocka_unit_test(test_egress_only),
		cmocka_unit_test(test_ingress_only),
		cmocka_unit_test(test_dedup_ingress_overflow),
		cmocka_unit_test(test_nat_masquerade),
		cmocka_unit_test(test_nat_icmp),
		cmocka_unit_test(test_dedup_unmatched),
		cmocka_unit_test(test_drops),
		cmocka_unit_test(test_dedup_vrf),
		cmocka_unit_test(test_overflow_entries),
		cmocka_unit_test(test_catchall_path),
		cmocka_unit_test(test_many_flows),
		cmocka_unit_test(test_invalid_obs),
		cmocka_unit_test(test_random_property),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
