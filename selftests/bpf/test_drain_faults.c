/* test_drain_faults.c - the drain (agent/drain.c) when the kernel fails
 * it, on the product's meter set, with bpf_map_lookup_and_delete_batch()
 * wrapped (-Wl,--wrap) to fail a chosen call after handing over some
 * entries:
 * - a failure in the middle of the flows map: what the kernel handed over
 *   is delivered, the overflow map is still drained, the error returned;
 *   what stayed in the maps comes out of later drains, each entry once;
 * - a failure of the overflow map after the flows map: the same;
 * - a death right after a batch returned (the stage TAKING): the stage
 *   says which entries the kernel wrote, and they are applied once.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <cmocka.h>
#include "meter_testlib.h"
#include "meter.h"

#define NFLOWS 10000 /* three batches of the stage */
#define NOVF 5
#define MAP_MAX 16384

static char pin[128];
static int flows_fd = -1, ovf_fd = -1;

/* The fault: call number fail_call (counted from fail_reset) on fail_fd
 * takes at most take entries, then fails with EFAULT (or longjmps to
 * death when set: the process "dies" as the call returns).
 */
static int calls, fail_call;
static __u32 fail_id;	  /* the map's (the meter has fds of its own) */
static __u32 take, taken; /* asked, and what the kernel handed over */
static __u32 before;	  /* handed over by the calls before it */
static jmp_buf *death;

int __real_bpf_map_lookup_and_delete_batch(int fd, void *in_batch,
					   void *out_batch, void *keys,
					   void *values, __u32 *count,
					   const struct bpf_map_batch_opts *o);
int __wrap_bpf_map_lookup_and_delete_batch(int fd, void *in_batch,
					   void *out_batch, void *keys,
					   void *values, __u32 *count,
					   const struct bpf_map_batch_opts *o);

int __wrap_bpf_map_lookup_and_delete_batch(int fd, void *in_batch,
					   void *out_batch, void *keys,
					   void *values, __u32 *count,
					   const struct bpf_map_batch_opts *o)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int r;

	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.id != fail_id)
		return __real_bpf_map_lookup_and_delete_batch(
			fd, in_batch, out_batch, keys, values, count, o);
	if (++calls != fail_call) {
		r = __real_bpf_map_lookup_and_delete_batch(
			fd, in_batch, out_batch, keys, values, count, o);
		before += *count;
		return r;
	}
	if (*count > take)
		*count = take;
	r = 0;
	if (*count)
		r = __real_bpf_map_lookup_and_delete_batch(
			fd, in_batch, out_batch, keys, values, count, o);
	if (r && errno != ENOENT)
		return r;
	taken = *count;
	if (death)
		longjmp(*death, 1);
	errno = EFAULT;
	return -1;
}

static void fault(int fd, int call, __u32 n)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	calls = 0;
	before = 0;
	fail_id = fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len) ? info.id
								      : 0;
	fail_call = call;
	take = n;
}

static void pin_remove(void)
{
	char path[256];
	struct dirent *e;
	DIR *d = opendir(pin);

	if (!d)
		return;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", pin, e->d_name);
			unlink(path);
		}
	closedir(d);
	rmdir(pin);
}

static int pinned(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", pin, name);
	return bpf_obj_get(path);
}

/* A new set with generation 0 live, NFLOWS flows of 1 + i % 3 packets in
 * its flows map and NOVF overflow entries of 10 packets.
 */
static struct meter *set_fill(void)
{
	struct meter *m;

	pin_remove();
	m = meter__open(pin, MAP_MAX, METER_F_CREATE);
	if (!m) {
		print_message("# SKIP: create a meter set at %s: %s\n", pin,
			      strerror(errno));
		skip();
	}
	flows_fd = pinned(FE_PIN_FLOWS_A);
	ovf_fd = pinned(FE_PIN_OVF_A);
	assert_true(flows_fd >= 0 && ovf_fd >= 0);
	for (__u32 i = 0; i < NFLOWS + NOVF; i++) {
		struct fe_flow_key k = { .ifindex = 2, .dir = FE_DIR_EGRESS };
		struct fe_flow_val v = { .packets = 1 + i % 3 };

		if (i >= NFLOWS) {
			k.ifindex = 2 + i;
			k.flags = FE_KEY_OVERFLOW;
			v.packets = 10;
		} else {
			k.family = 4;
			k.proto = 17;
			memcpy(k.src, &i, sizeof(i));
		}
		v.octets = v.packets * 100;
		assert_int_equal(
			bpf_map_update_elem(i >= NFLOWS ? ovf_fd : flows_fd, &k,
					    &v, BPF_NOEXIST),
			0);
	}
	return m;
}

/* What the drains delivered, each entry checked to come once. */
struct tally {
	uint8_t seen[NFLOWS + NOVF];
	unsigned long entries, packets, twice;
};

static uint32_t entry_no(const struct fe_flow_key *k)
{
	uint32_t i;

	if (k->flags & FE_KEY_OVERFLOW)
		return k->ifindex - 2;
	memcpy(&i, k->src, sizeof(i));
	return i;
}

static int tally_entry(void *ctx, const struct fe_flow_key *k,
		       const struct fe_flow_val *v)
{
	struct tally *t = ctx;
	uint32_t i = entry_no(k);

	assert_true(i < NFLOWS + NOVF);
	t->twice += t->seen[i]++;
	t->entries++;
	t->packets += v->packets;
	return 0;
}

static unsigned long all_packets(void)
{
	unsigned long n = 10 * NOVF;

	for (uint32_t i = 0; i < NFLOWS; i++)
		n += 1 + i % 3;
	return n;
}

/* The drains after a failure: generation 1 (empty), then 0 again with
 * what the failure left.
 */
static void drain_rest(struct meter *m, struct tally *t)
{
	fault(-1, 0, 0);
	assert_true(meter__drain(m, tally_entry, t) >= 0);
	assert_true(meter__drain(m, tally_entry, t) >= 0);
	assert_int_equal(t->entries, NFLOWS + NOVF);
	assert_int_equal(t->packets, all_packets());
	assert_int_equal(t->twice, 0);
}

static void test_fail_mid_flows(void **state)
{
	static struct tally t;
	struct meter *m = set_fill();

	memset(&t, 0, sizeof(t));
	/* the second batch hands over 100 entries, then fails */
	fault(flows_fd, 2, 100);
	assert_int_equal(meter__drain(m, tally_entry, &t), -EFAULT);
	assert_true(taken > 0 && taken <= 100);
	assert_int_equal(t.entries, before + taken + NOVF);
	drain_rest(m, &t);
	meter__close(m);
}

static void test_fail_overflow(void **state)
{
	static struct tally t;
	struct meter *m = set_fill();

	memset(&t, 0, sizeof(t));
	fault(ovf_fd, 1, 2);
	assert_int_equal(meter__drain(m, tally_entry, &t), -EFAULT);
	assert_true(taken > 0 && taken <= 2);
	assert_int_equal(t.entries, NFLOWS + taken);
	drain_rest(m, &t);
	meter__close(m);
}

/* A stage of the caller's, applied entry by entry. */
static void apply(void *ctx, struct meter_stage *st)
{
	const struct fe_flow_key *k = meter_stage_keys(st);
	const struct fe_flow_val *v = meter_stage_vals(st);

	for (uint32_t i = 0; i < st->n; i++)
		if (v[i].packets)
			tally_entry(ctx, &k[i], &v[i]);
}

static void test_death_after_batch(void **state)
{
	static struct tally t;
	struct meter *m = set_fill();
	struct meter_stage *st = malloc(METER_STAGE_SIZE(METER_STAGE_CAP));
	jmp_buf jb;

	assert_non_null(st);
	meter_stage_init(st, METER_STAGE_CAP);
	memset(&t, 0, sizeof(t));
	/* the second batch returns, and the process dies at once */
	fault(flows_fd, 2, 1000);
	death = &jb;
	if (!setjmp(jb)) {
		meter__drain_staged(m, st, apply, &t);
		fail_msg("the drain went on after its death");
	}
	death = NULL;
	assert_int_equal(t.entries, before);
	assert_int_equal(st->state, METER_STAGE_TAKING);
	/* the successor: the stage holds what the kernel handed over */
	assert_true(meter_stage_recover(st));
	assert_true(taken > 0);
	assert_int_equal(st->n, taken);
	apply(&t, st);
	meter_stage_done(st);
	assert_false(meter_stage_recover(st));
	/* and the rest of generation 0 comes out of later drains */
	fault(-1, 0, 0);
	assert_true(meter__drain_staged(m, st, apply, &t) >= 0);
	assert_true(meter__drain_staged(m, st, apply, &t) >= 0);
	assert_true(meter__drain_staged(m, st, apply, &t) >= 0);
	assert_int_equal(t.entries, NFLOWS + NOVF);
	assert_int_equal(t.packets, all_packets());
	assert_int_equal(t.twice, 0);
	free(st);
	meter__close(m);
}

static int setup(void **state)
{
	struct stat st;

	snprintf(pin, sizeof(pin), "/sys/fs/bpf/fe-test-drainf-%d",
		 (int)getpid());
	if (stat("/sys/fs/bpf", &st))
		mkdir("/sys/fs/bpf", 0700);
	libbpf_set_print(mt_libbpf_print);
	return 0;
}

static int teardown(void **state)
{
	if (flows_fd >= 0)
		close(flows_fd);
	if (ovf_fd >= 0)
		close(ovf_fd);
	flows_fd = ovf_fd = -1;
	pin_remove();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_fail_mid_flows, teardown),
		cmocka_unit_test_teardown(test_fail_overflow, teardown),
		cmocka_unit_test_teardown(test_death_after_batch, teardown),
	};

	return cmocka_run_group_tests_name("drain_faults", tests, setup, NULL);
}
