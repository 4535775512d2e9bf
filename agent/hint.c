/* hint.c - "did you mean" hints: the edit distance between a typo and the
 * names a parser knows (config sections and keys, information elements).
 */
#include <ctype.h>
#include <string.h>
#include "hint.h"

int hint_distance(const char *a, const char *b)
{
	int prev[64], cur[64];
	int la = strlen(a), lb = strlen(b), i, j;

	if (la > 62 || lb > 62)
		return 99;
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			int sub = prev[j - 1] +
				  (tolower((unsigned char)a[i - 1]) !=
				   tolower((unsigned char)b[j - 1]));
			int del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? sub : del;
			if (ins < cur[j])
				cur[j] = ins;
		}
		memcpy(prev, cur, sizeof(int) * (lb + 1));
	}
	return prev[lb];
}

bool hint_close(const char *typo, const char *name)
{
	int d = hint_distance(typo, name);
	int len = strlen(name);

	return d <= (len > 8 ? 3 : len > 3 ? 2 : 1);
}
