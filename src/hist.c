/*
 * hist: the latency histogram behind --stats's percentiles, kept apart
 * from the counters and the progress line it used to share a file with.
 * Microseconds, exact below 32 us, then 32 linear
 * sub-buckets per power of two up to 2^40 us (about 12.7 days), 1152
 * buckets in all (9 KiB).  A bucket is at most 1/32 of its lower bound
 * wide, so a percentile, reported as its bucket's upper bound (never above
 * the exact maximum), overstates the true sample by less than 1/32, 3.1%,
 * after rounding to whole microseconds; it never understates it.
 */
#include "gather/hist.h"

#include <stddef.h>

/* Position of the highest set bit of v (v > 0), without a loop of 64. */
static unsigned
hist_log2(uint64_t v)
{
#if defined(__GNUC__) || defined(__clang__)
	return 63u - (unsigned)__builtin_clzll(v);
#else
	unsigned e = 0;

	while (v >>= 1)
		e++;
	return e;
#endif
}

/* The bucket of v microseconds; the layout is explained above. */
static size_t
hist_index(uint64_t v)
{
	unsigned e;

	if (v > HIST_MAX_US)
		v = HIST_MAX_US;
	if (v < HIST_SUB)
		return (size_t)v;
	e = hist_log2(v);
	return (size_t)(e - HIST_SUB_BITS + 1) * HIST_SUB +
	    (size_t)((v >> (e - HIST_SUB_BITS)) - HIST_SUB);
}

/* The largest value in bucket i, the conservative answer for a rank. */
static uint64_t
hist_bucket_hi(size_t i)
{
	unsigned	shift;
	uint64_t	lo;

	if (i < HIST_SUB)
		return i;
	shift = (unsigned)(i / HIST_SUB) - 1;
	lo = (uint64_t)(HIST_SUB + i % HIST_SUB) << shift;
	return lo + (UINT64_C(1) << shift) - 1;
}

/* Count one latency of t seconds; O(1), no allocation. */
void
hist_add(struct hist *h, double t)
{
	uint64_t us;

	if (!(t > 0))			/* negative or NaN: count as zero */
		us = 0;
	else if (t >= (double)HIST_MAX_US / 1e6)
		us = HIST_MAX_US;
	else
		us = (uint64_t)(t * 1e6 + 0.5);
	h->b[hist_index(us)]++;
	h->n++;
	if (us > h->max)
		h->max = us;
}

/*
 * The nearest-rank quantile in us for pm per mille, read from the buckets;
 * the rank in integers, so that 0.9 * n never rounds up past a whole rank.
 */
uint64_t
hist_quantile(const struct hist *h, unsigned pm)
{
	uint64_t	rank, seen = 0;
	size_t		i;

	if (h->n == 0)
		return 0;
	rank = h->n / 1000 * pm + (h->n % 1000 * pm + 999) / 1000;
	if (rank < 1)
		rank = 1;
	if (rank > h->n)
		rank = h->n;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank)
			break;
	}
	if (i == HIST_BUCKETS)
		return h->max;
	return hist_bucket_hi(i) < h->max ? hist_bucket_hi(i) : h->max;
}

