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
#include "log.h"
#include "opts.h"

#define VERSION "0.1"

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
			      "not exist"),
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

/* Returns whether the signal asks the agent to stop. */
static bool on_signal(struct agent *a, int sfd)
{
	struct signalfd_siginfo si;

	if (read(sfd, &si, sizeof(si)) != sizeof(si))
		return false;
	if (si.ssi_signo != SIGHUP)
		return true;
	agent__reload(a);
	return false;
}

/* How long poll() may wait: until the next tick, or sooner for flowctl. */
static int loop_timeout(const struct control *ctl, uint64_t next)
{
	uint64_t now = fe_clock_mono_ms();
	int t = next > now ? (int)(next - now) : 0;
	int c = control__timeout(ctl, now);

	return c >= 0 && c < t ? c : t;
}

/* Ticks every poll interval (on the monotonic clock, so a step of the wall
 * clock never stalls it) and serves signals and flowctl in between, in
 * steps short enough that a tick is never held up for long (flowctl stats
 * shows tick_late_max_ms).
 */
static void run_loop(struct agent *a, int sfd, struct control *ctl)
{
	struct pollfd p[2 + CONTROL_MAX_CLIENTS];
	uint64_t next = fe_clock_mono_ms(), now;
	bool stop = false;
	int n;

	while (!stop) {
		p[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		n = control__pollfds(ctl, p + 1, CONTROL_MAX_CLIENTS + 1);
		if (poll(p, n + 1, loop_timeout(ctl, next)) < 0 &&
		    errno != EINTR) {
			pr_warn("poll: %s\n", strerror(errno));
			break;
		}
		if (p[0].revents & POLLIN)
			stop = on_signal(a, sfd);
		control__serve(ctl, a, p + 1, n);
		now = fe_clock_mono_ms();
		if (stop || now < next)
			continue;
		if (now - next > a->tick_late_max_ms)
			a->tick_late_max_ms = now - next;
		next = now + agent__tick(a);
		control__ticked(ctl);
	}
}

/* The daemon proper; returns the exit code. */
static int run(const struct fe_config *cfg, const char *path, bool fg,
	       int verbose)
{
	static struct agent ag;
	struct agent *a = &ag;
	int level = cfg->log_level + verbose, sfd, rc = 1;
	struct control *ctl = NULL;

	fe_log_init("flowagent", !fg,
		    level > FE_LOG_DEBUG ? FE_LOG_DEBUG : level);
	fe_log_hook_libbpf();
	sfd = signals_open();
	if (agent__start(a, cfg, path))
		goto out;
	ctl = control__open(a->cfg.control_socket);
	if (!ctl)
		goto out;
	agent__sync_ifaces(a);
	pr_info("flowagent %s running: %d interfaces, %d collectors, poll %u "
		"ms\n",
		VERSION, a->cfg.nifaces, a->nexp, a->cfg.poll_interval_ms);
	run_loop(a, sfd, ctl);
	agent__stop(a);
	rc = 0;
out:
	if (ctl) {
		control__close(ctl);
		unlink(a->cfg.control_socket);
	}
	agent__close(a);
	if (sfd >= 0)
		close(sfd);
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
		printf("%s: configuration OK (%d interfaces, %d collectors)\n",
		       path, cfg.nifaces, cfg.ncoll);
		return 0;
	}
	return run(&cfg, path, fg, verbose);
}
