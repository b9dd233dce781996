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

static void
test_pick(void)
{
	unsigned	load[8] = { 0 };
	size_t		i, m;

	CHECK(loop_pick(load, NULL, 1, 500, 12345) == 0);
	CHECK(loop_pick(load, NULL, 8, 10, 3) == 3);
	CHECK(loop_pick(load, NULL, 8, 10, 8 + 5) == 5);
	/*
	 * One host fills its home to one and a half times per, then the
	 * next ones to per, wrapping round.
	 */
	for (i = 0; i < 80; i++) {
		m = loop_pick(load, NULL, 8, 10, 6);
		load[m]++;
		CHECK(i >= 15 || m == 6);
		CHECK(i < 15 || i >= 25 || m == 7);
		CHECK(i < 25 || i >= 35 || m == 0);
	}
	CHECK(load[6] == 15 && load[5] == 5);
	for (i = 0; i < 8; i++)
		CHECK(i == 5 || i == 6 || load[i] == 10);
	/* A slot freed anywhere is found once home is over. */
	load[2]--;
	CHECK(loop_pick(load, NULL, 8, 10, 6) == 2);
	load[2]++;
	/* A home under per takes its own, whatever the others hold. */
	load[3] = 9;
	CHECK(loop_pick(load, NULL, 8, 10, 3) == 3);
	/* Over the slots (never in gather): the least loaded. */
	for (i = 0; i < 8; i++)
		load[i] = 15;
	load[1] = 16;
	load[3] = 12;
	CHECK(loop_pick(load, NULL, 8, 10, 6) == 3);
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

/* Caps: a multi handle at its share of descriptors is passed over. */
static void
test_pick_cap(void)
{
	unsigned	load[4] = { 0 }, cap[4] = { 6, 6, 6, 7 };
	size_t		i, m;

	/* One host, 25 transfers over caps adding up to 25: all fit. */
	for (i = 0; i < 25; i++) {
		m = loop_pick(load, cap, 4, 7, 1);
		CHECK(load[m] < cap[m]);
		load[m]++;
	}
	CHECK(load[0] == 6 && load[1] == 6 && load[2] == 6 && load[3] == 7);
	/* A freed place is found wherever it is. */
	load[2]--;
	CHECK(loop_pick(load, cap, 4, 7, 1) == 2);
	CHECK(loop_pick(load, cap, 4, 7, 3) == 2);
	/* Home under one and a half times per but at its cap: the others. */
	load[0] = 0;
	load[2] = 6;
	CHECK(loop_pick(load, cap, 4, 7, 1) == 0);
	/* The one with most room, past the ones at per. */
	cap[1] = 20;
	load[0] = 6;
	load[1] = 12;
	CHECK(loop_pick(load, cap, 4, 7, 0) == 1);
}

/* Add n handles, to one host and then round hosts, removing and re-adding. */
static void
test_table(struct ev_loop *evl)
{
	enum { N = 1200, K = N / LOOP_SLOTS_PER_MULTI + (N %
	    LOOP_SLOTS_PER_MULTI != 0), PER = (N + K - 1) / K };
	struct loop	*lp;
	CURL		*e[N];
	char		 url[64];
	long		 where[N], count[K] = { 0 };
	size_t		 i;
	int		 ok;

	CHECK((lp = loop_new(evl, N, 0, NULL, NULL)) != NULL);
	if (lp == NULL)
		return;
	for (i = 0; i < N; i++) {
		e[i] = curl_easy_init();
		CHECK(loop_add(lp, e[i], "http://127.0.0.1:9/x") == 0);
	}
	/* Every slot in some multi handle, none over one and a half. */
	ok = 1;
	for (i = 0; i < N; i++) {
		where[i] = loop_which(lp, e[i]);
		if (where[i] < 0 || where[i] >= K)
			ok = 0;
		else
			count[where[i]]++;
	}
	CHECK(ok);
	for (i = 0; i < K; i++)
		CHECK(count[i] <= PER + PER / 2);
	/* One host: its home took the first ones. */
	for (i = 1; i < PER + PER / 2; i++)
		CHECK(where[i] == where[0]);
	CHECK(loop_add(lp, e[7], "http://127.0.0.1:9/") == -1);
	CHECK(loop_which(lp, e[7]) == where[7]);
	/* Every third out; each is then found in no multi handle. */
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
	/* K hosts in turn, K new ones: one home each, all filled evenly. */
	memset(count, 0, sizeof(count));
	for (i = 0; i < N; i++) {
		snprintf(url, sizeof(url), "http://127.0.0.%zu:8080/%zu",
		    2 + i % K, i);
		CHECK(loop_add(lp, e[i], url) == 0);
		if (loop_which(lp, e[i]) >= 0 && loop_which(lp, e[i]) < K)
			count[loop_which(lp, e[i])]++;
		CHECK(i < K || loop_which(lp, e[i]) == loop_which(lp,
		    e[i - K]));
	}
	for (i = 0; i < K; i++)
		CHECK(count[i] == PER);
	for (i = N; i-- > 0;) {
		loop_remove(lp, e[i]);
		curl_easy_cleanup(e[i]);
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
	test_pick();
	test_pick_cap();
	test_needs_lookup();
	test_table(evl);
	ev_loop_destroy(evl);
	curl_global_cleanup();
	return check_report();
}
