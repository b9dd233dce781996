/*
 * policy: the maths of waiting between attempts and between starts.
 * Pure functions: the time and the random state come in as arguments, so
 * that no clock is read here and every answer can be checked by a unit
 * test.
 */
#ifndef GATHER_POLICY_H
#define GATHER_POLICY_H

#include <stdint.h>
#include <time.h>

#include "gather/rec.h"

double	policy_backoff(int, double, double, double);
double	policy_retry_after(const char *, time_t);
double	policy_wait(double, int, double, double, double);
int	policy_transient(enum err_kind, long);
double	policy_uniform(uint64_t *);
double	policy_rate_gap(double);
double	policy_rate_wait(double, double);
double	policy_rate_next(double, double, double);

#endif
