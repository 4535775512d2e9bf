/* ipfix_decode.c - the IPFIX decoder: message and set framing checks,
 * template and options template bookkeeping per (source, domain, id),
 * data record decoding and sequence gap detection (ipfix_format.c renders
 * the records). Every read is bounds-checked against the set or message
 * it belongs to.
 */
#include <errno.h>
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

/* Reads the scope count (options) and the field specifiers of template
 * tid with cnt fields into nt (nt->f allocated). Returns the octets read
 * or -EINVAL (nothing allocated).
 */
static int dec_template_read(const uint8_t *p, const uint8_t *end,
			     const char *kind, uint16_t tid, uint16_t cnt,
			     bool options, struct dec_template *nt, char *err,
			     size_t errlen)
{
	const uint8_t *start = p;
	uint32_t min_len = 0;
	int i;

	memset(nt, 0, sizeof(*nt));
	if (options) {
		if (end - p < 2)
			FAIL("%s %u: truncated before its scope count", kind,
			     tid);
		nt->scope = get16(p);
		p += 2;
		if (!nt->scope || nt->scope > cnt)
			FAIL("%s %u: scope field count %u of %u fields", kind,
			     tid, nt->scope, cnt);
	}
	nt->f = calloc(cnt, sizeof(*nt->f));
	if (!nt->f)
		FAIL("%s %u: out of memory", kind, tid);
	for (i = 0; i < cnt; i++) {
		if (end - p < 4)
			goto truncated;
		nt->f[i].id = get16(p) & 0x7fff;
		nt->f[i].len = get16(p + 2);
		if (get16(p) & 0x8000) {
			if (end - p < 8)
				goto truncated;
			nt->f[i].pen = get32(p + 4);
			p += 4;
		}
		p += 4;
		if (!nt->f[i].len) {
			uint16_t id = nt->f[i].id;

			free(nt->f);
			FAIL("%s %u: field %d (element %u): length 0", kind,
			     tid, i, id);
		}
		min_len += nt->f[i].len == IE_VARLEN ? 1 : nt->f[i].len;
	}
	if (min_len > 65535 - IPFIX_MSG_HDR_LEN - IPFIX_SET_HDR_LEN) {
		free(nt->f);
		FAIL("%s %u: records of %u octets cannot fit a message", kind,
		     tid, min_len);
	}
	nt->id = tid;
	nt->options = options;
	nt->nfields = cnt;
	nt->min_len = min_len;
	return (int)(p - start);
truncated:
	free(nt->f);
	FAIL("%s %u: truncated in field %d of %u", kind, tid, i, cnt);
}

/* Learns nt, replacing a template of the same id; takes nt->f, or frees
 * it on failure.
 */
static int dec_template_store(struct ipfix_decoder *d, struct dec_template *nt,
			      const char *kind, char *err, size_t errlen)
{
	struct dec_template *old = dec_find(d, &nt->key, nt->id);

	if (old) {
		struct dec_field *stale = old->f;

		*old = *nt;
		free(stale);
		return 0;
	}
	if (d->nt >= IPFIX_DEC_MAX_TEMPLATES) {
		free(nt->f);
		FAIL("%s %u: more than %d templates known", kind, nt->id,
		     IPFIX_DEC_MAX_TEMPLATES);
	}
	if (d->nt == d->capt) {
		int cap = d->capt ? d->capt * 2 : 16;
		struct dec_template *t;

		t = realloc(d->t, cap * sizeof(*t));
		if (!t) {
			free(nt->f);
			FAIL("%s %u: out of memory", kind, nt->id);
		}
		d->t = t;
		d->capt = cap;
	}
	d->t[d->nt++] = *nt;
	return 0;
}

/* Zero octets to the end of the set: padding, not a record. */
static bool dec_is_padding(const uint8_t *p, const uint8_t *end)
{
	while (p < end && !*p)
		p++;
	return p == end;
}

/* Parses the template records of one (options) template set. */
static int dec_templates(struct ipfix_decoder *d, const struct dec_key *k,
			 uint16_t sid, const uint8_t *p, const uint8_t *end,
			 size_t set_off, struct ipfix_dec_msg *info, char *err,
			 size_t errlen)
{
	bool options = sid == IPFIX_SET_OPTIONS_TEMPLATE;
	const char *kind = options ? "options template" : "template";

	while (end - p >= 4) {
		uint16_t tid = get16(p), cnt = get16(p + 2);
		struct dec_template nt;
		int n;

		if (!tid && !cnt && dec_is_padding(p, end))
			break;
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
		n = dec_template_read(p, end, kind, tid, cnt, options, &nt, err,
				      errlen);
		if (n < 0)
			return n;
		p += n;
		nt.key = *k;
		if (dec_template_store(d, &nt, kind, err, errlen))
			return -EINVAL;
		info->templates++;
		d->st.templates++;
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

/* The message header: version, and a length that is the datagram's. */
static int dec_check_header(const uint8_t *msg, size_t len,
			    struct ipfix_dec_msg *info, char *err,
			    size_t errlen)
{
	size_t mlen;

	if (len < IPFIX_MSG_HDR_LEN)
		FAIL("message of %zu octets is shorter than its header", len);
	if (get16(msg) != IPFIX_VERSION)
		FAIL("version %u, not 10 (IPFIX)", get16(msg));
	mlen = get16(msg + 2);
	info->export_time = get32(msg + 4);
	info->seq = get32(msg + 8);
	info->domain = get32(msg + 12);
	if (mlen != len)
		FAIL("header says %zu octets but the message has %zu", mlen,
		     len);
	return 0;
}

/* The framing of every set, checked before acting on any. */
static int dec_check_sets(const uint8_t *msg, size_t mlen, char *err,
			  size_t errlen)
{
	for (size_t off = IPFIX_MSG_HDR_LEN; off < mlen;) {
		uint16_t sid, slen;

		if (mlen - off < IPFIX_SET_HDR_LEN)
			FAIL("%zu stray octets at offset %zu after the last "
			     "set",
			     mlen - off, off);
		sid = get16(msg + off);
		slen = get16(msg + off + 2);
		if (slen < IPFIX_SET_HDR_LEN)
			FAIL("set at offset %zu has length %u (less than 4)",
			     off, slen);
		if (slen > mlen - off)
			FAIL("set at offset %zu (id %u, %u octets) overruns "
			     "the message (%zu octets left)",
			     off, sid, slen, mlen - off);
		if (sid < IPFIX_SET_TEMPLATE ||
		    (sid > IPFIX_SET_OPTIONS_TEMPLATE &&
		     sid < IPFIX_MIN_TEMPLATE_ID))
			FAIL("set at offset %zu has reserved set id %u", off,
			     sid);
		off += slen;
	}
	return 0;
}

/* Compares the message's sequence number with what the domain's records
 * so far make it.
 */
static void dec_check_seq(struct ipfix_decoder *d, const struct dec_domain *dom,
			  struct ipfix_dec_msg *info)
{
	uint32_t lost;

	if (!dom || !dom->valid || dom->next == info->seq)
		return;
	lost = info->seq - dom->next;
	info->seq_gap = true;
	info->seq_expected = dom->next;
	d->st.seq_gaps++;
	/* a "gap" backwards is a reordering or an exporter restart */
	if (lost < 0x80000000u)
		d->st.seq_lost += lost;
}

/* Acts on every set in order: learns templates, decodes data sets.
 * Returns 0, -EINVAL, or the callback's non-zero return.
 */
static int dec_sets(struct ipfix_decoder *d, const struct dec_key *k,
		    const uint8_t *msg, size_t mlen, ipfix_record_fn cb,
		    void *ctx, struct ipfix_dec_msg *info, char *err,
		    size_t errlen)
{
	int ret = 0;

	for (size_t off = IPFIX_MSG_HDR_LEN; off < mlen && !ret;) {
		uint16_t sid = get16(msg + off), slen = get16(msg + off + 2);
		const uint8_t *p = msg + off + IPFIX_SET_HDR_LEN;
		const uint8_t *end = msg + off + slen;
		const struct dec_template *t;

		if (sid <= IPFIX_SET_OPTIONS_TEMPLATE) {
			ret = dec_templates(d, k, sid, p, end, off, info, err,
					    errlen);
		} else if ((t = dec_find(d, k, sid))) {
			ret = dec_data(d, t, p, end, off, cb, ctx, info, err,
				       errlen);
		} else {
			info->unknown_sets++;
			info->unknown_template = sid;
			d->st.unknown_sets++;
		}
		off += slen;
	}
	return ret;
}

int ipfix_decoder__parse(struct ipfix_decoder *d, const void *src,
			 size_t srclen, const uint8_t *msg, size_t len,
			 ipfix_record_fn cb, void *ctx,
			 struct ipfix_dec_msg *info, char *err, size_t errlen)
{
	struct ipfix_dec_msg local;
	struct dec_domain *dom;
	struct dec_key k;
	int ret;

	if (!info)
		info = &local;
	memset(info, 0, sizeof(*info));
	if (errlen)
		err[0] = 0;
	d->st.messages++;
	if (dec_check_header(msg, len, info, err, errlen) ||
	    dec_check_sets(msg, len, err, errlen))
		goto malformed;
	dec_key_set(&k, src, srclen, info->domain);
	d->rec.domain = info->domain;
	d->rec.export_time = info->export_time;
	d->rec.seq = info->seq;
	dom = dec_domain_get(d, &k);
	dec_check_seq(d, dom, info);
	ret = dec_sets(d, &k, msg, len, cb, ctx, info, err, errlen);
	if (ret == -EINVAL)
		goto malformed;
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
