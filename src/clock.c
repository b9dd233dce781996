/*
 * clock: one place that reads the time, so that every duration outside
 * the event loop comes from the monotonic clock and every timestamp from
 * the wall clock, each read the same way.
 */
#include "gather/clock.h"

#include <time.h>

/* Seconds on clock id, 0 when it cannot be read. */
static double
clock_read(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) == -1)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Monotonic seconds: for how long something took. */
double
clock_mono(void)
{
	return clock_read(CLOCK_MONOTONIC);
}

/* Seconds since the epoch: for when something happened. */
double
clock_wall(void)
{
	return clock_read(CLOCK_REALTIME);
}
