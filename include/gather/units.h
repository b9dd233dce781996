/*
 * units: the values given on the command line that carry a unit or a
 * range: counts, seconds, sizes, rates and shards.  Each parser takes the
 * whole string and returns -1 unless every byte of it is understood, so
 * that "3x" or "1e3" never half-succeeds.
 */
#ifndef GATHER_UNITS_H
#define GATHER_UNITS_H

#include <stdint.h>

int	 parse_count(const char *, long, long, long *);
int	 parse_seconds(const char *, double *);
int	 parse_size(const char *, uint64_t *);
int	 parse_rate(const char *, double *);
int	 parse_shard(const char *, long *, long *);

#endif
