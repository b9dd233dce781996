/*
 * expect: --expect, jq expressions (libjq) compiled once at start and
 * evaluated on each record that is otherwise ok, as that record would be
 * printed.  Nothing here runs, and no jq state exists, when no expression
 * was given: the scheduler holds a NULL struct expect then.
 */
#ifndef GATHER_EXPECT_H
#define GATHER_EXPECT_H

#include <stddef.h>

#include "gather/rec.h"

struct expect;
struct record;

struct expect	*expect_new(char *const *, size_t, char *, size_t);
int		 expect_line(struct expect *, const char *, size_t, char *,
		    size_t);
int		 expect_rec(struct expect *, struct record *, struct rec *);
void		 expect_free(struct expect *);

#endif
