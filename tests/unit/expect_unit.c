/*
 * Unit tests for expect: the record line becomes the same jq value that
 * jq's own parser makes of it (checked by jq itself: ". == (LINE |
 * fromjson)"), the first output decides, and the messages name the
 * expression and jq's error.  A syntax error is refused with jq's
 * message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gather/buf.h"
#include "gather/expect.h"
#include "gather/text.h"

#define CHECK_NAME "expect_unit"
#include "check.h"

/* Run the one expression src on line; the result of expect_line. */
static int
run1(const char *src, const char *line, char *msg, size_t len)
{
	char		 err[256];
	char		*v[1] = { (char *)(uintptr_t)src };
	struct expect	*e;
	int		 rc;

	if ((e = expect_new(v, 1, err, sizeof(err))) == NULL) {
		snprintf(msg, len, "%s", err);
		return -2;
	}
	rc = expect_line(e, line, strlen(line), msg, len);
	expect_free(e);
	return rc;
}

/* Whether line reads as the value jq's parser makes of it. */
static int
same_as_jq(const char *line)
{
	struct buf	 prog = { NULL, 0, 0 };
	size_t		 n = strlen(line) - 1;	/* the newline */
	char		 msg[256];
	int		 rc;

	buf_append(&prog, ". == (", 6);
	buf_reserve(&prog, json_escaped_len((const unsigned char *)line, n));
	prog.len += json_escape(prog.p + prog.len, (const unsigned char *)line,
	    n);
	buf_append(&prog, " | fromjson)", 12);
	rc = run1(prog.p, line, msg, sizeof(msg));
	if (rc != 1)
		printf("expect_unit: differs (%d, %s): %s", rc, msg, line);
	buf_free(&prog);
	return rc == 1;
}

/* Lines such as gather prints, and the odd shapes --body json embeds. */
static void
test_parse(void)
{
	static const char *const lines[] = {
		"{\"index\":0,\"url\":\"http://127.0.0.1:1/p/x?a=1&b=2\","
		"\"ok\":true,\"status\":200,\"not_modified\":false,"
		"\"http_version\":\"1.1\",\"effective_url\":null,\"redirects\":0,"
		"\"size\":2,\"body\":\"ok\",\"body_encoding\":\"utf-8\","
		"\"hash\":{\"sha256\": \"ab\", \"md5\": \"cd\"},"
		"\"time\":{\"queue\":0.00001,\"dns\":0,\"total\":0.001282},"
		"\"attempts\":1,\"error\":null}\n",
		"{\"id\": { \"k\" : [ 1 , 2 ] } ,\"body\":[],\"x\":{}}\n",
		"{\"s\":\"q\\\"b\\\\s\\/n\\n\\t\\u0000\\u001f\\u00e9\\ud83d\\ude00\"}\n",
		"{\"n\":[-0,0.5,-1.25e-3,1E+20,12345678901234567890,1e-400]}\n",
		"[\"top\",true,false,null,[[[[]]]]]\n",
		"\"only a string\"\n",
		"42\n",
		"{\"\":\"\",\"dup\":1,\"dup\":2}\n",
		"{\"u\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}\n",
	};
	size_t i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		CHECK(same_as_jq(lines[i]));
}

/* The first output decides; false, null, none and errors fail. */
static void
test_results(void)
{
	char msg[256];

	CHECK(run1(".status == 200", "{\"status\":200}\n", msg, sizeof(msg)) ==
	    1);
	CHECK(run1(".status == 200", "{\"status\":404}\n", msg, sizeof(msg)) ==
	    0);
	CHECK(strcmp(msg, "expected .status == 200, got false") ==
	    0);
	CHECK(run1(".nope", "{}\n", msg, sizeof(msg)) == 0);
	CHECK(strcmp(msg, "expected .nope, got null") == 0);
	CHECK(run1("empty", "{}\n", msg, sizeof(msg)) == 0);
	CHECK(strcmp(msg, "expected empty, got no output") == 0);
	CHECK(run1("(1, false)", "{}\n", msg, sizeof(msg)) == 1);
	CHECK(run1("(false, 1)", "{}\n", msg, sizeof(msg)) == 0);
	CHECK(run1(".a.b", "{\"a\":\"s\"}\n", msg, sizeof(msg)) == 0);
	CHECK(strstr(msg, ", got jq error: Cannot index string with string \"b\"") !=
	    NULL);
	CHECK(run1("error({\"x\":1})", "{}\n", msg, sizeof(msg)) == 0);
	CHECK(strcmp(msg, "expected error({\"x\":1}), got jq error: "
	    "{\"x\":1}") == 0);
	/* A line that is not JSON at all goes to jq's parser, which says no. */
	CHECK(run1("true", "{\"a\":\n", msg, sizeof(msg)) == -1);
}

/* Expressions that do not compile are refused, naming them. */
static void
test_compile(void)
{
	char	 err[256];
	char	*v[2] = { (char *)(uintptr_t)".a", (char *)(uintptr_t)".a |" };

	CHECK(expect_new(v, 2, err, sizeof(err)) == NULL);
	CHECK(strncmp(err, "--expect '.a |': jq: error: syntax error", 40) == 0);
	CHECK(strchr(err, '\n') == NULL);
}

int
main(void)
{
	test_parse();
	test_results();
	test_compile();
	return check_report();
}
