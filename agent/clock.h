/* clock.h - the agent's clocks, in one place: CLOCK_MONOTONIC schedules
 * and times out everything (a step of the wall clock must move nothing),
 * CLOCK_REALTIME only stamps what leaves the agent (record times, IPFIX
 * export time), and the offset between the two converts the meters'
 * bpf_ktime_get*_ns() stamps (CLOCK_MONOTONIC) to UNIX time.
 */
#ifndef FE_CLOCK_H
#define FE_CLOCK_H
#include <stdint.h>

enum fe_clock_id {
	FE_CLOCK_MONO, /* CLOCK_MONOTONIC */
	FE_CLOCK_UNIX, /* CLOCK_REALTIME */
	FE_CLOCK_BOOT, /* CLOCK_BOOTTIME */
};

/* Where every reading below comes from: ns of clock id. The system's
 * clocks unless a test sets a fake one (NULL: back to the system's); the
 * agent never sets it.
 */
struct fe_clock_src {
	uint64_t (*ns)(void *ctx, enum fe_clock_id id);
	void *ctx;
};
void fe_clock_set_src(const struct fe_clock_src *src);

uint64_t fe_clock_mono_ns(void);
uint64_t fe_clock_mono_ms(void);
/* UNIX time. */
uint64_t fe_clock_unix_ms(void);
uint32_t fe_clock_unix_s(void);
/* CLOCK_REALTIME - CLOCK_MONOTONIC in ns, measured now: add it to a
 * meter's timestamp for UNIX ns.
 */
int64_t fe_clock_mono_to_unix_ns(void);
/* The UNIX time in ms the system booted at (NetFlow v9's sysUptime
 * counts from it; CLOCK_BOOTTIME keeps counting through suspend).
 */
uint64_t fe_clock_boot_unix_ms(void);
/* Sleeps ms milliseconds (a short wait between retries). */
void fe_clock_sleep_ms(long ms);

#endif
