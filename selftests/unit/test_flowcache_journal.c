/* test_flowcache_journal.c - unit tests of a flow cache region that
 * outlives its process (flowcache_journal.c, flowcache_log.c):
 * - a workload SIGKILLed at random instants, again and again, each
 *   restart adopting the region and resuming after the last observation
 *   applied: every packet is in the log or the cache exactly once, after
 *   every death and at the end; the same with NAT joins in the workload;
 * - the export log: readers keep their positions across an adoption, a
 *   new reader starts at the head, replay gives what a reader has not
 *   confirmed, the tail follows the slowest reader, a full ring drops the
 *   oldest (counted);
 * - a full fixed region exports the least recently active conversation
 *   (reason 5) instead of losing an observation;
 * - a region of another layout is refused;
 * - a NAT alias still joins after an adoption.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <cmocka.h>
#include "flowcache.h"

/* A fixed region in shared memory: it survives the child that uses it. */
struct shm {
	void *p;
	size_t size;
};

static void *shm_resize(void *ctx, void *old, size_t old_size, size_t new_size)
{
	struct shm *m = ctx;

	return !old && new_size == m->size ? m->p : NULL;
}

static void shm_release(void *ctx, void *region, size_t size)
{
}

static struct flowcache_mem shm_mem(struct shm *m, size_t log)
{
	struct flowcache_mem fm = { .resize = shm_resize,
				    .release = shm_release,
				    .ctx = m,
				    .fixed_size = m->size,
				    .log_size = log };
	return fm;
}

static void region_open(struct shm *m, size_t size)
{
	m->size = size;
	m->p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(m->p != MAP_FAILED);
}

static void region_close(struct shm *m)
{
	munmap(m->p, m->size);
}

#define K 3000	    /* flows */
#define Q 400000    /* observations */
#define JUMP_Q 3000 /* from here on the clock is 2^30 ms further */

static const struct flowcache_cfg CFG = { 20000, 30000, 100, 2900 };

/* Flow f: UDP 10.0.f>>8.f:1000 -> 192.168.0.1:53. */
static struct fe_obs flow_obs(uint32_t f, bool reply, uint32_t out_if,
			      uint64_t pk, uint64_t ms)
{
	struct fe_obs o;
	uint8_t a[16];

	memset(&o, 0, sizeof(o));
	o.key.dir = FE_DIR_EGRESS;
	o.key.ifindex = out_if;
	o.key.in_ifindex = 1;
	o.key.family = 4;
	o.key.proto = 17;
	o.key.src[0] = 10;
	o.key.src[2] = (uint8_t)(f >> 8);
	o.key.src[3] = (uint8_t)f;
	o.key.dst[0] = 192;
	o.key.dst[1] = 168;
	o.key.dst[3] = 1;
	o.key.sport = 1000;
	o.key.dport = 53;
	if (reply) {
		memcpy(a, o.key.src, 16);
		memcpy(o.key.src, o.key.dst, 16);
		memcpy(o.key.dst, a, 16);
		o.key.sport = 53;
		o.key.dport = 1000;
	}
	o.packets = pk;
	o.octets = pk * 100;
	o.first_ms = o.last_ms = ms;
	o.ttl_min = o.ttl_max = 64;
	return o;
}

/* The workload is a function of the observation number q (1..Q), so a
 * restart resumes it after the last one applied.
 */
static uint64_t q_now(uint64_t q)
{
	return 1000 + q * 2 + (q >= JUMP_Q ? (1ULL << 30) + 5 : 0);
}

static uint64_t q_packets(uint64_t q)
{
	return 1 + q % 5;
}

/* With nat_on, a quarter of the flows are masqueraded as 203.0.113.1,
 * port 20000 + f: their replies are metered with the translated tuple,
 * and the workload notes their translations (FE_KIND_NAT) between batches,
 * so NAT joins merge what the replies made into the original flows.
 */
static bool nat_on;

static bool q_nat_flow(uint32_t f)
{
	return nat_on && f % 4 == 0;
}

/* The flow of observation q; with NAT, three in a row are one flow's (a
 * reply, then two of the original direction), so that what a translated
 * reply makes is often there when the translation comes.
 */
static uint32_t q_flow(uint64_t q)
{
	return (uint32_t)(((nat_on ? q / 3 : q) * 2654435761u) % K);
}

static struct fe_obs q_obs(uint64_t q)
{
	uint32_t f = q_flow(q);
	struct fe_obs o = flow_obs(f, q % 3 == 0, 2 + (uint32_t)(q % 4),
				   q_packets(q), 1700000000000ULL + q);

	if (q_nat_flow(f) && q % 3 == 0) {
		memset(o.key.dst, 0, 16);
		o.key.dst[0] = 203;
		o.key.dst[2] = 113;
		o.key.dst[3] = 1;
		o.key.dport = (uint16_t)(20000 + f);
	}
	return o;
}

/* The translation of flow f (its orig tuple and the masqueraded one). */
static void q_nat(struct flowcache *fc, uint32_t f, uint64_t now)
{
	struct fe_obs o = flow_obs(f, false, 2, 1, 0);
	struct fe_nat_val v;

	memset(&v, 0, sizeof(v));
	o.key.kind = FE_KIND_NAT;
	v.src[0] = 203;
	v.src[2] = 113;
	v.src[3] = 1;
	memcpy(v.dst, o.key.dst, 16);
	v.sport = (uint16_t)(20000 + f);
	v.dport = o.key.dport;
	flowcache__nat(fc, &o.key, &v, now, NULL, NULL);
}

static bool every7(void *ctx, const struct fe_conv *c)
{
	return c->addr[0][3] % 7 == 0;
}

/* Observations from q on, in batches of 16, with expiry every 64 and a
 * flush of a seventh of the flows every 10000.
 */
static void workload(struct flowcache *fc, uint64_t q)
{
	struct fe_obs o[16];
	uint64_t tags[16];

	while (q <= Q) {
		size_t n = 0;
		uint64_t now = q_now(q);

		while (n < 16 && q <= Q && (n == 0 || q % 64)) {
			o[n] = q_obs(q);
			tags[n++] = q++;
		}
		flowcache__add_tagged(fc, o, tags, n, now, NULL, NULL);
		for (size_t i = 0; nat_on && i < n; i++) {
			uint32_t f = q_flow(tags[i]);

			if (q_nat_flow(f) && tags[i] % 3 == 1)
				q_nat(fc, f, now);
		}
		if (q % 64 == 0)
			flowcache__expire(fc, q_now(q), NULL, NULL);
		if (q % 10000 == 0)
			flowcache__flush(fc, every7, NULL, q_now(q), NULL,
					 NULL);
	}
	flowcache__flush(fc, NULL, NULL, q_now(Q), NULL, NULL);
}

static void sum_conv(uint64_t *sum, const struct fe_conv *c)
{
	for (int d = 0; d < 2; d++)
		for (int i = 0; i < c->dir[d].npaths; i++)
			*sum += fe_pos(c->dir[d].paths[i].packets);
}

static void on_logged(void *ctx, const struct fe_conv *c, uint8_t reason,
		      uint64_t end)
{
	sum_conv(ctx, c);
}

static void on_live(void *ctx, const struct fe_conv *c)
{
	sum_conv(ctx, c);
}

/* Packets in the log (reader 0 confirms nothing) and in the cache: every
 * observation up to the last applied, exactly once.
 */
static void check_totals(struct flowcache *fc)
{
	uint64_t logged = 0, live = 0, want = 0, last = flowcache__last_tag(fc);
	struct flowcache_stats st;

	for (uint64_t q = 1; q <= last; q++)
		want += q_packets(q);
	flowcache__log_replay(fc, 0, on_logged, &logged);
	flowcache__foreach(fc, on_live, &live);
	flowcache__stats(fc, &st);
	assert_int_equal(st.log_dropped, 0);
	assert_int_equal(st.obs_nomem, 0);
	assert_int_equal(logged + live, want);
}

#define LOG_SIZE (64u << 20)
#define REGION_SIZE (LOG_SIZE + (2600u * 168) + 2000u * 64 + 4096)

/* SIGKILL at random instants, restart, resume: nothing lost, nothing
 * counted twice, whatever the death cut (an observation, an export, an
 * eviction of a full region, a renormalisation of the stamps).
 */
static void sigkill_anywhere(void)
{
	struct shm m;
	struct flowcache_mem fm;
	struct flowcache *fc;
	const char *names[] = { "t" };
	uint64_t recovered = 0, evicted = 0;
	int deaths = 0;

	region_open(&m, REGION_SIZE);
	fm = shm_mem(&m, LOG_SIZE);
	fc = flowcache__new_in(&CFG, &fm);
	assert_non_null(fc);
	assert_int_equal(flowcache__log_readers(fc, names, 1), 0);
	flowcache__free(fc);
	srand((unsigned int)time(NULL));
	for (int round = 0;; round++) {
		struct flowcache_stats st;
		pid_t pid = fork();
		int ws;

		assert_true(pid >= 0);
		if (pid == 0) {
			fc = flowcache__adopt(&CFG, &fm, m.p, m.size);
			if (!fc)
				_exit(3);
			workload(fc, flowcache__last_tag(fc) + 1);
			_exit(0);
		}
		if (round < 400) {
			usleep((useconds_t)(rand() % 1500));
			kill(pid, SIGKILL);
		}
		assert_int_equal(waitpid(pid, &ws, 0), pid);
		fc = flowcache__adopt(&CFG, &fm, m.p, m.size);
		assert_non_null(fc);
		flowcache__stats(fc, &st);
		recovered += st.recovered_ops;
		assert_int_equal(st.recovered_dropped, 0);
		check_totals(fc);
		if (WIFEXITED(ws)) {
			assert_int_equal(WEXITSTATUS(ws), 0);
			assert_int_equal(flowcache__last_tag(fc), Q);
			assert_int_equal(st.flows, 0);
			flowcache__free(fc);
			break;
		}
		deaths++;
		evicted += st.evicted_full;
		flowcache__free(fc);
	}
	print_message("# %d deaths, %llu of them in an operation\n", deaths,
		      (unsigned long long)recovered);
	assert_true(deaths > 50);
	assert_true(recovered > 0);
	region_close(&m);
}

static void test_sigkill_anywhere(void **state)
{
	nat_on = false;
	sigkill_anywhere();
}

/* The same with NAT joins in the workload: a join commits the original
 * conversation and then removes the one the translated replies made; a
 * death between the two leaves a duplicate that the adoption removes.
 */
static void test_sigkill_nat(void **state)
{
	struct flowcache_stats st;
	struct flowcache *fc;

	nat_on = true;
	/* the workload joins: replies made conversations before their
	 * translation came, and the joins merged them
	 */
	fc = flowcache__new(&CFG);
	assert_non_null(fc);
	workload(fc, 1);
	flowcache__stats(fc, &st);
	assert_true(st.nat_learnt > 100);
	print_message("# learnt %llu merged %llu\n",
		      (unsigned long long)st.nat_learnt,
		      (unsigned long long)st.nat_merged);
	assert_true(st.nat_merged > 100);
	print_message("# without deaths: %llu translations, %llu joins\n",
		      (unsigned long long)st.nat_learnt,
		      (unsigned long long)st.nat_merged);
	flowcache__free(fc);
	sigkill_anywhere();
	nat_on = false;
}

static void collect(void *ctx, const struct fe_conv *c, uint8_t reason,
		    uint64_t end)
{
	(*(int *)ctx)++;
}

/* The log's readers: kept by name across an adoption, the tail behind
 * the slowest, a full ring dropping the oldest.
 */
static void test_log_readers(void **state)
{
	static const struct flowcache_cfg cfg = { 1000, 60000, 0, 100 };
	const char *two[] = { "a", "b" }, *again[] = { "b", "c" };
	struct shm m;
	struct flowcache_mem fm;
	struct flowcache *fc;
	struct flowcache_stats st;
	uint64_t mid;
	int n;

	region_open(&m, 4096 + 200 * 168 + flowcache__log_min_size() * 4);
	fm = shm_mem(&m, flowcache__log_min_size() * 4);
	fc = flowcache__new_in(&cfg, &fm);
	assert_non_null(fc);
	assert_int_equal(flowcache__log_readers(fc, two, 2), 0);
	for (uint32_t f = 0; f < 10; f++) {
		struct fe_obs o = flow_obs(f, false, 2, 1, 1000);

		assert_int_equal(flowcache__add(fc, &o, 1000, NULL, NULL), 0);
	}
	assert_int_equal(flowcache__expire(fc, 2000, NULL, NULL), 10);
	mid = flowcache__log_head(fc);
	assert_true(mid > 0);
	flowcache__log_done(fc, 0, mid);
	flowcache__stats(fc, &st);
	assert_int_equal(st.log_used, mid); /* b has nothing yet */
	flowcache__log_done(fc, 1, mid / 2);
	flowcache__free(fc);
	/* a restart: b keeps its place, c is new */
	fc = flowcache__adopt(&cfg, &fm, m.p, m.size);
	assert_non_null(fc);
	assert_int_equal(flowcache__log_readers(fc, again, 2), 0);
	assert_int_equal(flowcache__log_done_pos(fc, 0), mid / 2);
	assert_int_equal(flowcache__log_done_pos(fc, 1), mid);
	n = 0;
	assert_int_equal(flowcache__log_replay(fc, 1, collect, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(flowcache__log_replay(fc, 0, collect, &n), 5);
	assert_int_equal(n, 5);
	/* a reader that never confirms: the ring fills, the oldest go */
	for (uint32_t f = 0; f < 100; f++) {
		struct fe_obs o = flow_obs(f, false, 2, 1, 3000);

		assert_int_equal(flowcache__add(fc, &o, 3000, NULL, NULL), 0);
	}
	flowcache__expire(fc, 5000, NULL, NULL);
	flowcache__stats(fc, &st);
	assert_true(st.log_dropped > 0);
	assert_true(st.log_used <= st.log_slots);
	flowcache__free(fc);
	region_close(&m);
}

/* A full fixed region: the least recently active conversation goes out
 * (reason 5) to make room; every packet is exported.
 */
static int exported;
static void count_emit(void *ctx, const struct fe_conv *c, uint8_t reason)
{
	uint64_t *sum = ctx;

	sum_conv(sum, c);
	exported++;
}

static void test_full_region(void **state)
{
	static const struct flowcache_cfg cfg = { 60000, 60000, 0, 100000 };
	struct shm m;
	struct flowcache_mem fm;
	struct flowcache *fc;
	struct flowcache_stats st;
	uint64_t sum = 0;

	region_open(&m, 4096 + 100 * 168 + flowcache__log_min_size());
	fm = shm_mem(&m, flowcache__log_min_size());
	fc = flowcache__new_in(&cfg, &fm);
	assert_non_null(fc);
	for (uint32_t f = 0; f < 1000; f++) {
		struct fe_obs o = flow_obs(f, false, 2, 3, 1000 + f);

		assert_int_equal(
			flowcache__add(fc, &o, 1000 + f, count_emit, &sum), 0);
		o = flow_obs(f, true, 3, 2, 1000 + f); /* a path record */
		assert_int_equal(
			flowcache__add(fc, &o, 1000 + f, count_emit, &sum), 0);
	}
	flowcache__stats(fc, &st);
	assert_int_equal(st.obs_nomem, 0);
	assert_true(st.evicted_full > 0);
	assert_int_equal(st.exported[FE_END_RESOURCES], st.evicted_full);
	flowcache__flush(fc, NULL, NULL, 3000, count_emit, &sum);
	assert_int_equal(sum, 5000);
	flowcache__free(fc);
	region_close(&m);
}

/* A region of another layout (or none) is refused, not adopted. */
static void test_refused(void **state)
{
	struct shm m;
	struct flowcache_mem fm;
	struct flowcache *fc;

	region_open(&m, 1u << 20);
	fm = shm_mem(&m, flowcache__log_min_size());
	fc = flowcache__new_in(&CFG, &fm);
	assert_non_null(fc);
	flowcache__free(fc);
	((uint32_t *)m.p)[1] += 1; /* the layout version */
	assert_null(flowcache__adopt(&CFG, &fm, m.p, m.size));
	assert_int_equal(errno, EINVAL);
	((uint32_t *)m.p)[1] -= 1;
	assert_null(flowcache__adopt(&CFG, &fm, m.p, m.size / 2));
	fc = flowcache__adopt(&CFG, &fm, m.p, m.size);
	assert_non_null(fc);
	flowcache__free(fc);
	region_close(&m);
}

/* A translation outlives the process: after an adoption (a new process
 * hashes with a new key) a reply metered with the translated tuple still
 * joins the original conversation.
 */
static void test_nat_adopted(void **state)
{
	struct fe_obs fwd = flow_obs(4, false, 2, 3, 1700000000000ULL);
	struct fe_obs rep = flow_obs(4, true, 1, 2, 1700000000001ULL);
	struct flowcache_stats st;
	struct flowcache_mem fm;
	struct flowcache *fc;
	uint64_t live = 0;
	struct shm m;

	memset(rep.key.dst, 0, 16);
	rep.key.dst[0] = 203;
	rep.key.dst[2] = 113;
	rep.key.dst[3] = 1;
	rep.key.dport = 20004;
	region_open(&m, 1u << 20);
	fm = shm_mem(&m, flowcache__log_min_size());
	fc = flowcache__new_in(&CFG, &fm);
	assert_non_null(fc);
	assert_int_equal(flowcache__add(fc, &fwd, 1000, NULL, NULL), 0);
	q_nat(fc, 4, 1000);
	flowcache__free(fc);
	fc = flowcache__adopt(&CFG, &fm, m.p, m.size);
	assert_non_null(fc);
	assert_int_equal(flowcache__add(fc, &rep, 1001, NULL, NULL), 0);
	flowcache__stats(fc, &st);
	assert_int_equal(st.flows, 1);
	flowcache__foreach(fc, on_live, &live);
	assert_int_equal(live, 5);
	flowcache__free(fc);
	region_close(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigkill_anywhere),
		cmocka_unit_test(test_sigkill_nat),
		cmocka_unit_test(test_nat_adopted),
		cmocka_unit_test(test_log_readers),
		cmocka_unit_test(test_full_region),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
