/*
 * Unit tests for the pure parts of --resume: reading an index as gather
 * writes it, and finding the record glued to the end of a cut line.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gather/earlier.h"

#define CHECK_NAME "resume_unit"
#include "check.h"

/* earlier_parse_index on a C string; UINT64_MAX - 1 when refused. */
static uint64_t
index_of(const char *s)
{
	uint64_t v;

	if (earlier_parse_index(s, strlen(s), &v) == -1)
		return UINT64_MAX - 1;
	return v;
}

static void
test_index(void)
{
	const char	*bad[] = { "", "-1", "-0", "+1", "1.9", "0.5", "1.0",
	    "1e300", "1E2", "2e0", "01", "00", " 1", "1 ", "0x10", "[1]",
	    "\"1\"", "null", "18446744073709551616", "99999999999999999999",
	    "99999999999999999999999", "184467440737095516150" };
	size_t		 i;

	CHECK(index_of("0") == 0);
	CHECK(index_of("7") == 7);
	CHECK(index_of("1234567890") == 1234567890);
	CHECK(index_of("9007199254740993") == 9007199254740993ULL);
	CHECK(index_of("18446744073709551615") == UINT64_MAX);
	CHECK(index_of("18446744073709551614") == UINT64_MAX - 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(index_of(bad[i]) == UINT64_MAX - 1 ||
		    (fprintf(stderr, "resume_unit: took '%s'\n", bad[i]), 0));
}

/* earlier_last_object on a C string. */
static long
last(const char *s)
{
	return earlier_last_object(s, strlen(s));
}

static void
test_last_object(void)
{
	CHECK(last("{\"index\":0}") == 0);
	CHECK(last("{\"index\":0} \r") == 0);
	CHECK(last("{\"index\":3,\"url\":\"x") == -1);
	CHECK(last("{\"index\":3,\"u{\"index\":4}") == 13);
	/* Braces and escaped quotes inside strings do not count. */
	CHECK(last("cut{\"a\":\"}{\\\"}{\",\"b\":[{}]}") == 3);
	CHECK(last("cut\"{\"a\":\"x\\\\\"}") == 4);
	/* Nested objects: the outermost that ends the line. */
	CHECK(last("xx{\"index\":1,\"id\":{\"index\":2}}") == 2);
	CHECK(last("") == -1);
	CHECK(last("}") == -1);
	CHECK(last("[1]") == -1);
	CHECK(last("[{}}") == -1);
	CHECK(last("{\"a\":[1}") == -1);
	CHECK(last("{\"index\":{\"index\":{\"index\":") == -1);
}

int
main(void)
{
	test_index();
	test_last_object();
	return check_report();
}
