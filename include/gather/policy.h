/*
 * policy: the maths of waiting between attempts.  Pure functions: the
 * time and the random draw come in as arguments, so that no clock is read
 * here and every answer can be checked by a unit test.
 */
#ifndef GATHER_POLICY_H
#define GATHER_POLICY_H

#include <time.h>

double	policy_backoff(int, double, double, double);
double	policy_retry_after(const char *, time_t);
double	policy_wait(double, int, double, double, double);

#endif
