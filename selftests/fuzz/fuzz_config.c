/* fuzz_config.c - fuzz target of the flowexp.ini parser: any text either
 * fails with a "fuzz.ini:LINE: " message naming a line of the input, or
 * gives a configuration that keeps every documented bound and prints back
 * to itself. Host names are never resolved (FE_CONFIG_NO_RESOLVE).
 * An input that starts with RECIPE_MAGIC is a recipe instead: its bytes
 * say how many sections of which name length and how many fields on how
 * long lines to write, so mutants explore many sections and long names
 * and lines, which byte mutations of a text rarely reach.
 * Runs with selftests/fuzz/driver.c, or under libFuzzer (see there).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "ie.h"

static const char *const seed_texts[] = {
	"[collector main]\naddress = 127.0.0.1:4739\n",

	"[agent]\n"
	"interfaces = eth1 eth2, eth3\n"
	"\tveth0 br-lan.10\n"
	"ingress = xdp ; fast\n"
	"xdp_mode = skb\n"
	"poll_interval_ms = 1000\n"
	"active_timeout = 60\n"
	"idle_timeout = 15\n"
	"end_grace_ms = 2000\n"
	"observation_domain = 1\n"
	"pin_path = /sys/fs/bpf/flowexp\n"
	"control_socket = /run/flowexp/flowagent.sock\n"
	"netns =\n"
	"max_flows = 262144\n"
	"kernel_max_flows = 65536\n"
	"log_level = debug\n"
	"metrics_listen = 127.0.0.1:9739\n"
	"\n"
	"[collector main]\n"
	"address = 10.146.0.6:2100\n"
	"transport = udp\n"
	"biflow = yes\n"
	"split_links = no\n"
	"template = default\n"
	"mtu = 1400\n"
	"template_refresh = 60\n"
	"observation_domain = 5\n"
	"\n"
	"[collector v6]\n"
	"address = [2001:db8::6]:4739\n"
	"transport = tcp\n"
	"template = small\n"
	"template_refresh = 0\n"
	"\n"
	"[template default]\n"
	"id = 1024\n"
	"fields = flowEndMilliseconds flowStartMilliseconds "
	"octetDeltaCount\n"
	"         packetDeltaCount ipVersion flowDirection\n"
	"         sourceIPv4Address destinationIPv4Address\n"
	"[template small]\n"
	"id = 2000\n"
	"fields = OctetDeltaCount,packetDeltaCount\n",

	"; comment\n# comment\n[Agent]\ningress = tc\n"
	"[collector a]\naddress: collector.example:4739\nbiflow = off\n"
	"[collector b]\naddress = [::1]:1\nsplit_links = on\n",

	"[template t]\nid = 256\nfields =\n  ingressInterface\n"
	"  egressInterface\n  protocolIdentifier tcpControlBits\n"
	"[collector c]\naddress = 192.0.2.1:65535\ntemplate = t\n"
	"mtu = 576\n",

	/* near misses, so mutants reach the error paths and back */
	"[collector main]\nadress = 1.2.3.4:5\n",
	("[template x]\nid = 1025\nfields = octetDeltaCnt\n[template y]\n"
	 "id = 1024\n"),
};

#define RECIPE_MAGIC 0xfe

/* A recipe: magic, templates, collectors, name length, fields per
 * template, flags (RECIPE_*), then bytes that pick the elements.
 */
#define RECIPE_MISSING 0x1   /* the last collector names a missing template */
#define RECIPE_ONE_LINE 0x2  /* every list on one line */
#define RECIPE_SAME_NAME 0x4 /* two sections share a name */
static const uint8_t seed_recipes[][8] = {
	/* issue 10 item 6: 32 templates with 63-character names and a
	 * collector naming a missing one crashed the "known:" hint
	 */
	{ RECIPE_MAGIC, 32, 1, 63, 1, RECIPE_MISSING },
	{ RECIPE_MAGIC, 32, 16, 63, 16, RECIPE_ONE_LINE, 3, 7 },
	{ RECIPE_MAGIC, 33, 17, 64, 65, RECIPE_ONE_LINE },
	{ RECIPE_MAGIC, 4, 16, 63, 30, 0, 1 },
	{ RECIPE_MAGIC, 8, 2, 40, 20, RECIPE_SAME_NAME | RECIPE_ONE_LINE },
};

#define NSEED_TEXTS ((int)(sizeof(seed_texts) / sizeof(seed_texts[0])))
#define NSEED_RECIPES ((int)(sizeof(seed_recipes) / sizeof(seed_recipes[0])))

size_t fuzz_seed(int i, uint8_t *buf, size_t cap)
{
	size_t len;

	if (i >= NSEED_TEXTS && i < NSEED_TEXTS + NSEED_RECIPES) {
		len = sizeof(seed_recipes[0]) < cap ? sizeof(seed_recipes[0])
						    : cap;
		memcpy(buf, seed_recipes[i - NSEED_TEXTS], len);
		return len;
	}
	if (i < 0 || i >= NSEED_TEXTS)
		return 0;
	len = strlen(seed_texts[i]);
	if (len > cap)
		len = cap;
	memcpy(buf, seed_texts[i], len);
	return len;
}

static void fail(const char *what, const char *text, const char *err)
{
	fprintf(stderr, "fuzz_config: %s\n--- error: %s\n--- input:\n%s\n",
		what, err, text);
	abort();
}

static void check_config(const struct fe_config *c, const char *text)
{
	int i, j;

	if (c->ncoll < 1 || c->ncoll > FE_MAX_COLLECTORS || c->ntmpl < 0 ||
	    c->ntmpl > FE_MAX_TEMPLATES || c->nifaces < 0 ||
	    c->nifaces > FE_MAX_IFACES)
		fail("counts out of bounds", text, "");
	if (c->poll_interval_ms < 10 || c->poll_interval_ms > 60000 ||
	    c->active_timeout < 1 || c->idle_timeout < 1 || c->max_flows < 16 ||
	    c->kernel_max_flows < 16 || c->pin_path[0] != '/' ||
	    c->control_socket[0] != '/' || c->log_level < 0 || c->log_level > 2)
		fail("agent value out of bounds", text, "");
	for (i = 0; i < c->nifaces; i++) {
		size_t len = strnlen(c->ifaces[i], 16);

		if (!len || len > 15 || strchr(c->ifaces[i], '/'))
			fail("bad interface name accepted", text, "");
	}
	for (i = 0; i < c->ncoll; i++) {
		const struct fe_collector_cfg *k = &c->coll[i];

		if (k->tmpl < -1 || k->tmpl >= c->ntmpl || k->mtu < 576 ||
		    k->mtu > 65507 ||
		    (!k->template_refresh &&
		     k->transport != FE_TRANSPORT_TCP) ||
		    !k->address[0])
			fail("collector value out of bounds", text, "");
	}
	for (i = 0; i < c->ntmpl; i++) {
		const struct fe_template_cfg *t = &c->tmpl[i];

		if (t->id < 256 || t->id > 65534 || t->nies < 1 ||
		    t->nies > FE_MAX_FIELDS)
			fail("template value out of bounds", text, "");
		for (j = 0; j < i; j++)
			if (abs((int)t->id - (int)c->tmpl[j].id) < 2)
				fail("template ids overlap", text, "");
		for (j = 0; j < t->nies; j++) {
			const struct ie_def *ie = ie_by_id(t->ies[j]);

			if (!ie || !ie->exportable)
				fail("bad element accepted", text, "");
		}
	}
}

/* Prints the configuration and parses the print: the same struct again. */
static void check_roundtrip(struct fe_config *a, const char *text)
{
	static struct fe_config b;
	char err[512], *buf = NULL;
	size_t len = 0;
	FILE *f;
	int i;

	f = open_memstream(&buf, &len);
	if (!f)
		return;
	if (fe_config_print(f, a))
		fail("fe_config_print failed", text, "");
	fclose(f);
	if (fe_config_parse("print.ini", buf, FE_CONFIG_NO_RESOLVE, &b, err,
			    sizeof(err)))
		fail("the printed configuration does not parse", buf, err);
	free(buf);
	for (i = 0; i < a->ncoll; i++)
		a->coll[i].line = b.coll[i].line = 0;
	for (i = 0; i < a->ntmpl; i++)
		a->tmpl[i].line = b.tmpl[i].line = 0;
	if (memcmp(a, &b, sizeof(b)))
		fail("the printed configuration parses differently", text, "");
}

/* Section name number i of len characters (unique per i, or the same for
 * every i when same).
 */
static void recipe_name(char *buf, int len, int i, bool same)
{
	int k;

	for (k = 0; k < len; k++)
		buf[k] = "abcdefghijklmnopqrstuvwxyz"[(same ? 0 : i) % 26];
	if (!same && len >= 2)
		snprintf(buf + len - 2, 3, "%02d", i % 100);
	buf[len] = '\0';
}

/* Writes the configuration a recipe describes; NULL without memory. */
static char *recipe_text(const uint8_t *d, size_t size)
{
	static uint16_t exp_ids[1024];
	static int nexp;
	const uint8_t *pick = d + 6;
	int ntmpl, ncoll, nlen, nfields, flags, i, j;
	size_t npick = size > 6 ? size - 6 : 0;
	char name[128], tname[128];
	const struct ie_def *ie;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (!nexp)
		for (i = 0; (ie = ie_at(i)); i++)
			if (ie->exportable)
				exp_ids[nexp++] = ie->id;
	ntmpl = size > 1 ? d[1] % 40 : 0;
	ncoll = size > 2 ? d[2] % 20 : 1;
	nlen = size > 3 && d[3] % 80 ? d[3] % 80 : 8;
	nfields = size > 4 ? 1 + d[4] % 70 : 1;
	flags = size > 5 ? d[5] : 0;
	f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	for (i = 0; i < ntmpl; i++) {
		recipe_name(name, nlen, i, flags & RECIPE_SAME_NAME && i < 2);
		fprintf(f, "[template %s]\nid = %d\nfields =", name,
			256 + 2 * i);
		for (j = 0; j < nfields; j++) {
			int k = (npick ? pick[i % npick] : 0) + j;

			fprintf(f, "%s%s",
				flags & RECIPE_ONE_LINE || j % 4 ? " " : "\n\t",
				ie_by_id(exp_ids[k % nexp])->name);
		}
		fprintf(f, "\n");
	}
	for (i = 0; i < ncoll; i++) {
		recipe_name(name, nlen, i, flags & RECIPE_SAME_NAME && i < 2);
		recipe_name(tname, nlen, ntmpl ? i % ntmpl : 0, false);
		if (flags & RECIPE_MISSING && i == ncoll - 1)
			snprintf(tname, sizeof(tname), "missing");
		fprintf(f, "[collector %s]\naddress = 192.0.2.%d:4739\n", name,
			i + 1);
		if (ntmpl || flags & RECIPE_MISSING)
			fprintf(f, "template = %s\n", tname);
	}
	fclose(f);
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fe_config cfg; /* 20 KB: keep it off the stack */
	char err[512], *text, *e;
	const char *s;
	long line, lines = 1;
	int ret;

	if (size && data[0] == RECIPE_MAGIC) {
		text = recipe_text(data, size);
	} else {
		text = malloc(size + 1);
		if (text) {
			memcpy(text, data, size);
			text[size] = '\0';
		}
	}
	if (!text)
		return 0;

	ret = fe_config_parse("fuzz.ini", text, FE_CONFIG_NO_RESOLVE, &cfg, err,
			      sizeof(err));
	if (ret == 0) {
		check_config(&cfg, text);
		check_roundtrip(&cfg, text);
	} else if (ret == -EINVAL) {
		for (s = text; *s; s++)
			lines += *s == '\n' && s[1];
		if (strncmp(err, "fuzz.ini:", 9))
			fail("error does not name the file", text, err);
		line = strtol(err + 9, &e, 10);
		if (*e != ':' || line < 1 || line > lines)
			fail("error names no line of the input", text, err);
	} else {
		fail("unexpected return value", text, err);
	}
	free(text);
	return 0;
}
