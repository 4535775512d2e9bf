/* clock.c - the agent's clocks (see clock.h for which serves what). */
#include <time.h>
#include "clock.h"

static uint64_t ts_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

uint64_t fe_clock_mono_ns(void)
{
	return ts_ns(CLOCK_MONOTONIC);
}

uint64_t fe_clock_mono_ms(void)
{
	return ts_ns(CLOCK_MONOTONIC) / 1000000;
}

uint64_t fe_clock_unix_ms(void)
{
	return ts_ns(CLOCK_REALTIME) / 1000000;
}

uint32_t fe_clock_unix_s(void)
{
	return (uint32_t)(ts_ns(CLOCK_REALTIME) / 1000000000);
}

int64_t fe_clock_mono_to_unix_ns(void)
{
	/* bracket the realtime read to halve the error */
	int64_t m1 = (int64_t)ts_ns(CLOCK_MONOTONIC);
	int64_t r = (int64_t)ts_ns(CLOCK_REALTIME);
	int64_t m2 = (int64_t)ts_ns(CLOCK_MONOTONIC);

	return r - (m1 + m2) / 2;
}

void fe_clock_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

uint64_t fe_clock_boot_unix_ms(void)
{
	return (ts_ns(CLOCK_REALTIME) - ts_ns(CLOCK_BOOTTIME)) / 1000000;
}
