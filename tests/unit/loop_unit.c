/*
 * Unit tests for loop's assignment of transfers to multi handles: how many
 * multi handles serve -c slots, the host hash, the pick (home, spill, the
 * least loaded when over), and the table that remembers where each easy
 * handle went, with real easy handles added and removed (the event loop
 * never runs, so nothing is fetched).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <ev.h>

#include "gather/loop.h"

static int passed, failed;

#define CHECK(cond) do {						\
	if (cond)							\
		passed++;						\
	else {								\
		failed++;						\
		fprintf(stdout, "loop_unit: %s:%d: %s\n", __FILE__,	\
		    __LINE__, #cond);					\
	}								\
} while (0)

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
	size_t		i, m, used[8] = { 0 };

	CHECK(loop_pick(load, 1, 500, 12345) == 0);
	/* Home is the hash modulo k. */
	CHECK(loop_pick(load, 8, 10, 3) == 3);
	CHECK(loop_pick(load, 8, 10, 8 + 5) == 5);
	/* One host fills its home, then spills to the next, wrapping. */
	for (i = 0; i < 80; i++) {
		m = loop_pick(load, 8, 10, 6);
		load[m]++;
		CHECK(i >= 10 || m == 6);
		CHECK(i < 10 || i >= 20 || m == 7);
		CHECK(i < 20 || i >= 30 || m == 0);
	}
	for (i = 0; i < 8; i++)
		CHECK(load[i] == 10);
	/* A slot freed anywhere is found. */
	load[2]--;
	CHECK(loop_pick(load, 8, 10, 6) == 2);
	load[2]++;
	/* Over the slots (never in gather): the least loaded. */
	for (i = 0; i < 8; i++)
		load[i] = 11;
	load[1] = 12;
	load[3] = 10;
	CHECK(loop_pick(load, 8, 10, 6) == 3);
	/* Many hosts: every multi handle gets some. */
	memset(load, 0, sizeof(load));
	for (i = 0; i < 50; i++)
		used[loop_pick(load, 8, 10, loop_host_hash((char[]){
		    'h', (char)('a' + i % 26), (char)('0' + i / 26), 0 }))]++;
	for (i = 0; i < 8; i++)
		CHECK(used[i] > 0);
}

/* Add n handles to one host, remove and re-add some, then all. */
static void
test_table(struct ev_loop *evl)
{
	enum { N = 1200 };
	struct loop	*lp;
	CURL		*e[N];
	long		 where[N], count[3] = { 0 };
	size_t		 i;
	int		 ok;

	CHECK((lp = loop_new(evl, N, NULL, NULL)) != NULL);
	if (lp == NULL)
		return;
	for (i = 0; i < N; i++) {
		e[i] = curl_easy_init();
		curl_easy_setopt(e[i], CURLOPT_URL, "http://127.0.0.1:9/");
		CHECK(loop_add(lp, e[i], "http://127.0.0.1:9/x") == 0);
	}
	/* Three multi handles of 400 slots, each full. */
	for (i = 0; i < N; i++) {
		where[i] = loop_which(lp, e[i]);
		CHECK(where[i] >= 0 && where[i] < 3);
		if (where[i] >= 0 && where[i] < 3)
			count[where[i]]++;
	}
	CHECK(count[0] == 400 && count[1] == 400 && count[2] == 400);
	/* One host: the first 400 went to one home. */
	for (i = 1; i < 400; i++)
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
	/* A second remove is harmless; a re-add goes where there is room. */
	loop_remove(lp, e[0]);
	for (i = 0; i < N; i += 3)
		CHECK(loop_add(lp, e[i], "http://127.0.0.1:9/") == 0);
	memset(count, 0, sizeof(count));
	for (i = 0; i < N; i++)
		if (loop_which(lp, e[i]) >= 0 && loop_which(lp, e[i]) < 3)
			count[loop_which(lp, e[i])]++;
	CHECK(count[0] == 400 && count[1] == 400 && count[2] == 400);
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
	test_table(evl);
	ev_loop_destroy(evl);
	curl_global_cleanup();
	printf("loop_unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
