/*
 * policy: how long a record waits before its next attempt, whether it
 * gets one, and how --rate spaces starts.  Full jitter over an
 * exponential backoff, or the server's Retry-After, and in either case
 * never more than --retry-max-delay: the cap holds even below
 * --retry-delay, and a Retry-After too large for any type is the cap.
 * Pure functions: the time and the random state come in as arguments.
 */
#include "gather/policy.h"

#include <math.h>
#include <string.h>

#include <curl/curl.h>

/* Doublings past this change nothing: 2^60 times any delay is beyond caps. */
#define MAX_DOUBLINGS	60

/*
 * The wait before attempt + 1 after attempt failed: u (uniform in [0, 1))
 * times the smaller of max and delay doubled attempt - 1 times.
 */
double
policy_backoff(int attempt, double delay, double max, double u)
{
	double	span;
	int	n;

	n = attempt < 1 ? 0 : attempt - 1;
	if (n > MAX_DOUBLINGS)
		n = MAX_DOUBLINGS;
	if (!(delay > 0) || !(max > 0) || !(u > 0))
		return 0;
	span = fmin(max, ldexp(delay, n));
	if (u >= 1)
		return span;
	return u * span;
}

/*
 * Seconds a Retry-After value asks for, at wall-clock time now: whole
 * seconds or an HTTP date; -1 when it is neither.  A number of any length
 * is taken whole (infinity past a double), never wrapped, so that the cap
 * applies to it; a date in the past is 0.
 */
double
policy_retry_after(const char *value, time_t now)
{
	const char	*p, *end;
	char		 date[128];
	double		 secs = 0;
	time_t		 when;
	size_t		 len;

	if (value == NULL)
		return -1;
	for (p = value; *p == ' ' || *p == '\t'; p++)
		;
	for (end = p + strlen(p); end > p && (end[-1] == ' ' ||
	    end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'); end--)
		;
	if (p == end)
		return -1;
	if (strspn(p, "0123456789") >= (size_t)(end - p)) {
		/* A double saturates at infinity rather than wrap. */
		for (; p < end; p++)
			secs = secs * 10 + (*p - '0');
		return secs;
	}
	if ((len = (size_t)(end - p)) >= sizeof(date))
		return -1;
	memcpy(date, p, len);
	date[len] = '\0';
	if ((when = curl_getdate(date, NULL)) == -1)
		return -1;
	return when > now ? difftime(when, now) : 0;
}

/*
 * The wait before the next attempt: Retry-After (retry_after >= 0) or the
 * backoff, never more than max.
 */
double
policy_wait(double retry_after, int attempt, double delay, double max,
    double u)
{
	if (retry_after >= 0)
		return fmin(retry_after, max > 0 ? max : 0);
	return policy_backoff(attempt, delay, max, u);
}

/*
 * Whether an attempt that ended as kind with HTTP status is worth another:
 * dns, connect, timeout, reset, and HTTP 408, 429, 500, 502, 503, 504.
 */
int
policy_transient(enum err_kind kind, long status)
{
	switch (kind) {
	case ERR_DNS:
	case ERR_CONNECT:
	case ERR_TIMEOUT:
	case ERR_RESET:
		return 1;
	case ERR_NONE:
		return status == 408 || status == 429 || status == 500 ||
		    status == 502 || status == 503 || status == 504;
	default:
		return 0;
	}
}

/* A uniform double in [0, 1) from the xorshift64* state, advanced. */
double
policy_uniform(uint64_t *state)
{
	uint64_t s = *state;

	s ^= s >> 12;
	s ^= s << 25;
	s ^= s >> 27;
	*state = s;
	return (double)((s * 2685821657736338717ULL) >> 11) /
	    9007199254740992.0;
}

/* --rate: seconds between starts for rate starts a second; 0: no limit. */
double
policy_rate_gap(double rate)
{
	return rate > 0 ? 1.0 / rate : 0;
}

/*
 * --rate: seconds to wait at now before the start due at next_start; 0
 * when it may start now.
 */
double
policy_rate_wait(double now, double next_start)
{
	return now < next_start ? next_start - now : 0;
}

/*
 * --rate: when the start after one made at now is due, given the one that
 * was due at next_start.  Timers fire up to a millisecond late; within a
 * few gaps of the schedule keep to it so lateness does not add up, but
 * after an idle spell start afresh rather than burst to catch up.
 */
double
policy_rate_next(double now, double next_start, double gap)
{
	return now - next_start < 4 * gap ? next_start + gap : now + gap;
}
