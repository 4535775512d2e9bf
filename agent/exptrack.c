/* exptrack.c - how far each collector got with the flow cache's export
 * log (see exptrack.h). Per collector, a ring of the exports it was handed
 * and not yet done with: the log position after each, and the
 * collector's count of records handed after it.
 */
#include <stdlib.h>
#include <string.h>
#include "exptrack.h"

struct row {
	uint64_t end, handed;
};

struct ring {
	struct row *row;
	size_t head, n; /* the oldest, and how many */
	uint64_t skew;	/* handed - resolved when the collector was idle */
};

struct exptrack {
	size_t cap;
	struct ring r[EXPTRACK_MAX];
};

struct exptrack *exptrack__new(size_t cap)
{
	struct exptrack *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->cap = cap ? cap : 1;
	return t;
}

void exptrack__free(struct exptrack *t)
{
	if (!t)
		return;
	for (int i = 0; i < EXPTRACK_MAX; i++)
		free(t->r[i].row);
	free(t);
}

void exptrack__reset(struct exptrack *t, int i)
{
	t->r[i].head = t->r[i].n = 0;
	t->r[i].skew = 0;
}

uint64_t exptrack__handed(struct exptrack *t, int i, uint64_t end,
			  uint64_t handed)
{
	struct ring *r = &t->r[i];
	uint64_t done = 0;

	/* a collector's ring when it is first handed an export; without
	 * one, the export is given up at once (not kept for a restart)
	 */
	if (!r->row)
		r->row = calloc(t->cap, sizeof(struct row));
	if (!r->row)
		return end;
	if (r->n == t->cap) { /* never, with cap the log's entries */
		done = r->row[r->head].end;
		r->head = (r->head + 1) % t->cap;
		r->n--;
	}
	r->row[(r->head + r->n) % t->cap] = (struct row){ end, handed };
	r->n++;
	return done;
}

uint64_t exptrack__resolved(struct exptrack *t, int i, uint64_t resolved)
{
	struct ring *r = &t->r[i];
	uint64_t done = 0;

	resolved += r->skew;
	while (r->n && r->row[r->head].handed <= resolved) {
		done = r->row[r->head].end;
		r->head = (r->head + 1) % t->cap;
		r->n--;
	}
	return done;
}

void exptrack__idle(struct exptrack *t, int i, uint64_t handed,
		    uint64_t resolved)
{
	struct ring *r = &t->r[i];

	r->head = r->n = 0;
	r->skew = handed >= resolved ? handed - resolved : 0;
}

size_t exptrack__pending(const struct exptrack *t, int i)
{
	return t->r[i].n;
}
