/* netns.h - switching the calling thread between network namespaces, and
 * naming the current one.
 */
#ifndef FE_NETNS_H
#define FE_NETNS_H
#include <stdint.h>

/* Switches the calling thread to /run/netns/NAME; *old_fd (if not NULL)
 * receives an fd of the previous netns for fe_netns_restore().
 */
int fe_netns_enter(const char *name, int *old_fd);
int fe_netns_restore(int old_fd);
/* A socket(domain, type, protocol) made in the network namespace of the
 * fd in_ns, after which the thread moves to back_ns's (a socket stays in
 * the namespace it was made in); -1 for either: where the thread is.
 * Returns the socket or -errno.
 */
int fe_netns_socket(int in_ns, int back_ns, int domain, int type, int protocol);
/* Inode of the current network namespace (names per-netns pins). */
uint64_t fe_netns_ino(void);

#endif
