/*
 * policy: how long a record waits before its next attempt, whether it
 * gets one, how --rate and --per-host-rate space starts, and how
 * --adaptive moves a host's concurrency limit (additive increase,
 * multiplicative decrease, as TCP's congestion window).  Full jitter over an
 * exponential backoff, or the server's Retry-After, and in either case
 * never more than --retry-max-delay: the cap holds even below
 * --retry-delay, and a Retry-After too large for any type is the cap.
 * Pure functions: the time and the random state come in as arguments.
 */
#include "gather/policy.h"

#include <math.h>
#include <stdio.h>
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
 * The transient failures, said once for policy_transient and for the set
 * --retry-on starts from: dns, connect, timeout, reset, and the statuses
 * of a server that is busy or restarting.
 */
#define TRANSIENT_KINDS	(1u << ERR_DNS | 1u << ERR_CONNECT | \
			    1u << ERR_TIMEOUT | 1u << ERR_RESET)
static const long transient_statuses[] = { 408, 429, 500, 502, 503, 504 };
#define NTRANSIENT	(sizeof(transient_statuses) / sizeof(long))

/* Whether an attempt that ended as kind with HTTP status is worth another. */
int
policy_transient(enum err_kind kind, long status)
{
	size_t i;

	if (kind != ERR_NONE)
		return kind < 32 && (TRANSIENT_KINDS >> kind & 1u);
	for (i = 0; i < NTRANSIENT; i++)
		if (transient_statuses[i] == status)
			return 1;
	return 0;
}

/*
 * Kinds that --retry-all-errors leaves alone, by name so that a kind added
 * later (checksum, when downloads check hashes) is one more word here:
 * another attempt cannot mend what is wrong with the request or the data.
 * expectation is here too: only --retry-on naming it makes a run poll.
 */
static const char *const never_retried[] = {
	"bad_input", "invalid_url", "unsupported_protocol", "checksum",
	"expectation", NULL
};

/* Turn the statuses lo..hi of rs on or off. */
static void
policy_status_span(struct retry_set *rs, long lo, long hi, int on)
{
	long st;

	for (st = lo; st <= hi && st < RETRY_NSTATUS; st++) {
		if (on)
			rs->status[st / 8] |= (uint8_t)(1u << (st % 8));
		else
			rs->status[st / 8] &= (uint8_t)~(1u << (st % 8));
	}
}

/* The set policy_transient describes, which --retry-on starts from. */
void
policy_retry_default(struct retry_set *rs)
{
	size_t i;

	memset(rs, 0, sizeof(*rs));
	rs->kinds = TRANSIENT_KINDS;
	for (i = 0; i < NTRANSIENT; i++)
		policy_status_span(rs, transient_statuses[i],
		    transient_statuses[i], 1);
}

/* The error kind named by the n bytes at s, or -1. */
static int
policy_kind(const char *s, size_t n)
{
	const char	*name;
	int		 k;

	for (k = ERR_NONE + 1; k < RETRY_NKINDS; k++) {
		name = err_kind_name((enum err_kind)k);
		if (strlen(name) == n && strncmp(name, s, n) == 0)
			return k;
	}
	return -1;
}

/* One --retry-on item, "!" already taken off, into rs; -1 when unknown. */
static int
policy_retry_item(struct retry_set *rs, const char *p, size_t n, int on)
{
	long	lo;
	int	k;

	if ((k = policy_kind(p, n)) != -1) {
		if (on)
			rs->kinds |= 1u << k;
		else
			rs->kinds &= ~(1u << k);
		return 0;
	}
	if (n != 3 || p[0] < '1' || p[0] > '5')
		return -1;
	lo = (p[0] - '0') * 100;
	if (p[1] == 'x' && p[2] == 'x') {
		policy_status_span(rs, lo, lo + 99, on);
		return 0;
	}
	if (p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9')
		return -1;
	lo += (p[1] - '0') * 10 + (p[2] - '0');
	policy_status_span(rs, lo, lo, on);
	return 0;
}

/*
 * --retry-on LIST: kinds, statuses and ranges such as 5xx, separated by
 * commas, each maybe after "!" to take it out, applied in order to an
 * empty set, so the list replaces the default; a list of removals only
 * trims the default instead, as "!503" alone would otherwise mean nothing.
 * -1 with a reason in err.
 */
int
policy_retry_parse(struct retry_set *rs, const char *list, char *err,
    size_t errlen)
{
	const char	*p, *end;
	int		 only_removals = 1, on;

	for (p = list; *p != '\0'; p = *end ? end + 1 : end) {
		end = p + strcspn(p, ",");
		if (*p != '!')
			only_removals = 0;
	}
	if (only_removals && *list != '\0')
		policy_retry_default(rs);
	else
		memset(rs, 0, sizeof(*rs));
	p = list;
	do {
		end = p + strcspn(p, ",");
		if ((on = *p != '!') == 0)
			p++;
		if (policy_retry_item(rs, p, (size_t)(end - p), on) == -1) {
			snprintf(err, errlen, "unknown item '%.*s': expected "
			    "an error kind such as timeout, a status such as "
			    "503 or a range such as 5xx, each maybe after !",
			    (int)(end - p > 40 ? 40 : end - p), p);
			return -1;
		}
		p = end + 1;
	} while (*end != '\0');
	return 0;
}

/*
 * --retry-all-errors: every kind but those never_retried names, and with
 * statuses (--fail given, as curl's -f) every HTTP status from 400 on.
 */
void
policy_retry_all(struct retry_set *rs, int statuses)
{
	size_t	i;
	int	k;

	for (k = ERR_NONE + 1; k < RETRY_NKINDS; k++) {
		for (i = 0; never_retried[i] != NULL; i++)
			if (strcmp(err_kind_name((enum err_kind)k),
			    never_retried[i]) == 0)
				break;
		if (never_retried[i] == NULL)
			rs->kinds |= 1u << k;
	}
	if (statuses)
		policy_status_span(rs, 400, RETRY_NSTATUS - 1, 1);
}

/* Whether an attempt that ended as kind with status is in rs. */
int
policy_retryable(const struct retry_set *rs, enum err_kind kind, long status)
{
	if (kind == ERR_NONE)
		return status >= 0 && status < RETRY_NSTATUS &&
		    (rs->status[status / 8] & (1u << (status % 8))) != 0;
	return (unsigned)kind < RETRY_NKINDS && (rs->kinds & (1u << kind)) != 0;
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

/* --adaptive: a host's limit before any answer, 2 or the cap if lower. */
void
policy_aimd_init(struct aimd *a, long cap)
{
	a->cap = cap < 1 ? 1 : cap;
	a->limit = a->cap < 2 ? a->cap : 2;
	a->lowest = 0;
	a->round = 0;
	a->epoch = 0;
}

/*
 * --adaptive: what an attempt that ended as kind with status says of its
 * host: 429 and 503 (the server says so), a timeout and a reset (it
 * cannot keep up) are overload; any other answer is a success, also
 * when the record refuses it; failures without an answer say nothing.
 */
enum aimd_signal
policy_aimd_signal(enum err_kind kind, long status)
{
	if (kind == ERR_TIMEOUT || kind == ERR_RESET)
		return AIMD_BACK;
	if (status == 429 || status == 503)
		return AIMD_BACK;
	/* An answer the record then refused (too large, a bad checksum). */
	return status > 0 ? AIMD_OK : AIMD_NEUTRAL;
}

/* --adaptive: one success; a round as large as the limit adds one. */
void
policy_aimd_ok(struct aimd *a)
{
	if (++a->round < a->limit)
		return;
	a->round = 0;
	if (a->limit < a->cap)
		a->limit++;
}

/*
 * --adaptive: an overload answer to a request started at epoch halves the
 * limit (at least 1); 1 when it came down.  A request started before the
 * last halving saw the old limit: its answer is the same overload, already
 * paid for.
 */
int
policy_aimd_back(struct aimd *a, unsigned started)
{
	if (started != a->epoch)
		return 0;
	a->epoch++;
	a->round = 0;
	a->limit = a->limit / 2 < 1 ? 1 : a->limit / 2;
	if (a->lowest == 0 || a->limit < a->lowest)
		a->lowest = a->limit;
	return 1;
}
