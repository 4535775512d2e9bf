/* flowctl.c - the operator's tool: global options and subcommand dispatch. */
#include <stdio.h>
#include <stdlib.h>
#include "commands.h"
#include "ctlsock.h"
#include "log.h"
#include "meter.h"
#include "netns.h"
#include "opts.h"

struct flowctl_args {
	struct ctl_ctx ctx;
	int verbose;
};

static const struct flowctl_args flowctl_defaults = {
	.ctx = {
		.pin_path = FE_DEFAULT_PIN_PATH,
		.control_socket = FE_DEFAULT_CONTROL_SOCKET,
	},
};

static const struct opt_def flowctl_opts[] = {
	DEFINE_OPTION(
		"pin-path", OPT_STRING, struct flowctl_args, ctx.pin_path,
		.metavar = "DIR",
		.help = "the bpffs directory of the meter set; several sets "
			"can coexist",
		.show_default = true),
	DEFINE_OPTION("netns", OPT_STRING, struct flowctl_args, ctx.netns,
		      .short_name = 'n', .metavar = "NETNS",
		      .help = "network namespace of the devices; like ip -n, "
			      "it switches the network namespace only, so the "
			      "host's bpffs stays visible"),
	DEFINE_OPTION("socket", OPT_STRING, struct flowctl_args,
		      ctx.control_socket, .metavar = "PATH",
		      .help = "the control socket of flowagent: when an agent "
			      "serves the same pin path there, dump, stats and "
			      "flush act on its flow cache",
		      .show_default = true),
	DEFINE_OPTION("verbose", OPT_COUNTER, struct flowctl_args, verbose,
		      .short_name = 'v',
		      .help = "more messages (repeat for libbpf debug "
			      "output)"),
	END_OPTIONS
};

static const struct opt_cmd *const flowctl_subcmds[] = {
	&attach_command.opts,  &detach_command.opts, &status_command.opts,
	&dump_command.opts,    &flush_command.opts,  &stats_command.opts,
	&collect_command.opts, &send_command.opts,   NULL,
};

static const struct opt_cmd flowctl_cmd = {
	.name = "flowctl",
	.args = "COMMAND [ARGS]",
	.doc = "The operator's tool of flowexp, the eBPF IPFIX flow exporter.",
	.notes = "Exit status: 0 success, 1 failure, 2 usage error.",
	OPTS_TABLE(flowctl),
	.stop_at_arg = true, /* a subcommand's options are its own */
	.subcmds = flowctl_subcmds,
};

int main(int argc, char **argv)
{
	const struct ctl_command *cmd;
	const struct opt_cmd *sub;
	struct flowctl_args a;
	int r, first;

	r = opts_parse(&flowctl_cmd, argc, argv, &a, &first);
	if (r)
		return opts_exit_code(r);
	fe_log_init("flowctl", false,
		    a.verbose >= 2 ? FE_LOG_DEBUG
		    : a.verbose	   ? FE_LOG_INFO
				   : FE_LOG_WARN);
	fe_log_hook_libbpf();
	if (first >= argc)
		return opts_exit_code(
			opts_error(&flowctl_cmd, "no command given"));
	sub = opts_subcmd(&flowctl_cmd, argv[first]);
	if (!sub)
		return opts_exit_code(opts_error(
			&flowctl_cmd, "unknown command '%s'", argv[first]));
	cmd = ctl_command_of(sub);
	if (cmd->netns && a.ctx.netns && fe_netns_enter(a.ctx.netns, NULL))
		return 1;
	return cmd->run(&a.ctx, argc - first, argv + first);
}
