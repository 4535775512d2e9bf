/* endpoint.c - transport endpoints: "host:port" and "[v6addr]:port" into
 * socket addresses (split, port, then the address: IPv6 literal, dotted
 * quad or resolved host name), and socket addresses back into text.
 */
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include "endpoint.h"

/* s split into its parts; host has no brackets. */
struct endpoint_text {
	char host[256];
	const char *port; /* NULL when none is written */
	bool v6;	  /* in brackets, or a bare IPv6 address */
};

static __attribute__((format(printf, 3, 4))) int
endpoint_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static const char *endpoint_want(unsigned int flags)
{
	return flags & ENDPOINT_PORT_OPTIONAL
		       ? "expected host[:port] or [v6addr][:port]"
		       : "expected host:port or [v6addr]:port";
}

static int endpoint_split(const char *s, unsigned int flags,
			  struct endpoint_text *t, char *err, size_t errlen)
{
	const char *want = endpoint_want(flags), *c1, *c2;
	bool optional = flags & ENDPOINT_PORT_OPTIONAL;

	t->port = NULL;
	t->v6 = false;
	if (s[0] == '[') {
		const char *e = strchr(s, ']');

		if (!e)
			return endpoint_fail(err, errlen,
					     "'%s' lacks the closing ']' (%s)",
					     s, want);
		if (e[1] == ':')
			t->port = e + 2;
		else if (e[1] || !optional)
			return endpoint_fail(
				err, errlen,
				"'%s' lacks ':port' after ']' (%s)", s, want);
		snprintf(t->host, sizeof(t->host), "%.*s", (int)(e - s - 1),
			 s + 1);
		t->v6 = true;
		return 0;
	}
	c1 = strchr(s, ':');
	c2 = strrchr(s, ':');
	if (c1 != c2) {
		if (!optional)
			return endpoint_fail(err, errlen,
					     "'%s': an IPv6 address needs "
					     "brackets: [v6addr]:port",
					     s);
		snprintf(t->host, sizeof(t->host), "%s", s);
		t->v6 = true;
		return 0;
	}
	if (!c1 && !optional)
		return endpoint_fail(err, errlen, "'%s' lacks a port (%s)", s,
				     want);
	snprintf(t->host, sizeof(t->host), "%.*s",
		 c1 ? (int)(c1 - s) : (int)strlen(s), s);
	t->port = c1 ? c1 + 1 : NULL;
	return 0;
}

/* Decimal digits only, 1..65535 (0..65535 passive). */
static int endpoint_port(const char *s, const char *ps, unsigned int flags,
			 uint16_t *port, char *err, size_t errlen)
{
	int min = flags & ENDPOINT_PASSIVE ? 0 : 1;
	size_t len = strlen(ps);

	if (!len || len > 5 || strspn(ps, "0123456789") != len ||
	    atoi(ps) < min || atoi(ps) > 65535)
		return endpoint_fail(err, errlen,
				     "'%s' has no valid port (%s, port "
				     "%d..65535)",
				     s, endpoint_want(flags), min);
	*port = atoi(ps);
	return 0;
}

/* RFC 1123 host name: dot-separated labels of letters, digits and '-'. */
static bool endpoint_valid_hostname(const char *h)
{
	size_t len = strlen(h), lab = 0;
	const char *s, *last = h;

	if (!len || len > 253)
		return false;
	for (s = h; *s; s++) {
		if (*s == '.') {
			if (!lab || s[-1] == '-')
				return false;
			lab = 0;
			last = s + 1;
			continue;
		}
		if (!isalnum((unsigned char)*s) && *s != '-')
			return false;
		if (!lab && *s == '-')
			return false;
		if (++lab > 63)
			return false;
	}
	if (lab && s[-1] == '-')
		return false;
	/* An all-numeric last label is a mistyped IPv4 address, not a name
	 * (a top-level domain is never numeric).
	 */
	if (!*last)
		return false;
	for (s = last; *s; s++)
		if (!isdigit((unsigned char)*s))
			return true;
	return false;
}

/* getaddrinfo() for UDP, host NULL meaning any address. */
static int endpoint_lookup(const char *host, uint16_t port, int family,
			   int flags, struct sockaddr_storage *ss,
			   socklen_t *sslen)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	char ps[8];
	int err;

	snprintf(ps, sizeof(ps), "%u", port);
	hints.ai_family = family;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICSERV | flags;
	err = getaddrinfo(host, ps, &hints, &res);
	if (err)
		return err;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int endpoint_address(const struct endpoint_text *t, uint16_t port,
			    unsigned int flags, struct sockaddr_storage *ss,
			    socklen_t *sslen, char *err, size_t errlen)
{
	const char *h = t->host;
	int ret;

	if (!*h) { /* only passive endpoints get here without a host */
		ret = endpoint_lookup(NULL, port, AF_UNSPEC, AI_PASSIVE, ss,
				      sslen);
		if (ret)
			return endpoint_fail(err, errlen,
					     "no address to listen on: %s",
					     gai_strerror(ret));
		return 0;
	}
	if (t->v6) {
		if (endpoint_lookup(h, port, AF_INET6, AI_NUMERICHOST, ss,
				    sslen))
			return endpoint_fail(
				err, errlen, "'%s' is not an IPv6 address%s", h,
				strchr(h, '%') ? " (or its scope is no "
						 "interface here)"
					       : "");
		return 0;
	}
	if (strspn(h, "0123456789.") == strlen(h)) {
		/* dotted quads only: inet_aton's "10.1" would hide a typo */
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		memset(sin, 0, sizeof(*sin));
		if (inet_pton(AF_INET, h, &sin->sin_addr) != 1)
			return endpoint_fail(err, errlen,
					     "'%s' is not an IPv4 address", h);
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*sslen = sizeof(*sin);
		return 0;
	}
	if (!endpoint_valid_hostname(h))
		return endpoint_fail(err, errlen,
				     "'%s' is not an IP address or a host name",
				     h);
	if (flags & ENDPOINT_NO_RESOLVE) {
		*sslen = 0;
		return 0;
	}
	ret = endpoint_lookup(h, port, AF_UNSPEC,
			      flags & ENDPOINT_PASSIVE ? AI_PASSIVE : 0, ss,
			      sslen);
	if (ret)
		return endpoint_fail(err, errlen, "cannot resolve '%s': %s", h,
				     gai_strerror(ret));
	return 0;
}

int endpoint_parse(const char *s, uint16_t default_port, unsigned int flags,
		   struct sockaddr_storage *ss, socklen_t *sslen, char *err,
		   size_t errlen)
{
	struct endpoint_text t;
	uint16_t port = default_port;

	if (!s || (!*s && !(flags & ENDPOINT_PASSIVE)))
		return endpoint_fail(err, errlen, "empty value (%s)",
				     endpoint_want(flags));
	if (strlen(s) >= sizeof(t.host))
		return endpoint_fail(err, errlen,
				     "address is longer than %zu characters",
				     sizeof(t.host) - 1);
	if (endpoint_split(s, flags, &t, err, errlen))
		return -EINVAL;
	if (!t.host[0] && !(flags & ENDPOINT_PASSIVE))
		return endpoint_fail(err, errlen, "'%s' lacks a host (%s)", s,
				     endpoint_want(flags));
	if (t.port && endpoint_port(s, t.port, flags, &port, err, errlen))
		return -EINVAL;
	return endpoint_address(&t, port, flags, ss, sslen, err, errlen);
}

int endpoint_host(const char *s, uint16_t default_port, unsigned int flags,
		  char *host, size_t cap, uint16_t *port)
{
	struct endpoint_text t;

	*port = default_port;
	if (!s || strlen(s) >= sizeof(t.host) ||
	    endpoint_split(s, flags, &t, NULL, 0) ||
	    (t.port && endpoint_port(s, t.port, flags, port, NULL, 0)) ||
	    strlen(t.host) >= cap)
		return -EINVAL;
	strcpy(host, t.host);
	return 0;
}

const char *endpoint_format(const struct sockaddr *sa, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(s6->sin6_port));
	} else if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(s4->sin_port));
	} else {
		snprintf(buf, len, "(family %u)", sa->sa_family);
	}
	return buf;
}
