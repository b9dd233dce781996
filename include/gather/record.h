/*
 * record: a finished record becomes one line of JSON, built with cJSON,
 * and is handed to the reorder ring.  Strings that came from outside
 * (URLs, headers, bodies) are made valid UTF-8 and escaped here, so the
 * output is valid JSON whatever arrived.
 */
#ifndef GATHER_RECORD_H
#define GATHER_RECORD_H

#include "gather/buf.h"
#include "gather/cli.h"
#include "gather/rec.h"

struct record;
struct reorder;

struct record	*record_new(const struct opts *, struct reorder *);
int		 record_format(struct record *, const struct rec *,
		    struct buf *);
int		 record_put(struct record *, const struct rec *);
const char	*record_replaced(const struct record *);
void		 record_free(struct record *);

#endif
