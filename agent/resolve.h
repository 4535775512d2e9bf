/* resolve.h - a collector's host name looked up off the drain loop: one
 * short-lived thread per lookup, in the network namespace the collector's
 * sockets are made in (the host's, not the metered one), handing back one
 * address.
 */
#ifndef FE_RESOLVE_H
#define FE_RESOLVE_H
#include <stdint.h>
#include <sys/socket.h>

struct fe_resolve;

/* Starts looking up host (port, SOCK_DGRAM or SOCK_STREAM, any family,
 * the first answer) in the network namespace of the fd ns_fd (-1: the
 * caller's); the fd is duplicated. NULL + errno when no thread starts.
 */
struct fe_resolve *fe_resolve__start(const char *host, uint16_t port,
				     int socktype, int ns_fd);
/* 0 while the lookup runs; 1 with the address in ss and *len; -1 when it
 * failed, with the reason in *why (valid until fe_resolve__free()).
 */
int fe_resolve__poll(const struct fe_resolve *r, struct sockaddr_storage *ss,
		     socklen_t *len, const char **why);
/* The caller is done with r: a lookup still running finishes in its
 * thread, which then frees it.
 */
void fe_resolve__free(struct fe_resolve *r);

#endif
