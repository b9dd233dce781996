/*
 * junit: --junit FILE, a JUnit XML report of the run.  Test cases go to
 * a temp file beside FILE as records finish (memory stays bounded), the
 * suite's counts are filled in at the end, and the temp file is renamed
 * to FILE, however the run ended.
 */
#ifndef GATHER_JUNIT_H
#define GATHER_JUNIT_H

#include <stddef.h>

#include "gather/writer.h"

struct junit;

struct junit	*junit_open(const char *, double, char *, size_t);
int		 junit_add(struct junit *, const struct outcome *);
int		 junit_finish(struct junit *, double, char *, size_t);
void		 junit_free(struct junit *);

#endif
