/* attach.c - flowctl attach and detach: put this meter set's programs on
 * devices and take them off.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "commands.h"
#include "log.h"
#include "meter.h"

struct attach_args {
	int mode; /* enum fe_ingress */
	bool xdp_skb;
	unsigned int max_flows;
	bool precise_ts;
	unsigned int sampling;
};

static const struct attach_args attach_defaults = {
	.mode = FE_INGRESS_KEEP,
	.max_flows = FE_DEFAULT_MAX_FLOWS,
	.sampling = 1,
};

static const struct opt_word attach_modes[] = {
	{ .word = "tc", .value = FE_INGRESS_TC },
	{ .word = "xdp", .value = FE_INGRESS_XDP },
	{ .word = "none", .value = FE_INGRESS_OFF },
	{ .word = "egress", .value = FE_INGRESS_OFF, .hidden = true },
	{ .word = "keep", .value = FE_INGRESS_KEEP },
	{ .word = NULL },
};

static const struct opt_def attach_opts[] = {
	DEFINE_OPTION("mode", OPT_ENUM, struct attach_args, mode,
		      .short_name = 'm', .words = attach_modes,
		      .help = "the ingress meter: tc (tc ingress), xdp "
			      "(through libxdp; a single program when its "
			      "dispatcher cannot load; pays on NICs with "
			      "native XDP only: on veth and virtio_net any XDP "
			      "program costs the stack its GSO/GRO, forwarded "
			      "TCP at 0.1-0.15x, and attach warns), none "
			      "(removes this set's ingress meter) or keep: "
			      "leaves it as it is, e.g. as a flowagent "
			      "attached it",
		      .show_default = true),
	DEFINE_OPTION("xdp-skb", OPT_FLAG, struct attach_args, xdp_skb,
		      .help = "generic (skb) XDP instead of native"),
	DEFINE_OPTION("max-flows", OPT_UINT, struct attach_args, max_flows,
		      .help = "entries per kernel flow map when the set is "
			      "created",
		      .min = FE_MIN_MAX_FLOWS, .max = FE_MAX_MAX_FLOWS,
		      .show_default = true),
	DEFINE_OPTION("precise-ts", OPT_FLAG, struct attach_args, precise_ts,
		      .help = "when the set is created: timestamps from "
			      "bpf_ktime_get_ns(), not the coarse clock"),
	DEFINE_OPTION("sampling", OPT_UINT, struct attach_args, sampling,
		      .help = "when the set is created: count 1 packet in N, "
			      "picked at random (flowexp.ini sampling)",
		      .min = 1, .max = METER_MAX_SAMPLING,
		      .show_default = true),
	END_OPTIONS
};

static int attach_run(const struct ctl_ctx *ctx, int argc, char **argv)
{
	const struct opt_cmd *c = &attach_command.opts;
	struct attach_args a;
	struct meter_opts mo;
	struct meter *m;
	int i, r;

	r = opts_parse(c, argc, argv, &a, &i);
	if (!r && i >= argc)
		r = opts_error(c, "no device given");
	if (r)
		return opts_exit_code(r);
	mo = (struct meter_opts){
		.max_flows = a.max_flows,
		.flags = METER_F_CREATE |
			 (a.precise_ts ? METER_F_PRECISE_TS : 0),
		.sampling = a.sampling,
	};
	m = meter__open_opts(ctx->pin_path, &mo);
	if (!m) {
		fprintf(stderr, "flowctl attach: meter set %s: %s\n",
			ctx->pin_path, strerror(errno));
		return 1;
	}
	if (a.sampling != 1 && meter__sampling(m) != a.sampling)
		fprintf(stderr,
			"flowctl attach: meter set %s exists and samples 1 in "
			"%u: --sampling applies when a set is created\n",
			ctx->pin_path, meter__sampling(m));
	for (r = 0; i < argc; i++) {
		if (meter__attach(m, argv[i], a.mode, a.xdp_skb)) {
			r = 1; /* meter__attach said what failed */
			continue;
		}
		pr_info("attached to %s\n", argv[i]);
	}
	meter__close(m);
	return r;
}

CTL_COMMAND(attach, true, .args = "DEV...",
	    .summary = "attach meters: --mode tc|xdp DEV...",
	    .doc = "Meters DEV's egress with tc (TCX when the kernel has "
		   "it, else a clsact filter) and, with --mode, its "
		   "ingress. Ethernet (and loopback) devices only: the "
		   "meters parse an Ethernet header, so WireGuard, tun "
		   "and IP tunnel devices are refused. Loads and pins the "
		   "meter set under --pin-path on first use (concurrent "
		   "attaches load it once). Attaching what is attached "
		   "is a no-op.");

struct detach_args {
	bool all;
};

static const struct detach_args detach_defaults;

static const struct opt_def detach_opts[] = {
	DEFINE_OPTION("all", OPT_FLAG, struct detach_args, all,
		      .short_name = 'a',
		      .help = "from every device, and drop the pins of links "
			      "whose device or namespace is gone, and the "
			      "agent's pinned state when no agent runs"),
	END_OPTIONS
};

/* detach --all: the agent's pinned state goes too (what it held is not
 * exported), unless an agent runs on the set (it holds the lock).
 */
static void drop_state(const struct ctl_ctx *ctx, struct meter *m)
{
	if (meter__lock(m)) {
		fprintf(stderr,
			"flowctl detach: a flowagent runs on %s: its "
			"pinned state stays\n",
			ctx->pin_path);
		return;
	}
	if (meter__state_remove(ctx->pin_path) > 0)
		printf("dropped the agent's pinned state %s/%s (counts not "
		       "yet exported in it are gone)\n",
		       ctx->pin_path, FE_PIN_STATE);
}

static int detach_run(const struct ctl_ctx *ctx, int argc, char **argv)
{
	const struct opt_cmd *c = &detach_command.opts;
	struct detach_args a;
	struct meter *m;
	int i, r;

	r = opts_parse(c, argc, argv, &a, &i);
	if (!r && !a.all && i >= argc)
		r = opts_error(c, "give devices or --all");
	if (r)
		return opts_exit_code(r);
	m = meter__open(ctx->pin_path, 0, METER_F_ANY_LAYOUT);
	if (!m) {
		if (errno == ENOENT) {
			/* no set, but maybe links of an interrupted one */
			if (a.all) {
				meter__detach_links(ctx->pin_path);
				meter__state_remove(ctx->pin_path);
			}
			return 0;
		}
		fprintf(stderr, "flowctl detach: meter set %s: %s\n",
			ctx->pin_path, strerror(errno));
		return 1;
	}
	r = a.all && meter__detach_all(m) ? 1 : 0;
	if (a.all)
		drop_state(ctx, m);
	for (; i < argc; i++)
		if (meter__detach(m, argv[i], 0))
			r = 1;
	meter__close(m);
	return r;
}

CTL_COMMAND(detach, true, .args = "[DEV...]",
	    .summary = "detach meters: DEV... | --all",
	    .doc = "Removes this meter set's tc and XDP programs from the "
		   "devices (of the -n namespace); other filters and XDP "
		   "programs stay, and a clsact qdisc flowexp created is "
		   "removed when no filter is left on it. With --all and no "
		   "flowagent running on the set, the agent's pinned state "
		   "(fe_state, with counts not yet exported) goes too. Works "
		   "on a set of an incompatible flowexp version too (as does "
		   "status), so that it can be removed.");
