/*
 * Unit tests for units: counts, seconds, sizes, rates and shards as typed
 * on the command line.  Each parser is run over a table of inputs, and a
 * refused input must leave the caller's value alone.
 */
#include <stdint.h>
#include <stdio.h>

#include "gather/units.h"

static int passed, failed;

/* Count one case; name the parser and the input when it went wrong. */
static void
check(int ok, const char *what, const char *in)
{
	if (ok) {
		passed++;
		return;
	}
	failed++;
	fprintf(stderr, "units_unit: %s(\"%s\") is wrong\n", what, in);
}

/* parse_count over 1..100, and its refusals of anything but digits. */
static void
test_count(void)
{
	static const struct {
		const char	*in;
		int		 rc;
		long		 want;
	} t[] = {
		{ "32", 0, 32 }, { "1", 0, 1 }, { "100", 0, 100 },
		{ "0", -1, 0 }, { "101", -1, 0 }, { "-1", -1, 0 },
		{ "3x", -1, 0 }, { "", -1, 0 }, { " 3", -1, 0 }, { "+3", -1, 0 },
	};
	size_t	i;
	long	n;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		n = -7;
		check(parse_count(t[i].in, 1, 100, &n) == t[i].rc &&
		    n == (t[i].rc == 0 ? t[i].want : -7), "parse_count", t[i].in);
	}
}

/* parse_seconds: digits with at most one dot, nothing strtod adds. */
static void
test_seconds(void)
{
	static const struct {
		const char	*in;
		int		 rc;
		double		 want;
	} t[] = {
		{ "2", 0, 2 }, { "0.5", 0, 0.5 }, { ".25", 0, 0.25 },
		{ "0", 0, 0 }, { "-1", -1, 0 }, { "abc", -1, 0 },
		{ "1.2.3", -1, 0 }, { ".", -1, 0 }, { "inf", -1, 0 },
		{ "1e3", -1, 0 }, { "", -1, 0 },
	};
	size_t	i;
	double	d;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		d = -7;
		check(parse_seconds(t[i].in, &d) == t[i].rc &&
		    d == (t[i].rc == 0 ? t[i].want : -7), "parse_seconds",
		    t[i].in);
	}
}

/* parse_size: 1024-based suffixes, and no overflow past 64 bits. */
static void
test_size(void)
{
	static const struct {
		const char	*in;
		int		 rc;
		uint64_t	 want;
	} t[] = {
		{ "0", 0, 0 }, { "100", 0, 100 }, { "1k", 0, 1024 },
		{ "16M", 0, 16u << 20 }, { "2G", 0, 2ull << 30 },
		{ "12X", -1, 0 }, { "-1", -1, 0 }, { "k", -1, 0 },
		{ "1kk", -1, 0 }, { "99999999999999999999", -1, 0 },
		{ "17179869184G", -1, 0 },
	};
	size_t		i;
	uint64_t	s;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		s = 7;
		check(parse_size(t[i].in, &s) == t[i].rc &&
		    s == (t[i].rc == 0 ? t[i].want : 7), "parse_size", t[i].in);
	}
}

/* parse_rate: starts per second, whatever the unit given. */
static void
test_rate(void)
{
	static const struct {
		const char	*in;
		int		 rc;
		double		 want;
	} t[] = {
		{ "10", 0, 10 }, { "10/s", 0, 10 }, { "600/m", 0, 10 },
		{ "7200/h", 0, 2 }, { "0.5", 0, 0.5 }, { "0", -1, 0 },
		{ "10/d", -1, 0 }, { "/s", -1, 0 }, { "10/", -1, 0 },
		{ "x/s", -1, 0 },
	};
	size_t	i;
	double	r;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		r = -7;
		check(parse_rate(t[i].in, &r) == t[i].rc &&
		    r == (t[i].rc == 0 ? t[i].want : -7), "parse_rate", t[i].in);
	}
}

/* parse_shard: K/N with 0 <= K < N. */
static void
test_shard(void)
{
	static const struct {
		const char	*in;
		int		 rc;
		long		 k, n;
	} t[] = {
		{ "0/1", 0, 0, 1 }, { "2/3", 0, 2, 3 }, { "3/3", -1, 0, 0 },
		{ "0/0", -1, 0, 0 }, { "/3", -1, 0, 0 }, { "1/", -1, 0, 0 },
		{ "1", -1, 0, 0 }, { "-1/3", -1, 0, 0 },
	};
	size_t	i;
	long	k, n;
	int	rc;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		k = n = -7;
		rc = parse_shard(t[i].in, &k, &n);
		check(rc == t[i].rc && (rc != 0 || (k == t[i].k && n == t[i].n)),
		    "parse_shard", t[i].in);
	}
}

int
main(void)
{
	test_count();
	test_seconds();
	test_size();
	test_rate();
	test_shard();
	printf("units_unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
