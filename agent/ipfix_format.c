/* ipfix_format.c - decoded IPFIX records as text or JSON lines: element
 * names (IANA, RFC 5103 reverse, or numeric), and each value rendered by
 * its element's type, as hex when its length does not suit the type.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "ie.h"
#include "ipfix.h"
#include "ipfix_decode.h"
#include "json.h"

struct sbuf {
	char *buf;
	size_t len, cap;
	bool over;
};

static void __attribute__((format(printf, 2, 3)))
sb_printf(struct sbuf *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (s->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(s->buf + s->len, s->cap - s->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= s->cap - s->len) {
		s->over = true;
		s->buf[s->len] = 0;
		return;
	}
	s->len += n;
}

static void sb_putc(struct sbuf *s, char c)
{
	if (s->over)
		return;
	if (s->cap - s->len < 2) {
		s->over = true;
		return;
	}
	s->buf[s->len++] = c;
	s->buf[s->len] = 0;
}

static void sb_hex(struct sbuf *s, const uint8_t *p, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		sb_putc(s, hx[p[i] >> 4]);
		sb_putc(s, hx[p[i] & 15]);
	}
}

/* A JSON string, escaped as json.h says, whatever the exporter sent. */
static void sb_str(struct sbuf *s, const uint8_t *p, size_t n)
{
	char e[7];
	size_t i;

	sb_putc(s, '"');
	for (i = 0; i < n; i++) {
		json_escape_byte(p[i], e);
		sb_printf(s, "%s", e);
	}
	sb_putc(s, '"');
}

bool ipfix_dec_uint(const struct ipfix_dec_value *v, uint64_t *out)
{
	uint64_t x = 0;
	int i;

	if (!v->len || v->len > 8)
		return false;
	for (i = 0; i < v->len; i++)
		x = x << 8 | v->data[i];
	*out = x;
	return true;
}

const struct ipfix_dec_value *ipfix_dec_find(const struct ipfix_dec_record *r,
					     uint16_t id, uint32_t pen)
{
	int i;

	for (i = 0; i < r->nvalues; i++)
		if (r->v[i].id == id && r->v[i].pen == pen)
			return &r->v[i];
	return NULL;
}

const char *ipfix_ie_name(uint16_t id, uint32_t pen, char *buf, size_t len)
{
	const struct ie_def *d = NULL;

	if (!pen || pen == IPFIX_PEN_REVERSE)
		d = ie_by_id(id);
	if (d && !pen)
		snprintf(buf, len, "%s", d->name);
	else if (d)
		snprintf(buf, len, "reverse%c%s", toupper(d->name[0]),
			 d->name + 1);
	else if (!pen)
		snprintf(buf, len, "ie%u", id);
	else
		snprintf(buf, len, "ie%u.%u", pen, id);
	return buf;
}

/* UNIX time in 10^-digits s of an NTP timestamp, rounded to nearest (the
 * microsecond type keeps only 21 bits of fraction).
 */
static int64_t ntp_to_unix(uint64_t v, uint64_t unit)
{
	int64_t sec = (int64_t)(v >> 32) - (int64_t)IPFIX_NTP_EPOCH_OFFSET;
	uint64_t frac = ((v & 0xffffffffULL) * unit + (1ULL << 31)) >> 32;

	return sec * (int64_t)unit + (int64_t)frac;
}

/* The type a value is rendered as: its element's, else by its length. */
static enum ie_type sb_type(const struct ipfix_dec_value *v)
{
	const struct ie_def *d = NULL;

	if (!v->pen || v->pen == IPFIX_PEN_REVERSE)
		d = ie_by_id(v->id);
	if (d)
		return d->type;
	return v->len == 1 || v->len == 2 || v->len == 4 || v->len == 8
		       ? IE_T_U64
		       : IE_T_OCTETS;
}

/* Integers, booleans and times. False: the length does not suit the
 * type (nothing printed).
 */
static bool sb_integer(struct sbuf *s, const struct ipfix_dec_value *v,
		       enum ie_type type)
{
	uint64_t u;

	switch (type) {
	case IE_T_I32:
		if (!ipfix_dec_uint(v, &u) || v->len > 4)
			return false;
		/* sign-extend a reduced-size value */
		if (u & (1ULL << (v->len * 8 - 1)))
			u |= ~0ULL << (v->len * 8);
		sb_printf(s, "%lld", (long long)u);
		return true;
	case IE_T_BOOL:
		if (v->len != 1)
			return false;
		if (v->data[0] == 1 || v->data[0] == 2)
			sb_printf(s, "%s", v->data[0] == 1 ? "true" : "false");
		else
			sb_printf(s, "%u", v->data[0]);
		return true;
	case IE_T_US:
	case IE_T_NS:
		if (v->len != 8 || !ipfix_dec_uint(v, &u))
			return false;
		sb_printf(s, "%lld",
			  (long long)ntp_to_unix(u, type == IE_T_US
							    ? 1000000ULL
							    : 1000000000ULL));
		return true;
	default: /* unsigned, seconds, milliseconds */
		if (!ipfix_dec_uint(v, &u))
			return false;
		sb_printf(s, "%llu", (unsigned long long)u);
		return true;
	}
}

static bool sb_float(struct sbuf *s, const struct ipfix_dec_value *v, bool json)
{
	uint64_t u;
	double x;

	if (v->len == 8) {
		ipfix_dec_uint(v, &u);
		memcpy(&x, &u, sizeof(x));
	} else if (v->len == 4) {
		uint32_t u32;
		float f;

		ipfix_dec_uint(v, &u);
		u32 = u;
		memcpy(&f, &u32, sizeof(f));
		x = f;
	} else {
		return false;
	}
	if (isfinite(x))
		sb_printf(s, "%.17g", x);
	else
		sb_printf(s, "%s", json ? "null" : "nan");
	return true;
}

/* IPv4, IPv6 and MAC addresses; quoted in JSON. */
static bool sb_address(struct sbuf *s, const struct ipfix_dec_value *v,
		       enum ie_type type, bool json)
{
	char a[INET6_ADDRSTRLEN];

	if (type == IE_T_MAC) {
		if (v->len != 6)
			return false;
		sb_printf(s,
			  json ? "\"%02x:%02x:%02x:%02x:%02x:%02x\""
			       : "%02x:%02x:%02x:%02x:%02x:%02x",
			  v->data[0], v->data[1], v->data[2], v->data[3],
			  v->data[4], v->data[5]);
		return true;
	}
	if (v->len != (type == IE_T_IPV4 ? 4 : 16))
		return false;
	inet_ntop(type == IE_T_IPV4 ? AF_INET : AF_INET6, v->data, a,
		  sizeof(a));
	sb_printf(s, json ? "\"%s\"" : "%s", a);
	return true;
}

static void sb_value(struct sbuf *s, const struct ipfix_dec_value *v, bool json)
{
	enum ie_type type = sb_type(v);
	bool done = false;

	switch (type) {
	case IE_T_U8:
	case IE_T_U16:
	case IE_T_U32:
	case IE_T_U64:
	case IE_T_SEC:
	case IE_T_MS:
	case IE_T_I32:
	case IE_T_BOOL:
	case IE_T_US:
	case IE_T_NS:
		done = sb_integer(s, v, type);
		break;
	case IE_T_FLOAT64:
		done = sb_float(s, v, json);
		break;
	case IE_T_IPV4:
	case IE_T_IPV6:
	case IE_T_MAC:
		done = sb_address(s, v, type, json);
		break;
	case IE_T_STRING: {
		size_t n = v->len;

		/* fixed-length strings (NetFlow v9 has no others) come
		 * zero-padded
		 */
		while (n && !v->data[n - 1])
			n--;
		sb_str(s, v->data, n);
		done = true;
		break;
	}
	case IE_T_OCTETS:
		break;
	}
	if (done)
		return;
	/* octet arrays, and values whose length does not suit their type */
	if (json)
		sb_putc(s, '"');
	else
		sb_printf(s, "0x");
	sb_hex(s, v->data, v->len);
	if (json)
		sb_putc(s, '"');
}

static int ipfix_format(const struct ipfix_dec_record *r, char *buf, size_t len,
			bool json)
{
	struct sbuf s = { .buf = buf, .cap = len };
	char name[48];
	int i;

	if (!len)
		return -ENOSPC;
	buf[0] = 0;
	if (json)
		sb_printf(&s,
			  "{\"domain\":%u,\"template\":%u,\"export_time\":%u",
			  r->domain, r->template_id, r->export_time);
	else
		sb_printf(&s, "domain=%u template=%u export_time=%u", r->domain,
			  r->template_id, r->export_time);
	if (r->options)
		sb_printf(&s, json ? ",\"options\":true" : " options=1");
	for (i = 0; i < r->nvalues; i++) {
		ipfix_ie_name(r->v[i].id, r->v[i].pen, name, sizeof(name));
		sb_printf(&s, json ? ",\"%s\":" : " %s=", name);
		sb_value(&s, &r->v[i], json);
	}
	if (json)
		sb_putc(&s, '}');
	return s.over ? -ENOSPC : (int)s.len;
}

int ipfix_format_text(const struct ipfix_dec_record *r, char *buf, size_t len)
{
	return ipfix_format(r, buf, len, false);
}

int ipfix_format_json(const struct ipfix_dec_record *r, char *buf, size_t len)
{
	return ipfix_format(r, buf, len, true);
}
