/* endpoint.h - transport endpoints as operators write them: "host:port"
 * and "[v6addr]:port", parsed into a socket address for the collector
 * addresses of flowexp.ini and flowctl's -d/-l options, and printed back.
 */
#ifndef FE_ENDPOINT_H
#define FE_ENDPOINT_H
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Flags of endpoint_parse(). */
/* "host" and "[v6addr]" take default_port, and an IPv6 address may go
 * without brackets when it has no port ("::1"); without this flag a port
 * is required and an IPv6 address needs its brackets.
 */
#define ENDPOINT_PORT_OPTIONAL 0x1u
/* For bind(): an empty host (or an empty s) is any address, and port 0
 * any port.
 */
#define ENDPOINT_PASSIVE 0x2u
/* A valid host name is not looked up: *sslen is 0 (for fuzzing, and for
 * checking a file on a machine that cannot resolve its names).
 */
#define ENDPOINT_NO_RESOLVE 0x4u

/* Parses s: an IPv6 address in brackets, an IPv4 address in dotted-quad
 * form (no inet_aton shorthand such as "10.1"), or an RFC 1123 host name,
 * which is resolved (UDP, any family, the first answer). Fills ss and
 * *sslen; returns 0 or -EINVAL with the reason in err, which names s.
 */
int endpoint_parse(const char *s, uint16_t default_port, unsigned int flags,
		   struct sockaddr_storage *ss, socklen_t *sslen, char *err,
		   size_t errlen);

/* The host (without brackets) and the port of s, an endpoint that
 * endpoint_parse() takes with the same default_port and flags: what a
 * resolver looks up later. Returns 0 or -EINVAL.
 */
int endpoint_host(const char *s, uint16_t default_port, unsigned int flags,
		  char *host, size_t cap, uint16_t *port);

/* "a.b.c.d:port" or "[v6addr]:port" of an AF_INET or AF_INET6 address,
 * "(family N)" of another. Returns buf.
 */
const char *endpoint_format(const struct sockaddr *sa, char *buf, size_t len);

#endif
