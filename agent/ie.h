/* ie.h - the IPFIX information element registry (IANA names and types). */
#ifndef FE_IE_H
#define FE_IE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPFIX_PEN_REVERSE 29305 /* RFC 5103 reverse information elements */
#define IE_VARLEN 65535

enum ie_type {
	IE_T_OCTETS, /* octetArray */
	IE_T_U8,
	IE_T_U16,
	IE_T_U32,
	IE_T_U64,
	IE_T_I32,
	IE_T_IPV4,
	IE_T_IPV6,
	IE_T_MAC,
	IE_T_STRING,
	IE_T_BOOL,
	IE_T_SEC, /* dateTimeSeconds */
	IE_T_MS,  /* dateTimeMilliseconds */
	IE_T_US,  /* dateTimeMicroseconds (NTP) */
	IE_T_NS,  /* dateTimeNanoseconds (NTP) */
	IE_T_FLOAT64,
};

struct ie_def {
	uint16_t id;
	const char *name; /* exactly as IANA spells it */
	enum ie_type type;
	uint16_t len; /* default length on the wire; IE_VARLEN for variable */
	bool reversible; /* RFC 5103: has a reverse twin (counters, flags, times) */
	bool exportable; /* flowexp can fill it from a struct fe_record */
};

/* Lookups return NULL when the element is not in the registry. Names match
 * case-insensitively. */
const struct ie_def *ie_by_name(const char *name);
const struct ie_def *ie_by_id(uint16_t id);

/* The i-th registry entry (0-based, by id), NULL past the end: for walking
 * the whole registry (the unit and fuzz tests do). */
const struct ie_def *ie_at(int i);

/* The element that says what id says for family (4 or 6): maps the
 * IPv4/IPv6 twins (8<->27, 12<->28, 32<->139, 176<->178, ...) and returns 0
 * for an element meaningless in that family (flowLabelIPv6 in IPv4). Other
 * ids are returned unchanged. */
uint16_t ie_for_family(uint16_t id, int family);

/* Parses a list of element names separated by whitespace or commas (a
 * template's "fields =", flowctl send --fields) and appends their ids to
 * ies[*n], ies[*n + 1], ... up to max. Every element must be exportable
 * and listed once, counting the ids already in ies[0..*n-1], so that a
 * list continued over several lines is checked as one. Returns 0, or
 * -EINVAL with the reason in err ("unknown information element 'x' (did
 * you mean 'y'?)"); *n counts the ids appended before an error.
 */
int ie_parse_list(const char *list, uint16_t *ies, int max, int *n, char *err,
		  size_t errlen);

#endif
