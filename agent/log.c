/* log.c - leveled logging to stderr or syslog, and the libbpf print hook. */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "log.h"

static bool use_syslog;
static enum fe_log_level cur_level = FE_LOG_WARN;

void fe_log_init(const char *ident, bool to_syslog, enum fe_log_level level)
{
	use_syslog = to_syslog;
	cur_level = level;
	if (to_syslog)
		openlog(ident, LOG_PID, LOG_DAEMON);
}

enum fe_log_level fe_log_level(void)
{
	return cur_level;
}

void fe_log_set_level(enum fe_log_level level)
{
	cur_level = level > FE_LOG_DEBUG ? FE_LOG_DEBUG : level;
}

static void fe_vlog(enum fe_log_level level, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_WARNING, LOG_INFO, LOG_DEBUG };

	if (level > cur_level)
		return;
	if (use_syslog) {
		vsyslog(prio[level], fmt, ap);
		return;
	}
	vfprintf(stderr, fmt, ap);
}

void fe_log(enum fe_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fe_vlog(level, fmt, ap);
	va_end(ap);
}

/* libbpf and libxdp warn about things we handle (probes, the libxdp
 * dispatcher this kernel refuses, a missing clsact qdisc): their messages
 * are debug output. Our own message says what failed.
 */
static int libbpf_print(enum libbpf_print_level level __attribute__((unused)),
			const char *fmt, va_list ap)
{
	enum fe_log_level l = FE_LOG_DEBUG;

	fe_vlog(l, fmt, ap);
	return 0;
}

static int libxdp_print(enum libxdp_print_level level __attribute__((unused)),
			const char *fmt, va_list ap)
{
	enum fe_log_level l = FE_LOG_DEBUG;

	fe_vlog(l, fmt, ap);
	return 0;
}

void fe_log_hook_libbpf(void)
{
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}
