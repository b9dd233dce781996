/*
 * Unit tests for polite: per-host pauses (a burst is one pause, as long as
 * the longest), --per-host-rate turns, the --adaptive limit as admission
 * sees it, and which entries outlive their last reference.  The time is
 * an argument, so every expected value here is exact.
 */
#include <stdio.h>
#include <string.h>

#include "gather/cli.h"
#include "gather/polite.h"

#define CHECK_NAME "polite_unit"
#include "check.h"

/* Options with only what polite reads set. */
static struct opts
opts_with(double per_host_rate, int adaptive, long per_host, long c)
{
	struct opts o;

	memset(&o, 0, sizeof(o));
	o.per_host_rate = per_host_rate;
	o.adaptive = adaptive;
	o.per_host = per_host;
	o.concurrency = c;
	return o;
}

/* A pause holds its host only, until its end; a burst is one pause. */
static void
test_pause(void)
{
	struct opts		 o = opts_with(0, 0, 0, 32);
	struct polite		*p = polite_new(&o);
	struct polite_host	*a, *b;
	double			 at, until;

	CHECK(p != NULL);
	a = polite_get(p, "a:80");
	b = polite_get(p, "b:80");
	CHECK(a != NULL && b != NULL && a != b);
	CHECK(polite_get(p, "a:80") == a);
	polite_put(p, a, 0);
	CHECK(strcmp(polite_key(a), "a:80") == 0);
	CHECK(polite_allows(p, a, 100, &at) == 1 && at == 0);
	CHECK(polite_pause(a, 100, 2, &until) == 1 && until == 102);
	/* A burst: later and longer extends, shorter does not; one pause. */
	CHECK(polite_pause(a, 100.5, 3, &until) == 0 && until == 103.5);
	CHECK(polite_pause(a, 101, 1, &until) == 0 && until == 103.5);
	CHECK(polite_allows(p, a, 101, &at) == 0 && at == 103.5);
	CHECK(polite_allows(p, b, 101, &at) == 1);
	CHECK(polite_allows(p, a, 103.5, &at) == 1);
	/* Once over, the next one is a pause of its own. */
	CHECK(polite_pause(a, 200, 1, &until) == 1 && until == 201);
	/* Without --adaptive, in flight never holds a host back. */
	polite_start(p, b, 300);
	polite_start(p, b, 300);
	CHECK(polite_allows(p, b, 300, &at) == 1);
	polite_end(b);
	polite_end(b);
	polite_end(b);		/* one too many is harmless */
	polite_put(p, a, 300);
	polite_put(p, b, 300);
	polite_free(p);
}

/* --per-host-rate 5/s: a turn every 0.2 s, each host its own. */
static void
test_rate(void)
{
	struct opts		 o = opts_with(5, 0, 0, 32);
	struct polite		*p = polite_new(&o);
	struct polite_host	*a = polite_get(p, "a:80");
	struct polite_host	*b = polite_get(p, "b:80");
	double			 at;

	CHECK(polite_allows(p, a, 10, &at) == 1);
	polite_start(p, a, 10);
	CHECK(polite_allows(p, a, 10.1, &at) == 0 && at > 10.19 && at < 10.21);
	CHECK(polite_allows(p, b, 10.1, &at) == 1);
	CHECK(polite_allows(p, a, 10.2, &at) == 1);
	polite_start(p, a, 10.2);
	CHECK(polite_allows(p, a, 10.3, &at) == 0 && at > 10.39 && at < 10.41);
	/* A pause and a turn: the later of the two. */
	polite_pause(a, 10.3, 0.05, &at);
	CHECK(polite_allows(p, a, 10.3, &at) == 0 && at > 10.39 && at < 10.41);
	polite_pause(a, 10.3, 1, &at);
	CHECK(polite_allows(p, a, 10.3, &at) == 0 && at == 11.3);
	polite_end(a);
	polite_end(a);
	polite_put(p, a, 20);
	polite_put(p, b, 20);
	polite_free(p);
}

/* --adaptive: a host at its limit waits for a transfer to end. */
static void
test_adaptive(void)
{
	struct opts		 o = opts_with(0, 1, 0, 32);
	struct polite		*p = polite_new(&o);
	struct polite_host	*a = polite_get(p, "a:80");
	unsigned		 e1, e2;
	double			 at;
	int			 i;

	CHECK(polite_limit(a) == 2);
	e1 = polite_start(p, a, 0);
	e2 = polite_start(p, a, 0);
	CHECK(polite_allows(p, a, 0, &at) == 0 && at == 0);
	polite_end(a);
	CHECK(polite_allows(p, a, 0, &at) == 1);
	CHECK(polite_answer(p, a, ERR_NONE, 200, e1) == 0);
	polite_end(a);
	CHECK(polite_answer(p, a, ERR_NONE, 200, e2) == 0);
	CHECK(polite_limit(a) == 3);
	for (i = 0; i < 3 + 4 + 5; i++)
		polite_answer(p, a, ERR_NONE, 200, 0);
	CHECK(polite_limit(a) == 6);
	/* Two overloads from requests of one epoch: one halving. */
	CHECK(polite_answer(p, a, ERR_NONE, 503, 0) == 1);
	CHECK(polite_answer(p, a, ERR_TIMEOUT, 0, 0) == 0);
	CHECK(polite_limit(a) == 3);
	/* A refused connection says nothing. */
	CHECK(polite_answer(p, a, ERR_CONNECT, 0, 1) == 0);
	CHECK(polite_limit(a) == 3);
	polite_put(p, a, 0);
	polite_free(p);
	/* --per-host caps it; without --adaptive nothing moves. */
	o = opts_with(0, 1, 1, 32);
	p = polite_new(&o);
	a = polite_get(p, "a:80");
	CHECK(polite_limit(a) == 1);
	polite_answer(p, a, ERR_NONE, 200, 0);
	CHECK(polite_limit(a) == 1);
	polite_put(p, a, 0);
	polite_free(p);
	o = opts_with(0, 0, 0, 32);
	p = polite_new(&o);
	a = polite_get(p, "a:80");
	CHECK(polite_answer(p, a, ERR_NONE, 503, 0) == 0);
	CHECK(polite_limit(a) == 2);
	polite_put(p, a, 0);
	polite_free(p);
}

/* polite_report's callback: counts, and checks the one host expected. */
static void
report_cb(void *arg, const char *host, long lowest, long final)
{
	int *n = arg;

	(*n)++;
	CHECK(strcmp(host, "slow:80") == 0 && lowest == 1 && final == 2);
}

/*
 * Entries nobody holds stay only while they mean something, and many
 * hosts (past the sweep threshold and the table's growth) stay correct.
 */
static void
test_entries(void)
{
	struct opts		 o = opts_with(1, 1, 0, 32);
	struct polite		*p = polite_new(&o);
	struct polite_host	*h, *slow;
	char			 key[32];
	double			 at;
	int			 i, n = 0;

	/* A rate turn in the future survives the last reference. */
	h = polite_get(p, "r:80");
	polite_start(p, h, 5);
	polite_end(h);
	polite_put(p, h, 5);
	h = polite_get(p, "r:80");
	CHECK(polite_allows(p, h, 5.5, &at) == 0 && at == 6);
	polite_put(p, h, 7);
	/* A limit that came down survives for --stats. */
	slow = polite_get(p, "slow:80");
	polite_answer(p, slow, ERR_NONE, 429, 0);
	polite_answer(p, slow, ERR_NONE, 200, 1);
	polite_answer(p, slow, ERR_NONE, 429, 0);	/* old epoch */
	polite_put(p, slow, 7);
	/* Twenty thousand hosts, each with a turn in the future. */
	for (i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "h%d:80", i);
		if ((h = polite_get(p, key)) == NULL)
			break;
		polite_start(p, h, 100 + i * 0.001);
		polite_end(h);
		polite_put(p, h, 100 + i * 0.001);
	}
	CHECK(i == 20000);
	/* The last few are still held back; their turn is known. */
	h = polite_get(p, "h19999:80");
	CHECK(polite_allows(p, h, 120, &at) == 0 && at > 120.9);
	polite_put(p, h, 120);
	polite_report(p, report_cb, &n);
	CHECK(n == 1);
	polite_free(p);
}

int
main(void)
{
	test_pause();
	test_rate();
	test_adaptive();
	test_entries();
	return check_report();
}
