/* hint.h - "did you mean" hints: how far a typo is from a known name. */
#ifndef FE_HINT_H
#define FE_HINT_H
#include <stdbool.h>

/* Case-insensitive edit distance (insertions, deletions, substitutions);
 * 99 when either string is longer than 62 characters.
 */
int hint_distance(const char *a, const char *b);

/* True when typo is near enough to name to suggest it: 1 edit for names of
 * up to 3 characters, 2 up to 8, 3 beyond.
 */
bool hint_close(const char *typo, const char *name);

#endif
