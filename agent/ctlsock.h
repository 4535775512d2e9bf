/* ctlsock.h - flowagent's unix control socket: one request line in; out a
 * status line ("OK" or "ERR message") and, after OK, the body in frames:
 * a 4-octet length in network order and that many octets, ended by a
 * frame of length 0. A reply without its end frame was cut off, and the
 * client says so. Requests: "rows PIN ROWSIZE [by_ifindex] FILTER" (the
 * rows of flowctl dump, struct dump_row each, ROWSIZE its size),
 * "stats PIN [json]", "flush PIN FILTER".
 * The server side serves many clients at once without blocking: each is a
 * struct ctlconn the poll loop drives.
 */
#ifndef FE_CTLSOCK_H
#define FE_CTLSOCK_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define FE_DEFAULT_CONTROL_SOCKET "/run/flowexp/flowagent.sock"

/* A client has CTLSOCK_REQUEST_MS after connecting to send its request,
 * and must take some of the queued reply every CTLSOCK_STALL_MS, or it is
 * dropped (a stopped `flowctl dump` cannot hold the agent's memory).
 */
#define CTLSOCK_REQUEST_MS 1000
#define CTLSOCK_STALL_MS 5000

/* Client. Passes each frame of the body to body (a nonzero return stops
 * and is returned). Returns 0 when the reply was OK and complete,
 * -ENOENT when no agent listens (or it serves another pin path), -EIO on
 * ERR and -EPIPE when the reply was cut off (both with a message on
 * stderr).
 */
typedef int (*ctlsock_body_fn)(void *ctx, const void *data, size_t len);
int ctlsock_request(const char *path, const char *line, ctlsock_body_fn body,
		    void *ctx);
/* A body function that writes the frames to the FILE *ctx. */
int ctlsock_print(void *ctx, const void *data, size_t len);

/* Server: a listening socket (root-only: mode 0600 in a 0700 directory),
 * non-blocking.
 */
int ctlsock_listen(const char *path);

struct ctlconn;
/* Accepts one client. NULL with errno (EAGAIN: none waiting). */
struct ctlconn *ctlconn__accept(int lfd, uint64_t now_ms);
void ctlconn__free(struct ctlconn *c);
int ctlconn__fd(const struct ctlconn *c);
/* What to poll for: POLLIN until the request came, POLLOUT while some of
 * the reply is queued, 0 otherwise.
 */
short ctlconn__events(const struct ctlconn *c);
/* Reads or writes what poll said is possible. Returns 1 when the request
 * line has just become complete (ctlconn__request()), 0, or -errno when
 * the client is gone or broke the protocol: drop it.
 */
int ctlconn__io(struct ctlconn *c, uint64_t now_ms);
const char *ctlconn__request(const struct ctlconn *c);
/* The reply: its status line first (no newline), then frames, then the
 * end. An ERR status takes no frames: the connection ends after it.
 * -ENOMEM when the reply cannot be queued.
 */
int ctlconn__status(struct ctlconn *c, const char *status);
int ctlconn__frame(struct ctlconn *c, const void *data, size_t len);
int ctlconn__end(struct ctlconn *c);
/* Octets queued and not yet sent. */
size_t ctlconn__queued(const struct ctlconn *c);
/* The reply ended and everything was sent: free it. */
bool ctlconn__done(const struct ctlconn *c);
/* The client missed its deadline (request, or taking the reply). */
bool ctlconn__stalled(struct ctlconn *c, uint64_t now_ms);
/* The next deadline, in ms of the clock given (UINT64_MAX: none, 0: call
 * ctlconn__stalled() to start one).
 */
uint64_t ctlconn__deadline(const struct ctlconn *c);

#endif
