/* flowagent.c - the daemon's command line and poll loop: reads the
 * configuration, starts the agent (core.c), ticks it every poll interval
 * and serves signals and flowctl's control socket between ticks. Signals:
 * TERM/INT export everything and exit, HUP reloads the configuration.
 */
#include <errno.h>
#include <getopt.h>
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

#define VERSION "0.1"

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

static void on_control(struct agent *a, int lfd)
{
	char line[1024];
	int fd = ctlsock_accept(lfd, line, sizeof(line));

	if (fd >= 0)
		control_handle(a, fd, line);
}

/* Ticks every poll interval (on the monotonic clock, so a step of the wall
 * clock never stalls it) and serves signals and flowctl in between.
 */
static void run_loop(struct agent *a, int sfd, int lfd)
{
	uint64_t next = fe_clock_mono_ms();
	bool stop = false;

	while (!stop) {
		uint64_t now = fe_clock_mono_ms();
		struct pollfd p[2] = { { .fd = sfd, .events = POLLIN },
				       { .fd = lfd, .events = POLLIN } };
		int timeout = next > now ? (int)(next - now) : 0;

		if (poll(p, 2, timeout) < 0 && errno != EINTR) {
			pr_warn("poll: %s\n", strerror(errno));
			break;
		}
		if (p[0].revents & POLLIN)
			stop = on_signal(a, sfd);
		if (p[1].revents & POLLIN)
			on_control(a, lfd);
		if (stop || fe_clock_mono_ms() < next)
			continue;
		next = fe_clock_mono_ms() + agent__tick(a);
	}
}

/* The daemon proper; returns the exit code. */
static int run(const struct fe_config *cfg, const char *path, bool fg,
	       int verbose)
{
	static struct agent ag;
	struct agent *a = &ag;
	int level = cfg->log_level + verbose, lfd = -1, sfd, rc = 1;

	fe_log_init("flowagent", !fg,
		    level > FE_LOG_DEBUG ? FE_LOG_DEBUG : level);
	fe_log_hook_libbpf();
	sfd = signals_open();
	if (agent__start(a, cfg, path))
		goto out;
	lfd = ctlsock_listen(a->cfg.control_socket);
	if (lfd < 0)
		goto out;
	agent__sync_ifaces(a);
	pr_info("flowagent %s running: %d interfaces, %d collectors, poll %u "
		"ms\n",
		VERSION, a->cfg.nifaces, a->nexp, a->cfg.poll_interval_ms);
	run_loop(a, sfd, lfd);
	agent__stop(a);
	rc = 0;
out:
	if (lfd >= 0) {
		close(lfd);
		unlink(a->cfg.control_socket);
	}
	agent__close(a);
	if (sfd >= 0)
		close(sfd);
	return rc;
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
	static struct fe_config cfg;
	const char *path = FE_DEFAULT_CONFIG;
	bool fg = false, check = false;
	int verbose = 0, c;
	char err[512];

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
