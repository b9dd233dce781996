/*
 * units: parsing of command-line values with units and ranges.  Each parser
 * refuses a value unless it understands all of it, because a usage error
 * costs nothing while a half-read "1e3" or "3x" silently means something
 * else for the whole run.
 */
#include "gather/units.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A decimal integer in [min, max]; -1 when it is not one. */
int
parse_count(const char *s, long min, long max, long *out)
{
	char	*end;
	long	 v;

	if (*s == '\0' || *s == ' ' || *s == '+')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Non-negative seconds, fractions allowed: "2", "0.5", ".25". */
int
parse_seconds(const char *s, double *out)
{
	const char	*p;
	char		*end;
	int		 digits = 0, dots = 0;
	double		 v;

	for (p = s; *p; p++) {
		if (*p >= '0' && *p <= '9')
			digits++;
		else if (*p == '.' && dots++ == 0)
			continue;
		else
			return -1;
	}
	if (digits == 0)
		return -1;
	v = strtod(s, &end);
	if (*end != '\0' || !isfinite(v) || v < 0 || v > 1e9)
		return -1;
	*out = v;
	return 0;
}

/* A byte count with an optional k, M or G suffix (1024-based). */
int
parse_size(const char *s, uint64_t *out)
{
	uint64_t	 v = 0, mul = 1;
	const char	*p = s;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	switch (*p) {
	case '\0':
		break;
	case 'k': case 'K':
		mul = 1024;
		p++;
		break;
	case 'm': case 'M':
		mul = 1024 * 1024;
		p++;
		break;
	case 'g': case 'G':
		mul = 1024 * 1024 * 1024;
		p++;
		break;
	default:
		return -1;
	}
	if (*p != '\0' || (v && mul > UINT64_MAX / v))
		return -1;
	*out = v * mul;
	return 0;
}

/* Starts per second from "N", "N/s", "N/m" or "N/h"; N may have a fraction. */
int
parse_rate(const char *s, double *out)
{
	char		 num[64];
	const char	*slash = strchr(s, '/');
	size_t		 len = slash ? (size_t)(slash - s) : strlen(s);
	double		 v, per = 1;

	if (len == 0 || len >= sizeof(num))
		return -1;
	memcpy(num, s, len);
	num[len] = '\0';
	if (parse_seconds(num, &v) == -1 || v <= 0)
		return -1;
	if (slash != NULL) {
		if (strcmp(slash, "/s") == 0)
			per = 1;
		else if (strcmp(slash, "/m") == 0)
			per = 60;
		else if (strcmp(slash, "/h") == 0)
			per = 3600;
		else
			return -1;
	}
	*out = v / per;
	return 0;
}

/* "K/N" with 0 <= K < N. */
int
parse_shard(const char *s, long *k, long *n)
{
	char		 num[32];
	const char	*slash = strchr(s, '/');
	size_t		 len;

	if (slash == NULL || (len = (size_t)(slash - s)) == 0 ||
	    len >= sizeof(num))
		return -1;
	memcpy(num, s, len);
	num[len] = '\0';
	if (parse_count(num, 0, LONG_MAX - 1, k) == -1 ||
	    parse_count(slash + 1, 1, LONG_MAX, n) == -1 || *k >= *n)
		return -1;
	return 0;
}
