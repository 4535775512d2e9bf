/* test_core_clock.c - the agent's core (core.c, core_state.c) on a fake
 * clock (clock.c's source replaced) and fake meters (meter.h's calls
 * wrapped with -Wl,--wrap): a step of the wall clock, back or forward by
 * an hour, changes no expiry (the cache runs on CLOCK_MONOTONIC) but
 * moves the records' stamps (UNIX time); and a drain that fails after
 * handing over entries still caches them, counted in drain_errors.
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
#include "clock.h"
#include "core.h"

#define S 1000000000ULL
#define HOUR (3600 * S)

/* The fake clock: CLOCK_MONOTONIC and CLOCK_REALTIME in ns. */
static uint64_t mono_ns = 1000 * S, unix_ns = 1700000000 * S;

static uint64_t fake_ns(void *ctx, enum fe_clock_id id)
{
	return id == FE_CLOCK_MONO   ? mono_ns
	       : id == FE_CLOCK_UNIX ? unix_ns
				     : mono_ns;
}

static const struct fe_clock_src fake = { .ns = fake_ns };

/* The fake meters: the next drain hands over nents entries of flow 1
 * (stamped with the monotonic clock, as bpf_ktime_get*_ns() does), and
 * fails with fail_err after them when set.
 */
static struct meter *fake_meter = (struct meter *)0x1;
static uint32_t nents;
static int fail_err;

struct meter *__wrap_meter__open(const char *pin, unsigned int max,
				 unsigned int flags);
struct meter *__wrap_meter__open_opts(const char *pin,
				      const struct meter_opts *o);
unsigned int __wrap_meter__sampling(const struct meter *m);
int __wrap_meter__lock(struct meter *m);
unsigned int __wrap_meter__max_flows(const struct meter *m);
void __wrap_meter__close(struct meter *m);
int __wrap_meter__stats(struct meter *m, __u64 *out);
int __wrap_meter__attachments(struct meter *m, struct meter_attachment *out,
			      int max);
void __wrap_meter__sweep_defunct(struct meter *m);
int __wrap_meter__drain_staged(struct meter *m, struct meter_stage *st,
			       meter_batch_fn fn, void *ctx);

struct meter *__wrap_meter__open(const char *pin, unsigned int max,
				 unsigned int flags)
{
	return fake_meter;
}

/* what core.c calls: a real one would load meters at the default pin */
struct meter *__wrap_meter__open_opts(const char *pin,
				      const struct meter_opts *o)
{
	return fake_meter;
}

unsigned int __wrap_meter__sampling(const struct meter *m)
{
	return 1;
}

int __wrap_meter__lock(struct meter *m)
{
	return 0;
}

unsigned int __wrap_meter__max_flows(const struct meter *m)
{
	return 65536;
}

void __wrap_meter__close(struct meter *m)
{
}

int __wrap_meter__stats(struct meter *m, __u64 *out)
{
	return -ENOTSUP;
}

int __wrap_meter__attachments(struct meter *m, struct meter_attachment *out,
			      int max)
{
	return 0;
}

void __wrap_meter__sweep_defunct(struct meter *m)
{
}

int __wrap_meter__drain_staged(struct meter *m, struct meter_stage *st,
			       meter_batch_fn fn, void *ctx)
{
	struct fe_flow_key *k = meter_stage_keys(st);
	struct fe_flow_val *v = meter_stage_vals(st);
	uint32_t n = nents;

	nents = 0;
	if (!n)
		return fail_err;
	st->seq++;
	for (uint32_t i = 0; i < n; i++) {
		memset(&k[i], 0, sizeof(k[i]));
		k[i].ifindex = 2;
		k[i].dir = FE_DIR_EGRESS;
		k[i].family = 4;
		k[i].proto = 17;
		k[i].src[0] = 10;
		k[i].src[3] = (uint8_t)(i + 1);
		k[i].dst[0] = 10;
		k[i].dst[3] = 200;
		k[i].sport = 1000;
		k[i].dport = 53;
		v[i] = (struct fe_flow_val){ .packets = 3,
					     .octets = 300,
					     .first_ns = mono_ns - S,
					     .last_ns = mono_ns };
	}
	st->n = n;
	st->state = METER_STAGE_FULL;
	fn(ctx, st);
	meter_stage_done(st);
	return fail_err ? fail_err : (int)n;
}

static struct agent a;

static void start(void)
{
	static struct fe_config cfg;

	fe_config_defaults(&cfg);
	cfg.state_memory = true;
	cfg.idle_timeout = 15;
	cfg.active_timeout = 60;
	cfg.poll_interval_ms = 1000;
	/* nowhere: a meter call the fakes miss fails here instead of loading
	 * meters at the system's pin path
	 */
	snprintf(cfg.pin_path, sizeof(cfg.pin_path), "/nonexistent/fe-core");
	fe_clock_set_src(&fake);
	nents = 0;
	fail_err = 0;
	assert_int_equal(agent__start(&a, &cfg, "test.ini"), 0);
}

static void stop(void)
{
	agent__close(&a);
	fe_clock_set_src(NULL);
}

static uint64_t idle_exports(void)
{
	struct flowcache_stats st;

	flowcache__stats(a.fc, &st);
	return st.exported[FE_END_IDLE];
}

static void first_ms(void *ctx, const struct fe_conv *c)
{
	*(uint64_t *)ctx = c->start_ms;
}

/* One flow cached at t0, then a tick a second: its idle expiry comes 15
 * s after its last packet on the monotonic clock, whatever the wall
 * clock does (step applied at tick 5).
 */
static void idle_after(int64_t step)
{
	uint64_t start_ms = 0;
	int due = -1;

	start();
	nents = 1;
	agent__tick(&a);
	flowcache__foreach(a.fc, first_ms, &start_ms);
	/* the record's stamp: the packet's monotonic time on the wall clock */
	assert_int_equal(start_ms, (unix_ns - S) / 1000000);
	for (int t = 1; t <= 40 && due < 0; t++) {
		mono_ns += S;
		unix_ns += S;
		if (t == 5)
			unix_ns += (uint64_t)step;
		agent__tick(&a);
		if (idle_exports())
			due = t;
	}
	assert_int_equal(due, 15);
	stop();
}

static void test_wall_back(void **state)
{
	idle_after(-(int64_t)HOUR);
}

static void test_wall_forward(void **state)
{
	idle_after((int64_t)HOUR);
}

static void test_wall_none(void **state)
{
	idle_after(0);
}

/* A stepped wall clock moves the stamps of what is drained after it. */
static void test_stamps_follow_wall(void **state)
{
	uint64_t start_ms = 0;

	start();
	unix_ns -= HOUR;
	nents = 1;
	agent__tick(&a);
	flowcache__foreach(a.fc, first_ms, &start_ms);
	assert_int_equal(start_ms, (unix_ns - S) / 1000000);
	stop();
}

/* A drain that fails after the kernel handed entries over: they are in
 * the cache, the failure counted.
 */
static void test_drain_error_keeps_entries(void **state)
{
	struct flowcache_stats st;

	start();
	nents = 7;
	fail_err = -EFAULT;
	assert_int_equal(agent__drain(&a), -EFAULT);
	flowcache__stats(a.fc, &st);
	assert_int_equal(st.flows, 7);
	assert_int_equal(a.drain_errors, 1);
	assert_int_equal(a.drained, 7);
	assert_int_equal(a.drain_store_failed, 0);
	stop();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wall_none),
		cmocka_unit_test(test_wall_back),
		cmocka_unit_test(test_wall_forward),
		cmocka_unit_test(test_stamps_follow_wall),
		cmocka_unit_test(test_drain_error_keeps_entries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
