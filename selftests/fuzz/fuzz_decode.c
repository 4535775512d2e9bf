/* fuzz_decode.c - fuzz target of the IPFIX decoder and its renderers. The
 * input is a sequence of messages, each as long as its header says (the
 * rest of the input when that does not fit), fed to one decoder session so
 * templates learnt from one message decode the data of the next.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "ie.h"
#include "ipfix.h"
#include "ipfix_decode.h"

static char fuzz_line[256 * 1024];

static int fuzz_record(void *ctx, const struct ipfix_dec_record *r)
{
	ipfix_format_json(r, fuzz_line, sizeof(fuzz_line));
	ipfix_format_text(r, fuzz_line, sizeof(fuzz_line));
	/* a short buffer exercises the truncation paths */
	ipfix_format_json(r, fuzz_line, 64);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipfix_decoder *d = ipfix_decoder__new();
	struct ipfix_dec_msg info;
	char err[256];
	size_t off = 0;

	if (!d)
		return 0;
	while (off < size) {
		size_t left = size - off, len = left;
		/* a copy of exactly len bytes, so ASan sees any overread */
		uint8_t *msg;

		if (left >= 4) {
			size_t hl = (size_t)data[off + 2] << 8 | data[off + 3];

			if (hl >= 16 && hl <= left)
				len = hl;
		}
		msg = malloc(len ? len : 1);
		if (!msg)
			break;
		memcpy(msg, data + off, len);
		ipfix_decoder__parse(d, data, size ? 1 : 0, msg, len,
				     fuzz_record, NULL, &info, err,
				     sizeof(err));
		free(msg);
		off += len;
	}
	ipfix_decoder__free(d);
	return 0;
}

struct fuzz_sink {
	uint8_t *buf;
	size_t cap, len;
};

static int fuzz_sink_send(void *ctx, const void *msg, size_t len)
{
	struct fuzz_sink *s = ctx;

	if (s->len + len > s->cap)
		return -ENOSPC;
	memcpy(s->buf + s->len, msg, len);
	s->len += len;
	return 0;
}

static void fuzz_fill(struct fe_record *r, int family, int i)
{
	memset(r, 0, sizeof(*r));
	r->family = family;
	r->proto = i & 1 ? 17 : 6;
	r->src[0] = 10;
	r->src[15] = i;
	r->dst[0] = 192;
	r->sport = 1000 + i;
	r->dport = 53;
	r->has_rev = true;
	r->fwd.packets = i + 1;
	r->fwd.octets = 100 * (i + 1);
	r->fwd.start_ms = 1700000000000ULL + i;
	r->fwd.end_ms = 1700000001000ULL + i;
	r->rev.packets = i;
	r->rev.tcp_flags = 0x12;
}

/* Seeds: encoder output (uniflow IPv4, biflow IPv6, every exportable
 * element, templates and data in separate messages) and hand-made options
 * and variable-length messages.
 */
size_t fuzz_seed(int i, uint8_t *buf, size_t cap)
{
	static const uint8_t options_msg[] = {
		0x00, 0x0a, 0x00, 0x3e, 0x65, 0x53, 0xf1, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, /* header, domain 3 */
		0x00, 0x03, 0x00, 0x16, 0x01, 0x90, 0x00, 0x03, 0x00,
		0x01, 0x00, 0x95, 0x00, 0x04, 0x00, 0x29, 0x00, 0x08,
		0x00, 0xa6, 0x00, 0x08, /* options template 400 */
		0x01, 0x90, 0x00, 0x18, 0x00, 0x00, 0x00, 0x03, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x11, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x02, /* one options record */
	};
	static const uint8_t
		varlen_msg
			[] = {
				0x00, 0x0a, 0x00, 0x3a, 0x65, 0x53, 0xf1,
				0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
				0x00, 0x09, /* header, domain 9 */
				0x00, 0x02, 0x00, 0x18, 0x01, 0xf4, 0x00,
				0x03, 0x00, 0x52, 0xff, 0xff, 0x00, 0x01,
				0x00, 0x04, 0x80, 0x4d, 0xff, 0xff, 0x00,
				0x00, 0x30, 0x39, /* template 500: 82 var, 1/4, PEN var */
				0x01, 0xf4, 0x00, 0x12, 0x04, 'e',  't',
				'h',  '0',  0x00, 0x00, 0x00, 0x4d, 0xff,
				0x00, 0x02, 0xab, 0xcd,
			};
	struct fuzz_sink s = { .buf = buf, .cap = cap };
	uint16_t ies[IPFIX_MAX_FIELDS];
	const struct ie_def *def;
	struct ipfix_template t;
	const struct ipfix_template *tp = &t;
	struct ipfix_writer *w;
	struct fe_record r;
	char err[128];
	const uint16_t *list;
	int n = 0, k, family = 4;
	bool biflow = false, split = false;

	switch (i) {
	case 0:
		list = ipfix_default_fields(&n);
		break;
	case 1:
		list = ipfix_default_fields(&n);
		family = 6;
		biflow = true;
		break;
	case 2:
		for (k = 0; (def = ie_at(k)) && n < 30; k++)
			if (def->exportable)
				ies[n++] = def->id;
		list = ies;
		break;
	case 3:
		list = ipfix_default_fields(&n);
		split = true;
		break;
	case 4:
		if (cap < sizeof(options_msg))
			return 0;
		memcpy(buf, options_msg, sizeof(options_msg));
		return sizeof(options_msg);
	case 5:
		if (cap < sizeof(varlen_msg))
			return 0;
		memcpy(buf, varlen_msg, sizeof(varlen_msg));
		return sizeof(varlen_msg);
	default:
		return 0;
	}
	if (ipfix_template_build(&t, 1024, family, biflow, list, n, err,
				 sizeof(err)))
		return 0;
	w = ipfix_writer__new(1, 0, fuzz_sink_send, &s);
	if (!w)
		return 0;
	ipfix_writer__add_templates(w, &tp, 1, 1700000000);
	if (split)
		ipfix_writer__flush(w, 1700000000);
	for (k = 0; k < 3; k++) {
		fuzz_fill(&r, family, k);
		ipfix_writer__add_record(w, &t, &r, 1700000000);
	}
	ipfix_writer__flush(w, 1700000000);
	ipfix_writer__free(w);
	return s.len;
}
