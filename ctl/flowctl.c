/* flowctl.c - the operator's tool: global options and subcommand dispatch. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "ctlsock.h"
#include "log.h"
#include "meter.h"
#include "netns.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
	bool netns; /* runs in the -n namespace */
} cmds[] = {
	{ "attach", cmd_attach, "attach meters: --mode tc|xdp DEV...", true },
	{ "detach", cmd_detach, "detach meters: DEV... | --all", true },
	{ "status", cmd_status, "devices, hooks, modes, program ids, map fill",
	  true },
	{ "dump", cmd_dump, "the live flow table [--by-ifindex] [--json]",
	  true },
	{ "flush", cmd_flush, "drop flows: --all | FILTER", true },
	{ "stats", cmd_stats, "meter and exporter counters", true },
	{ "collect", cmd_collect,
	  "a small IPFIX collector [-l ADDR:PORT] [--json]", false },
	{ "send", cmd_send,
	  "an IPFIX test transmitter [-d ADDR:PORT] [-n COUNT]", false },
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: flowctl [--pin-path DIR] [-n NETNS] [--socket PATH] "
		"[-v] COMMAND [ARGS]\n"
		"\n"
		"The operator's tool of flowexp, the eBPF IPFIX flow "
		"exporter.\n"
		"\n"
		"Global options:\n"
		"  --pin-path DIR   bpffs directory of the meter set (default "
		"%s)\n"
		"  -n, --netns NAME network namespace of the devices (like ip "
		"-n; the\n"
		"                   host's bpffs stays visible)\n"
		"  --socket PATH    flowagent's control socket (default %s)\n"
		"  -v, --verbose    more messages (repeat for libbpf debug "
		"output)\n"
		"  -h, --help       this help; COMMAND --help for a command's\n"
		"\n"
		"Commands:\n",
		FE_DEFAULT_PIN_PATH, FE_DEFAULT_CONTROL_SOCKET);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f, "\nExit status: 0 success, 1 failure, 2 usage error.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin-path", required_argument, NULL, 'p' },
		{ "netns", required_argument, NULL, 'n' },
		{ "socket", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int verbose = 0, c;

	/* '+': stop at the subcommand; its options are its own */
	while ((c = getopt_long(argc, argv, "+n:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			ctl_globals.pin_path = optarg;
			break;
		case 'n':
			ctl_globals.netns = optarg;
			break;
		case 's':
			ctl_globals.control_socket = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	fe_log_init("flowctl", false,
		    verbose >= 2 ? FE_LOG_DEBUG
		    : verbose	 ? FE_LOG_INFO
				 : FE_LOG_WARN);
	fe_log_hook_libbpf();
	if (optind >= argc) {
		fprintf(stderr, "flowctl: no command given\n");
		usage(stderr);
		return 2;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[optind], cmds[i].name))
			continue;
		if (cmds[i].netns && ctl_globals.netns &&
		    fe_netns_enter(ctl_globals.netns, NULL))
			return 1;
		int idx = optind;

		optind = 0; /* reinitialise getopt for the subcommand */
		return cmds[i].fn(argc - idx, argv + idx);
	}
	fprintf(stderr, "flowctl: unknown command '%s'\n", argv[optind]);
	usage(stderr);
	return 2;
}
