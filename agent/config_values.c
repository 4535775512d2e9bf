/* config_values.c - the value syntax of flowexp.ini (numbers, booleans,
 * words from a list, absolute paths, names, list tokens) and the
 * "file:line: message" error through which every part of the parser
 * reports.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "config_parser.h"

int cfg_fail(struct cfg_parser *p, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->failed)
		return -EINVAL;
	p->failed = true;
	p->error = -EINVAL;
	if (!p->errlen)
		return -EINVAL;
	n = snprintf(p->err, p->errlen, "%s:%d: ", p->file, line);
	if (n >= 0 && (size_t)n < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

void cfg_append(char *buf, size_t cap, const char *sep, const char *item)
{
	static const char more[] = "...";
	size_t len = strnlen(buf, cap), need = strlen(sep) + strlen(item);

	if (len >= cap)
		return; /* not a string: leave it alone */
	/* room for this item and for a "..." that may follow it */
	if (len + need + strlen(sep) + sizeof(more) <= cap) {
		snprintf(buf + len, cap - len, "%s%s", sep, item);
		return;
	}
	if (len >= sizeof(more) - 1 &&
	    !strcmp(buf + len - (sizeof(more) - 1), more))
		return; /* already cut short */
	snprintf(buf + len, cap - len, "%s%s", sep, more);
}

static bool is_sep(char c)
{
	return isspace((unsigned char)c) || c == ',';
}

bool cfg_next_token(const char **s, char *tok, size_t cap, size_t *len)
{
	const char *b = *s, *e;

	while (*b && is_sep(*b))
		b++;
	if (!*b)
		return false;
	for (e = b; *e && !is_sep(*e); e++)
		;
	*len = e - b;
	snprintf(tok, cap, "%.*s", (int)(e - b), b);
	*s = e;
	return true;
}

int cfg_parse_num(struct cfg_parser *p, const char *v, unsigned long long min,
		  unsigned long long max, const char *unit,
		  unsigned long long *out)
{
	unsigned long long n = 0;
	const char *s;

	if (!*v)
		return key_fail(p, "empty value (expected %llu..%llu%s%s)", min,
				max, *unit ? " " : "", unit);
	for (s = v; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return key_fail(p,
					"'%s' is not a whole number (expected "
					"%llu..%llu%s%s)",
					v, min, max, *unit ? " " : "", unit);
		if (n > (ULLONG_MAX - 9) / 10)
			n = ULLONG_MAX - 1; /* saturate: out of range below */
		else
			n = n * 10 + (*s - '0');
	}
	if (n < min || n > max)
		return key_fail(p, "%s is out of range (%llu..%llu%s%s)", v,
				min, max, *unit ? " " : "", unit);
	*out = n;
	return 0;
}

static const char *size_text(unsigned long long n, char *buf, size_t cap)
{
	static const char units[] = "KMG";
	int u = -1;

	while (u < 2 && n >= 1024 && n % 1024 == 0) {
		n /= 1024;
		u++;
	}
	snprintf(buf, cap, "%llu%.*s", n, u >= 0, u >= 0 ? &units[u] : "");
	return buf;
}

int cfg_parse_size(struct cfg_parser *p, const char *v, unsigned long long min,
		   unsigned long long max, unsigned long long *out)
{
	static const char suffixes[] = "kmg";
	char lo[24], hi[24], num[24];
	size_t len = strlen(v), digits = strspn(v, "0123456789");
	unsigned long long n = 0, mul = 1;
	const char *s;

	size_text(min, lo, sizeof(lo));
	size_text(max, hi, sizeof(hi));
	if (len && digits == len - 1 &&
	    (s = strchr(suffixes, tolower((unsigned char)v[len - 1])))) {
		mul = 1ULL << (10 * (s - suffixes + 1));
		len--;
	}
	if (!len || digits != len || len >= sizeof(num))
		return key_fail(p,
				"'%s' is not a size (expected octets, or a "
				"number with K, M or G: %s..%s)",
				v, lo, hi);
	memcpy(num, v, len);
	num[len] = '\0';
	for (s = num; *s; s++)
		n = n > max ? n : n * 10 + (*s - '0');
	if (n > max / mul || n * mul < min)
		return key_fail(p, "%s is out of range (%s..%s)", v, lo, hi);
	*out = n * mul;
	return 0;
}

int cfg_parse_bool(struct cfg_parser *p, const char *v, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (!strcasecmp(v, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(v, no[i])) {
			*out = false;
			return 0;
		}
	}
	return key_fail(p,
			"'%s' is not a boolean (yes/no, true/false, "
			"on/off, 1/0)",
			v);
}

int cfg_parse_enum(struct cfg_parser *p, const char *v,
		   const char *const *names, int n, const char *allowed,
		   int *out)
{
	int i;

	for (i = 0; i < n; i++) {
		if (!strcasecmp(v, names[i])) {
			*out = i;
			return 0;
		}
	}
	if (!*v)
		return key_fail(p, "empty value (expected %s)", allowed);
	return key_fail(p, "'%s' is not allowed (expected %s)", v, allowed);
}

bool cfg_valid_name(const char *s)
{
	if (!*s || strlen(s) > 63)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_-.", *s))
			return false;
	return true;
}

int cfg_parse_path(struct cfg_parser *p, const char *v, char *dst, size_t cap)
{
	const char *s;

	if (!*v)
		return key_fail(p, "empty value (expected an absolute path)");
	if (v[0] != '/')
		return key_fail(p, "'%s' is not an absolute path", v);
	if (strlen(v) >= cap || strlen(v) > CFG_MAX_VALUE)
		return key_fail(p, "path is longer than %zu characters",
				cap - 1 < CFG_MAX_VALUE ? cap - 1
							: CFG_MAX_VALUE);
	for (s = v; *s; s++)
		if (isspace((unsigned char)*s))
			return key_fail(p, "'%s' contains whitespace", v);
	strcpy(dst, v);
	return 0;
}
