/* bench_agent.c - the agent's cost per flow at router scale (make
 * bench-agent): the real flowagent code path (agent__drain into the flow
 * cache, agent__stop exporting to a UDP sink on loopback) on a meter set
 * filled through its own tc programs (fill.h), beside a baseline that
 * only batch-reads the same map.
 *
 * Method, per size N (BENCH_SIZES, default 10000,100000,1000000): N flows,
 * a third each of IPv4 TCP (egress meter only), IPv6 TCP (egress meter
 * only) and IPv4 TCP seen at both meters (ingress of fe-b0, egress of
 * fe-b1), one packet per flow. The process runs in a network namespace of
 * its own with a veth pair fe-b0/fe-b1 that the agent meters (ingress =
 * tc), so the programs run on real devices.
 * - baseline: fill, then lookup-and-delete the live map in batches into
 *   one buffer (the kernel's share of any drain, and the memory a bare
 *   reader needs);
 * - agent: start an agent, fill, agent__drain() (drain + cache), then
 *   agent__stop() (every conversation exported as forced end);
 * - kernel B/entry: growth of the live maps' memlock (fdinfo) over the
 *   fill; for per-CPU values projected to 64 CPUs; for a preallocated map
 *   its memlock per slot;
 * - agent B/flow: growth of the process's RSS over the drain per cached
 *   conversation.
 * Steady state (BENCH_STEADY flows, default the largest size): the same
 * flows filled again before each of BENCH_TICKS (3) ticks, agent__tick()
 * timed in wall and thread CPU time: the CPU share is that over the poll
 * interval (1 s). Figures are printed, never asserted: the machine is
 * shared, compare the columns of one run. BENCH_THREADS (default: CPUs)
 * threads fill.
 * Each part runs for the agent's state modes in BENCH_STATE (default
 * "pinned,memory", side by side): the journaled cache, the stage and the
 * export log in the pinned state map, or the cache in memory; "the cache
 * alone" compares a plain and a journaled cache on the same entries.
 */
#include <malloc.h>
#include <sys/mman.h>
#include <net/if.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include "fill.h"
#include "clock.h"
#include "config.h"
#include "core.h"
#include "log.h"

#define MAX_SIZES 8
#define POLL_MS 1000

struct bench {
	char pin[128], ini[128];
	int sink_fd, sink_port;
	uint32_t if0, if1;
	int threads;
	struct fe_config cfg;
	struct agent a;
};

/* One size's figures. */
struct row {
	uint64_t flows, entries, convs, records, overflow;
	double drain_us, share_us, base_us, export_us;
	double replay_us[2], jreplay_us[2]; /* plain, journaled cache */
	double rss_b, base_rss_b;
	double kern_b, kern64_b;
};

static unsigned long env_ul(const char *name, unsigned long def)
{
	const char *v = getenv(name);

	return v && *v ? strtoul(v, NULL, 0) : def;
}

static double now_us(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* The kernel's share of a drain, and the agent's: meter__drain_staged()
 * is linked wrapped (-Wl,--wrap=meter__drain_staged), so the time its
 * callback (the agent's, per batch) takes is told apart from the batch
 * syscalls and the per-CPU sums around it. The agent's share of
 * agent__drain() is its wall time less meter__drain_staged()'s own.
 */
static struct {
	meter_batch_fn fn;
	void *ctx;
	double meter_us, cb_us; /* summed over calls */
	uint64_t calls;
	double clock_us; /* one clock_gettime(), calibrated */
} W;

int __real_meter__drain_staged(struct meter *m, struct meter_stage *st,
			       meter_batch_fn fn, void *ctx);
int __wrap_meter__drain_staged(struct meter *m, struct meter_stage *st,
			       meter_batch_fn fn, void *ctx);

static void wrap_cb(void *ctx, struct meter_stage *st)
{
	double t0 = now_us(CLOCK_MONOTONIC);

	W.fn(W.ctx, st);
	W.cb_us += now_us(CLOCK_MONOTONIC) - t0;
	W.calls++;
}

int __wrap_meter__drain_staged(struct meter *m, struct meter_stage *st,
			       meter_batch_fn fn, void *ctx)
{
	double t0 = now_us(CLOCK_MONOTONIC);
	int r;

	W.fn = fn;
	W.ctx = ctx;
	r = __real_meter__drain_staged(m, st, wrap_cb, NULL);
	W.meter_us += now_us(CLOCK_MONOTONIC) - t0;
	return r;
}

/* The kernel side's time since W was zeroed, including the wrapper's
 * own clock reads (one per entry stays outside the callback's time).
 */
static double kernel_us(void)
{
	return W.meter_us - W.cb_us + W.calls * W.clock_us;
}

static void zero_w(void)
{
	double c = W.clock_us;

	memset(&W, 0, sizeof(W));
	W.clock_us = c;
}

static void calibrate_clock(void)
{
	double t0 = now_us(CLOCK_MONOTONIC);

	for (int i = 0; i < 1000000; i++)
		now_us(CLOCK_MONOTONIC);
	W.clock_us = (now_us(CLOCK_MONOTONIC) - t0) / 1e6;
}

static uint64_t rss_bytes(void)
{
	unsigned long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%lu %lu", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

static uint64_t fd_memlock(int fd)
{
	char path[64], line[128];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

static int die(const char *what, int err)
{
	fprintf(stderr, "bench_agent: %s: %s\n", what, strerror(err));
	exit(1);
}

/* A namespace of our own with lo up and a veth pair for the meters. */
static void bench_netns(struct bench *b)
{
	if (unshare(CLONE_NEWNET))
		die("unshare(CLONE_NEWNET)", errno);
	if (system("ip link set lo up && "
		   "ip link add fe-b0 type veth peer name fe-b1 && "
		   "ip link set fe-b0 up && ip link set fe-b1 up"))
		die("create the veth pair fe-b0/fe-b1 (ip link)", EIO);
	b->if0 = if_nametoindex("fe-b0");
	b->if1 = if_nametoindex("fe-b1");
	if (!b->if0 || !b->if1)
		die("if_nametoindex fe-b0/fe-b1", errno);
}

/* A UDP socket nobody reads: the collector. Loopback drops what does not
 * fit its buffer; the exporter's send cost is what is measured.
 */
static void bench_sink(struct bench *b)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);

	b->sink_fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (b->sink_fd < 0 || bind(b->sink_fd, (void *)&sa, sizeof(sa)) ||
	    getsockname(b->sink_fd, (void *)&sa, &len))
		die("UDP sink on 127.0.0.1", errno);
	b->sink_port = ntohs(sa.sin_port);
}

static void bench_config(struct bench *b, unsigned long kmax,
			 unsigned long max_flows)
{
	char err[512];
	FILE *f;

	snprintf(b->pin, sizeof(b->pin), "/sys/fs/bpf/fe-bench-%d", getpid());
	snprintf(b->ini, sizeof(b->ini), "/tmp/fe-bench-%d.ini", getpid());
	f = fopen(b->ini, "w");
	if (!f)
		die(b->ini, errno);
	fprintf(f,
		"[agent]\ninterfaces = fe-b0 fe-b1\ningress = tc\n"
		"pin_path = %s\ncontrol_socket = "
		"/run/flowexp/fe-bench-%d.sock\n"
		"poll_interval_ms = %d\nidle_timeout = 3600\n"
		"active_timeout = 3600\nmax_flows = %u\n"
		"kernel_max_flows = %lu\n\n[collector sink]\n"
		"address = 127.0.0.1:%d\nbiflow = yes\n",
		b->pin, getpid(), POLL_MS, (unsigned int)max_flows, kmax,
		b->sink_port);
	fclose(f);
	if (fe_config_load(b->ini, &b->cfg, err, sizeof(err))) {
		fprintf(stderr, "bench_agent: %s\n", err);
		exit(1);
	}
}

static void bench_start(struct bench *b)
{
	int err;

	/* a new pinned state each time: nothing to adopt */
	meter__state_remove(b->pin);
	err = agent__start(&b->a, &b->cfg, b->ini);

	if (err)
		die("start the agent", -err);
	agent__sync_ifaces(&b->a);
}

/* N flows: a third of each kind, sets 1..3. Returns the kernel entries
 * they make.
 */
static uint64_t bench_fill(struct bench *b, struct fill_progs *p, uint64_t n,
			   struct fill_count *c)
{
	struct fill_flows k[3] = {
		{ .family = 4,
		  .proto = IPPROTO_TCP,
		  .set = 1,
		  .out_if = b->if1 },
		{ .family = 6,
		  .proto = IPPROTO_TCP,
		  .set = 2,
		  .out_if = b->if1 },
		{ .family = 4,
		  .proto = IPPROTO_TCP,
		  .set = 3,
		  .in_if = b->if0,
		  .out_if = b->if1,
		  .ingress = true },
	};
	uint64_t entries = 0;

	memset(c, 0, sizeof(*c));
	for (int i = 0; i < 3; i++) {
		k[i].n = (uint32_t)(n / 3 + (i < (int)(n % 3)));
		k[i].packets = 1;
		k[i].payload = 100;
		fill_run(p, &k[i], b->threads, c);
		entries += k[i].n * (k[i].ingress ? 2 : 1);
	}
	if (c->errors)
		die("fill (BPF_PROG_TEST_RUN)", -c->first_err);
	return entries;
}

/* The live maps of the set: their memlock now. */
struct kmaps {
	int fd[2];
	struct bpf_map_info info[2];
};

static void kmaps_open(struct meter *m, struct kmaps *k)
{
	struct meter_ids ids;
	uint32_t id[2];

	meter__ids(m, &ids);
	id[0] = ids.flows_cur;
	id[1] = ids.ovf_cur;
	for (int i = 0; i < 2; i++) {
		__u32 len = sizeof(k->info[i]);

		memset(&k->info[i], 0, sizeof(k->info[i]));
		k->fd[i] = bpf_map_get_fd_by_id(id[i]);
		if (k->fd[i] < 0 ||
		    bpf_obj_get_info_by_fd(k->fd[i], &k->info[i], &len))
			die("open the live flow maps by id", errno);
	}
}

static void kmaps_close(struct kmaps *k)
{
	close(k->fd[0]);
	close(k->fd[1]);
}

static uint64_t kmaps_memlock(const struct kmaps *k)
{
	return fd_memlock(k->fd[0]) + fd_memlock(k->fd[1]);
}

static bool map_percpu(const struct bpf_map_info *i)
{
	return i->type == BPF_MAP_TYPE_PERCPU_HASH ||
	       i->type == BPF_MAP_TYPE_LRU_PERCPU_HASH ||
	       i->type == BPF_MAP_TYPE_PERCPU_ARRAY;
}

static bool map_prealloc(const struct bpf_map_info *i)
{
	if (i->type == BPF_MAP_TYPE_HASH || i->type == BPF_MAP_TYPE_PERCPU_HASH)
		return !(i->map_flags & BPF_F_NO_PREALLOC);
	return true; /* arrays, LRU hashes: every slot exists up front */
}

/* Kernel bytes per entry of the flow map, and projected to 64 CPUs. */
static void kern_per_entry(const struct kmaps *k, uint64_t before,
			   uint64_t after, uint64_t entries, double *b,
			   double *b64)
{
	const struct bpf_map_info *i = &k->info[0];
	double per, vpart = 0;
	int ncpu = libbpf_num_possible_cpus();

	if (map_prealloc(i))
		per = (double)fd_memlock(k->fd[0]) / i->max_entries;
	else
		per = entries ? (double)(after - before) / entries : 0;
	if (map_percpu(i))
		vpart = ((i->value_size + 7) & ~7u);
	*b = per;
	*b64 = per - vpart * ncpu + vpart * 64;
}

/* The baseline: every entry of the live flow map into one buffer. */
/* Where the cache takes observations in groups (and prefetches), the
 * replay uses that, as the agent does.
 */
size_t flowcache__add_many(struct flowcache *fc, const struct fe_obs *o,
			   size_t n, uint64_t now_ms, flowcache_emit_fn emit,
			   void *ctx) __attribute__((weak));

static void cache_add(struct flowcache *fc, const struct fe_obs *o,
		      uint64_t n, uint64_t now)
{
	for (uint64_t i = 0; i < n; i += 64) {
		if (flowcache__add_many) {
			flowcache__add_many(fc, o + i, n - i < 64 ? n - i : 64,
					    now, NULL, NULL);
			continue;
		}
		for (uint64_t j = i; j < n && j < i + 64; j++)
			flowcache__add(fc, &o[j], now, NULL, NULL);
	}
}

/* A journaled cache's fixed region (as in the pinned state, but
 * anonymous memory): room for n conversations with a path each, a log.
 */
struct jmem {
	void *p;
	size_t size;
};

static void *jmem_resize(void *ctx, void *old, size_t old_size,
			 size_t new_size)
{
	struct jmem *m = ctx;

	if (old)
		return NULL;
	m->p = mmap(NULL, new_size, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	m->size = new_size;
	return m->p == MAP_FAILED ? NULL : m->p;
}

static void jmem_release(void *ctx, void *region, size_t size)
{
	munmap(region, size);
}

/* The cache alone: the entries of a bare read fed to a new flow cache
 * twice, as new conversations and as known ones; us per entry in new[0]
 * and new[1]; journal: a journaled cache in a fixed region, with tags.
 * Only for the value layout this agent sums.
 */
static void cache_replay(struct bench *b, const char *keys, const char *vals,
			 uint64_t n, int ncpu, double us[2], bool journal)
{
	struct flowcache_cfg cfg = { 3600000, 3600000, 2000, 1u << 26 };
	struct jmem jm;
	struct flowcache_mem fm = { .resize = jmem_resize,
				    .release = jmem_release,
				    .ctx = &jm,
				    .fixed_size = 4096 + (n + 1024) * 232 +
						  (4u << 20),
				    .log_size = 4u << 20 };
	struct flowcache *fc =
		journal ? flowcache__new_in(&cfg, &fm) : flowcache__new(&cfg);
	struct fe_obs *o = calloc(n ? n : 1, sizeof(*o));
	uint64_t *tags = calloc(n ? n : 1, sizeof(*tags));

	us[0] = us[1] = 0;
	if (!fc || !o || !tags)
		die("replay cache", ENOMEM);
	flowcache__set_ingress_metered(fc, b->if0, true);
	for (uint64_t i = 0; i < n; i++) {
		const struct fe_flow_val *v =
			(const void *)(vals + i * ncpu * sizeof(*v));

		memcpy(&o[i].key, keys + i * sizeof(o[i].key),
		       sizeof(o[i].key));
		for (int c = 0; c < ncpu; c++) {
			o[i].packets += v[c].packets;
			o[i].octets += v[c].octets;
			o[i].first_ms = o[i].last_ms = 1000;
		}
	}
	for (int pass = 0; pass < 2; pass++) {
		double t0 = now_us(CLOCK_MONOTONIC);

		for (uint64_t i = 0; i < n; i++)
			tags[i] = (uint64_t)(pass + 1) << 32 | (i + 1);
		if (journal)
			for (uint64_t i = 0; i < n; i += 64)
				flowcache__add_tagged(fc, o + i, tags + i,
						      n - i < 64 ? n - i : 64,
						      2000 + pass, NULL, NULL);
		else
			cache_add(fc, o, n, 2000 + pass);
		us[pass] = n ? (now_us(CLOCK_MONOTONIC) - t0) / n : 0;
	}
	flowcache__free(fc);
	free(o);
	free(tags);
}

/* The baseline: every entry of the live flow map into one buffer; then the
 * cache alone on those entries.
 */
static double bare_read(struct bench *b, struct kmaps *k, uint64_t entries,
			double *rss_b, struct row *r)
{
	int ncpu = map_percpu(&k->info[0]) ? libbpf_num_possible_cpus() : 1;
	size_t ks = k->info[0].key_size, vs = k->info[0].value_size * ncpu;
	uint64_t cap = entries + 1024, got = 0, r0 = rss_bytes();
	char *keys = malloc(cap * ks), *vals = malloc(cap * vs);
	__u32 batch, count;
	void *in = NULL;
	double t0 = now_us(CLOCK_MONOTONIC), t;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);

	if (!keys || !vals)
		die("baseline buffers", ENOMEM);
	for (;;) {
		int err;

		count = cap - got < 4096 ? (__u32)(cap - got) : 4096;
		err = bpf_map_lookup_and_delete_batch(
			k->fd[0], in, &batch, keys + got * ks, vals + got * vs,
			&count, &opts);
		got += count;
		if (err && errno == ENOENT)
			break;
		if (err)
			die("baseline lookup_and_delete_batch", errno);
		in = &batch;
	}
	t = now_us(CLOCK_MONOTONIC) - t0;
	*rss_b = got ? (double)(rss_bytes() - r0) / got : 0;
	r->replay_us[0] = r->replay_us[1] = -1;
	r->jreplay_us[0] = r->jreplay_us[1] = -1;
	if (ks == sizeof(struct fe_flow_key) &&
	    k->info[0].value_size == sizeof(struct fe_flow_val)) {
		/* side by side, twice each, the second figure kept */
		for (int i = 0; i < 2; i++) {
			cache_replay(b, keys, vals, got, ncpu, r->replay_us,
				     false);
			cache_replay(b, keys, vals, got, ncpu, r->jreplay_us,
				     true);
		}
	}
	free(keys);
	free(vals);
	return got ? t / got : 0;
}

static uint64_t cache_flows(struct agent *a)
{
	struct flowcache_stats st;

	flowcache__stats(a->fc, &st);
	return st.flows;
}

static uint64_t cache_exported(struct agent *a)
{
	struct flowcache_stats st;
	uint64_t n = 0;

	flowcache__stats(a->fc, &st);
	for (int i = 1; i < FE_END_MAX; i++)
		n += st.exported[i];
	return n;
}

static void bench_size(struct bench *b, uint64_t n, struct row *r)
{
	struct fill_progs p;
	struct fill_count c;
	struct kmaps k;
	uint64_t m0, m1, r0, e0;
	__u64 st0[FE_STAT_MAX] = { 0 }, st1[FE_STAT_MAX] = { 0 };
	double t0, empty;

	memset(r, 0, sizeof(*r));
	r->flows = n;
	bench_start(b);
	if (fill_progs_open(b->a.m, &p))
		die("open the meter programs by id", errno);
	/* baseline on the same set, then the agent's drain of a new fill */
	kmaps_open(b->a.m, &k);
	m0 = kmaps_memlock(&k);
	r->entries = bench_fill(b, &p, n, &c);
	m1 = kmaps_memlock(&k);
	kern_per_entry(&k, m0, m1, r->entries, &r->kern_b, &r->kern64_b);
	r->base_us = bare_read(b, &k, r->entries, &r->base_rss_b, r);
	kmaps_close(&k);
	malloc_trim(0);
	meter__stats(b->a.m, st0);
	bench_fill(b, &p, n, &c);
	meter__stats(b->a.m, st1);
	r->overflow = st1[FE_STAT_OVERFLOW] - st0[FE_STAT_OVERFLOW];
	r0 = rss_bytes();
	zero_w();
	t0 = now_us(CLOCK_MONOTONIC);
	agent__drain(&b->a);
	t0 = now_us(CLOCK_MONOTONIC) - t0;
	r->drain_us = t0 / r->entries;
	r->share_us = (t0 - kernel_us()) / r->entries;
	r->convs = cache_flows(&b->a);
	r->rss_b = r->convs ? (double)(rss_bytes() - r0) / r->convs : 0;
	/* CPU time (send() included), less that of the empty drain
	 * agent__stop() starts with: the swap's RCU wait is asleep, and its
	 * cost is the tick's, not the records'
	 */
	t0 = now_us(CLOCK_THREAD_CPUTIME_ID);
	agent__drain(&b->a);
	empty = now_us(CLOCK_THREAD_CPUTIME_ID) - t0;
	e0 = cache_exported(&b->a);
	t0 = now_us(CLOCK_THREAD_CPUTIME_ID);
	agent__stop(&b->a);
	r->records = cache_exported(&b->a) - e0;
	t0 = now_us(CLOCK_THREAD_CPUTIME_ID) - t0 - empty;
	r->export_us = r->records && t0 > 0 ? t0 / r->records : 0;
	fill_progs_close(&p);
	agent__close(&b->a);
	malloc_trim(0);
}

static void print_rows(const struct bench *b, const struct row *r, int n)
{
	printf("%8s %8s %8s %5s | %8s %8s %8s | %7s | %7s %7s | %7s %8s\n",
	       "flows", "entries", "convs", "ovf", "drain+", "agent", "bare",
	       "export", "agent", "bare", "kernel", "kernel");
	printf("%8s %8s %8s %5s | %8s %8s %8s | %7s | %7s %7s | %7s %8s\n", "",
	       "", "", "pkts", "cache us", "share us", "read us", "us/rec",
	       "B/flow", "B/entry", "B/entry", "@64 CPUs");
	for (int i = 0; i < n; i++)
		printf("%8llu %8llu %8llu %5llu | %8.3f %8.3f %8.3f | %7.3f | "
		       "%7.0f %7.0f | %7.0f %8.0f\n",
		       (unsigned long long)r[i].flows,
		       (unsigned long long)r[i].entries,
		       (unsigned long long)r[i].convs,
		       (unsigned long long)r[i].overflow, r[i].drain_us,
		       r[i].share_us, r[i].base_us, r[i].export_us, r[i].rss_b,
		       r[i].base_rss_b, r[i].kern_b, r[i].kern64_b);
	printf("\nthe cache alone (the entries of the bare read fed to a new "
	       "cache, no kernel): us per entry; journaled: a fixed region "
	       "with its journal and log, as in the pinned state\n");
	printf("%8s %12s %12s %12s %12s\n", "flows", "new convs",
	       "known convs", "journaled new", "known");
	for (int i = 0; i < n; i++)
		printf("%8llu %12.3f %12.3f %12.3f %12.3f\n",
		       (unsigned long long)r[i].flows, r[i].replay_us[0],
		       r[i].replay_us[1], r[i].jreplay_us[0],
		       r[i].jreplay_us[1]);
	(void)b;
}

/* Steady state: n flows active in every poll. */
static void bench_steady(struct bench *b, uint64_t n, int ticks)
{
	struct fill_progs p;
	struct fill_count c;
	__u64 st0[FE_STAT_MAX] = { 0 }, st1[FE_STAT_MAX] = { 0 };
	double wall = 0, cpu = 0, kern = 0, worst = 0;
	uint64_t entries = 0;

	bench_start(b);
	if (fill_progs_open(b->a.m, &p))
		die("open the meter programs by id", errno);
	bench_fill(b, &p, n, &c);
	agent__tick(&b->a);
	meter__stats(b->a.m, st0);
	for (int t = 0; t < ticks; t++) {
		double w0, c0, w;

		entries = bench_fill(b, &p, n, &c);
		w0 = now_us(CLOCK_MONOTONIC);
		c0 = now_us(CLOCK_THREAD_CPUTIME_ID);
		zero_w();
		agent__tick(&b->a);
		cpu += now_us(CLOCK_THREAD_CPUTIME_ID) - c0;
		kern += kernel_us();
		w = now_us(CLOCK_MONOTONIC) - w0;
		wall += w;
		if (w > worst)
			worst = w;
	}
	meter__stats(b->a.m, st1);
	printf("\nsteady state: %llu flows (%llu kernel entries) active in "
	       "each of %d polls of %d ms\n",
	       (unsigned long long)n, (unsigned long long)entries, ticks,
	       POLL_MS);
	printf("  tick (drain + cache + expiry): %.1f ms mean, %.1f ms worst; "
	       "%.3f us/entry, of which the agent's share %.3f us\n",
	       wall / ticks / 1e3, worst / 1e3, wall / ticks / entries,
	       (wall - kern) / ticks / entries);
	printf("  agent CPU share at a %d ms poll: %.2f core\n", POLL_MS,
	       cpu / ticks / (POLL_MS * 1e3));
	printf("  overflow: %llu packets; cached conversations %llu\n",
	       (unsigned long long)(st1[FE_STAT_OVERFLOW] -
				    st0[FE_STAT_OVERFLOW]),
	       (unsigned long long)cache_flows(&b->a));
	agent__close(&b->a);
	fill_progs_close(&p);
}

static int parse_sizes(uint64_t *s)
{
	const char *v = getenv("BENCH_SIZES");
	char buf[256], *save = NULL, *w;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", v && *v ? v : "10000,100000,1000000");
	for (w = strtok_r(buf, ",", &save); w && n < MAX_SIZES;
	     w = strtok_r(NULL, ",", &save))
		s[n++] = strtoull(w, NULL, 0);
	return n;
}

static void bench_cleanup(struct bench *b)
{
	char cmd[300];

	unlink(b->ini);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", b->pin);
	if (system(cmd))
		fprintf(stderr, "bench_agent: could not remove %s\n", b->pin);
}

/* BENCH_STATE (default "pinned,memory"): the agent's state modes to run,
 * side by side; m 0 pinned (journaled cache, stage and export log in the
 * state map), 1 memory. Prints the mode's heading.
 */
static bool bench_mode(struct bench *b, int m)
{
	const char *v = getenv("BENCH_STATE");
	const char *name = m ? "memory" : "pinned";

	if (v && *v && !strstr(v, name))
		return false;
	b->cfg.state_memory = m == 1;
	if (m == 0)
		printf("\n== state = pinned: %zu MiB of state map for max_flows "
		       "%u (%.0f B per conversation)\n",
		       persist__size_for(b->cfg.max_flows) >> 20,
		       b->cfg.max_flows,
		       (double)persist__size_for(b->cfg.max_flows) /
			       b->cfg.max_flows);
	else
		printf("\n== state = memory\n");
	return true;
}

int main(void)
{
	static struct bench b;
	static struct row rows[MAX_SIZES];
	uint64_t sizes[MAX_SIZES], max = 0, steady;
	int n = parse_sizes(sizes), ticks = (int)env_ul("BENCH_TICKS", 3);

	b.threads = (int)env_ul("BENCH_THREADS", sysconf(_SC_NPROCESSORS_ONLN));
	for (int i = 0; i < n; i++)
		if (sizes[i] > max)
			max = sizes[i];
	fe_log_init("bench_agent", false, FE_LOG_WARN);
	fe_log_hook_libbpf();
	bench_netns(&b);
	bench_sink(&b);
	calibrate_clock();
	steady = env_ul("BENCH_STEADY", max);
	if (steady > max)
		max = steady;
	/* room for every entry of the largest fill: nothing overflows; a
	 * cache (and pinned state) with room for every conversation
	 */
	bench_config(&b, max * 4 / 3 * 3 / 2 + 1024, max * 5 / 4 + 1024);
	printf("flowexp agent bench: %d CPUs, %d fill threads, UDP sink on "
	       "127.0.0.1:%d\n",
	       libbpf_num_possible_cpus(), b.threads, b.sink_port);
	printf("flows: 1/3 IPv4 TCP, 1/3 IPv6 TCP (egress meter), 1/3 IPv4 "
	       "TCP at both meters (2 entries); 1 packet each\n\n");
	for (int m = 0; m < 2; m++) {
		if (!bench_mode(&b, m))
			continue;
		for (int i = 0; i < n; i++) {
			bench_size(&b, sizes[i], &rows[i]);
			fprintf(stderr, "bench_agent: %s, %llu flows done\n",
				m ? "memory" : "pinned",
				(unsigned long long)sizes[i]);
		}
		print_rows(&b, rows, n);
	}
	printf("\ndrain+cache: agent__drain() per kernel entry (swap, batch "
	       "drain, cache); agent share: the part outside meter__drain()'s "
	       "own work\n(its callback, and what the agent does after it); "
	       "bare read: lookup-and-delete batches only (wall times)\n");
	printf("export: CPU time of agent__stop() (flush, records, IPFIX, UDP "
	       "send) per record, less an empty drain's\n");
	printf("agent B/flow: RSS growth per cached conversation; bare "
	       "B/entry: the bare reader's buffer\n");
	printf("ovf pkts: packets the meters put in overflow entries during "
	       "the agent's fill (fewer conversations)\n");
	printf("kernel: memlock growth of the live maps per entry (preallocated"
	       ": memlock per slot)\n");
	for (int m = 0; m < 2 && ticks > 0; m++)
		if (bench_mode(&b, m))
			bench_steady(&b, steady, ticks);
	bench_cleanup(&b);
	return 0;
}
