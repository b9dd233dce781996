/*
 * Unit tests for jar_changes, which -j uses to make the workers' cookie
 * stores one: a worker's cookie that the start had unchanged is no change,
 * a new or changed one is given as it is, one the worker lacks is given
 * back expired (its fifth field 1), "#HttpOnly_" is no part of the key,
 * and a line without its seven fields is never taken for a deletion.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "gather/jar.h"

#define CHECK_NAME "jar_unit"
#include "check.h"

/* What jar_changes gave, a line each, "|" after each. */
static char got[4096];

/* jar_changes' callback: note line. */
static void
note(void *arg, const char *line)
{
	(void)arg;
	strncat(got, line, sizeof(got) - strlen(got) - 2);
	strcat(got, "|");
}

/* A list of the lines of the NULL-ended array. */
static struct curl_slist *
list_of(const char *const *lines)
{
	struct curl_slist *l = NULL;

	for (; *lines != NULL; lines++)
		l = curl_slist_append(l, *lines);
	return l;
}

/* Run jar_changes on base and now; 0 when it gave want, as note writes. */
static int
changes(const char *const *base, const char *const *now, const char *want)
{
	struct curl_slist	*b = list_of(base), *n = list_of(now);
	int			 rc;

	got[0] = '\0';
	rc = jar_changes(b, n, note, NULL);
	curl_slist_free_all(b);
	curl_slist_free_all(n);
	if (rc == 0 && strcmp(got, want) == 0)
		return 0;
	printf("jar_unit: got \"%s\", want \"%s\"\n", got, want);
	return -1;
}

int
main(void)
{
	static const char *const none[] = { NULL };
	static const char *const base[] = {
		"h0.test\tFALSE\t/\tFALSE\t0\tc\tv0",
		"h1.test\tFALSE\t/\tFALSE\t0\tc\tv1",
		"#HttpOnly_h2.test\tFALSE\t/\tFALSE\t0\tc\tv2",
		NULL };
	static const char *const same[] = {
		"h1.test\tFALSE\t/\tFALSE\t0\tc\tv1",
		"#HttpOnly_h2.test\tFALSE\t/\tFALSE\t0\tc\tv2",
		"h0.test\tFALSE\t/\tFALSE\t0\tc\tv0",
		NULL };
	static const char *const changed[] = {
		"h0.test\tFALSE\t/\tFALSE\t0\tc\tnew",
		"h1.test\tFALSE\t/\tFALSE\t0\tc\tv1",
		"h2.test\tFALSE\t/\tFALSE\t0\tc\tv2",
		"h3.test\tFALSE\t/\tFALSE\t0\td\t4",
		NULL };
	static const char *const gone[] = {
		"h0.test\tFALSE\t/\tFALSE\t0\tc\tv0",
		"h1.test\tFALSE\t/x\tFALSE\t0\tc\tv1",
		NULL };
	static const char *const odd[] = { "not a cookie line", NULL };

	CHECK(changes(base, same, "") == 0);
	CHECK(changes(none, none, "") == 0);
	CHECK(changes(none, base, "h0.test\tFALSE\t/\tFALSE\t0\tc\tv0|"
	    "h1.test\tFALSE\t/\tFALSE\t0\tc\tv1|"
	    "#HttpOnly_h2.test\tFALSE\t/\tFALSE\t0\tc\tv2|") == 0);
	/* Changed, and HttpOnly dropped: both given as they are now. */
	CHECK(changes(base, changed, "h0.test\tFALSE\t/\tFALSE\t0\tc\tnew|"
	    "h2.test\tFALSE\t/\tFALSE\t0\tc\tv2|"
	    "h3.test\tFALSE\t/\tFALSE\t0\td\t4|") == 0);
	/* Another path is another cookie: h1's / and h2's are gone. */
	CHECK(changes(base, gone, "h1.test\tFALSE\t/x\tFALSE\t0\tc\tv1|"
	    "h1.test\tFALSE\t/\tFALSE\t1\tc\tv1|"
	    "#HttpOnly_h2.test\tFALSE\t/\tFALSE\t1\tc\tv2|") == 0);
	/* A line that is no cookie is given as it is, and never expired. */
	CHECK(changes(odd, none, "") == 0);
	CHECK(changes(none, odd, "not a cookie line|") == 0);
	return check_report();
}
