/* attach.c - flowctl attach, detach and status. */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "log.h"
#include "meter.h"

static void attach_usage(FILE *f)
{
	fprintf(f,
		"Usage: flowctl attach [--mode tc|xdp|none|keep] [--xdp-skb] "
		"[--max-flows N] DEV...\n"
		"Meters DEV's egress with tc (TCX, else clsact) and, with "
		"--mode, its\n"
		"ingress: xdp (XDP program, through libxdp) or tc (tc "
		"ingress); none\n"
		"removes this set's ingress meter. Default --mode keep: "
		"attaches the\n"
		"egress meter and leaves the ingress meter as it is (e.g. one "
		"flowagent\n"
		"attached). Ethernet devices only. Loads and pins the meter "
		"set under\n"
		"--pin-path on first use. Attaching what is attached is a "
		"no-op.\n"
		"  --xdp-skb       generic (skb) XDP instead of native\n"
		"  --max-flows N   entries per kernel flow map when the set is "
		"created\n"
		"                  (default %d)\n",
		FE_DEFAULT_MAX_FLOWS);
}

int cmd_attach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "xdp-skb", no_argument, NULL, 's' },
		{ "max-flows", required_argument, NULL, 'M' },
		{ "precise-ts", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	enum meter_ingress ing = METER_INGRESS_KEEP;
	unsigned long max_flows = 0;
	bool skb = false, precise = false;
	struct meter *m;
	int c, rc = 0;
	char *end;

	while ((c = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (!strcmp(optarg, "xdp"))
				ing = METER_INGRESS_XDP;
			else if (!strcmp(optarg, "tc"))
				ing = METER_INGRESS_TC;
			else if (!strcmp(optarg, "none") ||
				 !strcmp(optarg, "egress"))
				ing = METER_INGRESS_NONE;
			else if (!strcmp(optarg, "keep"))
				ing = METER_INGRESS_KEEP;
			else {
				fprintf(stderr,
					"flowctl attach: --mode %s: expected "
					"tc, xdp, none or keep\n",
					optarg);
				return 2;
			}
			break;
		case 's':
			skb = true;
			break;
		case 'P':
			precise = true;
			break;
		case 'M':
			max_flows = strtoul(optarg, &end, 10);
			if (*end || max_flows < 16 || max_flows > 1u << 26) {
				fprintf(stderr,
					"flowctl attach: --max-flows %s: "
					"expected 16..%u\n",
					optarg, 1u << 26);
				return 2;
			}
			break;
		case 'h':
			attach_usage(stdout);
			return 0;
		default:
			attach_usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "flowctl attach: no device given\n");
		attach_usage(stderr);
		return 2;
	}
	m = meter__open(ctl_globals.pin_path, max_flows,
			METER_F_CREATE | (precise ? METER_F_PRECISE_TS : 0));
	if (!m) {
		fprintf(stderr, "flowctl attach: meter set %s: %s\n",
			ctl_globals.pin_path, strerror(errno));
		return 1;
	}
	for (int i = optind; i < argc; i++) {
		if (meter__attach(m, argv[i], ing, skb)) {
			rc = 1; /* meter__attach said what failed */
			continue;
		}
		pr_info("attached to %s\n", argv[i]);
	}
	meter__close(m);
	return rc;
}

static void detach_usage(FILE *f)
{
	fprintf(f, "Usage: flowctl detach DEV... | --all\n"
		   "Removes this meter set's tc and XDP programs from the "
		   "devices (of the\n"
		   "-n namespace); --all from every device, and drops stale "
		   "link pins.\n"
		   "Other filters stay. Works on a set of another flowexp "
		   "version too.\n");
}

int cmd_detach(int argc, char **argv)
{
	static const struct option opts[] = { { "all", no_argument, NULL, 'a' },
					      { "help", no_argument, NULL,
						'h' },
					      {} };
	bool all = false;
	struct meter *m;
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "ah", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			all = true;
			break;
		case 'h':
			detach_usage(stdout);
			return 0;
		default:
			detach_usage(stderr);
			return 2;
		}
	}
	if (!all && optind >= argc) {
		fprintf(stderr, "flowctl detach: give devices or --all\n");
		detach_usage(stderr);
		return 2;
	}
	m = meter__open(ctl_globals.pin_path, 0, METER_F_ANY_LAYOUT);
	if (!m) {
		if (errno == ENOENT) {
			/* no set, but maybe links of an interrupted one */
			if (all)
				meter__detach_links(ctl_globals.pin_path);
			return 0;
		}
		fprintf(stderr, "flowctl detach: meter set %s: %s\n",
			ctl_globals.pin_path, strerror(errno));
		return 1;
	}
	if (all && meter__detach_all(m))
		rc = 1;
	for (int i = optind; i < argc; i++)
		if (meter__detach(m, argv[i], 0))
			rc = 1;
	meter__close(m);
	return rc;
}

static void status_usage(FILE *f)
{
	fprintf(f, "Usage: flowctl status [--json]\n"
		   "Shows the meter set: devices of the -n namespace it is "
		   "attached to,\n"
		   "hooks and modes, program and map ids, and how full the "
		   "flow maps are.\n");
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct meter_attachment at[256];
	struct meter_ids ids;
	unsigned int nf = 0, no = 0;
	bool json = false;
	struct meter *m;
	int c, n, maps;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			status_usage(stdout);
			return 0;
		default:
			status_usage(stderr);
			return 2;
		}
	}
	m = meter__open(ctl_globals.pin_path, 0, METER_F_ANY_LAYOUT);
	if (!m) {
		if (errno == ENOENT) {
			printf("no meter set loaded at %s\n",
			       ctl_globals.pin_path);
			return 0;
		}
		fprintf(stderr, "flowctl status: meter set %s: %s\n",
			ctl_globals.pin_path, strerror(errno));
		return 1;
	}
	meter__ids(m, &ids);
	/* EPROTO: a set of another version; its hooks are still listed */
	maps = meter__count(m, &nf, &no);
	n = meter__attachments(m, at, 256);
	if (n < 0) {
		fprintf(stderr, "flowctl status: list devices: %s\n",
			strerror(-n));
		meter__close(m);
		return 1;
	}
	if (json) {
		printf("{\"pin_path\":\"%s\",\"prog_tc_egress\":%u,\"prog_tc_"
		       "ingress\":%u,\"prog_xdp\":%u,\"map_outer\":%u,\"map_"
		       "flows\":%u,\"map_overflow\":%u,\"flows\":%u,\"overflow_"
		       "entries\":%u,\"max_flows\":%u,\"maps_usable\":%s,"
		       "\"devices\":[",
		       ctl_globals.pin_path, ids.prog_tc_egress,
		       ids.prog_tc_ingress, ids.prog_xdp, ids.outer,
		       ids.flows_cur, ids.ovf_cur, nf, no, meter__max_flows(m),
		       maps ? "false" : "true");
		for (int i = 0; i < n; i++)
			printf("%s{\"ifindex\":%d,\"name\":\"%s\",\"egress\":%"
			       "s,\"ingress\":\"%s\",\"tc\":\"%s\",\"xdp_"
			       "mode\":\"%s\"}",
			       i ? "," : "", at[i].ifindex, at[i].ifname,
			       at[i].egress ? "true" : "false",
			       at[i].ingress_xdp  ? "xdp"
			       : at[i].ingress_tc ? "tc"
						  : "none",
			       at[i].tc_kind ? at[i].tc_kind : "",
			       at[i].xdp_mode ? at[i].xdp_mode : "");
		printf("]}\n");
		meter__close(m);
		return 0;
	}
	printf("meter set %s\n", ctl_globals.pin_path);
	printf("  programs  tc egress id %u, tc ingress id %u, xdp id %u\n",
	       ids.prog_tc_egress, ids.prog_tc_ingress, ids.prog_xdp);
	printf("  maps      outer id %u, live flows map id %u, live overflow "
	       "map id %u\n",
	       ids.outer, ids.flows_cur, ids.ovf_cur);
	if (maps)
		printf("  fill      unknown: %s (of another flowexp version "
		       "or incomplete?)\n",
		       strerror(-maps));
	else
		printf("  fill      %u of %u flows (%.1f%%), %u overflow "
		       "entries\n",
		       nf, meter__max_flows(m),
		       100.0 * nf / meter__max_flows(m), no);
	printf("\n%-8s %-16s %-8s %-8s %-8s %s\n", "IFINDEX", "DEVICE",
	       "EGRESS", "INGRESS", "TC", "XDP MODE");
	for (int i = 0; i < n; i++)
		printf("%-8d %-16s %-8s %-8s %-8s %s\n", at[i].ifindex,
		       at[i].ifname, at[i].egress ? "tc" : "-",
		       at[i].ingress_xdp  ? "xdp"
		       : at[i].ingress_tc ? "tc"
					  : "-",
		       at[i].tc_kind ? at[i].tc_kind : "-",
		       at[i].xdp_mode ? at[i].xdp_mode : "-");
	if (!n)
		printf("(not attached to any device of this network "
		       "namespace)\n");
	meter__close(m);
	return 0;
}
