/*
 * hist: a fixed log-linear histogram of latencies in microseconds, for
 * --stats's percentiles: one bucket bumped per record, no allocation.
 */
#ifndef GATHER_HIST_H
#define GATHER_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS	5
#define HIST_SUB	(1 << HIST_SUB_BITS)	/* linear steps per octave */
#define HIST_TOP_BITS	40			/* values below 2^40 us */
#define HIST_BUCKETS	(HIST_SUB + (HIST_TOP_BITS - HIST_SUB_BITS) * HIST_SUB)
#define HIST_MAX_US	((UINT64_C(1) << HIST_TOP_BITS) - 1)

struct hist {
	uint64_t	n;
	uint64_t	max;		/* us, exact */
	uint64_t	b[HIST_BUCKETS];
};

void		 hist_add(struct hist *, double);
uint64_t	 hist_quantile(const struct hist *, unsigned);

#endif
