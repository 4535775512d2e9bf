/* commands.h - flowctl's subcommands: each one's option table and entry
 * point, and the context flowctl's global options give every command.
 */
#ifndef FE_COMMANDS_H
#define FE_COMMANDS_H
#include <stdbool.h>
#include "opts.h"

/* What flowctl's global options say; passed to every command. */
struct ctl_ctx {
	const char *pin_path;	    /* --pin-path, the meter set's bpffs dir */
	const char *netns;	    /* -n NETNS, NULL: the current one */
	const char *control_socket; /* --socket, flowagent's control socket */
};

struct ctl_command {
	struct opt_cmd opts; /* first: flowctl lists &cmd->opts */
	/* argv[0] is the command's name; returns the exit status (0 ok,
	 * 1 failure, 2 usage)
	 */
	int (*run)(const struct ctl_ctx *ctx, int argc, char **argv);
	bool netns; /* runs in the -n namespace */
};

/* Defines p_command, "flowctl p", from p_run, p_opts, p_defaults and
 * struct p_args; the rest (.summary, .doc, ...) as designated initializers
 * of its struct opt_cmd.
 */
#define CTL_COMMAND(p, in_netns, ...)                                          \
	const struct ctl_command p##_command = {                               \
		.opts = { .name = "flowctl " #p, OPTS_TABLE(p), __VA_ARGS__ }, \
		.run = p##_run,                                                \
		.netns = in_netns,                                             \
	}

static inline const struct ctl_command *ctl_command_of(const struct opt_cmd *o)
{
	return (const struct ctl_command *)o;
}

extern const struct ctl_command attach_command, detach_command, status_command,
	dump_command, flush_command, stats_command, collect_command,
	send_command;

#endif
