/*
 * writer: the output's framing and its writes.  jsonl is one record per
 * line; --format json is one array, closed however the run ends.  A
 * failing write is -1 with errno: EPIPE when the reader left.
 */
#ifndef GATHER_WRITER_H
#define GATHER_WRITER_H

#include <stddef.h>

#include "gather/cli.h"

struct writer;

struct writer	*writer_new(enum format, int);
int		 writer_emit(struct writer *, const char *, size_t);
int		 writer_emit_more(struct writer *, const char *, size_t);
int		 writer_flush(struct writer *);
int		 writer_finish(struct writer *);
void		 writer_free(struct writer *);

#endif
