/*
 * policy: how long a record waits before its next attempt.  Full jitter
 * over an exponential backoff, or the server's Retry-After, and in either
 * case never more than --retry-max-delay: the cap holds even below
 * --retry-delay, and a Retry-After too large for any type is the cap.
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
