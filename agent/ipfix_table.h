/* ipfix_table.h - decoded IPFIX records as an aligned table for a person
 * (`flowctl collect`'s default): one row per flow record, options records
 * as "#" lines, interface names learnt from the options records shown in
 * place of the indexes, and a filter for link-local and multicast noise.
 */
#ifndef FE_IPFIX_TABLE_H
#define FE_IPFIX_TABLE_H
#include <stdbool.h>
#include <stddef.h>
#include "ipfix_decode.h"

#define IPFIX_TABLE_MAX_IFS 1024 /* interface names remembered */

struct ipfix_table;

struct ipfix_table *ipfix_table__new(void);
void ipfix_table__free(struct ipfix_table *t);
/* The column headings (no newline). Returns buf. */
const char *ipfix_table_header(char *buf, size_t len);
/* Renders r into buf (no newline): a flow record as a row, an options
 * record as a line starting "# ". An interface-name record is printed only
 * when it tells something new (they come with every template refresh).
 * Returns the length, 0 when there is nothing to print, or -ENOSPC.
 */
int ipfix_table__format(struct ipfix_table *t, const struct ipfix_dec_record *r,
			char *buf, size_t len);
/* A flow record between link-local, multicast or broadcast addresses, or
 * IPv6 neighbour discovery and MLD: the chatter of any link, which hides
 * a newcomer's own traffic.
 */
bool ipfix_record_is_noise(const struct ipfix_dec_record *r);

#endif
