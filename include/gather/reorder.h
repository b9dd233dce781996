/*
 * reorder: puts finished records back in input order.  A ring indexed by
 * seq - head holds lines that finished before the head; the ready prefix
 * is handed to the writer at once.  The ring never grows: the scheduler
 * asks reorder_room before it reads another record.
 */
#ifndef GATHER_REORDER_H
#define GATHER_REORDER_H

#include <stddef.h>
#include <stdint.h>

#include "gather/buf.h"

struct reorder;
struct writer;

struct reorder	*reorder_new(size_t, int, struct writer *);
int		 reorder_put(struct reorder *, uint64_t, struct buf *);
int		 reorder_room(const struct reorder *, uint64_t);
void		 reorder_free(struct reorder *);

#endif
