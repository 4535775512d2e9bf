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
/* Inode of the current network namespace (names per-netns pins). */
uint64_t fe_netns_ino(void);

#endif
