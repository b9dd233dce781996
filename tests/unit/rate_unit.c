/*
 * Unit tests for the policy functions sched took its maths out into:
 * --rate spacing, the choice of what is retried and the random draw.
 */
#include <stdint.h>
#include <stdio.h>

#include "gather/policy.h"
#include "gather/rec.h"

#define CHECK_NAME "rate_unit"
#include "check.h"

/* Whether a and b are within a microsecond. */
static int
near(double a, double b)
{
	return a - b < 1e-6 && b - a < 1e-6;
}

/* Starts at -rate 4 (a gap of 0.25 s) as the scheduler makes them. */
static void
test_rate(void)
{
	double gap = policy_rate_gap(4), next = 0, t;
	int starts = 0;

	CHECK(near(gap, 0.25));
	CHECK(policy_rate_gap(0) == 0);
	CHECK(near(policy_rate_gap(0.5), 2));
	/* Nothing due yet at the start: no initial burst after the first. */
	CHECK(policy_rate_wait(100, 0) == 0);
	next = policy_rate_next(100, 0, gap);
	CHECK(near(next, 100.25));
	CHECK(near(policy_rate_wait(100.1, next), 0.15));
	CHECK(policy_rate_wait(100.25, next) == 0);
	/* A timer a millisecond late keeps to the schedule. */
	next = policy_rate_next(100.251, next, gap);
	CHECK(near(next, 100.5));
	/* After an idle spell: afresh from now, no catching up. */
	next = policy_rate_next(200, next, gap);
	CHECK(near(next, 200.25));
	/* Over ten simulated seconds, starts stay at the rate. */
	for (t = 300, next = 0; t < 310; t += 0.001)
		if (policy_rate_wait(t, next) == 0) {
			next = policy_rate_next(t, next, gap);
			starts++;
		}
	CHECK(starts >= 40 && starts <= 41);
}

/* What is worth another attempt. */
static void
test_transient(void)
{
	CHECK(policy_transient(ERR_DNS, 0));
	CHECK(policy_transient(ERR_CONNECT, 0));
	CHECK(policy_transient(ERR_TIMEOUT, 0));
	CHECK(policy_transient(ERR_RESET, 0));
	CHECK(policy_transient(ERR_NONE, 429));
	CHECK(policy_transient(ERR_NONE, 503));
	CHECK(!policy_transient(ERR_NONE, 200));
	CHECK(!policy_transient(ERR_NONE, 404));
	CHECK(!policy_transient(ERR_TLS, 0));
	CHECK(!policy_transient(ERR_TOO_LARGE, 503));
}

/* The draw stays in [0, 1) and moves its state. */
static void
test_uniform(void)
{
	uint64_t	state = 0x9e3779b97f4a7c15ULL, before;
	double		u, sum = 0;
	int		i, in = 1;

	for (i = 0; i < 10000; i++) {
		before = state;
		u = policy_uniform(&state);
		in = in && u >= 0 && u < 1 && state != before;
		sum += u;
	}
	CHECK(in);
	CHECK(sum / 10000 > 0.45 && sum / 10000 < 0.55);
}

int
main(void)
{
	test_rate();
	test_transient();
	test_uniform();
	return check_report();
}
