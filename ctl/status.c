/* status.c - flowctl status: where this meter set is attached, with which
 * programs and maps, and how full its flow maps are.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "commands.h"
#include "json.h"
#include "meter.h"

#define STATUS_MAX_DEVICES 256

/* What status shows, read once from the set. */
struct status_view {
	const char *pin_path;
	struct meter_ids ids;
	struct meter_attachment at[STATUS_MAX_DEVICES];
	int n;	  /* attachments */
	int maps; /* 0, or -errno: the flow maps are not usable */
	unsigned int nf, no, max_flows;
};

struct status_args {
	bool json;
};

static const struct status_args status_defaults;

static const struct opt_def status_opts[] = {
	DEFINE_OPTION("json", OPT_FLAG, struct status_args, json,
		      .help = "one JSON object"),
	END_OPTIONS
};

static const char *status_ingress(const struct meter_attachment *at,
				  const char *none)
{
	return at->ingress_xdp ? "xdp" : at->ingress_tc ? "tc" : none;
}

static void status_print_json(const struct status_view *v)
{
	const struct meter_ids *ids = &v->ids;

	printf("{\"pin_path\":");
	json_fputs(stdout, v->pin_path);
	printf(",\"prog_tc_egress\":%u,\"prog_tc_ingress\":%u,\"prog_xdp\":%u,"
	       "\"map_outer\":%u,\"map_flows\":%u,\"map_overflow\":%u,"
	       "\"flows\":%u,\"overflow_entries\":%u,\"max_flows\":%u,"
	       "\"maps_usable\":%s,\"devices\":[",
	       ids->prog_tc_egress, ids->prog_tc_ingress, ids->prog_xdp,
	       ids->outer, ids->flows_cur, ids->ovf_cur, v->nf, v->no,
	       v->max_flows, v->maps ? "false" : "true");
	for (int i = 0; i < v->n; i++) {
		const struct meter_attachment *at = &v->at[i];

		printf("%s{\"ifindex\":%d,\"name\":", i ? "," : "",
		       at->ifindex);
		/* device names may hold quotes and backslashes */
		json_fputs(stdout, at->ifname);
		printf(",\"egress\":%s,\"ingress\":\"%s\",\"tc\":\"%s\","
		       "\"xdp_mode\":\"%s\"}",
		       at->egress ? "true" : "false",
		       status_ingress(at, "none"),
		       at->tc_kind ? at->tc_kind : "",
		       at->xdp_mode ? at->xdp_mode : "");
	}
	printf("]}\n");
}

static void status_print_text(const struct status_view *v)
{
	const struct meter_ids *ids = &v->ids;

	printf("meter set %s\n", v->pin_path);
	printf("  programs  tc egress id %u, tc ingress id %u, xdp id %u\n",
	       ids->prog_tc_egress, ids->prog_tc_ingress, ids->prog_xdp);
	printf("  maps      outer id %u, live flows map id %u, live overflow "
	       "map id %u\n",
	       ids->outer, ids->flows_cur, ids->ovf_cur);
	if (v->maps)
		printf("  fill      unknown: %s (of another flowexp version "
		       "or incomplete?)\n",
		       strerror(-v->maps));
	else
		printf("  fill      %u of %u flows (%.1f%%), %u overflow "
		       "entries\n",
		       v->nf, v->max_flows, 100.0 * v->nf / v->max_flows,
		       v->no);
	printf("\n%-8s %-16s %-8s %-8s %-8s %s\n", "IFINDEX", "DEVICE",
	       "EGRESS", "INGRESS", "TC", "XDP MODE");
	for (int i = 0; i < v->n; i++) {
		const struct meter_attachment *at = &v->at[i];

		printf("%-8d %-16s %-8s %-8s %-8s %s\n", at->ifindex,
		       at->ifname, at->egress ? "tc" : "-",
		       status_ingress(at, "-"), at->tc_kind ? at->tc_kind : "-",
		       at->xdp_mode ? at->xdp_mode : "-");
	}
	if (!v->n)
		printf("(not attached to any device of this network "
		       "namespace)\n");
}

static int status_run(const struct ctl_ctx *ctx, int argc, char **argv)
{
	struct status_view v = { .pin_path = ctx->pin_path };
	struct status_args a;
	struct meter *m;
	int r;

	r = opts_parse(&status_command.opts, argc, argv, &a, NULL);
	if (r)
		return opts_exit_code(r);
	m = meter__open(ctx->pin_path, 0, METER_F_ANY_LAYOUT);
	if (!m && errno == ENOENT) {
		printf("no meter set loaded at %s\n", ctx->pin_path);
		return 0;
	}
	if (!m) {
		fprintf(stderr, "flowctl status: meter set %s: %s\n",
			ctx->pin_path, strerror(errno));
		return 1;
	}
	meter__ids(m, &v.ids);
	/* EPROTO: a set of another version; its hooks are still listed */
	v.maps = meter__count(m, &v.nf, &v.no);
	v.max_flows = meter__max_flows(m);
	v.n = meter__attachments(m, v.at, STATUS_MAX_DEVICES);
	r = v.n < 0 ? 1 : 0;
	if (v.n < 0)
		fprintf(stderr, "flowctl status: list devices: %s\n",
			strerror(-v.n));
	else if (a.json)
		status_print_json(&v);
	else
		status_print_text(&v);
	meter__close(m);
	return r;
}

CTL_COMMAND(status, true,
	    .summary = "devices, hooks, modes, program ids, map fill",
	    .doc = "Shows the meter set: the devices of the -n namespace "
		   "it is attached to, hooks and modes, program and map "
		   "ids, and how full the flow maps are.");
