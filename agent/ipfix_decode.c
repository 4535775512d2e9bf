/* ipfix_decode.c - the IPFIX decoder: message and set framing checks,
 * template and options template bookkeeping per (source, domain, id),
 * data record decoding, sequence gap detection and text/JSON rendering.
 * Every read is bounds-checked against the set or message it belongs to.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ie.h"
#include "ipfix.h"
#include "ipfix_decode.h"

struct dec_field {
	uint16_t id;
	uint16_t len; /* IE_VARLEN: variable */
	uint32_t pen;
};

struct dec_key {
	uint8_t src[IPFIX_DEC_MAX_SOURCE];
	uint8_t srclen;
	uint32_t domain;
};

struct dec_template {
	struct dec_key key;
	uint16_t id;
	bool options;
	uint16_t scope;
	uint16_t nfields;
	uint32_t min_len; /* octets of the shortest record: never 0 */
	struct dec_field *f;
};

/* Sequence state of one (source, domain): next is the sequence number the
 * next message should carry; valid is false until a message was counted
 * completely (a set for an unknown template hides its record count).
 */
struct dec_domain {
	struct dec_key key;
	uint32_t next;
	bool valid;
};

struct ipfix_decoder {
	struct dec_template *t;
	int nt, capt;
	struct dec_domain *dom;
	int ndom, capdom;
	struct ipfix_decoder_stats st;
	struct ipfix_dec_record rec;
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)p[0] << 8 | p[1];
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

struct ipfix_decoder *ipfix_decoder__new(void)
{
	return calloc(1, sizeof(struct ipfix_decoder));
}

void ipfix_decoder__free(struct ipfix_decoder *d)
{
	int i;

	if (!d)
		return;
	for (i = 0; i < d->nt; i++)
		free(d->t[i].f);
	free(d->t);
	free(d->dom);
	free(d);
}

void ipfix_decoder__stats(const struct ipfix_decoder *d,
			  struct ipfix_decoder_stats *s)
{
	*s = d->st;
}

static void dec_key_set(struct dec_key *k, const void *src, size_t srclen,
			uint32_t domain)
{
	memset(k, 0, sizeof(*k));
	if (srclen > IPFIX_DEC_MAX_SOURCE)
		srclen = IPFIX_DEC_MAX_SOURCE;
	if (src && srclen)
		memcpy(k->src, src, srclen);
	k->srclen = src ? srclen : 0;
	k->domain = domain;
}

static bool dec_key_eq(const struct dec_key *a, const struct dec_key *b)
{
	return a->domain == b->domain && a->srclen == b->srclen &&
	       !memcmp(a->src, b->src, a->srclen);
}

static struct dec_template *dec_find(struct ipfix_decoder *d,
				     const struct dec_key *k, uint16_t id)
{
	int i;

	for (i = 0; i < d->nt; i++)
		if (d->t[i].id == id && dec_key_eq(&d->t[i].key, k))
			return &d->t[i];
	return NULL;
}

static void dec_remove(struct ipfix_decoder *d, int i)
{
	free(d->t[i].f);
	d->t[i] = d->t[--d->nt];
}

/* Withdraws template id, or every template of the kind (options or not)
 * when id is the set id itself (RFC 7011 8.1). Returns how many went.
 */
static int dec_withdraw(struct ipfix_decoder *d, const struct dec_key *k,
			uint16_t id, bool options)
{
	int i, n = 0;

	for (i = d->nt - 1; i >= 0; i--) {
		if (!dec_key_eq(&d->t[i].key, k))
			continue;
		if (id < IPFIX_MIN_TEMPLATE_ID ? d->t[i].options == options
					       : d->t[i].id == id) {
			dec_remove(d, i);
			n++;
		}
	}
	return n;
}

static struct dec_domain *dec_domain_get(struct ipfix_decoder *d,
					 const struct dec_key *k)
{
	struct dec_domain *nd;
	int i;

	for (i = 0; i < d->ndom; i++)
		if (dec_key_eq(&d->dom[i].key, k))
			return &d->dom[i];
	if (d->ndom >= IPFIX_DEC_MAX_TEMPLATES)
		return NULL; /* stop tracking rather than grow without bound */
	if (d->ndom == d->capdom) {
		int cap = d->capdom ? d->capdom * 2 : 8;

		nd = realloc(d->dom, cap * sizeof(*nd));
		if (!nd)
			return NULL;
		d->dom = nd;
		d->capdom = cap;
	}
	nd = &d->dom[d->ndom++];
	memset(nd, 0, sizeof(*nd));
	nd->key = *k;
	return nd;
}

#define FAIL(...)                                   \
	do {                                        \
		snprintf(err, errlen, __VA_ARGS__); \
		return -EINVAL;                     \
	} while (0)

/* Parses the template records of one (options) template set. */
static int dec_templates(struct ipfix_decoder *d, const struct dec_key *k,
			 uint16_t sid, const uint8_t *p, const uint8_t *end,
			 size_t set_off, struct ipfix_dec_msg *info, char *err,
			 size_t errlen)
{
	bool options = sid == IPFIX_SET_OPTIONS_TEMPLATE;
	const char *kind = options ? "options template" : "template";

	while (end - p >= 4) {
		uint16_t tid = get16(p), cnt = get16(p + 2), scope = 0;
		struct dec_template nt, *old;
		uint32_t min_len = 0;
		int i;

		if (!tid && !cnt) {
			const uint8_t *z = p;

			while (z < end && !*z)
				z++;
			if (z == end)
				break; /* zero padding */
		}
		if (!cnt) {
			if (tid != sid && tid < IPFIX_MIN_TEMPLATE_ID)
				FAIL("set at offset %zu: %s withdraws id %u",
				     set_off, kind, tid);
			dec_withdraw(d, k, tid, options);
			info->withdrawals++;
			p += 4;
			continue;
		}
		if (tid < IPFIX_MIN_TEMPLATE_ID)
			FAIL("set at offset %zu: %s id %u is below 256",
			     set_off, kind, tid);
		if (cnt > IPFIX_DEC_MAX_FIELDS)
			FAIL("%s %u: %u fields, more than %d", kind, tid, cnt,
			     IPFIX_DEC_MAX_FIELDS);
		p += 4;
		if (options) {
			if (end - p < 2)
				FAIL("%s %u: truncated before its scope count",
				     kind, tid);
			scope = get16(p);
			p += 2;
			if (!scope || scope > cnt)
				FAIL("%s %u: scope field count %u of %u fields",
				     kind, tid, scope, cnt);
		}
		memset(&nt, 0, sizeof(nt));
		nt.f = calloc(cnt, sizeof(*nt.f));
		if (!nt.f)
			FAIL("%s %u: out of memory", kind, tid);
		for (i = 0; i < cnt; i++) {
			if (end - p < 4)
				goto truncated;
			nt.f[i].id = get16(p) & 0x7fff;
			nt.f[i].len = get16(p + 2);
			if (get16(p) & 0x8000) {
				if (end - p < 8)
					goto truncated;
				nt.f[i].pen = get32(p + 4);
				p += 4;
			}
			p += 4;
			if (!nt.f[i].len) {
				uint16_t id = nt.f[i].id;

				free(nt.f);
				FAIL("%s %u: field %d (element %u): length 0",
				     kind, tid, i, id);
			}
			min_len += nt.f[i].len == IE_VARLEN ? 1 : nt.f[i].len;
		}
		if (min_len > 65535 - IPFIX_MSG_HDR_LEN - IPFIX_SET_HDR_LEN) {
			free(nt.f);
			FAIL("%s %u: records of %u octets cannot fit a message",
			     kind, tid, min_len);
		}
		nt.key = *k;
		nt.id = tid;
		nt.options = options;
		nt.scope = scope;
		nt.nfields = cnt;
		nt.min_len = min_len;
		old = dec_find(d, k, tid);
		if (old) {
			struct dec_field *stale = old->f;

			*old = nt;
			free(stale);
		} else {
			if (d->nt >= IPFIX_DEC_MAX_TEMPLATES) {
				free(nt.f);
				FAIL("%s %u: more than %d templates known",
				     kind, tid, IPFIX_DEC_MAX_TEMPLATES);
			}
			if (d->nt == d->capt) {
				int cap = d->capt ? d->capt * 2 : 16;
				struct dec_template *t;

				t = realloc(d->t, cap * sizeof(*t));
				if (!t) {
					free(nt.f);
					FAIL("%s %u: out of memory", kind, tid);
				}
				d->t = t;
				d->capt = cap;
			}
			d->t[d->nt++] = nt;
		}
		info->templates++;
		d->st.templates++;
		continue;
	truncated:
		free(nt.f);
		FAIL("%s %u: truncated in field %d of %u", kind, tid, i, cnt);
	}
	return 0;
}

/* Decodes the records of one data set and hands each to cb. */
static int dec_data(struct ipfix_decoder *d, const struct dec_template *t,
		    const uint8_t *p, const uint8_t *end, size_t set_off,
		    ipfix_record_fn cb, void *ctx, struct ipfix_dec_msg *info,
		    char *err, size_t errlen)
{
	struct ipfix_dec_record *r = &d->rec;
	int i, ret;

	r->template_id = t->id;
	r->options = t->options;
	r->scope_count = t->scope;
	/* what is left when shorter than the shortest record is padding */
	while ((size_t)(end - p) >= t->min_len) {
		r->nvalues = 0;
		for (i = 0; i < t->nfields; i++) {
			uint32_t l = t->f[i].len;

			if (l == IE_VARLEN) {
				if (end - p < 1)
					goto overrun;
				l = *p++;
				if (l == 255) {
					if (end - p < 2)
						goto overrun;
					l = get16(p);
					p += 2;
				}
			}
			if ((size_t)(end - p) < l)
				goto overrun;
			r->v[i].id = t->f[i].id;
			r->v[i].pen = t->f[i].pen;
			r->v[i].len = l;
			r->v[i].data = p;
			p += l;
		}
		r->nvalues = t->nfields;
		info->records++;
		d->st.records++;
		if (cb) {
			ret = cb(ctx, r);
			if (ret)
				return ret;
		}
	}
	return 0;
overrun:
	FAIL("data set at offset %zu (template %u): field %d of record %u "
	     "overruns the set",
	     set_off, t->id, i, info->records + 1);
}

int ipfix_decoder__parse(struct ipfix_decoder *d, const void *src,
			 size_t srclen, const uint8_t *msg, size_t len,
			 ipfix_record_fn cb, void *ctx,
			 struct ipfix_dec_msg *info, char *err, size_t errlen)
{
	struct ipfix_dec_msg local;
	struct dec_domain *dom;
	struct dec_key k;
	size_t off, mlen;
	int ret = 0;

	if (!info)
		info = &local;
	memset(info, 0, sizeof(*info));
	if (errlen)
		err[0] = 0;
	d->st.messages++;
	if (len < IPFIX_MSG_HDR_LEN) {
		snprintf(err, errlen,
			 "message of %zu octets is shorter than its header",
			 len);
		goto malformed;
	}
	if (get16(msg) != IPFIX_VERSION) {
		snprintf(err, errlen, "version %u, not 10 (IPFIX)", get16(msg));
		goto malformed;
	}
	mlen = get16(msg + 2);
	info->export_time = get32(msg + 4);
	info->seq = get32(msg + 8);
	info->domain = get32(msg + 12);
	if (mlen != len) {
		snprintf(err, errlen,
			 "header says %zu octets but the message has %zu", mlen,
			 len);
		goto malformed;
	}
	/* check the framing of every set before acting on any */
	for (off = IPFIX_MSG_HDR_LEN; off < mlen;) {
		uint16_t sid, slen;

		if (mlen - off < IPFIX_SET_HDR_LEN) {
			snprintf(err, errlen,
				 "%zu stray octets at offset %zu after the "
				 "last set",
				 mlen - off, off);
			goto malformed;
		}
		sid = get16(msg + off);
		slen = get16(msg + off + 2);
		if (slen < IPFIX_SET_HDR_LEN) {
			snprintf(
				err, errlen,
				"set at offset %zu has length %u (less than 4)",
				off, slen);
			goto malformed;
		}
		if (slen > mlen - off) {
			snprintf(err, errlen,
				 "set at offset %zu (id %u, %u octets) "
				 "overruns the message (%zu octets left)",
				 off, sid, slen, mlen - off);
			goto malformed;
		}
		if (sid < IPFIX_SET_TEMPLATE ||
		    (sid > IPFIX_SET_OPTIONS_TEMPLATE &&
		     sid < IPFIX_MIN_TEMPLATE_ID)) {
			snprintf(err, errlen,
				 "set at offset %zu has reserved set id %u",
				 off, sid);
			goto malformed;
		}
		off += slen;
	}

	dec_key_set(&k, src, srclen, info->domain);
	d->rec.domain = info->domain;
	d->rec.export_time = info->export_time;
	d->rec.seq = info->seq;
	dom = dec_domain_get(d, &k);
	if (dom && dom->valid && dom->next != info->seq) {
		uint32_t lost = info->seq - dom->next;

		info->seq_gap = true;
		info->seq_expected = dom->next;
		d->st.seq_gaps++;
		/* a "gap" backwards is a reordering or an exporter restart */
		if (lost < 0x80000000u)
			d->st.seq_lost += lost;
	}
	for (off = IPFIX_MSG_HDR_LEN; off < mlen;) {
		uint16_t sid = get16(msg + off), slen = get16(msg + off + 2);
		const uint8_t *p = msg + off + IPFIX_SET_HDR_LEN;
		const uint8_t *end = msg + off + slen;

		if (sid <= IPFIX_SET_OPTIONS_TEMPLATE) {
			ret = dec_templates(d, &k, sid, p, end, off, info, err,
					    errlen);
		} else {
			const struct dec_template *t = dec_find(d, &k, sid);

			if (!t) {
				info->unknown_sets++;
				info->unknown_template = sid;
				d->st.unknown_sets++;
			} else {
				ret = dec_data(d, t, p, end, off, cb, ctx, info,
					       err, errlen);
			}
		}
		if (ret == -EINVAL)
			goto malformed;
		if (ret)
			break;
		off += slen;
	}
	if (dom) {
		dom->next = info->seq + info->records;
		dom->valid = !ret && !info->unknown_sets;
	}
	return ret;

malformed:
	d->st.malformed++;
	if (len >= IPFIX_MSG_HDR_LEN && get16(msg) == IPFIX_VERSION) {
		dec_key_set(&k, src, srclen, get32(msg + 12));
		dom = dec_domain_get(d, &k);
		if (dom)
			dom->valid = false;
	}
	return -EINVAL;
}

/* ---- rendering ---- */

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

/* A JSON string; bytes outside printable ASCII become \u00XX so the line
 * stays valid JSON (and valid UTF-8) whatever the exporter sent.
 */
static void sb_str(struct sbuf *s, const uint8_t *p, size_t n)
{
	size_t i;

	sb_putc(s, '"');
	for (i = 0; i < n; i++) {
		if (p[i] == '"' || p[i] == '\\') {
			sb_putc(s, '\\');
			sb_putc(s, p[i]);
		} else if (p[i] < 0x20 || p[i] >= 0x7f) {
			sb_printf(s, "\\u%04x", p[i]);
		} else {
			sb_putc(s, p[i]);
		}
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

static void sb_value(struct sbuf *s, const struct ipfix_dec_value *v, bool json)
{
	const struct ie_def *d = NULL;
	enum ie_type type;
	char a[INET6_ADDRSTRLEN];
	uint64_t u;

	if (!v->pen || v->pen == IPFIX_PEN_REVERSE)
		d = ie_by_id(v->id);
	if (d)
		type = d->type;
	else
		type = v->len == 1 || v->len == 2 || v->len == 4 || v->len == 8
			       ? IE_T_U64
			       : IE_T_OCTETS;

	switch (type) {
	case IE_T_U8:
	case IE_T_U16:
	case IE_T_U32:
	case IE_T_U64:
	case IE_T_SEC:
	case IE_T_MS:
		if (!ipfix_dec_uint(v, &u))
			break;
		sb_printf(s, "%llu", (unsigned long long)u);
		return;
	case IE_T_I32:
		if (!ipfix_dec_uint(v, &u) || v->len > 4)
			break;
		/* sign-extend a reduced-size value */
		if (u & (1ULL << (v->len * 8 - 1)))
			u |= ~0ULL << (v->len * 8);
		sb_printf(s, "%lld", (long long)u);
		return;
	case IE_T_BOOL:
		if (v->len != 1)
			break;
		if (v->data[0] == 1 || v->data[0] == 2)
			sb_printf(s, "%s", v->data[0] == 1 ? "true" : "false");
		else
			sb_printf(s, "%u", v->data[0]);
		return;
	case IE_T_US:
	case IE_T_NS:
		if (v->len != 8 || !ipfix_dec_uint(v, &u))
			break;
		sb_printf(s, "%lld",
			  (long long)ntp_to_unix(u, type == IE_T_US
							    ? 1000000ULL
							    : 1000000000ULL));
		return;
	case IE_T_FLOAT64: {
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
			break;
		}
		if (isfinite(x))
			sb_printf(s, "%.17g", x);
		else
			sb_printf(s, "%s", json ? "null" : "nan");
		return;
	}
	case IE_T_IPV4:
	case IE_T_IPV6:
		if (v->len != (type == IE_T_IPV4 ? 4 : 16))
			break;
		inet_ntop(type == IE_T_IPV4 ? AF_INET : AF_INET6, v->data, a,
			  sizeof(a));
		sb_printf(s, json ? "\"%s\"" : "%s", a);
		return;
	case IE_T_MAC:
		if (v->len != 6)
			break;
		sb_printf(s,
			  json ? "\"%02x:%02x:%02x:%02x:%02x:%02x\""
			       : "%02x:%02x:%02x:%02x:%02x:%02x",
			  v->data[0], v->data[1], v->data[2], v->data[3],
			  v->data[4], v->data[5]);
		return;
	case IE_T_STRING:
		sb_str(s, v->data, v->len);
		return;
	case IE_T_OCTETS:
		break;
	}
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
