/* commands.h - flowctl's subcommands; each returns the process exit code
 * (0 ok, 1 failure, 2 usage). argv[0] is the subcommand's name.
 */
#ifndef FE_COMMANDS_H
#define FE_COMMANDS_H

struct ctl_globals {
	const char *pin_path; /* --pin-path, default /sys/fs/bpf/flowexp */
	const char *netns;    /* -n NETNS, NULL: current */
	const char *
		control_socket; /* --socket, default /run/flowexp/flowagent.sock */
};
extern struct ctl_globals ctl_globals;

int cmd_attach(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_flush(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_collect(int argc, char **argv);
int cmd_send(int argc, char **argv);

#endif
