/*
 * clock: the two clocks gather reads outside its event loop, as seconds
 * in a double.  clock_mono() measures how long something took and never
 * jumps with the system clock; clock_wall() names a moment (a report's
 * timestamp) as seconds since the epoch.
 */
#ifndef GATHER_CLOCK_H
#define GATHER_CLOCK_H

double	clock_mono(void);
double	clock_wall(void);

#endif
