/*
 * Unit tests for loop's assignment of transfers to multi handles: how many
 * multi handles serve -c slots, the host hash, the pick (home, spill, the
 * least loaded when over), homes given in turn, and the table that remembers where each easy
 * handle went, with real easy handles added and removed (the event loop
 * never runs, so nothing is fetched).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <ev.h>

#include "gather/loop.h"

#define CHECK_NAME "loop_unit"
#include "check.h"

static void
test_multis(void)
{
	CHECK(loop_multis(0) == 1);
	CHECK(loop_multis(1) == 1);
	CHECK(loop_multis(32) == 1);
	CHECK(loop_multis(LOOP_SLOTS_PER_MULTI) == 1);
	CHECK(loop_multis(LOOP_SLOTS_PER_MULTI + 1) == 2);
	CHECK(loop_multis(5000) == (5000 + LOOP_SLOTS_PER_MULTI - 1) /
	    LOOP_SLOTS_PER_MULTI);
	CHECK(loop_multis(100000) == (100000 + LOOP_SLOTS_PER_MULTI - 1) /
	    LOOP_SLOTS_PER_MULTI);
}

static void
test_hash(void)
{
	uint32_t h = loop_host_hash("http://example.org:8080/a");

	/* One host and port, whatever the path, scheme's case or host's. */
	CHECK(loop_host_hash("http://example.org:8080/b?x#y") == h);
	CHECK(loop_host_hash("HTTP://Example.ORG:8080") == h);
	CHECK(loop_host_hash("http://example.org:8080?q") == h);
	/* A URL without a scheme is its authority too. */
	CHECK(loop_host_hash("example.org:8080/c") == h);
	CHECK(loop_host_hash("https://example.org:8080/") == h);
	/* Another port or host is another key. */
	CHECK(loop_host_hash("http://example.org:8081/a") != h);
	CHECK(loop_host_hash("http://example.com:8080/a") != h);
	/* "://" inside the path is not a scheme. */
	CHECK(loop_host_hash("example.org:8080/x://y") == h);
	CHECK(loop_host_hash(NULL) == loop_host_hash(""));
}

/* Only host names are looked up: not IPv4 or bracketed IPv6 addresses. */
static void
test_needs_lookup(void)
{
	CHECK(loop_needs_lookup("http://example.org/x") == 1);
	CHECK(loop_needs_lookup("http://example.org:8080/x") == 1);
	CHECK(loop_needs_lookup("example.org") == 1);
	CHECK(loop_needs_lookup("http://u:p@h1.test:80/") == 1);
	CHECK(loop_needs_lookup("http://127.0.0.1:9/x") == 0);
	CHECK(loop_needs_lookup("http://127.0.0.1") == 0);
	CHECK(loop_needs_lookup("10.1.2.3:80/a?b") == 0);
	CHECK(loop_needs_lookup("http://[::1]:8080/") == 0);
	CHECK(loop_needs_lookup("https://user@[2001:db8::1]/") == 0);
	CHECK(loop_needs_lookup("http://user@127.0.0.1/x@y") == 0);
	/* A name made of digits and a letter is a name. */
	CHECK(loop_needs_lookup("http://127.0.0.1a/") == 1);
	CHECK(loop_needs_lookup(NULL) == 0);
}

/* Handles a done callback was given. */
static size_t	done_count;

/* A done callback that only counts. */
static void
count_done(void *arg, CURL *e, CURLcode rc)
{
	(void)arg;
	(void)e;
	(void)rc;
	done_count++;
}

/* One host over lanes of LOOP_LANE, then hosts in turn: a lane each. */
static void
test_lanes(struct ev_loop *evl)
{
	enum { N = 1200, K = 7 };
	struct loop	*lp;
	CURL		*e[N];
	char		 url[64];
	long		 where[N], count[N] = { 0 }, host[N];
	size_t		 i;
	int		 ok;

	CHECK((lp = loop_new(evl, N, 0, NULL, NULL)) != NULL);
	if (lp == NULL)
		return;
	for (i = 0; i < N; i++) {
		e[i] = curl_easy_init();
		CHECK(loop_add(lp, e[i], "http://127.0.0.1:9/x") == 0);
	}
	/* Every one admitted, in lanes of at most LOOP_LANE, filled in turn. */
	ok = 1;
	for (i = 0; i < N; i++) {
		where[i] = loop_which(lp, e[i]);
		if (where[i] < 0 || where[i] >= N || loop_waits(lp, e[i]))
			ok = 0;
		else
			count[where[i]]++;
		if (where[i] != (long)(i / LOOP_LANE))
			ok = 0;
	}
	CHECK(ok);
	for (i = 0; i < N; i++)
		CHECK(count[i] <= LOOP_LANE);
	CHECK(loop_add(lp, e[7], "http://127.0.0.1:9/") == -1);
	CHECK(loop_which(lp, e[7]) == where[7]);
	/* Every third out; each is then found in no lane; back in. */
	for (i = 0; i < N; i += 3)
		loop_remove(lp, e[i]);
	ok = 1;
	for (i = 0; i < N; i++)
		if ((loop_which(lp, e[i]) == -1) != (i % 3 == 0))
			ok = 0;
	CHECK(ok);
	loop_remove(lp, e[0]);
	for (i = 0; i < N; i += 3)
		CHECK(loop_add(lp, e[i], "http://127.0.0.1:9/") == 0);
	for (i = 0; i < N; i++)
		loop_remove(lp, e[i]);
	/* K hosts in turn: no lane holds two of them. */
	for (i = 0; i < N; i++)
		host[i] = -1;
	ok = 1;
	for (i = 0; i < N; i++) {
		snprintf(url, sizeof(url), "http://127.0.0.%zu:8080/%zu",
		    2 + i % K, i);
		CHECK(loop_add(lp, e[i], url) == 0);
		where[i] = loop_which(lp, e[i]);
		if (where[i] < 0 || where[i] >= N)
			ok = 0;
		else if (host[where[i]] == -1)
			host[where[i]] = (long)(i % K);
		else if (host[where[i]] != (long)(i % K))
			ok = 0;
	}
	CHECK(ok);
	for (i = N; i-- > 0;) {
		loop_remove(lp, e[i]);
		curl_easy_cleanup(e[i]);
	}
	loop_free(lp);
}

/*
 * A budget of 22 descriptors for 20 slots over two hosts, too few for a
 * lane a host has not earned: the second host's first transfer shares
 * the first host's lane, its second earns a lane of its own (whose socket
 * pair takes two).  Once all are given out, a transfer waits in its own
 * host's lane, and starts when one of its own host ends, not when
 * another host's does (whose idle connection stays its host's).
 */
static void
test_budget(struct ev_loop *evl)
{
	struct loop	*lp;
	CURL		*a[10], *b[15];
	size_t		 i;

	CHECK((lp = loop_new(evl, 20, 22, count_done, NULL)) != NULL);
	if (lp == NULL)
		return;
	for (i = 0; i < 15; i++) {
		b[i] = curl_easy_init();
		if (i < 10)
			a[i] = curl_easy_init();
	}
	for (i = 0; i < 10; i++)
		CHECK(loop_add(lp, a[i], "http://127.0.0.1:9/a") == 0);
	CHECK(loop_add(lp, b[0], "http://127.0.0.2:9/b") == 0);
	CHECK(loop_which(lp, b[0]) == 0 && !loop_waits(lp, b[0]));
	for (i = 1; i < 9; i++) {
		CHECK(loop_add(lp, b[i], "http://127.0.0.2:9/b") == 0);
		CHECK(loop_which(lp, b[i]) == 1 && !loop_waits(lp, b[i]));
	}
	for (i = 0; i < 10; i++)
		CHECK(loop_which(lp, a[i]) == 0 && !loop_waits(lp, a[i]));
	/* Half of the first host's end: the second's next ones wait. */
	for (i = 0; i < 5; i++)
		loop_remove(lp, a[i]);
	for (i = 9; i < 15; i++) {
		CHECK(loop_add(lp, b[i], "http://127.0.0.2:9/b") == 0);
		CHECK(loop_which(lp, b[i]) == 1 && loop_waits(lp, b[i]));
	}
	/* An end of the other host's leaves them waiting... */
	loop_remove(lp, a[5]);
	ev_run(evl, EVRUN_NOWAIT);
	CHECK(loop_waits(lp, b[9]) && loop_waits(lp, b[10]));
	/* ... one of their own host's lets the first in. */
	loop_remove(lp, b[1]);
	ev_run(evl, EVRUN_NOWAIT);
	CHECK(!loop_waits(lp, b[9]) && loop_which(lp, b[9]) == 1);
	CHECK(loop_waits(lp, b[10]));
	/* A waiting one removed is forgotten. */
	loop_remove(lp, b[14]);
	CHECK(loop_which(lp, b[14]) == -1);
	/*
	 * The shared lane, once empty, is closed and its descriptors go back
	 * to the budget: the second host's lane grows, its waiters start.
	 */
	for (i = 6; i < 10; i++)
		loop_remove(lp, a[i]);
	CHECK(loop_waits(lp, b[10]));
	loop_remove(lp, b[0]);
	ev_run(evl, EVRUN_NOWAIT);
	for (i = 10; i < 14; i++)
		CHECK(!loop_waits(lp, b[i]) && loop_which(lp, b[i]) == 1);
	for (i = 0; i < 15; i++) {
		loop_remove(lp, b[i]);
		curl_easy_cleanup(b[i]);
		if (i < 10) {
			loop_remove(lp, a[i]);
			curl_easy_cleanup(a[i]);
		}
	}
	loop_free(lp);
}

int
main(void)
{
	struct ev_loop *evl;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    (evl = ev_loop_new(EVFLAG_AUTO)) == NULL)
		return 2;
	test_multis();
	test_hash();
	test_needs_lookup();
	test_lanes(evl);
	test_budget(evl);
	ev_loop_destroy(evl);
	curl_global_cleanup();
	return check_report();
}
