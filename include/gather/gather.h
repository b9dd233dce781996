/*
 * gather: puts finished records back in input order.  A ring indexed by
 * seq - head holds lines that finished before the head; the ready prefix
 * is handed to out at once.  The ring never grows: the scheduler asks
 * gather_room before it reads another record.
 */
#ifndef GATHER_GATHER_H
#define GATHER_GATHER_H

#include <stddef.h>
#include <stdint.h>

#include "gather/out.h"
#include "gather/util.h"

struct gather;

struct gather	*gather_new(size_t, int, struct out *);
int		 gather_put(struct gather *, uint64_t, struct buf *);
int		 gather_room(const struct gather *, uint64_t);
void		 gather_free(struct gather *);

#endif
