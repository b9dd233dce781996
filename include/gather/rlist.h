/*
 * rlist: a list of records through their prev/next links, as the
 * scheduler keeps its running, waiting and due records.
 */
#ifndef GATHER_RLIST_H
#define GATHER_RLIST_H

#include "gather/rec.h"

struct rec_list {
	struct rec	*head, *tail;
	long		 n;
};

void	 rlist_add(struct rec_list *, struct rec *);
void	 rlist_del(struct rec_list *, struct rec *);

#endif
