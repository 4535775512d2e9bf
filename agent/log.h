/* log.h - leveled logging to stderr (foreground) or syslog (daemon). */
#ifndef FE_LOG_H
#define FE_LOG_H
#include <stdbool.h>

enum fe_log_level { FE_LOG_WARN = 0, FE_LOG_INFO = 1, FE_LOG_DEBUG = 2 };

/* to_syslog: false logs to stderr. level: messages above it are dropped. */
void fe_log_init(const char *ident, bool to_syslog, enum fe_log_level level);
enum fe_log_level fe_log_level(void);
/* A reload: messages above level are dropped from now on. */
void fe_log_set_level(enum fe_log_level level);
void fe_log(enum fe_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Routes libbpf's (and libxdp's) messages through fe_log one level down. */
void fe_log_hook_libbpf(void);

#define pr_warn(...) fe_log(FE_LOG_WARN, __VA_ARGS__)
#define pr_info(...) fe_log(FE_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) fe_log(FE_LOG_DEBUG, __VA_ARGS__)

#endif
