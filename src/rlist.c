/*
 * rlist: the record lists of the scheduler.  A record is on one list at a
 * time, so its own links serve and no list allocates.
 */
#include "gather/rlist.h"

#include <stddef.h>

/* Append r to l. */
void
rlist_add(struct rec_list *l, struct rec *r)
{
	r->next = NULL;
	if ((r->prev = l->tail) != NULL)
		l->tail->next = r;
	else
		l->head = r;
	l->tail = r;
	l->n++;
}

/* Take r out of l. */
void
rlist_del(struct rec_list *l, struct rec *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		l->head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		l->tail = r->prev;
	r->prev = r->next = NULL;
	l->n--;
}
