/*
 * rlist: the scheduler's lists of record nodes (see rlist.h), apart so
 * that sched.c holds only scheduling.
 */
#include "rlist.h"

/* Append n to l. */
void
rlist_add(struct rec_list *l, struct sched_node *n)
{
	n->next = NULL;
	if ((n->prev = l->tail) != NULL)
		l->tail->next = n;
	else
		l->head = n;
	l->tail = n;
	l->n++;
}

/* Take n out of l. */
void
rlist_del(struct rec_list *l, struct sched_node *n)
{
	if (n->prev)
		n->prev->next = n->next;
	else
		l->head = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else
		l->tail = n->prev;
	n->prev = n->next = NULL;
	l->n--;
}
