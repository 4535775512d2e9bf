/* bench_maps_sys.h - what bench_maps reads from the system around a
 * measurement: clocks, CPU pinning, kernel memory (map memlock, the memory
 * cgroup's kernel charge, /proc/meminfo) and the CPU time of kernel threads
 * (who pays a deferred free). Header-only: bench_maps is one translation
 * unit and every .c file under selftests/bench is its own program.
 */
#ifndef BENCH_MAPS_SYS_H
#define BENCH_MAPS_SYS_H

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>

static inline double bs_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static inline unsigned long bs_env_ul(const char *name, unsigned long def)
{
	const char *v = getenv(name);

	return v && *v ? strtoul(v, NULL, 0) : def;
}

/* Pins the calling thread; fills run on one CPU and drains on the other,
 * as the softirq and the agent would.
 */
static inline int bs_pin(int cpu, int ncpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu % ncpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

/* memlock: of a map fd (the kernel's own map_mem_usage()), in bytes. */
static inline long long bs_memlock(int fd)
{
	char path[64], line[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* The kernel memory charged to this process's memory cgroup (v1
 * memory.kmem.usage_in_bytes: slab, per-CPU and vmalloc of BPF maps are
 * all charged to the map's cgroup); -1 when not available. Per-CPU charge
 * stocks make it exact to about 256 KiB per CPU.
 */
static inline long long bs_kmem(void)
{
	static char path[512];
	char line[512];
	long long v = -1;
	FILE *f;

	if (!path[0]) {
		f = fopen("/proc/self/cgroup", "r");
		if (!f)
			return -1;
		while (fgets(line, sizeof(line), f)) {
			char *p = strstr(line, ":memory:");

			if (!p)
				continue;
			p[strcspn(p, "\n")] = 0;
			snprintf(path, sizeof(path),
				 "/sys/fs/cgroup/memory%s/"
				 "memory.kmem.usage_in_bytes",
				 p + 8);
		}
		fclose(f);
		if (!path[0])
			strcpy(path, "-");
	}
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* /proc/meminfo fields that BPF hash maps grow, in bytes. */
struct bs_meminfo {
	long long slab, percpu, vmalloc;
};

static inline void bs_meminfo(struct bs_meminfo *m)
{
	char line[256];
	long long kb;
	FILE *f = fopen("/proc/meminfo", "r");

	memset(m, 0, sizeof(*m));
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Slab: %lld", &kb) == 1)
			m->slab = kb * 1024;
		else if (sscanf(line, "Percpu: %lld", &kb) == 1)
			m->percpu = kb * 1024;
		else if (sscanf(line, "VmallocUsed: %lld", &kb) == 1)
			m->vmalloc = kb * 1024;
	}
	fclose(f);
}

/* CPU time (ms, tick-sampled) of all kernel threads (children of
 * kthreadd): kworkers, ksoftirqd, rcu threads. System-wide, so other
 * load on the machine shows up too.
 */
static inline double bs_kthreads_ms(void)
{
	long hz = sysconf(_SC_CLK_TCK);
	unsigned long long sum = 0;
	struct dirent *e;
	DIR *d = opendir("/proc");

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		unsigned long long ut, st;
		char path[300], buf[1024], *p;
		int ppid;
		FILE *f;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
		fclose(f);
		/* after "comm)": state ppid ... field 14 utime, 15 stime */
		if (!p || sscanf(p + 2,
				 "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
				 "%llu %llu",
				 &ppid, &ut, &st) != 3)
			continue;
		if (ppid == 2 || atoi(e->d_name) == 2)
			sum += ut + st;
	}
	closedir(d);
	return hz > 0 ? sum * 1000.0 / hz : 0;
}

/* This process's system CPU time (ms, tick-sampled). */
static inline double bs_self_sys_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3;
}

static inline int bs_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static inline double bs_median(double *v, int n)
{
	qsort(v, n, sizeof(*v), bs_cmp_double);
	return n ? v[n / 2] : 0;
}

#endif /* BENCH_MAPS_SYS_H */
