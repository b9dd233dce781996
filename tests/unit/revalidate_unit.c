/*
 * Unit tests for the --revalidate table: urls found by hash, the last of a
 * url's records winning, ETags kept whole up to the cap and refused past
 * it or with control bytes, dates back as HTTP dates.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gather/revalidate.h"

#define CHECK_NAME "revalidate_unit"
#include "check.h"

/* revalidate_add with C strings; etag may be NULL. */
static int
add(struct revalidate *rv, const char *url, const char *etag, int64_t t)
{
	return revalidate_add(rv, url, strlen(url), etag, etag ?
	    strlen(etag) : 0, t);
}

/* Whether url is found with etag (NULL: none) and date t. */
static int
has(struct revalidate *rv, const char *url, const char *etag, int64_t t)
{
	struct validators v;

	memset(&v, 0, sizeof(v));
	if (!revalidate_find(rv, url, strlen(url), &v))
		return 0;
	if (etag == NULL)
		return v.etag == NULL && v.modified == t;
	return v.etag != NULL && v.etag_len == strlen(etag) &&
	    memcmp(v.etag, etag, v.etag_len) == 0 && v.modified == t;
}

/* Lookups by url, duplicates, and the ETags kept or dropped. */
static void
test_table(void)
{
	struct revalidate	*rv = revalidate_new();
	char			 long_tag[REVALIDATE_ETAG_MAX + 2], url[64];
	int			 i;

	CHECK(rv != NULL);
	CHECK(add(rv, "http://a/", "\"a1\"", 0) == 0);
	CHECK(add(rv, "http://b/", NULL, 1672567200) == 0);
	CHECK(add(rv, "http://c/", NULL, 0) == 0);	/* nothing: not kept */
	CHECK(add(rv, "http://a/", "\"a2\"", 5) == 0);	/* later wins */
	CHECK(add(rv, "http://g/", "\"g1\"", 3) == 0);
	CHECK(add(rv, "http://g/", NULL, 0) == 0);	/* wins: nothing */
	CHECK(add(rv, "http://d/", "\"x\"\r\nEvil: 1", 7) == 0);
	memset(long_tag, 'e', REVALIDATE_ETAG_MAX);
	long_tag[REVALIDATE_ETAG_MAX] = '\0';
	CHECK(add(rv, "http://e/", long_tag, 0) == 0);
	long_tag[REVALIDATE_ETAG_MAX] = 'e';
	long_tag[REVALIDATE_ETAG_MAX + 1] = '\0';
	CHECK(add(rv, "http://f/", long_tag, 9) == 0);
	for (i = 0; i < 3000; i++) {
		snprintf(url, sizeof(url), "http://h/%d", i);
		CHECK(add(rv, url, i % 2 ? "\"odd\"" : NULL, i + 1) == 0);
	}
	revalidate_seal(rv);
	CHECK(has(rv, "http://a/", "\"a2\"", 5));
	CHECK(has(rv, "http://b/", NULL, 1672567200));
	CHECK(!has(rv, "http://c/", NULL, 0));
	CHECK(!has(rv, "http://g/", NULL, 0));
	CHECK(!has(rv, "http://z/", NULL, 0));
	/* A control byte: the ETag goes, the date stays. */
	CHECK(has(rv, "http://d/", NULL, 7));
	long_tag[REVALIDATE_ETAG_MAX] = '\0';
	CHECK(has(rv, "http://e/", long_tag, 0));
	CHECK(has(rv, "http://f/", NULL, 9));
	CHECK(has(rv, "http://h/0", NULL, 1));
	CHECK(has(rv, "http://h/1", "\"odd\"", 2));
	CHECK(has(rv, "http://h/2999", "\"odd\"", 3000));
	CHECK(!has(rv, "http://h/3000", NULL, 3001));
	revalidate_free(rv);

	/* An empty table finds nothing. */
	rv = revalidate_new();
	revalidate_seal(rv);
	CHECK(!has(rv, "http://a/", NULL, 0));
	revalidate_free(rv);
}

/* Seconds back to IMF-fixdate, whatever the locale. */
static void
test_date(void)
{
	char buf[REVALIDATE_DATE_LEN];

	CHECK(revalidate_date(buf, 1672567200) == 29);
	CHECK(strcmp(buf, "Sun, 01 Jan 2023 10:00:00 GMT") == 0);
	CHECK(revalidate_date(buf, 784111777) == 29);
	CHECK(strcmp(buf, "Sun, 06 Nov 1994 08:49:37 GMT") == 0);
	CHECK(revalidate_parse_date(buf, strlen(buf)) == 784111777);
	CHECK(revalidate_parse_date("Sun, 01 Jan 2023 10:00:00 GMT", 29) ==
	    1672567200);
	CHECK(revalidate_parse_date("Thu, 29 Feb 2024 23:59:59 GMT", 29) ==
	    1709251199);
	CHECK(revalidate_parse_date("Thu, 01 Jan 1970 00:00:00 GMT", 29) == 0);
	CHECK(revalidate_parse_date("Sun, 06 Nov 1994 08:49:37 UTC", 29) == -1);
	CHECK(revalidate_parse_date("Sun, 06 Xyz 1994 08:49:37 GMT", 29) == -1);
	CHECK(revalidate_parse_date("Sun, 06 Nov 1994 24:49:37 GMT", 29) == -1);
	CHECK(revalidate_parse_date("Sunday, 06-Nov-94 08:49:37 GMT", 30) == -1);
}

/* Run the tests; exit 1 when one failed. */
int
main(void)
{
	test_table();
	test_date();
	return check_report();
}
