/*
 * out: a finished record becomes one line of JSON, built with cJSON, and
 * lines are written to stdout with as few writes as the reader allows.
 * Strings that came from outside (URLs, headers, bodies) are made valid
 * UTF-8 and escaped here, so the output is valid JSON whatever arrived.
 */
#ifndef GATHER_OUT_H
#define GATHER_OUT_H

#include "gather/cli.h"
#include "gather/rec.h"
#include "gather/util.h"

struct out;

struct out	*out_new(const struct opts *, int);
void		 out_free(struct out *);
int		 out_record(struct out *, const struct rec *, struct buf *);
int		 out_emit(struct out *, const char *, size_t);
int		 out_flush(struct out *);
int		 out_finish(struct out *);

#endif
