/* flowagent.c - the daemon's command line and poll loop: reads the
 * configuration, starts the agent (core.c), ticks it every poll interval
 * and serves signals and flowctl's control socket between ticks. Signals:
 * TERM/INT export everything and exit, HUP reloads the configuration.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include "clock.h"
#include "control.h"
#include "core.h"
#include "ctlsock.h"
#include "log.h"
#include "privs.h"
#include "metrics.h"
#include "opts.h"

#define VERSION "0.1"
/* SIGTERM: how long the collectors' queues may take to drain after the
 * last export (misc/flowagent.service's TimeoutStopSec=30 covers it and
 * the export before it)
 */
#define STOP_DRAIN_MS 20000

/* The command line; main() copies it into its variables. */
struct agent_args {
	const char *config;
	bool foreground, check;
	int verbose;
};

static const struct agent_args agent_defaults = {
	.config = FE_DEFAULT_CONFIG,
};

static const struct opt_def agent_opts[] = {
	DEFINE_OPTION("config", OPT_STRING, struct agent_args, config,
		      .short_name = 'c', .metavar = "FILE",
		      .help = "configuration file; see flowexp.ini(5)",
		      .show_default = true),
	DEFINE_OPTION("foreground", OPT_FLAG, struct agent_args, foreground,
		      .short_name = 'f',
		      .help = "stay in the foreground and log to stderr; "
			      "otherwise log to syslog (facility daemon). The "
			      "agent does not fork: run it under a service "
			      "manager"),
	DEFINE_OPTION("verbose", OPT_COUNTER, struct agent_args, verbose,
		      .short_name = 'v',
		      .help = "raise the log level one step (repeatable)"),
	DEFINE_OPTION("check", OPT_FLAG, struct agent_args, check,
		      .help = "validate syntax and values and exit: 0 when "
			      "valid, 2 with FILE:LINE: MESSAGE otherwise. "
			      "Touches nothing on the system; interfaces need "
			      "not exist, and a collector's host name that "
			      "does not resolve now is a warning on stderr "
			      "(the agent retries it)"),
	END_OPTIONS
};

static const struct opt_cmd agent_cmd = {
	.name = "flowagent",
	.doc = "IPFIX flow exporter: meters the configured interfaces with "
	       "eBPF and exports flow records to the configured collectors.",
	.notes = "Signals: TERM/INT export every cached flow (forced end) and "
		 "exit; HUP reloads the configuration, keeping the flow "
		 "cache. See flowagent(8) and flowexp.ini(5).",
	.version = VERSION,
	OPTS_TABLE(agent),
};

/* TERM, INT and HUP arrive through a signalfd: the loop sees them between
 * ticks, never in the middle of one.
 */
static int signals_open(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &mask, SFD_CLOEXEC);
}

/* What the loop serves besides the agent. ctl_path is the path ctl
 * listens on: a reload may move the socket, and the exit unlinks the one
 * it made.
 */
struct daemon {
	struct agent *a;
	int sfd;
	struct control *ctl;
	char ctl_path[sizeof(((struct fe_config *)0)->control_socket)];
	struct metrics *mx;
	int verbose; /* -v given on the command line, added to log_level */
};

static void ctl_close(struct daemon *d)
{
	if (!d->ctl)
		return;
	control__close(d->ctl);
	unlink(d->ctl_path);
	d->ctl = NULL;
}

/* Listens on path; the old socket (and its clients) goes only once the
 * new one is up.
 */
static int ctl_open(struct daemon *d, const char *path)
{
	struct control *ctl = control__open(path);

	if (!ctl)
		return -errno;
	ctl_close(d);
	d->ctl = ctl;
	snprintf(d->ctl_path, sizeof(d->ctl_path), "%s", path);
	return 0;
}

/* SIGHUP: the agent reloads; the loop's own keys follow it. */
static void reload(struct daemon *d)
{
	struct agent *a = d->a;

	agent__reload(a);
	fe_log_set_level(a->cfg.log_level + d->verbose);
	if (strcmp(a->cfg.control_socket, d->ctl_path)) {
		if (ctl_open(d, a->cfg.control_socket))
			pr_warn("reload: control socket stays at %s\n",
				d->ctl_path);
		else
			pr_info("control socket moved to %s\n", d->ctl_path);
	}
	metrics__sync(&d->mx, a); /* metrics_listen */
}

/* Returns whether the signal asks the agent to stop. */
static bool on_signal(struct daemon *d)
{
	struct signalfd_siginfo si;

	if (read(d->sfd, &si, sizeof(si)) != sizeof(si))
		return false;
	if (si.ssi_signo != SIGHUP)
		return true;
	reload(d);
	return false;
}

/* How long poll() may wait: until the next tick, or sooner for flowctl's
 * clients or a scrape.
 */
static int loop_timeout(const struct daemon *d, uint64_t next)
{
	uint64_t now = fe_clock_mono_ms();
	int t = next > now ? (int)(next - now) : 0;
	int c = control__timeout(d->ctl, now);

	if (c >= 0 && c < t)
		t = c;
	return metrics__timeout(d->mx, t);
}

/* The collectors whose sockets wait for POLLOUT: their pollfds from p[0],
 * the exporters in who[]; returns how many.
 */
static int collectors_pollfds(struct agent *a, struct pollfd *p,
			      struct exporter **who)
{
	int n = 0;

	for (int i = 0; i < a->nexp; i++)
		if (exporter__pollfd(a->exp[i], &p[n]))
			who[n++] = a->exp[i];
	return n;
}

/* Right after poll(), before a reload can replace the exporters. */
static void collectors_writable(struct agent *a, const struct pollfd *p,
				struct exporter **who, int n)
{
	for (int i = 0; i < n; i++)
		if (p[i].revents)
			agent__on_writable(a, who[i], p[i].revents);
}

static size_t collectors_pending(struct agent *a)
{
	size_t n = 0;

	for (int i = 0; i < a->nexp; i++)
		n += exporter__pending(a->exp[i]);
	return n;
}

/* A signal while the stop waits for the collectors: SIGTERM or SIGINT
 * ends the wait; SIGHUP (a reload, too late now) does not.
 */
static bool stop_again(int sfd)
{
	struct signalfd_siginfo si;

	return read(sfd, &si, sizeof(si)) == sizeof(si) &&
	       si.ssi_signo != SIGHUP;
}

/* After SIGTERM's last export: waits at most STOP_DRAIN_MS for the
 * collectors that are up to take what is queued for them; a second
 * SIGTERM or SIGINT stops the wait.
 */
static void drain_collectors(struct agent *a, int sfd)
{
	uint64_t t0 = fe_clock_mono_ms(), end = t0 + STOP_DRAIN_MS, now;
	struct exporter *who[FE_MAX_COLLECTORS];
	size_t left;

	for (int i = 0; i < a->nexp; i++)
		exporter__finish(a->exp[i]);
	while ((left = collectors_pending(a))) {
		struct pollfd p[1 + FE_MAX_COLLECTORS] = {
			{ .fd = sfd, .events = POLLIN }
		};
		int n = collectors_pollfds(a, p + 1, who);

		now = fe_clock_mono_ms();
		if (now < end &&
		    poll(p, 1 + n, end - now < 100 ? end - now : 100) < 0 &&
		    errno != EINTR)
			return;
		if (now >= end ||
		    ((p[0].revents & POLLIN) && stop_again(sfd))) {
			pr_warn("stopping: %zu octets still queued for the "
				"collectors are lost (%s %d s)\n",
				left,
				now >= end ? "not taken within the stop's"
					   : "a second signal within",
				STOP_DRAIN_MS / 1000);
			return;
		}
		/* every collector with something left tries again (a UDP
		 * socket out of buffers polls no POLLOUT)
		 */
		for (int i = 0; i < a->nexp; i++)
			agent__on_writable(a, a->exp[i], 0);
	}
	pr_info("stopping: the collectors took what was queued in %llu ms\n",
		(unsigned long long)(fe_clock_mono_ms() - t0));
}

/* Ticks every poll interval (on the monotonic clock, so a step of the wall
 * clock never stalls it) and serves signals, flowctl and scrapes in
 * between, in steps short enough that a tick is never held up for long
 * (flowctl stats shows tick_late_max_ms).
 */
static void run_loop(struct daemon *d)
{
	struct pollfd p[3 + CONTROL_MAX_CLIENTS + FE_MAX_COLLECTORS];
	struct exporter *who[FE_MAX_COLLECTORS];
	uint64_t next = fe_clock_mono_ms(), now;
	struct agent *a = d->a;
	bool stop = false;
	int n, nw;

	while (!stop) {
		p[0] = (struct pollfd){ .fd = d->sfd, .events = POLLIN };
		n = control__pollfds(d->ctl, p + 1, CONTROL_MAX_CLIENTS + 1);
		p[n + 1] = (struct pollfd){ .fd = metrics__fd(d->mx),
					    .events = POLLIN };
		nw = collectors_pollfds(a, p + n + 2, who);
		if (poll(p, n + 2 + nw, loop_timeout(d, next)) < 0 &&
		    errno != EINTR) {
			pr_warn("poll: %s\n", strerror(errno));
			break;
		}
		collectors_writable(a, p + n + 2, who, nw);
		if (p[0].revents & POLLIN)
			stop = on_signal(d);
		control__serve(d->ctl, a, p + 1, n);
		metrics__serve(d->mx, a);
		now = fe_clock_mono_ms();
		if (stop || now < next)
			continue;
		if (now - next > a->tick_late_max_ms)
			a->tick_late_max_ms = now - next;
		next = now + agent__tick(a);
		control__ticked(d->ctl);
	}
}

/* The daemon proper; returns the exit code. */
static int run(const struct fe_config *cfg, const char *path, bool fg,
	       int verbose)
{
	static struct agent ag;
	struct daemon d = { .a = &ag, .verbose = verbose };
	int level = cfg->log_level + verbose, rc = 1;

	fe_log_init("flowagent", !fg,
		    level > FE_LOG_DEBUG ? FE_LOG_DEBUG : level);
	fe_log_hook_libbpf();
	d.sfd = signals_open();
	if (agent__start(d.a, cfg, path))
		goto out;
	/* the meters are loaded: from here on the loop's needs (privs.c) */
	privs_drop(&d.a->cfg);
	if (ctl_open(&d, d.a->cfg.control_socket) || metrics__sync(&d.mx, d.a))
		goto out;
	agent__sync_ifaces(d.a);
	pr_info("flowagent %s running: %d interfaces, %d collectors, poll %u "
		"ms\n",
		VERSION, d.a->cfg.nifaces, d.a->nexp,
		d.a->cfg.poll_interval_ms);
	run_loop(&d);
	agent__stop(d.a);
	drain_collectors(d.a, d.sfd);
	rc = 0;
out:
	metrics__free(d.mx);
	ctl_close(&d);
	agent__close(d.a);
	if (d.sfd >= 0)
		close(d.sfd);
	return rc;
}

int main(int argc, char **argv)
{
	static struct fe_config cfg;
	struct agent_args args;
	const char *path;
	bool fg, check;
	int verbose, c;
	char err[512];

	c = opts_parse(&agent_cmd, argc, argv, &args, NULL);
	if (c)
		return opts_exit_code(c);
	path = args.config;
	fg = args.foreground;
	check = args.check;
	verbose = args.verbose;
	if (fe_config_load(path, &cfg, err, sizeof(err))) {
		fprintf(stderr, "flowagent: %s\n", err);
		return 2;
	}
	if (check) {
		fe_config_check_names(&cfg, path, stderr);
		printf("%s: configuration OK (%d interfaces, %d collectors)\n",
		       path, cfg.nifaces, cfg.ncoll);
		return 0;
	}
	return run(&cfg, path, fg, verbose);
}
