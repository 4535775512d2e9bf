/* ctlsock.h - flowagent's unix control socket: one request line in, a
 * status line ("OK" or "ERR message") and the body out, then close.
 * Requests: "dump PIN [by_ifindex] [json]", "stats PIN", "flush PIN FILTER".
 */
#ifndef FE_CTLSOCK_H
#define FE_CTLSOCK_H
#include <stdio.h>

#define FE_DEFAULT_CONTROL_SOCKET "/run/flowexp/flowagent.sock"

/* Client. Copies the body to out. Returns 0 on OK, -ENOENT when no agent
 * listens (or it serves another pin path), -EIO on ERR (message on stderr).
 */
int ctlsock_request(const char *path, const char *line, FILE *out);

/* Server: a listening socket (root-only: mode 0600 in a 0700 directory). */
int ctlsock_listen(const char *path);
/* Sends len bytes to a client within 2 s in all, then closes fd. */
void ctlsock_reply(int fd, const char *buf, size_t len);
/* Accepts one client and reads its request line (NUL-terminated, at most
 * len-1 bytes). Returns the connected fd or -errno.
 */
int ctlsock_accept(int lfd, char *line, size_t len);

#endif
