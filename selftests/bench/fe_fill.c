/* fe_fill.c - fills a pinned meter set's flow map through its own tc
 * programs (fill.h), for the netns scale tests: prints what it injected as
 * one JSON line {"runs":R,"packets":P,"octets":O} (P and O count a packet
 * seen at two meters once: what the export must total).
 * Usage: fe_fill --pin DIR [--family 4|6] [--proto tcp|udp] [--set S]
 *        [--first I] [--flows N] [--packets P] [--payload B] [--in DEV]
 *        [--out DEV] [--ingress] [--reply] [--threads T]
 * DEV names are looked up in the current netns (run it with nsenter);
 * --out defaults to lo, --in to none (locally originated).
 */
#include <getopt.h>
#include <net/if.h>
#include "fill.h"

static uint32_t dev(const char *name)
{
	uint32_t i = if_nametoindex(name);

	if (!i) {
		fprintf(stderr, "fe_fill: device %s: %s\n", name,
			strerror(errno));
		exit(2);
	}
	return i;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "pin", 1, NULL, 'p' },     { "family", 1, NULL, 'f' },
		{ "proto", 1, NULL, 'P' },   { "set", 1, NULL, 's' },
		{ "first", 1, NULL, 'F' },   { "flows", 1, NULL, 'n' },
		{ "packets", 1, NULL, 'k' }, { "payload", 1, NULL, 'b' },
		{ "in", 1, NULL, 'i' },	     { "out", 1, NULL, 'o' },
		{ "ingress", 0, NULL, 'I' }, { "reply", 0, NULL, 'r' },
		{ "threads", 1, NULL, 't' }, { NULL, 0, NULL, 0 },
	};
	struct fill_flows f = { .family = 4,
				.proto = IPPROTO_TCP,
				.n = 1000,
				.packets = 1,
				.payload = 100,
				.out_if = 1 };
	const char *pin = NULL;
	struct fill_progs p;
	struct fill_count c = { 0 };
	struct meter *m;
	int o, threads = 1;

	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 'p':
			pin = optarg;
			break;
		case 'f':
			f.family = atoi(optarg);
			break;
		case 'P':
			f.proto = strcmp(optarg, "udp") ? IPPROTO_TCP
							: IPPROTO_UDP;
			break;
		case 's':
			f.set = (uint8_t)atoi(optarg);
			break;
		case 'F':
			f.first = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'n':
			f.n = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'k':
			f.packets = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'b':
			f.payload = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'i':
			f.in_if = dev(optarg);
			break;
		case 'o':
			f.out_if = dev(optarg);
			break;
		case 'I':
			f.ingress = true;
			break;
		case 'r':
			f.reply = true;
			break;
		case 't':
			threads = atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	if (!pin || (f.family != 4 && f.family != 6) || !f.packets ||
	    ((f.ingress || f.reply) && !f.in_if)) {
		fprintf(stderr,
			"fe_fill: need --pin, --family 4|6, packets > 0 "
			"and --in with --ingress or --reply\n");
		return 2;
	}
	m = meter__open(pin, 0, 0);
	if (!m || fill_progs_open(m, &p)) {
		fprintf(stderr, "fe_fill: meter set %s: %s\n", pin,
			strerror(errno));
		return 1;
	}
	fill_run(&p, &f, threads, &c);
	fill_progs_close(&p);
	meter__close(m);
	if (c.errors) {
		fprintf(stderr, "fe_fill: %llu test runs failed: %s\n",
			(unsigned long long)c.errors, strerror(-c.first_err));
		return 1;
	}
	printf("{\"runs\":%llu,\"packets\":%llu,\"octets\":%llu}\n",
	       (unsigned long long)c.runs, (unsigned long long)c.packets,
	       (unsigned long long)c.octets);
	return 0;
}
