/* driver.c - main() for every fuzz target when libFuzzer is not used: feeds
 * LLVMFuzzerTestOneInput() with mutants of the target's seeds for a bounded
 * number of iterations and time, and reports one TAP result.
 *
 * Usage: fuzz_NAME [CORPUS_DIR | FILE]
 *   CORPUS_DIR  files added to the target's own seeds (fuzz_seed())
 *   FILE        runs that one input and nothing else (reproduces a crash)
 *   --write-seeds DIR   writes the target's seeds to DIR (a libFuzzer corpus)
 * Environment: FUZZ_ITERATIONS (default 200000), FUZZ_SECONDS (default 10),
 *   FUZZ_SEED (PRNG seed, default from the clock), FUZZ_MAX_LEN (default
 *   65536), FUZZ_ARTIFACT_DIR (where a crashing input is saved, default
 *   $TMPDIR or /tmp).
 * The same FUZZ_SEED, seeds and corpus give the same inputs, so a failure
 * printed as "(seed X)" replays with FUZZ_SEED=X.
 *
 * The fuzz_*.c files also build as real libFuzzer targets (without this
 * file), for example:
 *   make && clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *     -Iagent -Iebpf -Ictl selftests/fuzz/fuzz_config.c agent/config_*.c \
 *     agent/endpoint.c agent/hint.c agent/ie.c agent/log.c -linih -lbpf \
 *     -lxdp -o fuzz_config_lf
 *   mkdir -p corpus && .output/tests/fuzz_config --write-seeds corpus
 *   ./fuzz_config_lf -max_total_time=600 corpus
 * (link the agent sources the target needs).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
/* Seed i of the target into buf (at most cap bytes); 0 when there is none. */
size_t fuzz_seed(int i, uint8_t *buf, size_t cap) __attribute__((weak));
void __sanitizer_set_death_callback(void (*cb)(void)) __attribute__((weak));

#define MAX_SEEDS 1024
#define POOL_SIZE 64 /* recent mutants that mutations build upon */

struct input {
	uint8_t *data;
	size_t len;
};

static struct input seeds[MAX_SEEDS];
static int nseeds;
static struct input pool[POOL_SIZE];
static int npool;
static size_t max_len = 65536;
static uint64_t rng_state;

/* the input being run, for the crash handlers */
static const uint8_t *cur_data;
static size_t cur_len;
static char crash_path[4096];

/* splitmix64: small, fast, and the same everywhere for a given seed */
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static size_t rnd_below(size_t n)
{
	return n ? rnd() % n : 0;
}

static void add_input(struct input *set, int *n, int cap, const uint8_t *d,
		      size_t len)
{
	struct input *in;

	if (*n == cap) { /* full (pool only): replace one at random */
		in = &set[rnd_below(cap)];
		free(in->data);
	} else {
		in = &set[(*n)++];
	}
	in->data = malloc(len ? len : 1);
	if (!in->data) {
		perror("malloc");
		exit(1);
	}
	memcpy(in->data, d, len);
	in->len = len;
}

static int load_file(const char *path, uint8_t **data, size_t *len)
{
	struct stat st;
	FILE *f;

	f = fopen(path, "rb");
	if (!f)
		return -errno;
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
		fclose(f);
		return -EINVAL;
	}
	*data = malloc(st.st_size ? st.st_size : 1);
	if (!*data) {
		fclose(f);
		return -ENOMEM;
	}
	*len = fread(*data, 1, st.st_size, f);
	fclose(f);
	return 0;
}

static void load_corpus(const char *dir)
{
	char path[4096];
	struct dirent *de;
	uint8_t *d;
	size_t len;
	DIR *dh;

	dh = opendir(dir);
	if (!dh) {
		fprintf(stderr, "# corpus %s: %s\n", dir, strerror(errno));
		return;
	}
	while ((de = readdir(dh)) && nseeds < MAX_SEEDS) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (load_file(path, &d, &len))
			continue;
		add_input(seeds, &nseeds, MAX_SEEDS, d,
			  len > max_len ? max_len : len);
		free(d);
	}
	closedir(dh);
}

/* Bytes that mean something to text formats and to binary lengths. */
static const uint8_t magic[] = { '\n', ' ',  '\t', '[',	 ']',  '=', ':',
				 ';',  '#',  ',',  '0',	 '9',  '.', '-',
				 0,    0xff, 0x7f, 0x80, '\r', '%' };

/* Applies one random mutation to buf (len bytes used of max_len). */
static size_t mutate_once(uint8_t *buf, size_t len)
{
	const struct input *o;
	size_t pos, n, i;

	switch (rnd_below(9)) {
	case 0: /* flip a bit */
		if (len)
			buf[rnd_below(len)] ^= 1u << rnd_below(8);
		break;
	case 1: /* set a byte: random or meaningful */
		if (len)
			buf[rnd_below(len)] =
				rnd() & 1 ? (uint8_t)rnd()
					  : magic[rnd_below(sizeof(magic))];
		break;
	case 2: /* insert a few bytes */
		n = 1 + rnd_below(4);
		if (len + n > max_len)
			break;
		pos = rnd_below(len + 1);
		memmove(buf + pos + n, buf + pos, len - pos);
		for (i = 0; i < n; i++)
			buf[pos + i] =
				rnd() & 1 ? (uint8_t)rnd()
					  : magic[rnd_below(sizeof(magic))];
		len += n;
		break;
	case 3: /* delete a range */
		if (!len)
			break;
		pos = rnd_below(len);
		n = 1 + rnd_below(len - pos < 16 ? len - pos : 16);
		memmove(buf + pos, buf + pos + n, len - pos - n);
		len -= n;
		break;
	case 4: /* duplicate a range in place */
		if (!len)
			break;
		pos = rnd_below(len);
		n = 1 + rnd_below(len - pos < 64 ? len - pos : 64);
		if (len + n > max_len)
			break;
		memmove(buf + pos + n, buf + pos, len - pos);
		len += n;
		break;
	case 5: /* insert a chunk of another seed */
		o = &seeds[rnd_below(nseeds)];
		if (!o->len)
			break;
		i = rnd_below(o->len);
		n = 1 + rnd_below(o->len - i < 128 ? o->len - i : 128);
		if (len + n > max_len)
			break;
		pos = rnd_below(len + 1);
		memmove(buf + pos + n, buf + pos, len - pos);
		memcpy(buf + pos, o->data + i, n);
		len += n;
		break;
	case 6: /* splice: keep a prefix, continue with another's suffix */
		o = &seeds[rnd_below(nseeds)];
		pos = rnd_below(len + 1);
		i = rnd_below(o->len + 1);
		n = o->len - i;
		if (pos + n > max_len)
			n = max_len - pos;
		memcpy(buf + pos, o->data + i, n);
		len = pos + n;
		break;
	case 7: /* truncate */
		len = rnd_below(len + 1);
		break;
	default: /* overwrite with an interesting number */
		if (len >= 2) {
			static const uint16_t v[] = { 0,      1, 0x7fff, 0x8000,
						      0xffff, 4, 255,	 256 };
			uint16_t x = v[rnd_below(8)];

			pos = rnd_below(len - 1);
			memcpy(buf + pos, &x, 2);
		}
		break;
	}
	return len;
}

static void save_crash(void)
{
	int fd;

	if (!cur_data || !crash_path[0])
		return;
	fd = open(crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		if (write(fd, cur_data, cur_len) < 0) {
			/* nothing more a dying process can do */
		}
		close(fd);
		if (write(2, "# crashing input saved to ", 26) < 0 ||
		    write(2, crash_path, strlen(crash_path)) < 0 ||
		    write(2, "\n", 1) < 0) {
		}
	}
	cur_data = NULL;
}

static void on_signal(int sig)
{
	char msg[] = "# fatal signal NN\n";

	msg[15] = '0' + sig / 10 % 10;
	msg[16] = '0' + sig % 10;
	if (write(2, msg, sizeof(msg) - 1) < 0) {
	}
	save_crash();
	signal(sig, SIG_DFL);
	raise(sig);
}

static unsigned long long env_ull(const char *name, unsigned long long dflt)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : dflt;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Runs one input from a buffer of its exact size, so that ASan sees
 * overreads; a nonzero return fails the run.
 */
static int run_one(const uint8_t *d, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	int ret;

	if (!copy) {
		perror("malloc");
		exit(1);
	}
	memcpy(copy, d, len);
	cur_data = copy;
	cur_len = len;
	ret = LLVMFuzzerTestOneInput(copy, len);
	if (ret)
		save_crash();
	cur_data = NULL;
	free(copy);
	return ret;
}

static int write_seeds(const char *dir, uint8_t *buf)
{
	char path[4096];
	size_t len;
	FILE *f;
	int i;

	for (i = 0; fuzz_seed && (len = fuzz_seed(i, buf, max_len)); i++) {
		snprintf(path, sizeof(path), "%s/seed-%03d", dir, i);
		f = fopen(path, "wb");
		if (!f || fwrite(buf, 1, len, f) != len) {
			fprintf(stderr, "%s: %s\n", path, strerror(errno));
			return 1;
		}
		fclose(f);
	}
	printf("%d seeds written to %s\n", i, dir);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long long iters, seed, n = 0;
	const char *name = strrchr(argv[0], '/'), *dir;
	double start, secs, limit;
	uint8_t *buf;
	int i, failed = 0;
	size_t len;
	struct stat st;

	name = name ? name + 1 : argv[0];
	max_len = env_ull("FUZZ_MAX_LEN", 65536);
	if (max_len < 16)
		max_len = 16;
	iters = env_ull("FUZZ_ITERATIONS", 200000);
	limit = getenv("FUZZ_SECONDS") ? atof(getenv("FUZZ_SECONDS")) : 10;
	seed = env_ull("FUZZ_SEED", 0);
	if (!seed)
		seed = (unsigned long long)time(NULL) ^
		       ((unsigned long long)getpid() << 32);
	rng_state = seed;

	buf = malloc(max_len);
	if (!buf) {
		perror("malloc");
		return 1;
	}
	if (argc == 3 && !strcmp(argv[1], "--write-seeds")) {
		failed = write_seeds(argv[2], buf);
		free(buf);
		return failed;
	}
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);

	dir = getenv("FUZZ_ARTIFACT_DIR");
	if (!dir || !*dir)
		dir = getenv("TMPDIR");
	snprintf(crash_path, sizeof(crash_path), "%s/crash-%s-%llu",
		 dir && *dir ? dir : "/tmp", name, seed);
	signal(SIGSEGV, on_signal);
	signal(SIGBUS, on_signal);
	signal(SIGABRT, on_signal);
	signal(SIGFPE, on_signal);
	signal(SIGILL, on_signal);
	if (__sanitizer_set_death_callback)
		__sanitizer_set_death_callback(save_crash);

	printf("1..1\n");
	fflush(stdout);

	/* a single file: reproduce it */
	if (argc > 1 && !stat(argv[1], &st) && S_ISREG(st.st_mode)) {
		uint8_t *d;

		crash_path[0] = '\0'; /* it is saved already */
		if (load_file(argv[1], &d, &len)) {
			printf("not ok 1 - %s: cannot read %s\n", name,
			       argv[1]);
			return 1;
		}
		failed = run_one(d, len) != 0;
		free(d);
		free(buf);
		printf("%sok 1 - %s: 1 input from %s\n", failed ? "not " : "",
		       name, argv[1]);
		return failed;
	}

	for (i = 0; fuzz_seed && nseeds < MAX_SEEDS; i++) {
		len = fuzz_seed(i, buf, max_len);
		if (!len)
			break;
		add_input(seeds, &nseeds, MAX_SEEDS, buf, len);
	}
	if (argc > 1)
		load_corpus(argv[1]);
	if (!nseeds)
		add_input(seeds, &nseeds, MAX_SEEDS, (const uint8_t *)"", 0);

	start = now_s();
	/* every seed as it is, then the empty input */
	for (i = 0; i < nseeds && !failed; i++, n++)
		failed = run_one(seeds[i].data, seeds[i].len) != 0;
	if (!failed)
		failed = run_one(buf, 0) != 0, n++;

	while (!failed && n < iters) {
		const struct input *base;
		int k, nmut;

		if ((n & 255) == 0 && now_s() - start >= limit)
			break;
		base = npool && rnd() % 4 == 0 ? &pool[rnd_below(npool)]
					       : &seeds[rnd_below(nseeds)];
		len = base->len < max_len ? base->len : max_len;
		memcpy(buf, base->data, len);
		nmut = 1 + rnd_below(8);
		for (k = 0; k < nmut; k++)
			len = mutate_once(buf, len);
		failed = run_one(buf, len) != 0;
		n++;
		/* keep some mutants, so that mutations pile up */
		if (rnd() % 16 == 0)
			add_input(pool, &npool, POOL_SIZE, buf, len);
	}
	secs = now_s() - start;
	printf("%sok 1 - %s: %llu inputs in %.1f s (seed %llu)\n",
	       failed ? "not " : "", name, n, secs, seed);
	if (failed)
		printf("# the target returned nonzero on input %llu; replay "
		       "with FUZZ_SEED=%llu FUZZ_ITERATIONS=%llu\n",
		       n, seed, n);
	for (i = 0; i < nseeds; i++)
		free(seeds[i].data);
	for (i = 0; i < npool; i++)
		free(pool[i].data);
	free(buf);
	return failed;
}
