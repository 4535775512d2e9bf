/* list.h - an intrusive doubly-linked list of records in one array, linked
 * by 32-bit indices instead of pointers, so the array can move (realloc,
 * or another process mapping it elsewhere) and the lists stay valid.
 * A list is {head, tail}; FE_INIL ends it. Header-only: the helpers
 * inline into their callers, which say where an element's link is.
 */
#ifndef FE_LIST_H
#define FE_LIST_H
#include <stddef.h>
#include <stdint.h>

#define FE_INIL UINT32_MAX

struct fe_ilink {
	uint32_t prev, next;
};

struct fe_ilist {
	uint32_t head, tail;
};

/* Where the links are: element i's link is at base + i * stride + off. */
struct fe_iarray {
	char *base;
	size_t stride, off;
};

static inline struct fe_ilink *fe_ilink_at(const struct fe_iarray *a,
					   uint32_t i)
{
	return (struct fe_ilink *)(a->base + (size_t)i * a->stride + a->off);
}

static inline void fe_ilist_init(struct fe_ilist *l)
{
	l->head = l->tail = FE_INIL;
}

static inline void fe_ilist_add_tail(struct fe_ilist *l,
				     const struct fe_iarray *a, uint32_t i)
{
	struct fe_ilink *n = fe_ilink_at(a, i);

	n->prev = l->tail;
	n->next = FE_INIL;
	if (l->tail == FE_INIL)
		l->head = i;
	else
		fe_ilink_at(a, l->tail)->next = i;
	l->tail = i;
}

static inline void fe_ilist_del(struct fe_ilist *l, const struct fe_iarray *a,
				uint32_t i)
{
	struct fe_ilink *n = fe_ilink_at(a, i);

	if (n->prev == FE_INIL)
		l->head = n->next;
	else
		fe_ilink_at(a, n->prev)->next = n->next;
	if (n->next == FE_INIL)
		l->tail = n->prev;
	else
		fe_ilink_at(a, n->next)->prev = n->prev;
	n->prev = n->next = FE_INIL;
}

static inline void fe_ilist_move_tail(struct fe_ilist *l,
				      const struct fe_iarray *a, uint32_t i)
{
	if (l->tail == i)
		return;
	fe_ilist_del(l, a, i);
	fe_ilist_add_tail(l, a, i);
}

#endif
