/* flowagent.c - the daemon: attaches the configured meters, drains them
 * every poll interval into the flow cache and exports expired flows as
 * IPFIX to every collector. Signals: TERM/INT export all and exit, HUP
 * reloads the configuration.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include "agent.h"
#include "ctlsock.h"
#include "dumpfmt.h"
#include "log.h"
#include "netns.h"

#define VERSION "0.1"

static uint64_t clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Record times are UNIX ms; ticks are scheduled on the monotonic clock so
 * a step of the wall clock never stalls the drain loop.
 */
static uint64_t unix_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

static uint64_t mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

void agent_emit(void *ctx, const struct fe_conv *c, uint8_t end_reason)
{
	struct agent *a = ctx;

	for (int i = 0; i < a->nexp; i++)
		exporter__conv(a->exp[i], c, end_reason, a->now_ms / 1000);
}

/* One drained entry, waiting to be fed to the cache in time order. */
struct pending {
	uint64_t first_ns;
	struct fe_obs o;
};

struct drain_ctx {
	struct agent *a;
	int64_t off; /* CLOCK_MONOTONIC -> UNIX, ns, measured this tick */
	struct pending *p;
	size_t n, cap;
};

static int on_entry(void *ctx, const struct fe_flow_key *k,
		    const struct fe_flow_val *v)
{
	struct drain_ctx *d = ctx;

	/* The egress map was full, but the ingress meter of the link the
	 * packet came in by counted it (in a flow or its own overflow entry):
	 * counting the egress overflow too would count it twice.
	 */
	if ((k->flags & FE_KEY_OVERFLOW) && k->dir == FE_DIR_EGRESS &&
	    k->in_ifindex &&
	    flowcache__ingress_metered(d->a->fc, k->in_ifindex)) {
		d->a->overflow_dup += v->packets;
		return 0;
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 1024;
		struct pending *p = realloc(d->p, cap * sizeof(*p));

		if (!p) {
			pr_warn("drain: out of memory; %llu packets of a flow "
				"lost\n",
				(unsigned long long)v->packets);
			return 0;
		}
		d->p = p;
		d->cap = cap;
	}
	struct pending *p = &d->p[d->n++];
	p->first_ns = v->first_ns;
	p->o = (struct fe_obs){
		.key = *k,
		.packets = v->packets,
		.octets = v->octets,
		.first_ms = (uint64_t)((int64_t)v->first_ns + d->off) / 1000000,
		.last_ms = (uint64_t)((int64_t)v->last_ns + d->off) / 1000000,
		.tcp_flags = v->tcp_flags,
		.tos = v->tos,
		.ttl_min = v->ttl_min,
		.ttl_max = v->ttl_max,
		.vflags = v->vflags,
		.flow_label = v->flow_label,
	};
	return 0;
}

/* First packet first. Both directions can carry the same timestamp (the
 * meters may use the coarse clock, one tick per jiffy): then the side
 * sending from the higher (ephemeral-looking) port to the lower one goes
 * first, the usual client-to-service orientation.
 */
static int cmp_first(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;
	int xc = x->o.key.sport > x->o.key.dport;
	int yc = y->o.key.sport > y->o.key.dport;

	if (x->first_ns != y->first_ns)
		return x->first_ns < y->first_ns ? -1 : 1;
	return yc - xc;
}

int agent_drain(struct agent *a)
{
	static struct drain_ctx d;
	int n;

	d.a = a;
	d.off = fe_mono_to_unix_ns();
	d.n = 0;
	a->now_ms = unix_ms();
	n = meter__drain(a->m, on_entry, &d);
	if (n < 0) {
		a->drain_errors++;
		return n;
	}
	/* in first-packet order: "the side seen first" is the initiator even
	 * when both directions arrive in one drain
	 */
	qsort(d.p, d.n, sizeof(*d.p), cmp_first);
	for (size_t i = 0; i < d.n; i++)
		flowcache__add(a->fc, &d.p[i].o, a->now_ms, agent_emit, a);
	a->drained += n;
	return n;
}

static struct flowcache_cfg cache_cfg(const struct fe_config *c)
{
	struct flowcache_cfg fc = {
		.idle_timeout_ms = (uint64_t)c->idle_timeout * 1000,
		.active_timeout_ms = (uint64_t)c->active_timeout * 1000,
		.end_grace_ms = c->end_grace_ms,
		.max_flows = c->max_flows,
	};
	return fc;
}

static enum meter_ingress meter_ing(enum fe_ingress i)
{
	return i == FE_INGRESS_XDP  ? METER_INGRESS_XDP
	       : i == FE_INGRESS_TC ? METER_INGRESS_TC
				    : METER_INGRESS_NONE;
}

/* The cache must know exactly which interfaces have an ingress meter (a
 * forwarded packet is then seen twice). Taken from the kernel, not the
 * configuration: meters attached by flowctl to the same set count too.
 */
static void refresh_ingress(struct agent *a)
{
	struct meter_attachment at[FE_MAX_IFACES * 4];
	int n = meter__attachments(a->m, at, FE_MAX_IFACES * 4);

	if (n < 0)
		return;
	for (int i = 0; i < a->n_ing_if; i++)
		flowcache__set_ingress_metered(a->fc, a->ing_if[i], false);
	a->n_ing_if = 0;
	for (int i = 0; i < n; i++) {
		if (!at[i].ingress_xdp && !at[i].ingress_tc)
			continue;
		a->ing_if[a->n_ing_if++] = at[i].ifindex;
		flowcache__set_ingress_metered(a->fc, at[i].ifindex, true);
	}
}

/* Attaches configured interfaces that are not (yet, or any more) metered;
 * notices interfaces that went away. Runs every tick: cheap lookups.
 */
static void check_interfaces(struct agent *a)
{
	bool changed = false;

	for (int i = 0; i < a->cfg.nifaces; i++) {
		struct agent_if *ai = &a->ifs[i];
		const char *name = a->cfg.ifaces[i];
		int idx = if_nametoindex(name);

		if (ai->ifindex && idx == ai->ifindex)
			continue;
		if (ai->ifindex && idx != ai->ifindex) {
			pr_warn("interface %s (ifindex %d) is gone; metering "
				"the other interfaces\n",
				name, ai->ifindex);
			ai->ifindex = 0;
			ai->warned = false;
		}
		if (!idx) {
			if (!ai->warned)
				pr_warn("interface %s does not exist; it will "
					"be metered when it appears\n",
					name);
			ai->warned = true;
			continue;
		}
		if (meter__attach(a->m, name, meter_ing(a->cfg.ingress),
				  a->cfg.xdp_skb_mode)) {
			if (!ai->warned)
				pr_warn("interface %s: attach failed (see "
					"above); retrying every tick\n",
					name);
			ai->warned = true;
			continue;
		}
		ai->ifindex = idx;
		ai->warned = false;
		ai->ingress = a->cfg.ingress != FE_INGRESS_OFF;
		changed = true;
		pr_info("metering %s (ifindex %d): egress tc%s%s\n", name, idx,
			ai->ingress ? ", ingress " : "",
			ai->ingress ? fe_ingress_name(a->cfg.ingress) : "");
	}
	if (changed)
		refresh_ingress(a);
}

/* Fills out[] for cfg's collectors, taking unchanged ones from a->exp
 * (same socket, same sequence). On failure everything taken goes back and
 * the new ones are freed: the running set stays as it was.
 */
static int open_exporters(struct agent *a, const struct fe_config *cfg,
			  struct exporter **out)
{
	int taken[FE_MAX_COLLECTORS];

	for (int i = 0; i < cfg->ncoll; i++) {
		out[i] = NULL;
		taken[i] = -1;
		for (int j = 0; j < a->nexp; j++) {
			if (a->exp[j] &&
			    !exporter__differs(a->exp[j], cfg, i)) {
				out[i] = a->exp[j];
				a->exp[j] = NULL;
				taken[i] = j;
				break;
			}
		}
		if (!out[i])
			out[i] = exporter__new(cfg, i);
		if (out[i])
			continue;
		pr_warn("collector %s: %s\n", cfg->coll[i].name,
			strerror(errno));
		for (int k = 0; k < i; k++) {
			if (taken[k] >= 0)
				a->exp[taken[k]] = out[k];
			else
				exporter__free(out[k]);
		}
		return -1;
	}
	return 0;
}

static void reload(struct agent *a)
{
	struct fe_config *n = malloc(sizeof(*n));
	struct exporter *exp[FE_MAX_COLLECTORS];
	char err[512];
	struct flowcache_cfg fcc;

	if (!n)
		return;
	if (fe_config_load(a->cfg_path, n, err, sizeof(err))) {
		pr_warn("reload refused, keeping the running configuration: "
			"%s\n",
			err);
		free(n);
		return;
	}
	if (strcmp(n->pin_path, a->cfg.pin_path) ||
	    strcmp(n->netns, a->cfg.netns)) {
		pr_warn("reload refused: pin_path and netns need a restart\n");
		free(n);
		return;
	}
	if (open_exporters(a, n, exp)) {
		pr_warn("reload refused: collectors could not be opened\n");
		free(n);
		return;
	}
	/* the old collectors get what is queued for them, then go */
	for (int i = 0; i < a->nexp; i++)
		exporter__free(a->exp[i]);
	memcpy(a->exp, exp, sizeof(exp));
	a->nexp = n->ncoll;
	/* interfaces no longer configured are detached */
	for (int i = 0; i < a->cfg.nifaces; i++) {
		bool keep = false;

		for (int j = 0; j < n->nifaces; j++)
			keep |= !strcmp(a->cfg.ifaces[i], n->ifaces[j]);
		if (!keep && a->ifs[i].ifindex)
			meter__detach(a->m, NULL, a->ifs[i].ifindex);
	}
	memset(a->ifs, 0, sizeof(a->ifs));
	fcc = cache_cfg(n);
	flowcache__set_cfg(a->fc, &fcc);
	a->cfg = *n;
	free(n);
	check_interfaces(a);
	refresh_ingress(a);
	pr_info("configuration reloaded from %s\n", a->cfg_path);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: flowagent [-c FILE] [-f] [-v...] [--check] "
		"[--version]\n"
		"IPFIX flow exporter: meters the configured interfaces with "
		"eBPF and\n"
		"exports flow records to the configured collectors.\n"
		"  -c, --config FILE  configuration (default %s)\n"
		"  -f, --foreground   stay in the foreground, log to stderr\n"
		"                     (default: log to syslog)\n"
		"  -v, --verbose      more messages (repeat for debug)\n"
		"      --check        validate the configuration and exit (0 "
		"ok, 2 bad);\n"
		"                     touches nothing on the system\n"
		"  -h, --help         this help\n"
		"Signals: TERM/INT export every cached flow (forced end) and "
		"exit;\n"
		"HUP reloads the configuration, keeping the flow cache.\n"
		"See flowagent(8) and flowexp.ini(5).\n",
		FE_DEFAULT_CONFIG);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "check", no_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	static struct agent ag;
	struct agent *a = &ag;
	const char *path = FE_DEFAULT_CONFIG;
	bool fg = false, check = false;
	int verbose = 0, c, lfd = -1, sfd, rc = 1;
	char err[512];
	sigset_t mask;

	while ((c = getopt_long(argc, argv, "c:fvh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			fg = true;
			break;
		case 'v':
			verbose++;
			break;
		case 'C':
			check = true;
			break;
		case 'V':
			printf("flowagent %s\n", VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "flowagent: unexpected argument '%s'\n",
			argv[optind]);
		return 2;
	}
	if (fe_config_load(path, &a->cfg, err, sizeof(err))) {
		fprintf(stderr, "flowagent: %s\n", err);
		return 2;
	}
	if (check) {
		printf("%s: configuration OK (%d interfaces, %d collectors)\n",
		       path, a->cfg.nifaces, a->cfg.ncoll);
		return 0;
	}
	a->cfg_path = path;
	int level = a->cfg.log_level + verbose;
	fe_log_init("flowagent", !fg,
		    level > FE_LOG_DEBUG ? FE_LOG_DEBUG : level);
	fe_log_hook_libbpf();
	a->host_ns = a->meter_ns = -1;

	/* signals through a signalfd: the loop sees them between ticks */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);

	/* collectors' sockets live in the host namespace */
	if (open_exporters(a, &a->cfg, a->exp))
		return 1;
	a->nexp = a->cfg.ncoll;
	if (a->cfg.netns[0]) {
		if (fe_netns_enter(a->cfg.netns, &a->host_ns))
			goto out;
		a->meter_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		exporter_set_netns(a->host_ns, a->meter_ns);
	}
	a->m = meter__open(
		a->cfg.pin_path, a->cfg.kernel_max_flows,
		METER_F_CREATE | (a->cfg.precise_ts ? METER_F_PRECISE_TS : 0));
	if (!a->m) {
		pr_warn("meter set %s: %s\n", a->cfg.pin_path, strerror(errno));
		goto out;
	}
	/* two drainers of one set would race each other's swaps */
	int lerr = meter__lock(a->m);
	if (lerr) {
		pr_warn("meter set %s: %s\n", a->cfg.pin_path,
			lerr == -EWOULDBLOCK ? "another flowagent drains it "
					       "(one agent per pin_path)"
					     : strerror(-lerr));
		goto out;
	}
	if (meter__max_flows(a->m) != a->cfg.kernel_max_flows)
		pr_info("reusing the pinned meter set %s with %u flows per map "
			"(kernel_max_flows = %u applies to a new set)\n",
			a->cfg.pin_path, meter__max_flows(a->m),
			a->cfg.kernel_max_flows);
	struct flowcache_cfg fcc = cache_cfg(&a->cfg);
	a->fc = flowcache__new(&fcc);
	if (!a->fc) {
		pr_warn("flow cache: %s\n", strerror(errno));
		goto out;
	}
	lfd = ctlsock_listen(a->cfg.control_socket);
	if (lfd < 0)
		goto out;
	check_interfaces(a);
	pr_info("flowagent %s running: %d interfaces, %d collectors, poll %u "
		"ms\n",
		VERSION, a->cfg.nifaces, a->nexp, a->cfg.poll_interval_ms);

	uint64_t next = mono_ms();
	bool stop = false;
	while (!stop) {
		uint64_t now = mono_ms();
		struct pollfd p[2] = { { .fd = sfd, .events = POLLIN },
				       { .fd = lfd, .events = POLLIN } };
		int timeout = next > now ? (int)(next - now) : 0;

		if (poll(p, 2, timeout) < 0 && errno != EINTR) {
			pr_warn("poll: %s\n", strerror(errno));
			break;
		}
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP)
					reload(a);
				else
					stop = true;
			}
		}
		if (p[1].revents & POLLIN) {
			char line[1024];
			int fd = ctlsock_accept(lfd, line, sizeof(line));

			if (fd >= 0)
				control_handle(a, fd, line);
		}
		if (stop || mono_ms() < next)
			continue;
		/* the tick */
		__u64 st[FE_STAT_MAX] = { 0 };
		unsigned int interval = a->cfg.poll_interval_ms;

		a->ticks++;
		check_interfaces(a);
		/* meters flowctl attached or detached meanwhile */
		if (a->ticks % 10 == 0)
			refresh_ingress(a);
		agent_drain(a);
		flowcache__expire(a->fc, a->now_ms, agent_emit, a);
		for (int i = 0; i < a->nexp; i++)
			exporter__tick(a->exp[i], a->now_ms / 1000);
		/* the flow map filled up: drain sooner until it stops */
		if (!meter__stats(a->m, st) &&
		    st[FE_STAT_OVERFLOW] != a->last_overflow) {
			a->last_overflow = st[FE_STAT_OVERFLOW];
			interval = interval / 4 > 10 ? interval / 4 : 10;
			a->early_drains++;
		}
		next = mono_ms() + interval;
	}
	/* shutdown: everything counted so far goes out as forced end */
	pr_info("stopping: draining and exporting every cached flow\n");
	agent_drain(a);
	flowcache__flush(a->fc, NULL, a->now_ms, agent_emit, a);
	for (int i = 0; i < a->nexp; i++)
		exporter__tick(a->exp[i], a->now_ms / 1000);
	rc = 0;
out:
	if (lfd >= 0) {
		close(lfd);
		unlink(a->cfg.control_socket);
	}
	for (int i = 0; i < a->nexp; i++)
		exporter__free(a->exp[i]);
	flowcache__free(a->fc);
	meter__close(a->m);
	return rc;
}
