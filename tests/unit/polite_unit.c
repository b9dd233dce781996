/*
 * Unit tests for polite: per-host pauses (a burst is one pause, as long as
 * the longest), --per-host-rate turns, the --adaptive limit as admission
 * sees it, and which entries outlive their last reference.  The time is
 * an argument, so every expected value here is exact.
 */
#include <math.h>
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

/*
 * One step on host 0 or 1 at time now: 'a' polite_allows (want its
 * answer, at its time to look again), 'p' polite_pause for arg seconds
 * (want whether it was fresh, at its end), 's' polite_start, 'e'
 * polite_end, 'P' polite_put.
 */
#define NSTEPS(a)	(sizeof(a) / sizeof(*(a)))

struct step {
	char	op;
	int	host;
	double	now, arg;
	int	want;
	double	at;
};

/* Run the n steps on p and hosts h, each checked where it says so. */
static void
run_steps(struct polite *p, struct polite_host **h, const struct step *st,
    size_t n)
{
	const struct step	*s;
	double			 at;
	size_t			 i;
	int			 ok;

	for (i = 0; i < n; i++) {
		s = &st[i];
		ok = 1;
		if (s->op == 'a')
			ok = polite_allows(p, h[s->host], s->now, &at) ==
			    s->want && fabs(at - s->at) < 1e-6;
		else if (s->op == 'p')
			ok = polite_pause(h[s->host], s->now, s->arg, &at) ==
			    s->want && fabs(at - s->at) < 1e-6;
		else if (s->op == 's')
			polite_start(p, h[s->host], s->now);
		else if (s->op == 'e')
			polite_end(h[s->host]);
		else
			polite_put(p, h[s->host], s->now);
		if (!ok)
			printf("polite_unit: step %zu ('%c' at %g) failed\n", i,
			    s->op, s->now);
		CHECK(ok);
	}
}

/* A pause holds its host only, until its end; a burst is one pause. */
static const struct step pause_steps[] = {
	{ 'a', 0, 100, 0, 1, 0 },
	{ 'p', 0, 100, 2, 1, 102 },
	/* A burst: later and longer extends, shorter does not; one pause. */
	{ 'p', 0, 100.5, 3, 0, 103.5 },
	{ 'p', 0, 101, 1, 0, 103.5 },
	{ 'a', 0, 101, 0, 0, 103.5 },
	{ 'a', 1, 101, 0, 1, 0 },
	{ 'a', 0, 103.5, 0, 1, 0 },
	/* Once over, the next one is a pause of its own. */
	{ 'p', 0, 200, 1, 1, 201 },
	/* Without --adaptive, in flight never holds a host back. */
	{ 's', 1, 300, 0, 0, 0 },
	{ 's', 1, 300, 0, 0, 0 },
	{ 'a', 1, 300, 0, 1, 0 },
	{ 'e', 1, 300, 0, 0, 0 },
	{ 'e', 1, 300, 0, 0, 0 },
	{ 'e', 1, 300, 0, 0, 0 },	/* one too many is harmless */
	{ 'P', 0, 300, 0, 0, 0 },
	{ 'P', 1, 300, 0, 0, 0 },
};

/* --per-host-rate 5/s: a turn every 0.2 s, each host its own. */
static const struct step rate_steps[] = {
	{ 'a', 0, 10, 0, 1, 0 },
	{ 's', 0, 10, 0, 0, 0 },
	{ 'a', 0, 10.1, 0, 0, 10.2 },
	{ 'a', 1, 10.1, 0, 1, 0 },
	{ 'a', 0, 10.2, 0, 1, 0 },
	{ 's', 0, 10.2, 0, 0, 0 },
	{ 'a', 0, 10.3, 0, 0, 10.4 },
	/* A pause and a turn: the later of the two. */
	{ 'p', 0, 10.3, 0.05, 1, 10.35 },
	{ 'a', 0, 10.3, 0, 0, 10.4 },
	{ 'p', 0, 10.3, 1, 0, 11.3 },
	{ 'a', 0, 10.3, 0, 0, 11.3 },
	{ 'e', 0, 20, 0, 0, 0 },
	{ 'e', 0, 20, 0, 0, 0 },
	{ 'P', 0, 20, 0, 0, 0 },
	{ 'P', 1, 20, 0, 0, 0 },
};

/* A table of steps on hosts a:80 and b:80 under --per-host-rate rate. */
static void
test_steps(double rate, const struct step *st, size_t n)
{
	struct opts		 o = opts_with(rate, 0, 0, 32);
	struct polite		*p = polite_new(&o);
	struct polite_host	*h[2];

	CHECK(p != NULL);
	h[0] = polite_get(p, "a:80");
	h[1] = polite_get(p, "b:80");
	CHECK(h[0] != NULL && h[1] != NULL && h[0] != h[1]);
	/* One entry per host, held once more by a second look. */
	CHECK(polite_get(p, "a:80") == h[0]);
	polite_put(p, h[0], 0);
	CHECK(strcmp(polite_key(h[0]), "a:80") == 0);
	run_steps(p, h, st, n);
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
	test_steps(0, pause_steps, NSTEPS(pause_steps));
	test_steps(5, rate_steps, NSTEPS(rate_steps));
	test_adaptive();
	test_entries();
	return check_report();
}
