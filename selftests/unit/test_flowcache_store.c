/* test_flowcache_store.c - unit tests of the flow cache's storage: the
 * region growing (and its path area moving), records reused after expiry,
 * index collisions of chosen keys, a region relocated and adopted, path
 * overflow, the walk that survives changes, a region that cannot grow,
 * first-packet orientation within a drain and clock stamps across long
 * jumps.
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
#include "flowcache.h"
#include "records.h"

/* A malloc-based allocator hook that counts and can refuse to grow. */
struct mem {
	int resizes, releases;
	size_t max; /* 0: no limit */
	size_t size;
};

static void *mem_resize(void *ctx, void *old, size_t old_size, size_t new_size)
{
	struct mem *m = ctx;
	void *p;

	if (m->max && new_size > m->max)
		return NULL;
	p = realloc(old, new_size);
	if (p) {
		m->resizes++;
		m->size = new_size;
	}
	return p;
}

static void mem_release(void *ctx, void *region, size_t size)
{
	struct mem *m = ctx;

	m->releases++;
	free(region);
}

static struct flowcache_mem mkmem(struct mem *m)
{
	struct flowcache_mem fm = { .resize = mem_resize,
				    .release = mem_release,
				    .ctx = m };

	memset(m, 0, sizeof(*m));
	return fm;
}

static const struct flowcache_cfg CFG = { 15000, 60000, 2000, 1u << 20 };

/* Flow i: UDP 10.i>>16.i>>8.i:1000+(i&7) -> 192.168.0.1:53, egress on
 * out_if from in_if.
 */
static struct fe_obs obs(uint32_t i, uint32_t out_if, uint32_t in_if,
			 uint64_t pk, uint64_t ms)
{
	struct fe_obs o;

	memset(&o, 0, sizeof(o));
	o.key.dir = FE_DIR_EGRESS;
	o.key.ifindex = out_if;
	o.key.in_ifindex = in_if;
	o.key.family = 4;
	o.key.proto = 17;
	o.key.src[0] = 10;
	o.key.src[1] = (uint8_t)(i >> 16);
	o.key.src[2] = (uint8_t)(i >> 8);
	o.key.src[3] = (uint8_t)i;
	o.key.dst[0] = 192;
	o.key.dst[1] = 168;
	o.key.dst[3] = 1;
	o.key.sport = (uint16_t)(1000 + (i & 7));
	o.key.dport = 53;
	o.packets = pk;
	o.octets = pk * 100;
	o.first_ms = o.last_ms = ms;
	o.ttl_min = o.ttl_max = 64;
	return o;
}

static struct fe_obs rev(struct fe_obs o, uint32_t out_if, uint32_t in_if)
{
	uint8_t a[16];
	uint16_t p = o.key.sport;

	memcpy(a, o.key.src, 16);
	memcpy(o.key.src, o.key.dst, 16);
	memcpy(o.key.dst, a, 16);
	o.key.sport = o.key.dport;
	o.key.dport = p;
	o.key.ifindex = out_if;
	o.key.in_ifindex = in_if;
	return o;
}

static void add(struct flowcache *fc, struct fe_obs o, uint64_t now)
{
	assert_int_equal(flowcache__add(fc, &o, now, NULL, NULL), 0);
}

static struct flowcache_stats stats(struct flowcache *fc)
{
	struct flowcache_stats st;

	flowcache__stats(fc, &st);
	return st;
}

/* What the emits of a flush or expiry totalled, per flow number. */
#define NSUM 65536
struct sums {
	uint64_t fwd[NSUM], rev[NSUM];
	uint8_t side[NSUM]; /* the initiator: 0 the 10.x side */
	uint32_t paths[NSUM];
	int emits;
	int reasons[FE_END_MAX];
};

static uint32_t flow_no(const struct fe_conv *c, int *side)
{
	int s = c->addr[0][0] == 10 ? 0 : 1;

	*side = s;
	return (uint32_t)c->addr[s][1] << 16 | (uint32_t)c->addr[s][2] << 8 |
	       c->addr[s][3];
}

static void on_emit(void *ctx, const struct fe_conv *c, uint8_t reason)
{
	struct sums *s = ctx;
	struct fe_record r[2 * FE_CONV_MAX_PATHS];
	int side, n = fe_conv_records(c, FE_REC_BIFLOW, false, reason, r, 2);
	uint32_t i = flow_no(c, &side);

	assert_int_equal(n, 1);
	assert_true(i < NSUM);
	s->fwd[i] += side ? r[0].rev.packets : r[0].fwd.packets;
	s->rev[i] += side ? r[0].fwd.packets : r[0].rev.packets;
	s->paths[i] = c->dir[0].npaths + c->dir[1].npaths;
	s->side[i] = (uint8_t)side;
	s->emits++;
	s->reasons[reason]++;
}

/* 3000 conversations, a third with five paths (four beyond the inline
 * one, in the path area at the region's end), grown from the smallest
 * region; then a second observation of each: every one is found again and
 * its counts are whole.
 */
static void test_growth(void **state)
{
	struct mem m;
	struct flowcache_mem fm = mkmem(&m);
	struct flowcache *fc = flowcache__new_in(&CFG, &fm);
	static struct sums s;
	struct flowcache_stats st;
	uint32_t i, p;

	assert_non_null(fc);
	memset(&s, 0, sizeof(s));
	for (i = 0; i < 3000; i++) {
		add(fc, obs(i, 2, 1, 1, 1000), 1000);
		for (p = 0; i % 3 == 0 && p < 4; p++)
			add(fc, obs(i, 10 + p, 1, 1, 1000), 1000);
	}
	st = stats(fc);
	assert_int_equal(st.flows, 3000);
	assert_int_equal(st.paths, 4000);
	assert_true(m.resizes > 3); /* from 64 KiB */
	assert_int_equal(st.region_bytes, m.size);
	for (i = 0; i < 3000; i++)
		add(fc, rev(obs(i, 2, 1, 2, 1001), 1, 2), 1001);
	assert_int_equal(stats(fc).flows, 3000);
	assert_int_equal(flowcache__flush(fc, NULL, NULL, 2000, on_emit, &s),
			 3000);
	for (i = 0; i < 3000; i++) {
		assert_int_equal(s.fwd[i], i % 3 == 0 ? 5 : 1);
		assert_int_equal(s.rev[i], 2);
		assert_int_equal(s.paths[i], i % 3 == 0 ? 6 : 2);
	}
	assert_int_equal(stats(fc).flows, 0);
	assert_int_equal(stats(fc).paths, 0);
	flowcache__free(fc);
	assert_int_equal(m.releases, 1);
}

/* Records freed by expiry are taken again: the region does not grow when
 * as many conversations come back as went.
 */
static void test_reuse_after_expiry(void **state)
{
	struct mem m;
	struct flowcache_mem fm = mkmem(&m);
	struct flowcache *fc = flowcache__new_in(&CFG, &fm);
	static struct sums s;
	size_t size;
	uint32_t i;
	int resizes;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < 2000; i++) {
		add(fc, obs(i, 2, 1, 1, 1000), 1000);
		add(fc, obs(i, 3, 1, 1, 1000), 1000); /* a second path */
	}
	/* half stay active, half go idle */
	for (i = 0; i < 2000; i += 2)
		add(fc, obs(i, 2, 1, 1, 9000), 9000);
	assert_int_equal(flowcache__expire(fc, 16000, on_emit, &s), 1000);
	assert_int_equal(s.reasons[FE_END_IDLE], 1000);
	assert_int_equal(stats(fc).flows, 1000);
	assert_int_equal(stats(fc).paths, 1000);
	flowcache__region(fc, &size);
	resizes = m.resizes;
	for (i = 4000; i < 5000; i++) {
		add(fc, obs(i, 2, 1, 1, 16000), 16000);
		add(fc, obs(i, 3, 1, 1, 16000), 16000);
	}
	assert_int_equal(m.resizes, resizes);
	assert_int_equal(stats(fc).flows, 2000);
	assert_int_equal(stats(fc).paths, 2000);
	memset(&s, 0, sizeof(s));
	assert_int_equal(flowcache__flush(fc, NULL, NULL, 17000, on_emit, &s),
			 2000);
	for (i = 0; i < 2000; i += 2)
		assert_int_equal(s.fwd[i], 3);
	for (i = 4000; i < 5000; i++)
		assert_int_equal(s.fwd[i], 2);
	flowcache__free(fc);
}

static bool match_odd(void *ctx, const struct fe_conv *c)
{
	int side;

	return flow_no(c, &side) & 1;
}

/* Keys chosen so that they share a home slot of the index: lookups find
 * each, and removing some from the middle of the run (linear probing's
 * backward shift) loses none of the others.
 */
static void test_collisions(void **state)
{
	struct flowcache *fc = flowcache__new(&CFG);
	static struct sums s;
	uint32_t want, found[64], n = 0, i;
	struct fe_obs o = obs(0, 2, 0, 1, 1000);

	memset(&s, 0, sizeof(s));
	assert_int_equal(stats(fc).buckets, 1024);
	want = flowcache__obs_hash(fc, &o) & 1023;
	for (i = 0; i < NSUM && n < 64; i++) {
		o = obs(i, 2, 0, 1, 1000);
		if ((flowcache__obs_hash(fc, &o) & 1023) == want)
			found[n++] = i;
	}
	assert_true(n >= 6);
	n = 6; /* a run of six that would not grow the index */
	for (i = 0; i < n; i++)
		add(fc, obs(found[i], 2, 0, 1, 1000), 1000);
	assert_int_equal(stats(fc).flows, n);
	/* remove the odd-numbered flows (wherever they sit in the run) */
	flowcache__flush(fc, match_odd, NULL, 1500, on_emit, &s);
	for (i = 0; i < n; i++)
		add(fc, obs(found[i], 2, 0, 1, 1600), 1600);
	assert_int_equal(stats(fc).flows, n);
	memset(&s, 0, sizeof(s));
	flowcache__flush(fc, NULL, NULL, 2000, on_emit, &s);
	for (i = 0; i < n; i++)
		assert_int_equal(s.fwd[found[i]], found[i] & 1 ? 1 : 2);
	flowcache__free(fc);
}

/* The region copied elsewhere (another process mapping the same memory)
 * and adopted: every conversation, path, expiry order and clock is there.
 */
static void test_relocation(void **state)
{
	struct mem m, m2;
	struct flowcache_mem fm = mkmem(&m), fm2 = mkmem(&m2);
	struct flowcache *fc = flowcache__new_in(&CFG, &fm), *fc2;
	static struct sums s;
	char junk[256];
	void *region, *copy;
	size_t size;
	uint32_t i;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < 1000; i++) {
		add(fc, obs(i, 2, 1, 1, 1000), 1000);
		if (i % 4 == 0)
			add(fc, obs(i, 3, 1, 1, 1000), 1000);
	}
	for (i = 0; i < 1000; i += 2) /* the even ones stay active */
		add(fc, obs(i, 2, 1, 1, 8000), 8000);
	region = flowcache__region(fc, &size);
	copy = malloc(size);
	assert_non_null(copy);
	memcpy(copy, region, size);
	flowcache__free(fc);
	/* not a cache */
	memset(junk, 0, sizeof(junk));
	errno = 0;
	assert_null(flowcache__adopt(&CFG, &fm2, junk, sizeof(junk)));
	assert_int_equal(errno, EINVAL);
	fc2 = flowcache__adopt(&CFG, &fm2, copy, size);
	assert_non_null(fc2);
	assert_int_equal(stats(fc2).flows, 1000);
	assert_int_equal(stats(fc2).paths, 250);
	/* the lru order came along: the odd ones go idle first, at 16000 */
	assert_int_equal(flowcache__expire(fc2, 15999, on_emit, &s), 0);
	assert_int_equal(flowcache__expire(fc2, 16000, on_emit, &s), 500);
	for (i = 0; i < 1000; i += 2) /* found again by the new index */
		add(fc2, obs(i, 2, 1, 1, 16000), 16000);
	assert_int_equal(stats(fc2).flows, 500);
	/* it goes on growing through its own hook */
	for (i = 2000; i < 6000; i++)
		add(fc2, obs(i, 2, 1, 1, 16000), 16000);
	assert_true(m2.resizes > 0);
	memset(&s, 0, sizeof(s));
	flowcache__flush(fc2, NULL, NULL, 17000, on_emit, &s);
	for (i = 0; i < 1000; i += 2)
		assert_int_equal(s.fwd[i], i % 4 == 0 ? 4 : 3);
	flowcache__free(fc2);
	assert_int_equal(m2.releases, 1);
}

/* More paths than a direction holds: the extra ones merge into the
 * catch-all, and the path records go back when the conversation goes.
 */
static void test_path_overflow(void **state)
{
	struct flowcache *fc = flowcache__new(&CFG);
	static struct sums s;
	uint32_t i;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < 40; i++)
		add(fc, obs(7, 100 + i, 1, 1, 1000), 1000);
	for (i = 0; i < 5; i++)
		add(fc, rev(obs(7, 2, 1, 1, 1000), 1, 200 + i), 1000);
	assert_int_equal(stats(fc).path_merged, 40 - (FE_CONV_MAX_PATHS - 1));
	/* 16 + 5 paths, one of them inline */
	assert_int_equal(stats(fc).paths, FE_CONV_MAX_PATHS + 5 - 1);
	flowcache__flush(fc, NULL, NULL, 2000, on_emit, &s);
	assert_int_equal(s.fwd[7], 40);
	assert_int_equal(s.rev[7], 5);
	assert_int_equal(s.paths[7], FE_CONV_MAX_PATHS + 5);
	assert_int_equal(stats(fc).paths, 0);
	flowcache__free(fc);
}

static void count_walk(void *ctx, const struct fe_conv *c)
{
	struct sums *s = ctx;
	int side;

	s->fwd[flow_no(c, &side)]++;
}

/* A walk in steps, with conversations going and coming between them:
 * those that stay are seen exactly once.
 */
static void test_walk(void **state)
{
	struct flowcache *fc = flowcache__new(&CFG);
	static struct sums s;
	uint32_t cursor = 0, i;
	bool more;
	int steps = 0;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < 1000; i++)
		add(fc, obs(i, 2, 0, 1, 1000), 1000);
	do {
		more = flowcache__walk(fc, &cursor, 100, count_walk, &s);
		steps++;
		/* between steps: flows 500.. go, others come */
		if (steps == 3) {
			flowcache__flush(fc, match_odd, NULL, 1100, NULL, NULL);
			for (i = 2000; i < 2300; i++)
				add(fc, obs(i, 2, 0, 1, 1100), 1100);
		}
	} while (more);
	assert_true(steps > 3);
	for (i = 0; i < 1000; i++)
		if (!(i & 1))
			assert_int_equal(s.fwd[i], 1);
		else
			assert_true(s.fwd[i] <= 1);
	for (i = 2000; i < 2300; i++)
		assert_true(s.fwd[i] <= 1);
	flowcache__free(fc);
}

/* A region that cannot grow: the observations that need room are lost and
 * counted, the others still land.
 */
static void test_region_full(void **state)
{
	struct mem m;
	struct flowcache_mem fm = mkmem(&m);
	struct flowcache *fc;
	struct fe_obs o;
	uint32_t i, lost = 0;

	m.max = 64 * 1024; /* the first region, never more */
	fc = flowcache__new_in(&CFG, &fm);
	assert_non_null(fc);
	for (i = 0; i < 1000; i++) {
		o = obs(i, 2, 0, 1, 1000);
		if (flowcache__add(fc, &o, 1000, NULL, NULL) == -ENOMEM)
			lost++;
	}
	assert_true(lost > 0 && lost < 1000);
	assert_int_equal(stats(fc).obs_nomem, lost);
	assert_int_equal(stats(fc).flows, 1000 - lost);
	/* the ones cached are still counted */
	o = obs(0, 2, 0, 1, 1001);
	assert_int_equal(flowcache__add(fc, &o, 1001, NULL, NULL), 0);
	flowcache__free(fc);
}

/* Within one drain the entries come in hash order: the side that sent
 * the first packet is the initiator, whatever came first; the same
 * observations outside a drain keep "first seen".
 */
static void test_batch_orientation(void **state)
{
	struct flowcache *fc = flowcache__new(&CFG);
	static struct sums s;
	struct fe_obs a = obs(1, 2, 1, 3, 1000), b;
	struct fe_obs ob[2];

	memset(&s, 0, sizeof(s));
	b = rev(obs(1, 2, 1, 5, 999), 1, 2); /* the reply... sent first */
	ob[0] = a;
	ob[1] = b;
	flowcache__batch(fc);
	assert_int_equal(flowcache__add_many(fc, ob, 2, 1000, NULL, NULL), 0);
	assert_int_equal(stats(fc).reoriented, 1);
	flowcache__flush(fc, NULL, NULL, 2000, on_emit, &s);
	/* the initiator is 192.168.0.1, whose packets are rev[] here */
	assert_int_equal(s.side[1], 1);
	assert_int_equal(s.fwd[1], 3);
	assert_int_equal(s.rev[1], 5);
	/* a later drain does not turn an existing conversation round */
	add(fc, a, 3000);
	flowcache__batch(fc);
	add(fc, b, 3000);
	assert_int_equal(stats(fc).reoriented, 1);
	flowcache__free(fc);
}

/* Clock stamps are 32-bit: a jump of more than 2^32 ms still expires what
 * is due, and a conversation that stays active across many such spans
 * keeps its timeouts.
 */
static void test_clock_jumps(void **state)
{
	struct flowcache *fc = flowcache__new(&CFG);
	static struct sums s;
	uint64_t t = 1000, day = 86400000ULL, j;

	memset(&s, 0, sizeof(s));
	add(fc, obs(1, 2, 0, 1, t), t);
	add(fc, obs(2, 2, 0, 1, t), t);
	/* flow 2 stays active every 10 s for 100 days */
	for (j = 1; j <= 100 * 8640; j++)
		add(fc, obs(2, 2, 0, 1, t + j * 10000), t + j * 10000);
	t += 100 * day;
	/* flow 1 went idle long ago (its stamp wrapped several times) */
	assert_int_equal(flowcache__expire(fc, t, on_emit, &s), 2);
	assert_int_equal(s.reasons[FE_END_IDLE], 1);
	assert_int_equal(s.reasons[FE_END_ACTIVE], 1);
	assert_int_equal(stats(fc).flows, 1);
	/* flow 2: idle 15 s after its last packet, not before */
	add(fc, obs(2, 2, 0, 1, t + 5000), t + 5000);
	assert_int_equal(flowcache__expire(fc, t + 19999, on_emit, &s), 0);
	assert_int_equal(flowcache__expire(fc, t + 20000, on_emit, &s), 1);
	assert_int_equal(s.reasons[FE_END_IDLE], 2);
	/* a jump of 2^33 ms with nothing in between */
	add(fc, obs(3, 2, 0, 1, t), t + 30000);
	assert_int_equal(
		flowcache__expire(fc, t + 30000 + (1ULL << 33), on_emit, &s),
		1);
	assert_int_equal(s.reasons[FE_END_IDLE], 3);
	flowcache__free(fc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_reuse_after_expiry),
		cmocka_unit_test(test_collisions),
		cmocka_unit_test(test_relocation),
		cmocka_unit_test(test_path_overflow),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_region_full),
		cmocka_unit_test(test_batch_orientation),
		cmocka_unit_test(test_clock_jumps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
