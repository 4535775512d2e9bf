/* clock.c - the agent's clocks (see clock.h for which serves what), read
 * through one source that tests can replace with a fake clock.
 */
#include <time.h>
#include "clock.h"

static uint64_t sys_ns(void *ctx, enum fe_clock_id id)
{
	static const clockid_t ids[] = {
		[FE_CLOCK_MONO] = CLOCK_MONOTONIC,
		[FE_CLOCK_UNIX] = CLOCK_REALTIME,
		[FE_CLOCK_BOOT] = CLOCK_BOOTTIME,
	};
	struct timespec ts;

	clock_gettime(ids[id], &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

static const struct fe_clock_src sys_src = { .ns = sys_ns };
static const struct fe_clock_src *src = &sys_src;

void fe_clock_set_src(const struct fe_clock_src *s)
{
	src = s ? s : &sys_src;
}

static uint64_t ts_ns(enum fe_clock_id id)
{
	return src->ns(src->ctx, id);
}

uint64_t fe_clock_mono_ns(void)
{
	return ts_ns(FE_CLOCK_MONO);
}

uint64_t fe_clock_mono_ms(void)
{
	return ts_ns(FE_CLOCK_MONO) / 1000000;
}

uint64_t fe_clock_unix_ms(void)
{
	return ts_ns(FE_CLOCK_UNIX) / 1000000;
}

uint32_t fe_clock_unix_s(void)
{
	return (uint32_t)(ts_ns(FE_CLOCK_UNIX) / 1000000000);
}

int64_t fe_clock_mono_to_unix_ns(void)
{
	/* bracket the realtime read to halve the error */
	int64_t m1 = (int64_t)ts_ns(FE_CLOCK_MONO);
	int64_t r = (int64_t)ts_ns(FE_CLOCK_UNIX);
	int64_t m2 = (int64_t)ts_ns(FE_CLOCK_MONO);

	return r - (m1 + m2) / 2;
}

void fe_clock_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

uint64_t fe_clock_boot_unix_ms(void)
{
	return (ts_ns(FE_CLOCK_UNIX) - ts_ns(FE_CLOCK_BOOT)) / 1000000;
}
