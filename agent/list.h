/* list.h - an intrusive circular doubly-linked list; a head is its own
 * sentinel. Header-only: the helpers inline into their callers.
 */
#ifndef FE_LIST_H
#define FE_LIST_H
#include <stdbool.h>

struct fe_list {
	struct fe_list *prev, *next;
};

static inline void fe_list_init(struct fe_list *h)
{
	h->prev = h->next = h;
}

static inline bool fe_list_empty(const struct fe_list *h)
{
	return h->next == h;
}

static inline void fe_list_del(struct fe_list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	fe_list_init(n);
}

static inline void fe_list_add_tail(struct fe_list *h, struct fe_list *n)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}

static inline void fe_list_move_tail(struct fe_list *h, struct fe_list *n)
{
	fe_list_del(n);
	fe_list_add_tail(h, n);
}

#endif
