/* control.h - flowagent's answers to flowctl over the control socket,
 * served by the poll loop between ticks without blocking it.
 */
#ifndef FE_CONTROL_H
#define FE_CONTROL_H
#include <poll.h>
#include "core.h"

/* Clients served at once; more are refused ("ERR busy"). */
#define CONTROL_MAX_CLIENTS 8

struct control;

/* Listens on path. NULL with errno (the reason logged). */
struct control *control__open(const char *path);
void control__close(struct control *ctl);
/* The fds to poll: p[0] the listening socket, then the clients; returns
 * how many (at most max, and 1 + CONTROL_MAX_CLIENTS are enough).
 */
int control__pollfds(struct control *ctl, struct pollfd *p, int max);
/* How long the loop may sleep for the clients' sake: 0 when dump rows are
 * wanted now, -1 for as long as it likes.
 */
int control__timeout(const struct control *ctl, uint64_t now_ms);
/* After poll() on control__pollfds()'s p[0..n): reads requests, answers
 * stats and flush at once, writes, drops clients past their deadlines,
 * and makes dump rows for about 2 ms at most.
 */
void control__serve(struct control *ctl, struct agent *a,
		    const struct pollfd *p, int n);
/* A tick drained the meters: dumps that waited for it start. */
void control__ticked(struct control *ctl);

#endif
