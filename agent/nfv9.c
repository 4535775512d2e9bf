/* nfv9.c - the NetFlow v9 wire format (RFC 3954): the 20-octet header with
 * sysUptime and a sequence number that counts export packets, flowset ids
 * 0 and 1, options templates with v9's scope types, sets padded to 4
 * octets, no enterprise fields. ipfix.c's writer builds the messages.
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

uint16_t nfv9_scope_type(uint16_t ie)
{
	return ie == 10 || ie == 14 ? NFV9_SCOPE_INTERFACE : NFV9_SCOPE_SYSTEM;
}

/* Template: id, field count; options template: id, then the scope and the
 * option fields' lengths in octets (RFC 3954 6.1).
 */
static void nfv9_put_template_header(uint8_t *p, const struct ipfix_template *t)
{
	ipfix_put16(p, t->id);
	if (!t->scope) {
		ipfix_put16(p + 2, t->nfields);
		return;
	}
	ipfix_put16(p + 2, 4 * t->scope);
	ipfix_put16(p + 4, 4 * (t->nfields - t->scope));
}

const struct ipfix_wire nfv9_wire = {
	.put_header = nfv9_put_header,
	.put_template_header = nfv9_put_template_header,
	.scope_type = nfv9_scope_type,
	.name = "NetFlow v9",
	.version = NFV9_VERSION,
	.hdr_len = NFV9_MSG_HDR_LEN,
	.set_template = NFV9_SET_TEMPLATE,
	.set_options = NFV9_SET_OPTIONS_TEMPLATE,
	.pad_sets = true,
	/* nfdump reads one options template per flowset */
	.options_set_each = true,
	.seq_per_message = true,
	.seq_off = 12,
};

struct ipfix_writer *nfv9_writer__new(uint32_t source_id, uint16_t mtu,
				      uint64_t boot_ms, ipfix_send_fn send,
				      void *ctx)
{
	return ipfix_writer__new_wire(&nfv9_wire, source_id, mtu, boot_ms, send,
				      ctx);
}
