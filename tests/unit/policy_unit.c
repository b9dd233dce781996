/*
 * Unit tests for policy: the backoff's growth, jitter and cap (the cap
 * holds below --retry-delay too), and Retry-After in seconds and as an
 * HTTP date, huge values included.  The clock and the random draw are
 * arguments, so every expected value here is exact.
 */
#include <math.h>
#include <stdio.h>
#include <time.h>

#include "gather/policy.h"

#define CHECK_NAME "policy_unit"
#include "check.h"

/* Whether a and b agree to a microsecond. */
static int
near(double a, double b)
{
	return fabs(a - b) < 1e-6;
}

/* Full jitter over delay * 2^(attempt - 1), capped by max. */
static void
test_backoff(void)
{
	CHECK(near(policy_backoff(1, 0.5, 30, 0.5), 0.25));
	CHECK(near(policy_backoff(2, 0.5, 30, 0.5), 0.5));
	CHECK(near(policy_backoff(3, 0.5, 30, 0.5), 1.0));
	CHECK(near(policy_backoff(4, 0.5, 30, 0.999), 3.996));
	/* The cap: long before 2^60. */
	CHECK(near(policy_backoff(10, 0.5, 30, 0.5), 15));
	CHECK(near(policy_backoff(1000000, 0.5, 30, 0.5), 15));
	CHECK(policy_backoff(1000000, 1e300, 30, 0.9) <= 30);
	/* The cap holds below the delay: --retry-max-delay 0.2 alone. */
	CHECK(near(policy_backoff(1, 0.5, 0.2, 0.5), 0.1));
	CHECK(policy_backoff(1, 5, 0.1, 0.999999) <= 0.1);
	CHECK(policy_backoff(7, 5, 0.1, 0.999999) <= 0.1);
	/* Nothing to wait: no delay, no cap, a zero draw, attempt 0. */
	CHECK(policy_backoff(3, 0, 30, 0.5) == 0);
	CHECK(policy_backoff(3, 0.5, 0, 0.5) == 0);
	CHECK(policy_backoff(3, 0.5, 30, 0) == 0);
	CHECK(near(policy_backoff(0, 0.5, 30, 0.5), 0.25));
	CHECK(policy_backoff(-5, 0.5, 30, 0.5) >= 0);
	/* Never more than the cap, even from a draw out of range or NaN. */
	CHECK(near(policy_backoff(3, 0.5, 30, 1.5), 2.0));
	CHECK(policy_backoff(3, 0.5, 30, NAN) == 0);
	CHECK(policy_backoff(3, NAN, 30, 0.5) == 0);
}

/* Retry-After: seconds, dates, and what is neither. */
static void
test_retry_after(void)
{
	time_t now = 784111777;		/* Sun, 06 Nov 1994 08:49:37 GMT */

	CHECK(policy_retry_after("120", now) == 120);
	CHECK(policy_retry_after("0", now) == 0);
	CHECK(policy_retry_after(" 7 ", now) == 7);
	CHECK(policy_retry_after("\t3\r\n", now) == 3);
	/* Past any integer type: the number stands, for the cap to cut. */
	CHECK(policy_retry_after("9223372036854775807", now) >= 9.2e18);
	CHECK(policy_retry_after("9223372036854775808", now) >= 9.2e18);
	CHECK(policy_retry_after("99999999999999999999", now) >= 9.9e19);
	CHECK(policy_retry_after("184467440737095516160000", now) > 1e23);
	CHECK(policy_retry_after("123456789012345678901234567890", now) > 1e29);
	/* Dates, in the three forms HTTP allows. */
	CHECK(policy_retry_after("Sun, 06 Nov 1994 08:50:37 GMT", now) == 60);
	CHECK(policy_retry_after("Sunday, 06-Nov-94 08:49:47 GMT", now) == 10);
	CHECK(policy_retry_after("Sun Nov  6 08:49:40 1994", now) == 3);
	/* A date in the past means now. */
	CHECK(policy_retry_after("Sat, 05 Nov 1994 08:49:37 GMT", now) == 0);
	/* Far ahead: a long wait, which the cap then cuts. */
	CHECK(policy_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now) > 1e10);
	CHECK(policy_retry_after("Sat, 01 Jan 5138 00:00:00 GMT", now) > 9e10);
	/* Neither seconds nor a date. */
	CHECK(policy_retry_after(NULL, now) == -1);
	CHECK(policy_retry_after("", now) == -1);
	CHECK(policy_retry_after("   ", now) == -1);
	CHECK(policy_retry_after("-5", now) == -1);
	CHECK(policy_retry_after("1.5", now) == -1);
	CHECK(policy_retry_after("soon", now) == -1);
}

/* The wait itself: Retry-After or the backoff, capped either way. */
static void
test_wait(void)
{
	CHECK(policy_wait(2, 1, 0.5, 30, 0.5) == 2);
	CHECK(policy_wait(0, 1, 0.5, 30, 0.5) == 0);
	CHECK(policy_wait(100, 1, 0.5, 30, 0.5) == 30);
	CHECK(near(policy_wait(HUGE_VAL, 1, 0.5, 0.3, 0.5), 0.3));
	CHECK(near(policy_wait(policy_retry_after("99999999999999999999", 0),
	    1, 10, 0.3, 0.5), 0.3));
	/* Below the delay, the cap still wins. */
	CHECK(near(policy_wait(5, 1, 10, 0.3, 0.5), 0.3));
	CHECK(near(policy_wait(policy_retry_after(
	    "123456789012345678901234567890", 0), 1, 0, 0.6, 0.5), 0.6));
	CHECK(near(policy_wait(policy_retry_after(
	    "Sat, 01 Jan 5138 00:00:00 GMT", 0), 1, 0, 0.6, 0.5), 0.6));
	/* No Retry-After: the backoff. */
	CHECK(near(policy_wait(-1, 2, 0.5, 30, 0.5), 0.5));
	CHECK(near(policy_wait(-1, 1, 0.5, 0.2, 0.5), 0.1));
	/* The backoff within its bound, attempt by attempt: 0.2, then 0.4. */
	CHECK(policy_wait(-1, 1, 0.2, 30, 0.999999) <= 0.2);
	CHECK(policy_wait(-1, 2, 0.2, 30, 0.999999) <= 0.4);
	CHECK(policy_wait(-1, 2, 0.2, 30, 0.999999) > 0.39);
	/* --retry-max-delay caps a delay above it, the default 0.5 too. */
	CHECK(policy_wait(-1, 4, 5, 0.1, 0.999999) <= 0.1);
	CHECK(policy_wait(-1, 20, 0.5, 0.02, 0.999999) <= 0.02);
	CHECK(policy_wait(-1, 20, 0.5, 0.02, 0.999999) > 0.019);
}

/* --adaptive: the start, growth per round, halving, the floor, the cap. */
static void
test_aimd(void)
{
	struct aimd	a;
	int		i;

	policy_aimd_init(&a, 32);
	CHECK(a.limit == 2 && a.lowest == 0 && a.epoch == 0);
	/* A round is as many successes as the limit: 2, then 3, then 4. */
	policy_aimd_ok(&a);
	CHECK(a.limit == 2);
	policy_aimd_ok(&a);
	CHECK(a.limit == 3);
	for (i = 0; i < 2; i++)
		policy_aimd_ok(&a);
	CHECK(a.limit == 3);
	policy_aimd_ok(&a);
	CHECK(a.limit == 4);
	for (i = 0; i < 4 + 5 + 6 + 7 + 8; i++)
		policy_aimd_ok(&a);
	CHECK(a.limit == 9);
	/* Halving, rounded down; the round starts over. */
	CHECK(policy_aimd_back(&a, 0) == 1);
	CHECK(a.limit == 4 && a.lowest == 4 && a.epoch == 1 && a.round == 0);
	/* An answer to a request started before that halving is paid for. */
	CHECK(policy_aimd_back(&a, 0) == 0);
	CHECK(a.limit == 4);
	for (i = 0; i < 3; i++)
		policy_aimd_ok(&a);
	CHECK(a.limit == 4);
	policy_aimd_ok(&a);
	CHECK(a.limit == 5 && a.lowest == 4);
	/* The floor is 1, however often it halves. */
	CHECK(policy_aimd_back(&a, 1) == 1 && a.limit == 2);
	CHECK(policy_aimd_back(&a, 2) == 1 && a.limit == 1);
	CHECK(policy_aimd_back(&a, 3) == 1 && a.limit == 1);
	CHECK(a.lowest == 1 && a.epoch == 4);
	policy_aimd_ok(&a);
	CHECK(a.limit == 2);
	/* The cap: never above it, and a cap below 2 is the start. */
	policy_aimd_init(&a, 3);
	for (i = 0; i < 100; i++)
		policy_aimd_ok(&a);
	CHECK(a.limit == 3);
	policy_aimd_init(&a, 1);
	CHECK(a.limit == 1);
	policy_aimd_ok(&a);
	CHECK(a.limit == 1);
	policy_aimd_init(&a, 0);
	CHECK(a.limit == 1 && a.cap == 1);
	/* What counts as what. */
	CHECK(policy_aimd_signal(ERR_NONE, 200) == AIMD_OK);
	CHECK(policy_aimd_signal(ERR_NONE, 404) == AIMD_OK);
	CHECK(policy_aimd_signal(ERR_NONE, 500) == AIMD_OK);
	CHECK(policy_aimd_signal(ERR_NONE, 429) == AIMD_BACK);
	CHECK(policy_aimd_signal(ERR_NONE, 503) == AIMD_BACK);
	CHECK(policy_aimd_signal(ERR_TIMEOUT, 0) == AIMD_BACK);
	CHECK(policy_aimd_signal(ERR_RESET, 0) == AIMD_BACK);
	CHECK(policy_aimd_signal(ERR_CONNECT, 0) == AIMD_NEUTRAL);
	CHECK(policy_aimd_signal(ERR_DNS, 0) == AIMD_NEUTRAL);
	CHECK(policy_aimd_signal(ERR_NONE, 0) == AIMD_NEUTRAL);
	CHECK(policy_aimd_signal(ERR_TOO_LARGE, 200) == AIMD_OK);
	CHECK(policy_aimd_signal(ERR_TIMEOUT, 200) == AIMD_BACK);
	CHECK(policy_aimd_signal(ERR_CANCELLED, 0) == AIMD_NEUTRAL);
}

int
main(void)
{
	test_backoff();
	test_retry_after();
	test_wait();
	test_aimd();
	return check_report();
}
