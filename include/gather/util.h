/*
 * util: the parsing of sizes, durations, counts, rates and shards given on
 * the command line.  It still includes buf.h and text.h, where the buffer
 * and text helpers that were here now live, for the files that include it.
 */
#ifndef GATHER_UTIL_H
#define GATHER_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "gather/buf.h"
#include "gather/text.h"

int	 parse_count(const char *, long, long, long *);
int	 parse_seconds(const char *, double *);
int	 parse_size(const char *, uint64_t *);
int	 parse_rate(const char *, double *);
int	 parse_shard(const char *, long *, long *);

#endif
