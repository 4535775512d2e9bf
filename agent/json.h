/* json.h - JSON string escaping, the one rule for every JSON flowexp
 * writes (flowctl status/dump/stats/collect, the agent's answers).
 */
#ifndef FE_JSON_H
#define FE_JSON_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The text of byte c inside a JSON string, NUL-terminated in out: itself,
 * \" and \\ escaped, and \u00XX for bytes outside printable ASCII, so the
 * line stays valid JSON (and valid UTF-8) whatever the input. Returns its
 * length (1 to 6).
 */
size_t json_escape_byte(uint8_t c, char out[7]);
/* Writes s as a quoted JSON string. */
void json_fputs(FILE *f, const char *s);

#endif
