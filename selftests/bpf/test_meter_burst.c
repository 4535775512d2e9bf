/* test_meter_burst.c - the product's meter set (agent/meter.c, drain.c)
 * under bursts of new flows, through its pinned tc egress program:
 * - a burst that fills the flows map exactly, from one CPU and from two at
 *   once, sends nothing to overflow (preallocated maps: an insert fails
 *   only when the map is full);
 * - a burst past a full map loses nothing: the excess is in the overflow
 *   entry, and packets and octets add up exactly;
 * - the swap: a drain flips the live generation, the slots keep their maps,
 *   and what is counted after a drain comes out of the next one.
 * All counts are exact; nothing depends on timing.
 */
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <sys/stat.h>
#include <cmocka.h>
#include "meter_testlib.h"
#include "meter.h"

#define BURST_MAX 4096 /* flows map entries */

static char pin[128];

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

/* A fresh set of BURST_MAX entries per map and its tc egress program. */
static struct meter *set_open(int *prog)
{
	char path[256];
	struct meter *m;

	pin_remove();
	m = meter__open(pin, BURST_MAX, METER_F_CREATE);
	if (!m) {
		print_message("# SKIP: create a meter set at %s: %s\n", pin,
			      strerror(errno));
		skip();
	}
	snprintf(path, sizeof(path), "%s/%s", pin, FE_PIN_PROG_TC_EGRESS);
	*prog = bpf_obj_get(path);
	assert_true(*prog >= 0);
	return m;
}

/* UDP flow i: 10.i.i.i:1000+(i&7) -> 10.255.0.1:53, 100 bytes of data. */
static __u32 flow_frame(__u8 *buf, __u32 cap, __u32 i)
{
	struct mt_pkt_spec s;

	mt_spec_default(&s, 4, IPPROTO_UDP);
	s.src[1] = i >> 16;
	s.src[2] = i >> 8;
	s.src[3] = i;
	s.sport = 1000 + (i & 7);
	s.dst[1] = 255;
	s.dport = 53;
	return mt_pkt_build(&s, buf, cap, NULL);
}

/* Flows [from, to) once each; the IP octets sent, or -errno. */
static long long fill(int prog, __u32 from, __u32 to)
{
	__u8 buf[2048];
	long long octets = 0;

	for (__u32 i = from; i < to; i++) {
		__u32 len = flow_frame(buf, sizeof(buf), i), ret = 0;
		int err = mt_run_fd(prog, false, buf, len, NULL, 1, &ret, NULL);

		if (err)
			return err;
		octets += len - 14;
	}
	return octets;
}

struct tally {
	unsigned long entries, packets, ovf_entries, ovf_packets;
	__u64 octets;
};

static int tally_entry(void *ctx, const struct fe_flow_key *k,
		       const struct fe_flow_val *v)
{
	struct tally *t = ctx;

	t->entries++;
	t->packets += v->packets;
	t->octets += v->octets;
	if (k->flags & FE_KEY_OVERFLOW) {
		t->ovf_entries++;
		t->ovf_packets += v->packets;
	}
	return 0;
}

/* The burst of n flows went where it should: no overflow while n fits. */
static void check_burst(struct meter *m, __u32 n, long long octets)
{
	__u32 fit = n < BURST_MAX ? n : BURST_MAX;
	__u64 st[FE_STAT_MAX];
	unsigned int nf = 0, no = 0;
	struct tally t = { 0 };

	assert_int_equal(meter__stats(m, st), 0);
	assert_int_equal(st[FE_STAT_PACKETS], n);
	assert_int_equal(st[FE_STAT_OVERFLOW], n - fit);
	assert_int_equal(st[FE_STAT_OVF_LOST], 0);
	assert_int_equal(st[FE_STAT_OCTETS], octets);
	assert_int_equal(meter__count(m, &nf, &no), 0);
	assert_int_equal(nf, fit);
	assert_int_equal(no, n > fit ? 1 : 0);
	assert_int_equal(meter__drain(m, tally_entry, &t), fit + no);
	assert_int_equal(t.entries, fit + no);
	assert_int_equal(t.packets, n);
	assert_int_equal(t.ovf_entries, no);
	assert_int_equal(t.ovf_packets, n - fit);
	assert_int_equal(t.octets, octets);
	/* and the maps are empty for the next tick */
	assert_int_equal(meter__count(m, &nf, &no), 0);
	assert_int_equal(nf + no, 0);
}

static void test_burst_fills_map(void **state)
{
	int prog;
	struct meter *m = set_open(&prog);
	long long octets = fill(prog, 0, BURST_MAX);

	assert_true(octets > 0);
	check_burst(m, BURST_MAX, octets);
	close(prog);
	meter__close(m);
}

struct filler {
	int prog, cpu;
	__u32 from, to;
	pthread_barrier_t *start;
	long long octets;
};

static void *filler_run(void *arg)
{
	struct filler *f = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(f->cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	pthread_barrier_wait(f->start);
	f->octets = fill(f->prog, f->from, f->to);
	return NULL;
}

/* Two CPUs insert new flows at once, as two queues' softirqs would. */
static void test_burst_two_cpus(void **state)
{
	pthread_barrier_t start;
	struct filler f[2];
	pthread_t th[2];
	int prog, i;
	struct meter *m;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		print_message("# SKIP: one CPU online, no concurrent burst\n");
		skip();
	}
	m = set_open(&prog);
	pthread_barrier_init(&start, NULL, 2);
	for (i = 0; i < 2; i++) {
		f[i] = (struct filler){ .prog = prog,
					.cpu = i,
					.from = i * BURST_MAX / 2,
					.to = (i + 1) * BURST_MAX / 2,
					.start = &start };
		assert_int_equal(
			pthread_create(&th[i], NULL, filler_run, &f[i]), 0);
	}
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&start);
	if (f[0].octets <= 0 || f[1].octets <= 0)
		fail_msg("fill: %s, %s", strerror((int)-f[0].octets),
			 strerror((int)-f[1].octets));
	check_burst(m, BURST_MAX, f[0].octets + f[1].octets);
	close(prog);
	meter__close(m);
}

/* Past a full map: the excess in the overflow entry, nothing lost. */
static void test_full_map(void **state)
{
	int prog;
	struct meter *m = set_open(&prog);
	long long octets = fill(prog, 0, BURST_MAX + 1000);

	assert_true(octets > 0);
	check_burst(m, BURST_MAX + 1000, octets);
	/* an existing flow still counts in its own entry when the map is
	 * full: fill again, then send flow 0 once more
	 */
	octets = fill(prog, 0, BURST_MAX);
	octets += fill(prog, 0, 1);
	assert_true(octets > 0);
	{
		__u64 st[FE_STAT_MAX];
		struct tally t = { 0 };

		assert_int_equal(meter__stats(m, st), 0);
		assert_int_equal(st[FE_STAT_OVERFLOW], 1000);
		assert_int_equal(meter__drain(m, tally_entry, &t), BURST_MAX);
		assert_int_equal(t.packets, BURST_MAX + 1);
		assert_int_equal(t.ovf_entries, 0);
	}
	close(prog);
	meter__close(m);
}

/* A drain flips fe_gen with the maps left in their slots; a packet after
 * a drain lands in the other generation and comes out of the next drain.
 */
static void test_swap_generations(void **state)
{
	struct meter_ids before, after;
	struct tally t = { 0 };
	char path[256];
	__u32 zero = 0, gen = 5, id, slot;
	int prog, gen_fd, outer_fd;
	struct meter *m = set_open(&prog);

	snprintf(path, sizeof(path), "%s/%s", pin, FE_PIN_GEN);
	gen_fd = bpf_obj_get(path);
	snprintf(path, sizeof(path), "%s/%s", pin, FE_PIN_OUTER);
	outer_fd = bpf_obj_get(path);
	assert_true(gen_fd >= 0 && outer_fd >= 0);
	assert_int_equal(bpf_map_lookup_elem(gen_fd, &zero, &gen), 0);
	assert_int_equal(gen, 0);
	meter__ids(m, &before);
	assert_true(fill(prog, 0, 3) > 0);
	assert_int_equal(meter__drain(m, tally_entry, &t), 3);
	assert_int_equal(bpf_map_lookup_elem(gen_fd, &zero, &gen), 0);
	assert_int_equal(gen, 1);
	meter__ids(m, &after);
	assert_true(after.flows_cur != before.flows_cur);
	assert_true(after.ovf_cur != before.ovf_cur);
	/* generation 0's flows map is still in its slot, empty */
	slot = FE_SLOT_FLOWS(0);
	assert_int_equal(bpf_map_lookup_elem(outer_fd, &slot, &id), 0);
	assert_int_equal(id, before.flows_cur);
	slot = FE_SLOT_FLOWS(1);
	assert_int_equal(bpf_map_lookup_elem(outer_fd, &slot, &id), 0);
	assert_int_equal(id, after.flows_cur);

	assert_true(fill(prog, 10, 12) > 0);
	memset(&t, 0, sizeof(t));
	assert_int_equal(meter__drain(m, tally_entry, &t), 2);
	assert_int_equal(t.packets, 2);
	assert_int_equal(bpf_map_lookup_elem(gen_fd, &zero, &gen), 0);
	assert_int_equal(gen, 0);
	memset(&t, 0, sizeof(t));
	assert_int_equal(meter__drain(m, tally_entry, &t), 0);
	close(gen_fd);
	close(outer_fd);
	close(prog);
	meter__close(m);
}

static int setup(void **state)
{
	struct stat st;

	snprintf(pin, sizeof(pin), "/sys/fs/bpf/fe-test-burst-%d",
		 (int)getpid());
	if (stat("/sys/fs/bpf", &st))
		mkdir("/sys/fs/bpf", 0700);
	libbpf_set_print(mt_libbpf_print);
	return 0;
}

static int teardown(void **state)
{
	pin_remove();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_burst_fills_map, teardown),
		cmocka_unit_test_teardown(test_burst_two_cpus, teardown),
		cmocka_unit_test_teardown(test_full_map, teardown),
		cmocka_unit_test_teardown(test_swap_generations, teardown),
	};

	return cmocka_run_group_tests_name("meter_burst", tests, setup, NULL);
}
