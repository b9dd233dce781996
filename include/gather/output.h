/*
 * output: where the scheduler hands each finished record.  The stage is
 * reorder -> format -> write, with --format tap's test cases and the
 * --junit report beside it; a write that fails stops the run through
 * ends, so the scheduler never sees a write error.
 */
#ifndef GATHER_OUTPUT_H
#define GATHER_OUTPUT_H

#include <stdint.h>

#include "gather/buf.h"
#include "gather/cli.h"
#include "gather/rec.h"

struct ends;
struct junit;
struct output;
struct record;
struct reorder;
struct writer;

struct output	*output_new(const struct opts *, struct ends *, struct record *,
		    struct reorder *, struct writer *, struct junit *);
const char	*output_put(struct output *, const struct rec *,
		    struct buf *);
int		 output_room(const struct output *, uint64_t);
void		 output_flush(struct output *);
size_t		 output_pending(const struct output *);
void		 output_finish(struct output *);
void		 output_free(struct output *);

#endif
