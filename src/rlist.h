/*
 * rlist: the scheduler's own node around a record, and the lists of
 * nodes it keeps (running, waiting, due, free).  Private to sched*.c and
 * rlist.c: no other module sees a record's links, its retry timer, its
 * transfer or its host, so the record (gather/rec.h) needs no libev.
 * A node is on one list at a time, so its own links serve and no list
 * allocates; nodes are pooled with their records, so nothing is
 * allocated per record either.
 */
#ifndef GATHER_RLIST_H
#define GATHER_RLIST_H

#include <stddef.h>

#include <ev.h>

#include "gather/buf.h"
#include "gather/rec.h"

struct xfer;
struct polite_host;

struct sched_node {
	struct sched_node *prev, *next;	/* the list it is on */
	struct xfer	*xfer;		/* while a transfer runs */
	struct polite_host *ph;		/* its host's politeness, or NULL */
	unsigned	 ph_epoch;	/* --adaptive: its host's at the start */
	int		 ph_busy;	/* counted in flight by ph */
	double		 t_read;	/* when the record was read (clock_mono) */
	struct buf	 host;		/* its host key, "host:port", or "" */
	ev_timer	 retry_w;	/* waiting to retry, holding no slot */
	struct rec	 rec;
};

struct rec_list {
	struct sched_node *head, *tail;
	long		 n;
};

/* The node around r, a record the scheduler handed out. */
static inline struct sched_node *
sched_node_of(struct rec *r)
{
	return (struct sched_node *)(void *)((char *)r -
	    offsetof(struct sched_node, rec));
}

void	 rlist_add(struct rec_list *, struct sched_node *);
void	 rlist_del(struct rec_list *, struct sched_node *);

#endif
