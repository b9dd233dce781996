/*
 * reqobj: a request object line ({"url": ..., ...}) into a record's
 * request, or its reason for failing.
 */
#ifndef GATHER_REQOBJ_H
#define GATHER_REQOBJ_H

#include <stddef.h>

#include "gather/input.h"
#include "gather/rec.h"

enum input_status reqobj_parse(struct rec *, const char *, size_t);

#endif
