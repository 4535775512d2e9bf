/* netns.c - network namespaces: enter one by name, go back, make a socket
 * in another, and the inode that names the current one.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "netns.h"
#include "log.h"

int fe_netns_enter(const char *name, int *old_fd)
{
	char path[PATH_MAX];
	int fd, err;

	if (old_fd) {
		*old_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (*old_fd < 0)
			return -errno;
	}
	if (strchr(name, '/'))
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		pr_warn("open network namespace %s: %s\n", path,
			strerror(errno));
		goto fail;
	}
	/* the network namespace only: /sys (and its bpffs) stays the host's */
	if (setns(fd, CLONE_NEWNET)) {
		err = -errno;
		pr_warn("enter network namespace %s: %s\n", name,
			strerror(errno));
		close(fd);
		goto fail;
	}
	close(fd);
	return 0;
fail:
	if (old_fd && *old_fd >= 0) {
		close(*old_fd);
		*old_fd = -1;
	}
	return err;
}

int fe_netns_restore(int old_fd)
{
	int err = 0;

	if (old_fd < 0)
		return 0;
	if (setns(old_fd, CLONE_NEWNET))
		err = -errno;
	close(old_fd);
	return err;
}

int fe_netns_socket(int in_ns, int back_ns, int domain, int type, int protocol)
{
	int fd, err;

	if (in_ns >= 0 && setns(in_ns, CLONE_NEWNET))
		return -errno;
	fd = socket(domain, type, protocol);
	err = errno;
	if (back_ns >= 0 && setns(back_ns, CLONE_NEWNET))
		pr_warn("return to the metered network namespace: %s\n",
			strerror(errno));
	return fd < 0 ? -err : fd;
}

uint64_t fe_netns_ino(void)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st))
		return 0;
	return st.st_ino;
}
