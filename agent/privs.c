/* privs.c - the capabilities flowagent keeps after start-up. Loading and
 * pinning the meters, mounting bpffs and the first attaches need more; the
 * loop needs only:
 *   CAP_NET_ADMIN  attach and detach meters as devices appear, are renamed
 *                  or go, and on reload (TCX links, tc filters, XDP);
 *   CAP_BPF, CAP_PERFMON  libxdp may load its dispatcher when it attaches
 *                  XDP to a new device;
 *   CAP_SYS_ADMIN  only with `netns`: setns() between the metered namespace
 *                  and the host's, where collector and metrics sockets made
 *                  after start-up (reconnects, reloads) live;
 *   CAP_NET_BIND_SERVICE  only when metrics_listen's port is below 1024.
 * The rest (CAP_DAC_OVERRIDE, CAP_SYS_RESOURCE, CAP_SYS_PTRACE, ...) goes.
 * libcap-ng does the capset ABI dance (versions, the bounding set) that
 * would otherwise be written by hand.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <linux/capability.h>
#include <cap-ng.h>
#include "log.h"
#include "privs.h"

/* The metrics endpoint's port, 0 when there is none. */
static unsigned int metrics_port(const struct fe_config *cfg)
{
	const struct sockaddr_storage *ss = &cfg->metrics_addr;

	if (!cfg->metrics_listen[0] || !cfg->metrics_addrlen)
		return 0;
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

struct kept {
	int cap;
	const char *name;
};

/* The capabilities cfg's agent needs; returns how many (at most 5). */
static int kept_caps(const struct fe_config *cfg, struct kept out[5])
{
	int n = 0;

	out[n++] = (struct kept){ CAP_NET_ADMIN, "cap_net_admin" };
	out[n++] = (struct kept){ CAP_BPF, "cap_bpf" };
	out[n++] = (struct kept){ CAP_PERFMON, "cap_perfmon" };
	if (cfg->netns[0])
		out[n++] = (struct kept){ CAP_SYS_ADMIN, "cap_sys_admin" };
	if (metrics_port(cfg) && metrics_port(cfg) < 1024)
		out[n++] = (struct kept){ CAP_NET_BIND_SERVICE,
					  "cap_net_bind_service" };
	return n;
}

const char *privs_kept(const struct fe_config *cfg, char *buf, size_t len)
{
	struct kept k[5];
	int n = kept_caps(cfg, k);
	size_t o = 0;

	buf[0] = 0;
	for (int i = 0; i < n && o < len; i++) {
		int w = snprintf(buf + o, len - o, "%s%s", i ? " " : "",
				 k[i].name);

		if (w < 0)
			break;
		o += (size_t)w;
	}
	return buf;
}

int privs_drop(const struct fe_config *cfg)
{
	struct kept k[5];
	int n = kept_caps(cfg, k), err;
	char names[128];

	capng_clear(CAPNG_SELECT_BOTH);
	for (int i = 0; i < n; i++)
		capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED,
			     k[i].cap);
	for (int i = 0; i < n; i++)
		capng_update(CAPNG_ADD, CAPNG_BOUNDING_SET, k[i].cap);
	err = capng_apply(CAPNG_SELECT_BOTH);
	if (err) {
		pr_warn("dropping capabilities failed (libcap-ng error %d); "
			"running with those flowagent started with\n",
			err);
		return -EPERM;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		pr_warn("no_new_privs: %s\n", strerror(errno));
	pr_info("capabilities kept: %s\n",
		privs_kept(cfg, names, sizeof(names)));
	return 0;
}
