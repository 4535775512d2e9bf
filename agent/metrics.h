/* metrics.h - flowagent's Prometheus endpoint ([agent] metrics_listen):
 * GET /metrics over libmicrohttpd, run by the agent's own poll loop. The
 * loop polls metrics__fd() beside its other fds, bounds its timeout with
 * metrics__timeout() and calls metrics__serve() after every poll: a scrape
 * reads the agent between ticks, in the loop's thread, so it never sees a
 * tick half done and needs no lock.
 */
#ifndef FE_METRICS_H
#define FE_METRICS_H
#include "core.h"

struct metrics;

/* Makes *mp match a->cfg.metrics_listen: opens the endpoint (its socket
 * in the agent's own network namespace, a->host_ns, like the collectors'),
 * moves it to a new address or closes it when the key is empty. On error
 * *mp stays as it was (a reload keeps the old endpoint) and -errno comes
 * back with the reason logged.
 */
int metrics__sync(struct metrics **mp, const struct agent *a);
void metrics__free(struct metrics *m);
/* The fd to poll for input (MHD's epoll fd); -1 for m NULL (off). */
int metrics__fd(const struct metrics *m);
/* timeout_ms, or less when a connection times out sooner or MHD has work
 * pending (0).
 */
int metrics__timeout(const struct metrics *m, int timeout_ms);
/* Accepts, reads and answers what is ready, closes timed-out connections;
 * never blocks. No-op for m NULL.
 */
void metrics__serve(struct metrics *m, const struct agent *a);

#endif
