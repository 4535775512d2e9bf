/* nfv9.c - the NetFlow v9 wire format (RFC 3954): the 20-octet header with
 * sysUptime and a sequence number that counts export packets, flowset ids
 * 0 and 1, options templates with v9's scope types, sets padded to 4
 * octets. ipfix.c's writer builds the messages.
 */
#include "nfv9.h"

/* version, count, sysUptime, unix_secs, sequence, source ID (RFC 3954
 * 5.1); count is every record in the packet, template records included.
 */
static void nfv9_put_header(uint8_t *p, const struct ipfix_msg_hdr *h)
{
	ipfix_put16(p, NFV9_VERSION);
	ipfix_put16(p + 2, h->count);
	ipfix_put32(p + 4, h->uptime_ms);
	ipfix_put32(p + 8, h->now_s);
	ipfix_put32(p + 12, h->seq);
	ipfix_put32(p + 16, h->domain);
}

/* Template: id, field count, (type, length)...; options template: id,
 * scope length and option length in octets, the scope fields, the option
 * fields (RFC 3954 6.1). No field may carry an enterprise number.
 */
static size_t nfv9_template_len(const struct ipfix_template *t)
{
	int i;

	for (i = 0; i < t->nfields; i++)
		if (t->f[i].pen)
			return 0;
	return (t->scope ? 6 : 4) + 4 * (size_t)t->nfields;
}

uint16_t nfv9_scope_type(uint16_t ie)
{
	return ie == 10 || ie == 14 ? NFV9_SCOPE_INTERFACE : NFV9_SCOPE_SYSTEM;
}

static void nfv9_put_template(uint8_t *p, const struct ipfix_template *t)
{
	int i;

	ipfix_put16(p, t->id);
	if (t->scope) {
		ipfix_put16(p + 2, 4 * t->scope);
		ipfix_put16(p + 4, 4 * (t->nfields - t->scope));
		p += 6;
	} else {
		ipfix_put16(p + 2, t->nfields);
		p += 4;
	}
	for (i = 0; i < t->nfields; i++) {
		uint16_t type = t->f[i].id;

		if (i < t->scope)
			type = nfv9_scope_type(type);
		ipfix_put16(p, type);
		ipfix_put16(p + 2, t->f[i].len);
		p += 4;
	}
}

const struct ipfix_wire nfv9_wire = {
	.name = "NetFlow v9",
	.version = NFV9_VERSION,
	.hdr_len = NFV9_MSG_HDR_LEN,
	.set_template = NFV9_SET_TEMPLATE,
	.set_options = NFV9_SET_OPTIONS_TEMPLATE,
	.pad_sets = true,
	/* nfdump reads one options template per flowset */
	.options_set_each = true,
	.seq_per_message = true,
	.put_header = nfv9_put_header,
	.template_len = nfv9_template_len,
	.put_template = nfv9_put_template,
};

struct ipfix_writer *nfv9_writer__new(uint32_t source_id, uint16_t mtu,
				      uint64_t boot_ms, ipfix_send_fn send,
				      void *ctx)
{
	return ipfix_writer__new_wire(&nfv9_wire, source_id, mtu, boot_ms, send,
				      ctx);
}
