/* json.c - JSON string escaping (see json.h). */
#include <stdio.h>
#include "json.h"

size_t json_escape_byte(uint8_t c, char out[7])
{
	if (c == '"' || c == '\\') {
		out[0] = '\\';
		out[1] = (char)c;
		out[2] = 0;
		return 2;
	}
	if (c < 0x20 || c >= 0x7f)
		return (size_t)snprintf(out, 7, "\\u%04x", c);
	out[0] = (char)c;
	out[1] = 0;
	return 1;
}

void json_fputs(FILE *f, const char *s)
{
	char e[7];

	fputc('"', f);
	for (; *s; s++) {
		json_escape_byte((uint8_t)*s, e);
		fputs(e, f);
	}
	fputc('"', f);
}
